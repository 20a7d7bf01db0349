// fluxrecon analyze on caches with closed-form fields: the metrics against an
// independent computation in this test, the same outputs for one rank as for
// all, the report and its figures, reruns, and every bad-input error.
#include <gtest/gtest.h>
#include <mpi.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/cache_reader.hpp"
#include "core/error.hpp"
#include "data/grid.hpp"
#include "plot/png_info.hpp"
#include "support/error_text.hpp"
#include "support/flux_caches.hpp"
#include "support/headless_chromium.hpp"
#include "support/mpi_test_util.hpp"
#include "tune/search_space.hpp"
#include "tune/study.hpp"

namespace fa = fluxrecon::analysis;
namespace fp = fluxrecon::plot;
namespace fs = std::filesystem;
using test_util::FluxCacheSpec;

namespace {

constexpr double kSecondsPerYear = 365.25 * 86400.0;
const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // noleap

std::string write_caches(const std::string& dir, std::vector<FluxCacheSpec> specs) {
  if (test_util::world_rank() == 0) fs::create_directories(dir);
  MPI_Barrier(MPI_COMM_WORLD);
  for (const auto& s : specs) test_util::write_flux_cache(dir + "/" + test_util::cache_name(s), s);
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

// The caches of the main tests: two models, the globe and a southern band,
// three years.
std::vector<FluxCacheSpec> standard_specs(bool with_cell_area = false) {
  std::vector<FluxCacheSpec> out;
  for (const char* model : {"mlp", "lstm"})
    for (const char* region : {"global", "Southern_Ocean"})
      for (int year = 2001; year <= 2003; ++year) {
        FluxCacheSpec s;
        s.model = model;
        s.region = region;
        s.year = year;
        s.with_cell_area = with_cell_area;
        if (std::string(region) == "Southern_Ocean") s.region_lat_max = -40.0;
        out.push_back(s);
      }
  return out;
}

std::string read_file(const std::string& path) { return test_util::slurp(path); }

// metrics.csv rows by "model,region,experiment,year" -> column -> value.
std::map<std::string, std::map<std::string, double>> read_metrics(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  for (std::stringstream h(line); std::getline(h, line, ',');) header.push_back(line);
  std::map<std::string, std::map<std::string, double>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    for (std::stringstream c(line); std::getline(c, line, ',');) cells.push_back(line);
    EXPECT_EQ(cells.size(), header.size());
    const std::string key = cells[0] + "," + cells[1] + "," + cells[2] + "," + cells[3];
    for (std::size_t k = 4; k < cells.size() && k < header.size(); ++k)
      if (header[k] != "scored_cells") rows[key][header[k]] = std::stod(cells[k]);
  }
  return rows;
}

struct Reference {
  double rmse, mae, bias, r2, r, simulated_pgc, error_pgc;
  long long count;
};

// Area-weighted metrics written out from their definitions, in double, over
// the float values the caches store.
Reference reference(const FluxCacheSpec& base, const std::vector<int>& years,
                    const std::vector<double>& area) {
  double w = 0, we = 0, we2 = 0, wae = 0, ws = 0, wr = 0, mol_s = 0, mol_r = 0;
  long long count = 0;
  struct Cell {
    double w, s, r;
  };
  std::vector<Cell> cells;
  for (int year : years)
    for (int m = 0; m < 12; ++m)
      for (int j = 0; j < base.ny; ++j)
        for (int i = 0; i < base.nx; ++i) {
          if (!test_util::cache_cell(base, j, i)) continue;
          const double s = static_cast<float>(test_util::cache_simulated(year, m, j, i));
          const double r =
              static_cast<float>(test_util::cache_reconstructed(base.model, year, m, j, i));
          const double a = area[static_cast<std::size_t>(j) * base.nx + i];
          cells.push_back({a, s, r});
          w += a;
          we += a * (r - s);
          we2 += a * (r - s) * (r - s);
          wae += a * std::abs(r - s);
          ws += a * s;
          wr += a * r;
          mol_s += kDays[m] * 86400.0 * a * s;
          mol_r += kDays[m] * 86400.0 * a * r;
          ++count;
        }
  const double ms = ws / w, mr = wr / w;
  double vs = 0, vr = 0, csr = 0;
  for (const auto& c : cells) {
    vs += c.w * (c.s - ms) * (c.s - ms);
    vr += c.w * (c.r - mr) * (c.r - mr);
    csr += c.w * (c.s - ms) * (c.r - mr);
  }
  const double pgc = 12.011 / 1e15 / static_cast<double>(years.size());
  return {
      std::sqrt(we2 / w),    wae / w, we / w, 1.0 - we2 / vs, csr / std::sqrt(vs * vr), mol_s * pgc,
      (mol_r - mol_s) * pgc, count};
}

std::vector<double> centre_areas(const FluxCacheSpec& s) {
  std::vector<float> lat, lon;
  for (int j = 0; j < s.ny; ++j)
    for (int i = 0; i < s.nx; ++i) {
      lat.push_back(static_cast<float>(test_util::cache_lat(s, j)));
      lon.push_back(static_cast<float>(test_util::cache_lon(s, i)));
    }
  return fluxrecon::data::cell_areas_from_centres(lat, lon, s.ny, s.nx);
}

void expect_metrics(const std::map<std::string, double>& row, const Reference& ref,
                    const std::string& what) {
  SCOPED_TRACE(what);
  auto near = [](double got, double want, double scale) {
    EXPECT_NEAR(got, want, 1e-6 * std::abs(scale) + 1e-12) << "want " << want;
  };
  EXPECT_EQ(row.at("cell_months"), ref.count);
  near(row.at("rmse_mol_m2_yr"), ref.rmse * kSecondsPerYear, ref.rmse * kSecondsPerYear);
  near(row.at("mae_mol_m2_yr"), ref.mae * kSecondsPerYear, ref.mae * kSecondsPerYear);
  near(row.at("bias_mol_m2_yr"), ref.bias * kSecondsPerYear, ref.rmse * kSecondsPerYear);
  near(row.at("r2"), ref.r2, 1.0);
  near(row.at("pearson_r"), ref.r, 1.0);
  near(row.at("simulated_pgc_per_yr"), ref.simulated_pgc, ref.simulated_pgc);
  near(row.at("error_pgc_per_yr"), ref.error_pgc, ref.simulated_pgc);
}

fa::AnalyzeOptions options_for(const std::string& caches, const std::string& out) {
  fa::AnalyzeOptions o;
  o.caches_dir = caches;
  o.out_dir = out;
  return o;
}

std::string error_of(const std::function<void()>& f) { return test_util::error_of_call(f); }

}  // namespace

