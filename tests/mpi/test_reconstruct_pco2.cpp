// reconstruct on the pCO2 route: the models learn the surface pCO2 and the
// caches hold the bulk formula's flux of the predicted pCO2. On the
// synthetic testbed, whose flux is that formula, the reference cache (the
// formula on the simulated pCO2) must reproduce the file's flux, and every
// model cache must equal the formula recomputed here from the input files;
// the settings are part of a cache's identity, and inputs in the wrong units
// are refused before anything is written.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>

#include <cmath>
#include <filesystem>

#include "analysis/analyze.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/prepare.hpp"
#include "io/flux_cache_format.hpp"
#include "kernels/bulk_flux.hpp"
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

constexpr int kNx = 36, kNy = 18, kCells = kNx * kNy;

config::Config dataset(const std::string& data_dir, const std::string& route = "") {
  const std::string yaml =
      "dataset: {name: pco2, directory: " + data_dir +
      "}\n"
      "experiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
      "training_experiment: experiment_1\n"
      "variables: {target: {name: pco2_sw}}\n"
      "time: {train: [1959, 1960], validation: [1960, 1960], test: [1959, 1960]}\n"
      "domain: {test_regions: [global]}\n"
      "sampling: {design: spatial, mask: random_per_year, fraction: 0.3, seed: 7}\n"
      "pco2_route: {enabled: true, flux: {name: co2flux}, wind_speed: {name: wind_speed}, " +
      (route.empty() ? std::string("pco2_air: {name: pco2_air}") : route) + "}\n";
  return config::Config::from_text(yaml, data::dataset_schema(), "pco2.yaml");
}

const test_util::ReconTestbed& testbed() {
  static const auto t = test_util::make_recon_testbed(
      "recon_pco2", kNx, kNy, [](const std::string& d) { return dataset(d); }, 6);
  return t;
}

recon::ReconstructOptions options(const std::string& out) {
  return test_util::global_reconstruct_options(testbed().models, out);
}

// A (time, y, x) float variable of a netCDF file, read on this rank alone.
std::vector<float> field(const std::string& path, const char* name) {
  int nc = -1, v = -1;
  std::vector<float> out(12 * kCells);
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), NC_NOERR)
      << path;
  EXPECT_EQ(ncmpi_inq_varid(nc, name, &v), NC_NOERR) << path << ": " << name;
  EXPECT_EQ(ncmpi_get_var_float_all(nc, v, out.data()), NC_NOERR) << path << ": " << name;
  ncmpi_close(nc);
  return out;
}

}  // namespace

