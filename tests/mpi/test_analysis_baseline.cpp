// fluxrecon analyze --samples: the climatology baseline against an
// independent computation in this test (a hand-made train.h5, caches with
// closed-form fields), the nearest training location, the sampling mask of a
// spatial design (only never-sampled cells scored), the same outputs for one
// rank as for all, the report's skill table and yearly uptake figure, and a
// --samples folder without train.h5.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "support/error_text.hpp"
#include "support/flux_caches.hpp"
#include "support/headless_chromium.hpp"
#include "support/mpi_test_util.hpp"

namespace fa = fluxrecon::analysis;
namespace fs = std::filesystem;
using test_util::FluxCacheSpec;

namespace {

constexpr double kSecondsPerYear = 365.25 * 86400.0;
const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // noleap
constexpr double kTargetMean = 1e-9, kTargetStd = 1e-8;
const std::vector<int> kTrainYears = {1995, 1996, 1997};

// ---------------------------------------------------------------- train.h5

// The training locations: every fifth ocean cell of the default grid.
bool training_location(const FluxCacheSpec& s, int j, int i) {
  return test_util::cache_cell(s, j, i) && (j + 2 * i) % 5 == 0;
}
// The first training location has no April sample: its April climatology
// comes from its nearest neighbour with one.
bool has_sample(const FluxCacheSpec& s, int j, int i, int m) {
  for (int jj = 0; jj < s.ny; ++jj)
    for (int ii = 0; ii < s.nx; ++ii)
      if (training_location(s, jj, ii)) return !(jj == j && ii == i && m == 3);
  return true;
}
float z_of(int year, int m, int j, int i) {
  return static_cast<float>((test_util::cache_simulated(year, m, j, i) - kTargetMean) / kTargetStd);
}

template <class T>
void write_1d(hid_t file, const char* name, hid_t type, const std::vector<T>& v) {
  const hsize_t n[1] = {v.size()};
  hid_t space = H5Screate_simple(1, n, nullptr);
  hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Dclose(set);
  H5Sclose(space);
}

void write_scalar(hid_t file, const char* name, double v) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(attr);
  H5Sclose(space);
}