TEST(Analyze, MetricsMatchAnIndependentComputation) {
  const auto dir = test_util::shared_temp_dir("analyze_metrics");
  const auto caches = write_caches(dir + "/caches", standard_specs());
  const auto s = fa::analyze(options_for(caches, dir + "/out"), MPI_COMM_WORLD);
  EXPECT_EQ(s.caches, 12);
  EXPECT_EQ(s.sets, 4);
  EXPECT_EQ(s.metric_rows, 4 * (3 + 1));
  if (test_util::world_rank() != 0) return;
  const auto rows = read_metrics(dir + "/out/metrics.csv");
  ASSERT_EQ(rows.size(), 16u);
  for (const auto& spec : standard_specs()) {
    const auto area = centre_areas(spec);  // the caches carry no cell_area
    const std::string key = spec.model + "," + spec.region + "," + spec.experiment + ",";
    expect_metrics(rows.at(key + std::to_string(spec.year)), reference(spec, {spec.year}, area),
                   key + std::to_string(spec.year));
    if (spec.year == 2003)
      expect_metrics(rows.at(key + "all"), reference(spec, {2001, 2002, 2003}, area), key + "all");
  }
  // The better model is better.
  EXPECT_GT(rows.at("mlp,global,experiment_1,all").at("r2"),
            rows.at("lstm,global,experiment_1,all").at("r2"));
}

