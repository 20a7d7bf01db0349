#include "pipeline/run_config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"
#include "data/synth_options.hpp"
#include "models/registry.hpp"
#include "tune/search_space.hpp"

namespace fluxrecon::pipeline {
namespace fs = std::filesystem;
using config::Schema;

namespace {

// A block of model keys, checked against the model's own schema once the
// model's name is known (load_run_config); here only its shape.
YAML::Node overrides_block(const YAML::Node& value, const std::string& key_path) {
  if (!value.IsDefined() || value.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!value.IsMap())
    FR_FAIL("key '", key_path, "': expected a block of model keys, e.g. {epochs: 5}");
  return YAML::Clone(value);
}

Schema build_schema() {
  Schema model;
  model
      .text("params", "", {},
            "model configuration YAML (inputs/models/<model>.yaml); '' = the seed's values; "
            "relative = to this file's folder")
      .custom("overrides", YAML::Node(YAML::NodeType::Map), "block of model keys", overrides_block,
              "model keys replacing those of params (e.g. fewer epochs); checked against the "
              "model's keys (fluxrecon train --model M --describe-config)");

  Schema s(
      "Pipeline description for fluxrecon run: synth (optional), prepare, train, reconstruct "
      "and analyze in one job. Relative paths are taken relative to this file's folder.");
  s.text("dataset", std::nullopt, {},
         "dataset description YAML (inputs/<dataset>.yaml); relative = to this file's folder")
      .text("output", "", {},
            "output root: data/, samples/, models/, caches/, analysis/index.html; relative = to "
            "this file's folder; --out replaces it; '' = --out is required")
      .flag("synthesize", false,
            "generate the dataset's files first with fluxrecon synth (dataset.source: synthetic), "
            "into <output>/data")
      .text("data_directory", "", {},
            "folder of the dataset's input files; '' = <output>/data with synthesize, else the "
            "dataset's own directory")
      .map_of("models", model,
              "models to train, in this order, by name: mlp, lstm, attention_lstm, gru, xgboost, "
              "random_forest",
              1)
      .section("reconstruct",
               Schema()
                   .texts("experiments", std::vector<std::string>{}, {},
                          "experiments to reconstruct; [] = the dataset's test experiments")
                   .texts("regions", std::vector<std::string>{}, {},
                          "regions to reconstruct; [] = the dataset's test regions")
                   .integers("years", std::vector<long long>{}, 1, 9999,
                             "[first, last] inclusive; [] = the dataset's test years")
                   .flag("start_april", false,
                         "start each year at its first full window (April for 4-month windows) "
                         "without reading the year before; earlier months get the fill value"),
               "per-year caches of every trained model (fluxrecon reconstruct)")
      .section("analyze",
               Schema().integers("map_months", std::vector<long long>{1, 7}, 1, 12,
                                 "months (1-12) of the side-by-side maps", 0, 1),
               "metrics, figures and the HTML report (fluxrecon analyze)")
      .section("explain",
               Schema()
                   .flag("enabled", false, "explain every model after the analysis")
                   .integer("instances", 100, 1, 1000000000, "validation instances per model")
                   .integer("background", 2000, 1, 100000000,
                            "training samples of the instance's month (the background)")
                   .integer("kmeans", 0, 0, 1000000,
                            "KernelSHAP: k-means summary of the background (0 = off)")
                   .integers("months", std::vector<long long>{}, 1, 12,
                             "months (1-12) of the instances; [] = all"),
               "SHAP, TimeSHAP and attention scores of the models (fluxrecon explain) into "
               "<output>/explain")
      .section(
          "tune",
          Schema()
              .flag("enabled", false,
                    "tune the models of tune.models after prepare; each is then trained "
                    "with its study's best_params.yaml (the model's overrides on top)")
              .map_of("models",
                      Schema().text("space", std::nullopt, {},
                                    "search-space YAML (inputs/tune/<model>.yaml); relative "
                                    "= to this file's folder"),
                      "models to tune, by name; each must also be under models")
              .integer("trials", 0, 0, 1000000,
                       "finished trials per study; 0 = the space's study.n_trials")
              .integer("epochs", 0, 0, 1000000,
                       "at most this many epochs (boosting rounds) per trial; 0 = as "
                       "configured")
              .integer("group_size", 1, 1, 1000000, "ranks per trial (fluxrecon tune)")
              .integer("seed", -1, -1, 2147483647, "sampler seed; -1 = the space's study.seed"),
          "hyper-parameter search (fluxrecon tune) into <output>/tune/<model>; a rerun "
          "continues each study (delete its folder to start it anew; --force keeps it)");
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> model_names_of(const RunConfig& rc) {
  std::vector<std::string> names;
  for (const auto& m : rc.models) names.push_back(m.name);
  return names;
}

// Every (experiment, year) the stages will read, with why; checked up front
// so that a missing file stops the pipeline before anything is written.
struct Need {
  std::string experiment;
  int year;
  std::string why;
};

std::vector<Need> needed_inputs(const data::DatasetDescription& d, const RunConfig& rc) {
  std::vector<Need> needs;
  for (const auto* periods : {&d.train, &d.validation})
    for (const auto& p : *periods)
      for (int y = p.first_year(); y <= p.last_year(); ++y)
        needs.push_back({d.training_experiment, y, "training/validation"});
  const int back = d.window > 1 ? 1 : 0;  // January's window reaches into the year before
  for (const auto& e : d.test_experiments)
    for (int y : d.test_years)
      for (int b = back; b >= 0; --b) needs.push_back({e, y - b, "test sets"});
  const int recon_back = rc.start_april ? 0 : back;
  for (const auto& e : rc.experiments)
    for (int y = rc.first_year; y <= rc.last_year; ++y)
      for (int b = recon_back; b >= 0; --b) needs.push_back({e, y - b, "reconstruct"});
  return needs;
}

void check_inputs(const data::DatasetDescription& d, const RunConfig& rc) {
  std::set<std::pair<std::string, int>> seen;
  if (rc.synthesize) {
    const int first = rc.dataset.get<int>("synth.first_year");
    const int last = rc.dataset.get<int>("synth.last_year");
    for (const auto& n : needed_inputs(d, rc))
      FR_REQUIRE(n.year >= first && n.year <= last, rc.path, ": ", n.why, " needs ", n.experiment,
                 " ", n.year, ", but synth writes the years ", first, "-", last, " only (",
                 rc.dataset_path, ": keys 'synth.first_year', 'synth.last_year')");
    return;
  }
  std::vector<std::string> missing;
  for (const auto& n : needed_inputs(d, rc)) {
    if (!seen.insert({n.experiment, n.year}).second) continue;
    const auto file = d.file_for(n.experiment, n.year);
    if (!fs::is_regular_file(file)) missing.push_back(file + " (" + n.why + ")");
  }
  if (missing.empty()) return;
  const size_t shown = std::min<size_t>(missing.size(), 5);
  FR_FAIL(rc.path, ": ", missing.size(), " input file(s) of ", rc.dataset_path, " do not exist: ",
          join(std::vector<std::string>(missing.begin(), missing.begin() + shown)),
          missing.size() > shown ? ", ..." : "");
}

}  // namespace

// The overrides are validated first, naming the pipeline key.
config::Config model_params(const std::string& pipeline_path, const std::string& name,
                            const std::string& params_path, const YAML::Node& overrides) {
  const auto& schema = models::model_schema(name);
  const std::string key = "models." + name + ".overrides";
  config::Config::from_yaml(overrides, schema, pipeline_path + " (" + key + ")");
  const auto base = params_path.empty() ? config::Config::from_text("{}", schema, "seed defaults")
                                        : config::Config::load(params_path, schema);
  if (overrides.size() == 0) return base;
  YAML::Node merged = YAML::Clone(base.node());
  for (const auto& kv : overrides) merged[kv.first.as<std::string>()] = YAML::Clone(kv.second);
  return config::Config::from_yaml(merged, schema,
                                   concat(params_path.empty() ? "seed defaults" : params_path,
                                          " with ", pipeline_path, " ", key));
}

config::Config empty_config() { return config::Config::from_text("{}", config::Schema(), ""); }

const config::Schema& run_schema() {
  static const Schema schema = build_schema();
  return schema;
}

RunConfig load_run_config(const std::string& path, const std::string& out_override) {
  RunConfig rc;
  rc.path = path;
  rc.pipeline = config::Config::load(path, run_schema());
  const auto& p = rc.pipeline;
  const fs::path base = fs::path(path).parent_path();
  auto resolve = [&](const std::string& file) -> std::string {
    if (file.empty() || fs::path(file).is_absolute()) return file;
    const auto out = (base / file).lexically_normal().string();
    return out.empty() ? "." : out;
  };

  rc.dataset_path = resolve(p.get<std::string>("dataset"));
  FR_REQUIRE(fs::is_regular_file(rc.dataset_path), path,
             ": key 'dataset': the dataset description '", rc.dataset_path, "' does not exist");
  rc.dataset = config::Config::load(rc.dataset_path, data::dataset_schema());

  rc.layout.root = out_override.empty() ? resolve(p.get<std::string>("output")) : out_override;
  FR_REQUIRE(!rc.layout.root.empty(), path,
             ": key 'output' is empty: name the output folder there or give --out");

  rc.synthesize = p.get<bool>("synthesize");
  if (rc.synthesize) data::synth_options(rc.dataset, rc.layout.data(), false);  // checks it
  rc.data_dir = resolve(p.get<std::string>("data_directory"));
  if (rc.data_dir.empty() && rc.synthesize) rc.data_dir = rc.layout.data();
  const auto d = data::load_dataset(rc.dataset, rc.data_dir);

  const auto& known = models::model_names();
  for (const auto& name : p.keys("models")) {
    FR_REQUIRE(std::find(known.begin(), known.end(), name) != known.end(), path, ": key 'models.",
               name, "': unknown model; expected one of: ", join(known));
    ModelRun m;
    m.name = name;
    m.params_path = resolve(p.get<std::string>("models." + name + ".params"));
    m.overrides = YAML::Clone(p.node()["models"][name]["overrides"]);
    m.params = model_params(path, name, m.params_path, m.overrides);
    rc.models.push_back(std::move(m));
  }

  rc.tune = p.get<bool>("tune.enabled");
  rc.tune_trials = p.get<int>("tune.trials");
  rc.tune_epochs = p.get<int>("tune.epochs");
  rc.tune_group_size = p.get<int>("tune.group_size");
  rc.tune_seed = p.get<long long>("tune.seed");
  const auto tuned = p.keys("tune.models");
  FR_REQUIRE(!rc.tune || !tuned.empty(), path,
             ": key 'tune.enabled' is true but 'tune.models' names no model");
  for (const auto& name : tuned) {
    const auto it = std::find_if(rc.models.begin(), rc.models.end(),
                                 [&](const ModelRun& m) { return m.name == name; });
    FR_REQUIRE(
        it != rc.models.end(), path, ": key 'tune.models.", name,
        "': not a model of this pipeline (under 'models'); it has: ", join(model_names_of(rc)));
    const auto space_path = resolve(p.get<std::string>("tune.models." + name + ".space"));
    FR_REQUIRE(fs::is_regular_file(space_path), path, ": key 'tune.models.", name,
               ".space': the search space '", space_path, "' does not exist");
    const auto space = tune::SearchSpace::load(space_path);
    FR_REQUIRE(space.study().model == name, path, ": key 'tune.models.", name, ".space': '",
               space_path, "' is a search space of model ", space.study().model);
    space.check_keys(models::model_schema(name));
    if (rc.tune) it->tune_space = space_path;
  }

  rc.experiments = p.get<std::vector<std::string>>("reconstruct.experiments");
  if (rc.experiments.empty()) rc.experiments = d.test_experiments;
  for (const auto& e : rc.experiments) {
    const bool defined = std::any_of(d.experiments.begin(), d.experiments.end(),
                                     [&](const data::Experiment& x) { return x.name == e; });
    std::vector<std::string> names;
    for (const auto& x : d.experiments) names.push_back(x.name);
    FR_REQUIRE(defined, path, ": key 'reconstruct.experiments': '", e, "' is not an experiment of ",
               rc.dataset_path, " (it defines: ", join(names), ")");
  }
  rc.regions = p.get<std::vector<std::string>>("reconstruct.regions");
  if (rc.regions.empty())
    for (const auto& r : d.test_regions) rc.regions.push_back(r.name);
  for (const auto& r : rc.regions) {
    try {
      data::resolve_region(rc.dataset, r);
    } catch (const Error& e) {
      FR_FAIL(path, ": key 'reconstruct.regions': ", e.what());
    }
  }
  const auto years = p.get<std::vector<int>>("reconstruct.years");
  FR_REQUIRE(years.empty() || (years.size() == 2 && years[0] <= years[1]), path,
             ": key 'reconstruct.years': expected [] or [first, last] with first <= last");
  rc.first_year = years.empty() ? d.test_years.front() : years[0];
  rc.last_year = years.empty() ? d.test_years.back() : years[1];
  rc.start_april = p.get<bool>("reconstruct.start_april");
  rc.map_months = p.get<std::vector<int>>("analyze.map_months");
  rc.explain = p.get<bool>("explain.enabled");
  rc.explain_months = p.get<std::vector<int>>("explain.months");
  rc.explain_instances = p.get<long long>("explain.instances");
  rc.explain_background = p.get<long long>("explain.background");
  rc.explain_kmeans = p.get<long long>("explain.kmeans");

  check_inputs(d, rc);
  return rc;
}

}  // namespace fluxrecon::pipeline
