#include "analysis/cache_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/flux_cache_format.hpp"
#include "io/grid_file.hpp"
#include "io/time_axis.hpp"

namespace fluxrecon::analysis {
namespace fc = io::flux_cache;
namespace {

std::string required_text(const io::GridFile& f, const std::string& var, const std::string& name) {
  const auto v = f.text_attribute(var, name);
  FR_REQUIRE(v && !v->empty(), "cache '", f.path(),
             "': ", var.empty() ? "global attribute '" : "attribute '",
             var.empty() ? "" : var + ":", name,
             "' is missing (expected the layout written by fluxrecon reconstruct)");
  return *v;
}

std::string optional_text(const io::GridFile& f, const std::string& name) {
  return f.text_attribute("", name).value_or("");
}

void require_dims(const io::GridFile& f, const std::string& var,
                  const std::vector<std::string>& dims) {
  const io::VariableInfo& v = f.variable(var);  // throws naming what exists
  std::string want, got;
  for (const auto& d : dims) want += (want.empty() ? "" : ", ") + d;
  for (const auto& d : v.dimensions) got += (got.empty() ? "" : ", ") + d;
  FR_REQUIRE(v.dimensions == dims, "cache '", f.path(), "': variable '", var, "' has dimensions (",
             got, "), expected (", want, ")");
}

CacheInfo info_of(io::GridFile& f, MPI_Comm comm) {
  CacheInfo c;
  c.path = f.path();
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(f.has_dimension(fc::kTime) && f.dimension_length(fc::kTime) == kMonths, "cache '",
               f.path(), "': dimension 'time' must have 12 months, it has ",
               f.has_dimension(fc::kTime) ? f.dimension_length(fc::kTime) : 0);
    for (const char* v : {fc::kSimulated, fc::kReconstructed})
      require_dims(f, v, {fc::kTime, fc::kY, fc::kX});
    for (const char* v : {fc::kLat, fc::kLon}) require_dims(f, v, {fc::kY, fc::kX});
    require_dims(f, fc::kTimeCounter, {fc::kTime});
    c.ny = static_cast<int>(f.dimension_length(fc::kY));
    c.nx = static_cast<int>(f.dimension_length(fc::kX));
    c.model = required_text(f, "", fc::kModel);
    c.region = required_text(f, "", fc::kRegion);
    c.experiment = required_text(f, "", fc::kExperiment);
    const auto year = f.number_attribute("", fc::kYear);
    FR_REQUIRE(year && *year == std::floor(*year), "cache '", f.path(),
               "': global attribute 'year' is missing or not a whole number");
    c.year = static_cast<int>(*year);
    c.units = required_text(f, fc::kSimulated, "units");
    const std::string rec_units = required_text(f, fc::kReconstructed, "units");
    FR_REQUIRE(rec_units == c.units, "cache '", f.path(), "': ", fc::kSimulated, " is in '",
               c.units, "' but ", fc::kReconstructed, " in '", rec_units, "'");
    c.to_mol_m2_s = flux_units_to_mol_m2_s(c.units, "cache '" + f.path() + "': " + fc::kSimulated);
    c.calendar = f.text_attribute(fc::kTimeCounter, "calendar").value_or("standard");
    c.model_file = optional_text(f, fc::kModelFile);
    c.model_file_checksum = optional_text(f, fc::kModelFileChecksum);
    c.software = optional_text(f, fc::kSoftware);
    c.dataset_config = optional_text(f, fc::kDatasetConfig);
    auto whole = [&](const char* name, int absent) {
      const auto v = f.number_attribute("", name);
      FR_REQUIRE(!v || (*v == std::floor(*v) && *v >= 0), "cache '", f.path(),
                 "': global attribute '", name, "' is ", v ? *v : 0,
                 ", expected a whole number >= 0");
      return v ? static_cast<int>(*v) : absent;
    };
    c.y_offset = whole(fc::kYOffset, 0);
    c.x_offset = whole(fc::kXOffset, 0);
    c.input_ny = whole(fc::kInputGridNy, c.ny);
    c.input_nx = whole(fc::kInputGridNx, c.nx);
    c.input_grid_checksum = optional_text(f, fc::kInputGridChecksum);
    c.sampling_design = optional_text(f, fc::kSamplingDesign);
    c.simulated_variable = optional_text(f, fc::kSimulatedVariable);
    c.has_sampled = f.has_variable(fc::kSampled);
    if (c.has_sampled) require_dims(f, fc::kSampled, {fc::kTime, fc::kY, fc::kX});
    FR_REQUIRE(c.y_offset + c.ny <= c.input_ny && c.x_offset + c.nx <= c.input_nx, "cache '",
               f.path(), "': its ", c.ny, " x ", c.nx, " cells at offset (", c.y_offset, ", ",
               c.x_offset, ") do not fit in its input grid of ", c.input_ny, " x ", c.input_nx);
  });
  // The time axis: the 12 months of the year, in order (read collectively).
  std::vector<double> t(kMonths);
  f.read(fc::kTimeCounter, {0}, {kMonths}, t.data());
  all_ranks_agree(comm, [&] {
    const std::string units = required_text(f, fc::kTimeCounter, "units");
    const auto dates =
        io::decode_time(t, units, c.calendar, "cache '" + f.path() + "': time_counter");
    for (int m = 0; m < kMonths; ++m)
      FR_REQUIRE(dates[m].year == c.year && dates[m].month == m + 1, "cache '", f.path(),
                 "': time step ", m + 1, " is ", dates[m].year, "-", dates[m].month,
                 ", expected month ", m + 1, " of ", c.year);
    c.month_seconds = month_seconds(c.year, c.calendar);
  });
  return c;
}

