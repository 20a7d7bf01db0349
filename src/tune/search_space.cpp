#include "tune/search_space.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.hpp"
#include "models/registry.hpp"

namespace fluxrecon::tune {
using config::Config;
using config::Schema;
using nlohmann::json;

namespace {

const double kNaN = std::nan("");

// A YAML scalar as JSON: integers stay integers so that "32" reaches the
// model as an int, "0.5" as a number, true/false as booleans, else a string.
json scalar_to_json(const YAML::Node& n) {
  long long i = 0;
  double d = 0;
  bool b = false;
  if (YAML::convert<long long>::decode(n, i)) return i;
  if (YAML::convert<double>::decode(n, d)) return d;
  if (YAML::convert<bool>::decode(n, b)) return b;
  return n.Scalar();
}

json yaml_to_json(const YAML::Node& n) {
  if (n.IsSequence()) {
    json out = json::array();
    for (const auto& item : n) out.push_back(yaml_to_json(item));
    return out;
  }
  if (n.IsMap()) {
    json out = json::object();
    for (const auto& kv : n) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return out;
  }
  return scalar_to_json(n);
}

// An empty list stands for "not given" where a key has no natural default.
config::Normaliser scalars_or_empty(bool allow_single) {
  return [allow_single](const YAML::Node& n, const std::string& path) -> YAML::Node {
    if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i)
        FR_REQUIRE(n[i].IsScalar(), "key '", path, "[", i, "]': expected a single value");
      return n;
    }
    FR_REQUIRE(allow_single && n.IsScalar(), "key '", path, "': expected a list of values");
    return n;
  };
}

Schema param_schema() {
  const double inf = Schema::inf;
  Schema active("condition on an earlier parameter");
  active.text("param", "", {}, "the earlier parameter this one depends on (empty: always active)")
      .custom("in", YAML::Node(YAML::NodeType::Sequence), "list of values", scalars_or_empty(false),
              "active only when the parent has one of these values")
      .real("min", -inf, -inf, inf, "active only when the parent is >= min")
      .real("max", inf, -inf, inf, "active only when the parent is <= max");
  Schema p("one hyper-parameter");
  p.text("name", std::nullopt, {}, "parameter name (the order of the list is the sampling order)")
      .text("type", std::nullopt, {"categorical", "int", "float"}, "kind of parameter")
      .custom("choices", YAML::Node(YAML::NodeType::Sequence), "list of values",
              scalars_or_empty(false), "categorical: the values")
      .real("low", kNaN, -inf, inf, "int/float: lower bound (inclusive)")
      .real("high", kNaN, -inf, inf, "int/float: upper bound (inclusive)")
      .real("step", 0.0, 0.0, inf, "int: grid step (0 = 1); float: grid step (0 = continuous)")
      .flag("log", false, "int/float: sample log(value) uniformly / model it in log space")
      .section("active_if", active, "conditional parameter: when it is active")
      .custom("inactive_value", YAML::Node(YAML::NodeType::Sequence), "value",
              scalars_or_empty(true),
              "value the model receives while inactive (empty list: the model's default)")
      .text("config_key", "", {},
            "model configuration key it sets, e.g. learning_rate or hidden_dims[1] (default: "
            "the name)")
      .flag("pass_to_model", true, "false: the parameter only decides which others are active");
  return p;
}

