// TimeSHAP (Bento et al. 2021) for the sequence models: KernelSHAP against
// a baseline event (the per-feature median of the background's events, as
// the seed's calc_avg_event), at three levels:
//   event level   which months (a player per event, the oldest events
//                 grouped as "pruned" when temporal pruning says they matter
//                 less than the tolerance),
//   feature level which variables (a player per feature over the kept events),
//   cell level    month x variable (a player per cell of the top events and
//                 top features, "other" groups for the rest).
// Pruning: going back from the most recent event, the oldest events [0, i)
// are grouped as soon as their Shapley value in the two-player game {[0, i),
// [i, T)} is below `tolerance` in magnitude (tolerance 0: nothing is pruned,
// what the seed ran).
#pragma once

#include <cstdint>
#include <vector>

#include "explain/shapley.hpp"

namespace fluxrecon::explain {

struct TimeShapOptions {
  double tolerance = 0;              // pruning tolerance (model output units)
  std::int64_t event_samples = 0;    // coalitions per level; 0 = SHAP's auto
  std::int64_t feature_samples = 0;  // (exact whenever 2^players - 2 fit)
  std::int64_t cell_samples = 0;
  int top_events = 0;    // cell level: events and features explained cell by
  int top_features = 0;  // cell; 0 = all
  std::uint64_t seed = 0;
  std::int64_t max_rows = 1 << 16;
};

struct TimeShapResult {
  int steps = 0, features = 0;
  int pruned = 0;               // oldest events grouped (0 = none)
  std::vector<double> event;    // [steps]: NaN for pruned events
  double event_pruned = 0;      // the pruned group's value at event level
  std::vector<double> feature;  // [features]
  double feature_pruned = 0;
  std::vector<double> cell;                // [steps][features]: NaN where not a cell of its own
  double cell_pruned = 0, cell_other = 0;  // grouped players at cell level
  double prediction = 0, expected = 0;     // f(x), f(baseline sequence)
  std::int64_t evaluations = 0;
};

// The per-feature median over every event of `background` [rows][steps][features].
std::vector<float> median_event(const std::vector<float>& background, int steps, int features);

// One instance [steps][features]; `baseline` [features].
TimeShapResult time_shap(const float* instance, const std::vector<float>& baseline, int steps,
                         int features, const BatchPredict& predict, const TimeShapOptions& options);

}  // namespace fluxrecon::explain
