#include "io/sample_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "io/hdf5_attributes.hpp"

namespace fluxrecon::io {
namespace {

void check(herr_t status, const std::string& path, const char* what) {
  FR_REQUIRE(status >= 0, "HDF5 failed to ", what, " in '", final_name_of(path), "'");
}

// Switches HDF5's printing of its error stack off for one scope: our errors
// name the file and what failed, and pages of HDF5 diagnostics on every rank
// would hide them.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= names.size();) {
    const auto comma = std::min(names.find(',', start), names.size());
    out.push_back(names.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Selects rows [offset, offset+count) of a (N[, d1, d2]) dataset in
// `file_space` and returns the matching memory space; a rank with no rows
// selects none and still takes part in the collective transfer.
hid_t select_rows(hid_t file_space, int rank, std::int64_t offset, std::int64_t count, hsize_t d1,
                  hsize_t d2) {
  hsize_t start[3] = {static_cast<hsize_t>(offset), 0, 0};
  hsize_t size[3] = {static_cast<hsize_t>(count), d1, d2};
  hid_t memory_space = H5Screate_simple(rank, size, nullptr);
  if (count > 0) {
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, size, nullptr);
  } else {
    H5Sselect_none(file_space);
    H5Sselect_none(memory_space);
  }
  return memory_space;
}

void write_double_attribute(hid_t file, const char* name, const double* values, hsize_t n,
                            const std::string& path) {
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t attr = H5Acreate2(file, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
  check(attr, path, name);
  check(H5Awrite(attr, H5T_NATIVE_DOUBLE, values), path, name);
  H5Aclose(attr);
  H5Sclose(space);
}

}  // namespace

std::string first_non_finite(const SampleBlock& b, int window,
                             const std::vector<std::string>& feature_names,
                             std::int64_t first_sample, const std::string& path) {
  const std::size_t features = feature_names.size();
  const std::size_t row = static_cast<std::size_t>(std::max(window, 0)) * features;
  const std::size_t n = b.target.size();
  if (row == 0 || b.features.size() != n * row)
    return n == 0 ? std::string()
                  : concat("sample store '", final_name_of(path), "': ", b.features.size(),
                           " feature values for ", n, " samples of ", window, " x ", features);
  auto describe = [&](const char* dataset, std::size_t i, float value) {
    return concat("sample store '", final_name_of(path), "': dataset '", dataset, "' holds ", value,
                  " at sample ", first_sample + static_cast<std::int64_t>(i));
  };
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = b.features.data() + i * row;
    for (std::size_t k = 0; k < row; ++k) {
      if (std::isfinite(x[k])) continue;
      return concat(describe("features", i, x[k]), ", feature '", feature_names[k % features],
                    "' (month ", k / features + 1, " of the ", window,
                    "-month window); non-finite inputs are never trained on: check the input "
                    "files and prepare again");
    }
    if (!std::isfinite(b.target[i]))
      return concat(describe("target", i, b.target[i]),
                    "; non-finite targets are never trained on: check the input files and "
                    "prepare again");
  }
  return {};
}

SampleStoreWriter::SampleStoreWriter(const std::string& path, std::int64_t total, int window,
                                     const std::vector<std::string>& feature_names,
                                     const Normalisation& norm, const std::string& metadata_json,
                                     MPI_Comm comm)
    : path_(path),
      comm_(comm),
      window_(window),
      features_(static_cast<int>(feature_names.size())),
      names_(feature_names) {
  QuietErrors quiet;
  FR_REQUIRE(norm.feature_mean.size() == feature_names.size() &&
                 norm.feature_std.size() == feature_names.size(),
             "sample store '", path, "': ", feature_names.size(),
             " feature names but statistics of ", norm.feature_mean.size(), " features");
  all_ranks_agree(comm_, [&] {
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(access, comm_, MPI_INFO_NULL);
    use_checksummed_format(access);
    file_ = H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access);
    H5Pclose(access);
    FR_REQUIRE(file_ >= 0, "cannot create sample store '", final_name_of(path_), "'");
  });
  transfer_ = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(transfer_, H5FD_MPIO_INDEPENDENT);
  try {
    all_ranks_agree(comm_, [&] {
      auto create = [&](const char* name, hid_t type, int inner_dims) {
        hsize_t dims[3] = {static_cast<hsize_t>(total), static_cast<hsize_t>(window),
                           static_cast<hsize_t>(feature_names.size())};
        hid_t space = H5Screate_simple(inner_dims ? 3 : 1, dims, nullptr);
        hid_t set = H5Dcreate2(file_, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(space);
        check(set, path_, name);
        H5Dclose(set);
      };
      create("features", H5T_IEEE_F32LE, 1);
      create("target", H5T_IEEE_F32LE, 0);
      create("lat", H5T_IEEE_F32LE, 0);
      create("lon", H5T_IEEE_F32LE, 0);
      create("year", H5T_STD_I32LE, 0);
      create("month", H5T_STD_I32LE, 0);
      create("location", H5T_STD_I64LE, 0);
      // Attributes are written collectively with identical values on all ranks.
      std::string names;
      for (const auto& n : feature_names) names += (names.empty() ? "" : ",") + n;
      write_string_attribute(file_, "feature_names", names, path_);
      write_double_attribute(file_, "feature_mean", norm.feature_mean.data(), features_, path_);
      write_double_attribute(file_, "feature_std", norm.feature_std.data(), features_, path_);
      write_double_attribute(file_, "target_mean", &norm.target_mean, 1, path_);
      write_double_attribute(file_, "target_std", &norm.target_std, 1, path_);
      write_string_attribute(file_, "metadata", metadata_json, path_);
    });
    // The data's bytes and room for HDF5's metadata, so that a full disk
    // fails here instead of in a write or in HDF5's collective close.
    const auto row = static_cast<std::uint64_t>(window) * features_ * 4 + 4 * 5 + 8;
    reserve_space(
        path_, static_cast<std::uint64_t>(total) * row + (1u << 16) + metadata_json.size(), comm_);
  } catch (...) {
    close_quietly();  // every rank is here: the errors above are collective
    throw;
  }
}

void SampleStoreWriter::close_quietly() {
  if (file_ < 0) return;
  QuietErrors quiet;
  H5Pclose(transfer_);
  H5Fclose(file_);
  file_ = -1;
}

SampleStoreWriter::~SampleStoreWriter() {
  // H5Fclose is collective: when only this rank fails, the others are not
  // there to close with it (main() aborts the job instead).
  if (!unwinding_from_rank_local_error()) close_quietly();
}

herr_t SampleStoreWriter::write_dataset(const char* name, hid_t type, std::int64_t offset,
                                        std::int64_t count, int inner, const void* data) {
  hid_t set = H5Dopen2(file_, name, H5P_DEFAULT);
  if (set < 0) return set;
  hid_t file_space = H5Dget_space(set);
  hid_t memory_space = select_rows(file_space, inner > 1 ? 3 : 1, offset, count,
                                   static_cast<hsize_t>(window_), static_cast<hsize_t>(features_));
  const herr_t status = H5Dwrite(set, type, memory_space, file_space, transfer_, data);
  H5Sclose(memory_space);
  H5Sclose(file_space);
  H5Dclose(set);
  return status;
}

void SampleStoreWriter::write(std::int64_t offset, const SampleBlock& b) {
  QuietErrors quiet;
  all_ranks_agree(comm_, [&] {
    const std::string bad = first_non_finite(b, window_, names_, offset, path_);
    FR_REQUIRE(bad.empty(), bad);
  });
  const std::int64_t n = b.size();
  const char* failed = nullptr;
  int err = 0;
  auto put = [&](const char* name, hid_t type, int inner, const void* data) {
    errno = 0;
    if (write_dataset(name, type, offset, n, inner, data) < 0 && failed == nullptr) {
      failed = name;
      err = errno;
    }
  };
  put("features", H5T_NATIVE_FLOAT, window_ * features_, b.features.data());
  put("target", H5T_NATIVE_FLOAT, 1, b.target.data());
  put("lat", H5T_NATIVE_FLOAT, 1, b.lat.data());
  put("lon", H5T_NATIVE_FLOAT, 1, b.lon.data());
  put("year", H5T_NATIVE_INT32, 1, b.year.data());
  put("month", H5T_NATIVE_INT32, 1, b.month.data());
  put("location", H5T_NATIVE_INT64, 1, b.location.data());
  // Agreed on before anything collective follows (the next write, the close).
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(failed == nullptr, "cannot write dataset '", failed, "' of sample store '",
               final_name_of(path_), "'", err != 0 ? ": " + system_error_text(err) : "");
  });
}

