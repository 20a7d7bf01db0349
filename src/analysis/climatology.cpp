#include "analysis/climatology.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/sample_store.hpp"

namespace fluxrecon::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// z-scored targets become integers in units of 2^-32: exact, order-free sums.
constexpr int kFixedPointBits = 32;
constexpr double kMaxAbsZ = 1073741824.0;  // 2^30: |z| x 2^32 fits in an int64
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

// This rank's rows of the 1-D datasets the climatology needs.
struct Shard {
  std::vector<float> target, lat, lon;
  std::vector<std::int32_t> year, month;
  std::vector<std::int64_t> location;
  std::int64_t total = 0;
  std::string target_variable;
};

class H5File {
 public:
  explicit H5File(const std::string& path) : path_(path) {
    id_ = io::open_for_reading(path);
    FR_REQUIRE(id_ >= 0, "analyze: cannot open the training samples '", path,
               "' (unreadable or not HDF5; expected train.h5 of fluxrecon prepare)");
  }
  ~H5File() {
    if (id_ >= 0) H5Fclose(id_);
  }
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  // The length of a 1-D dataset.
  std::int64_t length(const char* name) const {
    hid_t set = -1;
    H5E_BEGIN_TRY { set = H5Dopen2(id_, name, H5P_DEFAULT); }
    H5E_END_TRY;
    FR_REQUIRE(set >= 0, "analyze: training samples '", path_, "' have no dataset '", name,
               "' (expected a sample store of fluxrecon prepare)");
    hid_t space = H5Dget_space(set);
    const int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[1] = {0};
    if (rank == 1) H5Sget_simple_extent_dims(space, dims, nullptr);
    H5Sclose(space);
    H5Dclose(set);
    FR_REQUIRE(rank == 1, "analyze: training samples '", path_, "': dataset '", name, "' has ",
               rank, " dimensions, expected 1");
    return static_cast<std::int64_t>(dims[0]);
  }

  // The input variable of the target, from the JSON metadata prepare
  // records ("" when the store has none, e.g. one written by hand).
  std::string target_variable() const {
    if (H5Aexists(id_, "metadata") <= 0) return "";
    const auto meta = nlohmann::json::parse(io::read_metadata_from(id_, path_), nullptr, false);
    if (!meta.is_object()) return "";
    const auto variables =
        meta.value("selection", nlohmann::json::object()).value("variables", nlohmann::json());
    if (!variables.is_array() || variables.empty() || !variables.back().is_array() ||
        variables.back().size() < 2 || !variables.back()[1].is_string())
      return "";
    return variables.back()[1].get<std::string>();
  }

  // A scalar numeric attribute of the root group.
  double attribute(const char* name) const {
    hid_t attr = -1;
    H5E_BEGIN_TRY { attr = H5Aopen(id_, name, H5P_DEFAULT); }
    H5E_END_TRY;
    FR_REQUIRE(attr >= 0, "analyze: training samples '", path_, "' have no attribute '", name,
               "' (expected a sample store of fluxrecon prepare)");
    hid_t space = H5Aget_space(attr);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    double value = std::nan("");
    const herr_t status = n == 1 ? H5Aread(attr, H5T_NATIVE_DOUBLE, &value) : -1;
    H5Aclose(attr);
    FR_REQUIRE(status >= 0, "analyze: training samples '", path_, "': attribute '", name,
               "' is not one number");
    return value;
  }

  template <class T>
  void read(const char* name, hid_t type, std::int64_t offset, std::int64_t count,
            std::vector<T>& out) const {
    out.resize(static_cast<std::size_t>(count));
    if (count == 0) return;
    hid_t set = H5Dopen2(id_, name, H5P_DEFAULT);
    hid_t file_space = H5Dget_space(set);
    const hsize_t start[1] = {static_cast<hsize_t>(offset)}, n[1] = {static_cast<hsize_t>(count)};
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, n, nullptr);
    hid_t memory_space = H5Screate_simple(1, n, nullptr);
    const herr_t status = H5Dread(set, type, memory_space, file_space, H5P_DEFAULT, out.data());
    H5Sclose(memory_space);
    H5Sclose(file_space);
    H5Dclose(set);
    FR_REQUIRE(status >= 0, "analyze: training samples '", path_, "': cannot read dataset '", name,
               "'");
  }

 private:
  std::string path_;
  hid_t id_ = -1;
};

