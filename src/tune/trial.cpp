#include "tune/trial.hpp"

#include "core/error.hpp"

namespace fluxrecon::tune {

const char* state_name(TrialState state) {
  switch (state) {
    case TrialState::running:
      return "running";
    case TrialState::complete:
      return "complete";
    case TrialState::pruned:
      return "pruned";
    case TrialState::failed:
      return "failed";
  }
  return "?";
}

TrialState parse_state(const std::string& name) {
  for (auto s : {TrialState::running, TrialState::complete, TrialState::pruned, TrialState::failed})
    if (name == state_name(s)) return s;
  FR_FAIL("unknown trial state '", name, "'; expected running, complete, pruned or failed");
}

}  // namespace fluxrecon::tune