void SampleStoreWriter::close() {
  if (file_ < 0) return;
  QuietErrors quiet;
  H5Pclose(transfer_);
  errno = 0;
  const herr_t status = H5Fclose(file_);
  const int err = errno;
  file_ = -1;
  all_ranks_agree(comm_, [&] {
    FR_REQUIRE(status >= 0, "cannot close sample store '", final_name_of(path_),
               "' (its data may be incomplete)",
               err != 0 ? ": " + system_error_text(err) : std::string());
  });
}

namespace {
struct SerialFile {
  const hid_t id;
  explicit SerialFile(const std::string& path) : id(open_for_reading(path)) {
    FR_REQUIRE(id >= 0, "cannot open sample store '", path, "' (missing or not HDF5)");
  }
  ~SerialFile() { H5Fclose(id); }
};

// Reads a double attribute of `count` values (0: any number, resizing `out`).
void read_double_attribute(hid_t file, const char* name, std::vector<double>& out,
                           const std::string& path, hssize_t count = 0) {
  hid_t attr = -1;
  H5E_BEGIN_TRY { attr = H5Aopen(file, name, H5P_DEFAULT); }
  H5E_END_TRY;
  FR_REQUIRE(attr >= 0, "sample store '", path, "' has no attribute '", name, "'");
  hid_t space = H5Aget_space(attr);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  H5Sclose(space);
  if (n < 0 || (count > 0 && n != count)) {
    H5Aclose(attr);
    FR_FAIL("sample store '", path, "': attribute '", name, "' has ", n, " values, expected ",
            count);
  }
  out.resize(static_cast<size_t>(n));
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, out.data()), path, name);
  H5Aclose(attr);
}