// A sample store as prepare writes it (ordered by location, then time),
// without what the baseline does not read beyond a dummy features dataset.
// `skip` leaves one dataset out. Rank 0 writes; everyone waits.
void write_train_store(const std::string& dir, const std::string& skip = "") {
  if (test_util::world_rank() == 0) {
    fs::create_directories(dir);
    const FluxCacheSpec s;
    std::vector<float> target, lat, lon, features;
    std::vector<std::int32_t> year, month;
    std::vector<std::int64_t> location;
    for (int j = 0; j < s.ny; ++j)
      for (int i = 0; i < s.nx; ++i) {
        if (!training_location(s, j, i)) continue;
        for (int y : kTrainYears)
          for (int m = 0; m < 12; ++m) {
            if (!has_sample(s, j, i, m)) continue;
            target.push_back(z_of(y, m, j, i));
            lat.push_back(static_cast<float>(test_util::cache_lat(s, j)));
            lon.push_back(static_cast<float>(test_util::cache_lon(s, i)));
            year.push_back(y);
            month.push_back(m + 1);
            location.push_back(static_cast<std::int64_t>(j) * s.nx + i);
            features.push_back(0.0f);
          }
      }
    hid_t f = H5Fcreate((dir + "/train.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (skip != "target") write_1d(f, "target", H5T_NATIVE_FLOAT, target);
    write_1d(f, "lat", H5T_NATIVE_FLOAT, lat);
    write_1d(f, "lon", H5T_NATIVE_FLOAT, lon);
    write_1d(f, "year", H5T_NATIVE_INT32, year);
    write_1d(f, "month", H5T_NATIVE_INT32, month);
    if (skip != "location") write_1d(f, "location", H5T_NATIVE_INT64, location);
    write_1d(f, "features", H5T_NATIVE_FLOAT, features);
    write_scalar(f, "target_mean", kTargetMean);
    write_scalar(f, "target_std", kTargetStd);
    H5Fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// ---------------------------------------------------------------- reference

double haversine(double lat1, double lon1, double lat2, double lon2) {
  const double d = M_PI / 180.0;
  const double a =
      std::pow(std::sin((lat2 - lat1) * d / 2), 2) +
      std::cos(lat1 * d) * std::cos(lat2 * d) * std::pow(std::sin((lon2 - lon1) * d / 2), 2);
  return 2 * std::asin(std::min(1.0, std::sqrt(a)));
}

// The baseline of cell (j, i) in month m, written out from its definition:
// the mean physical training target of the nearest training location with
// a sample of month m (brute force; ties to the smaller location id).
double reference_baseline(int m, int j, int i) {
  const FluxCacheSpec s;
  const double lat = static_cast<float>(test_util::cache_lat(s, j));
  const double lon = static_cast<float>(test_util::cache_lon(s, i));
  double best = 1e300;
  int bj = -1, bi = -1;
  for (int jj = 0; jj < s.ny; ++jj)
    for (int ii = 0; ii < s.nx; ++ii) {
      if (!training_location(s, jj, ii) || !has_sample(s, jj, ii, m)) continue;
      const double d = haversine(lat, lon, static_cast<float>(test_util::cache_lat(s, jj)),
                                 static_cast<float>(test_util::cache_lon(s, ii)));
      if (d < best - 1e-15) {
        best = d;
        bj = jj;
        bi = ii;
      }
    }
  double sum = 0;
  for (int y : kTrainYears)
    sum += kTargetMean + kTargetStd * static_cast<double>(z_of(y, m, bj, bi));
  return sum / static_cast<double>(kTrainYears.size());
}

struct Reference {
  double rmse, bias, r2, simulated_pgc, reconstructed_pgc, error_pgc;
  long long count;
};

using CellTest = std::function<bool(int year, int m, int j, int i)>;
using Prediction = std::function<double(int year, int m, int j, int i)>;

// Area-weighted metrics (cell_area = cache_area) over the cells `scored`.
Reference reference(const std::vector<int>& years, const CellTest& scored,
                    const Prediction& predicted) {
  const FluxCacheSpec s;
  struct Cell {
    double w, s, r;
  };
  std::vector<Cell> cells;
  double w = 0, we = 0, we2 = 0, ws = 0, mol_s = 0, mol_r = 0;
  for (int year : years)
    for (int m = 0; m < 12; ++m)
      for (int j = 0; j < s.ny; ++j)
        for (int i = 0; i < s.nx; ++i) {
          if (!test_util::cache_cell(s, j, i) || !scored(year, m, j, i)) continue;
          const double sim = static_cast<float>(test_util::cache_simulated(year, m, j, i));
          const double rec = static_cast<float>(predicted(year, m, j, i));
          const double a = test_util::cache_area(j, i);
          cells.push_back({a, sim, rec});
          w += a;
          we += a * (rec - sim);
          we2 += a * (rec - sim) * (rec - sim);
          ws += a * sim;
          mol_s += kDays[m] * 86400.0 * a * sim;
          mol_r += kDays[m] * 86400.0 * a * rec;
        }
  double vs = 0;
  for (const auto& c : cells) vs += c.w * (c.s - ws / w) * (c.s - ws / w);
  const double pgc = 12.011 / 1e15 / static_cast<double>(years.size());
  return {std::sqrt(we2 / w),
          we / w,
          1.0 - we2 / vs,
          mol_s * pgc,
          mol_r * pgc,
          (mol_r - mol_s) * pgc,
          static_cast<long long>(cells.size())};
}

const CellTest kEveryCell = [](int, int, int, int) { return true; };
const CellTest kNeverSampled = [](int year, int m, int j, int i) {
  return !test_util::cache_sampled(year, m, j, i);
};
const Prediction kBaseline = [](int, int m, int j, int i) { return reference_baseline(m, j, i); };
Prediction model(const std::string& name) {
  return [name](int year, int m, int j, int i) {
    return test_util::cache_reconstructed(name, year, m, j, i);
  };
}

// ---------------------------------------------------------------- files

std::string write_caches(const std::string& dir, const std::vector<FluxCacheSpec>& specs) {
  if (test_util::world_rank() == 0) fs::create_directories(dir);
  MPI_Barrier(MPI_COMM_WORLD);
  for (const auto& s : specs) test_util::write_flux_cache(dir + "/" + test_util::cache_name(s), s);
  MPI_Barrier(MPI_COMM_WORLD);
  return dir;
}

// Global caches of `models` for 2001-2003, with cell areas (and the mask).
std::vector<FluxCacheSpec> specs_of(const std::vector<std::string>& models, bool sampled) {
  std::vector<FluxCacheSpec> out;
  for (const auto& m : models)
    for (int year = 2001; year <= 2003; ++year) {
      FluxCacheSpec s;
      s.model = m;
      s.year = year;
      s.with_cell_area = true;
      s.with_sampled = sampled;
      if (sampled) s.sampling_design = "spatial";
      out.push_back(s);
    }
  return out;
}

using Table = std::map<std::string, std::map<std::string, std::string>>;

// A CSV by its first `key_columns` columns joined with ','.
Table read_csv(const std::string& path, int key_columns) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  for (std::stringstream h(line); std::getline(h, line, ',');) header.push_back(line);
  Table rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    for (std::stringstream c(line); std::getline(c, line, ',');) cells.push_back(line);
    EXPECT_EQ(cells.size(), header.size()) << path;
    std::string key;
    for (int k = 0; k < key_columns; ++k) key += (k ? "," : "") + cells[k];
    for (std::size_t k = 0; k < cells.size() && k < header.size(); ++k)
      rows[key][header[k]] = cells[k];
  }
  return rows;
}
double num(const Table& t, const std::string& key, const std::string& column) {
  return std::stod(t.at(key).at(column));
}

void expect_metrics(const Table& t, const std::string& key, const Reference& ref) {
  SCOPED_TRACE(key);
  ASSERT_TRUE(t.count(key)) << "no row " << key;
  auto near = [](double got, double want, double scale) {
    EXPECT_NEAR(got, want, 1e-6 * std::abs(scale) + 1e-12) << "want " << want;
  };
  EXPECT_EQ(num(t, key, "cell_months"), ref.count);
  near(num(t, key, "rmse_mol_m2_yr"), ref.rmse * kSecondsPerYear, ref.rmse * kSecondsPerYear);
  near(num(t, key, "bias_mol_m2_yr"), ref.bias * kSecondsPerYear, ref.rmse * kSecondsPerYear);
  near(num(t, key, "r2"), ref.r2, 1.0);
  near(num(t, key, "simulated_pgc_per_yr"), ref.simulated_pgc, ref.simulated_pgc);
  near(num(t, key, "reconstructed_pgc_per_yr"), ref.reconstructed_pgc, ref.simulated_pgc);
  near(num(t, key, "error_pgc_per_yr"), ref.error_pgc, ref.simulated_pgc);
}

fa::AnalyzeOptions options_for(const std::string& caches, const std::string& out,
                               const std::string& samples) {
  fa::AnalyzeOptions o;
  o.caches_dir = caches;
  o.out_dir = out;
  o.samples_dir = samples;
  return o;
}

// Least-squares slope of the yearly error_pgc_per_yr rows of metrics.csv.
double slope_of_yearly_errors(const Table& metrics, const std::string& prefix) {
  std::vector<double> x, y;
  for (int year = 2001; year <= 2003; ++year) {
    x.push_back(year);
    y.push_back(num(metrics, prefix + std::to_string(year), "error_pgc_per_yr"));
  }
  const double mx = (x[0] + x[1] + x[2]) / 3, my = (y[0] + y[1] + y[2]) / 3;
  double sxy = 0, sxx = 0;
  for (int k = 0; k < 3; ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
  }
  return sxy / sxx;
}

}  // namespace

TEST(AnalysisBaseline, ClimatologyMatchesAnIndependentComputation) {
  const auto dir = test_util::shared_temp_dir("baseline_values");
  write_train_store(dir + "/samples");
  const auto caches = write_caches(dir + "/caches", specs_of({"mlp", "lstm"}, false));
  const auto s = fa::analyze(options_for(caches, dir + "/out", dir + "/samples"), MPI_COMM_WORLD);
  EXPECT_TRUE(s.baseline);
  EXPECT_EQ(s.sets, 2);
  EXPECT_EQ(s.metric_rows, 3 * 4);  // mlp, lstm, climatology: 3 years + all
  if (test_util::world_rank() != 0) return;
  const Table metrics = read_csv(dir + "/out/metrics.csv", 4);
  for (int year = 2001; year <= 2003; ++year)
    expect_metrics(metrics, "climatology,global,experiment_1," + std::to_string(year),
                   reference({year}, kEveryCell, kBaseline));
  expect_metrics(metrics, "climatology,global,experiment_1,all",
                 reference({2001, 2002, 2003}, kEveryCell, kBaseline));
  expect_metrics(metrics, "mlp,global,experiment_1,all",
                 reference({2001, 2002, 2003}, kEveryCell, model("mlp")));
  EXPECT_EQ(metrics.at("mlp,global,experiment_1,all").at("scored_cells"), "all");

  // The comparison: the numbers of metrics.csv, the trends of its yearly rows.
  const Table skill = read_csv(dir + "/out/skill_vs_climatology.csv", 3);
  ASSERT_EQ(skill.size(), 2u);
  for (const char* m : {"mlp", "lstm"}) {
    SCOPED_TRACE(m);
    const std::string key = std::string(m) + ",global,experiment_1";
    const double r2 = num(metrics, key + ",all", "r2");
    const double r2c = num(metrics, "climatology,global,experiment_1,all", "r2");
    EXPECT_NEAR(num(skill, key, "r2"), r2, 1e-8);
    EXPECT_NEAR(num(skill, key, "r2_climatology"), r2c, 1e-8);
    EXPECT_NEAR(num(skill, key, "r2_difference"), r2 - r2c, 1e-8);
    EXPECT_NEAR(num(skill, key, "rmse_ratio"),
                num(metrics, key + ",all", "rmse_mol_m2_yr") /
                    num(metrics, "climatology,global,experiment_1,all", "rmse_mol_m2_yr"),
                1e-7);
    const double err = num(metrics, key + ",all", "error_pgc_per_yr");
    const double errc = num(metrics, "climatology,global,experiment_1,all", "error_pgc_per_yr");
    EXPECT_NEAR(num(skill, key, "error_pgc_per_yr"), err, 1e-8 * std::abs(err) + 1e-15);
    EXPECT_NEAR(num(skill, key, "error_climatology_pgc_per_yr"), errc,
                1e-8 * std::abs(errc) + 1e-15);
    const double trend = slope_of_yearly_errors(metrics, key + ",");
    const double trendc = slope_of_yearly_errors(metrics, "climatology,global,experiment_1,");
    EXPECT_NEAR(num(skill, key, "trend_error_pgc_per_yr2"), trend, 1e-6 * std::abs(trend) + 1e-15);
    EXPECT_NEAR(num(skill, key, "trend_error_climatology_pgc_per_yr2"), trendc,
                1e-6 * std::abs(trendc) + 1e-15);
    EXPECT_EQ(skill.at(key).at("scored_cells"), "all");
    EXPECT_EQ(skill.at(key).at("first_year"), "2001");
    EXPECT_EQ(skill.at(key).at("last_year"), "2003");
  }
  // The training years' climatology misses the caches' trend: its error grows.
  EXPECT_NE(num(skill, "mlp,global,experiment_1", "trend_error_climatology_pgc_per_yr2"), 0.0);
  // The pseudo-model is in every table that lists models.
  const Table annual = read_csv(dir + "/out/annual_means.csv", 4);
  EXPECT_TRUE(annual.count("climatology,global,experiment_1,2002"));
  EXPECT_NEAR(num(annual, "climatology,global,experiment_1,2002", "reconstructed_pgc_per_yr"),
              reference({2002}, kEveryCell, kBaseline).reconstructed_pgc,
              1e-6 * std::abs(reference({2002}, kEveryCell, kBaseline).simulated_pgc));
  const Table seasonal = read_csv(dir + "/out/seasonal_cycle.csv", 4);
  EXPECT_TRUE(seasonal.count("climatology,global,experiment_1,4"));
}

TEST(AnalysisBaseline, SampledMaskScoresOnlyNeverSampledCells) {
  const auto dir = test_util::shared_temp_dir("baseline_mask");
  write_train_store(dir + "/samples");
  auto specs = specs_of({"mlp"}, true);
  for (auto s : specs_of({"lstm"}, false)) specs.push_back(s);  // no mask: every cell
  const auto caches = write_caches(dir + "/caches", specs);
  fa::analyze(options_for(caches, dir + "/out", dir + "/samples"), MPI_COMM_WORLD);
  fa::analyze(options_for(caches, dir + "/plain", ""), MPI_COMM_WORLD);
  if (test_util::world_rank() != 0) return;
  const std::vector<int> all = {2001, 2002, 2003};
  for (const char* out : {"/out", "/plain"}) {
    SCOPED_TRACE(out);
    const Table metrics = read_csv(dir + out + "/metrics.csv", 4);
    expect_metrics(metrics, "mlp,global,experiment_1,all",
                   reference(all, kNeverSampled, model("mlp")));
    expect_metrics(metrics, "mlp,global,experiment_1,2002",
                   reference({2002}, kNeverSampled, model("mlp")));
    EXPECT_EQ(metrics.at("mlp,global,experiment_1,all").at("scored_cells"), "never_sampled");
    expect_metrics(metrics, "lstm,global,experiment_1,all",
                   reference(all, kEveryCell, model("lstm")));
    EXPECT_EQ(metrics.at("lstm,global,experiment_1,all").at("scored_cells"), "all");
    const std::string html = test_util::slurp(dir + out + "/index.html");
    EXPECT_NE(html.find("scored on never-sampled cells"), std::string::npos);
  }
  // The baseline of the masked model is scored on its cells: the skill table
  // compares both on the never-sampled ones.
  const Table skill = read_csv(dir + "/out/skill_vs_climatology.csv", 3);
  const Reference model_ref = reference(all, kNeverSampled, model("mlp"));
  const Reference clim_ref = reference(all, kNeverSampled, kBaseline);
  EXPECT_EQ(skill.at("mlp,global,experiment_1").at("scored_cells"), "never_sampled");
  EXPECT_EQ(num(skill, "mlp,global,experiment_1", "cell_months"), model_ref.count);
  EXPECT_NEAR(num(skill, "mlp,global,experiment_1", "r2_climatology"), clim_ref.r2, 1e-6);
  EXPECT_NEAR(num(skill, "mlp,global,experiment_1", "climatology_pgc_per_yr"),
              clim_ref.reconstructed_pgc, 1e-6 * std::abs(clim_ref.simulated_pgc));
  EXPECT_NEAR(num(skill, "lstm,global,experiment_1", "r2_climatology"),
              reference(all, kEveryCell, kBaseline).r2, 1e-6);
  EXPECT_FALSE(fs::exists(dir + "/plain/skill_vs_climatology.csv"));
  EXPECT_EQ(read_csv(dir + "/plain/metrics.csv", 4).count("climatology,global,experiment_1,all"),
            0u);
}

TEST(AnalysisBaseline, OneRankWritesWhatAllRanksWrite) {
  const auto dir = test_util::shared_temp_dir("baseline_ranks");
  write_train_store(dir + "/samples");
  auto specs = specs_of({"mlp"}, true);
  for (auto s : specs_of({"lstm"}, false)) specs.push_back(s);
  const auto caches = write_caches(dir + "/caches", specs);
  MPI_Comm alone;
  MPI_Comm_split(MPI_COMM_WORLD, test_util::world_rank() == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (alone != MPI_COMM_NULL) {
    fa::analyze(options_for(caches, dir + "/one", dir + "/samples"), alone);
    MPI_Comm_free(&alone);
  }
  fa::analyze(options_for(caches, dir + "/all", dir + "/samples"), MPI_COMM_WORLD);
  if (test_util::world_rank() != 0) return;
  for (const char* f : {"metrics.csv", "annual_means.csv", "seasonal_cycle.csv",
                        "skill_vs_climatology.csv", "figures/uptake_global_experiment_1.png"})
    EXPECT_EQ(test_util::slurp(dir + "/one/" + f), test_util::slurp(dir + "/all/" + f)) << f;
}

TEST(AnalysisBaseline, ReportHasTheSkillTableAndTheUptakeFigure) {
  const auto dir = test_util::shared_temp_dir("baseline_report");
  write_train_store(dir + "/samples");
  const auto caches = write_caches(dir + "/caches", specs_of({"mlp"}, true));
  const auto s = fa::analyze(options_for(caches, dir + "/out", dir + "/samples"), MPI_COMM_WORLD);
  // The model's maps, differences, seasonal cycle and scatter; the region's
  // annual means and yearly uptake; two comparisons.
  EXPECT_EQ(s.figures, 4 + 2 + 2);
  if (test_util::world_rank() != 0) return;
  const std::string html = test_util::slurp(s.report_path);
  EXPECT_NE(html.find("id=\"skill-vs-climatology\""), std::string::npos);
  EXPECT_NE(html.find("Skill against the climatology"), std::string::npos);
  EXPECT_NE(html.find("Yearly area-integrated flux (PgC/yr)"), std::string::npos);
  EXPECT_NE(html.find("scored on never-sampled cells"), std::string::npos);
  EXPECT_NE(html.find(dir + "/samples/train.h5"), std::string::npos);  // provenance
  std::size_t images = 0;
  for (auto p = html.find("<img"); p != std::string::npos; p = html.find("<img", p + 1)) ++images;
  EXPECT_EQ(images, static_cast<std::size_t>(s.figures));
  EXPECT_TRUE(fs::exists(dir + "/out/figures/uptake_global_experiment_1.png"));
  // In a browser, when there is one: every figure decoded, every table there.
  const std::string exe = test_util::find_chromium();
  if (exe.empty()) return;
  const std::string log = dir + "/chromium.log";
  ASSERT_EQ(test_util::chromium(exe, dir + "/profile", "--dump-dom", s.report_path,
                                dir + "/dom.html", log),
            0)
      << test_util::slurp(log);
  const std::string dom = test_util::slurp(dir + "/dom.html");
  EXPECT_EQ(test_util::dom_attribute(dom, "data-images-loaded"), s.figures);
  // Overall metrics, skill against the climatology, one region, provenance.
  EXPECT_EQ(test_util::dom_attribute(dom, "data-tables"), 1 + 1 + 1 + 1);
}

TEST(AnalysisBaseline, BadSamplesAreNamedOnEveryRankAndNothingIsWritten) {
  const auto dir = test_util::shared_temp_dir("baseline_errors");
  const auto caches = write_caches(dir + "/caches", specs_of({"mlp"}, false));
  auto check = [&](const std::string& name, const std::string& samples,
                   const std::vector<std::string>& expected) {
    SCOPED_TRACE(name);
    const auto opt = options_for(caches, dir + "/" + name + "_out", samples);
    const std::string e = test_util::error_of_call([&] { fa::analyze(opt, MPI_COMM_WORLD); });
    for (const auto& text : expected) EXPECT_NE(e.find(text), std::string::npos) << e;
    MPI_Barrier(MPI_COMM_WORLD);
    EXPECT_FALSE(fs::exists(opt.out_dir + "/index.html"));
    EXPECT_FALSE(fs::exists(opt.out_dir + "/metrics.csv"));
    EXPECT_FALSE(fs::exists(opt.out_dir + "/skill_vs_climatology.csv"));
  };
  if (test_util::world_rank() == 0) fs::create_directories(dir + "/empty");
  MPI_Barrier(MPI_COMM_WORLD);
  check("no_train_h5", dir + "/empty", {dir + "/empty/train.h5", "--samples"});
  check("no_folder", dir + "/nowhere", {dir + "/nowhere", "not a directory"});
  if (test_util::world_rank() == 0) {
    fs::create_directories(dir + "/garbage");
    std::ofstream(dir + "/garbage/train.h5") << "not HDF5\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("not_hdf5", dir + "/garbage", {dir + "/garbage/train.h5", "not HDF5"});
  write_train_store(dir + "/no_location", "location");
  check("no_location", dir + "/no_location", {dir + "/no_location/train.h5", "'location'"});
  // A model named like the baseline.
  auto named = specs_of({"climatology"}, false);
  const auto clash = write_caches(dir + "/clash", named);
  write_train_store(dir + "/samples");
  const std::string e = test_util::error_of_call([&] {
    fa::analyze(options_for(clash, dir + "/clash_out", dir + "/samples"), MPI_COMM_WORLD);
  });
  EXPECT_NE(e.find("'climatology'"), std::string::npos) << e;
}
