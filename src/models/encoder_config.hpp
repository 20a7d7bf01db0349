// Configuration of the triplet embedding model (`fluxrecon tiles
// train-embedding --params YAML`, spec 8.2): architecture and training keys,
// each declared once with the seed's value as default, bounds and meaning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace fluxrecon::models {

// A torchvision-style ResNet backbone of BasicBlocks and a convml_tt head.
struct EncoderSpec {
  int input_channels = 3;
  int base_width = 64;                  // channels of the stem; stage s has base_width * 2^s
  std::vector<int> blocks{2, 2, 2, 2};  // BasicBlocks per stage ([2, 2, 2, 2] = resnet18)
  std::string head = "orig_fastai";     // orig_fastai | linear
  int head_hidden = 512;                // orig_fastai: width between its two Linear layers
  int embedding_dims = 100;             // n_embedding_dims
  int backbone_features() const { return base_width << (blocks.size() - 1); }
};

struct EmbeddingTraining {
  int batch_size = 32;  // triplets per rank and optimiser step
  double learning_rate = 1e-2;
  double weight_decay = 0.01;
  double margin = 1.0;
  int epochs = 10;
  double validation_fraction = 0.1;
  bool flips = true;
  std::uint64_t seed = 42;
};

const config::Schema& encoder_schema();
EncoderSpec encoder_spec(const config::Config& cfg);
EmbeddingTraining embedding_training(const config::Config& cfg);

}  // namespace fluxrecon::models
