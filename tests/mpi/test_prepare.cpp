// prepare on a tiny dataset whose values encode what they are: exact windows,
// sample order, statistics, rank independence and every bad-input path.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "data/synth.hpp"
#include "io/sample_store.hpp"
#include "support/mpi_test_util.hpp"
#include "support/tiny_dataset.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

const char* kPeriods =
    "time: {train: [2001, 2002], validation: [2003, 2003], test: [2003, 2004]}\n";

// The tests' defaults, unless `extra` sets the block itself.
std::string with_defaults(std::string extra) {
  if (extra.find("domain:") == std::string::npos)
    extra += "domain: {test_regions: [global, Southern_Ocean]}\n";
  if (extra.find("sampling:") == std::string::npos) extra += "sampling: {fraction: 0.5}\n";
  return extra;
}

void write_years(const std::string& dir, int first, int last, tiny::Options o = {},
                 int bad_year = -1) {
  if (world_rank() == 0)
    for (int y = first; y <= last; ++y)
      tiny::write_year(dir, y, y == bad_year ? o : tiny::Options{});
  MPI_Barrier(MPI_COMM_WORLD);
}

data::PrepareSummary run_prepare(const std::string& data_dir, const std::string& out,
                                 const std::string& extra, MPI_Comm comm = MPI_COMM_WORLD,
                                 bool force = false) {
  const auto cfg = config::Config::from_text(
      tiny::config_text(data_dir, std::string(kPeriods) + with_defaults(extra)),
      data::dataset_schema(), "tiny.yaml");
  data::PrepareOptions opt;
  opt.out_dir = out;
  opt.force = force;
  opt.chunk_samples = 7;  // many collective rounds, uneven across ranks
  return data::prepare(cfg, opt, comm);
}

std::string prepare_error(const std::string& data_dir, const std::string& out,
                          const std::string& extra) {
  try {
    run_prepare(data_dir, out, extra);
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << "every rank must learn about: " << e.what();
    return e.what();
  }
  return "";
}

bool no_outputs(const std::string& out) {
  if (!fs::exists(out)) return true;
  for (const auto& entry : fs::directory_iterator(out)) {
    const auto name = entry.path().filename().string();
    if (name.find(".h5") != std::string::npos || name.find(".part") != std::string::npos)
      return false;
  }
  return true;
}

}  // namespace

