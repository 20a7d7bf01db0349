// prepare under the spatial (observation-like) design and with extra
// features, on the tiny dataset whose values encode what they are: which
// cell-months are observed, that no test sample is a training or validation
// sample, the extra features' values, rank independence and bad input.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/prepare.hpp"
#include "data/sampling.hpp"
#include "io/sample_store.hpp"
#include "support/mpi_test_util.hpp"
#include "support/tiny_dataset.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

constexpr int kOcean = tiny::nx * tiny::ny - 4;

void write_years(const std::string& dir, int first, int last) {
  if (world_rank() == 0)
    for (int y = first; y <= last; ++y) tiny::write_year(dir, y);
  MPI_Barrier(MPI_COMM_WORLD);
}

data::PrepareSummary run_prepare(const std::string& data_dir, const std::string& out,
                                 const std::string& extra, MPI_Comm comm = MPI_COMM_WORLD,
                                 const std::string& origin = "tiny.yaml") {
  const auto cfg =
      config::Config::from_text(tiny::config_text(data_dir, extra), data::dataset_schema(), origin);
  data::PrepareOptions opt;
  opt.out_dir = out;
  opt.chunk_samples = 7;  // many collective rounds, uneven across ranks
  return data::prepare(cfg, opt, comm);
}

std::string prepare_error(const std::string& data_dir, const std::string& out,
                          const std::string& extra, const std::string& origin = "tiny.yaml") {
  try {
    run_prepare(data_dir, out, extra, MPI_COMM_WORLD, origin);
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << "every rank must learn about: " << e.what();
    return e.what();
  }
  return "";
}

using CellMonth = std::tuple<int, int, std::int64_t>;  // year, month, location
std::set<CellMonth> cell_months(const io::SampleBlock& b) {
  std::set<CellMonth> out;
  for (std::int64_t i = 0; i < b.size(); ++i) out.emplace(b.year[i], b.month[i], b.location[i]);
  return out;
}
std::map<int, std::set<std::int64_t>> locations_by_year(const io::SampleBlock& b) {
  std::map<int, std::set<std::int64_t>> out;
  for (std::int64_t i = 0; i < b.size(); ++i) out[b.year[i]].insert(b.location[i]);
  return out;
}

// The locations a year draws, computed here from the draw's definition: the
// `wanted` smallest keys of (year seed, grid index) among the ocean points.
std::set<std::int64_t> drawn(unsigned long long seed, int year, double fraction) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  for (int y = 0; y < tiny::ny; ++y)
    for (int x = 0; x < tiny::nx; ++x)
      if (!tiny::land(y, x)) {
        const std::int64_t g = y * tiny::nx + x;
        keys.emplace_back(data::location_key(data::year_seed(seed, year), g), g);
      }
  std::sort(keys.begin(), keys.end());
  std::set<std::int64_t> out;
  const auto wanted = static_cast<size_t>(std::llround(fraction * keys.size()));
  for (size_t i = 0; i < wanted; ++i) out.insert(keys[i].second);
  return out;
}

const char* kSpatial =
    "time: {train: [2001, 2004], validation: [2003, 2003], test: [2002, 2004]}\n"
    "domain: {test_regions: [global, Southern_Ocean]}\n"
    "sampling: {design: spatial, mask: random_per_year, fraction: 0.3, seed: 5}\n";

}  // namespace

