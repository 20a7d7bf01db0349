// fluxrecon reconstruct: caches identical for any number of ranks and rank
// groups, equal to the models' predictions on prepare's test sets, clear
// collective errors for bad input, reruns that skip complete caches.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/cache_reader.hpp"
#include "core/checksum.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/grid.hpp"
#include "data/prepare.hpp"
#include "io/flux_cache_format.hpp"
#include "io/sample_store.hpp"
#include "models/model_file.hpp"
#include "models/network.hpp"
#include "models/nn_inference.hpp"
#include "models/registry.hpp"
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
const char* kNeural[4] = {"mlp", "lstm", "attention_lstm", "gru"};

std::string dataset_yaml(const std::string& data_dir) {
  return "dataset: {name: recon, directory: " + data_dir +
         "}\n"
         "experiments: {experiment_1: {pattern: 'testbed_experiment_1_{year}.nc'}}\n"
         "training_experiment: experiment_1\n"
         "time: {train: [1958, 1958], validation: [1959, 1959], test: [1959, 1960]}\n"
         "domain: {test_regions: [global, North_Atlantic]}\n"
         "sampling: {fraction: 0.5}\n";
}

config::Config dataset(const std::string& data_dir, const std::string& extra = "") {
  return config::Config::from_text(dataset_yaml(data_dir) + extra, data::dataset_schema(),
                                   "recon.yaml");
}

models::NetworkSpec small_spec(const std::string& kind, int window = 4) {
  models::NetworkSpec s;
  s.kind = models::parse_kind(kind);
  s.window = window;
  s.hidden_dims = {24, 16};
  s.hidden_dim = 12;
  s.num_layers = 2;
  return s;
}

// A neural model file with random weights and the training statistics.
void write_random_model(const std::string& path, const std::string& kind,
                        const io::Normalisation& norm, int window = 4,
                        std::vector<std::string> features = {}) {
  if (features.empty()) features.assign(data::feature_names().begin(), data::feature_names().end());
  models::ModelFile file;
  file.spec = small_spec(kind, window);
  auto net = models::make_network(file.spec);
  net->parameters().initialise(11 + kind.size());
  file.weights = net->parameters().state_dict();
  file.metadata = {{"features", features}, {"normalisation", models::normalisation_json(norm)}};
  models::write_model_file(path, file);
}

// Synthetic data (1958-1960), prepared sets with test sets for 1959-1960,
// and the five model files: made once per test binary run.
using Testbed = test_util::ReconTestbed;
const Testbed& testbed() {
  static const Testbed t = [] {
    Testbed b = test_util::make_recon_testbed(
        "recon", kNx, kNy, [](const std::string& d) { return dataset(d); }, 8);
    const auto norm = io::read_normalisation(b.samples + "/train.h5");
    if (world_rank() == 0)
      for (const char* kind : kNeural)
        write_random_model(b.models + "/" + kind + ".h5", kind, norm);
    MPI_Barrier(MPI_COMM_WORLD);
    return b;
  }();
  return t;
}

recon::ReconstructOptions options(const std::string& out, int first = 1959, int last = 1960) {
  recon::ReconstructOptions o;
  o.models_dir = testbed().models;
  o.experiments = {"experiment_1"};
  o.regions = {"global", "North_Atlantic"};
  o.first_year = first;
  o.last_year = last;
  o.out_dir = out;
  o.batch = 97;         // several prediction calls per rank, with a ragged end
  o.chunk_points = 37;  // several chunks per rank, ragged, unequal counts per rank
  return o;
}

void check_nc(int status, const std::string& what) {
  ASSERT_EQ(status, NC_NOERR) << what << ": " << ncmpi_strerror(status);
}

// A cache read back with plain PnetCDF on one rank.
struct Cache {
  std::vector<float> lat, lon, simulated, reconstructed;
  std::vector<double> time, area;
  std::string model, experiment, region, checksum, area_source, area_units, area_detail;
  int year = 0, format = 0;
  float fill = 0;
  // The cache's cells and where they lie in the input grid.
  int ny = 0, nx = 0, y_offset = -1, x_offset = -1, input_ny = 0, input_nx = 0;
  std::string input_grid_checksum;

