// reconstruct under the spatial design with extra features: the caches mark
// the observed locations of their year, predict every cell exactly as the
// model predicts the prepared test sets (so prepare and reconstruct build the
// same windows, global features included), and a model trained on other
// features or another variable mapping is refused.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>

#include <filesystem>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/features.hpp"
#include "data/prepare.hpp"
#include "io/flux_cache_format.hpp"
#include "io/sample_store.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/xgboost_config.hpp"
#include "models/xgboost_model.hpp"
#include "recon/reconstruct.hpp"
#include "support/mpi_test_util.hpp"
#include "support/recon_testbed.hpp"
#include "support/testbed_samples.hpp"

namespace fs = std::filesystem;
using namespace fluxrecon;
using test_util::shared_temp_dir;
using test_util::world_rank;

namespace {

constexpr int kNx = 36, kNy = 18;

std::string spatial_yaml(const std::string& data_dir) {
  return "dataset: {name: spatial, directory: " + data_dir +
         "}\n"
         "experiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
         "training_experiment: experiment_1\n"
         "features: {time: [year, month]}\n"
         "time: {train: [1959, 1960], validation: [1960, 1960], test: [1959, 1960]}\n"
         "domain: {test_regions: [global]}\n"
         "sampling: {design: spatial, mask: random_per_year, fraction: 0.3, seed: 7}\n";
}

config::Config dataset(const std::string& data_dir, const std::string& extra = "") {
  return config::Config::from_text(spatial_yaml(data_dir) + extra, data::dataset_schema(),
                                   "spatial.yaml");
}

const test_util::ReconTestbed& testbed() {
  static const auto t = test_util::make_recon_testbed(
      "recon_spatial", kNx, kNy, [](const std::string& d) { return dataset(d); }, 6);
  return t;
}

recon::ReconstructOptions options(const std::string& models, const std::string& out) {
  return test_util::global_reconstruct_options(models, out);
}

void check_nc(int status, const std::string& what) {
  ASSERT_EQ(status, NC_NOERR) << what << ": " << ncmpi_strerror(status);
}

}  // namespace

TEST(ReconstructSpatial, CachesMarkObservedLocationsAndMatchTheTestSets) {
  const auto out = shared_temp_dir("recon_spatial_caches");
  recon::reconstruct(dataset(testbed().data), options(testbed().models, out), MPI_COMM_WORLD);
  if (world_rank() != 0) return;
  const auto xgb = models::XgboostModel::load(testbed().models + "/xgboost.json");
  const auto norm = models::model_normalisation(xgb.metadata());
  EXPECT_EQ(xgb.dynamic(), 13);  // the seed's 10, year, month_sin, month_cos
  for (int year : {1959, 1960}) {
    const std::string path =
        out + "/" + io::flux_cache::file_name("xgboost", "global", "experiment_1", year);
    int nc = -1;
    check_nc(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), path);
    int v = -1;
    std::vector<signed char> sampled(12 * kNy * kNx);
    std::vector<float> reconstructed(12 * kNy * kNx);
    check_nc(ncmpi_inq_varid(nc, "sampled", &v), "sampled");
    check_nc(ncmpi_get_var_schar_all(nc, v, sampled.data()), "sampled");
    check_nc(ncmpi_inq_varid(nc, "co2flux_reconstructed", &v), "reconstructed");
    check_nc(ncmpi_get_var_float_all(nc, v, reconstructed.data()), "reconstructed");
    MPI_Offset len = 0;
    check_nc(ncmpi_inq_attlen(nc, NC_GLOBAL, "sampling_design", &len), "sampling_design");
    std::string design(static_cast<size_t>(len), '\0');
    ncmpi_get_att_text(nc, NC_GLOBAL, "sampling_design", design.data());
    EXPECT_EQ(design, "spatial");
    ncmpi_close(nc);

    // Observed = the training (1959) or validation (1960) locations of the year.
    const auto observed_set =
        io::read_samples(testbed().samples + (year == 1959 ? "/train.h5" : "/validation.h5"));
    std::set<std::int64_t> observed;
    for (std::int64_t i = 0; i < observed_set.size(); ++i)
      if (observed_set.year[i] == year) observed.insert(observed_set.location[i]);
    ASSERT_FALSE(observed.empty());
    for (int m = 0; m < 12; ++m)
      for (std::int64_t g = 0; g < kNx * kNy; ++g)
        ASSERT_EQ(sampled[m * kNx * kNy + g], observed.count(g) ? 1 : 0)
            << year << " month " << m + 1 << " cell " << g;

    // The never-observed cells are the test set's, predicted alike.
    int window = 0;
    const auto set = io::read_samples(
        testbed().samples + "/test_experiment_1_global_" + std::to_string(year) + ".h5", &window);
    ASSERT_GT(set.size(), 0);
    const auto z =
        xgb.predict(models::flatten_windows(set, window, xgb.dynamic()).data(), set.size());
    for (std::int64_t i = 0; i < set.size(); ++i) {
      ASSERT_FALSE(observed.count(set.location[i]));
      const double expected = z[i] * norm.target_std + norm.target_mean;
      const float got = reconstructed[(set.month[i] - 1) * kNx * kNy + set.location[i]];
      ASSERT_NEAR(got, expected, 2e-6 * (1 + std::abs(expected))) << year << " sample " << i;
    }
  }
}

TEST(ReconstructSpatial, ModelOfOtherFeaturesOrVariableMappingIsRefused) {
  const auto& t = testbed();
  auto refused = [&](const config::Config& cfg, const std::string& needle) {
    const auto out = shared_temp_dir("recon_spatial_refused");
    try {
      recon::reconstruct(cfg, options(t.models, out), MPI_COMM_WORLD);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_TRUE(e.collective()) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("xgboost.json"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(out));
  };
  // SST in kelvin instead of the file's degrees Celsius.
  refused(dataset(t.data, "variables: {SST: {offset: 273.15}}\n"), "variable mapping");
  // Without the time features the model was trained on.
  refused(config::Config::from_text(
              [&] {
                auto text = spatial_yaml(t.data);
                const std::string with = "features: {time: [year, month]}";
                text.replace(text.find(with), with.size(), "features: {time: [year]}");
                return text;
              }(),
              data::dataset_schema(), "spatial.yaml"),
          "was trained with the features");
}
