// Search spaces of `fluxrecon tune` (inputs/tune/<model>.yaml): categorical,
// int (low, high, step, log) and float (low, high, step, log) parameters, some
// active only when an earlier parameter has given values, plus the study's
// settings. Every key is declared once in search_space_schema(); a file is
// validated whole (schema, then cross-key checks) before a trial starts.
#pragma once

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "tune/trial.hpp"

namespace fluxrecon::tune {

enum class ParamKind { categorical, integer, real };

// A parameter is active only when `parent` is active and its internal value
// lies in `values` (if given) and in [min, max].
struct Condition {
  std::string parent;
  std::vector<double> values;  // internal representation of the parent
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool holds(double parent_value) const;
};

// Bounds of a numeric parameter in the space the Parzen estimators work in:
// log(value) for log parameters, and widened by half a step on each side for
// stepped ones so that every grid point owns an interval of width q.
struct TransformedBounds {
  double low = 0, high = 1;
  double q = 0;  // grid width in the transformed space; 0 = continuous
};

struct Param {
  std::string name;
  ParamKind kind = ParamKind::real;
  std::vector<nlohmann::json> choices;  // categorical: scalars (number, string, bool)
  double low = 0, high = 0;
  double step = 0;  // int: >= 1; float: 0 = continuous
  bool log = false;
  std::optional<Condition> condition;
  nlohmann::json inactive_value;  // given to the model when inactive (null: its default)
  std::string config_key;         // model configuration key ("hidden_dims[1]"); default: name
  bool pass_to_model = true;      // false: only steers other parameters (the MLP's n_layers)

  bool is_numeric() const { return kind != ParamKind::categorical; }
  // Internal value <-> the value the model configuration receives.
  nlohmann::json to_external(double internal) const;
  // Throws fluxrecon::Error naming the parameter when `value` is not in the space.
  double to_internal(const nlohmann::json& value) const;
  bool contains(double internal) const;

  TransformedBounds transformed_bounds() const;
  double to_transformed(double internal) const;
  // Back from the transformed space: exp for log, rounded to the step grid and
  // clipped to [low, high].
  double from_transformed(double t) const;
};

struct StudySettings {
  std::string model;
  std::string name;
  int n_trials = 50;
  Direction direction = Direction::minimize;
  std::string sampler = "tpe";  // tpe | random
  unsigned long long seed = 42;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  std::string pruner = "median";  // median | none
  int pruner_startup_trials = 5;
  int pruner_warmup_steps = 0;
  int pruner_interval_steps = 1;
  nlohmann::json fixed = nlohmann::json::object();  // model keys set for every trial
};

class SearchSpace {
 public:
  static const config::Schema& schema();
  // Reads and validates a search-space file; errors name the file and key.
  static SearchSpace load(const std::string& path);
  static SearchSpace from_text(const std::string& yaml_text, const std::string& origin);
  static SearchSpace from_config(const config::Config& cfg);
  // Built in code (tests, benchmarks); checked like a file.
  static SearchSpace from_params(std::vector<Param> params, const std::string& origin = "<code>");

  const std::vector<Param>& params() const { return params_; }
  const Param& param(const std::string& name) const;
  const StudySettings& study() const { return study_; }
  const std::string& origin() const { return origin_; }

  // Whether `p` is active given the values of the parameters sampled before it.
  bool is_active(const Param& p, const ParamSet& earlier) const;
  // Throws unless `params` holds exactly the active parameters, each in range.
  void check(const ParamSet& params) const;

  // {name: value} of the active parameters, as the journal stores them.
  nlohmann::json to_json(const ParamSet& params) const;
  ParamSet from_json(const nlohmann::json& params) const;
  // Model configuration overrides for one trial: `fixed`, then every parameter
  // under its config_key (inactive ones with their inactive_value, if any);
  // list keys "name[i]" become lists.
  nlohmann::json model_overrides(const ParamSet& params) const;
  // Throws unless every config_key and fixed key is declared in `model_schema`.
  void check_keys(const config::Schema& model_schema) const;

 private:
  void validate() const;
  std::vector<Param> params_;
  StudySettings study_;
  std::string origin_;
};

}  // namespace fluxrecon::tune
