// Projection, grids, GOES navigation, regridding kernels, PNG images, the
// synthetic LES generator and the LES reader.
#include <gtest/gtest.h>
#include <proj.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "kernels/tiles_goes_nav.hpp"
#include "tiles/les_source.hpp"
#include "tiles/png.hpp"
#include "tiles/projection.hpp"
#include "tiles/regrid.hpp"
#include "tiles/render.hpp"
#include "tiles/synth_les.hpp"

using namespace fluxrecon::tiles;
namespace fs = std::filesystem;

namespace {
std::string temp_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("fr_tiles_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

Scene lonlat_scene(double dlat) {
  Scene s;
  s.scene_id = "test__202002021200";
  for (double lon = -62; lon <= -53 + 1e-9; lon += dlat) s.x.push_back(lon);
  for (double lat = 9; lat <= 18 + 1e-9; lat += dlat) s.y.push_back(lat);
  set_axes(s, fluxrecon::kernels::source_lonlat, "test");
  s.channels = {"phi"};
  s.units = {"1"};
  s.standard_names = {""};
  for (double lat : s.y)
    for (double lon : s.x)
      s.values.push_back(
          static_cast<float>(std::sin(4 * lat * M_PI / 180) * std::cos(4 * lon * M_PI / 180)));
  return s;
}
}  // namespace

TEST(TilesProjection, LaeaRoundTripWithinNanoDegrees) {
  Laea p(13.3, -57.5);
  for (double lat : {-10.0, 0.0, 13.3, 20.0, 45.0})
    for (double lon : {-80.0, -57.5, -40.0}) {
      double x, y, lat2, lon2;
      p.forward(lat, lon, x, y);
      p.inverse(x, y, lat2, lon2);
      // PROJ's ellipsoidal LAEA inverse is good to about 1.5 mm (1.4e-8 degrees).
      EXPECT_NEAR(lat2, lat, 2e-8);
      EXPECT_NEAR(lon2, lon, 2e-8);
    }
  double x, y;
  p.forward(13.3, -57.5, x, y);
  EXPECT_NEAR(x, 0, 1e-6);
  EXPECT_NEAR(y, 0, 1e-6);
  // One degree of latitude north of the centre: about 110.6 km on WGS84 at 13 N.
  p.forward(14.3, -57.5, x, y);
  EXPECT_NEAR(y, 110.65e3, 200);
  EXPECT_NEAR(x, 0, 1e-6);
}

TEST(TilesProjection, GridSizesAndCellCentres) {
  EXPECT_EQ(cells_per_side(2500, 1000), 2);  // half to even, as numpy
  EXPECT_EQ(cells_per_side(3500, 1000), 4);
  Domain d{true, 13.3, -57.5, 0, 0, 400e3, 400e3};
  Grid g = make_grid(d, 1000);
  EXPECT_EQ(g.nx, 400);
  EXPECT_EQ(g.ny, 400);
  EXPECT_DOUBLE_EQ(g.x.front(), -199500);
  EXPECT_DOUBLE_EQ(g.x.back(), 199500);
  ASSERT_EQ(g.lat.size(), 400u * 400u);
  // The centre of the domain lies between the four middle cells.
  EXPECT_NEAR(0.5 * (g.lat[199 * 400 + 199] + g.lat[200 * 400 + 200]), 13.3, 1e-3);
  Domain tile{true, 13.0, -57.0, 0, 0, 256e3, 256e3};
  g = make_grid(tile, 1000);
  EXPECT_EQ(g.nx, 256);
  EXPECT_DOUBLE_EQ(g.x.front(), -127500);
  EXPECT_DOUBLE_EQ(g.x.back(), 127500);
  Domain cart{false, 0, 0, 5000, 2000, 1000, 600};
  g = make_grid(cart, 100);
  EXPECT_EQ(g.nx, 10);
  EXPECT_EQ(g.ny, 6);
  EXPECT_DOUBLE_EQ(g.x.front(), 4550);
  EXPECT_TRUE(g.lat.empty());
}

TEST(TilesProjection, GoesNavigationRoundTripAndAgreesWithProj) {
  fluxrecon::kernels::GoesNav nav;
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* geos =
      proj_create(ctx, "+proj=geos +h=35786023 +a=6378137 +b=6356752.31414 +lon_0=-75 +sweep=x");
  ASSERT_NE(geos, nullptr);
  for (double lat : {-40.0, 0.0, 13.3, 45.0})
    for (double lon : {-110.0, -75.0, -57.5, -30.0}) {
      double x, y, lat2, lon2;
      nav.to_scan(lat, lon, x, y);
      nav.to_latlon(x, y, lat2, lon2);
      EXPECT_NEAR(lat2, lat, 1e-9);
      EXPECT_NEAR(lon2, lon, 1e-9);
      PJ_COORD c = proj_coord(proj_torad(lon), proj_torad(lat), 0, 0);
      c = proj_trans(geos, PJ_FWD, c);
      EXPECT_NEAR(x, c.xy.x / 35786023.0, 1e-9);
      EXPECT_NEAR(y, c.xy.y / 35786023.0, 1e-9);
    }
  double x, y;
  nav.to_scan(0, 120, x, y);  // the far side of the Earth
  EXPECT_TRUE(std::isnan(x));
  nav.to_latlon(0.2, 0.2, x, y);  // off the disk
  EXPECT_TRUE(std::isnan(x));
  proj_destroy(geos);
  proj_context_destroy(ctx);
}

TEST(TilesRegrid, SmoothAnalyticFieldWithinInterpolationBounds) {
  const double h = 0.05;
  const Scene s = lonlat_scene(h);
  const Domain d{true, 13.3, -57.5, 0, 0, 600e3, 400e3};
  const Grid g = make_grid(d, 10e3);
  const auto bil = regrid(s, g, Method::bilinear);
  const auto near = regrid(s, g, Method::nearest);
  const double hr = h * M_PI / 180;
  // Bilinear: |e| <= (hx^2 |f_xx| + hy^2 |f_yy|) / 8 with |f''| <= 16; nearest: |grad| h / sqrt(2).
  const double bound_bilinear = 2 * 16 * hr * hr / 8 + 1e-6,
               bound_nearest = 4 * std::sqrt(2.0) * hr / std::sqrt(2.0) * 1.01 + 1e-6;
  double worst_b = 0, worst_n = 0;
  for (size_t k = 0; k < g.lat.size(); ++k) {
    const double exact = std::sin(4 * g.lat[k] * M_PI / 180) * std::cos(4 * g.lon[k] * M_PI / 180);
    worst_b = std::max(worst_b, std::abs(bil[k] - exact));
    worst_n = std::max(worst_n, std::abs(near[k] - exact));
  }
  EXPECT_LT(worst_b, bound_bilinear);
  EXPECT_LT(worst_n, bound_nearest);
  EXPECT_GT(worst_n, worst_b);  // the nearest neighbour is visibly coarser
  // Outside the source footprint: NaN.
  const Grid far = make_grid(Domain{true, 30, -57.5, 0, 0, 100e3, 100e3}, 10e3);
  for (float v : regrid(s, far, Method::bilinear)) EXPECT_TRUE(std::isnan(v));
}

TEST(TilesRegrid, CartesianNearestReproducesSourceCells) {
  Scene s;
  s.scene_id = "LES__202002021200";
  for (int i = 0; i < 20; ++i) s.x.push_back(50 + 100 * i);
  for (int j = 0; j < 10; ++j) s.y.push_back(50 + 100 * j);
  set_axes(s, fluxrecon::kernels::source_xy, "test");
  s.channels = {"a", "b"};
  s.units = s.standard_names = {"", ""};
  for (int c = 0; c < 2; ++c)
    for (int j = 0; j < 10; ++j)
      for (int i = 0; i < 20; ++i) s.values.push_back(static_cast<float>(c * 1000 + j * 20 + i));
  const Grid g = make_grid(Domain{false, 0, 0, 1000, 500, 1000, 600}, 100);
  const auto v = regrid(s, g, Method::nearest);
  ASSERT_EQ(v.size(), 2u * 6 * 10);
  // Target cell (i, j) centre x = 550 + 100 i -> source column 5 + i, row 2 + j.
  EXPECT_EQ(v[0], 2 * 20 + 5);
  EXPECT_EQ(v[60 + 5 * 10 + 9], 1000 + 7 * 20 + 14);
  const auto b = regrid(s, g, Method::bilinear);
  for (size_t k = 0; k < v.size(); ++k) EXPECT_FLOAT_EQ(b[k], v[k]);  // cell centres coincide
  EXPECT_THROW(regrid(s, make_grid(Domain{true, 0, 0, 0, 0, 1000, 1000}, 100), Method::nearest),
               fluxrecon::Error);
}

TEST(TilesImages, PngRoundTripAndNorthUp) {
  const std::string dir = temp_dir("png");
  std::vector<std::uint8_t> px;
  for (int k = 0; k < 5 * 3 * 4; ++k) px.push_back(static_cast<std::uint8_t>(k * 3));
  write_png(dir + "/a.png", 5, 3, 4, px);
  const auto img = read_png(dir + "/a.png");
  EXPECT_EQ(img.width, 5);
  EXPECT_EQ(img.height, 3);
  EXPECT_EQ(img.channels, 4);
  EXPECT_EQ(img.pixels, px);
  // A field increasing northwards: inverted scaling puts the (brightest) minimum at the bottom.
  std::vector<float> v = {0, 0, 1, 1, 2, NAN};
  const Image grey = render_planes(Render::grey, 1, 3, 2, v, true);
  EXPECT_EQ(grey.channels, 3);
  EXPECT_EQ(grey.pixels[0], 0);            // top row = max y = value 2
  EXPECT_EQ(grey.pixels[3], 0);            // NaN -> 0
  EXPECT_EQ(grey.pixels[2 * 2 * 3], 255);  // bottom row = value 0
  EXPECT_EQ(grey.pixels[1 * 2 * 3], 127);  // 255 * 0.5 truncated
  // (log10(1) - log10(0.0223)) / ((1 - log10(0.0223)) * 0.75) by hand: 0.830510322.
  EXPECT_NEAR(cira_stretch(100.0), 0.830510322, 1e-9);
  EXPECT_NEAR(cira_stretch(2.23), 0.0, 1e-12);
  const Image tc = render_planes(Render::truecolor, 3, 1, 2, {100, NAN, 2.23f, 5, 50, 5}, true);
  EXPECT_EQ(tc.channels, 4);
  EXPECT_EQ(tc.pixels[3], 255);
  EXPECT_EQ(tc.pixels[7], 0);    // a NaN band makes the pixel transparent
  EXPECT_EQ(tc.pixels[0], 212);  // round(255 * 0.8305)
  EXPECT_EQ(tc.pixels[1], 0);
  fs::remove_all(dir);
}

TEST(TilesSynthetic, DeterministicCloudFieldOfTheRequestedFraction) {
  SyntheticLesSpec s;
  s.nx = s.ny = 128;
  s.dx = 200;
  s.cloud_fraction = 0.3;
  const auto a = synthetic_cloud_amount(s, 0), b = synthetic_cloud_amount(s, 0);
  EXPECT_EQ(a, b);
  s.seed = 2;
  EXPECT_NE(a, synthetic_cloud_amount(s, 0));
  s.seed = 1;
  EXPECT_NE(a, synthetic_cloud_amount(s, 1));  // advected and evolving
  double cloudy = 0;
  for (float c : a) cloudy += c > 0;
  EXPECT_NEAR(cloudy / a.size(), 0.3, 0.12);
}

TEST(TilesLes, WritesAndReadsScenes) {
  const std::string dir = temp_dir("les");
  Meta m = meta_from_text(
      "source: LES\ntype: multichannel__rlut__lwp\nsampling: {resolution: 400.0}\n"
      "time: {t_start: 2020-02-02T12:00, t_end: 2020-02-02T12:25}\n",
      "meta.yaml", dir);
  m.synthetic.nx = 64;
  m.synthetic.ny = 32;
  m.synthetic.nt = 5;
  m.synthetic.files = 2;
  m.synthetic.variables = {"rlut", "lwp"};
  m.synthetic.t_start = make_time(2020, 2, 2, 12);
  write_synthetic_les(m.synthetic, les_source_dir(m), MPI_COMM_SELF);
  const auto scenes = find_les_scenes(m, m.product, "*.nc");
  ASSERT_EQ(scenes.size(), 3u);  // 12:00, 12:10, 12:20 (12:30 and 12:40 are after t_end)
  EXPECT_EQ(scenes[1].scene_id, "LES__202002021210");
  EXPECT_EQ(scenes[2].time_index, 0);  // the second file starts at step 2
  const Scene s = read_les_scene(m, scenes[0], m.product);
  ASSERT_EQ(s.nc(), 2);
  EXPECT_EQ(s.x.size(), 64u);
  const auto c = synthetic_cloud_amount(m.synthetic, 0);
  for (size_t k = 0; k < c.size(); ++k) ASSERT_FLOAT_EQ(s.values[k], 290.0f - 70.0f * c[k]);
  EXPECT_EQ(s.axes.kind, fluxrecon::kernels::source_xy);
  EXPECT_DOUBLE_EQ(s.axes.dx, 200.0);
  // A scene that needs a variable the files lack.
  try {
    find_les_scenes(m, parse_product("LES", "singlechannel__qv", "type"), "*.nc");
    ADD_FAILURE() << "no error for a missing variable";
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'qv'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("les_synthetic_000.nc"), std::string::npos);
  }
  EXPECT_THROW(find_les_scenes(m, m.product, "*.nc4"), fluxrecon::Error);
  fs::remove_all(dir);
}