Shard read_shard(const std::string& path, MPI_Comm comm, double& target_mean, double& target_std) {
  Shard s;
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(std::filesystem::is_regular_file(path), "analyze: --samples: the training samples '",
               path, "' do not exist (expected the output folder of fluxrecon prepare)");
    H5File f(path);
    target_mean = f.attribute("target_mean");
    target_std = f.attribute("target_std");
    FR_REQUIRE(std::isfinite(target_mean) && std::isfinite(target_std) && target_std > 0,
               "analyze: training samples '", path, "': target_mean ", target_mean, ", target_std ",
               target_std, " (expected finite numbers, a positive std)");
    s.total = f.length("target");
    s.target_variable = f.target_variable();
    for (const char* name : {"lat", "lon", "year", "month", "location"}) {
      const std::int64_t n = f.length(name);
      FR_REQUIRE(n == s.total, "analyze: training samples '", path, "': dataset '", name, "' has ",
                 n, " values, 'target' ", s.total);
    }
    const int rank = mpi::rank(comm), size = mpi::size(comm);
    const std::int64_t begin = s.total * rank / size, end = s.total * (rank + 1) / size;
    f.read("target", H5T_NATIVE_FLOAT, begin, end - begin, s.target);
    f.read("lat", H5T_NATIVE_FLOAT, begin, end - begin, s.lat);
    f.read("lon", H5T_NATIVE_FLOAT, begin, end - begin, s.lon);
    f.read("year", H5T_NATIVE_INT32, begin, end - begin, s.year);
    f.read("month", H5T_NATIVE_INT32, begin, end - begin, s.month);
    f.read("location", H5T_NATIVE_INT64, begin, end - begin, s.location);
    for (std::size_t k = 0; k < s.target.size(); ++k) {
      FR_REQUIRE(s.month[k] >= 1 && s.month[k] <= kMonths, "analyze: training samples '", path,
                 "': sample ", begin + static_cast<std::int64_t>(k), " has month ", s.month[k],
                 ", expected 1-12");
      FR_REQUIRE(std::isfinite(s.target[k]) && std::abs(s.target[k]) < kMaxAbsZ,
                 "analyze: training samples '", path, "': sample ",
                 begin + static_cast<std::int64_t>(k), " has target ", s.target[k]);
      FR_REQUIRE(s.location[k] >= 0, "analyze: training samples '", path, "': sample ",
                 begin + static_cast<std::int64_t>(k), " has location ", s.location[k]);
    }
  });
  return s;
}

// One (location, month) of a shard, sent to every rank as 7 int64:
// key (location * 12 + month - 1), count, sum (two words), lat / lon (float
// bits), first and last year.
constexpr int kRecordWords = 7;

struct Group {
  std::int64_t count = 0;
  Int128 sum = 0;
  float lat = 0, lon = 0;
  std::int32_t first_year = std::numeric_limits<std::int32_t>::max();
  std::int32_t last_year = std::numeric_limits<std::int32_t>::min();
};

std::int64_t float_bits(float lat, float lon) {
  std::uint32_t a = 0, b = 0;
  std::memcpy(&a, &lat, sizeof a);
  std::memcpy(&b, &lon, sizeof b);
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(a) << 32) | b);
}
void from_float_bits(std::int64_t bits, float& lat, float& lon) {
  const auto u = static_cast<std::uint64_t>(bits);
  const auto a = static_cast<std::uint32_t>(u >> 32), b = static_cast<std::uint32_t>(u);
  std::memcpy(&lat, &a, sizeof a);
  std::memcpy(&lon, &b, sizeof b);
}

}  // namespace

