// Synchronous data-parallel training of the neural models over MPI: each rank
// trains on its shard of the sample store, gradients are averaged with one
// fused MPI_Allreduce per step, so the weights are identical on every rank.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "models/network.hpp"

namespace fluxrecon::train {

struct NeuralTrainOptions {
  std::string samples_dir;  // train.h5 and validation.h5 of fluxrecon prepare
  std::string out_dir;      // gets <model>.h5, <model>_losses.csv, <model>_loss.png, ...
  bool force = false;       // retrain from scratch even if the model file is complete (no resume)
  bool resume = false;      // continue from <model>_checkpoint.h5 when present
  // Called on every rank after every optimiser step (tests check the
  // weights there); may be empty.
  std::function<void(int epoch, int step, const models::Network&)> after_step;
  // Stop after this many epochs of this call (0 = no limit): lets tests
  // interrupt a run and resume it.
  int stop_after_epochs = 0;
  // Called on every rank after every epoch with its validation MSE (z-scored);
  // rank 0's answer counts: true stops training there (pruning by `fluxrecon
  // tune`), without a model file, the result's `stopped` set. May be empty.
  std::function<bool(int epoch, double validation_mse)> on_epoch;
};

struct EpochRecord {
  int epoch = 0;
  double train_mse = 0, validation_mse = 0, seconds = 0, samples_per_second = 0;
  double compute_seconds = 0, communication_seconds = 0;
  double inference_samples_per_second = 0;  // the validation pass (inference mode)
  double learning_rate = 0;                 // Adam's rate during the epoch
};

struct NeuralTrainResult {
  bool reused = false;
  bool finished = false;        // false when stopped by stop_after_epochs or on_epoch
  bool stopped = false;         // on_epoch asked to stop
  int resumed_after_epoch = 0;  // epochs the resumed checkpoint held (0: started afresh)
  std::string model_path;
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_validation_mse = 0;  // z-scored target
  double validation_r2 = 0;        // 1 - MSE / variance of the validation target
  double validation_mse_physical = 0;
  std::int64_t train_samples = 0, validation_samples = 0;
  double seconds = 0;
};

NeuralTrainResult train_network(models::NetworkKind kind, const config::Config& params,
                                const NeuralTrainOptions& options, MPI_Comm comm);

// Predictions of `net` for `n` windows in batches of `batch` (inference mode).
std::vector<float> predict_batched(models::Network& net, const float* windows, std::int64_t n,
                                   int batch);

}  // namespace fluxrecon::train
