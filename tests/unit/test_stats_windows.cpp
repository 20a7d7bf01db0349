#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "data/stats.hpp"
#include "kernels/sample_windows.hpp"

using fluxrecon::data::RunningStats;

TEST(Statistics, WelfordMergeMatchesTwoPassReference) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal(1e3,
                                          25.0);  // large mean: a naive sum-of-squares loses digits
  std::vector<double> x(20000);
  for (auto& v : x) v = normal(rng);
  // Two-pass double reference.
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  const double var = ss / static_cast<double>(x.size() - 1);
  // Uneven partials merged in order.
  RunningStats merged;
  size_t at = 0;
  for (size_t len : {1u, 7u, 1000u, 5000u, 13992u}) {
    RunningStats part;
    for (size_t i = 0; i < len; ++i) part.add(x[at++]);
    merged.merge(part);
  }
  ASSERT_EQ(at, x.size());
  EXPECT_EQ(merged.count, static_cast<double>(x.size()));
  EXPECT_NEAR(merged.mean, mean, 1e-12 * std::abs(mean));
  EXPECT_NEAR(merged.variance(), var, 1e-10 * var);
}

TEST(Windows, AssemblesOldestFirstAndZScores) {
  using namespace fluxrecon::kernels;
  // One point, 6 slots, 11 file predictors (the seed's 10 and one extra)
  // then the target: role r at slot s has value 100*s + r; 2 global
  // features with value 1000*s + g; 4 position features.
  const int slots = 6, window = 4, roles = 12, globals_per_slot = 2;
  const int width = roles - 1 + globals_per_slot + 4;  // 17
  std::vector<float> series(slots * roles);
  for (int s = 0; s < slots; ++s)
    for (int r = 0; r < roles; ++r) series[s * roles + r] = static_cast<float>(100 * s + r);
  std::vector<double> globals(slots * globals_per_slot);
  for (int s = 0; s < slots; ++s)
    for (int g = 0; g < globals_per_slot; ++g) globals[s * globals_per_slot + g] = 1000 * s + g;
  std::vector<double> statics = {0.5, 0.25, -0.5, 0.75};
  Normalisation norm{};
  norm.features = width;
  for (int f = 0; f <= width; ++f) {
    norm.mean[f] = f;
    norm.inv_std[f] = 0.5;
  }
  std::int64_t point = 0;
  std::int32_t last = 5;
  std::vector<float> features(window * width), target(1);
  AssembleWindows k{series.data(), globals.data(), statics.data(),  &point,
                    &last,         slots,          roles,           globals_per_slot,
                    window,        norm,           features.data(), target.data()};
  k(0);
  for (int t = 0; t < window; ++t) {
    const int slot = last - window + 1 + t;  // 2, 3, 4, 5
    for (int f = 0; f < 11; ++f)
      EXPECT_FLOAT_EQ(features[t * width + f], static_cast<float>((100 * slot + f - f) * 0.5));
    for (int g = 0; g < 2; ++g)
      EXPECT_FLOAT_EQ(features[t * width + 11 + g],
                      static_cast<float>((1000 * slot + g - (11 + g)) * 0.5));
    for (int f = 13; f < 17; ++f)
      EXPECT_FLOAT_EQ(features[t * width + f], static_cast<float>((statics[f - 13] - f) * 0.5));
  }
  EXPECT_FLOAT_EQ(target[0], static_cast<float>((100 * 5 + 11 - 17) * 0.5));
}