TEST(Analyze, UsesTheCachesCellAreasWhenTheyHaveThem) {
  const auto dir = test_util::shared_temp_dir("analyze_cell_area");
  const auto caches = write_caches(dir + "/caches", standard_specs(true));
  fa::analyze(options_for(caches, dir + "/out"), MPI_COMM_WORLD);
  if (test_util::world_rank() != 0) return;
  const auto rows = read_metrics(dir + "/out/metrics.csv");
  FluxCacheSpec spec = standard_specs(true)[0];
  std::vector<double> area;
  for (int j = 0; j < spec.ny; ++j)
    for (int i = 0; i < spec.nx; ++i) area.push_back(test_util::cache_area(j, i));
  expect_metrics(rows.at("mlp,global,experiment_1,all"), reference(spec, {2001, 2002, 2003}, area),
                 "cell_area");
}

TEST(Analyze, OneRankWritesWhatAllRanksWrite) {
  const auto dir = test_util::shared_temp_dir("analyze_ranks");
  const auto caches = write_caches(dir + "/caches", standard_specs());
  MPI_Comm alone;
  MPI_Comm_split(MPI_COMM_WORLD, test_util::world_rank() == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (alone != MPI_COMM_NULL) {
    fa::analyze(options_for(caches, dir + "/one"), alone);
    MPI_Comm_free(&alone);
  }
  fa::analyze(options_for(caches, dir + "/all"), MPI_COMM_WORLD);
  if (test_util::world_rank() != 0) return;
  for (const char* f : {"metrics.csv", "annual_means.csv", "seasonal_cycle.csv"})
    EXPECT_EQ(read_file(dir + "/one/" + f), read_file(dir + "/all/" + f)) << f;
  EXPECT_EQ(read_file(dir + "/one/figures/scatter_mlp_global_experiment_1.png"),
            read_file(dir + "/all/figures/scatter_mlp_global_experiment_1.png"));
}

TEST(Analyze, ReportHoldsEveryFigureTableAndInput) {
  const auto dir = test_util::shared_temp_dir("analyze_report");
  const auto caches = write_caches(dir + "/caches", standard_specs());
  fs::create_directories(dir + "/models");  // a loss history of a neural model
  if (test_util::world_rank() == 0) {
    std::ofstream csv(dir + "/models/mlp_losses.csv");
    csv << "epoch,train_mse,validation_mse,seconds\n1,0.5,0.6,1\n2,0.3,0.4,1\n3,0.2,0.35,1\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto opt = options_for(caches, dir + "/out");
  opt.models_dir = dir + "/models";
  opt.provenance = {"dataset config=" + dir + "/caches"};
  const auto s = fa::analyze(opt, MPI_COMM_WORLD);
  // Per set: maps, differences, seasonal, scatter; per region: annual means
  // and yearly uptake; per experiment: two comparisons; one loss figure.
  EXPECT_EQ(s.figures, 4 * 4 + 2 * 2 + 2 + 1);
  if (test_util::world_rank() != 0) return;
  int pngs = 0;
  for (const auto& e : fs::directory_iterator(dir + "/out/figures")) {
    if (e.path().filename().string()[0] == '.') continue;  // a seal (.NAME.seal)
    const auto info = fp::read_png_info(e.path().string());
    EXPECT_GT(info.width, 200) << e.path();
    ++pngs;
  }
  EXPECT_EQ(pngs, s.figures);
  const std::string html = read_file(s.report_path);
  std::size_t images = 0;
  for (auto p = html.find("<img"); p != std::string::npos; p = html.find("<img", p + 1)) ++images;
  EXPECT_EQ(images, static_cast<std::size_t>(s.figures));
  for (const char* id :
       {"overall-metrics", "metrics-global-experiment-1", "metrics-southern-ocean-experiment-1"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  for (const auto& spec : standard_specs())
    EXPECT_NE(html.find(test_util::cache_name(spec)), std::string::npos);
  EXPECT_NE(html.find("/models/mlp.h5"), std::string::npos);  // the model file of the caches
  EXPECT_NE(html.find("dataset config"), std::string::npos);
  EXPECT_NE(html.find("Training"), std::string::npos);
}

// A study's outputs as fluxrecon tune writes them: 4 complete trials, one
// pruned, one failed.
void write_study(const std::string& dir) {
  namespace tune = fluxrecon::tune;
  const auto space = tune::SearchSpace::from_text(
      "model: xgboost\nparameters:\n"
      "  - {name: max_depth, type: int, low: 3, high: 9}\n"
      "  - {name: eta, type: float, low: 0.01, high: 0.3, log: true}\n",
      "space.yaml");
  std::vector<tune::Trial> trials;
  const double values[6] = {0.5, 0.4, 0.45, 0.3, 0.6, NAN};
  for (int i = 0; i < 6; ++i) {
    tune::Trial t;
    t.number = i;
    t.uid = "t" + std::to_string(i);
    t.state = i < 4 ? tune::TrialState::complete
                    : (i == 4 ? tune::TrialState::pruned : tune::TrialState::failed);
    t.params = {{"max_depth", 3.0 + i}, {"eta", 0.01 * (i + 1)}};
    t.value = values[i];
    if (i == 4) t.intermediate[1] = values[i];
    trials.push_back(t);
  }
  fs::create_directories(dir);
  tune::write_study_outputs(space, trials, dir, 0);
}

TEST(Analyze, ReportHasAHyperparameterSearchSectionPerStudy) {
  const auto dir = test_util::shared_temp_dir("analyze_tune");
  const auto caches = write_caches(dir + "/caches", standard_specs());
  if (test_util::world_rank() == 0) write_study(dir + "/tune/xgboost");
  MPI_Barrier(MPI_COMM_WORLD);
  auto opt = options_for(caches, dir + "/out");
  opt.tune_dir = dir + "/tune";  // a folder of studies, as fluxrecon run writes
  const auto s = fa::analyze(opt, MPI_COMM_WORLD);
  if (test_util::world_rank() == 0) {
    for (const char* png : {"optimisation_history.png", "param_importance.png"}) {
      const std::string path = dir + "/tune/xgboost/" + png;
      ASSERT_TRUE(fp::png_complete(path)) << path;
      EXPECT_GT(fp::read_png_info(path).width, 200) << path;
    }
    const std::string html = read_file(s.report_path);
    EXPECT_NE(html.find(">Hyperparameter search: xgboost</h2>"), std::string::npos);
    EXPECT_NE(html.find("6 trial(s) of the study"), std::string::npos);
    EXPECT_NE(html.find("Best: trial 3, 0.3;"), std::string::npos);
    EXPECT_NE(html.find("<th>number</th><th>state</th><th>value</th><th>last_step</th>"
                        "<th>max_depth</th><th>eta</th>"),
              std::string::npos);
    EXPECT_NE(html.find("<tr><td>3</td><td>complete</td><td>0.3</td>"), std::string::npos);
    EXPECT_NE(html.find("<tr><td>4</td><td>pruned</td><td>0.6</td><td>1</td>"), std::string::npos);
    EXPECT_NE(html.find("<td>5</td><td>failed</td>"), std::string::npos);
    EXPECT_NE(html.find("xgboost: optimisation history"), std::string::npos);
    EXPECT_NE(html.find("xgboost: parameter importance"), std::string::npos);
    std::size_t images = 0;
    for (auto p = html.find("<img"); p != std::string::npos; p = html.find("<img", p + 1)) ++images;
    EXPECT_EQ(images, static_cast<std::size_t>(s.figures) + 2);
  }
  // The study folder itself works too; a folder without a study is named.
  opt.tune_dir = dir + "/tune/xgboost";
  opt.out_dir = dir + "/out_one";
  EXPECT_NO_THROW(fa::analyze(opt, MPI_COMM_WORLD));
  opt.tune_dir = dir + "/caches";
  opt.out_dir = dir + "/out_none";
  const auto message = error_of([&] { fa::analyze(opt, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("holds no study of fluxrecon tune"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir + "/out_none/index.html"));
}

TEST(Analyze, RerunSkipsUntilTheCachesChange) {
  const auto dir = test_util::shared_temp_dir("analyze_rerun");
  auto specs = standard_specs();
  specs.resize(2);  // mlp global 2001-2002
  const auto caches = write_caches(dir + "/caches", specs);
  const auto opt = options_for(caches, dir + "/out");
  EXPECT_FALSE(fa::analyze(opt, MPI_COMM_WORLD).reused);
  EXPECT_TRUE(fa::analyze(opt, MPI_COMM_WORLD).reused);
  FluxCacheSpec more = specs[1];
  more.year = 2003;
  write_caches(caches, {more});
  const auto s = fa::analyze(opt, MPI_COMM_WORLD);
  EXPECT_FALSE(s.reused);
  EXPECT_EQ(s.caches, 3);
  auto forced = opt;
  forced.force = true;
  EXPECT_FALSE(fa::analyze(forced, MPI_COMM_WORLD).reused);
}

// A regional cache holds only its region's box of the grid (as reconstruct
// writes it): the analysis is the same as of the whole-grid cache.
TEST(Analyze, CroppedRegionalCachesGiveTheResultsOfWholeGridOnes) {
  const auto dir = test_util::shared_temp_dir("analyze_cropped");
  std::vector<FluxCacheSpec> whole, cropped;
  for (const char* region : {"global", "Tropical_Atlantic"})
    for (int year = 2001; year <= 2002; ++year) {
      FluxCacheSpec s;
      s.region = region;
      s.year = year;
      s.with_cell_area = true;
      if (s.region != "global") {
        // Rows 3-6 (lat -28.3 to 18.3), columns 6-7 (lon -33.75, -11.25); row 3 of
        // them is land.
        s.region_lat_min = -30, s.region_lat_max = 20, s.region_lon_min = -50,
        s.region_lon_max = -10;
      }
      whole.push_back(s);
      if (s.region != "global") s.crop_y0 = 3, s.crop_x0 = 6, s.crop_ny = 4, s.crop_nx = 2;
      cropped.push_back(s);
    }
  fa::analyze(options_for(write_caches(dir + "/whole", whole), dir + "/whole_out"), MPI_COMM_WORLD);
  const auto s = fa::analyze(
      options_for(write_caches(dir + "/cropped", cropped), dir + "/cropped_out"), MPI_COMM_WORLD);
  EXPECT_EQ(s.sets, 2);
  if (test_util::world_rank() != 0) return;
  for (const char* f : {"metrics.csv", "annual_means.csv", "seasonal_cycle.csv"})
    EXPECT_EQ(read_file(dir + "/whole_out/" + f), read_file(dir + "/cropped_out/" + f)) << f;
  std::vector<double> area;
  for (int j = 0; j < whole[2].ny; ++j)
    for (int i = 0; i < whole[2].nx; ++i) area.push_back(test_util::cache_area(j, i));
  const auto rows = read_metrics(dir + "/cropped_out/metrics.csv");
  expect_metrics(rows.at("mlp,Tropical_Atlantic,experiment_1,all"),
                 reference(whole[2], {2001, 2002}, area), "cropped");
  EXPECT_EQ(rows.at("mlp,Tropical_Atlantic,experiment_1,all").at("cell_months"), 2 * 12 * 6);
  // The report says which cells the regional caches hold.
  EXPECT_NE(read_file(dir + "/cropped_out/index.html")
                .find("Tropical_Atlantic 4 x 2 (rows 3-6, columns 6-7 of 10 x 16)"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/cropped_out/figures/maps_mlp_Tropical_Atlantic_experiment_1.png"))
      << "the figures of the cropped set";
}

TEST(Analyze, BadInputIsNamedAndNothingIsWritten) {
  const auto dir = test_util::shared_temp_dir("analyze_errors");
  auto check = [&](const std::string& name, std::vector<FluxCacheSpec> specs,
                   const std::function<void(fa::AnalyzeOptions&)>& adjust,
                   const std::vector<std::string>& expected) {
    SCOPED_TRACE(name);
    const auto caches = write_caches(dir + "/" + name, specs);
    auto opt = options_for(caches, dir + "/" + name + "_out");
    adjust(opt);
    const std::string e = error_of([&] { fa::analyze(opt, MPI_COMM_WORLD); });
    for (const auto& text : expected) EXPECT_NE(e.find(text), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(opt.out_dir + "/index.html"));
    EXPECT_FALSE(fs::exists(opt.out_dir + "/metrics.csv"));
  };
  auto years = [](std::vector<int> ys, FluxCacheSpec base = {}) {
    std::vector<FluxCacheSpec> out;
    for (int y : ys) {
      base.year = y;
      out.push_back(base);
    }
    return out;
  };
  auto none = [](fa::AnalyzeOptions&) {};
  check("missing_in_range", years({2001, 2003}), none, {"missing", "2002"});
  check("missing_asked", years({2001, 2002}),
        [](fa::AnalyzeOptions& o) {
          o.first_year = 2001;
          o.last_year = 2004;
        },
        {"2003, 2004"});
  auto mixed = years({2001, 2002});
  mixed[1].units = "mmol m-2 d-1";
  mixed[1].to_units = 1e3 * 86400;
  check("mixed_units", mixed, none,
        {"different units", "mmol m-2 d-1", "mlp_global_experiment_1_2001.nc"});
  auto grids = years({2001});
  FluxCacheSpec shifted = grids[0];
  shifted.model = "lstm";
  shifted.lat_shift = 0.5;
  grids.push_back(shifted);
  check("mixed_grids", grids, none, {"different grids"});
  auto inputs = years({2001});
  FluxCacheSpec cut_from_other = inputs[0];
  cut_from_other.region = "North";
  cut_from_other.crop_ny = 2, cut_from_other.crop_nx = 3;
  cut_from_other.ny = 12;  // its input grid has 12 rows, the global cache's 10
  inputs.push_back(cut_from_other);
  check("caches_of_other_input_grids", inputs, none, {"different grids", "10 x 16", "12 x 16"});
  auto other_inputs = inputs;
  other_inputs[1].ny = 10;  // cut from an input of the same size, other coordinates
  other_inputs[0].input_grid_checksum = "10x16:00000000000000aa";
  other_inputs[1].input_grid_checksum = "10x16:00000000000000bb";
  check("caches_of_other_input_grids_of_one_size", other_inputs, none,
        {"different grids", "other nav_lat / nav_lon"});
  auto offsets = years({2001, 2002});
  offsets[0].crop_ny = offsets[1].crop_ny = 3;
  offsets[0].crop_nx = offsets[1].crop_nx = 4;
  offsets[1].crop_x0 = 1;
  check("one_region_other_cells", offsets, none, {"different grids", "at (0, 0)", "at (0, 1)"});
  FluxCacheSpec empty;
  empty.region = "Arctic";
  empty.empty = true;
  check("empty_region", years({2001}, empty), none, {"Arctic", "empty region"});
  check("unknown_model", years({2001}), [](fa::AnalyzeOptions& o) { o.models = {"xgboost"}; },
        {"xgboost", "mlp"});
  check("bad_month", years({2001}), [](fa::AnalyzeOptions& o) { o.map_months = {13}; },
        {"month 13"});
  check("no_caches", {}, none, {"holds no caches"});
}

// The analysis report as a person sees it: every figure decoded by a real
// browser, every table there.
TEST(Analyze, ReportLoadsInHeadlessChromium) {
  const auto dir = test_util::shared_temp_dir("analyze_browser");
  auto specs = standard_specs();
  specs.resize(6);  // mlp: global and Southern Ocean, 3 years
  const auto caches = write_caches(dir + "/caches", specs);
  const auto s = fa::analyze(options_for(caches, dir + "/out"), MPI_COMM_WORLD);
  if (test_util::world_rank() != 0) return;
  const std::string exe = test_util::find_chromium();
  if (exe.empty())
    GTEST_SKIP() << "chromium not found (Debian package 'chromium', or set FLUXRECON_CHROMIUM): "
                    "the analysis report was not checked in a browser";
  const std::string log = dir + "/chromium.log";
  ASSERT_EQ(test_util::chromium(exe, dir + "/profile", "--dump-dom", s.report_path,
                                dir + "/dom.html", log),
            0)
      << test_util::slurp(log);
  const std::string dom = test_util::slurp(dir + "/dom.html");
  EXPECT_EQ(test_util::dom_attribute(dom, "data-images"), s.figures) << dom.substr(0, 400);
  EXPECT_EQ(test_util::dom_attribute(dom, "data-images-loaded"), s.figures);
  // Overall metrics, one table per region, provenance.
  EXPECT_EQ(test_util::dom_attribute(dom, "data-tables"), 1 + 2 + 1);
}
