// Scene splits, triplet tile positions and geolocation, and aux time matching
// (spec 5.1, 5.2, 6.3 and the acceptance cases of 9.4).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "tiles/aux_match.hpp"
#include "tiles/dataset.hpp"
#include "tiles/goes_source.hpp"
#include "tiles/meta.hpp"
#include "tiles/projection.hpp"
#include "tiles/tasks.hpp"
#include "tiles/triplets.hpp"

using namespace fluxrecon::tiles;

namespace {
std::vector<std::string> ids(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i)
    v.push_back(make_scene_id("goes16", make_time(2020, 2, 2, 10, 10 * i)));
  return v;
}
std::map<std::string, int> scenes_per_collection(const SceneSplits& s) {
  std::map<std::string, std::set<std::string>> members;
  for (const auto& [id, entries] : s)
    for (const auto& e : entries) members[e.collection].insert(id);
  std::map<std::string, int> out;
  for (const auto& [c, m] : members) out[c] = static_cast<int>(m.size());
  return out;
}
Meta local_meta(double scaling) {
  return meta_from_text(
      "source: goes16\ntype: truecolor_rgb\ntime: {t_start: 2020-02-02T10:00, N_days: 1}\n"
      "domain: {central_latitude: 13.3, central_longitude: -57.5, l_zonal: 400.0e+3, "
      "l_meridional: 300.0e+3}\nsampling: {resolution: 1000.0, triplets: {N_triplets: 20, "
      "tile_N: 64, neigh_dist_scaling: " +
          std::to_string(scaling) + "}}\nseed: 3\n",
      "meta.yaml", "/tmp/x");
}
}  // namespace

TEST(TilesSplits, SpecCasesWithTheRemainderGivenToTheLastCollection) {
  TripletSpec t;
  t.n_triplets = {{"train", 2}};
  auto s = split_scenes(ids(3), t, 0);
  EXPECT_EQ(scenes_per_collection(s)["train"], 3);  // 2 triplets over 3 scenes: all in train...
  int entries = 0;
  for (const auto& [id, e] : s) entries += static_cast<int>(e.size());
  EXPECT_EQ(entries, 4);  // ...and each triplet has one anchor scene and one distant scene
  EXPECT_EQ(s.size(), 3u);
  t.n_triplets = {{"train", 10}, {"study", 2}};
  s = split_scenes(ids(10), t, 0);
  // The original gives 8 + 1 and leaves one scene unused; here the last collection gets it.
  std::set<std::string> train, study;
  for (const auto& [id, e] : s)
    for (const auto& x : e) (x.collection == "train" ? train : study).insert(id);
  EXPECT_LE(train.size(), 8u);
  EXPECT_LE(study.size(), 2u);
  for (const auto& id : train) EXPECT_EQ(study.count(id), 0u);  // collections are disjoint
  // Anchor and distant of a triplet are different scenes of the same collection.
  std::map<std::pair<std::string, long long>, std::vector<std::pair<std::string, bool>>> parts;
  for (const auto& [id, e] : s)
    for (const auto& x : e) parts[{x.collection, x.triplet_id}].emplace_back(id, x.is_distant);
  EXPECT_EQ(parts.size(), 12u);
  for (const auto& [key, p] : parts) {
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].first, p[1].first);
    EXPECT_NE(p[0].second, p[1].second);
  }
}

TEST(TilesSplits, SameSeedSameSplitsAndErrors) {
  TripletSpec t;
  t.n_triplets = {{"train", 5}, {"study", 5}};
  EXPECT_EQ(splits_to_yaml(split_scenes(ids(8), t, 11)),
            splits_to_yaml(split_scenes(ids(8), t, 11)));
  EXPECT_NE(splits_to_yaml(split_scenes(ids(8), t, 11)),
            splits_to_yaml(split_scenes(ids(8), t, 12)));
  // Order of the scene list does not matter.
  auto rev = ids(8);
  std::reverse(rev.begin(), rev.end());
  EXPECT_EQ(splits_to_yaml(split_scenes(rev, t, 11)), splits_to_yaml(split_scenes(ids(8), t, 11)));
  const auto back = splits_from_yaml(splits_to_yaml(split_scenes(ids(8), t, 11)), "x");
  EXPECT_EQ(splits_to_yaml(back), splits_to_yaml(split_scenes(ids(8), t, 11)));
  EXPECT_THROW(split_scenes(ids(1), t, 0), fluxrecon::Error);
  t.n_triplets = {{"train", 10}, {"study", 1}};
  try {
    split_scenes(ids(3), t, 0);  // train gets 2, study 1: too few
    ADD_FAILURE();
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'study'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("at most 1 collections"), std::string::npos);
  }
}

class TilesTripletGeometry : public ::testing::TestWithParam<double> {};