TEST(Prepare, WindowsStatisticsAndOrderAreExact) {
  const auto dir = shared_temp_dir("prepare_exact");
  write_years(dir + "/data", 2000, 2004);
  const auto summary =
      run_prepare(dir + "/data", dir + "/out", "sampling: {fraction: 0.5, seed: 3}\n");
  const int ocean = tiny::nx * tiny::ny - 4;
  const int drawn = static_cast<int>(std::llround(0.5 * ocean));

  int window = 0;
  const auto train = io::read_samples(dir + "/out/train.h5", &window);
  ASSERT_EQ(window, 4);
  // 24 months per location, the first 3 are never targets: 12K - 3.
  ASSERT_EQ(train.size(), drawn * (24 - 3));
  const auto norm = io::read_normalisation(dir + "/out/train.h5");

  // Order: by location (grid index), then time; windows denormalise to the raw values.
  std::set<std::int64_t> locations;
  for (std::int64_t s = 0; s < train.size(); ++s) {
    if (s > 0) {
      const bool later =
          train.location[s] > train.location[s - 1] ||
          (train.location[s] == train.location[s - 1] &&
           train.year[s] * 12 + train.month[s] == train.year[s - 1] * 12 + train.month[s - 1] + 1);
      ASSERT_TRUE(later) << "sample " << s << " is out of (location, time) order";
    }
    locations.insert(train.location[s]);
    const int y = static_cast<int>(train.location[s] / tiny::nx),
              x = static_cast<int>(train.location[s] % tiny::nx);
    ASSERT_FALSE(tiny::land(y, x));
    for (int t = 0; t < 4; ++t) {
      int month = train.month[s] - 3 + t, year = train.year[s];
      if (month < 1) month += 12, --year;
      for (int f = 0; f < 10; ++f) {
        const double raw =
            train.features[(s * 4 + t) * 14 + f] * norm.feature_std[f] + norm.feature_mean[f];
        ASSERT_NEAR(raw, tiny::value(f, year, month, y, x), 2e-4 * (1 + std::abs(raw)));
      }
      const double sin_lat =
          train.features[(s * 4 + t) * 14 + 10] * norm.feature_std[10] + norm.feature_mean[10];
      ASSERT_NEAR(sin_lat, std::sin(tiny::lat_of(y, x) * M_PI / 180), 1e-5);
    }
    const double target = train.target[s] * norm.target_std + norm.target_mean;
    ASSERT_NEAR(target, tiny::value(10, train.year[s], train.month[s], y, x),
                2e-4 * (1 + std::abs(target)));
  }
  ASSERT_EQ(static_cast<int>(locations.size()), drawn);

  // Statistics: two-pass double reference over every training row (ddof = 1).
  for (int f : {0, 4, 10}) {
    std::vector<double> rows;
    for (auto g : locations) {
      const int y = static_cast<int>(g / tiny::nx), x = static_cast<int>(g % tiny::nx);
      for (int year = 2001; year <= 2002; ++year)
        for (int m = 1; m <= 12; ++m)
          rows.push_back(f < 10 ? tiny::value(f, year, m, y, x)
                                : std::sin(tiny::lat_of(y, x) * M_PI / 180));
    }
    double mean = 0, ss = 0;
    for (double v : rows) mean += v;
    mean /= rows.size();
    for (double v : rows) ss += (v - mean) * (v - mean);
    EXPECT_NEAR(norm.feature_mean[f], mean, 1e-5 * (1 + std::abs(mean))) << "feature " << f;
    EXPECT_NEAR(norm.feature_std[f], std::sqrt(ss / (rows.size() - 1)),
                1e-5 * std::sqrt(ss / rows.size()))
        << f;
  }

  // Validation: same locations, its own period, training statistics.
  const auto validation = io::read_samples(dir + "/out/validation.h5");
  EXPECT_EQ(validation.size(), drawn * (12 - 3));
  EXPECT_EQ(io::read_normalisation(dir + "/out/validation.h5").target_mean, norm.target_mean);

  // Test sets: every ocean point, exactly 12 per year; January reaches into December before.
  const auto test = io::read_samples(dir + "/out/test_run_global_2004.h5");
  ASSERT_EQ(test.size(), ocean * 12);
  for (std::int64_t s = 0; s < test.size(); ++s) {
    ASSERT_EQ(test.year[s], 2004);
    if (test.month[s] != 1) continue;
    const int y = static_cast<int>(test.location[s] / tiny::nx),
              x = static_cast<int>(test.location[s] % tiny::nx);
    const double oldest =
        test.features[(s * 4) * 14 + 0] * norm.feature_std[0] + norm.feature_mean[0];
    ASSERT_NEAR(oldest, tiny::value(0, 2003, 10, y, x), 2e-4 * (1 + std::abs(oldest)));
  }
  const auto southern = io::read_samples(dir + "/out/test_run_Southern_Ocean_2003.h5");
  for (float lat : southern.lat) ASSERT_LE(lat, -45.0f);
  // Rows y=0 (lat -75) and y=1 (lat -45, inclusive bound), one land point each.
  EXPECT_EQ(southern.size(), (tiny::nx - 1) * 2 * 12);
  EXPECT_TRUE(fs::exists(dir + "/out/prepare_summary.json"));
  EXPECT_TRUE(fs::exists(dir + "/out/prepare_config.yaml"));
  EXPECT_GT(summary.samples, 0);

  // A rerun skips complete outputs.
  const auto again =
      run_prepare(dir + "/data", dir + "/out", "sampling: {fraction: 0.5, seed: 3}\n");
  for (const auto& set : again.sets) EXPECT_TRUE(set.reused) << set.path;
}

