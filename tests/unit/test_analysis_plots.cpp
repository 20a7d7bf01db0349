// Plotting layer: every plot kind writes a real PNG of the requested size,
// different data give different files, nothing is left half-written, and bad
// inputs are errors that name the plot and what was wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plot/plots.hpp"
#include "plot/png_info.hpp"
#include "support/mpi_test_util.hpp"

namespace fa = fluxrecon::plot;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A plot that is only a white page compresses to a few kilobytes; text,
// axes and data make it much larger.
constexpr std::uint64_t kNotBlankBytes = 12000;

void expect_png(const std::string& path, int width, int height) {
  ASSERT_TRUE(fs::exists(path)) << path;
  const fa::PngInfo info = fa::read_png_info(path);
  EXPECT_EQ(info.width, width);
  EXPECT_EQ(info.height, height);
  EXPECT_GT(info.file_bytes, kNotBlankBytes) << path << " looks blank";
  // No temporary file is left next to the plot.
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(entry.path().filename().string().find(".part-"), std::string::npos) << entry.path();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const fluxrecon::Error& e) {
    return e.what();
  }
  return "";
}

fa::LinePlot loss_curve(double scale) {
  fa::LinePlot plot;
  plot.title = "Training vs validation MSE (LSTM)";
  plot.xlabel = "Epoch";
  plot.ylabel = "MSE (z-scored)";
  fa::Series train{"train", {}, {}, {}, false}, valid{"validation", {}, {}, {}, true};
  for (int e = 1; e <= 40; ++e) {
    train.x.push_back(e);
    train.y.push_back(scale * (0.2 + 1.0 / e));
    valid.x.push_back(e);
    valid.y.push_back(scale * (0.25 + 1.1 / e + 0.002 * e));
  }
  plot.series = {train, valid};
  plot.vertical_lines = {{24.0, "best epoch (24)"}};
  return plot;
}

}  // namespace

TEST(AnalysisPng, ReadsHeaderAndRejectsOtherFiles) {
  const auto dir = test_util::shared_temp_dir("png_info");
  const std::string text = dir + "/not_a_png.png";
  std::ofstream(text) << "this is text, long enough to hold a header.....";
  EXPECT_NE(error_of([&] { fa::read_png_info(text); }).find("not a PNG"), std::string::npos);
  EXPECT_NE(error_of([&] { fa::read_png_info(dir + "/missing.png"); }).find("missing.png"),
            std::string::npos);
}

TEST(AnalysisPlots, LossCurveIsAPngOfTheRequestedSize) {
  const auto dir = test_util::shared_temp_dir("plot_lines");
  auto plot = loss_curve(1.0);
  plot.width = 900;
  plot.height = 600;
  fa::plot_lines(dir + "/loss.png", plot);
  expect_png(dir + "/loss.png", 900, 600);

  // Other data, other picture; the same data, the same picture.
  fa::plot_lines(dir + "/loss_scaled.png", loss_curve(3.0));
  fa::plot_lines(dir + "/loss_again.png", loss_curve(3.0));
  EXPECT_NE(slurp(dir + "/loss.png"), slurp(dir + "/loss_scaled.png"));
  EXPECT_EQ(slurp(dir + "/loss_scaled.png"), slurp(dir + "/loss_again.png"));
}

TEST(AnalysisPlots, IntegerAxisTicksOnWholeUnits) {
  // Years and epochs: 1, 2 or 5 x 10^k with at most about 8 intervals.
  EXPECT_EQ(fa::integer_tick_step(0.5), 1.0);
  EXPECT_EQ(fa::integer_tick_step(2), 1.0);  // 3 years: 1975, 1976, 1977
  EXPECT_EQ(fa::integer_tick_step(8), 1.0);
  EXPECT_EQ(fa::integer_tick_step(9), 2.0);
  EXPECT_EQ(fa::integer_tick_step(30), 5.0);   // 31 epochs
  EXPECT_EQ(fa::integer_tick_step(60), 10.0);  // 1958-2018
  EXPECT_EQ(fa::integer_tick_step(99), 20.0);

  const auto dir = test_util::shared_temp_dir("plot_years");
  fa::LinePlot plot;
  plot.title = "Annual mean";
  plot.xlabel = "year";
  plot.ylabel = "flux";
  plot.series = {{"simulation", {1975, 1976, 1977}, {0.64, 0.62, 0.60}, {}, true}};
  fa::plot_lines(dir + "/fractional.png", plot);
  plot.integer_x = true;
  fa::plot_lines(dir + "/years.png", plot);
  expect_png(dir + "/years.png", plot.width, plot.height);
  EXPECT_NE(slurp(dir + "/fractional.png"), slurp(dir + "/years.png"));
}

