// The explanation methods per model kind, on top of the Shapley core:
// KernelSHAP players of the flat (MLP/XGBoost) input and their groups by
// variable and by lag, exact TreeSHAP through XGBoost's C API, and the
// attention LSTM's attention scores from its inference kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "explain/shapley.hpp"

namespace fluxrecon::models {
class NnInference;
}
namespace fluxrecon::models {
class XgboostModel;
}

namespace fluxrecon::explain {

// "SST (t-3)" ... "SST (t)" for lag window-1-t; position features as named.
std::string lag_label(int lag);  // "t", "t-1", ...

// A player per flat input (kernels/flatten.hpp: the dynamic features of every
// step, oldest first, then the position features once). A position feature's
// player owns its cells at every step (the flat models read step 0's only).
struct FlatLayout {
  Players players;
  std::vector<int> variable;  // per player: its feature (0..features-1)
  std::vector<int> lag;       // per player: its lag, or -1 for a position feature
};
FlatLayout flat_layout(int window, const std::vector<std::string>& feature_names, int dynamic);

// Per-player values summed by variable ([features]) and by lag ([window], the
// position features left out; index = lag).
std::vector<double> by_variable(const FlatLayout& layout, const std::vector<double>& values,
                                int features);
std::vector<double> by_lag(const FlatLayout& layout, const std::vector<double>& values, int window);

struct TreeShap {
  std::vector<float> values;        // [n][width]: per flat input
  std::vector<float> bias;          // [n]: the expected value (XGBoost's bias column)
  std::vector<float> prediction;    // [n]: the margin, = bias + sum of values
  std::vector<float> interactions;  // [n][width + 1][width + 1] when asked for
};
// Exact (path-dependent) TreeSHAP of z-scored windows [n][window][features].
TreeShap tree_shap(const models::XgboostModel& model, const float* windows, std::int64_t n,
                   bool interactions);

struct AttentionScores {
  std::vector<float> prediction;  // [n]
  std::vector<float> alpha;       // [n][window][features]
  std::vector<float> beta;        // [n][window]
  std::vector<float> gamma;       // [n][window][features] = alpha * beta
};
AttentionScores attention_scores(const models::NnInference& net, const float* windows,
                                 std::int64_t n);

}  // namespace fluxrecon::explain