void read_double_attribute(hid_t file, const char* name, double* out, const std::string& path) {
  std::vector<double> v;
  read_double_attribute(file, name, v, path, 1);
  *out = v[0];
}

// A damaged store may state any shape: before a buffer is sized by it, the
// dataset must really hold that many values (stores are contiguous and
// uncompressed), or a flipped bit would ask for exabytes.
hsize_t checked_element_count(hid_t set, const std::vector<hsize_t>& dims, const std::string& path,
                              const char* name) {
  hsize_t total = 1;
  for (hsize_t d : dims) {
    FR_REQUIRE(d == 0 || total <= std::numeric_limits<hsize_t>::max() / d, "sample store '", path,
               "': dataset '", name, "' has an impossible shape (a damaged file)");
    total *= d;
  }
  hid_t type = H5Dget_type(set);
  const std::size_t size = type >= 0 ? H5Tget_size(type) : 0;
  if (type >= 0) H5Tclose(type);
  const hsize_t stored = H5Dget_storage_size(set);
  FR_REQUIRE(total == 0 || (size > 0 && stored / size >= total), "sample store '", path,
             "': dataset '", name, "' states ", total, " values but holds ", stored,
             " bytes (a truncated or damaged file; run fluxrecon prepare again)");
  return total;
}

template <class T>
std::vector<T> read_all(hid_t file, const char* name, hid_t type, const std::string& path,
                        std::vector<hsize_t>* shape = nullptr) {
  hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
  FR_REQUIRE(set >= 0, "sample store '", path, "' has no dataset '", name, "'");
  hid_t space = H5Dget_space(set);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  const hsize_t total = checked_element_count(set, dims, path, name);
  std::vector<T> out(total);
  if (total > 0) check(H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), path, name);
  H5Sclose(space);
  H5Dclose(set);
  if (shape) *shape = dims;
  return out;
}
}  // namespace

