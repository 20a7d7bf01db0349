#include "data/grid.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "core/error.hpp"
#include "core/mpi_util.hpp"

namespace fluxrecon::data {

std::vector<int> balance_rows(const std::vector<std::int64_t>& ocean_per_row, int ranks,
                              int unsplittable_from) {
  const int ny = static_cast<int>(ocean_per_row.size());
  std::vector<int> starts(static_cast<size_t>(ranks) + 1, ny);
  starts[0] = 0;
  double total = 0;
  for (auto c : ocean_per_row) total += static_cast<double>(c);
  // Cut after the row where the running count first reaches r/ranks of the total.
  double running = 0;
  int r = 1;
  for (int row = 0; row < ny && r < ranks; ++row) {
    running += static_cast<double>(ocean_per_row[row]);
    while (r < ranks && running >= total * r / ranks && row + 1 <= unsplittable_from) {
      starts[r++] = row + 1;
    }
  }
  for (; r < ranks; ++r) starts[r] = std::min(ny, std::max(starts[r - 1], unsplittable_from));
  for (int i = 1; i <= ranks; ++i) starts[i] = std::max(starts[i], starts[i - 1]);
  starts[ranks] = ny;
  return starts;
}

std::vector<std::uint8_t> find_duplicate_points(const std::vector<double>& lat,
                                                const std::vector<double>& lon, int nx,
                                                int row_begin, int row_end, int ny) {
  std::vector<std::uint8_t> dup(lat.size(), 0);
  auto same = [&](std::int64_t a, std::int64_t b) {
    return lat[a] == lat[b] && wrap_longitude(lon[a]) == wrap_longitude(lon[b]);
  };
  if (nx >= 4) {
    for (int row = row_begin; row < row_end; ++row) {
      const std::int64_t base = static_cast<std::int64_t>(row - row_begin) * nx;
      if (same(base, base + nx - 2)) dup[base] = 1;               // x=0 repeats x=nx-2
      if (same(base + nx - 1, base + 1)) dup[base + nx - 1] = 1;  // x=nx-1 repeats x=1
    }
  }
  const int fold_begin = std::max(row_begin, ny - 3);
  std::map<std::pair<double, double>, int> seen;
  for (int row = fold_begin; row < row_end; ++row) {
    for (int x = 0; x < nx; ++x) {
      const std::int64_t i = static_cast<std::int64_t>(row - row_begin) * nx + x;
      if (dup[i]) continue;
      const auto key = std::make_pair(lat[i], wrap_longitude(lon[i]));
      if (!seen.emplace(key, 1).second) dup[i] = 1;
    }
  }
  return dup;
}

namespace {

struct Coordinates {
  bool two_d = false;
  int nx = 0, ny = 0;
};

Coordinates grid_shape(io::GridFile& file, const DatasetDescription& d) {
  const auto& lat = file.variable(d.latitude);
  const auto& lon = file.variable(d.longitude);
  Coordinates c;
  if (lat.shape.size() == 2) {
    FR_REQUIRE(lon.shape == lat.shape, file.path(), ": latitude '", d.latitude, "' and longitude '",
               d.longitude, "' must have the same (y, x) shape");
    c = {true, static_cast<int>(lat.shape[1]), static_cast<int>(lat.shape[0])};
  } else {
    FR_REQUIRE(lat.shape.size() == 1 && lon.shape.size() == 1, file.path(), ": latitude '",
               d.latitude, "' and longitude '", d.longitude,
               "' must both be 2-D (y, x) or both 1-D; found ", lat.shape.size(), "-D and ",
               lon.shape.size(), "-D");
    c = {false, static_cast<int>(lon.shape[0]), static_cast<int>(lat.shape[0])};
  }
  return c;
}

// Reads rows [r0, r1) of a (..., y, x) variable, taking index 0 of leading dims.
std::vector<double> read_rows(io::GridFile& file, const std::string& name, int r0, int r1, int nx,
                              int ny) {
  const auto& v = file.variable(name);
  const size_t nd = v.shape.size();
  FR_REQUIRE(nd >= 2 && v.shape[nd - 1] == nx && v.shape[nd - 2] == ny, file.path(), ": variable '",
             name, "' should end with dimensions (y=", ny, ", x=", nx, "); found ", nd, "-D");
  std::vector<std::int64_t> start(nd, 0), count(nd, 1);
  start[nd - 2] = r0;
  count[nd - 2] = r1 - r0;
  count[nd - 1] = nx;
  std::vector<double> out(static_cast<size_t>(r1 - r0) * nx);
  file.read(name, start, count, out.data());
  return out;
}

}  // namespace

namespace {
// Latitude and longitude of rows [r0, r1), row-major, from 2-D or 1-D coordinates.
void read_coordinates(io::GridFile& file, const DatasetDescription& d, const Coordinates& shape,
                      int r0, int r1, int nx, int ny, std::vector<double>& lat,
                      std::vector<double>& lon) {
  const int rows = r1 - r0;
  if (shape.two_d) {
    lat = read_rows(file, d.latitude, r0, r1, nx, ny);
    lon = read_rows(file, d.longitude, r0, r1, nx, ny);
    return;
  }
  std::vector<double> lat1(static_cast<size_t>(rows)), lon1(static_cast<size_t>(nx));
  file.read(d.latitude, {r0}, {rows}, lat1.data());
  file.read(d.longitude, {0}, {nx}, lon1.data());
  lat.resize(static_cast<size_t>(rows) * nx);
  lon.resize(lat.size());
  for (int r = 0; r < rows; ++r)
    for (int x = 0; x < nx; ++x) {
      lat[static_cast<size_t>(r) * nx + x] = lat1[r];
      lon[static_cast<size_t>(r) * nx + x] = lon1[x];
    }
}
}  // namespace

Grid load_grid(io::GridFile& file, const DatasetDescription& d, MPI_Comm comm,
               const std::vector<Region>& weight_regions) {
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  Grid g;
  Coordinates shape;
  bool integer_mask = false;
  all_ranks_agree(comm, [&] {
    shape = grid_shape(file, d);
    const auto& mask = file.variable(d.mask);
    integer_mask = mask.type == "byte" || mask.type == "short" || mask.type == "int" ||
                   mask.type == "ubyte" || mask.type == "ushort" || mask.type == "uint" ||
                   mask.type == "int64" || mask.type == "uint64";
  });
  g.nx = shape.nx;
  g.ny = shape.ny;
  auto is_ocean = [&](double m) {
    return integer_mask ? (std::isfinite(m) && m > 0) : std::isfinite(m);
  };

  // 1. Ocean count per row from an even split, to balance the real split.
  const int even0 = static_cast<int>(static_cast<std::int64_t>(g.ny) * me / ranks);
  const int even1 = static_cast<int>(static_cast<std::int64_t>(g.ny) * (me + 1) / ranks);
  std::vector<double> mask_rows;
  all_ranks_agree(comm, [&] { mask_rows = read_rows(file, d.mask, even0, even1, g.nx, g.ny); });
  // With regions given, only their points count (a regional run spreads its
  // own points over the ranks, not the globe's).
  std::vector<double> even_lat, even_lon;
  if (!weight_regions.empty())
    all_ranks_agree(comm, [&] {
      read_coordinates(file, d, shape, even0, even1, g.nx, g.ny, even_lat, even_lon);
    });
  std::vector<std::int64_t> local_counts(static_cast<size_t>(even1 - even0), 0);
  for (int r = even0; r < even1; ++r)
    for (int x = 0; x < g.nx; ++x) {
      const size_t i = static_cast<size_t>(r - even0) * g.nx + x;
      bool counted = is_ocean(mask_rows[i]);
      if (counted && !weight_regions.empty())
        counted = std::any_of(weight_regions.begin(), weight_regions.end(), [&](const Region& reg) {
          return reg.contains(even_lat[i], even_lon[i]);
        });
      local_counts[r - even0] += counted;
    }
  const auto per_row = mpi::allgatherv(local_counts, comm);
  const int fold = d.drop_duplicate_points ? std::max(0, g.ny - 3) : g.ny;
  g.row_starts = balance_rows(per_row, ranks, fold);
  g.row_begin = g.row_starts[me];
  g.row_end = g.row_starts[me + 1];

  // 2. This rank's coordinates and mask (those of step 1 when every rank's
  // rows are the same, as on one rank: the grid is not read twice; the reads
  // are collective, so all ranks decide together).
  const bool same_rows =
      mpi::min(static_cast<int>(g.row_begin == even0 && g.row_end == even1), comm) == 1;
  all_ranks_agree(comm, [&] {
    if (!same_rows) mask_rows = read_rows(file, d.mask, g.row_begin, g.row_end, g.nx, g.ny);
    if (same_rows && !weight_regions.empty()) {
      g.lat = std::move(even_lat);
      g.lon = std::move(even_lon);
    } else {
      read_coordinates(file, d, shape, g.row_begin, g.row_end, g.nx, g.ny, g.lat, g.lon);
    }
    for (size_t i = 0; i < g.lat.size(); ++i)
      FR_REQUIRE(!is_ocean(mask_rows[i]) || (std::isfinite(g.lat[i]) && std::isfinite(g.lon[i])),
                 file.path(), ": ocean point (y=", g.row_begin + static_cast<int>(i / g.nx),
                 ", x=", i % g.nx, ") has no valid coordinates in '", d.latitude, "'/'",
                 d.longitude, "'");
  });
  std::vector<std::uint8_t> dup(g.lat.size(), 0);
  if (d.drop_duplicate_points)
    dup = find_duplicate_points(g.lat, g.lon, g.nx, g.row_begin, g.row_end, g.ny);
  g.ocean.assign(g.lat.size(), 0);
  std::int64_t ocean = 0, dropped = 0;
  for (size_t i = 0; i < g.lat.size(); ++i) {
    const bool wet = is_ocean(mask_rows[i]);
    g.ocean[i] = wet && !dup[i];
    ocean += g.ocean[i];
    dropped += wet && dup[i];
  }
  g.ocean_total = mpi::sum(ocean, comm);
  g.duplicates_dropped = mpi::sum(dropped, comm);
  // A mask problem, not a sampling one: no sampling.fraction would help.
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(g.ocean_total > 0, file.path(), ": the ocean mask 'grid.mask: ", d.mask,
               "' marks every point of the ", g.nx, " x ", g.ny,
               " grid as land (no ocean point at all, so raising sampling.fraction cannot help)",
               "; expected an integer variable with ocean > 0 or a float field finite over the "
               "ocean: check the variable named by grid.mask");
  });
  return g;
}

