#include <gtest/gtest.h>

#include <set>

#include "data/grid.hpp"
#include "data/regions.hpp"

using namespace fluxrecon::data;

TEST(Regions, SeedBoundsAreInclusiveAndArcticStrict) {
  Region na, so, eq, arctic, global;
  ASSERT_TRUE(builtin_region("North_Atlantic", na));
  ASSERT_TRUE(builtin_region("Southern_Ocean", so));
  ASSERT_TRUE(builtin_region("Equatorial_Pacific", eq));
  ASSERT_TRUE(builtin_region("Arctic", arctic));
  ASSERT_TRUE(builtin_region("global", global));
  EXPECT_FALSE(builtin_region("Atlantis", global));
  // -75 <= lon <= 0 and 10 <= lat <= 70
  EXPECT_TRUE(na.contains(10.0, -75.0));
  EXPECT_TRUE(na.contains(70.0, 0.0));
  EXPECT_FALSE(na.contains(9.999, -30.0));
  EXPECT_FALSE(na.contains(40.0, 0.001));
  EXPECT_FALSE(na.contains(40.0, -75.001));
  // lat <= -45
  EXPECT_TRUE(so.contains(-45.0, 100.0));
  EXPECT_FALSE(so.contains(-44.99, 100.0));
  // -10 <= lat <= 10 and (105 <= lon <= 180 or -180 <= lon <= -80)
  EXPECT_TRUE(eq.contains(10.0, 105.0));
  EXPECT_TRUE(eq.contains(-10.0, -80.0));
  EXPECT_TRUE(eq.contains(0.0, 180.0));
  EXPECT_FALSE(eq.contains(0.0, -79.9));
  EXPECT_FALSE(eq.contains(0.0, 104.9));
  // lat > 70 strictly
  EXPECT_FALSE(arctic.contains(70.0, 0.0));
  EXPECT_TRUE(arctic.contains(70.001, 0.0));
  EXPECT_TRUE(global.contains(-90, 179.9));
  // A 0..360 longitude grid point is wrapped before the box test.
  EXPECT_TRUE(na.contains(40.0, 330.0));
}

TEST(Regions, DatelineBoxWraps) {
  LatLonBox box{-5, 5, 170, -170};
  EXPECT_TRUE(box.contains(0, 175));
  EXPECT_TRUE(box.contains(0, -175));
  EXPECT_FALSE(box.contains(0, 0));
}

TEST(Grid, BalanceRowsByOceanCount) {
  // Rows 0-3 heavy, rows 4-9 light: two ranks cut near the half of the count.
  std::vector<std::int64_t> counts = {10, 10, 10, 10, 1, 1, 1, 1, 1, 1};
  const auto starts = balance_rows(counts, 2, 10);
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(starts[0], 0);
  EXPECT_EQ(starts[1], 3);  // 30 of 46 after three rows >= 23
  EXPECT_EQ(starts[2], 10);
  // The fold rows (7..9) are never split.
  const auto fold = balance_rows(std::vector<std::int64_t>(10, 1), 4, 7);
  for (int r = 1; r < 4; ++r) EXPECT_LE(fold[r], 7);
  // More ranks than rows: empty blocks, still monotone and complete.
  const auto many = balance_rows({5, 5}, 4, 2);
  EXPECT_EQ(many.front(), 0);
  EXPECT_EQ(many.back(), 2);
  for (size_t i = 1; i < many.size(); ++i) EXPECT_GE(many[i], many[i - 1]);
}

TEST(Grid, FindsOrcaHaloAndFoldDuplicates) {
  // 4 rows x 6 columns: columns 0 and 5 are cyclic copies of 4 and 1; the top
  // row repeats row 1 mirrored (a north fold).
  const int nx = 6, ny = 4;
  std::vector<double> lat(nx * ny), lon(nx * ny);
  const double lons[4] = {-135, -45, 45, 135};
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      const int inner = (x == 0) ? 3 : (x == nx - 1) ? 0 : x - 1;
      lat[y * nx + x] = y < 3 ? -60.0 + 40 * y : 20.0;  // row 3 repeats row 2's latitude
      lon[y * nx + x] = y < 3 ? lons[inner] : lons[3 - inner];
    }
  const auto dup = find_duplicate_points(lat, lon, nx, 0, ny, ny);
  int halo = 0, total = 0;
  for (int y = 0; y < ny; ++y) {
    halo += dup[y * nx] + dup[y * nx + nx - 1];
    for (int x = 0; x < nx; ++x) total += dup[y * nx + x];
  }
  EXPECT_EQ(halo, 2 * ny);
  EXPECT_EQ(total, 2 * ny + 4);  // the whole inner top row repeats row 2
}

TEST(Grid, LocationKeysAreStatelessAndSpread) {
  EXPECT_EQ(location_key(42, 1000), location_key(42, 1000));
  EXPECT_NE(location_key(42, 1000), location_key(43, 1000));
  std::set<std::uint64_t> keys;
  for (int i = 0; i < 10000; ++i) keys.insert(location_key(42, i));
  EXPECT_EQ(keys.size(), 10000u);
}