// "mol/m2/s", "mol m^-2 s^-1" ... -> "mol m-2 s-1".
std::string normalise_units(std::string u) {
  std::transform(u.begin(), u.end(), u.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  const std::vector<std::pair<std::string, std::string>> rewrites = {
      {"**", ""},       {"^", ""},          {".", " "},       {"/m2", " m-2"},    {"/s", " s-1"},
      {"/day", " d-1"}, {"/d", " d-1"},     {"/yr", " yr-1"}, {"/year", " yr-1"}, {"/y", " yr-1"},
      {"day-1", "d-1"}, {"year-1", "yr-1"}, {"y-1", "yr-1"},  {"yrr-1", "yr-1"},  {"molc", "mol c"},
      {"kgc", "kg c"},  {"gc", "g c"}};
  for (const auto& [from, to] : rewrites)
    for (auto p = u.find(from); p != std::string::npos; p = u.find(from, p + to.size()))
      u.replace(p, from.size(), to);
  std::istringstream in(u);
  std::string token, out;
  while (in >> token) out += (out.empty() ? "" : " ") + token;
  return out;
}

}  // namespace

double flux_units_to_mol_m2_s(const std::string& units, const std::string& what) {
  const std::string u = normalise_units(units);
  std::istringstream in(u);
  std::vector<std::string> t;
  for (std::string s; in >> s;) t.push_back(s);
  if (t.size() == 4 && t[1] == "c") t.erase(t.begin() + 1);  // "kg C m-2 s-1"
  static const std::map<std::string, double> amount = {
      {"mol", 1.0}, {"mmol", 1e-3}, {"umol", 1e-6}, {"kg", 1000.0 / 12.011}, {"g", 1.0 / 12.011}};
  static const std::map<std::string, double> per_time = {
      {"s-1", 1.0}, {"d-1", 1.0 / 86400.0}, {"yr-1", 1.0 / (365.25 * 86400.0)}};
  const bool ok = t.size() == 3 && amount.count(t[0]) && t[1] == "m-2" && per_time.count(t[2]);
  FR_REQUIRE(ok, what, ": units '", units,
             "' are not a CO2 flux this program converts (expected an amount mol, mmol, umol, kg C "
             "or g C, per m-2, per s, d or yr, e.g. 'mol m-2 s-1')");
  return amount.at(t[0]) * per_time.at(t[2]);
}

CacheInfo read_cache_info(const std::string& path, MPI_Comm comm) {
  auto f = io::GridFile::open(path, comm);
  return info_of(*f, comm);
}

