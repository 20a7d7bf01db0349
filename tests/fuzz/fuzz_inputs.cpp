// libFuzzer target for every input a user hands fluxrecon: the YAML schemas
// (dataset, pipeline, model, tune search space, tiles meta.yaml) and the
// headers of the netCDF input files and HDF5 sample stores. The target is
// picked by FLUXRECON_FUZZ_TARGET; tests/fuzz/run_fuzz.sh runs each one for a
// bounded, seeded number of inputs under ASan and UBSan.
//
// The contract fuzzed: bad input ends in a fluxrecon::Error (a clear message
// naming the file); a crash, a sanitizer report, a hang, a huge allocation or
// any other exception escaping is a finding.
#include <mpi.h>
#include <pnetcdf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sanitize_options.hpp"
#include "data/dataset.hpp"
#include "io/grid_file.hpp"
#include "io/sample_store.hpp"
#include "models/nn_config.hpp"
#include "models/registry.hpp"
#include "models/xgboost_config.hpp"
#include "pipeline/run_config.hpp"
#include "tiles/meta.hpp"
#include "tune/search_space.hpp"

namespace {
namespace fs = std::filesystem;
using namespace fluxrecon;

std::string g_target;
fs::path g_dir;  // a private scratch folder for inputs that must be files

std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const fs::path path = g_dir / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path.string();
}

void fuzz_models(const std::string& text) {
  for (const auto& info : models::registered_models()) {
    try {
      const auto cfg = config::Config::from_text(text, models::model_schema(info.name), "fuzz");
      if (info.neural) {
        (void)models::network_spec(models::network_kind(info.name), cfg);
        (void)models::training_settings(cfg);
      } else {
        (void)models::xgboost_settings(cfg);
      }
    } catch (const Error&) {
    }
  }
}

// Opens a netCDF file and touches what the readers touch: every variable's
// shape and CF attributes, and a corner of its values.
void fuzz_netcdf(const std::string& path) {
  auto file = io::GridFile::open(path, MPI_COMM_SELF);
  for (const auto& name : file->variable_names()) {
    const auto& var = file->variable(name);
    for (const auto& dim : var.dimensions) (void)file->dimension_length(dim);
    for (const char* attr : {"units", "long_name"}) {
      try {
        (void)file->text_attribute(name, attr);
      } catch (const Error&) {
      }
    }
    for (const char* attr : {"_FillValue", "missing_value", "scale_factor", "valid_range"}) {
      try {
        (void)file->number_attribute_values(name, attr);
      } catch (const Error&) {
      }
    }
    std::vector<std::int64_t> start(var.shape.size(), 0), count(var.shape.size(), 0);
    std::size_t n = 1;
    for (std::size_t d = 0; d < var.shape.size(); ++d) {
      count[d] = std::clamp<std::int64_t>(var.shape[d], 0, 2);
      n *= static_cast<std::size_t>(count[d]);
    }
    std::vector<double> values(n);
    try {
      file->read(name, start, count, values.data());
    } catch (const Error&) {
    }
  }
}

void fuzz_store(const std::string& path) {
  try {
    (void)io::read_metadata(path);
  } catch (const Error&) {
  }
  try {
    (void)io::read_normalisation(path);
  } catch (const Error&) {
  }
  try {
    (void)io::read_samples(path);
  } catch (const Error&) {
  }
  (void)io::read_sample_shard(path, MPI_COMM_SELF);
}

