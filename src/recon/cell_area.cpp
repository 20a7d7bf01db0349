#include "recon/cell_area.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "data/grid.hpp"

namespace fluxrecon::recon {
namespace {

// Rows [r0, r1) of a (..., y, x) grid metric, index 0 of any leading dims.
std::vector<double> read_metric_rows(io::GridFile& file, const std::string& name,
                                     const data::Grid& g, MPI_Comm comm) {
  std::vector<std::int64_t> start, count;
  all_ranks_agree(comm, [&] {
    const auto& v = file.variable(name);
    const size_t nd = v.shape.size();
    FR_REQUIRE(nd >= 2 && v.shape[nd - 1] == g.nx && v.shape[nd - 2] == g.ny, file.path(),
               ": grid metric '", name, "' should end with dimensions (y=", g.ny, ", x=", g.nx,
               "); found ", nd, "-D");
    start.assign(nd, 0);
    count.assign(nd, 1);
    start[nd - 2] = g.row_begin;
    count[nd - 2] = g.row_end - g.row_begin;
    count[nd - 1] = g.nx;
  });
  std::vector<double> out(static_cast<size_t>(g.row_end - g.row_begin) * g.nx);
  file.read(name, start, count, out.data());
  return out;
}

// Areas of this rank's rows from the cell centres: the rows are measured
// with their neighbour rows above and below, so every row sees the same
// neighbours as in a computation over the whole grid, and the areas do not
// depend on the number of ranks.
std::vector<double> areas_from_centres(io::GridFile& file, const data::DatasetDescription& d,
                                       const data::Grid& g, MPI_Comm comm) {
  const int rows = g.row_end - g.row_begin;
  const int h0 = rows > 0 ? std::max(0, g.row_begin - 1) : g.row_begin;
  const int h1 = rows > 0 ? std::min(g.ny, g.row_end + 1) : g.row_begin;
  std::vector<double> lat, lon;
  data::read_coordinate_rows(file, d, h0, h1, comm, lat, lon);
  std::vector<double> area;
  all_ranks_agree(comm, [&] {
    if (rows == 0) return;
    const std::vector<float> lat_f(lat.begin(), lat.end()), lon_f(lon.begin(), lon.end());
    const auto with_halo = data::cell_areas_from_centres(lat_f, lon_f, h1 - h0, g.nx);
    const auto first = with_halo.begin() + static_cast<std::ptrdiff_t>(g.row_begin - h0) * g.nx;
    area.assign(first, first + static_cast<std::ptrdiff_t>(rows) * g.nx);
  });
  return area;
}

}  // namespace

CellAreas cell_areas(io::GridFile& file, const data::DatasetDescription& d, const data::Grid& g,
                     MPI_Comm comm) {
  CellAreas out;
  const bool named = !d.cell_width.empty() && !d.cell_height.empty();
  // The file's variable list is the same on every rank.
  out.from_metrics = named && file.has_variable(d.cell_width) && file.has_variable(d.cell_height);
  if (out.from_metrics) {
    const auto e1 = read_metric_rows(file, d.cell_width, g, comm);
    const auto e2 = read_metric_rows(file, d.cell_height, g, comm);
    out.area.resize(e1.size());
    for (size_t i = 0; i < e1.size(); ++i) out.area[i] = e1[i] * e2[i];
    // No file name: which year's file the group read the grid from depends on
    // the grouping, and the caches must not.
    out.source = concat("grid metrics ", d.cell_width, " * ", d.cell_height, " of the input files");
  } else {
    out.area = areas_from_centres(file, d, g, comm);
    const std::string why =
        named ? concat("the input files have no '",
                       file.has_variable(d.cell_width) ? d.cell_height : d.cell_width, "'")
              : concat("the dataset ", d.origin,
                       " names no cell sizes (grid.cell_width/cell_height)");
    out.source = concat("computed from the cell centres (", d.latitude, ", ", d.longitude,
                        ": great-circle distances between neighbouring centres) because ", why);
    if (named)
      log::info("reconstruct: note: ", file.path(), " has no '",
                file.has_variable(d.cell_width) ? d.cell_height : d.cell_width,
                "'; cell_area is computed from the cell centres");
  }
  // Duplicates (halo columns, north fold) count once: area 0 on the copies.
  // Land keeps its area where the metrics define one (it is a grid property);
  // missing values there become 0.
  if (d.drop_duplicate_points) {
    const auto dup = data::find_duplicate_points(g.lat, g.lon, g.nx, g.row_begin, g.row_end, g.ny);
    for (size_t i = 0; i < out.area.size(); ++i)
      if (dup[i]) out.area[i] = 0.0;
  }
  all_ranks_agree(comm, [&] {
    for (size_t i = 0; i < out.area.size(); ++i) {
      const bool ok = std::isfinite(out.area[i]) && out.area[i] > 0;
      if (!g.ocean[i]) {
        if (!ok) out.area[i] = 0.0;
        continue;
      }
      FR_REQUIRE(ok, file.path(), ": ocean point (y=", g.row_begin + static_cast<int>(i / g.nx),
                 ", x=", i % g.nx, ") has cell area ", out.area[i], " m2 (",
                 out.from_metrics ? concat(d.cell_width, " * ", d.cell_height)
                                  : std::string("from the cell centres"),
                 "); expected a positive, finite area");
    }
  });
  return out;
}

}  // namespace fluxrecon::recon