  // Index in the cache of the input grid's cell `location`; -1 outside.
  std::int64_t at(std::int64_t location) const {
    const std::int64_t y = location / input_nx - y_offset, x = location % input_nx - x_offset;
    return y >= 0 && y < ny && x >= 0 && x < nx ? y * nx + x : -1;
  }
  // The cache's cells of a field of the whole input grid.
  template <class T>
  std::vector<T> cut(const std::vector<T>& input) const {
    std::vector<T> out;
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        out.push_back(input[static_cast<size_t>(y + y_offset) * input_nx + x + x_offset]);
    return out;
  }
};

Cache read_cache(const std::string& path) {
  Cache c;
  int nc = -1;
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), NC_NOERR)
      << path;
  if (nc < 0) return c;
  ncmpi_inq_format(nc, &c.format);
  auto dimension = [&](const char* name) {
    int id = -1;
    MPI_Offset len = 0;
    check_nc(ncmpi_inq_dimid(nc, name, &id), name);
    check_nc(ncmpi_inq_dimlen(nc, id, &len), name);
    return static_cast<int>(len);
  };
  c.ny = dimension("y");
  c.nx = dimension("x");
  const int ny = c.ny, nx = c.nx;
  ncmpi_get_att_int(nc, NC_GLOBAL, "y_offset", &c.y_offset);
  ncmpi_get_att_int(nc, NC_GLOBAL, "x_offset", &c.x_offset);
  ncmpi_get_att_int(nc, NC_GLOBAL, "input_grid_ny", &c.input_ny);
  ncmpi_get_att_int(nc, NC_GLOBAL, "input_grid_nx", &c.input_nx);
  auto text = [&](int var, const char* name) {
    MPI_Offset len = 0;
    if (ncmpi_inq_attlen(nc, var, name, &len) != NC_NOERR) return std::string("<missing>");
    std::string s(static_cast<size_t>(len), '\0');
    ncmpi_get_att_text(nc, var, name, s.data());
    return s;
  };
  auto get = [&](const char* name, std::vector<float>& out, MPI_Offset count) {
    int v = -1;
    check_nc(ncmpi_inq_varid(nc, name, &v), name);
    out.resize(static_cast<size_t>(count));
    check_nc(ncmpi_get_var_float_all(nc, v, out.data()), name);
  };
  get("nav_lat", c.lat, nx * ny);
  get("nav_lon", c.lon, nx * ny);
  get("co2flux_simulated", c.simulated, 12 * nx * ny);
  get("co2flux_reconstructed", c.reconstructed, 12 * nx * ny);
  int v = -1;
  check_nc(ncmpi_inq_varid(nc, "cell_area", &v), "cell_area");
  c.area.resize(static_cast<size_t>(nx * ny));
  check_nc(ncmpi_get_var_double_all(nc, v, c.area.data()), "cell_area");
  c.area_units = text(v, "units");
  c.area_detail = text(v, "source");
  EXPECT_EQ(text(v, "long_name"), "cell area (e1t*e2t)");
  EXPECT_EQ(text(v, "coordinates"), "nav_lat nav_lon");
  check_nc(ncmpi_inq_varid(nc, "time_counter", &v), "time_counter");
  c.time.resize(12);
  check_nc(ncmpi_get_var_double_all(nc, v, c.time.data()), "time_counter");
  check_nc(ncmpi_inq_varid(nc, "co2flux_reconstructed", &v), "co2flux_reconstructed");
  ncmpi_get_att_float(nc, v, "_FillValue", &c.fill);
  EXPECT_EQ(text(v, "units"), "mol m-2 s-1");  // the input file's
  EXPECT_EQ(text(v, "coordinates"), "time_counter nav_lat nav_lon");
  c.model = text(NC_GLOBAL, "model");
  c.experiment = text(NC_GLOBAL, "experiment");
  c.region = text(NC_GLOBAL, "region");
  c.checksum = text(NC_GLOBAL, "model_file_checksum");
  c.input_grid_checksum = text(NC_GLOBAL, "input_grid_checksum");
  c.area_source = text(NC_GLOBAL, "cell_area_source");
  ncmpi_get_att_int(nc, NC_GLOBAL, "year", &c.year);
  ncmpi_close(nc);
  return c;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<std::string> cache_names(int first, int last) {
  std::vector<std::string> names;
  for (const char* model : {"mlp", "lstm", "attention_lstm", "gru", "xgboost"})
    for (const char* region : {"global", "North_Atlantic"})
      for (int y = first; y <= last; ++y)
        names.push_back(io::flux_cache::file_name(model, region, "experiment_1", y));
  return names;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `body` expecting a fluxrecon::Error whose message holds `needle`.
template <class Body>
void expect_error(Body body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one naming '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_TRUE(e.collective()) << e.what();
  }
}

}  // namespace