Schema build_schema() {
  Schema study("study settings");
  study.text("name", "", {}, "study name (default: <model>_study)")
      .integer("n_trials", 50, 1, 1000000, "trials to run (a resumed study counts finished ones)")
      .text("direction", "minimize", {"minimize", "maximize"}, "of the objective")
      .text("sampler", "tpe", {"tpe", "random"}, "tpe: Optuna 3's TPESampler; random: uniform")
      .integer("seed", 42, 0, Schema::int_max, "seed of the sampler")
      .integer("n_startup_trials", 10, 0, 1000000, "TPE: random trials before the model is used")
      .integer("n_ei_candidates", 24, 1, 100000, "TPE: candidates drawn per parameter");
  Schema pruner("pruner settings");
  pruner.text("kind", "median", {"median", "none"}, "median pruner or no pruning")
      .integer("n_startup_trials", 5, 0, 1000000, "no pruning before this many complete trials")
      .integer("n_warmup_steps", 0, 0, 1000000, "no pruning before this step (epoch/round)")
      .integer("interval_steps", 1, 1, 1000000, "check every this many steps after warm-up");
  Schema s(
      "Hyper-parameter search space of `fluxrecon tune` (as the research prototype's Optuna "
      "studies).");
  s.text("model", std::nullopt, models::model_names(), "model to tune")
      .section("study", study, "study settings")
      .section("pruner", pruner, "pruning of unpromising trials on intermediate values")
      .custom(
          "fixed", YAML::Node(YAML::NodeType::Map), "block of model keys",
          [](const YAML::Node& n, const std::string& path) {
            FR_REQUIRE(n.IsMap(), "key '", path, "': expected a block of model keys");
            return n;
          },
          "model configuration keys set for every trial (e.g. epochs: 20)")
      .list_of("parameters", param_schema(), "the parameters, in sampling order", 1);
  return s;
}

bool is_integral(double v) { return std::isfinite(v) && std::floor(v) == v; }

}  // namespace

bool Condition::holds(double v) const {
  if (!values.empty() && std::find(values.begin(), values.end(), v) == values.end()) return false;
  return v >= min && v <= max;
}

json Param::to_external(double internal) const {
  switch (kind) {
    case ParamKind::categorical:
      return choices.at(static_cast<size_t>(internal));
    case ParamKind::integer:
      return static_cast<long long>(std::llround(internal));
    case ParamKind::real:
      return internal;
  }
  return nullptr;
}

double Param::to_internal(const json& value) const {
  double v = kNaN;
  if (kind == ParamKind::categorical) {
    for (size_t i = 0; i < choices.size(); ++i) {
      const json& c = choices[i];
      // 32 and 32.0 are the same choice; strings and booleans compare exactly.
      const bool same =
          (c.is_number() && value.is_number() && c.get<double>() == value.get<double>()) ||
          (!c.is_number() && c == value);
      if (same) v = static_cast<double>(i);
    }
  } else if (value.is_number()) {
    v = value.get<double>();
  }
  FR_REQUIRE(!std::isnan(v) && contains(v), "parameter '", name, "': value ", value.dump(),
             " is not in its search space");
  return v;
}

bool Param::contains(double v) const {
  if (!std::isfinite(v)) return false;
  switch (kind) {
    case ParamKind::categorical:
      return is_integral(v) && v >= 0 && v < static_cast<double>(choices.size());
    case ParamKind::integer:
      return is_integral(v) && v >= low && v <= high && std::fmod(v - low, step) == 0;
    case ParamKind::real:
      if (v < low || v > high) return false;
      if (step > 0) {
        const double k = (v - low) / step;
        return std::abs(k - std::round(k)) < 1e-8 * std::max(1.0, std::abs(k));
      }
      return true;
  }
  return false;
}

TransformedBounds Param::transformed_bounds() const {
  if (kind == ParamKind::categorical) return {0, static_cast<double>(choices.size()), 0};
  if (log) {
    // An int's grid point v owns [v - 0.5, v + 0.5] before the log.
    const double widen = kind == ParamKind::integer ? 0.5 : 0.0;
    return {std::log(low - widen), std::log(high + widen), 0};
  }
  if (step > 0) return {low - 0.5 * step, high + 0.5 * step, step};
  return {low, high, 0};
}

double Param::to_transformed(double internal) const {
  return log && is_numeric() ? std::log(internal) : internal;
}