// A small valid file of each binary kind, so that mutations start from a
// real header (the libraries' parsers are not instrumented).
void write_netcdf_seed(const std::string& path) {
  int nc = 0, dims[3], sst = 0, time = 0;
  auto check = [&](int status) {
    if (status != NC_NOERR) {
      std::fprintf(stderr, "fuzz seed %s: %s\n", path.c_str(), ncmpi_strerror(status));
      std::exit(2);
    }
  };
  check(ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &nc));
  check(ncmpi_def_dim(nc, "time_counter", NC_UNLIMITED, &dims[0]));
  check(ncmpi_def_dim(nc, "y", 2, &dims[1]));
  check(ncmpi_def_dim(nc, "x", 3, &dims[2]));
  check(ncmpi_def_var(nc, "time_counter", NC_DOUBLE, 1, dims, &time));
  check(ncmpi_def_var(nc, "SST", NC_FLOAT, 3, dims, &sst));
  const char units[] = "degC";
  check(ncmpi_put_att_text(nc, sst, "units", sizeof(units) - 1, units));
  const float fill = 1e20f;
  check(ncmpi_put_att_float(nc, sst, "_FillValue", NC_FLOAT, 1, &fill));
  const double scale = 0.5;
  check(ncmpi_put_att_double(nc, sst, "scale_factor", NC_DOUBLE, 1, &scale));
  check(ncmpi_enddef(nc));
  const double t[2] = {0, 31};
  const MPI_Offset t_start[1] = {0}, t_count[1] = {2};
  check(ncmpi_put_vara_double_all(nc, time, t_start, t_count, t));
  const float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1e20f};
  const MPI_Offset start[3] = {0, 0, 0}, count[3] = {2, 2, 3};
  check(ncmpi_put_vara_float_all(nc, sst, start, count, v));
  check(ncmpi_close(nc));
}

void write_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  write_netcdf_seed((dir / "input.nc").string());
  io::SampleBlock block;
  const int window = 2, features = 3, samples = 4;
  for (int i = 0; i < samples; ++i) {
    for (int k = 0; k < window * features; ++k) block.features.push_back(0.5f * float(i + k));
    block.target.push_back(float(i));
    block.lat.push_back(10.0f * float(i));
    block.lon.push_back(-20.0f * float(i));
    block.year.push_back(1960);
    block.month.push_back(i + 1);
    block.location.push_back(i);
  }
  io::Normalisation norm;
  norm.feature_mean = {0, 1, 2};
  norm.feature_std = {1, 2, 3};
  {
    io::SampleStoreWriter writer((dir / "store.h5").string(), samples, window,
                                 {"SST", "SAL", "MLD"}, norm, R"({"selection": {"set": "train"}})",
                                 MPI_COMM_SELF);
    writer.write(0, block);
    writer.close();
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  log::set_level(log::Level::quiet);
  const char* target = std::getenv("FLUXRECON_FUZZ_TARGET");
  g_target = target ? target : "";
  static const char* known[] = {"dataset", "run", "model", "space", "meta", "netcdf", "store"};
  bool ok = false;
  for (const char* k : known) ok = ok || g_target == k;
  if (!ok) {
    std::fprintf(stderr,
                 "FLUXRECON_FUZZ_TARGET must be one of dataset, run, model, space, meta, "
                 "netcdf, store (got '%s')\n",
                 g_target.c_str());
    std::exit(2);
  }
  g_dir = fs::temp_directory_path() / ("fluxrecon-fuzz-" + std::to_string(getpid()));
  fs::create_directories(g_dir);
  if (const char* seeds = std::getenv("FLUXRECON_FUZZ_WRITE_SEEDS")) write_seeds(seeds);
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(g_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    if (g_target == "dataset") {
      const auto cfg = config::Config::from_text(text, data::dataset_schema(), "fuzz.yaml");
      (void)data::load_dataset(cfg, g_dir.string());
    } else if (g_target == "run") {
      (void)pipeline::load_run_config(write_input("run.yaml", data, size), g_dir.string());
    } else if (g_target == "model") {
      fuzz_models(text);
    } else if (g_target == "space") {
      (void)tune::SearchSpace::from_text(text, "space.yaml");
    } else if (g_target == "meta") {
      (void)tiles::meta_from_text(text, "meta.yaml", g_dir.string());
    } else if (g_target == "netcdf") {
      fuzz_netcdf(write_input("input.nc", data, size));
    } else if (g_target == "store") {
      fuzz_store(write_input("store.h5", data, size));
    }
  } catch (const Error&) {
  }
  return 0;
}
