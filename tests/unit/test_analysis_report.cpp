// The HTML report: content, escaping, bad inputs, and the page as a real
// browser (headless Chromium) shows it: every image decoded, every table
// there, a screenshot kept. The browser test skips when chromium is absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <regex>
#include <string>

#include "analysis/report.hpp"
#include "core/error.hpp"
#include "plot/plots.hpp"
#include "plot/png_info.hpp"
#include "support/headless_chromium.hpp"
#include "support/mpi_test_util.hpp"

namespace fa = fluxrecon::analysis;
namespace fp = fluxrecon::plot;
namespace fs = std::filesystem;
using test_util::chromium;
using test_util::find_chromium;
using test_util::slurp;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// A report like the analysis writes: figures of three kinds, two metric
// tables, provenance of an existing and a missing input.
fa::Report sample_report(const std::string& dir) {
  fp::LinePlot loss;
  loss.title = "Training vs validation MSE (LSTM)";
  loss.xlabel = "Epoch";
  loss.ylabel = "MSE (z-scored)";
  loss.series = {{"train", {1, 2, 3, 4}, {1.0, 0.6, 0.45, 0.4}, {}, false},
                 {"validation", {1, 2, 3, 4}, {1.1, 0.7, 0.55, 0.52}, {}, true}};
  fp::plot_lines(dir + "/loss_lstm.png", loss);
  fp::BarChart bars;
  bars.title = "RMSE by model";
  bars.ylabel = "RMSE (mol m#u-2#d yr#u-1#d)";
  bars.groups = {"Global", "Southern Ocean"};
  bars.series = {{"MLP", {0.4, 0.5}}, {"XGBoost", {0.35, 0.45}}};
  fp::plot_bars(dir + "/rmse.png", bars);
  fp::MapPlot map;
  map.units = "mol m#u-2#d s#u-1#d";
  map.grid = fp::regular_grid({-60, -30, 0, 30, 60}, {-150, -90, -30, 30, 90, 150});
  std::vector<double> v;
  for (std::size_t k = 0; k < map.grid.lat.size(); ++k) v.push_back(1e-8 * (k % 7));
  map.panels = {{"Simulated", v}, {"Reconstructed", v}};
  map.panel_width = 400;
  fp::plot_maps(dir + "/map.png", map);

  fa::Report r;
  r.title = "fluxrecon analysis <test> & check";
  r.summary = "Reconstruction skill of 2 models.\n\nSecond paragraph.";
  r.command = {"fluxrecon", "analyze", "--caches", "caches", "--out", dir};
  fa::ReportSection metrics{"Metrics", "Area-weighted metrics.", {}, {}};
  metrics.tables.push_back({"metrics-overall",
                            "Overall",
                            "rec - sim",
                            {"Model", "RMSE", "R^2"},
                            {{"MLP", "0.41", "0.90"}, {"XGBoost", "0.35", "0.93"}}});
  metrics.tables.push_back({"", "Integrated flux", "", {"Model", "PgC/yr"}, {{"MLP", "-2.1"}}});
  metrics.figures.push_back({dir + "/rmse.png", "RMSE per model and region"});
  fa::ReportSection maps{"Maps", "", {}, {{dir + "/map.png", "January 2018"}}};
  fa::ReportSection training{"Training", "", {}, {{dir + "/loss_lstm.png", "Loss curve"}}};
  r.sections = {metrics, maps, training};
  r.provenance = {fa::describe_input("figure", dir + "/rmse.png", "made here"),
                  fa::describe_input("model file", dir + "/absent_model.h5")};
  return r;
}

}  // namespace

TEST(AnalysisReport, HoldsFiguresTablesAndProvenance) {
  const auto dir = test_util::shared_temp_dir("report_content");
  const std::string path = fa::write_report(dir, sample_report(dir));
  EXPECT_EQ(path, dir + "/index.html");
  const std::string html = slurp(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>fluxrecon analysis &lt;test&gt; &amp; check</title>"),
            std::string::npos);
  // The figures beside the page are linked, not copied into it.
  EXPECT_EQ(count_of(html, "<img src=\"data:"), 0u);
  for (const char* png : {"loss_lstm.png", "rmse.png", "map.png"})
    EXPECT_NE(html.find(std::string("<img src=\"") + png + "\""), std::string::npos) << png;
  EXPECT_EQ(count_of(html, "<table id="), 3u);  // two metric tables + provenance
  EXPECT_NE(html.find("<table id=\"metrics-overall\">"), std::string::npos);
  EXPECT_NE(html.find("<td>XGBoost</td><td>0.35</td><td>0.93</td>"), std::string::npos);
  EXPECT_NE(html.find("fnv1a64:"), std::string::npos);
  EXPECT_NE(html.find("absent_model.h5</td><td>missing</td>"), std::string::npos);
  EXPECT_NE(html.find("<p>Second paragraph.</p>"), std::string::npos);
  const auto map = fp::read_png_info(dir + "/map.png");
  EXPECT_NE(html.find("width=\"" + std::to_string(map.width) + "\" height=\"" +
                      std::to_string(map.height) + "\""),
            std::string::npos);
  // No temporary file left.
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".part-"), std::string::npos);
}