TEST(ReconstructPco2, FluxesAreTheBulkFormulaOfThePco2) {
  const auto out = shared_temp_dir("recon_pco2_caches");
  const auto summary = recon::reconstruct(dataset(testbed().data), options(out), MPI_COMM_WORLD);
  EXPECT_EQ(summary.models, (std::vector<std::string>{"xgboost_pco2", "simulated_pco2"}));
  EXPECT_EQ(summary.caches_written, 4);
  if (world_rank() != 0) return;
  for (int year : {1959, 1960}) {
    const std::string input =
        testbed().data + "/testbed_experiment_1_" + std::to_string(year) + ".nc";
    const auto flux = field(input, "co2flux"), pco2 = field(input, "pco2_sw"),
               sst = field(input, "SST"), sal = field(input, "SAL"), ice = field(input, "ice_frac"),
               wind = field(input, "wind_speed"), air = field(input, "pco2_air");
    auto cache = [&](const std::string& model) {
      return out + "/" + io::flux_cache::file_name(model, "global", "experiment_1", year);
    };
    // The reference: the formula on the simulated pCO2 is the testbed's flux.
    const auto ref = cache("simulated_pco2");
    const auto ref_sim = field(ref, "co2flux_simulated"),
               ref_rec = field(ref, "co2flux_reconstructed"),
               ref_pco2 = field(ref, "pco2_reconstructed");
    // The model: its flux is the formula on its pCO2, with the file's inputs.
    const auto model = cache("xgboost_pco2");
    const auto rec = field(model, "co2flux_reconstructed"),
               rec_pco2 = field(model, "pco2_reconstructed"),
               sim = field(model, "co2flux_simulated");
    int compared = 0;
    for (int i = 0; i < 12 * kCells; ++i) {
      if (!(std::abs(flux[i]) < 1e10f)) {  // land
        EXPECT_EQ(ref_rec[i], io::flux_cache::kFill);
        continue;
      }
      EXPECT_EQ(sim[i], flux[i]) << "the simulated flux is the file's, cell-month " << i;
      EXPECT_EQ(ref_sim[i], flux[i]);
      if (ref_rec[i] == io::flux_cache::kFill) continue;  // no complete window (January)
      ++compared;
      EXPECT_EQ(ref_pco2[i], pco2[i]);
      EXPECT_NEAR(ref_rec[i], flux[i], 1e-5 * std::abs(flux[i]) + 1e-12) << i;
      const double expected =
          kernels::co2_flux_bulk(wind[i], sst[i], sal[i], rec_pco2[i], air[i], ice[i]);
      EXPECT_NEAR(rec[i], expected, 1e-5 * std::abs(expected) + 1e-12) << i;
      EXPECT_GT(std::abs(rec_pco2[i] - pco2[i]), 0.0f) << "a model, not a copy: " << i;
    }
    EXPECT_GT(compared, 6 * kCells / 2) << year;
  }
}

TEST(ReconstructPco2, RerunSkipsAndOtherSettingsRedo) {
  const auto out = shared_temp_dir("recon_pco2_rerun");
  recon::reconstruct(dataset(testbed().data), options(out), MPI_COMM_WORLD);
  auto again = recon::reconstruct(dataset(testbed().data), options(out), MPI_COMM_WORLD);
  EXPECT_EQ(again.caches_written, 0);
  EXPECT_EQ(again.caches_reused, 4);
  // Another transfer coefficient makes every cache stale.
  again = recon::reconstruct(
      dataset(testbed().data, "pco2_air: {name: pco2_air}, transfer_coefficient: 0.31"),
      options(out), MPI_COMM_WORLD);
  EXPECT_EQ(again.caches_written, 4);
}

TEST(ReconstructPco2, InputsInOtherUnitsAreRefusedBeforeWriting) {
  const auto out = shared_temp_dir("recon_pco2_units");
  try {
    // Atmospheric pCO2 in atm instead of uatm.
    recon::reconstruct(dataset(testbed().data, "pco2_air: {constant: 0.0004}"), options(out),
                       MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("pco2.yaml"), std::string::npos) << what;
    EXPECT_NE(what.find("atmospheric pCO2 (uatm)"), std::string::npos) << what;
    EXPECT_NE(what.find("constant 0.0004"), std::string::npos) << what;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_TRUE(fs::is_empty(out));
}

TEST(ReconstructPco2, AnalysisRefusesAPco2ClimatologyAsTheFluxBaseline) {
  const auto out = shared_temp_dir("recon_pco2_analyze");
  recon::reconstruct(dataset(testbed().data), options(out + "/caches"), MPI_COMM_WORLD);
  analysis::AnalyzeOptions o;
  o.caches_dir = out + "/caches";
  o.out_dir = out + "/analysis";
  o.samples_dir = testbed().samples;  // target pco2_sw, not the flux the caches score
  try {
    analysis::analyze(o, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.collective()) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("have the target 'pco2_sw'"), std::string::npos) << what;
    EXPECT_NE(what.find("score the flux 'co2flux'"), std::string::npos) << what;
  }
  // Without the baseline the route's caches are analysed like any others.
  o.samples_dir.clear();
  const auto summary = analysis::analyze(o, MPI_COMM_WORLD);
  EXPECT_EQ(summary.caches, 4);
}