TEST(AnalysisPlots, SeasonalCycleWithBandsGapsAndLogAxis) {
  const auto dir = test_util::shared_temp_dir("plot_bands");
  fa::LinePlot plot;
  plot.title = "Mean seasonal cycle";
  plot.xlabel = "Month";
  plot.ylabel = "CO#d2#u flux (mol m#u-2#d yr#u-1#d)";
  plot.x_tick_labels = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  fa::Series sim{"Simulation", {}, {}, {}, false}, rec{"Reconstruction", {}, {}, {}, true};
  for (int m = 1; m <= 12; ++m) {
    sim.x.push_back(m);
    rec.x.push_back(m);
    sim.y.push_back(1.5 + std::sin(m * 0.52));
    rec.y.push_back(m == 6 ? std::nan("") : 1.4 + std::sin(m * 0.5));  // a gap
    sim.std.push_back(0.3);
    rec.std.push_back(0.35);
  }
  plot.series = {sim, rec};
  fa::plot_lines(dir + "/seasonal.png", plot);
  expect_png(dir + "/seasonal.png", plot.width, plot.height);

  plot.log_y = true;  // bands below zero are cut at the axis
  fa::plot_lines(dir + "/seasonal_log.png", plot);
  expect_png(dir + "/seasonal_log.png", plot.width, plot.height);
  EXPECT_NE(slurp(dir + "/seasonal.png"), slurp(dir + "/seasonal_log.png"));
}

TEST(AnalysisPlots, BadLinePlotsAreErrorsAndWriteNothing) {
  const auto dir = test_util::shared_temp_dir("plot_lines_bad");
  const std::string png = dir + "/bad.png";
  fa::LinePlot empty;
  EXPECT_NE(error_of([&] { fa::plot_lines(png, empty); }).find("no series"), std::string::npos);

  auto plot = loss_curve(1.0);
  plot.series[1].y.pop_back();
  const auto mismatch = error_of([&] { fa::plot_lines(png, plot); });
  EXPECT_NE(mismatch.find("'validation' has 40 x values but 39 y values"), std::string::npos)
      << mismatch;
  EXPECT_NE(mismatch.find("bad.png"), std::string::npos) << mismatch;

  plot = loss_curve(1.0);
  plot.series[0].x.clear();
  plot.series[0].y.clear();
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("'train' is empty"),
            std::string::npos);

  plot = loss_curve(1.0);
  plot.series[0].y[3] = -1.0;
  plot.log_y = true;
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("log axis"), std::string::npos);

  plot = loss_curve(1.0);
  plot.series[0].std = {0.1, 0.2};
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("2 std values"), std::string::npos);

  plot = loss_curve(1.0);
  for (auto& s : plot.series)
    for (auto& y : s.y) y = std::nan("");
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("NaN"), std::string::npos);

  plot = loss_curve(1.0);
  plot.vertical_lines[0].x = std::nan("");
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("vertical line 'best epoch (24)'"),
            std::string::npos);

  plot = loss_curve(1.0);
  plot.width = 20;
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("width 20"), std::string::npos);
  EXPECT_FALSE(fs::exists(png));
  EXPECT_TRUE(fs::is_empty(dir));
}

// ------------------------------------------------------------------ maps

namespace {

// A 4-degree global regular grid with a smooth field; "land" (NaN) in a band.
fa::GeoGrid global_grid() {
  std::vector<double> lat, lon;
  for (double y = -78; y <= 78; y += 4) lat.push_back(y);
  for (double x = -178; x <= 178; x += 4) lon.push_back(x);
  return fa::regular_grid(lat, lon);
}

std::vector<double> field(const fa::GeoGrid& g, double phase) {
  std::vector<double> v(g.lat.size());
  for (std::size_t k = 0; k < v.size(); ++k) {
    const bool land = g.lon[k] > 10 && g.lon[k] < 40 && g.lat[k] > -30 && g.lat[k] < 30;
    v[k] = land ? std::nan("")
                : 1e-8 * (std::cos(g.lat[k] * M_PI / 90.0) +
                          0.5 * std::sin(g.lon[k] * M_PI / 180 + phase));
  }
  return v;
}

// An ORCA-like curvilinear grid: the i axis starts at 73E and wraps through
// the dateline, rows are tilted, so longitudes jump from 180 to -180 inside it.
fa::GeoGrid curvilinear_grid(int ny, int nx) {
  fa::GeoGrid g;
  g.ny = ny;
  g.nx = nx;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      double lon = 73.0 + 360.0 * i / nx + 3.0 * std::sin(j * 0.2);
      lon -= 360.0 * std::floor((lon + 180.0) / 360.0);
      g.lon.push_back(lon);
      g.lat.push_back(-77.0 + 150.0 * j / (ny - 1) + 2.0 * std::cos(i * 0.1));
    }
  return g;
}

}  // namespace