void read_coordinate_rows(io::GridFile& file, const DatasetDescription& d, int r0, int r1,
                          MPI_Comm comm, std::vector<double>& lat, std::vector<double>& lon) {
  Coordinates shape;
  all_ranks_agree(comm, [&] {
    shape = grid_shape(file, d);
    FR_REQUIRE(0 <= r0 && r0 <= r1 && r1 <= shape.ny, file.path(), ": rows [", r0, ", ", r1,
               ") are outside the grid's ", shape.ny, " rows");
  });
  all_ranks_agree(comm,
                  [&] { read_coordinates(file, d, shape, r0, r1, shape.nx, shape.ny, lat, lon); });
}

std::uint64_t location_key(unsigned long long seed, std::int64_t grid_index) {
  // splitmix64 of the seed mixed with the index: stateless, so every rank and
  // every year draws the same keys.
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(static_cast<std::uint64_t>(seed)) ^ static_cast<std::uint64_t>(grid_index));
}

std::vector<std::int64_t> select_locations(const Grid& g, const Region& region, double fraction,
                                           unsigned long long seed, MPI_Comm comm) {
  std::vector<std::int64_t> eligible;
  for (std::int64_t i = 0; i < g.local_points(); ++i)
    if (g.ocean[i] && region.contains(g.lat[i], g.lon[i])) eligible.push_back(i);
  const std::int64_t total = mpi::sum(static_cast<std::int64_t>(eligible.size()), comm);
  const auto wanted =
      static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(total)));
  if (wanted >= total) return eligible;
  if (wanted <= 0) return {};
  // The `wanted` smallest keys over all ranks (keys are distinct with
  // overwhelming probability; ties are broken by grid index).
  std::vector<std::uint64_t> keys(eligible.size());
  for (size_t k = 0; k < eligible.size(); ++k)
    keys[k] = location_key(seed, g.global_index(eligible[k]));
  auto all = mpi::allgatherv(keys, comm);
  std::nth_element(all.begin(), all.begin() + (wanted - 1), all.end());
  const std::uint64_t threshold = all[static_cast<size_t>(wanted - 1)];
  std::vector<std::int64_t> chosen;
  for (size_t k = 0; k < eligible.size(); ++k)
    if (keys[k] <= threshold) chosen.push_back(eligible[k]);
  return chosen;
}

