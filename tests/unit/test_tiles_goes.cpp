// goes16 sources on small synthetic ABI L1b files written here in the real
// format (Rad and DQF on packed integers, scan-angle x/y, goes_imager_projection,
// Planck constants, kappa0, standard file names in the S3 folder layout).
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/nc_writer.hpp"
#include "kernels/tiles_goes_nav.hpp"
#include "tiles/dataset.hpp"
#include "tiles/goes_names.hpp"
#include "tiles/goes_source.hpp"
#include "tiles/scene.hpp"
#include "tiles/tasks.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;
using fluxrecon::io::NcType;

namespace {

constexpr double kFk1 = 10803.3, kFk2 = 1392.74, kBc1 = 0.0755, kBc2 = 0.99975, kKappa0 = 0.0015;

double radiance(int channel, double x, double y) {
  return channel >= 7 ? 90 + 5 * std::sin(2000 * x) + 5 * std::cos(2000 * y) : 40.0 * channel;
}

struct AbiFile {
  AbiFile(int ch, Seconds t, double scan_step = 56e-6, bool with_planck = true,
          std::string l2_product = "")
      : channel(ch), start(t), step(scan_step), planck(with_planck), l2(std::move(l2_product)) {}
  int channel;
  Seconds start;
  double step;  // scan-angle step (rad): 56 urad is 2 km at nadir
  bool planck;
  std::string l2;  // an L2 product (one field "HT" in metres) instead of radiances
};

// A block of the full-disk fixed grid around (13.3 N, 57.5 W), +-radius pixels.
std::string write_abi(const std::string& root, const AbiFile& a, int radius) {
  const Civil c = civil(a.start);
  char name[160];
  const std::string kind = a.l2.empty() ? "L1b-RadF-M6C" + std::string(a.channel < 10 ? "0" : "") +
                                              std::to_string(a.channel)
                                        : "L2-" + a.l2 + "F-M6";
  std::snprintf(
      name, sizeof name,
      "OR_ABI-%s_G16_s%04d%03d%02d%02d%02d2_e%04d%03d%02d%02d%02d4_c%04d%03d%02d%02d%02d9.nc",
      kind.c_str(), c.year, day_of_year(a.start), c.hour, c.minute, c.second, c.year,
      day_of_year(a.start), c.hour, c.minute + 9, 30, c.year, day_of_year(a.start), c.hour,
      c.minute + 9, 59);
  const std::string dir = root + "/source_data/goes16/" +
                          (a.l2.empty() ? goes_l1b_folder(a.start) : goes_l2_folder(a.l2, a.start));
  fs::create_directories(dir);
  const std::string path = dir + name;
  fluxrecon::kernels::GoesNav nav;
  double xc, yc;
  nav.to_scan(13.3, -57.5, xc, yc);
  const long ic = std::lround(xc / a.step), jc = std::lround(yc / a.step);
  const int n = 2 * radius + 1;
  fluxrecon::io::NcWriter w(path, MPI_COMM_SELF, fluxrecon::io::WriteFormat::offset64);
  w.define_dimension("y", n);
  w.define_dimension("x", n);
  w.define_variable("x", NcType::int32, {"x"});
  w.define_variable("y", NcType::int32, {"y"});
  w.put_attribute("x", "scale_factor", NcType::float64, {a.step});
  w.put_attribute("x", "add_offset", NcType::float64, {0.0});
  w.put_attribute("x", "units", "rad");
  w.put_attribute("y", "scale_factor", NcType::float64, {-a.step});  // y decreases southwards
  w.put_attribute("y", "add_offset", NcType::float64, {0.0});
  w.put_attribute("y", "units", "rad");
  const std::string field = a.l2.empty() ? "Rad" : "HT";
  w.define_variable(field, NcType::int32, {"y", "x"});
  w.put_attribute(field, "scale_factor", NcType::float64, {0.001});
  w.put_attribute(field, "add_offset", NcType::float64, {0.0});
  w.put_attribute(field, "_FillValue", NcType::int32, {-1});
  w.put_attribute(field, "units", a.l2.empty() ? "mW m-2 sr-1 (cm-1)-1" : "m");
  w.put_attribute(field, "grid_mapping", "goes_imager_projection");
  w.define_variable("DQF", NcType::byte, {"y", "x"});
  w.define_variable("goes_imager_projection", NcType::int32, {});
  w.put_attribute("goes_imager_projection", "grid_mapping_name", "geostationary");
  w.put_attribute("goes_imager_projection", "perspective_point_height", NcType::float64,
                  {35786023.0});
  w.put_attribute("goes_imager_projection", "semi_major_axis", NcType::float64, {6378137.0});
  w.put_attribute("goes_imager_projection", "semi_minor_axis", NcType::float64, {6356752.31414});
  w.put_attribute("goes_imager_projection", "longitude_of_projection_origin", NcType::float64,
                  {-75.0});
  w.put_attribute("goes_imager_projection", "sweep_angle_axis", "x");
  const std::vector<std::string> scalars =
      a.planck ? std::vector<std::string>{"planck_fk1", "planck_fk2", "planck_bc1", "planck_bc2",
                                          "kappa0"}
               : std::vector<std::string>{"kappa0"};
  for (const auto& s : scalars) w.define_variable(s, NcType::float64, {});
  w.end_definitions();
  std::vector<std::int32_t> xi(n), yi(n), rad(static_cast<size_t>(n) * n);
  std::vector<signed char> dqf(rad.size(), 0);
  for (int k = 0; k < n; ++k) {
    xi[k] = static_cast<std::int32_t>(ic - radius + k);
    yi[k] = static_cast<std::int32_t>(-(jc + radius - k));  // stored negated with scale -step
  }
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i)
      rad[static_cast<size_t>(j) * n + i] = static_cast<std::int32_t>(std::lround(
          (a.l2.empty() ? radiance(a.channel, xi[i] * a.step, -yi[j] * a.step) : 1000.0 + i) /
          0.001));
  dqf[0] = 3;  // one pixel without a value
  w.write("x", {0}, {n}, xi.data());
  w.write("y", {0}, {n}, yi.data());
  w.write(field, {0, 0}, {n, n}, rad.data());
  w.write("DQF", {0, 0}, {n, n}, dqf.data());
  const std::map<std::string, double> values = {{"planck_fk1", kFk1},
                                                {"planck_fk2", kFk2},
                                                {"planck_bc1", kBc1},
                                                {"planck_bc2", kBc2},
                                                {"kappa0", kKappa0}};
  for (const auto& s : scalars) {
    const double v = values.at(s);
    w.write(s, {}, {}, &v);
  }
  w.close();
  return path;
}

