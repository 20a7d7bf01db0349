// The architecture of a neural model and its weights as PyTorch names them
// (state_dict keys, shapes, LSTM gate order i, f, g, o, GRU gate order r, z,
// n), shared by training (oneDNN), the model file and the inference kernels.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace fluxrecon::models {

enum class NetworkKind { mlp, lstm, attention_lstm, gru };

struct NetworkSpec {
  NetworkKind kind = NetworkKind::mlp;
  int window = 4;                               // time steps per sample
  int n_features = 14;                          // features per step
  int n_dynamic = 10;                           // leading features that vary in time
  std::vector<int> hidden_dims{207, 248, 198};  // mlp: one entry per hidden layer
  int hidden_dim = 128;                         // lstm, attention_lstm, gru
  int num_layers = 3;                           // lstm, gru
  double dropout = 0.0;
};

// A dense row-major float32 tensor with PyTorch's shape.
struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

// PyTorch state_dict: "layers.0.weight" (out, in), "lstm.weight_ih_l0" (4H, D),
// "gru.weight_ih_l0" (3H, D), ...
using StateDict = std::map<std::string, Tensor>;

}  // namespace fluxrecon::models