TEST(AnalysisPlots, SideBySideMapsOnRegularAndCurvilinearGrids) {
  const auto dir = test_util::shared_temp_dir("plot_maps");
  fa::MapPlot plot;
  plot.title = "CO#d2#u flux, January 2018 (LSTM)";
  plot.units = "CO#d2#u flux (mol m#u-2#d s#u-1#d)";
  plot.grid = global_grid();
  plot.panels = {{"Simulated", field(plot.grid, 0.0)}, {"Reconstructed", field(plot.grid, 0.3)}};
  plot.panel_width = 600;
  fa::plot_maps(dir + "/global.png", plot);
  const auto info = fa::read_png_info(dir + "/global.png");
  EXPECT_EQ(info.width, 1200);  // two panels side by side
  expect_png(dir + "/global.png", info.width, info.height);

  // The difference on a diverging scale centred on zero.
  fa::MapPlot diff = plot;
  diff.panels = {{"Reconstructed - simulated", {}}};
  for (std::size_t k = 0; k < plot.grid.lat.size(); ++k)
    diff.panels[0].values.push_back(plot.panels[1].values[k] - plot.panels[0].values[k]);
  diff.colour_map = fa::ColourMap::diverging;
  fa::plot_maps(dir + "/difference.png", diff);
  expect_png(dir + "/difference.png", 600, fa::read_png_info(dir + "/difference.png").height);
  EXPECT_NE(slurp(dir + "/global.png"), slurp(dir + "/difference.png"));

  // Curvilinear grid with a dateline seam; same picture size, other content.
  fa::MapPlot orca = plot;
  orca.grid = curvilinear_grid(40, 90);
  orca.panels = {{"Simulated", field(orca.grid, 0.0)}, {"Reconstructed", field(orca.grid, 0.3)}};
  fa::plot_maps(dir + "/curvilinear.png", orca);
  expect_png(dir + "/curvilinear.png", info.width, info.height);
  EXPECT_NE(slurp(dir + "/global.png"), slurp(dir + "/curvilinear.png"));
}

TEST(AnalysisPlots, RegionalAndCircumpolarExtents) {
  const auto dir = test_util::shared_temp_dir("plot_regions");
  const fa::GeoGrid g = global_grid();
  // A North-Atlantic-like box and a Pacific box across the dateline.
  std::vector<double> na(g.lat.size(), std::nan("")), pacific = na, southern = na;
  for (std::size_t k = 0; k < g.lat.size(); ++k) {
    const double v = std::sin(g.lat[k] * 0.1) * 1e-8;
    if (g.lat[k] >= 10 && g.lat[k] <= 66 && g.lon[k] >= -78 && g.lon[k] <= 0) na[k] = v;
    if (g.lat[k] >= -20 && g.lat[k] <= 20 && (g.lon[k] >= 150 || g.lon[k] <= -150)) pacific[k] = v;
    if (g.lat[k] <= -38) southern[k] = v + 1e-9 * std::cos(g.lon[k] * M_PI / 90);
  }
  const fa::MapExtent e_na = fa::extent_of(g, na);
  EXPECT_LT(e_na.lon_min, -78);
  EXPECT_GT(e_na.lon_max, -2);
  EXPECT_LT(e_na.lon_max, 10);
  EXPECT_EQ(fa::projection_for(e_na), fa::MapProjection::plate_carree);
  const fa::MapExtent e_pac = fa::extent_of(g, pacific);
  EXPECT_LT(e_pac.lon_min, 150);
  EXPECT_GT(e_pac.lon_min, 140);
  EXPECT_GT(e_pac.lon_max, 210);  // contiguous across the dateline
  EXPECT_LT(e_pac.lon_max, 220);
  const fa::MapExtent e_so = fa::extent_of(g, southern);
  EXPECT_DOUBLE_EQ(e_so.lon_max - e_so.lon_min, 360.0);
  EXPECT_LT(e_so.lat_max, -30);
  EXPECT_EQ(fa::projection_for(e_so), fa::MapProjection::south_polar_stereo);

  fa::MapPlot plot;
  plot.units = "mol m#u-2#d s#u-1#d";
  plot.grid = g;
  const std::vector<std::pair<std::string, std::vector<double>>> regions = {
      {"north_atlantic", na}, {"pacific", pacific}, {"southern", southern}};
  std::vector<std::string> files;
  for (const auto& [name, values] : regions) {
    plot.title = name;
    plot.panels = {{"Simulated", values}, {"Reconstructed", values}};
    plot.extent = fa::extent_of(g, values);
    plot.projection = fa::projection_for(plot.extent);
    const std::string png = dir + "/" + name + ".png";
    fa::plot_maps(png, plot);
    const auto info = fa::read_png_info(png);
    expect_png(png, info.width, info.height);
    files.push_back(slurp(png));
  }
  EXPECT_NE(files[0], files[1]);
  EXPECT_NE(files[1], files[2]);
  // The circumpolar view is square per panel.
  const auto so = fa::read_png_info(dir + "/southern.png");
  EXPECT_GT(so.height, 600);
}

