// KernelSHAP (Lundberg and Lee 2017) over "players" that each own a set of
// cells of a model input [window][features]: the value of a coalition is
// the background-weighted mean prediction with the players' cells taken from
// the explained instance and the others from each background row. The MLP's
// SHAP (a player per flat input), and TimeSHAP's event, feature and cell
// levels (players of events, features or cells against a baseline event)
// are all this game with different players and backgrounds.
//
// Coalitions: exact Shapley kernel weights, whole subset sizes enumerated
// while the budget allows (smallest and largest sizes first), the rest
// sampled in complementary pairs; the values solve the kernel-weighted least
// squares with efficiency (sum = f(x) - E f) as an exact constraint. With a
// budget of at least 2^M - 2 coalitions the values are the exact Shapley
// values. Every model evaluation goes through one batched callback.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fluxrecon::explain {

// Predictions of `n` inputs [window][features] (z-scored), host memory.
using BatchPredict = std::function<void(const float* inputs, std::int64_t n, float* out)>;

struct Players {
  std::vector<std::string> names;  // one per player
  std::vector<int> owner;          // one per cell: its player
  int count() const { return static_cast<int>(names.size()); }
  int cells() const { return static_cast<int>(owner.size()); }
};

// Rows the absent players' cells are taken from, with weights summing to 1.
struct Background {
  std::vector<float> rows;  // [size][cells]
  std::vector<double> weights;
  std::int64_t size() const { return static_cast<std::int64_t>(weights.size()); }
};

// `rows` (n x cells) with equal weights.
Background uniform_background(std::vector<float> rows, int cells);
// A weighted k-means summary (k rows, weights = cluster shares) of `b`,
// Lloyd's iterations from k rows drawn with `seed`; b itself if k >= size.
Background kmeans_background(const Background& b, int cells, int k, std::uint64_t seed);

struct KernelShapOptions {
  std::int64_t coalitions = 0;      // 0 = 2 M + 2048 (SHAP's "auto")
  std::uint64_t seed = 0;           // for the sampled coalitions
  std::int64_t max_rows = 1 << 16;  // model inputs per predict call
};

struct Attribution {
  std::vector<double> values;    // one per player; sum = prediction - expected
  double prediction = 0;         // f(x)
  double expected = 0;           // background-weighted mean of f
  std::int64_t evaluations = 0;  // model inputs predicted
  std::int64_t coalitions = 0;   // distinct coalitions evaluated
  bool exact = false;            // every coalition enumerated
};

// Collective-free; deterministic for a given seed.
Attribution kernel_shap(const float* instance, const Players& players, const Background& background,
                        const BatchPredict& predict, const KernelShapOptions& options);

// Sums of `values` over groups: out[g] = sum of values[i] with group[i] == g.
std::vector<double> group_sums(const std::vector<double>& values, const std::vector<int>& group,
                               int groups);

}  // namespace fluxrecon::explain
