// reconstruct on the real bling30 output (../shared/data): the cache's
// simulated field is the file's fgco2 at every ocean point (read here with
// plain PnetCDF), land is fill, every ocean point has 12 reconstructed
// months, the cache's cell_area is the file's e1t * e2t (and its ocean sum
// the file's MITgcm ocean area), and the caches are the same on all ranks as
// on rank 0 alone.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/config.hpp"
#include "data/dataset.hpp"
#include "io/flux_cache_format.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "recon/reconstruct.hpp"
#include "support/mpi_test_util.hpp"

namespace fs = std::filesystem;
using test_util::shared_temp_dir;
using test_util::world_rank;
using namespace fluxrecon;

namespace {

constexpr int kNx = 128, kNy = 64;

// One variable of a netCDF file, whole, as float (rank-local).
std::vector<float> read_all(const std::string& path, const char* name, std::size_t count) {
  std::vector<float> out(count);
  int nc = -1, v = -1;
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), NC_NOERR);
  EXPECT_EQ(ncmpi_inq_varid(nc, name, &v), NC_NOERR) << path << ": " << name;
  EXPECT_EQ(ncmpi_get_var_float_all(nc, v, out.data()), NC_NOERR) << path << ": " << name;
  ncmpi_close(nc);
  return out;
}

std::vector<double> read_all_double(const std::string& path, const char* name, std::size_t count) {
  std::vector<double> out(count);
  int nc = -1, v = -1;
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), NC_NOERR);
  EXPECT_EQ(ncmpi_inq_varid(nc, name, &v), NC_NOERR) << path << ": " << name;
  EXPECT_EQ(ncmpi_get_var_double_all(nc, v, out.data()), NC_NOERR) << path << ": " << name;
  ncmpi_close(nc);
  return out;
}

}  // namespace

TEST(ReconstructBling30, SimulatedFieldIsTheFilesAndRanksAgree) {
  const std::string data = std::string(FLUXRECON_SHARED_DATA) + "/bling30";
  if (!fs::exists(data + "/bling_2p8deg_1975.nc"))
    GTEST_SKIP() << "shared data not found: " << data
                 << " (the integration data lives beside the checkout)";
  const auto cfg = config::Config::load(std::string(FLUXRECON_SOURCE_DIR) + "/inputs/bling30.yaml",
                                        data::dataset_schema());
  const auto out = shared_temp_dir("recon_bling30");
  if (world_rank() == 0) {
    // A small MLP with random weights; identity statistics keep it simple.
    models::ModelFile file;
    file.spec.kind = models::NetworkKind::mlp;
    file.spec.hidden_dims = {16};
    auto net = models::make_network(file.spec);
    net->parameters().initialise(5);
    file.weights = net->parameters().state_dict();
    io::Normalisation norm;
    norm.feature_mean.assign(data::kFeatures, 0.0);
    norm.feature_std.assign(data::kFeatures, 100.0);
    file.metadata = {{"features", std::vector<std::string>(data::feature_names().begin(),
                                                           data::feature_names().end())},
                     {"normalisation", models::normalisation_json(norm)}};
    models::write_model_file(out + "/models/mlp.h5", file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  recon::ReconstructOptions opt;
  opt.models_dir = out + "/models";
  opt.experiments = {"experiment_1"};
  opt.first_year = opt.last_year = 1975;
  opt.out_dir = out + "/all";
  const auto summary = recon::reconstruct(cfg, opt, MPI_COMM_WORLD);
  EXPECT_EQ(summary.caches_written, 1);
  EXPECT_EQ(summary.samples, 4447 * 12);  // every ocean cell, 12 months
  MPI_Comm alone;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (world_rank() != 0) return;
  opt.out_dir = out + "/one";
  recon::reconstruct(cfg, opt, alone);
  MPI_Comm_free(&alone);

  const std::string name = "/mlp_global_experiment_1_1975.nc";
  const std::size_t plane = kNx * kNy, cells = 12 * plane;
  const auto simulated = read_all(out + "/all" + name, "co2flux_simulated", cells);
  const auto reconstructed = read_all(out + "/all" + name, "co2flux_reconstructed", cells);
  EXPECT_EQ(0, std::memcmp(simulated.data(),
                           read_all(out + "/one" + name, "co2flux_simulated", cells).data(),
                           cells * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(reconstructed.data(),
                           read_all(out + "/one" + name, "co2flux_reconstructed", cells).data(),
                           cells * sizeof(float)));
  const auto fgco2 = read_all(data + "/bling_2p8deg_1975.nc", "fgco2", cells);
  const auto mask = read_all(data + "/bling_2p8deg_1975.nc", "tmask", plane);
  std::size_t ocean = 0, values = 0;
  for (std::size_t m = 0; m < 12; ++m)
    for (std::size_t i = 0; i < plane; ++i) {
      const std::size_t at = m * plane + i;
      if (mask[i] > 0) {
        ++ocean;
        ASSERT_EQ(simulated[at], fgco2[at]) << "month " << m + 1 << " cell " << i;
        values += reconstructed[at] != io::flux_cache::kFill && std::isfinite(reconstructed[at]);
      } else {
        ASSERT_EQ(simulated[at], io::flux_cache::kFill) << "land cell " << i;
        ASSERT_EQ(reconstructed[at], io::flux_cache::kFill) << "land cell " << i;
      }
    }
  EXPECT_EQ(ocean, 4447u * 12);
  EXPECT_EQ(values, ocean);

  const std::string input = data + "/bling_2p8deg_1975.nc";
  const auto area = read_all_double(out + "/all" + name, "cell_area", plane);
  EXPECT_EQ(area, read_all_double(out + "/one" + name, "cell_area", plane));
  const auto e1t = read_all_double(input, "e1t", plane), e2t = read_all_double(input, "e2t", plane);
  const auto model_area = read_all_double(input, "area", plane);  // MITgcm rA
  double ocean_area = 0, model_ocean_area = 0;
  for (std::size_t i = 0; i < plane; ++i) {
    ASSERT_EQ(area[i], e1t[i] * e2t[i]) << "cell " << i;
    if (mask[i] > 0) {
      ocean_area += area[i];
      model_ocean_area += model_area[i];
    }
  }
  // The file documents e1t * e2t = rA to about 1e-4 (MITgcm dxF is not the
  // mean width of the cell); the ocean sums differ by 1.0e-4.
  EXPECT_NEAR(ocean_area / model_ocean_area, 1.0, 2e-4);
  // About 70 % of the sphere is ocean in this model.
  const double sphere = 4.0 * M_PI * 6371229.0 * 6371229.0;
  EXPECT_GT(ocean_area, 0.6 * sphere);
  EXPECT_LT(ocean_area, 0.8 * sphere);
}