// A rerun redoes exactly the sets whose settings changed: the test sets for
// another test fraction, everything for another training fraction (the
// statistics change), nothing when the settings are those of the files.
TEST(Prepare, RerunRedoesTheSetsPreparedWithOtherSettings) {
  const auto dir = shared_temp_dir("prepare_stale");
  write_years(dir + "/data", 2000, 2004);
  const auto reused = [&](const std::string& sampling) {
    std::map<std::string, bool> by_name;
    for (const auto& set : run_prepare(dir + "/data", dir + "/out", sampling).sets)
      by_name[fs::path(set.path).filename().string()] = set.reused;
    return by_name;
  };
  const std::vector<std::string> tests = {"test_run_global_2003.h5", "test_run_global_2004.h5",
                                          "test_run_Southern_Ocean_2003.h5",
                                          "test_run_Southern_Ocean_2004.h5"};
  auto first = reused("sampling: {fraction: 0.5, test_fraction: 1.0}\n");
  EXPECT_EQ(first.size(), 6u);
  for (const auto& [name, was_reused] : first) EXPECT_FALSE(was_reused) << name;

  auto other_test_fraction = reused("sampling: {fraction: 0.5, test_fraction: 0.5}\n");
  EXPECT_TRUE(other_test_fraction["train.h5"]);
  EXPECT_TRUE(other_test_fraction["validation.h5"]);
  for (const auto& name : tests) EXPECT_FALSE(other_test_fraction[name]) << name;
  const auto global = io::read_samples(dir + "/out/test_run_global_2003.h5");
  EXPECT_EQ(global.size(), std::llround(0.5 * (tiny::nx * tiny::ny - 4)) * 12);

  auto other_fraction = reused("sampling: {fraction: 0.25, test_fraction: 0.5}\n");
  for (const auto& [name, was_reused] : other_fraction) EXPECT_FALSE(was_reused) << name;

  auto same = reused("sampling: {fraction: 0.25, test_fraction: 0.5}\n");
  for (const auto& [name, was_reused] : same) EXPECT_TRUE(was_reused) << name;
}

TEST(Prepare, SameSamplesOnOneRankAndOnAll) {
  const auto dir = shared_temp_dir("prepare_ranks");
  write_years(dir + "/data", 2000, 2004);
  const std::string extra = "sampling: {fraction: 0.3, seed: 11}\n";
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
    EXPECT_EQ(a.month, b.month) << name;
  }
  // Shards: contiguous, in rank order, together exactly the whole store.
  const auto whole = io::read_samples(dir + "/all/train.h5");
  const auto shard = io::read_sample_shard(dir + "/all/train.h5", MPI_COMM_WORLD);
  EXPECT_EQ(shard.total, whole.size());
  EXPECT_EQ(shard.window, 4);
  int count = static_cast<int>(shard.block.size()), size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<int> counts(size), displs(size, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  EXPECT_EQ(shard.offset, displs[world_rank()]);
  std::vector<float> gathered(whole.target.size());
  MPI_Allgatherv(shard.block.target.data(), count, MPI_FLOAT, gathered.data(), counts.data(),
                 displs.data(), MPI_FLOAT, MPI_COMM_WORLD);
  EXPECT_EQ(gathered, whole.target);
  for (std::int64_t i = 0; i < shard.block.size(); ++i)
    ASSERT_EQ(shard.block.location[i], whole.location[shard.offset + i]);
  EXPECT_EQ(shard.norm.feature_mean, io::read_normalisation(dir + "/all/train.h5").feature_mean);

  const auto na = io::read_normalisation(dir + "/all/train.h5"),
             nb = io::read_normalisation(dir + "/one/train.h5");
  EXPECT_EQ(na.feature_mean, nb.feature_mean);
  EXPECT_EQ(na.feature_std, nb.feature_std);
}

