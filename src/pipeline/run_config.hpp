// The pipeline description of `fluxrecon run` (inputs/demo.yaml): which
// dataset, where the outputs go, whether the synthetic testbed is generated
// first, the models with their parameter files and per-model overrides, and
// what is reconstructed and analysed. Loading checks everything a stage would
// refuse later (the dataset YAML, every model's parameters, experiments,
// regions, years, the input files) so that a bad pipeline fails before any
// output is written.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace fluxrecon::pipeline {

// An empty configuration (placeholder until a real one is assigned).
config::Config empty_config();

// The schema of a pipeline YAML (every key, default, bounds, description).
const config::Schema& run_schema();

struct ModelRun {
  std::string name;                        // mlp, lstm, attention_lstm, gru, xgboost, random_forest
  std::string params_path;                 // resolved; "" = the seed's values (schema defaults)
  config::Config params = empty_config();  // validated: params file with the overrides applied
  YAML::Node overrides;                    // the pipeline's overrides (applied to tuned params too)
  // The search space of the tune stage; "" = not tuned. A tuned model is
  // trained with its study's best_params.yaml and the overrides on top.
  std::string tune_space;
};

// Where every stage writes under the output root.
struct RunLayout {
  std::string root;
  std::string data() const { return root + "/data"; }          // synth
  std::string samples() const { return root + "/samples"; }    // prepare
  std::string models() const { return root + "/models"; }      // train
  std::string caches() const { return root + "/caches"; }      // reconstruct
  std::string analysis() const { return root + "/analysis"; }  // analyze
  std::string explain() const { return root + "/explain"; }    // explain (optional)
  std::string tune() const { return root + "/tune"; }          // tune (optional): <model>/
  std::string report() const { return analysis() + "/index.html"; }
  std::string resolved_config() const { return root + "/run_config.yaml"; }
  std::string summary() const { return root + "/run_summary.json"; }
};

struct RunConfig {
  std::string path;                          // the pipeline YAML
  config::Config pipeline = empty_config();  // its resolved tree
  std::string dataset_path;                  // resolved dataset YAML
  config::Config dataset = empty_config();   // validated dataset description
  RunLayout layout;
  bool synthesize = false;  // run fluxrecon synth first (into layout.data())
  std::string data_dir;     // folder of the inputs given to prepare/reconstruct ("" = dataset's)
  std::vector<ModelRun> models;
  std::vector<std::string> experiments, regions;  // reconstruct and analyze
  int first_year = 0, last_year = 0;              // reconstruct and analyze, inclusive
  bool start_april = false;
  std::vector<int> map_months;
  // The optional explain stage (fluxrecon explain on the validation set).
  bool explain = false;
  std::vector<int> explain_months;
  long long explain_instances = 0, explain_background = 0, explain_kmeans = 0;
  // The optional tune stage (fluxrecon tune of the models with a tune_space).
  bool tune = false;
  int tune_trials = 0;       // per study; 0 = the space's study.n_trials
  int tune_epochs = 0;       // cap per trial; 0 = none
  int tune_group_size = 1;   // ranks per trial
  long long tune_seed = -1;  // < 0 = the space's study.seed
};

// A model's parameters: `params_path` ("" = the seed's values) with the
// pipeline's `overrides` on top, each validated; errors name the file or the
// pipeline key (models.<name>.overrides).
config::Config model_params(const std::string& pipeline_path, const std::string& name,
                            const std::string& params_path, const YAML::Node& overrides);

// Reads and validates `path` and everything it names (rank-local: call it
// inside all_ranks_agree). `out_override` replaces the `output` key when not
// empty (relative to the working directory). Relative paths in the file are
// taken relative to its folder.
RunConfig load_run_config(const std::string& path, const std::string& out_override = "");

}  // namespace fluxrecon::pipeline
