// The pieces of the climatology baseline: the nearest point on the sphere
// against brute force (ties, the dateline), the nearest training location
// that has a month's data, the baseline field of a cache block, and the
// trend of the yearly uptake error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "analysis/analyze_results.hpp"
#include "analysis/climatology.hpp"
#include "analysis/nearest_location.hpp"

namespace fa = fluxrecon::analysis;

namespace {

int brute_force(const std::vector<double>& lat, const std::vector<double>& lon,
                const std::vector<std::int64_t>& ids, double qlat, double qlon) {
  int best = -1;
  double best_d = 0;
  for (std::size_t k = 0; k < lat.size(); ++k) {
    const double d = fa::great_circle_km(qlat, qlon, lat[k], lon[k]);
    if (best < 0 || d < best_d || (d == best_d && ids[k] < ids[static_cast<std::size_t>(best)])) {
      best = static_cast<int>(k);
      best_d = d;
    }
  }
  return best;
}

}  // namespace

TEST(AnalysisNearestLocation, MatchesBruteForceOnRandomPoints) {
  std::mt19937 rng(19);
  std::uniform_real_distribution<double> u(-1.0, 1.0), lon_d(-180.0, 540.0);
  std::vector<double> lat, lon;
  std::vector<std::int64_t> ids;
  for (int k = 0; k < 700; ++k) {
    lat.push_back(std::asin(u(rng)) * 180.0 / M_PI);
    lon.push_back(lon_d(rng));  // any longitude convention
    ids.push_back(1000 - k);
  }
  const fa::NearestLocation tree(lat, lon, ids);
  EXPECT_EQ(tree.size(), 700u);
  for (int q = 0; q < 400; ++q) {
    const double qlat = std::asin(u(rng)) * 180.0 / M_PI, qlon = lon_d(rng) - 360.0;
    const int got = tree.nearest(qlat, qlon), want = brute_force(lat, lon, ids, qlat, qlon);
    ASSERT_GE(got, 0);
    // The same point, or one at the same distance (rounding of two formulas).
    EXPECT_NEAR(fa::great_circle_km(qlat, qlon, lat[got], lon[got]),
                fa::great_circle_km(qlat, qlon, lat[want], lon[want]), 1e-6)
        << "query " << qlat << ", " << qlon;
  }
  // Every point is its own nearest.
  for (std::size_t k = 0; k < lat.size(); k += 7)
    EXPECT_EQ(tree.nearest(lat[k], lon[k]), static_cast<int>(k));
}

TEST(AnalysisNearestLocation, TiesGoToTheSmallestIdAndTheDatelineIsNoEdge) {
  // Two points at one place (a duplicated halo column), listed largest id first.
  const fa::NearestLocation dup({10.0, 10.0, -30.0}, {20.0, 20.0, 100.0}, {7, 3, 1});
  EXPECT_EQ(dup.nearest(10.0, 20.0), 1);
  EXPECT_EQ(dup.nearest(12.0, 25.0), 1);
  // Across the dateline: 179.5 E is 1 degree from 179.5 W; 170 W is 9.5 degrees.
  const fa::NearestLocation line({0.0, 0.0}, {179.5, -170.0}, {1, 2});
  EXPECT_EQ(line.nearest(0.0, -179.5), 0);
  EXPECT_EQ(line.nearest(0.0, 180.5), 0);
  const fa::NearestLocation none({}, {}, {});
  EXPECT_EQ(none.nearest(0.0, 0.0), -1);
  EXPECT_NEAR(fa::great_circle_km(0, 0, 0, 1), 6371.229 * M_PI / 180.0, 1e-9);
}