Normalisation read_normalisation(const std::string& path) {
  SerialFile f(path);
  Normalisation n;
  read_double_attribute(f.id, "feature_mean", n.feature_mean, path);
  read_double_attribute(f.id, "feature_std", n.feature_std, path,
                        static_cast<hssize_t>(n.feature_mean.size()));
  read_double_attribute(f.id, "target_mean", &n.target_mean, path);
  read_double_attribute(f.id, "target_std", &n.target_std, path);
  return n;
}

std::string read_metadata(const std::string& path) {
  SerialFile f(path);
  return read_metadata_from(f.id, path);
}

std::string read_metadata_from(hid_t file, const std::string& path) {
  return read_string_attribute(file, "metadata", path);
}

SampleBlock read_samples(const std::string& path, int* window) {
  QuietErrors quiet;
  SerialFile f(path);
  SampleBlock b;
  std::vector<hsize_t> shape;
  b.features = read_all<float>(f.id, "features", H5T_NATIVE_FLOAT, path, &shape);
  if (window) *window = shape.size() == 3 ? static_cast<int>(shape[1]) : 0;
  b.target = read_all<float>(f.id, "target", H5T_NATIVE_FLOAT, path);
  b.lat = read_all<float>(f.id, "lat", H5T_NATIVE_FLOAT, path);
  b.lon = read_all<float>(f.id, "lon", H5T_NATIVE_FLOAT, path);
  b.year = read_all<std::int32_t>(f.id, "year", H5T_NATIVE_INT32, path);
  b.month = read_all<std::int32_t>(f.id, "month", H5T_NATIVE_INT32, path);
  b.location = read_all<std::int64_t>(f.id, "location", H5T_NATIVE_INT64, path);
  const std::string bad =
      first_non_finite(b, shape.size() == 3 ? static_cast<int>(shape[1]) : 0,
                       split_names(read_string_attribute(f.id, "feature_names", path)), 0, path);
  FR_REQUIRE(bad.empty(), bad);
  return b;
}

namespace {
template <class T>
void read_rows(hid_t file, const char* name, hid_t type, std::int64_t offset, std::int64_t count,
               hsize_t inner, hid_t transfer, std::vector<T>& out, const std::string& path) {
  hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
  FR_REQUIRE(set >= 0, "sample store '", path, "' has no dataset '", name, "'");
  hid_t file_space = H5Dget_space(set);
  const int rank = H5Sget_simple_extent_ndims(file_space);
  hsize_t dims[3] = {0, 0, 0};
  H5Sget_simple_extent_dims(file_space, dims, nullptr);
  checked_element_count(set, std::vector<hsize_t>(dims, dims + std::max(rank, 0)), path, name);
  out.resize(static_cast<size_t>(count) * inner);
  hid_t memory_space = select_rows(file_space, rank, offset, count, dims[1], dims[2]);
  const herr_t status = H5Dread(set, type, memory_space, file_space, transfer, out.data());
  H5Sclose(memory_space);
  H5Sclose(file_space);
  H5Dclose(set);
  check(status, path, name);
}
}  // namespace