std::string temp_root() {
  const auto d = fs::temp_directory_path() / ("fr_tiles_goes_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

Meta goes_meta(const std::string& root, const std::string& type, const std::string& extra = "") {
  return meta_from_text(
      "source: goes16\ntype: " + type +
          "\ntime: {N_days: 1, t_start: 2020-02-02 10:00, filters: {N_hours_from_zenith: 0.2}}\n"
          "domain: {central_latitude: 13.3, central_longitude: -57.5, l_zonal: 100.0e+3, "
          "l_meridional: 80.0e+3}\nsampling:\n  resolution: 4000.0\n  triplets: {N_triplets: "
          "{train: 2}, tile_N: 8, neigh_dist_scaling: 1.0}\n" +
          extra,
      "meta.yaml", root);
}

class TilesGoes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = temp_root();
    for (int m : {30, 40, 50, 60, 70}) {
      const Seconds t = make_time(2020, 2, 2, 15, 0, 20) + m * 60;
      write_abi(root_, {13, t}, 40);
      if (m == 40 || m == 60) write_abi(root_, {-1, t + 60, 280e-6, true, "ACHA"}, 10);
      if (m == 40 || m == 50) {
        write_abi(root_, {1, t, 56e-6}, 40);
        write_abi(root_, {2, t, 28e-6}, 80);
        if (m == 40) write_abi(root_, {3, t, 56e-6}, 40);  // 15:50 lacks channel 3
      }
    }
    write_abi(root_, {14, make_time(2020, 2, 2, 15, 40, 20), 56e-6, false}, 40);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string root_;
};
std::string TilesGoes::root_;

}  // namespace