// --self-contained: every figure inside the page as PNG data; a figure from
// outside the page's folder (explain's) is inside it in either case.
TEST(AnalysisReport, SelfContainedPagesCarryTheirFigures) {
  const auto dir = test_util::shared_temp_dir("report_self_contained");
  auto r = sample_report(dir);
  r.self_contained = true;
  std::string html = slurp(fa::write_report(dir, r));
  EXPECT_EQ(count_of(html, "<img src=\"data:image/png;base64,iVBORw0KGgo"), 3u);  // PNG magic
  const auto page_dir = dir + "/page";
  fs::create_directories(page_dir + "/figures");
  fs::copy_file(dir + "/map.png", page_dir + "/figures/map 1.png",
                fs::copy_options::overwrite_existing);
  r = sample_report(dir);
  r.sections[1].figures[0].png_path = page_dir + "/figures/map 1.png";
  html = slurp(fa::write_report(page_dir, r));
  EXPECT_NE(html.find("<img src=\"figures/map%201.png\""), std::string::npos);
  EXPECT_EQ(count_of(html, "<img src=\"data:image/png;base64,iVBORw0KGgo"), 2u);  // from ../
}

TEST(AnalysisReport, BadInputsAreErrorsAndWriteNothing) {
  const auto dir = test_util::shared_temp_dir("report_bad");
  fa::Report r;
  r.title = "bad";
  r.sections = {{"Maps", "", {}, {{dir + "/no_such_figure.png", "missing"}}}};
  try {
    fa::write_report(dir, r);
    ADD_FAILURE() << "a missing figure was accepted";
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_figure.png"), std::string::npos) << e.what();
  }
  r.sections = {{"Metrics", "", {{"", "Overall", "", {"Model", "RMSE"}, {{"MLP"}}}}, {}}};
  try {
    fa::write_report(dir, r);
    ADD_FAILURE() << "a short table row was accepted";
  } catch (const fluxrecon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'Overall' row 1 has 1 cells for 2 columns"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/index.html"));
}

TEST(AnalysisReport, LoadsInHeadlessChromium) {
  const std::string exe = find_chromium();
  if (exe.empty())
    GTEST_SKIP() << "chromium not found (Debian package 'chromium', or set FLUXRECON_CHROMIUM): "
                    "the report was not checked in a browser";
  const auto dir = test_util::shared_temp_dir("report_browser");
  const std::string page = fa::write_report(dir, sample_report(dir));
  const std::string log = dir + "/chromium.log";

  ASSERT_EQ(chromium(exe, dir + "/profile", "--dump-dom", page, dir + "/dom.html", log), 0)
      << slurp(log);
  const std::string dom = slurp(dir + "/dom.html");
  EXPECT_EQ(test_util::dom_attribute(dom, "data-images"), 3) << dom.substr(0, 400);
  EXPECT_EQ(test_util::dom_attribute(dom, "data-images-loaded"), 3);
  EXPECT_EQ(test_util::dom_attribute(dom, "data-tables"), 3);
  EXPECT_NE(dom.find("id=\"metrics-overall\""), std::string::npos);
  EXPECT_EQ(dom.find("<p class=\"broken\">"), std::string::npos);

  // The check sees a broken image: corrupt one figure's data.
  auto contained = sample_report(dir);
  contained.self_contained = true;
  std::string broken = slurp(fa::write_report(dir, contained));
  const auto at = broken.find("base64,") + 7;
  broken.replace(at, 400, std::string(400, 'A'));
  const std::string broken_page = dir + "/broken.html";
  std::ofstream(broken_page) << broken;
  ASSERT_EQ(
      chromium(exe, dir + "/profile", "--dump-dom", broken_page, dir + "/broken_dom.html", log), 0)
      << slurp(log);
  const std::string broken_dom = slurp(dir + "/broken_dom.html");
  EXPECT_EQ(test_util::dom_attribute(broken_dom, "data-images"), 3);
  EXPECT_EQ(test_util::dom_attribute(broken_dom, "data-images-loaded"), 2);
  EXPECT_EQ(count_of(broken_dom, "<p class=\"broken\">"), 1u);

  // A screenshot of the page, kept next to the test output.
  const std::string shot = dir + "/report_screenshot.png";
  ASSERT_EQ(chromium(exe, dir + "/profile",
                     "--hide-scrollbars --window-size=1300,2600 --screenshot='" + shot + "'", page,
                     "/dev/null", log),
            0)
      << slurp(log);
  const fp::PngInfo info = fp::read_png_info(shot);
  EXPECT_EQ(info.width, 1300);
  EXPECT_GT(info.file_bytes, 50000u);
  std::error_code ec;
  fs::copy_file(shot, "analysis_report_screenshot.png", fs::copy_options::overwrite_existing, ec);
  std::cout << "report screenshot: " << shot
            << (ec ? "" : " (copied to ./analysis_report_screenshot.png)") << "\n";
}