TEST(AnalysisClimatologyBaseline, TakesTheNearestLocationWithTheMonthsData) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  fa::Climatology c;
  c.location = {5, 9};
  c.lat = {0.0, 0.0};
  c.lon = {0.0, 10.0};
  c.value.resize(2);
  for (int m = 0; m < 12; ++m) {
    c.value[0][m] = 1.0 + m;
    c.value[1][m] = 100.0 + m;
  }
  c.value[0][4] = nan;  // location 5 has no May sample
  c.value[0][11] = nan;
  c.value[1][11] = nan;  // nobody has December
  const fa::ClimatologyBaseline b(c);
  EXPECT_EQ(b.months_without_data(), std::vector<int>({12}));
  // A 1 x 3 grid: at location 5, between, at location 9.
  const std::vector<float> lat = {0.0f, 0.0f, 0.0f}, lon = {0.0f, 4.0f, 10.0f};
  const auto nearest = b.nearest(lat, lon, 0, 1, 3);
  ASSERT_EQ(nearest.size(), 36u);
  for (int m = 0; m < 12; ++m) {
    SCOPED_TRACE(m);
    if (m == 11) {
      for (int i = 0; i < 3; ++i) EXPECT_EQ(nearest[m * 3 + i], -1);
      continue;
    }
    EXPECT_EQ(nearest[m * 3 + 0], m == 4 ? 1 : 0);
    EXPECT_EQ(nearest[m * 3 + 1], m == 4 ? 1 : 0);
    EXPECT_EQ(nearest[m * 3 + 2], 1);
  }
  // The field: in mol m-2 s-1 (the cache's factor), NaN where the cache has
  // no value or nobody has the month.
  fa::CacheBlock block;
  block.info.nx = 3;
  block.info.to_mol_m2_s = 1e-3;
  block.rows = 1;
  block.simulated.assign(36, 1.0f);
  block.reconstructed.assign(36, 2.0f);
  block.simulated[0 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  block.reconstructed[2 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  const auto f = b.field(block, nearest);
  EXPECT_FLOAT_EQ(f[0], 1e-3f);
  EXPECT_TRUE(std::isnan(f[1]));
  EXPECT_FLOAT_EQ(f[2], 100e-3f);
  EXPECT_FLOAT_EQ(f[4 * 3 + 0], 104e-3f);
  EXPECT_TRUE(std::isnan(f[2 * 3 + 2]));
  EXPECT_TRUE(std::isnan(f[11 * 3 + 0]));
}

TEST(AnalysisClimatologyBaseline, SamplingMaskLeavesOutSampledCellMonths) {
  fa::CacheBlock block;
  block.info.nx = 2;
  block.rows = 1;
  block.simulated.assign(24, 1.0f);
  block.reconstructed.assign(24, 2.0f);
  block.simulated[5] = std::numeric_limits<float>::quiet_NaN();  // land
  EXPECT_EQ(fa::apply_sampling_mask(block), 0);                  // no mask: nothing
  EXPECT_FLOAT_EQ(block.reconstructed[0], 2.0f);
  block.sampled.assign(24, 0.0f);
  block.sampled[0] = 1.0f;
  block.sampled[5] = 1.0f;                                     // land, sampled: not counted
  block.sampled[7] = std::numeric_limits<float>::quiet_NaN();  // fill counts as sampled
  EXPECT_EQ(fa::apply_sampling_mask(block), 2);
  for (int k : {0, 5, 7}) {
    EXPECT_TRUE(std::isnan(block.simulated[k])) << k;
    EXPECT_TRUE(std::isnan(block.reconstructed[k])) << k;
  }
  EXPECT_FLOAT_EQ(block.simulated[1], 1.0f);
  EXPECT_FLOAT_EQ(block.reconstructed[1], 2.0f);
}

TEST(AnalysisClimatologyBaseline, TrendOfTheYearlyUptakeError) {
  // One cell of 1e12 m^2, months of 1e6 s: integrated flux = 12e18 x mean.
  std::vector<fa::YearMoments> years;
  for (int y = 0; y < 4; ++y) {
    fa::YearMoments ym;
    ym.year = 2000 + y;
    for (int m = 0; m < 12; ++m) {
      ym.month_seconds[m] = 1e6;
      ym.months[m].weight = 1e12;
      ym.months[m].mean_s = 1e-6;
      ym.months[m].mean_r = 1e-6 * (1.0 + 0.1 * y);  // the error grows linearly
    }
    years.push_back(ym);
  }
  const double per_year = 12e18 * 1e-7 * 12.011 / 1e15;  // PgC/yr added each year
  EXPECT_NEAR(fa::trend_of_error(years), per_year, 1e-9 * per_year);
  years.resize(1);
  EXPECT_TRUE(std::isnan(fa::trend_of_error(years)));
}