namespace {
constexpr double kEarthRadius = 6371229.0;  // m, as NEMO
constexpr double kDegToRad = M_PI / 180.0;
}  // namespace

std::vector<double> cell_areas_from_centres(const std::vector<float>& lat,
                                            const std::vector<float>& lon, int ny, int nx) {
  FR_REQUIRE(ny > 0 && nx > 0 && lat.size() == static_cast<std::size_t>(ny) * nx &&
                 lon.size() == lat.size(),
             "cell areas: ", lat.size(), " latitudes and ", lon.size(), " longitudes for a ", ny,
             " x ", nx, " grid");
  auto at = [&](int j, int i) { return static_cast<std::size_t>(j) * nx + i; };
  auto distance = [&](std::size_t a, std::size_t b) {  // haversine, m
    const double p1 = lat[a] * kDegToRad, p2 = lat[b] * kDegToRad;
    const double dp = p2 - p1, dl = (lon[b] - lon[a]) * kDegToRad;
    const double h = std::sin(dp / 2) * std::sin(dp / 2) +
                     std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
    return 2.0 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(h)));
  };
  // Cell width towards the neighbours along one axis: half the distance
  // between the two neighbours, or the one available neighbour at an edge.
  auto width = [&](int j, int i, int dj, int di, int n, int pos) {
    if (n == 1) return std::nan("");
    if (pos == 0) return distance(at(j, i), at(j + dj, i + di));
    if (pos == n - 1) return distance(at(j - dj, i - di), at(j, i));
    return 0.5 * distance(at(j - dj, i - di), at(j + dj, i + di));
  };
  std::vector<double> area(lat.size());
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double e1 = width(j, i, 0, 1, nx, i), e2 = width(j, i, 1, 0, ny, j);
      FR_REQUIRE(std::isfinite(e1) && std::isfinite(e2), "cell areas: a ", ny, " x ", nx,
                 " grid has no neighbours to measure its cells by");
      area[at(j, i)] = e1 * e2;
    }
  return area;
}

}  // namespace fluxrecon::data