CacheBlock read_cache_block(const std::string& path, int row_begin, int rows, MPI_Comm comm) {
  auto f = io::GridFile::open(path, comm);
  CacheBlock b;
  b.info = info_of(*f, comm);
  b.row_begin = row_begin;
  b.rows = rows;
  const int ny = b.info.ny, nx = b.info.nx;
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(rows >= 0 && row_begin >= 0 && row_begin + rows <= ny, "cache '", path, "': rows [",
               row_begin, ", ", row_begin + rows, ") are outside its ", ny, " rows");
  });
  const std::size_t grid = static_cast<std::size_t>(ny) * nx;
  b.lat.resize(grid);
  b.lon.resize(grid);
  f->read(fc::kLat, {0, 0}, {ny, nx}, b.lat.data());
  f->read(fc::kLon, {0, 0}, {ny, nx}, b.lon.data());
  const std::size_t block = static_cast<std::size_t>(kMonths) * rows * nx;
  b.simulated.resize(block);
  b.reconstructed.resize(block);
  f->read(fc::kSimulated, {0, row_begin, 0}, {kMonths, rows, nx}, b.simulated.data());
  f->read(fc::kReconstructed, {0, row_begin, 0}, {kMonths, rows, nx}, b.reconstructed.data());
  // The cell areas reconstruct writes (caches from before it did have none).
  if (f->has_variable(fc::kCellArea)) {
    all_ranks_agree(comm, [&] { require_dims(*f, fc::kCellArea, {fc::kY, fc::kX}); });
    b.area.resize(static_cast<std::size_t>(rows) * nx);
    f->read(fc::kCellArea, {row_begin, 0}, {rows, nx}, b.area.data());
  }
  if (b.info.has_sampled) {
    b.sampled.resize(block);
    f->read(fc::kSampled, {0, row_begin, 0}, {kMonths, rows, nx}, b.sampled.data());
  }
  if (b.info.to_mol_m2_s != 1.0)
    for (auto* v : {&b.simulated, &b.reconstructed})
      for (float& x : *v) x = static_cast<float>(x * b.info.to_mol_m2_s);
  return b;
}

namespace {

// 64-bit FNV-1a over the coordinate values: equal grids, equal checksums.
std::string coordinates_checksum(const std::vector<float>& lat, const std::vector<float>& lon) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto* v : {&lat, &lon})
    for (float x : *v) {
      std::uint32_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      for (int b = 0; b < 4; ++b) {
        h ^= (bits >> (8 * b)) & 0xffu;
        h *= 1099511628211ull;
      }
    }
  std::ostringstream out;
  out << std::hex << h;
  return out.str();
}

}  // namespace