TEST_P(TilesTripletGeometry, TilesInsideCorrectlyGeolocatedAndAtTheNeighbourDistance) {
  const Meta m = local_meta(GetParam());
  Domain d{true, 13.3, -57.5, 0, 0, 400e3, 300e3};
  std::vector<TripletEntry> entries;
  for (int t = 0; t < 20; ++t) entries.push_back({t, t % 3 == 0, "train"});
  const auto tiles = tile_locations("goes16__202002021540", entries, d, m);
  const double L = 64 * 1000.0, r = GetParam() * L;
  Laea domain_frame(13.3, -57.5);
  int anchors = 0, distant = 0;
  for (size_t k = 0; k < tiles.size(); ++k) {
    const auto& t = tiles[k];
    EXPECT_GE(t.x_c - L / 2, -200e3 - 1e-6);
    EXPECT_LE(t.x_c + L / 2, 200e3 + 1e-6);
    EXPECT_GE(t.y_c - L / 2, -150e3 - 1e-6);
    EXPECT_LE(t.y_c + L / 2, 150e3 + 1e-6);
    const Grid g = make_grid(t.tile_domain(), 1000.0);
    EXPECT_EQ(g.nx, 64);
    EXPECT_EQ(g.ny, 64);
    if (t.tile_type == "distant") ++distant;
    if (t.tile_type != "neighbor") {
      // Not mirrored: the tile's centre projects back to +x_c, +y_c.
      double x, y;
      domain_frame.forward(t.central_latitude, t.central_longitude, x, y);
      EXPECT_NEAR(x, t.x_c, 0.01);
      EXPECT_NEAR(y, t.y_c, 0.01);
    }
    if (t.tile_type == "anchor") {
      ++anchors;
      ASSERT_EQ(tiles[k + 1].tile_type, "neighbor");
      const auto& n = tiles[k + 1];
      double x, y;
      Laea(t.central_latitude, t.central_longitude)
          .forward(n.central_latitude, n.central_longitude, x, y);
      EXPECT_NEAR(std::hypot(x, y), r, 5e-3);  // PROJ inverse LAEA: ~1.5 mm
      // Same direction as in the domain frame.
      EXPECT_NEAR(std::atan2(y, x), std::atan2(n.y_c - t.y_c, n.x_c - t.x_c), 1e-2);
      EXPECT_NEAR(std::hypot(n.x_c - t.x_c, n.y_c - t.y_c), r, 1e-6);
    }
  }
  EXPECT_EQ(distant, 7);
  EXPECT_EQ(anchors, 13);
  // Deterministic from the seed, and written/read back exactly.
  EXPECT_EQ(locations_to_yaml(tiles),
            locations_to_yaml(tile_locations("goes16__202002021540", entries, d, m)));
  EXPECT_EQ(locations_to_yaml(locations_from_yaml(locations_to_yaml(tiles), "x")),
            locations_to_yaml(tiles));
}

INSTANTIATE_TEST_SUITE_P(Scalings, TilesTripletGeometry, ::testing::Values(0.1, 1.0));

TEST(TilesTripletGeometryErrors, TileLargerThanDomainAndImpossibleNeighbour) {
  Meta m = local_meta(1.0);
  std::vector<TripletEntry> entries = {{0, false, "train"}};
  try {
    tile_locations("s__202002021540", entries, Domain{true, 13.3, -57.5, 0, 0, 60e3, 300e3}, m);
    ADD_FAILURE();
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the domain"), std::string::npos);
  }
  m.triplets.neigh_dist_scaling = 3.0;  // 192 km away inside a 100 km x 100 km domain
  EXPECT_THROW(
      tile_locations("s__202002021540", entries, Domain{true, 13.3, -57.5, 0, 0, 100e3, 100e3}, m),
      fluxrecon::Error);
  // A Cartesian domain: positions in source metres, no geolocation.
  m.triplets.neigh_dist_scaling = 1.0;
  const auto t =
      tile_locations("LES__202002021200", entries, Domain{false, 0, 0, 1e5, 2e5, 3e5, 3e5}, m);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_FALSE(t[0].geolocated);
  EXPECT_GE(t[0].x_c, 1e5 - 1.5e5 + 32e3);
  const Grid g = make_grid(t[0].tile_domain(), 1000);
  EXPECT_NEAR(g.x.front(), t[0].x_c - 31500, 1e-6);
}

