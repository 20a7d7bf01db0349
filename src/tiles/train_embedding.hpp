// `fluxrecon tiles train-embedding` (spec 8.1, 8.2): the triplet embedding
// model trained on the triplet tiles of D/triplets/train/ (made by
// GenerateTiles where missing), data-parallel over MPI as the CO2 models'
// trainer: every rank takes its slice of each global batch, gradients are
// summed in one MPI_Allreduce and averaged, every rank takes the same Adam
// step; BatchNorm running statistics follow rank 0's (PyTorch DDP's
// broadcast_buffers). The model with the lowest validation loss is written
// atomically by rank 0.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "tiles/meta.hpp"

namespace fluxrecon::tiles {

struct TrainEmbeddingOptions {
  std::string params_path;  // --params YAML (encoder_schema keys); "" = defaults
  std::string out_path;     // --out; "" = D/embedding_models/triplet_encoder.h5
};

struct TrainEmbeddingSummary {
  std::string out_path;
  bool skipped = false;  // the model file was already complete
  long long train_triplets = 0, valid_triplets = 0;
  std::vector<double> train_loss, valid_loss;  // per epoch
  double initial_valid_loss = 0;               // of the untrained model
  int best_epoch = 0;
  double seconds = 0;        // training epochs, all ranks (max)
  double samples_per_s = 0;  // training triplets per second, all ranks together
};

std::string default_embedding_model_path(const Meta& meta);

// Collective over `comm`.
TrainEmbeddingSummary run_train_embedding(const Meta& meta, const TrainEmbeddingOptions& options,
                                          MPI_Comm comm);

}  // namespace fluxrecon::tiles