std::string training_store_path(const std::string& samples_dir) {
  return (std::filesystem::path(samples_dir) / "train.h5").string();
}

Climatology read_climatology(const std::string& train_path, MPI_Comm comm) {
  double target_mean = 0, target_std = 1;
  const Shard shard = read_shard(train_path, comm, target_mean, target_std);

  std::map<std::int64_t, Group> groups;
  for (std::size_t k = 0; k < shard.target.size(); ++k) {
    Group& g = groups[shard.location[k] * kMonths + shard.month[k] - 1];
    if (g.count == 0) {
      g.lat = shard.lat[k];
      g.lon = shard.lon[k];
    }
    ++g.count;
    g.sum += static_cast<Int128>(std::llround(std::ldexp(shard.target[k], kFixedPointBits)));
    g.first_year = std::min(g.first_year, shard.year[k]);
    g.last_year = std::max(g.last_year, shard.year[k]);
  }
  std::vector<std::int64_t> mine;
  mine.reserve(groups.size() * kRecordWords);
  for (const auto& [key, g] : groups) {
    const auto bits = static_cast<UInt128>(g.sum);
    mine.insert(mine.end(),
                {key, g.count, static_cast<std::int64_t>(bits >> 64),
                 static_cast<std::int64_t>(static_cast<std::uint64_t>(bits)),
                 float_bits(g.lat, g.lon), static_cast<std::int64_t>(g.first_year), g.last_year});
  }
  const std::vector<std::int64_t> all = mpi::allgatherv(mine, comm);

  // Merge in rank order (a group split between two shards appears twice):
  // integer sums, so the order does not matter for the values.
  std::map<std::int64_t, Group> merged;
  for (std::size_t r = 0; r + kRecordWords <= all.size(); r += kRecordWords) {
    Group& g = merged[all[r]];
    if (g.count == 0) from_float_bits(all[r + 4], g.lat, g.lon);
    g.count += all[r + 1];
    const auto bits = (static_cast<UInt128>(static_cast<std::uint64_t>(all[r + 2])) << 64) |
                      static_cast<std::uint64_t>(all[r + 3]);
    g.sum += static_cast<Int128>(bits);
    g.first_year = std::min(g.first_year, static_cast<std::int32_t>(all[r + 5]));
    g.last_year = std::max(g.last_year, static_cast<std::int32_t>(all[r + 6]));
  }

  Climatology c;
  c.path = train_path;
  c.target_variable = shard.target_variable;
  c.samples = shard.total;
  c.first_year = std::numeric_limits<int>::max();
  c.last_year = std::numeric_limits<int>::min();
  for (const auto& [key, g] : merged) {
    const std::int64_t location = key / kMonths;
    const int month = static_cast<int>(key % kMonths);
    if (c.location.empty() || c.location.back() != location) {
      c.location.push_back(location);
      c.lat.push_back(g.lat);
      c.lon.push_back(g.lon);
      c.value.emplace_back();
      c.value.back().fill(kNaN);
    }
    const double mean_z =
        std::ldexp(static_cast<double>(g.sum), -kFixedPointBits) / static_cast<double>(g.count);
    c.value.back()[month] = target_mean + target_std * mean_z;
    c.first_year = std::min(c.first_year, static_cast<int>(g.first_year));
    c.last_year = std::max(c.last_year, static_cast<int>(g.last_year));
  }
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(!c.location.empty(), "analyze: training samples '", train_path,
               "' hold no samples: no climatology baseline can be computed");
  });
  return c;
}

