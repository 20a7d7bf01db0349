// The loss-curve PNG of a neural training run: train and validation MSE per
// epoch (the seed's "Training vs Validation MSE Loss" plot, spec 4.2).
#pragma once

#include <string>
#include <vector>

#include "train/nn_trainer.hpp"

namespace fluxrecon::train {

// Rank-local; writes `png_path` atomically.
void write_loss_curve(const std::string& png_path, const std::string& model,
                      const std::vector<EpochRecord>& history, int best_epoch);

}  // namespace fluxrecon::train
