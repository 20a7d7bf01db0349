// Configuration of the neural models (inputs/models/{mlp,lstm,attention_lstm,gru}.yaml):
// architecture and training keys, each declared once with the seed's value as
// default (spec 3.1-3.3, 4.2), bounds and meaning.
#pragma once

#include <cstdint>

#include "core/config.hpp"
#include "models/network_spec.hpp"

namespace fluxrecon::models {

const config::Schema& network_schema(NetworkKind kind);

struct TrainingSettings {
  int batch_size = 32;  // per rank and step
  double learning_rate = 1e-3;
  double weight_decay = 0.0;
  int epochs = 100;
  int patience = 10;
  // ReduceLROnPlateau: factor 1 keeps the seed's constant rate.
  double lr_plateau_factor = 1.0;
  int lr_plateau_patience = 3;
  double min_learning_rate = 0.0;
  int collective_timeout_s = 300;
  std::uint64_t seed = 42;
  int eval_batch = 4096;
  int threads = 0;  // 0: OpenMP's default
};

NetworkSpec network_spec(NetworkKind kind, const config::Config& cfg);
TrainingSettings training_settings(const config::Config& cfg);

}  // namespace fluxrecon::models