TEST(TilesAux, MappingStrategiesOnHandMadeTimes) {
  const auto T = [](int h, int m) { return make_time(2020, 2, 2, h, m); };
  const std::vector<std::pair<std::string, Seconds>> scenes = {
      {"s1200", T(12, 0)}, {"s1210", T(12, 10)}, {"s1220", T(12, 20)}, {"s1230", T(12, 30)}};
  const std::vector<Seconds> aux = {T(12, 2), T(12, 31)};
  auto m = match_aux_times(scenes, aux, "single_scene_per_aux_time", 1800, std::nullopt, "aux");
  EXPECT_EQ(m.dt_max, 900);
  EXPECT_EQ(m.scene_to_aux, (std::map<std::string, size_t>{{"s1200", 0}, {"s1230", 1}}));
  m = match_aux_times(scenes, aux, "all_scenes_within_dt_aux", 1800, std::nullopt, "aux");
  EXPECT_EQ(m.scene_to_aux, (std::map<std::string, size_t>{
                                {"s1200", 0}, {"s1210", 0}, {"s1220", 1}, {"s1230", 1}}));
  // Inferred: dt_aux = 29 min, dt_max = 14.5 min: 12:20 is 11 min from 12:31, 12:10 8 min from
  // 12:02.
  m = match_aux_times(scenes, aux, "all_scenes_within_dt_aux", std::nullopt, std::nullopt, "aux");
  EXPECT_EQ(m.dt_aux, 29 * 60);
  EXPECT_EQ(m.scene_to_aux.size(), 4u);
  m = match_aux_times(scenes, aux, "all_scenes_within_dt_aux", std::nullopt, 300, "aux");
  EXPECT_EQ(m.scene_to_aux, (std::map<std::string, size_t>{{"s1200", 0}, {"s1230", 1}}));
  // One aux time: works with dt_aux, asks for it without.
  m = match_aux_times(scenes, {T(12, 21)}, "single_scene_per_aux_time", 600, std::nullopt, "aux");
  EXPECT_EQ(m.scene_to_aux, (std::map<std::string, size_t>{{"s1220", 0}}));
  EXPECT_THROW(match_aux_times(scenes, {T(12, 21)}, "single_scene_per_aux_time", std::nullopt,
                               std::nullopt, "a"),
               fluxrecon::Error);
  EXPECT_THROW(
      match_aux_times(scenes, {T(18, 0)}, "all_scenes_within_dt_aux", 600, std::nullopt, "a"),
      fluxrecon::Error);
  EXPECT_THROW(match_aux_times(scenes, {T(12, 31), T(12, 2)}, "all_scenes_within_dt_aux", 600,
                               std::nullopt, "a"),
               fluxrecon::Error);
}

TEST(TilesGoesCalibration, PlanckBrightnessTemperatureByHand) {
  // Channel 13 constants of a GOES-16 file; by hand: (1392.74 / ln(10803.3 / 100 + 1) - 0.0755) /
  // 0.99975.
  EXPECT_NEAR(brightness_temperature(100.0, 10803.3, 1392.74, 0.0755, 0.99975), 296.8537271776436,
              1e-9);
  EXPECT_TRUE(std::isnan(brightness_temperature(0.0, 10803.3, 1392.74, 0.0755, 0.99975)));
}

TEST(TilesTripletGeometryFaithful, TheOriginalsMirroredCentresOnRequest) {
  Meta m = local_meta(1.0);
  m.triplets.faithful_geolocation = true;
  const Domain d{true, 13.3, -57.5, 0, 0, 400e3, 300e3};
  const auto tiles = tile_locations("goes16__202002021540", {{0, false, "train"}}, d, m);
  ASSERT_EQ(tiles.size(), 2u);
  double x, y;
  Laea(13.3, -57.5).forward(tiles[0].central_latitude, tiles[0].central_longitude, x, y);
  EXPECT_NEAR(x, -tiles[0].x_c, 0.01);
  EXPECT_NEAR(y, -tiles[0].y_c, 0.01);
  m.triplets.faithful_geolocation = false;
  const auto fixed = tile_locations("goes16__202002021540", {{0, false, "train"}}, d, m);
  EXPECT_DOUBLE_EQ(fixed[0].x_c, tiles[0].x_c);  // same draws, only the geolocation differs
}

TEST(TilesSlidingWindow, SpecTileCounts) {
  EXPECT_EQ(sliding_window_count(400, 256, 30), 5);
  EXPECT_EQ(sliding_window_count(400, 256, 10), 15);
  EXPECT_EQ(sliding_window_count(400, 256, 100), 2);
  EXPECT_EQ(sliding_window_count(200, 256, 10), 0);
  EXPECT_EQ(sliding_window_count(256, 256, 10), 1);
}

TEST(TilesSceneDb, YamlAndJsonRoundTrip) {
  std::vector<SceneRef> scenes(3);
  scenes[0] = {"LES__202002021210", make_time(2020, 2, 2, 12, 10), {"source_files/a.nc"}, 1};
  scenes[1] = {
      "goes16__202002021540", make_time(2020, 2, 2, 15, 40), {"c01.nc", "c02.nc", "c03.nc"}, -1};
  scenes[2] = {"goes16__202002021550", make_time(2020, 2, 2, 15, 50), {"c13.nc"}, -1};
  const auto dir =
      std::filesystem::temp_directory_path() / ("fr_tiles_db_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* kind : {"yaml", "json"}) {
    const std::string path = (dir / (std::string("db.") + kind)).string();
    std::ofstream(path) << scene_db_text(scenes, kind);
    const auto back = read_scene_db(path);
    ASSERT_EQ(back.size(), 3u) << kind;
    EXPECT_EQ(back[0].scene_id, "LES__202002021210");
    EXPECT_EQ(back[0].time_index, 1);
    EXPECT_EQ(back[0].files, scenes[0].files);
    EXPECT_EQ(back[1].files, scenes[1].files);
    EXPECT_EQ(back[2].files, scenes[2].files);
    EXPECT_EQ(back[2].time, make_time(2020, 2, 2, 15, 50));
  }
  std::filesystem::remove_all(dir);
}