// (a) The same caches, bit for bit, on every rank count and grouping: all
// ranks in one group sharing rows, one group per year, and rank 0 alone.
TEST(Reconstruct, CachesIdenticalForAnyRanksAndGroups) {
  const auto out = shared_temp_dir("recon_ranks");
  auto grouped = options(out + "/grouped");
  const auto s = recon::reconstruct(dataset(testbed().data), grouped, MPI_COMM_WORLD);
  EXPECT_EQ(s.caches_written, 20);
  EXPECT_EQ(s.caches_reused, 0);
  EXPECT_EQ(s.groups, test_util::world_size());
  EXPECT_EQ(s.models.size(), 5u);
  EXPECT_GT(s.samples, 0);
  auto shared = options(out + "/shared");
  shared.year_groups = 1;
  EXPECT_EQ(recon::reconstruct(dataset(testbed().data), shared, MPI_COMM_WORLD).groups, 1);
  MPI_Comm alone;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (world_rank() == 0) {
    auto one = options(out + "/one");
    one.batch = 1 << 16;
    recon::reconstruct(dataset(testbed().data), one, alone);
    MPI_Comm_free(&alone);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() != 0) return;
  for (const auto& name : cache_names(1959, 1960)) {
    const Cache a = read_cache(out + "/one/" + name);
    EXPECT_EQ(a.format, NC_FORMAT_CDF5) << name;
    for (const char* dir : {"/grouped/", "/shared/"}) {
      const Cache b = read_cache(out + dir + name);
      EXPECT_TRUE(same_bits(a.simulated, b.simulated)) << dir << name;
      EXPECT_TRUE(same_bits(a.reconstructed, b.reconstructed)) << dir << name;
      EXPECT_TRUE(same_bits(a.lat, b.lat) && same_bits(a.lon, b.lon)) << dir << name;
      EXPECT_EQ(a.area, b.area) << dir << name;
      EXPECT_EQ(a.area_detail, b.area_detail) << dir << name;
      EXPECT_EQ(a.time, b.time) << dir << name;
      EXPECT_EQ(a.checksum, b.checksum) << dir << name;
      EXPECT_EQ(a.input_grid_checksum, b.input_grid_checksum) << dir << name;
    }
    // Every cache of the run names the same input grid (a sum of per-cell
    // hashes: the same whatever the split of the rows).
    EXPECT_EQ(a.input_grid_checksum.rfind("18x36:", 0), 0u) << a.input_grid_checksum;
    EXPECT_EQ(a.input_grid_checksum,
              read_cache(out + "/one/" + cache_names(1959, 1960).front()).input_grid_checksum);
  }
}