TEST_F(TilesGoes, ZenithFilteredSceneIdsFromLocalFiles) {
  const Meta m = goes_meta(root_, "singlechannel__bt_13");
  const auto scenes = find_goes_scenes(m, m.product, true);
  ASSERT_EQ(scenes.size(), 3u);
  EXPECT_EQ(scenes[0].scene_id, "goes16__202002021540");
  EXPECT_EQ(scenes[1].scene_id, "goes16__202002021550");
  EXPECT_EQ(scenes[2].scene_id, "goes16__202002021600");
  EXPECT_EQ(find_goes_scenes(m, m.product, false).size(), 5u);  // intervals only (aux queries)
  // A time is a scene only when every channel has a file.
  const Meta tc = goes_meta(root_, "truecolor_rgb");
  const auto rgb = find_goes_scenes(tc, tc.product, true);
  ASSERT_EQ(rgb.size(), 1u);
  EXPECT_EQ(rgb[0].files.size(), 3u);
}

TEST_F(TilesGoes, MissingFilesNameTheExpectedFiles) {
  const Meta m = goes_meta(root_, "singlechannel__bt_11");
  try {
    find_goes_scenes(m, m.product, true);
    ADD_FAILURE();
  } catch (const fluxrecon::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("channel 11"), std::string::npos) << msg;
    EXPECT_NE(
        msg.find("noaa-goes16/ABI-L1b-RadF/2020/033/10/OR_ABI-L1b-RadF-M6C11_G16_s20200331000*"),
        std::string::npos)
        << msg;
  }
}

TEST_F(TilesGoes, BrightnessTemperatureOnTheFilesGrid) {
  const Meta m = goes_meta(root_, "singlechannel__bt_13");
  const auto scenes = find_goes_scenes(m, m.product, true);
  const Scene s = load_source_scene(m, primary_product(m), scenes[0], scene_domain(m, Scene{}));
  ASSERT_EQ(s.nc(), 1);
  EXPECT_EQ(s.channels[0], "C13");
  EXPECT_EQ(s.units[0], "K");
  EXPECT_EQ(s.standard_names[0], "toa_brightness_temperature");
  EXPECT_LT(s.x.size(), 81u);  // only the block covering the domain is read
  EXPECT_LT(s.axes.dy, 0);
  for (size_t j = 0; j < s.y.size(); j += 7)
    for (size_t i = 0; i < s.x.size(); i += 5) {
      const double L = std::round(radiance(13, s.x[i], s.y[j]) / 0.001) * 0.001;
      EXPECT_NEAR(s.values[j * s.x.size() + i], brightness_temperature(L, kFk1, kFk2, kBc1, kBc2),
                  1e-3);
    }
  // Regridded onto the domain: 25 x 20 cells, all inside the data.
  TaskOptions opt;
  const auto sum = run_task("GenerateRegriddedScenes", m, opt, MPI_COMM_SELF);
  EXPECT_EQ(sum.scenes, 3);
  const auto g = read_gridded(rect_path(m, primary_product(m), "goes16__202002021550", "nc"));
  EXPECT_EQ(g.nx(), 25);
  EXPECT_EQ(g.ny(), 20);
  for (float v : g.values) EXPECT_TRUE(v > 200 && v < 330) << v;
  const auto tiles = run_task("GenerateTiles", m, opt, MPI_COMM_SELF);
  EXPECT_EQ(tiles.tiles, 6);
  EXPECT_TRUE(fs::exists(root_ + "/triplets/train/00001_distant.png"));
  // The tile's grid is centred on the geographic position its yml records, and that
  // position projects back onto the recorded x_c, y_c in the domain's frame (not mirrored).
  const auto loc = YAML::LoadFile(root_ + "/triplets/train/00000_anchor.yml")["loc"];
  const auto tile = read_gridded(root_ + "/triplets/train/00000_anchor.nc");
  ASSERT_EQ(tile.nx(), 8);
  const size_t c00 = 3 * 8 + 3, c11 = 4 * 8 + 4;
  EXPECT_NEAR(0.5 * (tile.lat[c00] + tile.lat[c11]), loc["central_latitude"].as<double>(), 1e-4);
  EXPECT_NEAR(0.5 * (tile.lon[c00] + tile.lon[c11]), loc["central_longitude"].as<double>(), 1e-4);
  double x, y;
  Laea(13.3, -57.5)
      .forward(loc["central_latitude"].as<double>(), loc["central_longitude"].as<double>(), x, y);
  EXPECT_NEAR(x, loc["x_c"].as<double>(), 0.01);
  EXPECT_NEAR(y, loc["y_c"].as<double>(), 0.01);
}

