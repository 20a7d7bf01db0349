// prepare on the real model output in ../shared/data: bling30 (yearly files,
// NEMO-like names) and the 3-year BLING file (one file, 360-day calendar,
// 1-D lat/lon, other names). Same samples on one rank and on all ranks.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "io/sample_store.hpp"
#include "support/mpi_test_util.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

config::Config dataset(const std::string& yaml) {
  return config::Config::load(std::string(FLUXRECON_SOURCE_DIR) + "/inputs/" + yaml,
                              data::dataset_schema());
}
}  // namespace

#define REQUIRE_SHARED(sub)                                                     \
  if (!fs::exists(std::string(FLUXRECON_SHARED_DATA) + "/" sub))                \
  GTEST_SKIP() << "shared data not found: " << FLUXRECON_SHARED_DATA << "/" sub \
               << " (the integration data lives beside the checkout)"

TEST(PrepareSharedData, Bling30CountsStatisticsAndRankIndependence) {
  REQUIRE_SHARED("bling30/bling_2p8deg_1961.nc");
  const auto cfg = dataset("bling30.yaml");
  data::PrepareOptions opt;
  opt.out_dir = shared_temp_dir("bling30_all");
  const auto summary = data::prepare(cfg, opt, MPI_COMM_WORLD);
  // 4447 ocean cells, 25 % drawn; train 1961-1970 = 120 months -> 117 windows each.
  const auto train = io::read_samples(opt.out_dir + "/train.h5");
  const std::int64_t drawn = std::llround(0.25 * 4447);
  EXPECT_EQ(train.size(), drawn * 117);
  EXPECT_EQ(io::read_samples(opt.out_dir + "/validation.h5").size(), drawn * (48 - 3));
  EXPECT_EQ(io::read_samples(opt.out_dir + "/test_experiment_1_global_1977.h5").size(), 4447 * 12);
  // fgco2 in mol m-2 s-1, positive into the ocean: a net sink during the drift.
  const auto norm = io::read_normalisation(opt.out_dir + "/train.h5");
  EXPECT_GT(norm.target_mean, 0.0);
  EXPECT_LT(norm.target_mean, 1e-6);
  EXPECT_GT(norm.feature_mean[0], 10.0);  // SST degC
  EXPECT_LT(norm.feature_mean[0], 25.0);
  EXPECT_NEAR(norm.feature_mean[1], 34.7, 1.0);  // salinity psu
  // z-scored training features: mean ~0, std ~1 over all windows' last step.
  double sum = 0, sum2 = 0;
  for (std::int64_t s = 0; s < train.size(); ++s) {
    const double v = train.features[(s * 4 + 3) * 14 + 0];
    sum += v;
    sum2 += v * v;
  }
  const double n = static_cast<double>(train.size());
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(sum2 / n), 1.0, 0.05);
  EXPECT_GT(summary.bytes_read, 0u);

  // The same samples from one rank.
  data::PrepareOptions one = opt;
  one.out_dir = shared_temp_dir("bling30_one");
  one.test = false;
  if (world_rank() == 0) data::prepare(cfg, one, MPI_COMM_SELF);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto single = io::read_samples(one.out_dir + "/train.h5");
  EXPECT_EQ(single.features, train.features);
  EXPECT_EQ(single.location, train.location);
}

TEST(PrepareSharedData, Bling3YearFileWithOtherNamesAnd360DayCalendar) {
  REQUIRE_SHARED("bling/mitgcm_bling_2p8deg_3yr_monthly_surface.nc");
  const auto cfg = dataset("bling3yr.yaml");
  data::PrepareOptions opt;
  opt.out_dir = shared_temp_dir("bling3yr");
  data::prepare(cfg, opt, MPI_COMM_WORLD);
  const std::int64_t drawn = std::llround(0.5 * 4447);
  const auto train = io::read_samples(opt.out_dir + "/train.h5");
  EXPECT_EQ(train.size(), drawn * (18 - 3));  // months 1-01 to 2-06
  const auto test = io::read_samples(opt.out_dir + "/test_spinup_global_3.h5");
  ASSERT_EQ(test.size(), 4447 * 12);
  for (auto y : test.year) ASSERT_EQ(y, 3);
  // water_flux_up = -fwflx: its training mean is minus the file's mean of fwflx.
  const auto norm = io::read_normalisation(opt.out_dir + "/train.h5");
  EXPECT_EQ(norm.feature_std[2], 1.0);  // ice_frac is the constant 0: scaled by 1
  EXPECT_EQ(norm.feature_mean[2], 0.0);
}