TEST(AnalysisPlots, BadMapsAreErrors) {
  const auto dir = test_util::shared_temp_dir("plot_maps_bad");
  const std::string png = dir + "/bad.png";
  fa::MapPlot plot;
  plot.grid = global_grid();
  plot.panels = {{"Simulated", field(plot.grid, 0)}};

  auto bad = plot;
  bad.panels[0].values.pop_back();
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("panel 'Simulated' has"),
            std::string::npos);
  bad = plot;
  bad.panels.clear();
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("no panels"), std::string::npos);
  bad = plot;
  std::fill(bad.panels[0].values.begin(), bad.panels[0].values.end(), std::nan(""));
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("NaN"), std::string::npos);
  bad = plot;
  bad.grid.lat.pop_back();
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("latitudes"), std::string::npos);
  bad = plot;
  bad.extent = {0, 400, -90, 90};
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("longitude range"), std::string::npos);
  bad = plot;
  bad.projection = fa::MapProjection::south_polar_stereo;  // extent reaches 90N
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("south polar"), std::string::npos);
  bad = plot;
  bad.vmin = 1.0;
  bad.vmax = -1.0;
  EXPECT_NE(error_of([&] { fa::plot_maps(png, bad); }).find("colour range"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir));
}

// ------------------------------------------------------------------ scatter, bars

