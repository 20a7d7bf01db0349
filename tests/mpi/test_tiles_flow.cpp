// `tiles flow` end to end on synthetic LES scenes that cross midnight (two
// days, so two groups): the trajectories and frames made on all ranks are
// byte for byte those of one rank, they follow the generator's wind, reruns
// skip complete groups and redo an incomplete one, and bad inputs fail on
// every rank naming what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "io/grid_file.hpp"
#include "support/mpi_test_util.hpp"
#include "support/tiles_test_util.hpp"
#include "tiles/flow_task.hpp"
#include "tiles/meta.hpp"
#include "tiles/png.hpp"
#include "tiles/tasks.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {

// Wind 5 m/s east, 2 m/s north on 200 m cells every 10 minutes: the clouds
// move 15 columns east and 6 rows north between scenes.
const char* kMeta = R"(
source: LES
type: singlechannel__rlut
time: {t_start: 2020-02-02T23:30, t_end: 2020-02-03T00:30}
sampling: {resolution: 200.0}
seed: 3
synthetic_les: {nx: 128, ny: 112, nt: 6, dx: 200.0, t_start: 2020-02-02T23:30, u: 5.0, v: 2.0,
                cloud_fraction: 0.4}
)";

TaskOptions flow_options() {
  TaskOptions opt;
  opt.flow.min_distance = 8;
  opt.flow.max_corners = 60;
  opt.flow.min_corners = 10;
  opt.flow.window = 21;
  opt.flow.levels = 2;
  return opt;
}

std::vector<float> read_float(const std::string& path, const std::string& var, int ns, int nt) {
  auto f = fluxrecon::io::GridFile::open(path, MPI_COMM_SELF);
  std::vector<float> v(static_cast<size_t>(ns) * nt);
  f->read(var, {0, 0}, {ns, nt}, v.data());
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

}  // namespace