// (b) At every test-set point the cache holds the model's prediction on the
// test set's window and the test set's (denormalised) target, and fill
// everywhere else.
TEST(Reconstruct, CachesEqualPredictionsOnPreparedTestSets) {
  const auto out = shared_temp_dir("recon_vs_test");
  recon::reconstruct(dataset(testbed().data), options(out), MPI_COMM_WORLD);
  if (world_rank() != 0) return;
  for (const char* model : {"mlp", "lstm", "attention_lstm", "gru", "xgboost"}) {
    std::unique_ptr<models::NnInference> nn;
    std::unique_ptr<models::XgboostModel> xgb;
    const std::string path = testbed().models + "/" + models::model_file_name(model);
    io::Normalisation norm;
    if (std::string(model) == "xgboost") {
      xgb = std::make_unique<models::XgboostModel>(models::XgboostModel::load(path));
      norm = models::model_normalisation(xgb->metadata());
    } else {
      const auto file = models::read_model_file(path);
      nn = std::make_unique<models::NnInference>(file.spec, file.weights);
      norm = models::model_normalisation(file.metadata);
    }
    EXPECT_EQ(file_checksum(path).size(), 24u);  // fnv1a64:<16 hex>
    for (const char* region : {"global", "North_Atlantic"})
      for (int year : {1959, 1960}) {
        const std::string what = std::string(model) + " " + region + " " + std::to_string(year);
        int window = 0;
        const auto set = io::read_samples(
            testbed().samples + "/test_experiment_1_" + region + "_" + std::to_string(year) + ".h5",
            &window);
        ASSERT_GT(set.size(), 0) << what;
        std::vector<float> z(static_cast<size_t>(set.size()));
        if (nn) {
          nn->predict(set.features.data(), static_cast<size_t>(set.size()), z.data());
        } else {
          z = xgb->predict(models::flatten_windows(set, window, 10).data(), set.size());
        }
        const Cache c =
            read_cache(out + "/" + io::flux_cache::file_name(model, region, "experiment_1", year));
        EXPECT_EQ(c.model, model);
        EXPECT_EQ(c.region, region);
        EXPECT_EQ(c.experiment, "experiment_1");
        EXPECT_EQ(c.year, year);
        EXPECT_EQ(c.checksum, file_checksum(path));
        EXPECT_EQ(c.fill, io::flux_cache::kFill);
        // The analysis stage's reader accepts the layout, time axis and units.
        const auto info = analysis::read_cache_info(
            out + "/" + io::flux_cache::file_name(model, region, "experiment_1", year),
            MPI_COMM_SELF);
        EXPECT_EQ(info.year, year);
        EXPECT_EQ(info.to_mol_m2_s, 1.0);
        std::vector<char> covered(c.reconstructed.size(), 0);
        double worst = 0;
        for (std::int64_t i = 0; i < set.size(); ++i) {
          ASSERT_EQ(set.year[i], year);
          const std::int64_t cell = c.at(set.location[i]);
          ASSERT_GE(cell, 0) << what << ": point " << set.location[i] << " is outside the cache";
          const std::int64_t at = (set.month[i] - 1) * c.nx * c.ny + cell;
          covered[at] = 1;
          const double expected = z[i] * norm.target_std + norm.target_mean;
          const double simulated = set.target[i] * norm.target_std + norm.target_mean;
          ASSERT_NEAR(c.reconstructed[at], expected, 2e-6 * (1 + std::abs(expected))) << what;
          ASSERT_NEAR(c.simulated[at], simulated, 2e-6 * (1 + std::abs(simulated))) << what;
          ASSERT_NEAR(c.lat[cell], set.lat[i], 1e-6);
          worst = std::max(worst, std::abs(c.reconstructed[at] - expected));
        }
        // A global cache is the input grid; a regional one the box of the
        // region's points (every ocean point of the region is in the test set).
        int y0 = kNy, y1 = -1, x0 = kNx, x1 = -1;
        for (std::int64_t i = 0; i < set.size(); ++i) {
          const int y = static_cast<int>(set.location[i] / kNx),
                    x = static_cast<int>(set.location[i] % kNx);
          y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
        }
        EXPECT_EQ(c.input_ny, kNy);
        EXPECT_EQ(c.input_nx, kNx);
        if (std::string(region) == "global") {
          EXPECT_EQ(std::vector<int>({c.y_offset, c.x_offset, c.ny, c.nx}),
                    std::vector<int>({0, 0, kNy, kNx}));
        } else {
          EXPECT_EQ(std::vector<int>({c.y_offset, c.x_offset, c.ny, c.nx}),
                    std::vector<int>({y0, x0, y1 - y0 + 1, x1 - x0 + 1}))
              << what;
          EXPECT_LT(c.ny * c.nx, kNy * kNx / 2) << what;
        }
        EXPECT_EQ(info.y_offset, c.y_offset);
        EXPECT_EQ(info.x_offset, c.x_offset);
        EXPECT_EQ(info.input_nx, kNx);
        // Everything outside the test set's points (land, outside the region) is fill.
        std::int64_t stray = 0;
        for (size_t i = 0; i < covered.size(); ++i)
          stray += !covered[i] && c.reconstructed[i] != io::flux_cache::kFill;
        EXPECT_EQ(stray, 0) << what;
        // Outside the region the simulated field is fill too (same points).
        for (size_t i = 0; i < covered.size(); ++i) {
          if (!covered[i]) {
            ASSERT_EQ(c.simulated[i], io::flux_cache::kFill) << what << " " << i;
          }
        }
        EXPECT_DOUBLE_EQ(c.time[0], 14.0);
      }
  }
}

