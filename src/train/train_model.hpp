// Training any registered model through one call: the subcommands (train,
// tune, run) go through train_model instead of keeping their own lists of
// trainers and XGBoost special cases. The registry (models/) knows what a
// model is; this layer knows how to train one.
#pragma once

#include <mpi.h>

#include <functional>
#include <string>

#include "core/config.hpp"

namespace fluxrecon::train {

struct TrainRequest {
  std::string samples_dir;  // train.h5 and validation.h5 of fluxrecon prepare
  std::string out_dir;      // gets the model file and its logs
  bool force = false;       // retrain a complete model
  bool resume = false;      // neural models: continue from the checkpoint
  // Called on every rank after every epoch (boosting round), 1-based, with the
  // validation MSE (z-scored); rank 0's answer counts: true stops there. May
  // be empty.
  std::function<bool(int step, double validation_mse)> on_step;
};

struct TrainOutcome {
  bool reused = false;   // the model file was complete: nothing trained
  bool stopped = false;  // on_step asked to stop
  std::string model_path;
  int steps = 0, best_step = 0;  // epochs or boosting rounds
  double validation_mse = 0;     // best, z-scored target
  double validation_mse_physical = 0;
  double validation_r2 = 0;
  std::string target_units;  // of the training store's target, "" if not recorded
  double seconds = 0;
  // Training throughput, as each trainer measures it.
  std::string rate_text;
};

// Collective over `comm`: trains model `name` with `params` (validated by
// model_schema(name)).
TrainOutcome train_model(const std::string& name, const config::Config& params,
                         const TrainRequest& request, MPI_Comm comm);

// The one-line summary of a training run (the subcommand's and the
// pipeline stage's): validation RMSE in the target's units (a flux in
// mol m-2 s-1 as mol m-2 yr-1) and R^2.
std::string train_summary_line(const std::string& name, const TrainOutcome& outcome, int ranks);

}  // namespace fluxrecon::train