TEST(TilesFlow, SameTrajectoriesOnAnyRankCountFollowingTheWind) {
  const std::string dir = test_util::shared_temp_dir("tiles_flow");
  test_util::write_tiles_meta(dir + "/world", kMeta);
  test_util::write_tiles_meta(dir + "/one", kMeta);
  const auto s =
      run_task("flow", load_meta(dir + "/world/meta.yaml"), flow_options(), MPI_COMM_WORLD);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.scenes, 6);
  EXPECT_EQ(s.written, 2);
  EXPECT_EQ(s.pairs, 4);
  EXPECT_GT(s.points_tracked, 0);
  if (test_util::world_rank() == 0)
    run_task("flow", load_meta(dir + "/one/meta.yaml"), flow_options(), MPI_COMM_SELF);
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) {
    const auto a = test_util::folder_contents(dir + "/world/rect/trajectories", false),
               b = test_util::folder_contents(dir + "/one/rect/trajectories", false);
    // Per day: trajectories, dense field, a frame per scene.
    EXPECT_EQ(a.size(), 2u + 2u + 6u);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, bytes] : a) {
      ASSERT_TRUE(b.count(name)) << name;
      EXPECT_TRUE(bytes == b.at(name)) << name << " differs between the all-rank and one-rank runs";
    }
    for (const char* prefix : {"LES__20200202", "LES__20200203"}) {
      const std::string nc = flow_trajectories_path(dir + "/world", prefix);
      ASSERT_TRUE(a.count(std::string(prefix) + ".flow_trajectories.nc")) << prefix;
      const auto png = read_png(flow_frame_path(dir + "/world", prefix, 2));
      EXPECT_EQ(png.width, 127);  // the as_source domain grid
      EXPECT_EQ(png.height, 111);
      auto f = fluxrecon::io::GridFile::open(nc, MPI_COMM_SELF);
      const int ns = static_cast<int>(f->dimension_length("scene_id")),
                nt = static_cast<int>(f->dimension_length("traj_id"));
      EXPECT_EQ(ns, 3);
      EXPECT_GE(nt, 10);
      EXPECT_EQ(f->text_attribute("", "scene_ids").value_or(""),
                std::string(prefix) + (prefix[12] == '2' ? "2330 " : "0000 ") + prefix +
                    (prefix[12] == '2' ? "2340 " : "0010 ") + prefix +
                    (prefix[12] == '2' ? "2350" : "0020"));
      const auto fi = read_float(nc, "i_subpixel", ns, nt),
                 fj = read_float(nc, "j_subpixel", ns, nt);
      std::vector<double> x(fi.size()), lat(fi.size());
      f->read("x", {0, 0}, {ns, nt}, x.data());
      f->read("lat", {0, 0}, {ns, nt}, lat.data());
      const auto ci = read_float(nc, "i", ns, nt);
      std::vector<double> di, dj;
      for (int k = 1; k < ns; ++k)
        for (int p = 0; p < nt; ++p) {
          const size_t a0 = static_cast<size_t>(k - 1) * nt + p, a1 = a0 + nt;
          if (std::isnan(fi[a1]) || std::isnan(fi[a0])) continue;
          di.push_back(fi[a1] - fi[a0]);
          dj.push_back(fj[a1] - fj[a0]);
        }
      for (size_t k = 0; k < x.size(); ++k) {
        EXPECT_EQ(std::isnan(x[k]), ci[k] < 0) << "x is the cell's where the point is inside";
        EXPECT_TRUE(std::isnan(lat[k])) << "an x/y source has no latitude";
      }
      ASSERT_GE(di.size(), static_cast<size_t>(nt));  // most points survive one step
      EXPECT_NEAR(median(di), 15.0, 0.3) << prefix;
      EXPECT_NEAR(median(dj), 6.0, 0.3) << prefix;
      // The dense field of each pair follows the same wind (u east, v north).
      const std::string field = flow_field_path(dir + "/world", prefix);
      auto ff = fluxrecon::io::GridFile::open(field, MPI_COMM_SELF);
      const int np = static_cast<int>(ff->dimension_length("pair")),
                gy = static_cast<int>(ff->dimension_length("gy")),
                gx = static_cast<int>(ff->dimension_length("gx"));
      EXPECT_EQ(np, ns - 1);
      EXPECT_EQ(gx, 127 / flow_options().flow.field_step);
      EXPECT_EQ(gy, 111 / flow_options().flow.field_step);
      std::vector<float> u(static_cast<size_t>(np) * gy * gx), v(u.size());
      ff->read("u", {0, 0, 0}, {np, gy, gx}, u.data());
      ff->read("v", {0, 0, 0}, {np, gy, gx}, v.data());
      std::vector<double> fu, fv;
      for (size_t k = 0; k < u.size(); ++k)
        if (!std::isnan(u[k])) fu.push_back(u[k]), fv.push_back(v[k]);
      ASSERT_GE(fu.size(), u.size() / 2) << "most grid points tracked";
      EXPECT_NEAR(median(fu), 15.0, 0.3) << prefix;
      EXPECT_NEAR(median(fv), 6.0, 0.3) << prefix;
    }
    // An interrupted run: a frame lost.
    fs::remove(flow_frame_path(dir + "/world", "LES__20200203", 1));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto again =
      run_task("flow", load_meta(dir + "/world/meta.yaml"), flow_options(), MPI_COMM_WORLD);
  EXPECT_EQ(again.written, 1);
  EXPECT_EQ(again.skipped, 1);
  const auto third =
      run_task("flow", load_meta(dir + "/world/meta.yaml"), flow_options(), MPI_COMM_WORLD);
  EXPECT_EQ(third.written, 0);
  EXPECT_EQ(third.skipped, 2);
  EXPECT_EQ(third.pairs, 0);
  if (test_util::world_rank() == 0) {
    const auto a = test_util::folder_contents(dir + "/world/rect/trajectories", false),
               b = test_util::folder_contents(dir + "/one/rect/trajectories", false);
    for (const auto& [name, bytes] : b) EXPECT_TRUE(a.count(name) && a.at(name) == bytes) << name;
  }

  // Bad inputs: too few corners anywhere, no scene left by the filter.
  auto opt = flow_options();
  opt.flow.min_corners = 100000;
  const Meta m = load_meta(dir + "/world/meta.yaml");
  fs::path out = flow_trajectories_path(dir + "/world", "LES__20200202");
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) fs::remove_all(out.parent_path());
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    run_task("flow", m, opt, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error for too few corners";
  } catch (const fluxrecon::Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("has 100000 or more corners"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--min-corners"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing half-written";
  opt = flow_options();
  opt.scene_filter = "GOES";
  try {
    run_task("flow", m, opt, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error for no scenes";
  } catch (const fluxrecon::Error& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("no scenes"), std::string::npos) << e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) fs::remove_all(dir);
}
