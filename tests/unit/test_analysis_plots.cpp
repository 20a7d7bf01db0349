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

#include "analysis/plots.hpp"
#include "analysis/png_info.hpp"
#include "core/error.hpp"
#include "support/mpi_test_util.hpp"

namespace fa = fluxrecon::analysis;
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
  plot.width = 20;
  EXPECT_NE(error_of([&] { fa::plot_lines(png, plot); }).find("width 20"), std::string::npos);
  EXPECT_FALSE(fs::exists(png));
  EXPECT_TRUE(fs::is_empty(dir));
}
