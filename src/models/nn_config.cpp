#include "models/nn_config.hpp"

namespace fluxrecon::models {
using config::Schema;

namespace {
struct SeedTraining {
  long long batch;
  double lr, weight_decay;
};

// The seed's final configurations (spec 4.2).
SeedTraining seed_training(NetworkKind kind) {
  switch (kind) {
    case NetworkKind::mlp:
      return {128, 0.00030206699545840877, 1.9936923594451204e-05};
    case NetworkKind::lstm:
    case NetworkKind::gru:  // no seed configuration of its own: the LSTM's
      return {32, 0.00015007036384757517, 2.939570672798765e-06};
    case NetworkKind::attention_lstm:
      return {32, 0.00040088682195429254, 1.0214569609572818e-05};
  }
  return {32, 1e-3, 0.0};
}

void add_training(Schema& s, NetworkKind kind) {
  const auto seed = seed_training(kind);
  s.integer("batch_size", seed.batch, 1, 1 << 20,
            "samples per rank and optimiser step (with P ranks a step averages P batches, as "
            "PyTorch DDP)")
      .real("learning_rate", seed.lr, 1e-12, 10.0, "Adam learning rate")
      .real("weight_decay", seed.weight_decay, 0.0, 10.0,
            "L2 penalty added to the gradient (torch.optim.Adam's coupled weight_decay, not AdamW)")
      .integer("epochs", 100, 1, 1000000, "maximum number of epochs")
      .integer("patience", 10, 1, 1000000,
               "stop after this many epochs without a lower validation MSE; the best weights are "
               "kept")
      .real("lr_plateau_factor", 1.0, 1e-6, 1.0,
            "multiply the learning rate by this when the validation MSE has not fallen (by 1e-4 "
            "relative) for more than lr_plateau_patience epochs, as PyTorch's ReduceLROnPlateau; "
            "1 keeps it constant (the seed's training)")
      .integer("lr_plateau_patience", 3, 0, 1000000,
               "epochs without a lower validation MSE that lr_plateau_factor tolerates")
      .real("min_learning_rate", 0.0, 0.0, 10.0,
            "lr_plateau_factor never lowers the learning rate below this")
      .integer("collective_timeout_sec", 300, 1, 86400,
               "distributed training: a rank waiting this long (or 20 x its longest exchange so "
               "far) for the others in a gradient exchange ends the job with an error naming "
               "itself (a peer died, stalled or lost its network)")
      .integer("seed", 42, 0, Schema::int_max,
               "seed of the initial weights, the shuffling and the dropout masks")
      .integer("eval_batch", 4096, 1, 1 << 22,
               "validation windows per batch copied to the inference kernels' memory (a GPU's; "
               "host backends read them in place)")
      .integer("threads", 0, 0, 4096, "oneDNN (OpenMP) threads per rank; 0 = OMP_NUM_THREADS");
}

Schema build(NetworkKind kind) {
  switch (kind) {
    case NetworkKind::mlp: {
      Schema s(
          "MLP: input the flat vector of a window (the dynamic features of every month, then the "
          "4 position features once: 44 values for the 14 standard features and 4 months), ReLU "
          "hidden layers with dropout, Linear(H, 1).");
      s.integers("hidden_dims", std::vector<long long>{207, 248, 198}, 1, 65536,
                 "width of each hidden layer", 0, 1)
          .real("dropout", 0.0, 0.0, 0.95, "dropout after each hidden layer");
      add_training(s, kind);
      return s;
    }
    case NetworkKind::lstm: {
      Schema s(
          "LSTM: stacked LSTM over the window (months x features), the top layer's last state "
          "through dropout and Linear(H, 1).");
      s.integer("hidden_dim", 128, 1, 65536, "hidden units per layer")
          .integer("num_layers", 3, 1, 3, "stacked LSTM layers")
          .real("dropout", 0.0, 0.0, 0.95, "dropout between layers and before the output layer");
      add_training(s, kind);
      return s;
    }
    case NetworkKind::gru: {
      Schema s(
          "GRU: stacked GRU (PyTorch's nn.GRU) over the window (months x features), the top "
          "layer's last state through dropout and Linear(H, 1).");
      s.integer("hidden_dim", 128, 1, 65536, "hidden units per layer")
          .integer("num_layers", 3, 1, 3, "stacked GRU layers")
          .real("dropout", 0.0, 0.0, 0.95, "dropout between layers and before the output layer");
      add_training(s, kind);
      return s;
    }
    case NetworkKind::attention_lstm: {
      Schema s(
          "Attention LSTM: input attention over the features at each month, an LSTM cell, "
          "temporal attention over the months' states, dropout, Linear(H, 1).");
      s.integer("hidden_dim", 256, 1, 65536, "hidden units of the LSTM cell and attention")
          .real("dropout", 0.4, 0.0, 0.95, "dropout on the context before the output layer");
      add_training(s, kind);
      return s;
    }
  }
  return Schema();
}
}  // namespace

const config::Schema& network_schema(NetworkKind kind) {
  static const Schema mlp = build(NetworkKind::mlp), lstm = build(NetworkKind::lstm),
                      attention = build(NetworkKind::attention_lstm), gru = build(NetworkKind::gru);
  switch (kind) {
    case NetworkKind::mlp:
      return mlp;
    case NetworkKind::lstm:
      return lstm;
    case NetworkKind::attention_lstm:
      return attention;
    case NetworkKind::gru:
      return gru;
  }
  return mlp;
}

NetworkSpec network_spec(NetworkKind kind, const config::Config& cfg) {
  NetworkSpec s;
  s.kind = kind;
  s.dropout = cfg.get<double>("dropout");
  if (kind == NetworkKind::mlp) {
    s.hidden_dims.clear();
    for (long long d : cfg.get<std::vector<long long>>("hidden_dims"))
      s.hidden_dims.push_back(static_cast<int>(d));
  } else {
    s.hidden_dim = cfg.get<int>("hidden_dim");
    if (kind == NetworkKind::lstm || kind == NetworkKind::gru)
      s.num_layers = cfg.get<int>("num_layers");
  }
  return s;
}

TrainingSettings training_settings(const config::Config& cfg) {
  TrainingSettings t;
  t.batch_size = cfg.get<int>("batch_size");
  t.learning_rate = cfg.get<double>("learning_rate");
  t.weight_decay = cfg.get<double>("weight_decay");
  t.epochs = cfg.get<int>("epochs");
  t.patience = cfg.get<int>("patience");
  t.lr_plateau_factor = cfg.get<double>("lr_plateau_factor");
  t.lr_plateau_patience = cfg.get<int>("lr_plateau_patience");
  t.min_learning_rate = cfg.get<double>("min_learning_rate");
  t.collective_timeout_s = cfg.get<int>("collective_timeout_sec");
  t.seed = static_cast<std::uint64_t>(cfg.get<long long>("seed"));
  t.eval_batch = cfg.get<int>("eval_batch");
  t.threads = cfg.get<int>("threads");
  return t;
}

}  // namespace fluxrecon::models
