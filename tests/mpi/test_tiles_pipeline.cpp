// The tile tasks end to end on synthetic LES files: the dataset made on all
// ranks is byte for byte the one made on one rank, reruns skip complete
// outputs and redo interrupted ones, and bad inputs fail on every rank.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "support/mpi_test_util.hpp"
#include "support/tiles_test_util.hpp"
#include "tiles/meta.hpp"
#include "tiles/png.hpp"
#include "tiles/tasks.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {

const char* kMeta = R"(
source: LES
type: singlechannel__rlut
time: {t_start: 2020-02-02T12:00, t_end: 2020-02-02T13:00}
sampling:
  resolution: 200.0
  triplets: {N_triplets: {train: 6, study: 3}, tile_N: 24, neigh_dist_scaling: 0.5}
  rect-slidingwindow: {tile_N: 32, step_size: 30}
aux_products:
  lwp: {source: LES, type: singlechannel__lwp}
seed: 5
synthetic_les: {nx: 96, ny: 80, nt: 7, dx: 200.0, variables: [rlut, lwp], files: 2}
)";

void make_all(const std::string& dir, MPI_Comm comm) {
  const Meta m = load_meta(dir + "/meta.yaml");
  TaskOptions opt;
  run_task("GenerateTiles", m, opt, comm);
  run_task("GenerateRegriddedScenes", m, opt, comm);
  opt.aux_name = "lwp";
  run_task("GenerateTiles", m, opt, comm);
  opt.aux_name.clear();
  opt.tiles_kind = "rect-slidingwindow";
  run_task("GenerateTiles", m, opt, comm);
}

}  // namespace

TEST(TilesPipeline, SameDatasetOnAnyRankCountAndRerunsSkip) {
  const std::string dir = test_util::shared_temp_dir("tiles_pipeline");
  test_util::write_tiles_meta(dir + "/world", kMeta);
  test_util::write_tiles_meta(dir + "/one", kMeta);
  make_all(dir + "/world", MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) make_all(dir + "/one", MPI_COMM_SELF);
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) {
    const auto a = test_util::folder_contents(dir + "/world"),
               b = test_util::folder_contents(dir + "/one");
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [path, bytes] : a) {
      ASSERT_TRUE(b.count(path)) << path;
      EXPECT_TRUE(bytes == b.at(path)) << path << " differs between the all-rank and one-rank runs";
    }
    // 9 triplets: 27 tiles of 3 files each, for the primary product and for the aux product.
    int primary = 0, aux = 0;
    for (const auto& [path, bytes] : a) {
      if (path.rfind("triplets/train/", 0) == 0 || path.rfind("triplets/study/", 0) == 0) ++primary;
      if (path.rfind("triplets/lwp/", 0) == 0) ++aux;
    }
    EXPECT_EQ(primary, 81);
    EXPECT_EQ(aux, 81);
    EXPECT_TRUE(a.count("triplets/study/00002_distant.png"));
    EXPECT_TRUE(a.count("triplets/tile_scene_splits.yml"));
    EXPECT_TRUE(a.count("rect-slidingwindow/tiles_per_scene.step_30.yml"));
    const auto png = read_png(dir + "/world/triplets/train/00000_anchor.png");
    EXPECT_EQ(png.width, 24);
    EXPECT_EQ(png.height, 24);
    EXPECT_EQ(png.channels, 3);
    // Simulate an interrupted run: a tile's image lost, a temporary file left behind.
    fs::remove(dir + "/world/triplets/train/00003_neighbor.png");
    std::ofstream(dir + "/world/triplets/train/00004_anchor.nc.tmp.12345") << "partial";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const Meta m = load_meta(dir + "/world/meta.yaml");
  const auto again = run_task("GenerateTiles", m, TaskOptions{}, MPI_COMM_WORLD);
  EXPECT_EQ(again.tiles, 1);  // only the incomplete tile is made again
  EXPECT_EQ(again.skipped, again.scenes - 1);
  if (test_util::world_rank() == 0) {
    const auto a = test_util::folder_contents(dir + "/world"),
               b = test_util::folder_contents(dir + "/one");
    EXPECT_TRUE(a.at("triplets/train/00003_neighbor.png") ==
                b.at("triplets/train/00003_neighbor.png"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) fs::remove_all(dir);
}

TEST(TilesPipeline, BadInputsFailOnEveryRank) {
  const std::string dir = test_util::shared_temp_dir("tiles_bad");
  // A lat/lon LES source with a domain far from it.
  test_util::write_tiles_meta(dir + "/far", R"(
source: LES
type: singlechannel__rlut
domain: {central_latitude: 40.0, central_longitude: 10.0, l_zonal: 20.0e+3, l_meridional: 20.0e+3}
sampling: {resolution: 500.0}
synthetic_les: {nx: 40, ny: 40, nt: 2, dx: 1000.0, coordinates: latlon}
)");
  try {
    run_task("GenerateCroppedScenes", load_meta(dir + "/far/meta.yaml"), TaskOptions{},
             MPI_COMM_WORLD);
    ADD_FAILURE() << "no error for a domain outside the source";
  } catch (const fluxrecon::Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("not entirely inside the source"), std::string::npos)
        << e.what();
  }
  // The same source with a domain inside it works and is geolocated.
  test_util::write_tiles_meta(dir + "/near", R"(
source: LES
type: singlechannel__rlut
domain: {central_latitude: 13.3, central_longitude: -57.5, l_zonal: 20.0e+3, l_meridional: 16.0e+3}
sampling: {resolution: 500.0}
synthetic_les: {nx: 40, ny: 40, nt: 2, dx: 1000.0, coordinates: latlon}
)");
  const auto s = run_task("GenerateRegriddedScenes", load_meta(dir + "/near/meta.yaml"),
                          TaskOptions{}, MPI_COMM_WORLD);
  EXPECT_EQ(s.scenes, 2);
  EXPECT_DOUBLE_EQ(s.megapixels, 2 * 40 * 32 * 1e-6);
  // More collections than the scenes allow.
  test_util::write_tiles_meta(dir + "/few", R"(
source: LES
type: singlechannel__rlut
sampling: {resolution: 200.0, triplets: {N_triplets: {train: 4, study: 4}, tile_N: 16}}
synthetic_les: {nx: 64, ny: 64, nt: 3, dx: 200.0}
)");
  try {
    run_task("GenerateTiles", load_meta(dir + "/few/meta.yaml"), TaskOptions{}, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error for N_triplets the scenes cannot hold";
  } catch (const fluxrecon::Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("of the 3 scenes"), std::string::npos) << e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) fs::remove_all(dir);
}