double Param::from_transformed(double t) const {
  double v = t;
  if (kind == ParamKind::categorical) {
    v = std::round(t);
    return std::clamp(v, 0.0, static_cast<double>(choices.size() - 1));
  }
  if (log) {
    v = std::exp(t);
    if (kind == ParamKind::integer) v = std::round(v);
  } else if (step > 0) {
    v = std::round((t - low) / step) * step + low;
  }
  return std::clamp(v, low, high);
}

const Schema& SearchSpace::schema() {
  static const Schema s = build_schema();
  return s;
}

SearchSpace SearchSpace::load(const std::string& path) {
  return from_config(Config::load(path, schema()));
}

SearchSpace SearchSpace::from_text(const std::string& yaml_text, const std::string& origin) {
  return from_config(Config::from_text(yaml_text, schema(), origin));
}

SearchSpace SearchSpace::from_config(const Config& cfg) {
  SearchSpace space;
  space.origin_ = cfg.origin();
  StudySettings& st = space.study_;
  st.model = cfg.get<std::string>("model");
  st.name = cfg.get<std::string>("study.name");
  if (st.name.empty()) st.name = st.model + "_study";
  st.n_trials = cfg.get<int>("study.n_trials");
  st.direction = cfg.get<std::string>("study.direction") == "maximize" ? Direction::maximize
                                                                       : Direction::minimize;
  st.sampler = cfg.get<std::string>("study.sampler");
  st.seed = cfg.get<unsigned long long>("study.seed");
  st.n_startup_trials = cfg.get<int>("study.n_startup_trials");
  st.n_ei_candidates = cfg.get<int>("study.n_ei_candidates");
  st.pruner = cfg.get<std::string>("pruner.kind");
  st.pruner_startup_trials = cfg.get<int>("pruner.n_startup_trials");
  st.pruner_warmup_steps = cfg.get<int>("pruner.n_warmup_steps");
  st.pruner_interval_steps = cfg.get<int>("pruner.interval_steps");
  st.fixed = yaml_to_json(cfg.sub("fixed").node());

  const auto items = cfg.items("parameters");
  for (size_t i = 0; i < items.size(); ++i) {
    const Config& c = items[i];
    const std::string where = "parameters[" + std::to_string(i) + "]";
    auto fail = [&](const std::string& key, const std::string& what) {
      FR_FAIL(space.origin_, ": key '", where, ".", key, "': ", what);
    };
    Param p;
    p.name = c.get<std::string>("name");
    const std::string type = c.get<std::string>("type");
    p.kind = type == "categorical" ? ParamKind::categorical
             : type == "int"       ? ParamKind::integer
                                   : ParamKind::real;
    const YAML::Node choices = c.sub("choices").node();
    for (const auto& ch : choices) p.choices.push_back(scalar_to_json(ch));
    p.low = c.get<double>("low");
    p.high = c.get<double>("high");
    p.step = c.get<double>("step");
    p.log = c.get<bool>("log");
    if (p.kind == ParamKind::categorical) {
      if (!std::isnan(p.low) || !std::isnan(p.high) || p.step != 0 || p.log)
        fail("type", "a categorical parameter takes choices, not low/high/step/log");
    } else {
      if (!p.choices.empty()) fail("choices", "only a categorical parameter takes choices");
      if (std::isnan(p.low)) fail("low", "is required for an " + type + " parameter");
      if (std::isnan(p.high)) fail("high", "is required for an " + type + " parameter");
    }
    if (p.kind == ParamKind::integer && p.step == 0) p.step = 1;
    const std::string parent = c.get<std::string>("active_if.param");
    const YAML::Node in = c.sub("active_if.in").node();
    const double cmin = c.get<double>("active_if.min"), cmax = c.get<double>("active_if.max");
    if (!parent.empty()) {
      const Param* pp = nullptr;
      for (const auto& q : space.params_)
        if (q.name == parent) pp = &q;
      if (!pp)
        fail("active_if.param",
             "'" + parent + "' is not a parameter declared before '" + p.name + "'");
      Condition cond;
      cond.parent = parent;
      for (const auto& v : in) {
        try {
          cond.values.push_back(pp->to_internal(scalar_to_json(v)));
        } catch (const Error&) {
          fail("active_if.in", "value '" + v.Scalar() + "' is not a value of '" + parent + "'");
        }
      }
      if (pp->kind == ParamKind::categorical && (cmin != -Schema::inf || cmax != Schema::inf))
        fail("active_if", "a categorical parent takes 'in', not min/max");
      if (cond.values.empty() && cmin == -Schema::inf && cmax == Schema::inf)
        fail("active_if", "give 'in', 'min' or 'max'");
      cond.min = cmin;
      cond.max = cmax;
      p.condition = cond;
    } else if (in.size() > 0 || cmin != -Schema::inf || cmax != Schema::inf) {
      fail("active_if.param", "is required with in/min/max");
    }
    const YAML::Node inactive = c.sub("inactive_value").node();
    if (inactive.IsScalar()) {
      if (parent.empty()) fail("inactive_value", "only a conditional parameter takes one");
      p.inactive_value = scalar_to_json(inactive);
    }
    p.config_key = c.get<std::string>("config_key");
    if (p.config_key.empty()) p.config_key = p.name;
    p.pass_to_model = c.get<bool>("pass_to_model");
    space.params_.push_back(std::move(p));
  }
  space.validate();
  return space;
}