TEST_F(TilesGoes, TrueColourFromThreeResolutions) {
  const Meta m = goes_meta(root_, "truecolor_rgb");
  const auto scenes = find_goes_scenes(m, m.product, true);
  const Scene s = load_source_scene(m, primary_product(m), scenes[0], scene_domain(m, Scene{}));
  ASSERT_EQ(s.nc(), 3);
  EXPECT_EQ(s.render, Render::truecolor);
  EXPECT_NEAR(s.axes.dx, 28e-6, 1e-12);  // the finest channel's grid (channel 2)
  const size_t n = s.x.size() * s.y.size();
  const double c01 = 100 * kKappa0 * 40, c02 = 100 * kKappa0 * 80, c03 = 100 * kKappa0 * 120;
  int checked = 0;
  for (size_t k = 1000; k < n; k += 997) {
    const double r = s.values[k], g = s.values[n + k], b = s.values[2 * n + k];
    const double factor = b / c01;  // 1 / cos(solar zenith angle)
    EXPECT_NEAR(r, c02 * factor, 1e-3 * r);
    EXPECT_NEAR(g, 0.465 * c01 * factor + 0.465 * c02 * factor + 0.07 * c03 * factor, 1e-3 * g);
    // Near local noon at 57.5 W in February the sun is about 30 degrees from the zenith.
    EXPECT_GT(factor, 1.05);
    EXPECT_LT(factor, 1.35);
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

TEST_F(TilesGoes, BadFilesAndDomains) {
  const Meta m = goes_meta(root_, "singlechannel__bt_14");
  const auto scenes = find_goes_scenes(m, m.product, true);
  ASSERT_EQ(scenes.size(), 1u);
  try {
    load_source_scene(m, primary_product(m), scenes[0], scene_domain(m, Scene{}));
    ADD_FAILURE();
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'planck_fk1'"), std::string::npos) << e.what();
  }
  const Meta far = goes_meta(root_, "singlechannel__bt_13");
  Domain d = scene_domain(far, Scene{});
  d.central_longitude = 100.0;  // behind the Earth for GOES-East
  EXPECT_THROW(
      load_source_scene(far, primary_product(far), find_goes_scenes(far, far.product, true)[0], d),
      fluxrecon::Error);
}

TEST_F(TilesGoes, L2AuxProductMatchedAndRegridded) {
  const Meta m = goes_meta(root_, "singlechannel__bt_13",
                           "aux_products:\n  cth: {source: goes16, type: ACHA, dt_aux: PT20M}\n");
  TaskOptions opt;
  opt.aux_name = "cth";
  const auto s = run_task("GenerateRegriddedScenes", m, opt, MPI_COMM_SELF);
  // ACHA at 15:41 and 16:01 (one every 20 min): nearest scenes 15:40 and 16:00, within 10 min.
  EXPECT_EQ(s.scenes, 2);
  const auto g = read_gridded(rect_path(m, aux_product(m, "cth"), "goes16__202002021600", "nc"));
  EXPECT_EQ(g.name, "cth");
  EXPECT_EQ(g.channels, std::vector<std::string>{"HT"});
  EXPECT_EQ(g.units, std::vector<std::string>{"m"});
  for (float v : g.values)
    EXPECT_TRUE(v >= 1000 && v <= 1020 && v == std::round(v)) << v;  // nearest
  EXPECT_THROW(goes_meta(root_, "ACHA"), fluxrecon::Error);          // L2 only as an aux product
}