SampleShard read_sample_shard(const std::string& path, MPI_Comm comm) {
  QuietErrors quiet;
  SampleShard shard;
  hid_t file = -1;
  int ranks = 1, me = 0;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm_rank(comm, &me);
  all_ranks_agree(comm, [&] {
    hid_t access = reading_file_access();
    H5Pset_fapl_mpio(access, comm, MPI_INFO_NULL);
    H5E_BEGIN_TRY { file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access); }
    H5E_END_TRY;
    H5Pclose(access);
    FR_REQUIRE(file >= 0, "cannot open sample store '", path,
               "' (missing, unreadable or not HDF5; run fluxrecon prepare first)");
    hid_t set = -1;
    H5E_BEGIN_TRY { set = H5Dopen2(file, "features", H5P_DEFAULT); }
    H5E_END_TRY;
    FR_REQUIRE(set >= 0, "'", path, "' is not a fluxrecon sample store (no 'features' dataset)");
    hid_t space = H5Dget_space(set);
    hsize_t dims[3] = {0, 0, 0};
    const int nd = H5Sget_simple_extent_ndims(space);
    H5Sget_simple_extent_dims(space, dims, nullptr);
    H5Sclose(space);
    H5Dclose(set);
    FR_REQUIRE(nd == 3 && dims[2] >= 1, "sample store '", path,
               "': features must be (N, window, features), found ", nd, "-D");
    shard.total = static_cast<std::int64_t>(dims[0]);
    shard.window = static_cast<int>(dims[1]);
    read_double_attribute(file, "feature_mean", shard.norm.feature_mean, path,
                          static_cast<hssize_t>(dims[2]));
    read_double_attribute(file, "feature_std", shard.norm.feature_std, path,
                          static_cast<hssize_t>(dims[2]));
    read_double_attribute(file, "target_mean", &shard.norm.target_mean, path);
    read_double_attribute(file, "target_std", &shard.norm.target_std, path);
  });
  shard.metadata = read_metadata_from(file, path);
  shard.feature_names = split_names(read_string_attribute(file, "feature_names", path));
  shard.offset = shard.total * me / ranks;
  const std::int64_t count = shard.total * (me + 1) / ranks - shard.offset;
  hid_t transfer = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(transfer, H5FD_MPIO_COLLECTIVE);
  auto& b = shard.block;
  FR_REQUIRE(shard.feature_names.size() == shard.norm.feature_mean.size(), "sample store '", path,
             "': ", shard.feature_names.size(), " feature names for ",
             shard.norm.feature_mean.size(), " features");
  const hsize_t inner = static_cast<hsize_t>(shard.window) * shard.norm.feature_mean.size();
  all_ranks_agree(comm, [&] {
    read_rows(file, "features", H5T_NATIVE_FLOAT, shard.offset, count, inner, transfer, b.features,
              path);
    read_rows(file, "target", H5T_NATIVE_FLOAT, shard.offset, count, 1, transfer, b.target, path);
    read_rows(file, "lat", H5T_NATIVE_FLOAT, shard.offset, count, 1, transfer, b.lat, path);
    read_rows(file, "lon", H5T_NATIVE_FLOAT, shard.offset, count, 1, transfer, b.lon, path);
    read_rows(file, "year", H5T_NATIVE_INT32, shard.offset, count, 1, transfer, b.year, path);
    read_rows(file, "month", H5T_NATIVE_INT32, shard.offset, count, 1, transfer, b.month, path);
    read_rows(file, "location", H5T_NATIVE_INT64, shard.offset, count, 1, transfer, b.location,
              path);
    const std::string bad =
        first_non_finite(b, shard.window, shard.feature_names, shard.offset, path);
    FR_REQUIRE(bad.empty(), bad);
  });
  H5Pclose(transfer);
  H5Fclose(file);
  return shard;
}

std::string store_selection(const std::string& metadata_json) {
  using json = nlohmann::json;
  const json meta = json::parse(metadata_json, nullptr, false);
  return (meta.is_object() ? meta.value("selection", json()) : json()).dump();
}

bool stores_unchanged_since(const std::string& model_metadata, const std::string& samples_dir,
                            MPI_Comm comm) {
  using json = nlohmann::json;
  int unchanged = 1;
  if (mpi::rank(comm) == 0) {
    const json model = json::parse(model_metadata, nullptr, false);
    for (const char* name : {"train", "validation"}) {
      const std::string path = samples_dir + "/" + name + ".h5";
      if (!std::filesystem::exists(path)) continue;
      std::string now;
      try {
        now = store_selection(read_metadata(path));
      } catch (const std::exception&) {
        continue;  // unreadable: training will say so if it needs the store
      }
      const std::string key = std::string(name) + "_store";
      const std::string before =
          store_selection(model.is_object() && model.contains(key) ? model[key].dump() : "");
      if (before != now) {
        unchanged = 0;
        log::info("train: ", path,
                  " was prepared with other settings than the samples of the existing model: "
                  "training again");
        break;
      }
    }
  }
  MPI_Bcast(&unchanged, 1, MPI_INT, 0, comm);
  return unchanged != 0;
}

}  // namespace fluxrecon::io