ClimatologyBaseline::ClimatologyBaseline(Climatology climatology) : c_(std::move(climatology)) {
  // Months with the same locations share a tree (usually all twelve do).
  std::map<std::vector<int>, int> tree_of_points;
  for (int m = 0; m < kMonths; ++m) {
    std::vector<int> points;
    for (std::size_t k = 0; k < c_.value.size(); ++k)
      if (std::isfinite(c_.value[k][m])) points.push_back(static_cast<int>(k));
    if (points.empty()) {
      tree_of_month_[m] = -1;
      continue;
    }
    const auto found = tree_of_points.find(points);
    if (found != tree_of_points.end()) {
      tree_of_month_[m] = found->second;
      continue;
    }
    std::vector<double> lat, lon;
    std::vector<std::int64_t> ids;
    for (int k : points) {
      lat.push_back(c_.lat[k]);
      lon.push_back(c_.lon[k]);
      ids.push_back(c_.location[k]);
    }
    tree_of_month_[m] = static_cast<int>(trees_.size());
    tree_of_points.emplace(points, tree_of_month_[m]);
    trees_.emplace_back(lat, lon, ids);
    tree_points_.push_back(std::move(points));
  }
}

std::vector<int> ClimatologyBaseline::nearest(const std::vector<float>& lat,
                                              const std::vector<float>& lon, int row_begin,
                                              int rows, int nx) const {
  const std::size_t cells = static_cast<std::size_t>(rows) * nx;
  FR_REQUIRE(
      lat.size() == lon.size() && lat.size() >= static_cast<std::size_t>(row_begin + rows) * nx,
      "climatology baseline: ", lat.size(), " cell centres for rows ", row_begin, "-",
      row_begin + rows, " of ", nx, " columns");
  std::vector<int> out(kMonths * cells, -1);
  std::vector<std::vector<int>> per_tree(trees_.size());
  for (std::size_t t = 0; t < trees_.size(); ++t) {
    per_tree[t].assign(cells, -1);
    for (std::size_t c = 0; c < cells; ++c) {
      const std::size_t g = static_cast<std::size_t>(row_begin) * nx + c;
      if (!std::isfinite(lat[g]) || !std::isfinite(lon[g]) || std::abs(lat[g]) > 90.0f) continue;
      const int p = trees_[t].nearest(lat[g], lon[g]);
      per_tree[t][c] = p < 0 ? -1 : tree_points_[t][static_cast<std::size_t>(p)];
    }
  }
  for (int m = 0; m < kMonths; ++m)
    if (tree_of_month_[m] >= 0)
      std::copy(per_tree[tree_of_month_[m]].begin(), per_tree[tree_of_month_[m]].end(),
                out.begin() + static_cast<std::ptrdiff_t>(m * cells));
  return out;
}

std::vector<float> ClimatologyBaseline::field(const CacheBlock& b,
                                              const std::vector<int>& nearest) const {
  const std::size_t cells = static_cast<std::size_t>(b.rows) * b.info.nx;
  FR_REQUIRE(nearest.size() == kMonths * cells && b.simulated.size() == kMonths * cells &&
                 b.reconstructed.size() == kMonths * cells,
             "climatology baseline: cache '", b.info.path, "': ", nearest.size(),
             " nearest locations for ", b.simulated.size(), " cell-months");
  std::vector<float> out(kMonths * cells, std::numeric_limits<float>::quiet_NaN());
  for (int m = 0; m < kMonths; ++m)
    for (std::size_t c = 0; c < cells; ++c) {
      const std::size_t k = static_cast<std::size_t>(m) * cells + c;
      const int p = nearest[k];
      if (p < 0 || !std::isfinite(b.simulated[k]) || !std::isfinite(b.reconstructed[k])) continue;
      out[k] = static_cast<float>(c_.value[static_cast<std::size_t>(p)][m] * b.info.to_mol_m2_s);
    }
  return out;
}

std::vector<int> ClimatologyBaseline::months_without_data() const {
  std::vector<int> out;
  for (int m = 0; m < kMonths; ++m)
    if (tree_of_month_[m] < 0) out.push_back(m + 1);
  return out;
}

}  // namespace fluxrecon::analysis
