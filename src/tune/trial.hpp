// A trial of a study as the sampler, the pruner and the journal see it.
// Parameter values are kept in their internal representation (Optuna's):
// a categorical parameter's choice index, an int's or a float's value.
#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <string>

namespace fluxrecon::tune {

// Internal values by parameter name; an inactive conditional parameter is absent.
using ParamSet = std::map<std::string, double>;

enum class TrialState { running, complete, pruned, failed };

const char* state_name(TrialState state);
// Throws fluxrecon::Error for a name that is not one of the four.
TrialState parse_state(const std::string& name);

enum class Direction { minimize, maximize };

struct Trial {
  int number = 0;   // order of the trial's start in the study
  std::string uid;  // unique over all writers of a journal
  TrialState state = TrialState::running;
  ParamSet params;
  std::map<int, double> intermediate;  // step -> reported value
  double value = std::nan("");         // final value (complete trials)

  std::optional<int> last_step() const {
    if (intermediate.empty()) return std::nullopt;
    return intermediate.rbegin()->first;
  }
};

}  // namespace fluxrecon::tune
