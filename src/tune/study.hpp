// The study driver of `fluxrecon tune`: trials spread over MPI rank groups,
// each group training one trial at a time (data-parallel inside the group)
// through the ordinary training entry points, scheduled asynchronously
// through the study journal, with pruning, failure isolation and resume.
//
// Scheduling: a group that is free takes an exclusive lock on
// <out>/journal.lock, reads the journal (so every group's and every job's
// trials count), samples the next trial (running trials of others enter the
// sampler as complete with the worst value seen, a constant liar, so groups do
// not propose the same point) and appends its start; its rank 0 does this and
// broadcasts the trial to the group. The sampler is seeded from the study seed
// and the trial's number, so a trial's start-up draw does not depend on which
// group or job runs it. The study stops once the journal holds n_trials
// finished (complete, pruned or failed) trials; a group starts no trial that
// the running ones of others would make one too many.
#pragma once

#include <mpi.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "tune/journal.hpp"
#include "tune/search_space.hpp"

namespace fluxrecon::tune {

struct StudyOptions {
  std::string samples_dir;  // train.h5 and validation.h5 of fluxrecon prepare
  std::string out_dir;      // journal.jsonl, trials/<number>/, the outputs
  int n_trials = 0;         // finished trials to reach; 0 = the space's study.n_trials
  int group_size = 1;       // ranks per group (the last group may be smaller)
  long long seed = -1;      // sampler seed; < 0 = the space's study.seed
  int max_epochs = 0;       // caps each trial's epochs (neural) or rounds (xgboost); 0 = none
};

struct StudyResult {
  int n_trials = 0;  // the target
  int finished = 0, complete = 0, pruned = 0, failed = 0, running = 0;
  int run_here = 0;               // trials this job trained (all groups)
  std::vector<int> group_trials;  // numbers of the trials this rank's group trained
  int group = 0, n_groups = 1;
  int best_number = -1;  // -1: no complete trial
  double best_value = 0;
  nlohmann::json best_params;  // external values of the best trial
  std::string best_params_path;
  std::vector<std::string> outputs;  // files written on completion
  double seconds = 0;
};

// The model configuration of one trial: the schema's defaults with the
// trial's overrides (the space's fixed keys and its parameters) on top.
config::Config trial_config(const SearchSpace& space, const ParamSet& params,
                            const std::string& origin);

// Collective over `comm`: runs (or continues) the study in opt.out_dir.
StudyResult run_study(const SearchSpace& space, const StudyOptions& opt, MPI_Comm comm);

// ---- outputs (study_outputs.cpp), rank-local

// Importance of each parameter (space order): over the complete trials where
// it is active, the share of the variance of the trials' value ranks that its
// bins explain (epsilon squared: between-bin minus its expectation under no
// effect, over the total; clipped at 0). Bins: a categorical parameter's
// choices; a numeric one's values in up to min(5, sqrt(n)) equal-count bins
// (in log space for log parameters). NaN where fewer than 3 trials or one bin.
std::vector<double> param_importance(const SearchSpace& space, const std::vector<Trial>& trials);

// Writes best_params.yaml, trials.csv, optimisation_history.png and
// param_importance.png (the last two only with a complete trial) into
// `out_dir` atomically; returns the paths written.
std::vector<std::string> write_study_outputs(const SearchSpace& space,
                                             const std::vector<Trial>& trials,
                                             const std::string& out_dir, int max_epochs);

}  // namespace fluxrecon::tune