TEST(AnalysisPlots, DensityScatterFitsAndDraws) {
  const auto dir = test_util::shared_temp_dir("plot_scatter");
  fa::DensityScatter plot;
  plot.title = "LSTM, global, 2018";
  plot.xlabel = "Simulated CO#d2#u flux (mol m#u-2#d yr#u-1#d)";
  plot.ylabel = "Reconstructed CO#d2#u flux (mol m#u-2#d yr#u-1#d)";
  // Deterministic pseudo-random pairs: y = 0.9 x + 0.2 + noise.
  unsigned state = 12345;
  auto uniform = [&] {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) / 16777216.0;
  };
  for (int i = 0; i < 20000; ++i) {
    const double x = 4.0 * (uniform() + uniform() + uniform() - 1.5);
    plot.x.push_back(x);
    plot.y.push_back(0.9 * x + 0.2 + (uniform() - 0.5));
  }
  plot.x.push_back(std::nan(""));  // skipped
  plot.y.push_back(1.0);
  const fa::ScatterFit fit = fa::plot_density_scatter(dir + "/scatter.png", plot);
  expect_png(dir + "/scatter.png", plot.width, plot.height);

  // Independent reference: two-pass sums in long double.
  long double mx = 0, my = 0;
  const std::size_t n = plot.x.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    mx += plot.x[i];
    my += plot.y[i];
  }
  mx /= n;
  my /= n;
  long double sxx = 0, sxy = 0, sse = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxx += (plot.x[i] - mx) * (plot.x[i] - mx);
    sxy += (plot.x[i] - mx) * (plot.y[i] - my);
    sse += (plot.y[i] - plot.x[i]) * (plot.y[i] - plot.x[i]);
  }
  EXPECT_EQ(fit.points, static_cast<long long>(n));
  EXPECT_NEAR(fit.slope, static_cast<double>(sxy / sxx), 1e-12);
  EXPECT_NEAR(fit.intercept, static_cast<double>(my - sxy / sxx * mx), 1e-12);
  EXPECT_NEAR(fit.r2, static_cast<double>(1 - sse / sxx), 1e-12);
  EXPECT_NEAR(fit.slope, 0.9, 0.02);

  auto other = plot;
  for (auto& y : other.y) y = -y;
  fa::plot_density_scatter(dir + "/scatter_other.png", other);
  EXPECT_NE(slurp(dir + "/scatter.png"), slurp(dir + "/scatter_other.png"));

  auto bad = plot;
  bad.y.pop_back();
  EXPECT_NE(error_of([&] { fa::plot_density_scatter(dir + "/bad.png", bad); }).find("y values"),
            std::string::npos);
  bad = plot;
  std::fill(bad.x.begin(), bad.x.end(), 2.0);
  EXPECT_NE(error_of([&] { fa::plot_density_scatter(dir + "/bad.png", bad); }).find("same"),
            std::string::npos);
  bad.x = {1.0};
  bad.y = {1.0};
  EXPECT_NE(error_of([&] { fa::plot_density_scatter(dir + "/bad.png", bad); }).find("at least 2"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/bad.png"));
}

TEST(AnalysisPlots, GroupedBarsCompareModels) {
  const auto dir = test_util::shared_temp_dir("plot_bars");
  fa::BarChart plot;
  plot.title = "RMSE by region";
  plot.ylabel = "RMSE (mol m#u-2#d yr#u-1#d)";
  plot.groups = {"Global", "North Atlantic", "Southern Ocean"};
  plot.series = {{"MLP", {0.41, 0.52, 0.63}},
                 {"LSTM", {0.35, 0.47, 0.58}},
                 {"Attention LSTM", {0.34, std::nan(""), 0.55}},
                 {"XGBoost", {0.38, 0.49, -0.1}}};
  fa::plot_bars(dir + "/bars.png", plot);
  expect_png(dir + "/bars.png", plot.width, plot.height);
  auto other = plot;
  other.series[0].values[0] = 0.9;
  fa::plot_bars(dir + "/bars_other.png", other);
  EXPECT_NE(slurp(dir + "/bars.png"), slurp(dir + "/bars_other.png"));

  auto bad = plot;
  bad.series[1].values.pop_back();
  EXPECT_NE(error_of([&] {
              fa::plot_bars(dir + "/bad.png", bad);
            }).find("'LSTM' has 2 values for 3 groups"),
            std::string::npos);
  bad = plot;
  bad.groups.clear();
  EXPECT_NE(error_of([&] { fa::plot_bars(dir + "/bad.png", bad); }).find("no groups"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/bad.png"));
}

TEST(AnalysisPlots, CategoryMapColoursPointsByTheirCategory) {
  const auto dir = test_util::shared_temp_dir("plot_categories");
  fa::CategoryMap plot;
  plot.title = "leading driver";
  plot.names = {"SST", "SAL", "ice_frac", "mixed_layer_depth"};
  for (int i = 0; i < 60; ++i) {
    plot.lat.push_back(-60.0 + 2.0 * i);
    plot.lon.push_back(i % 2 ? 190.0 + i : -170.0 + i);  // both longitude conventions
    plot.category.push_back(i % 7 == 0 ? -1 : i % 3);    // -1: not drawn
  }
  fa::plot_category_map(dir + "/map.png", plot);
  expect_png(dir + "/map.png", plot.width, plot.height);
  auto other = plot;
  other.category[1] = 3;
  fa::plot_category_map(dir + "/other.png", other);
  EXPECT_NE(slurp(dir + "/map.png"), slurp(dir + "/other.png"));

  auto bad = plot;
  bad.category[5] = 4;
  EXPECT_NE(error_of([&] {
              fa::plot_category_map(dir + "/bad.png", bad);
            }).find("point 5 has category 4 of 4"),
            std::string::npos);
  bad = plot;
  bad.lon.pop_back();
  EXPECT_NE(error_of([&] { fa::plot_category_map(dir + "/bad.png", bad); }).find("59 longitudes"),
            std::string::npos);
  bad = plot;
  std::fill(bad.category.begin(), bad.category.end(), -1);
  EXPECT_NE(error_of([&] { fa::plot_category_map(dir + "/bad.png", bad); }).find("no point"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/bad.png"));
}