SearchSpace SearchSpace::from_params(std::vector<Param> params, const std::string& origin) {
  SearchSpace space;
  space.origin_ = origin;
  for (auto& p : params) {
    if (p.kind == ParamKind::integer && p.step == 0) p.step = 1;
    if (p.config_key.empty()) p.config_key = p.name;
  }
  space.params_ = std::move(params);
  space.validate();
  return space;
}

void SearchSpace::validate() const {
  std::set<std::string> names;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    const std::string where = "parameters[" + std::to_string(i) + "]";
    auto fail = [&](const std::string& key, const std::string& what) {
      FR_FAIL(origin_, ": key '", where, ".", key, "' (parameter '", p.name, "'): ", what);
    };
    if (p.name.empty()) fail("name", "must not be empty");
    if (!names.insert(p.name).second) fail("name", "is declared twice");
    if (p.kind == ParamKind::categorical) {
      if (p.choices.empty()) fail("choices", "a categorical parameter needs at least one choice");
      for (size_t a = 0; a < p.choices.size(); ++a)
        for (size_t b = a + 1; b < p.choices.size(); ++b)
          if (p.choices[a] == p.choices[b])
            fail("choices", "value " + p.choices[a].dump() + " is given twice");
    } else {
      if (!std::isfinite(p.low) || !std::isfinite(p.high))
        fail("low", "low and high must be finite");
      if (!(p.low < p.high))
        fail("high", "must be greater than low (" + std::to_string(p.low) +
                         "); put a fixed value under 'fixed'");
      if (p.log && p.low <= 0) fail("low", "must be > 0 for a log-scale parameter");
      if (p.kind == ParamKind::integer) {
        if (!is_integral(p.low) || !is_integral(p.high)) fail("low", "int bounds must be integers");
        if (!is_integral(p.step) || p.step < 1) fail("step", "must be an integer >= 1");
        if (std::fmod(p.high - p.low, p.step) != 0)
          fail("step", "high - low must be a multiple of the step");
        if (p.log && p.step != 1) fail("step", "a log-scale int takes no step");
      } else if (p.step > 0) {
        if (p.log) fail("step", "a log-scale float takes no step");
        const double k = (p.high - p.low) / p.step;
        if (std::abs(k - std::round(k)) > 1e-8 * std::max(1.0, k))
          fail("step", "high - low must be a multiple of the step");
      } else if (p.step < 0) {
        fail("step", "must be >= 0");
      }
    }
    if (p.condition) {
      const auto& parent = p.condition->parent;
      bool earlier = false;
      for (size_t j = 0; j < i; ++j) earlier = earlier || params_[j].name == parent;
      if (!earlier) fail("active_if.param", "'" + parent + "' is not declared before it");
    }
  }
}