TEST(PrepareSpatial, YearVaryingDrawAndNoTestSampleIsATrainingOrValidationSample) {
  const auto dir = shared_temp_dir("prepare_spatial");
  write_years(dir + "/data", 2000, 2004);
  run_prepare(dir + "/data", dir + "/out", kSpatial);
  const auto train = io::read_samples(dir + "/out/train.h5");
  const auto valid = io::read_samples(dir + "/out/validation.h5");

  // Training: the training period's years less the validation year, each
  // with the locations drawn for it, all 12 months (January's window reaches
  // into the year before, whose file exists).
  const auto by_year = locations_by_year(train);
  ASSERT_EQ(by_year.size(), 3u);
  for (int year : {2001, 2002, 2004}) {
    ASSERT_TRUE(by_year.count(year)) << year;
    EXPECT_EQ(by_year.at(year), drawn(5, year, 0.3)) << year;
    EXPECT_EQ(by_year.at(year).size(), static_cast<size_t>(std::llround(0.3 * kOcean)));
  }
  EXPECT_NE(by_year.at(2001), by_year.at(2002)) << "the draw must change from year to year";
  EXPECT_EQ(train.size(), 3 * 13 * 12);
  EXPECT_EQ(locations_by_year(valid).size(), 1u);
  EXPECT_EQ(locations_by_year(valid).at(2003), drawn(5, 2003, 0.3));
  EXPECT_EQ(valid.size(), 13 * 12);

  // Test sets: each year's never-observed locations, every month.
  const auto seen = cell_months(train);
  const auto validated = cell_months(valid);
  for (int year : {2002, 2003, 2004}) {
    const auto test =
        io::read_samples(dir + "/out/test_run_global_" + std::to_string(year) + ".h5");
    const auto observed = drawn(5, year, 0.3);
    EXPECT_EQ(test.size(), static_cast<std::int64_t>((kOcean - observed.size()) * 12)) << year;
    for (const auto& cm : cell_months(test)) {
      ASSERT_FALSE(seen.count(cm)) << "test sample of " << year << " is a training sample";
      ASSERT_FALSE(validated.count(cm)) << "test sample of " << year << " is a validation sample";
      ASSERT_FALSE(observed.count(std::get<2>(cm))) << "observed location in the test set";
    }
  }
  // The Southern Ocean set is the global set's southern part.
  const auto so = io::read_samples(dir + "/out/test_run_Southern_Ocean_2004.h5");
  for (const auto lat : so.lat) ASSERT_LT(lat, -30.0f);
}

TEST(PrepareSpatial, SameSamplesOnOneRankAndOnAll) {
  const auto dir = shared_temp_dir("prepare_spatial_ranks");
  write_years(dir + "/data", 2000, 2004);
  const std::string extra = std::string(kSpatial) + "features: {time: [year, month]}\n";
  run_prepare(dir + "/data", dir + "/all", extra);
  if (world_rank() == 0) run_prepare(dir + "/data", dir + "/one", extra, MPI_COMM_SELF);
  MPI_Barrier(MPI_COMM_WORLD);
  for (const char* name : {"train.h5", "validation.h5", "test_run_global_2003.h5",
                           "test_run_Southern_Ocean_2004.h5"}) {
    const auto a = io::read_samples(dir + "/all/" + name),
               b = io::read_samples(dir + "/one/" + name);
    EXPECT_EQ(a.features, b.features) << name;
    EXPECT_EQ(a.target, b.target) << name;
    EXPECT_EQ(a.location, b.location) << name;
    EXPECT_EQ(a.year, b.year) << name;
    EXPECT_EQ(a.month, b.month) << name;
  }
  const auto na = io::read_normalisation(dir + "/all/train.h5"),
             nb = io::read_normalisation(dir + "/one/train.h5");
  EXPECT_EQ(na.feature_mean, nb.feature_mean);
  EXPECT_EQ(na.feature_std, nb.feature_std);
}

