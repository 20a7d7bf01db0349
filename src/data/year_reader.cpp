#include "data/year_reader.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "core/timer.hpp"
#include "io/time_axis.hpp"

namespace fluxrecon::data {

namespace {

// The time index of January of `year` in `file`, after checking that its
// time axis holds the 12 months of the year in order and that every
// variable of the dataset has dimensions (time, ny, nx).
std::int64_t year_start_index(io::GridFile& file, const DatasetDescription& d,
                              const std::string& path, int year, int nx, int ny) {
  // Time axis: the 12 months of `year`, consecutive, in order.
  const auto& tv = file.variable(d.time);
  FR_REQUIRE(tv.shape.size() == 1, path, ": time variable '", d.time, "' must be 1-D");
  std::vector<double> times(static_cast<size_t>(tv.shape[0]));
  file.read(d.time, {0}, {tv.shape[0]}, times.data());
  const auto dates = io::decode_time(times, file.text_attribute(d.time, "units").value_or(""),
                                     file.text_attribute(d.time, "calendar").value_or("standard"),
                                     path + ": " + d.time);
  std::vector<std::int64_t> in_year;
  for (size_t t = 0; t < dates.size(); ++t)
    if (dates[t].year == year) in_year.push_back(static_cast<std::int64_t>(t));
  FR_REQUIRE(in_year.size() == 12, path, ": year ", year, " has ", in_year.size(),
             " monthly time steps in '", d.time, "', expected 12",
             dates.empty()
                 ? ""
                 : concat(" (the file covers ", dates.front().year, "-", dates.front().month,
                          " to ", dates.back().year, "-", dates.back().month, ")"));
  for (int m = 0; m < 12; ++m)
    FR_REQUIRE(in_year[m] == in_year[0] + m && dates[in_year[m]].month == m + 1, path, ": year ",
               year, ": time step ", in_year[m], " is month ", dates[in_year[m]].month,
               ", expected month ", m + 1, " (months must be consecutive, January to December)");
  for (const auto& v : d.variables) {
    if (v.file_name.empty()) continue;
    const auto& info = file.variable(v.file_name);
    FR_REQUIRE(info.shape.size() == 3 && info.shape[1] == ny && info.shape[2] == nx, path,
               ": variable '", v.file_name, "' (", v.role, ") should have dimensions (time, y=", ny,
               ", x=", nx, "), found ", info.shape.size(), "-D",
               info.shape.size() == 3
                   ? concat(" (", info.shape[0], ", ", info.shape[1], ", ", info.shape[2], ")")
                   : "");
  }
  return in_year[0];
}

}  // namespace

YearReader::YearReader(const DatasetDescription& dataset, const Grid& grid, MPI_Comm comm,
                       std::int64_t chunk_bytes)
    : dataset_(dataset), grid_(grid), comm_(comm), chunk_bytes_(chunk_bytes) {}

io::GridFile& YearReader::open(const std::string& path) {
  if (!file_ || file_->path() != path) {
    if (file_) bytes_read_ += file_->bytes_read();
    file_.reset();
    file_ = io::GridFile::open(path, comm_);
    files_.push_back(path);
  }
  return *file_;
}

void YearReader::read_into(const std::string& experiment, int year,
                           const std::vector<std::int64_t>& points, int first_month, int last_month,
                           float* series, std::int64_t slots, std::int64_t first_slot) {
  const double start = wall_seconds();
  const std::string path = dataset_.file_for(experiment, year);
  io::GridFile& file = open(path);
  const int nx = grid_.nx, ny = grid_.ny;
  const int rows = grid_.row_end - grid_.row_begin;
  const int m0 = first_month - 1, m1 = last_month - 1;
  const int months = m1 - m0 + 1;
  const std::int64_t npoints = static_cast<std::int64_t>(points.size());
  const std::int64_t plane = static_cast<std::int64_t>(rows) * nx;
  std::int64_t lowest = plane, highest = -1;
  int x0 = nx, x1 = -1;  // columns [x0, x1] of the points
  for (const std::int64_t p : points) {
    lowest = std::min(lowest, p);
    highest = std::max(highest, p);
    x0 = std::min(x0, static_cast<int>(p % nx));
    x1 = std::max(x1, static_cast<int>(p % nx));
  }
  std::int64_t first_index = 0;
  all_ranks_agree(comm_, [&] {
    // The caller's arguments (a programming error if wrong).
    FR_REQUIRE(0 <= m0 && m0 <= m1 && m1 < 12, "YearReader: months ", first_month, "-", last_month,
               " of ", year, " are not within 1-12");
    FR_REQUIRE(npoints == 0 || (lowest >= 0 && highest < plane), "YearReader: point index ",
               lowest < 0 ? lowest : highest, " is outside this rank's ", plane, " grid points");
    first_index = year_start_index(file, dataset_, path, year, nx, ny);
  });

  // Only the months asked for (January's windows need 3 of the previous
  // year, not 12) and only the box of rows and columns that holds the points
  // (a regional run leaves the rest of the rank's block unread). The box is
  // read in chunks of rows (every variable of a chunk, then its points put
  // in order), so that the buffer stays small and is reused: at ORCA025
  // size, first-touching a whole year's buffer cost seconds.
  const std::int64_t row0 = npoints ? lowest / nx : 0, row1 = npoints ? highest / nx + 1 : 0;
  const std::int64_t width = npoints ? x1 - x0 + 1 : nx;
  if (!npoints) x0 = 0;
  const size_t roles = dataset_.variables.size();
  const std::int64_t row_values = static_cast<std::int64_t>(roles) * months * width;
  const std::int64_t chunk_rows = std::max<std::int64_t>(
      1, chunk_bytes_ / (row_values * static_cast<std::int64_t>(sizeof(float))));
  const std::int64_t chunks = (row1 - row0 + chunk_rows - 1) / chunk_rows;
  // Collective reads: every rank makes as many calls as the rank with the
  // most chunks (the others read nothing in the extra ones).
  const std::int64_t calls = mpi::max(chunks, comm_);

  // The points grouped by chunk, in their order within each chunk.
  std::vector<std::int64_t> chunk_start(static_cast<size_t>(chunks) + 1, 0), order(points.size());
  for (const std::int64_t p : points) ++chunk_start[(p / nx - row0) / chunk_rows + 1];
  for (std::int64_t c = 0; c < chunks; ++c) chunk_start[c + 1] += chunk_start[c];
  {
    std::vector<std::int64_t> next(chunk_start.begin(), chunk_start.end() - (chunks ? 1 : 0));
    for (std::int64_t k = 0; k < npoints; ++k)
      order[next[(points[k] / nx - row0) / chunk_rows]++] = k;
  }
  std::vector<float> scale(roles), offset(roles), constant(roles);
  for (size_t role = 0; role < roles; ++role) {
    const auto& v = dataset_.variables[role];
    scale[role] = static_cast<float>(v.scale);
    offset[role] = static_cast<float>(v.offset);
    constant[role] = static_cast<float>(v.constant);
  }
  const std::int64_t stride = slots * static_cast<std::int64_t>(roles);
  io_seconds_ += wall_seconds() - start;
  for (std::int64_t c = 0; c < calls; ++c) {
    const std::int64_t r0 = std::min(row1, row0 + c * chunk_rows);
    const std::int64_t r1 = std::min(row1, r0 + chunk_rows);
    const std::int64_t plane_read = (r1 - r0) * width;
    const size_t per_role = static_cast<size_t>(plane_read) * static_cast<size_t>(months);
    if (fields_.capacity() < per_role * roles) UninitializedVector<float>().swap(fields_);
    fields_.resize(per_role * roles);  // no copy: the old values are not needed
    const double read_start = wall_seconds();
    std::vector<const float*> base(roles, nullptr);
    for (size_t role = 0; role < roles; ++role) {
      const auto& v = dataset_.variables[role];
      if (v.file_name.empty()) continue;
      base[role] = fields_.data() + role * per_role;
      file.read(v.file_name, {first_index + m0, grid_.row_begin + r0, x0}, {months, r1 - r0, width},
                fields_.data() + role * per_role);
    }
    io_seconds_ += wall_seconds() - read_start;
    if (c >= chunks) continue;
    // Blocks of points: for one variable and month the block's values are
    // read in order, and the block's series stays in cache while every
    // variable and month is written into it.
    constexpr std::int64_t kBlock = 64;
    std::int64_t at[kBlock];
    float* dest[kBlock];
    for (std::int64_t b0 = chunk_start[c]; b0 < chunk_start[c + 1]; b0 += kBlock) {
      const std::int64_t n = std::min(kBlock, chunk_start[c + 1] - b0);
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t k = order[b0 + j], p = points[k];
        at[j] = (p / nx - r0) * width + p % nx - x0;
        dest[j] = series + k * stride + first_slot * static_cast<std::int64_t>(roles);
      }
      for (size_t role = 0; role < roles; ++role)
        for (int m = 0; m < months; ++m) {
          const std::int64_t slot = m * static_cast<std::int64_t>(roles) + role;
          if (!base[role]) {
            for (std::int64_t j = 0; j < n; ++j) dest[j][slot] = constant[role];
            continue;
          }
          const float* src = base[role] + m * plane_read;
          for (std::int64_t j = 0; j < n; ++j)
            dest[j][slot] = src[at[j]] * scale[role] + offset[role];
        }
    }
  }
  seconds_ += wall_seconds() - start;
}

void require_files(const DatasetDescription& d,
                   const std::vector<std::pair<std::string, int>>& experiment_years,
                   MPI_Comm comm) {
  all_ranks_agree(comm, [&] {
    std::set<std::string> missing, seen;
    for (const auto& [exp, year] : experiment_years) {
      const auto path = d.file_for(exp, year);
      if (seen.insert(path).second && !std::filesystem::is_regular_file(path)) missing.insert(path);
    }
    if (missing.empty()) return;
    std::string list;
    int shown = 0;
    for (const auto& m : missing) {
      if (shown++ < 10) list += "\n  " + m;
    }
    if (missing.size() > 10) list += concat("\n  ... and ", missing.size() - 10, " more");
    FR_REQUIRE(std::filesystem::is_directory(d.directory), d.origin, ": the input folder '",
               d.directory, "' does not exist; it comes from ", d.directory_source);
    FR_FAIL(d.origin, ": ", missing.size(), " input file(s) are missing (directory '", d.directory,
            "'):", list);
  });
}

}  // namespace fluxrecon::data