// (d) Bad input: a clear error on every rank, and no cache written.
TEST(Reconstruct, BadInputFailsOnEveryRankNamingTheProblem) {
  const auto out = shared_temp_dir("recon_errors");
  const auto norm = io::read_normalisation(testbed().samples + "/train.h5");
  const auto cfg = dataset(testbed().data);
  if (world_rank() == 0) {
    write_random_model(out + "/window/lstm.h5", "lstm", norm, 3);
    std::vector<std::string> swapped(data::feature_names().begin(), data::feature_names().end());
    std::swap(swapped[0], swapped[1]);
    write_random_model(out + "/features/mlp.h5", "mlp", norm, 4, swapped);
    fs::create_directories(out + "/empty");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto run = [&](recon::ReconstructOptions o) {
    return [&cfg, o] { recon::reconstruct(cfg, o, MPI_COMM_WORLD); };
  };
  auto o = options(out + "/caches", 1959, 1959);
  o.models_dir = out + "/window";
  expect_error(run(o), "trained on windows of 3 months");
  o.models_dir = out + "/features";
  expect_error(run(o), "was trained with the features");
  o = options(out + "/caches", 1959, 1959);
  o.models = {"lstm"};
  o.models_dir = out + "/empty";
  expect_error(run(o), "model file '" + out + "/empty/lstm.h5' is missing");
  o.models = {"all"};
  expect_error(run(o), "no model file in");
  o = options(out + "/caches", 1959, 1959);
  o.regions = {"Atlantis"};
  expect_error(run(o), "unknown region 'Atlantis'");
  {
    // A region between cell centres: no ocean point, so no cache to write.
    std::string yaml = dataset_yaml(testbed().data);
    const std::string domain = "domain: {test_regions: [global, North_Atlantic]}";
    yaml.replace(yaml.find(domain), domain.size(),
                 "domain: {test_regions: [global], boxes: {Nowhere: {boxes: [{lat_min: 0.1, "
                 "lat_max: 0.2, lon_min: 0.1, lon_max: 0.2}]}}}");
    const auto with_nowhere =
        config::Config::from_text(yaml, data::dataset_schema(), "nowhere.yaml");
    o = options(out + "/caches", 1959, 1959);
    o.regions = {"Nowhere"};
    expect_error([&] { recon::reconstruct(with_nowhere, o, MPI_COMM_WORLD); },
                 "region 'Nowhere' holds no ocean point");
  }
  o = options(out + "/caches", 1960, 1961);
  expect_error(run(o), "year 1961 of experiment experiment_1 is outside the data");
  o = options(out + "/caches", 1958, 1958);
  expect_error(run(o), "--start-april");
  o.experiments = {"experiment_9"};
  expect_error(run(o), "unknown experiment 'experiment_9'");
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(fs::exists(out + "/caches") && !fs::is_empty(out + "/caches"));

  // --start-april: the first year without its predecessor; January-March fill.
  o = options(out + "/april", 1958, 1958);
  o.models = {"mlp"};
  o.regions = {"global"};
  o.start_april = true;
  const auto s = recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  EXPECT_EQ(s.caches_written, 1);
  if (world_rank() == 0) {
    const Cache c = read_cache(out + "/april/mlp_global_experiment_1_1958.nc");
    std::int64_t early = 0, later = 0, simulated_early = 0;
    for (int m = 0; m < 12; ++m)
      for (int i = 0; i < kNx * kNy; ++i) {
        const bool value = c.reconstructed[m * kNx * kNy + i] != io::flux_cache::kFill;
        (m < 3 ? early : later) += value;
        simulated_early += m < 3 && c.simulated[m * kNx * kNy + i] != io::flux_cache::kFill;
      }
    EXPECT_EQ(early, 0);
    EXPECT_GT(later, 0);
    EXPECT_GT(simulated_early, 0);  // the simulated field is known for January too
  }
}

// (e) A rerun skips complete caches; a temporary file left by an interrupted
// run does not count, and its cache is redone to the same bytes.
TEST(Reconstruct, RerunSkipsCompleteCachesAndRedoesInterruptedOnes) {
  const auto out = shared_temp_dir("recon_rerun");
  auto o = options(out, 1960, 1960);
  o.models = {"mlp", "xgboost"};
  o.regions = {"North_Atlantic"};
  const auto cfg = dataset(testbed().data);
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_written, 2);
  const std::string mlp = out + "/mlp_North_Atlantic_experiment_1_1960.nc";
  const std::string xgb = out + "/xgboost_North_Atlantic_experiment_1_1960.nc";
  const std::string bytes = read_bytes(mlp);
  const auto again = recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  EXPECT_EQ(again.caches_written, 0);
  EXPECT_EQ(again.caches_reused, 2);
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) {
    fs::remove(mlp);
    std::ofstream(out + "/.mlp_North_Atlantic_experiment_1_1960.nc.part-12345") << "CDF\x05half";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto resumed = recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  EXPECT_EQ(resumed.caches_written, 1);
  EXPECT_EQ(resumed.caches_reused, 1);
  EXPECT_EQ(read_bytes(mlp), bytes);
  o.force = true;
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_written, 2);
  EXPECT_TRUE(fs::exists(xgb));
}