std::vector<CacheSet> index_caches(const std::string& dir, MPI_Comm comm) {
  // Rank 0 lists the directory; everyone opens the same files in the same order.
  std::string listing;
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) != 0) return;
    namespace fs = std::filesystem;
    FR_REQUIRE(fs::is_directory(dir), "caches directory '", dir, "' does not exist");
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".nc" &&
          e.path().filename().string()[0] != '.')  // not a temporary .part file
        files.push_back(e.path().string());
    FR_REQUIRE(!files.empty(), "caches directory '", dir,
               "' holds no caches (<model>_<region>_<experiment>_<year>.nc)");
    std::sort(files.begin(), files.end());
    for (const auto& f : files) listing += f + '\n';
  });
  listing = mpi::broadcast(listing, 0, comm);

  std::map<std::tuple<std::string, std::string, std::string>, CacheSet> sets;
  const CacheInfo* first = nullptr;                   // of all caches
  std::map<std::string, const CacheInfo*> of_region;  // the first of each region
  const CacheInfo* with_checksum = nullptr;           // the first with input_grid_checksum
  std::istringstream in(listing);
  for (std::string path; std::getline(in, path);) {
    auto f = io::GridFile::open(path, comm);
    CacheInfo info = info_of(*f, comm);
    std::vector<float> lat(static_cast<std::size_t>(info.ny) * info.nx), lon(lat.size());
    f->read(fc::kLat, {0, 0}, {info.ny, info.nx}, lat.data());
    f->read(fc::kLon, {0, 0}, {info.ny, info.nx}, lon.data());
    info.grid_checksum = coordinates_checksum(lat, lon);
    CacheSet& set = sets[{info.model, info.region, info.experiment}];
    set.model = info.model;
    set.region = info.region;
    set.experiment = info.experiment;
    // Every rank holds the same information: these checks agree by themselves.
    const auto same = set.years.find(info.year);
    FR_REQUIRE(same == set.years.end(), "caches '", same->second.path, "' and '", path,
               "' both hold model ", info.model, ", region ", info.region, ", experiment ",
               info.experiment, ", year ", info.year);
    if (first) {
      FR_REQUIRE(info.input_ny == first->input_ny && info.input_nx == first->input_nx, "caches '",
                 first->path, "' and '", path, "' are on different grids (cut from inputs of ",
                 first->input_ny, " x ", first->input_nx, " and ", info.input_ny, " x ",
                 info.input_nx, " cells)");
      if (!info.input_grid_checksum.empty())
        FR_REQUIRE(with_checksum == nullptr ||
                       info.input_grid_checksum == with_checksum->input_grid_checksum,
                   "caches '", with_checksum ? with_checksum->path : "", "' and '", path,
                   "' are on different grids (cut from inputs of the same size with other "
                   "nav_lat / nav_lon)");
    }
    // Caches of one region share their cells; other regions hold other boxes.
    if (const auto it = of_region.find(info.region); it != of_region.end()) {
      const CacheInfo& a = *it->second;
      FR_REQUIRE(info.ny == a.ny && info.nx == a.nx && info.y_offset == a.y_offset &&
                     info.x_offset == a.x_offset,
                 "caches '", a.path, "' and '", path, "' of region ", info.region,
                 " are on different grids (", a.ny, " x ", a.nx, " cells at (", a.y_offset, ", ",
                 a.x_offset, ") and ", info.ny, " x ", info.nx, " at (", info.y_offset, ", ",
                 info.x_offset, "))");
      FR_REQUIRE(info.grid_checksum == a.grid_checksum, "caches '", a.path, "' and '", path,
                 "' of region ", info.region,
                 " are on different grids (same size, other nav_lat / nav_lon)");
    }
    const CacheInfo& stored = set.years.emplace(info.year, std::move(info)).first->second;
    if (!first) first = &stored;
    if (!with_checksum && !stored.input_grid_checksum.empty()) with_checksum = &stored;
    of_region.emplace(stored.region, &stored);
  }
  std::vector<CacheSet> out;
  for (auto& [key, set] : sets) out.push_back(std::move(set));
  return out;
}

std::vector<int> missing_years(const CacheSet& set, int first, int last) {
  std::vector<int> missing;
  for (int y = first; y <= last; ++y)
    if (!set.years.count(y)) missing.push_back(y);
  return missing;
}

void require_years(const CacheSet& set, int first, int last, const std::string& dir) {
  const auto missing = missing_years(set, first, last);
  if (missing.empty()) return;
  std::string list;
  for (int y : missing) list += (list.empty() ? "" : ", ") + std::to_string(y);
  FR_FAIL("caches of model ", set.model, ", region ", set.region, ", experiment ", set.experiment,
          " in '", dir, "': ", missing.size(), " of the years ", first, "-", last,
          " are missing: ", list);
}

std::int64_t apply_sampling_mask(CacheBlock& block) {
  if (block.sampled.empty()) return 0;
  FR_REQUIRE(block.sampled.size() == block.simulated.size() &&
                 block.sampled.size() == block.reconstructed.size(),
             "cache '", block.info.path, "': ", block.sampled.size(), " values of '", fc::kSampled,
             "' for ", block.simulated.size(), " flux values");
  std::int64_t removed = 0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t k = 0; k < block.sampled.size(); ++k)
    if (!(block.sampled[k] == 0.0f)) {  // sampled, or fill
      if (std::isfinite(block.simulated[k])) ++removed;
      block.simulated[k] = nan;
      block.reconstructed[k] = nan;
    }
  return removed;
}

FluxBlock flux_block(const CacheBlock& block, std::vector<double> area) {
  const std::size_t cells = static_cast<std::size_t>(block.rows) * block.info.nx;
  FR_REQUIRE(area.size() == cells, "cache '", block.info.path, "': ", area.size(),
             " cell areas for a block of ", block.rows, " x ", block.info.nx, " cells");
  FluxBlock f;
  f.year = block.info.year;
  f.ny = block.info.ny;
  f.nx = block.info.nx;
  f.row_begin = block.row_begin;
  f.rows = block.rows;
  f.simulated = block.simulated;
  f.reconstructed = block.reconstructed;
  f.area = std::move(area);
  f.month_seconds = block.info.month_seconds;
  return f;
}

}  // namespace fluxrecon::analysis
