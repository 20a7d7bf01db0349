#include "models/encoder_config.hpp"

namespace fluxrecon::models {
using config::Schema;

const Schema& encoder_schema() {
  static const Schema schema = [] {
    Schema s(
        "Triplet embedding model (convml_tt's TripletTrainerModel, spec 8.2): a torchvision-style "
        "ResNet of BasicBlocks (7x7/2 stem, 3x3/2 max-pool, stages of doubling width) and a head "
        "to the embedding; trained with the triplet loss on D/triplets/.");
    s.integer("input_channels", 3, 1, 4, "image channels fed to the network (RGB: 3)")
        .integer("base_width", 64, 1, 4096, "channels of the stem and the first stage (resnet: 64)")
        .integers("blocks", std::vector<long long>{2, 2, 2, 2}, 1, 64,
                  "BasicBlocks per stage; the width doubles and the resolution halves from one "
                  "stage to the next ([2, 2, 2, 2] = resnet18, [3, 4, 6, 3] = resnet34)",
                  0, 1)
        .text("head", std::string("orig_fastai"), {"orig_fastai", "linear"},
              "orig_fastai: concat pool, BatchNorm1d, Dropout 0.25, Linear, ReLU, BatchNorm1d, "
              "Dropout 0.5, Linear; linear: average pool and one Linear")
        .integer("head_hidden", 512, 1, 65536,
                 "orig_fastai: features between its two Linear layers")
        .integer("embedding_dims", 100, 1, 65536, "length of the embedding (n_embedding_dims)")
        .integer("batch_size", 32, 1, 1 << 16,
                 "triplets per rank and optimiser step (with P ranks a step averages P batches)")
        .real("learning_rate", 1e-2, 1e-12, 10.0, "Adam learning rate (the seed's 1e-2)")
        .real("weight_decay", 0.01, 0.0, 10.0,
              "L2 penalty added to the gradient (torch.optim.Adam's weight_decay; the seed's 0.01)")
        .real("margin", 1.0, 0.0, 1e6, "triplet loss margin")
        .integer("epochs", 10, 1, 1000000,
                 "epochs; the weights of the best validation loss are kept")
        .real("validation_fraction", 0.1, 0.0, 0.9,
              "share of the triplets held out for validation (seeded split)")
        .flag("flips", true, "augment training triplets with random horizontal and vertical flips")
        .integer("seed", 42, 0, Schema::int_max,
                 "seed of the weights, the split and the shuffling");
    return s;
  }();
  return schema;
}

EncoderSpec encoder_spec(const config::Config& cfg) {
  EncoderSpec s;
  s.input_channels = static_cast<int>(cfg.get<long long>("input_channels"));
  s.base_width = static_cast<int>(cfg.get<long long>("base_width"));
  s.blocks.clear();
  for (auto b : cfg.get<std::vector<long long>>("blocks")) s.blocks.push_back(static_cast<int>(b));
  s.head = cfg.get<std::string>("head");
  s.head_hidden = static_cast<int>(cfg.get<long long>("head_hidden"));
  s.embedding_dims = static_cast<int>(cfg.get<long long>("embedding_dims"));
  return s;
}

EmbeddingTraining embedding_training(const config::Config& cfg) {
  EmbeddingTraining t;
  t.batch_size = static_cast<int>(cfg.get<long long>("batch_size"));
  t.learning_rate = cfg.get<double>("learning_rate");
  t.weight_decay = cfg.get<double>("weight_decay");
  t.margin = cfg.get<double>("margin");
  t.epochs = static_cast<int>(cfg.get<long long>("epochs"));
  t.validation_fraction = cfg.get<double>("validation_fraction");
  t.flips = cfg.get<bool>("flips");
  t.seed = static_cast<std::uint64_t>(cfg.get<long long>("seed"));
  return t;
}

}  // namespace fluxrecon::models