// (e) A complete cache made from another model file (the model was trained
// again) or with another --start-april choice is stale: a rerun redoes it.
TEST(Reconstruct, RerunRedoesCachesOfAnotherModelFileOrStartMonth) {
  const auto out = shared_temp_dir("recon_stale");
  auto o = options(out + "/caches", 1960, 1960);
  o.models_dir = out + "/models";
  o.models = {"mlp"};
  o.regions = {"North_Atlantic"};
  const std::string model = o.models_dir + "/mlp.h5";
  if (world_rank() == 0) {
    fs::create_directories(o.models_dir);
    fs::copy_file(testbed().models + "/mlp.h5", model, fs::copy_options::overwrite_existing);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const auto cfg = dataset(testbed().data);
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_written, 1);
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_reused, 1);

  // The same weights written again with other metadata: another file.
  if (world_rank() == 0) {
    auto file = models::read_model_file(model);
    file.metadata["training"] = {{"note", "trained again"}};
    models::write_model_file(model, file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto redone = recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  EXPECT_EQ(redone.caches_written, 1);
  EXPECT_EQ(redone.caches_reused, 0);
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_reused, 1);

  o.start_april = true;
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_written, 1);
  EXPECT_EQ(recon::reconstruct(cfg, o, MPI_COMM_WORLD).caches_reused, 1);

  // A cache of the same model and month holding other cells (e.g. a
  // whole-grid regional cache of an earlier version): redone.
  auto global = o;
  global.regions = {"global"};
  global.out_dir = out + "/global";
  EXPECT_EQ(recon::reconstruct(cfg, global, MPI_COMM_WORLD).caches_written, 1);
  if (world_rank() == 0)
    fs::copy_file(global.out_dir + "/mlp_global_experiment_1_1960.nc",
                  out + "/caches/mlp_North_Atlantic_experiment_1_1960.nc",
                  fs::copy_options::overwrite_existing);
  MPI_Barrier(MPI_COMM_WORLD);
  redone = recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  EXPECT_EQ(redone.caches_written, 1);
  EXPECT_EQ(redone.caches_reused, 0);
  if (world_rank() == 0) {
    const auto c = read_cache(out + "/caches/mlp_North_Atlantic_experiment_1_1960.nc");
    EXPECT_EQ(c.checksum, file_checksum(model));
  }
}