TEST(Prepare, BadInputStopsEveryRankAndWritesNothing) {
  const auto dir = shared_temp_dir("prepare_bad");
  write_years(dir + "/good", 2000, 2004);

  // A missing year file.
  write_years(dir + "/missing", 2000, 2003);
  auto msg = prepare_error(dir + "/missing", dir + "/out1", "");
  EXPECT_NE(msg.find("tiny_2004.nc"), std::string::npos) << msg;
  EXPECT_TRUE(no_outputs(dir + "/out1"));

  // A year with 11 months.
  tiny::Options eleven;
  eleven.months = 11;
  write_years(dir + "/eleven", 2000, 2004, eleven, 2002);
  msg = prepare_error(dir + "/eleven", dir + "/out2", "");
  EXPECT_NE(msg.find("tiny_2002.nc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 12"), std::string::npos) << msg;
  EXPECT_TRUE(no_outputs(dir + "/out2"));

  // NaN inside the ocean mask: an error naming file, variable and point; or skipped and counted.
  tiny::Options nan;
  nan.nan_in_ocean = true;
  write_years(dir + "/nan", 2000, 2004, nan, 2001);
  msg = prepare_error(dir + "/nan", dir + "/out3", "sampling: {fraction: 1.0}\n");
  EXPECT_NE(msg.find("tiny_2001.nc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("heat_flux_down"), std::string::npos) << msg;
  EXPECT_NE(msg.find("y=4 x=5"), std::string::npos) << msg;
  EXPECT_TRUE(no_outputs(dir + "/out3"));
  const auto skipped = run_prepare(dir + "/nan", dir + "/out3b",
                                   "sampling: {fraction: 1.0, missing_values: skip}\n");
  EXPECT_EQ(skipped.sets[0].skipped_windows,
            4);  // the windows that contain June 2001 at that point

  // A missing variable.
  tiny::Options novar;
  novar.drop_variable = true;
  write_years(dir + "/novar", 2000, 2004, novar, 2003);
  msg = prepare_error(dir + "/novar", dir + "/out4", "");
  EXPECT_NE(msg.find("currents_Y"), std::string::npos) << msg;

  // Unknown region, empty selection, unwritable output.
  try {
    run_prepare(dir + "/good", dir + "/out5", "domain: {train_region: Atlantis}\n");
    ADD_FAILURE() << "unknown region accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Atlantis"), std::string::npos) << e.what();
  }
  msg = prepare_error(dir + "/good", dir + "/out6", "sampling: {fraction: 0.0}\n");
  EXPECT_NE(msg.find("selection is empty"), std::string::npos) << msg;
  EXPECT_TRUE(no_outputs(dir + "/out6"));
  msg = prepare_error(dir + "/good", "/proc/fluxrecon_cannot_write_here", "");
  EXPECT_NE(msg.find("/proc/fluxrecon_cannot_write_here"), std::string::npos) << msg;

  // A truncated netCDF file.
  write_years(dir + "/truncated", 2000, 2004);
  if (world_rank() == 0)
    fs::resize_file(dir + "/truncated/tiny_2002.nc",
                    fs::file_size(dir + "/truncated/tiny_2002.nc") / 2);
  MPI_Barrier(MPI_COMM_WORLD);
  msg = prepare_error(dir + "/truncated", dir + "/out7", "");
  EXPECT_NE(msg.find("tiny_2002.nc"), std::string::npos) << msg;
  EXPECT_TRUE(no_outputs(dir + "/out7"));
}

TEST(Prepare, OrcaHaloAndNorthFoldPointsCountOnce) {
  // The same synthetic ocean with and without ORCA-like duplicated points
  // (2 cyclic halo columns, a north-fold row) gives the same samples.
  const auto dir = shared_temp_dir("prepare_halo");
  data::SynthOptions plain;
  plain.out_dir = dir + "/plain";
  plain.nx = 36;
  plain.ny = 18;
  plain.first_year = 1989;
  plain.last_year = 1990;
  plain.experiments = {{"experiment_1", 1.0}};
  data::SynthOptions halo = plain;
  halo.out_dir = dir + "/halo";
  halo.orca_halo = true;
  halo.nx = plain.nx + 2;
  halo.ny = plain.ny + 1;
  data::generate_testbed(plain, MPI_COMM_WORLD);
  data::generate_testbed(halo, MPI_COMM_WORLD);
  auto run = [&](const std::string& data_dir, const std::string& out) {
    const std::string yaml =
        "dataset: {name: halo, directory: " + data_dir +
        "}\nexperiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
        "training_experiment: experiment_1\n"
        "time: {train: [1989, 1989], validation: [1990, 1990], test: [1990, 1990]}\n"
        "sampling: {fraction: 1.0}\n";
    data::PrepareOptions opt;
    opt.out_dir = out;
    data::prepare(config::Config::from_text(yaml, data::dataset_schema(), "halo.yaml"), opt,
                  MPI_COMM_WORLD);
    return io::read_samples(out + "/test_experiment_1_global_1990.h5");
  };
  auto a = run(plain.out_dir, dir + "/out_plain");
  auto b = run(halo.out_dir, dir + "/out_halo");
  ASSERT_EQ(a.size(), b.size());
  std::sort(a.target.begin(), a.target.end());
  std::sort(b.target.begin(), b.target.end());
  EXPECT_EQ(a.target, b.target);
}
