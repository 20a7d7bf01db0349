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
  // One point, 6 slots; role r at slot s has value 100*s + r.
  const int slots = 6, window = 4;
  std::vector<float> series(slots * kRoles);
  for (int s = 0; s < slots; ++s)
    for (int r = 0; r < kRoles; ++r) series[s * kRoles + r] = static_cast<float>(100 * s + r);
  std::vector<double> statics = {0.5, 0.25, -0.5, 0.75};
  Normalisation norm{};
  for (int f = 0; f <= kWindowFeatures; ++f) {
    norm.mean[f] = f;
    norm.inv_std[f] = 0.5;
  }
  std::int64_t point = 0;
  std::int32_t last = 5;
  std::vector<float> features(window * kWindowFeatures), target(1);
  AssembleWindows k{series.data(), statics.data(), &point,          &last,        slots,
                    window,        norm,           features.data(), target.data()};
  k(0);
  for (int t = 0; t < window; ++t) {
    const int slot = last - window + 1 + t;  // 2, 3, 4, 5
    for (int f = 0; f < 10; ++f)
      EXPECT_FLOAT_EQ(features[t * 14 + f], static_cast<float>((100 * slot + f - f) * 0.5));
    for (int f = 10; f < 14; ++f)
      EXPECT_FLOAT_EQ(features[t * 14 + f], static_cast<float>((statics[f - 10] - f) * 0.5));
  }
  EXPECT_FLOAT_EQ(target[0], static_cast<float>((100 * 5 + 10 - 14) * 0.5));
}