namespace {

// A (y, x) variable of an input file as double, read on this rank alone.
std::vector<double> read_input_field(const std::string& path, const char* name, size_t cells) {
  std::vector<double> out(cells);
  int nc = -1, v = -1;
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc), NC_NOERR);
  EXPECT_EQ(ncmpi_inq_varid(nc, name, &v), NC_NOERR) << name;
  EXPECT_EQ(ncmpi_get_var_double_all(nc, v, out.data()), NC_NOERR) << name;
  ncmpi_close(nc);
  return out;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

const double kSphere = 4.0 * M_PI * data::earth_radius_m * data::earth_radius_m;

// One MLP cache of `region` for 1959 from the data in `data_dir`, at every
// rank (into out/all) and at rank 0 alone (into out/one).
void reconstruct_all_and_alone(const config::Config& cfg, const std::string& out,
                               const std::string& region = "global") {
  auto o = options(out + "/all", 1959, 1959);
  o.models = {"mlp"};
  o.regions = {region};
  recon::reconstruct(cfg, o, MPI_COMM_WORLD);
  MPI_Comm alone;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank() == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (world_rank() == 0) {
    o.out_dir = out + "/one";
    recon::reconstruct(cfg, o, alone);
    MPI_Comm_free(&alone);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

// (f) Every cache carries the cell areas: e1t * e2t of the input, the same
// at any number of ranks, summing to the sphere; analysis::read_cache_block
// hands each rank its rows of them.
TEST(Reconstruct, CachesCarryTheInputsCellAreas) {
  const auto out = shared_temp_dir("recon_area");
  reconstruct_all_and_alone(dataset(testbed().data), out, "North_Atlantic");
  const std::string name = "mlp_North_Atlantic_experiment_1_1959.nc";
  if (world_rank() == 0) {
    const Cache all = read_cache(out + "/all/" + name), one = read_cache(out + "/one/" + name);
    const std::string input = testbed().data + "/testbed_experiment_1_1959.nc";
    const auto e1t = read_input_field(input, "e1t", kNx * kNy);
    const auto e2t = read_input_field(input, "e2t", kNx * kNy);
    std::vector<double> product(e1t.size());
    for (size_t i = 0; i < e1t.size(); ++i) product[i] = e1t[i] * e2t[i];
    // The regional cache holds its box of the input's areas (and coordinates).
    EXPECT_LT(all.ny * all.nx, kNy * kNx);
    EXPECT_EQ(all.area, all.cut(product));
    const auto lat = read_input_field(input, "nav_lat", kNx * kNy);
    std::vector<float> lat_float(lat.begin(), lat.end());
    EXPECT_EQ(all.lat, all.cut(lat_float));
    EXPECT_EQ(all.area, one.area);
    EXPECT_EQ(all.area_units, "m2");
    EXPECT_EQ(all.area_source, "grid metrics (e1t*e2t)");
  }
  // Rows split like a 2-rank analysis: each rank gets exactly its rows.
  const Cache whole = read_cache(out + "/all/" + name);
  const int n = test_util::world_size(), me = world_rank();
  const int begin = whole.ny * me / n, end = whole.ny * (me + 1) / n;
  const auto block =
      analysis::read_cache_block(out + "/all/" + name, begin, end - begin, MPI_COMM_WORLD);
  const std::vector<double> mine(whole.area.begin() + begin * whole.nx,
                                 whole.area.begin() + end * whole.nx);
  EXPECT_EQ(block.area, mine);
}

// (g) On an ORCA-like grid (cyclic halo columns, north fold) the duplicated
// points get area 0: the areas sum to the sphere once, and over the cache's
// ocean cells to the ocean area of the input (e1t * e2t where tmask, each
// cell once), at any number of ranks.
TEST(Reconstruct, OrcaHaloAreasCountEveryCellOnce) {
  const int nx = 38, ny = 19;  // 36 x 18 cells + 2 halo columns + the fold row
  const auto dir = shared_temp_dir("recon_orca_area");
  test_util::synth_testbed(dir + "/data", nx, ny, 1958, 1959, /*orca_halo=*/true);
  reconstruct_all_and_alone(dataset(dir + "/data"), dir);
  if (world_rank() != 0) return;
  const std::string name = "mlp_global_experiment_1_1959.nc";
  const Cache all = read_cache(dir + "/all/" + name);
  const Cache one = read_cache(dir + "/one/" + name);
  EXPECT_EQ(all.area, one.area);
  EXPECT_TRUE(same_bits(all.reconstructed, one.reconstructed));
  const std::string input = dir + "/data/testbed_experiment_1_1959.nc";
  const auto e1t = read_input_field(input, "e1t", nx * ny);
  const auto e2t = read_input_field(input, "e2t", nx * ny);
  const auto tmask = read_input_field(input, "tmask", nx * ny);
  double ocean = 0, ocean_in_cache = 0;
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      const size_t i = static_cast<size_t>(y) * nx + x;
      const bool halo = x == 0 || x == nx - 1 || y == ny - 1;
      ASSERT_EQ(all.area[i], halo ? 0.0 : e1t[i] * e2t[i]) << "y=" << y << " x=" << x;
      if (!halo && tmask[i] > 0) ocean += e1t[i] * e2t[i];
      if (all.simulated[5 * nx * ny + i] != io::flux_cache::kFill) ocean_in_cache += all.area[i];
    }
  EXPECT_NEAR(sum(all.area) / kSphere, 1.0, 1e-12);
  EXPECT_GT(ocean, 0.3 * kSphere);
  EXPECT_LT(ocean, 0.9 * kSphere);
  EXPECT_NEAR(ocean_in_cache / ocean, 1.0, 1e-12);
}

// (h) Without cell sizes (none named, or the file lacks the named ones) the
// areas come from the cell centres, the cache says so, and they are the
// same at any number of ranks as over the whole grid.
TEST(Reconstruct, CellAreasFromCentresWithoutMetrics) {
  for (const char* grid : {"grid: {cell_width: '', cell_height: ''}\n",
                           "grid: {cell_width: e1x, cell_height: e2t}\n"}) {
    const auto out = shared_temp_dir("recon_area_centres");
    reconstruct_all_and_alone(dataset(testbed().data, grid), out);
    if (world_rank() != 0) continue;
    const std::string name = "mlp_global_experiment_1_1959.nc";
    const Cache all = read_cache(out + "/all/" + name), one = read_cache(out + "/one/" + name);
    EXPECT_EQ(all.area_source, "computed from cell centres") << grid;
    EXPECT_EQ(all.area, one.area) << grid;
    EXPECT_EQ(all.area, fluxrecon::data::cell_areas_from_centres(all.lat, all.lon, kNy, kNx))
        << grid;
    EXPECT_NEAR(sum(all.area) / kSphere, 1.0, 0.02) << grid;
    int nc = -1, v = -1;
    EXPECT_EQ(
        ncmpi_open(MPI_COMM_SELF, (out + "/all/" + name).c_str(), NC_NOWRITE, MPI_INFO_NULL, &nc),
        NC_NOERR);
    EXPECT_EQ(ncmpi_inq_varid(nc, "cell_area", &v), NC_NOERR);
    MPI_Offset len = 0;
    ncmpi_inq_attlen(nc, v, "source", &len);
    std::string source(static_cast<size_t>(len), '\0');
    ncmpi_get_att_text(nc, v, "source", source.data());
    ncmpi_close(nc);
    EXPECT_NE(source.find("from the cell centres"), std::string::npos) << source;
    if (std::string(grid).find("e1x") != std::string::npos) {
      EXPECT_NE(source.find("have no 'e1x'"), std::string::npos) << source;
    }
  }
}