const Param& SearchSpace::param(const std::string& name) const {
  for (const auto& p : params_)
    if (p.name == name) return p;
  FR_FAIL(origin_, ": no parameter '", name, "' in the search space");
}

bool SearchSpace::is_active(const Param& p, const ParamSet& earlier) const {
  if (!p.condition) return true;
  // An inactive parent is absent, which makes its children inactive too.
  const auto it = earlier.find(p.condition->parent);
  return it != earlier.end() && p.condition->holds(it->second);
}

void SearchSpace::check(const ParamSet& params) const {
  ParamSet seen;
  for (const auto& p : params_) {
    const auto it = params.find(p.name);
    const bool active = is_active(p, seen);
    FR_REQUIRE(active == (it != params.end()), origin_, ": parameter '", p.name, "' is ",
               active ? "active but has no value" : "inactive but has a value");
    if (!active) continue;
    FR_REQUIRE(p.contains(it->second), origin_, ": parameter '", p.name, "': value ", it->second,
               " is not in its search space");
    seen[p.name] = it->second;
  }
  FR_REQUIRE(seen.size() == params.size(), origin_, ": a trial has parameters not in the space");
}

json SearchSpace::to_json(const ParamSet& params) const {
  json out = json::object();
  for (const auto& p : params_) {
    const auto it = params.find(p.name);
    if (it != params.end()) out[p.name] = p.to_external(it->second);
  }
  return out;
}

ParamSet SearchSpace::from_json(const json& params) const {
  FR_REQUIRE(params.is_object(), origin_, ": trial parameters must be a JSON object");
  ParamSet out;
  for (const auto& [name, value] : params.items()) out[name] = param(name).to_internal(value);
  check(out);
  return out;
}

namespace {
// "hidden_dims[2]" -> {"hidden_dims", 2}; "lr" -> {"lr", -1}.
std::pair<std::string, long> split_key(const std::string& key) {
  const auto open = key.find('[');
  if (open == std::string::npos || key.back() != ']') return {key, -1};
  const std::string index = key.substr(open + 1, key.size() - open - 2);
  FR_REQUIRE(!index.empty() && index.find_first_not_of("0123456789") == std::string::npos,
             "config_key '", key, "': expected name or name[index]");
  return {key.substr(0, open), std::stol(index)};
}
}  // namespace

json SearchSpace::model_overrides(const ParamSet& params) const {
  json out = study_.fixed;
  std::map<std::string, std::map<long, json>> lists;
  for (const auto& p : params_) {
    if (!p.pass_to_model) continue;
    const auto it = params.find(p.name);
    json value = it != params.end() ? p.to_external(it->second) : p.inactive_value;
    if (value.is_null()) continue;
    const auto [key, index] = split_key(p.config_key);
    if (index < 0)
      out[key] = value;
    else
      lists[key][index] = value;
  }
  for (const auto& [key, items] : lists) {
    json list = json::array();
    // Indices must run 0, 1, ... without a gap: a gap would shift later layers.
    for (const auto& [index, value] : items) {
      FR_REQUIRE(index == static_cast<long>(list.size()), origin_, ": list key '", key,
                 "' has no value at index ", list.size(), " in this trial");
      list.push_back(value);
    }
    out[key] = list;
  }
  return out;
}

void SearchSpace::check_keys(const Schema& model_schema) const {
  const auto keys = model_schema.keys();
  auto known = [&](const std::string& k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
  };
  for (const auto& p : params_)
    if (p.pass_to_model)
      FR_REQUIRE(known(split_key(p.config_key).first), origin_, ": parameter '", p.name,
                 "': config_key '", p.config_key, "' is not a key of the ", study_.model,
                 " configuration");
  for (const auto& [key, value] : study_.fixed.items())
    FR_REQUIRE(known(key), origin_, ": key 'fixed.", key, "' is not a key of the ", study_.model,
               " configuration");
}

}  // namespace fluxrecon::tune