TEST(PrepareSpatial, ExtraVariablesSeriesAndTimeFeaturesHoldTheirValues) {
  const auto dir = shared_temp_dir("prepare_features");
  write_years(dir + "/data", 2000, 2004);
  // A global series: 300 + 0.1 * (months since 2000-01), one file for all ranks.
  const std::string csv = dir + "/xco2.csv";
  if (world_rank() == 0) {
    std::ofstream out(csv);
    out << "# monthly global mean\nyear,month,xco2\n";
    for (int y = 1999; y <= 2005; ++y)
      for (int m = 1; m <= 12; ++m)
        out << y << "," << m << "," << 300 + 0.1 * ((y - 2000) * 12 + m - 1) << "\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string extra = std::string(kSpatial) +
                            "features:\n  variables: {SAL2: {name: SAL, scale: 2, offset: 1}}\n"
                            "  series: {xco2: {file: " +
                            csv + "}}\n  time: [year, month]\n";
  run_prepare(dir + "/data", dir + "/out", extra);
  const auto shard = io::read_sample_shard(dir + "/out/train.h5", MPI_COMM_WORLD);
  const std::vector<std::string> expected = {
      "SST",      "SAL",       "ice_frac",   "mixed_layer_depth", "heat_flux_down", "water_flux_up",
      "stress_X", "stress_Y",  "currents_X", "currents_Y",        "SAL2",           "xco2",
      "year",     "month_sin", "month_cos",  "sin_lat",           "cos_lat",        "sin_lon",
      "cos_lon"};
  ASSERT_EQ(shard.feature_names, expected);
  const int width = static_cast<int>(expected.size());
  const auto b = io::read_samples(dir + "/out/train.h5");
  const auto& n = shard.norm;
  auto raw = [&](std::int64_t s, int t, int f) {
    return b.features[(s * 4 + t) * width + f] * n.feature_std[f] + n.feature_mean[f];
  };
  ASSERT_GT(b.size(), 0);
  for (std::int64_t s = 0; s < b.size(); s += 7) {
    const int y = static_cast<int>(b.location[s] / tiny::nx),
              x = static_cast<int>(b.location[s] % tiny::nx);
    for (int t = 0; t < 4; ++t) {
      int month = b.month[s] - 3 + t, year = b.year[s];
      if (month < 1) month += 12, --year;
      const double sal = tiny::value(1, year, month, y, x);
      ASSERT_NEAR(raw(s, t, 10), 2 * sal + 1, 4e-4 * (1 + std::abs(sal)));
      ASSERT_NEAR(raw(s, t, 11), 300 + 0.1 * ((year - 2000) * 12 + month - 1), 1e-3);
      ASSERT_NEAR(raw(s, t, 12), year + (month - 0.5) / 12, 1e-3);
      ASSERT_NEAR(raw(s, t, 13), std::sin(2 * M_PI * (month - 0.5) / 12), 1e-5);
      ASSERT_NEAR(raw(s, t, 14), std::cos(2 * M_PI * (month - 0.5) / 12), 1e-5);
    }
  }
  // A series without the months the periods need is an error naming the file.
  if (world_rank() == 0) {
    std::ofstream out(csv);
    out << "time,xco2\n2001-01,300\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto e = prepare_error(dir + "/data", dir + "/short", extra);
  EXPECT_NE(e.find(csv), std::string::npos) << e;
  EXPECT_NE(e.find("no value for"), std::string::npos) << e;
}

TEST(PrepareSpatial, MaskFileDecidesTheObservedCellMonths) {
  const auto dir = shared_temp_dir("prepare_mask_file");
  write_years(dir + "/data", 2000, 2004);
  // Observed: in 2001-2004, the cells of row 4 in months 2-5, and in odd
  // years also the cell (5, 6) in November (a "ship track").
  auto observed = [](int year, int month, int y, int x) {
    return (y == 4 && month >= 2 && month <= 5) ||
           (year % 2 == 1 && month == 11 && y == 5 && x == 6);
  };
  if (world_rank() == 0)
    for (int year = 2001; year <= 2004; ++year) {
      const std::string path = dir + "/data/obs_" + std::to_string(year) + ".nc";
      int nc = 0, dt, dy, dx, vt, vo;
      tiny::check(
          ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &nc),
          "create");
      tiny::check(ncmpi_def_dim(nc, "time", 12, &dt), "dim");
      tiny::check(ncmpi_def_dim(nc, "y", tiny::ny, &dy), "dim");
      tiny::check(ncmpi_def_dim(nc, "x", tiny::nx, &dx), "dim");
      tiny::check(ncmpi_def_var(nc, "time_counter", NC_DOUBLE, 1, &dt, &vt), "var");
      const char* units = "days since 2000-01-01 00:00:00";
      tiny::check(ncmpi_put_att_text(nc, vt, "units", std::strlen(units), units), "att");
      tiny::check(ncmpi_put_att_text(nc, vt, "calendar", 6, "noleap"), "att");
      int d3[3] = {dt, dy, dx};
      tiny::check(ncmpi_def_var(nc, "obs", NC_FLOAT, 3, d3, &vo), "var");
      tiny::check(ncmpi_enddef(nc), "enddef");
      const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
      std::vector<double> times(12);
      for (int m = 0; m < 12; ++m) times[m] = (year - 2000) * 365 + cum[m] + 14.5;
      std::vector<float> v(12 * tiny::ny * tiny::nx);
      for (int m = 0; m < 12; ++m)
        for (int y = 0; y < tiny::ny; ++y)
          for (int x = 0; x < tiny::nx; ++x)
            v[(m * tiny::ny + y) * tiny::nx + x] = observed(year, m + 1, y, x) ? 1.0f : 0.0f;
      tiny::check(ncmpi_put_var_double_all(nc, vt, times.data()), "put");
      tiny::check(ncmpi_put_var_float_all(nc, vo, v.data()), "put");
      tiny::check(ncmpi_close(nc), "close");
    }
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string extra =
      "time: {train: [2001, 2004], validation: [2003, 2003], test: [2002, 2004]}\n"
      "sampling: {design: spatial, mask: file, mask_file: 'obs_{year}.nc', mask_variable: obs}\n";
  run_prepare(dir + "/data", dir + "/out", extra);
  std::set<CellMonth> expected_train, expected_valid;
  for (int year = 2001; year <= 2004; ++year)
    for (int m = 1; m <= 12; ++m)
      for (int y = 0; y < tiny::ny; ++y)
        for (int x = 0; x < tiny::nx; ++x)
          if (!tiny::land(y, x) && observed(year, m, y, x))
            (year == 2003 ? expected_valid : expected_train).emplace(year, m, y * tiny::nx + x);
  EXPECT_EQ(cell_months(io::read_samples(dir + "/out/train.h5")), expected_train);
  EXPECT_EQ(cell_months(io::read_samples(dir + "/out/validation.h5")), expected_valid);
  // 2003: row 4 and (5, 6) observed in some month, so never in its test set.
  const auto test = io::read_samples(dir + "/out/test_run_global_2003.h5");
  for (const auto location : test.location) {
    ASSERT_NE(location / tiny::nx, 4);
    ASSERT_NE(location, 5 * tiny::nx + 6);
  }
  EXPECT_EQ(test.size(), (kOcean - tiny::nx - 1) * 12);
  // A missing mask file is named before anything is written.
  const auto e = prepare_error(dir + "/data", dir + "/no_mask",
                               "time: {train: [2001, 2004], validation: [2003, 2003], test: [2004, "
                               "2004]}\nsampling: {design: spatial, mask: file, mask_file: "
                               "'none_{year}.nc', mask_variable: obs}\n");
  EXPECT_NE(e.find("none_2001.nc"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir + "/no_mask/train.h5"));
}

TEST(PrepareSpatial, BadDesignsAreNamedErrors) {
  const auto dir = shared_temp_dir("prepare_spatial_bad");
  write_years(dir + "/data", 2000, 2004);
  const std::string data = dir + "/data";
  auto err = [&](const std::string& extra) { return prepare_error(data, dir + "/out", extra); };
  // Temporal design: overlapping training and validation or test periods.
  auto e = err("time: {train: [2001, 2002], validation: [2002, 2003], test: [2004, 2004]}\n");
  EXPECT_NE(e.find("'time.train' and 'time.validation' overlap"), std::string::npos) << e;
  EXPECT_NE(e.find("tiny.yaml"), std::string::npos) << e;
  e = err("time: {train: [2001, 2003], validation: [2004, 2004], test: [2003, 2004]}\n");
  EXPECT_NE(e.find("test year 2003 overlaps the training period"), std::string::npos) << e;
  // Spatial design: whole years only; some year must be left to train on.
  e =
      err("time: {train: {t_start: 2001-03, t_end: 2003-12}, validation: [2003, 2003], test: "
          "[2004, 2004]}\nsampling: {design: spatial}\n");
  EXPECT_NE(e.find("whole years"), std::string::npos) << e;
  e =
      err("time: {train: [2003, 2003], validation: [2003, 2003], test: [2004, 2004]}\n"
          "sampling: {design: spatial, fraction: 0.3}\n");
  EXPECT_NE(e.find("no year is left to train on"), std::string::npos) << e;
  // A draw of no location: advice to raise the fraction.
  e =
      err("time: {train: [2001, 2002], validation: [2003, 2003], test: [2004, 2004]}\n"
          "sampling: {design: spatial, fraction: 0.001}\n");
  EXPECT_NE(e.find("raise the fraction"), std::string::npos) << e;
  // Feature names are unique.
  e =
      err("time: {train: [2001, 2002], validation: [2003, 2003], test: [2004, 2004]}\n"
          "features: {variables: {SST: {name: SAL}}}\n");
  EXPECT_NE(e.find("'SST' is taken"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir + "/out/train.h5"));
}
