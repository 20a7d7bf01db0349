#include "recon/cache_write.hpp"

#include <cstring>
#include <exception>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_util.hpp"
#include "io/flux_cache_format.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"
#include "io/time_axis.hpp"
#include "recon/reconstruct.hpp"

namespace fluxrecon::recon {
namespace fc = io::flux_cache;

std::vector<double> mid_month_days(int year) {
  std::vector<double> t(12);
  double start = 0;
  for (int m = 1; m <= 12; ++m) {
    t[m - 1] = start + 14.0;
    start += io::days_in_month(year, m, "proleptic_gregorian");
  }
  return t;
}

// Collective: the crop of `region` whose ocean points on this rank are `points`.
Crop crop_of(const data::Region& region, const std::vector<std::int64_t>& points,
             const data::Grid& g, const std::string& grid_file, MPI_Comm comm) {
  // Minima of (row, col, -row, -col) give the box in one reduction.
  std::int64_t box[4] = {g.ny, g.nx, 1, 1};
  for (const std::int64_t p : points) {
    const std::int64_t row = g.row_begin + p / g.nx, col = p % g.nx;
    box[0] = std::min(box[0], row);
    box[1] = std::min(box[1], col);
    box[2] = std::min(box[2], -row);
    box[3] = std::min(box[3], -col);
  }
  MPI_Allreduce(MPI_IN_PLACE, box, 4, MPI_INT64_T, MPI_MIN, comm);
  all_ranks_agree(comm, [&] {
    FR_REQUIRE(box[0] < g.ny, "region '", region.name, "' holds no ocean point of the grid of '",
               grid_file, "'; check its lat/lon boxes");
  });
  Crop c;
  if (region.boxes.empty()) {
    c.rows = g.ny;
    c.cols = g.nx;
  } else {
    c.row0 = box[0];
    c.col0 = box[1];
    c.rows = -box[2] - box[0] + 1;
    c.cols = -box[3] - box[1] + 1;
  }
  c.my_row0 = std::max<std::int64_t>(g.row_begin, c.row0);
  c.my_rows = std::min<std::int64_t>(g.row_end, c.row0 + c.rows) - c.my_row0;
  if (c.my_rows <= 0) {  // no row of the crop: an empty write at its start
    c.my_row0 = c.row0;
    c.my_rows = 0;
  }
  return c;
}

// Collective: a checksum of the whole input grid's coordinates that does not
// depend on how the rows are split (a sum of per-cell hashes), so that the
// analysis can tell caches cut from different grids of the same size apart.
std::string input_grid_checksum(const data::Grid& g, MPI_Comm comm) {
  auto mix = [](std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  };
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < g.local_points(); ++i) {
    // As stored in the caches (float), so that the sum matches their nav_lat/nav_lon.
    const float lat = static_cast<float>(g.lat[i]), lon = static_cast<float>(g.lon[i]);
    std::uint32_t lat_bits = 0, lon_bits = 0;
    std::memcpy(&lat_bits, &lat, 4);
    std::memcpy(&lon_bits, &lon, 4);
    sum += mix(static_cast<std::uint64_t>(g.global_index(i)) * 0x9E3779B97F4A7C15ull ^
               (static_cast<std::uint64_t>(lat_bits) << 32 | lon_bits));
  }
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, comm);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(sum));
  return concat(g.ny, "x", g.nx, ":", hex);
}

void write_cache(const std::string& path, const CacheContext& c, const CacheFields& f,
                 MPI_Comm comm) {
  const auto& g = c.grid;
  const Crop& crop = c.crop;
  AtomicOutput output(path, comm);
  io::NcWriter w(output.temp_path(), comm, io::WriteFormat::cdf5);
  using io::NcType;
  w.define_dimension(fc::kTime, 12);
  w.define_dimension(fc::kY, crop.rows);
  w.define_dimension(fc::kX, crop.cols);
  w.define_variable(fc::kTimeCounter, NcType::float64, {fc::kTime});
  w.put_attribute(fc::kTimeCounter, "standard_name", "time");
  w.put_attribute(fc::kTimeCounter, "long_name", "middle of the month");
  w.put_attribute(fc::kTimeCounter, "units", concat("days since ", c.year, "-01-01 00:00:00"));
  w.put_attribute(fc::kTimeCounter, "calendar", "proleptic_gregorian");
  w.put_attribute(fc::kTimeCounter, "axis", "T");
  for (const char* name : {fc::kLat, fc::kLon}) {
    const bool lat = name[4] == 'l' && name[5] == 'a';
    w.define_variable(name, NcType::float32, {fc::kY, fc::kX});
    w.put_attribute(name, "standard_name", lat ? "latitude" : "longitude");
    w.put_attribute(name, "long_name", lat ? "latitude" : "longitude");
    w.put_attribute(name, "units", lat ? "degrees_north" : "degrees_east");
  }
  // pCO2 route: the fluxes come from the bulk formula on the surface pCO2;
  // the simulated flux is the file's (or the formula's on the simulated pCO2).
  const bool route = c.d.pco2.enabled;
  const std::string& target_var = c.d.variables[c.d.target_role()].file_name;
  const std::string simulated_long =
      !route ? concat("simulated air-sea CO2 flux (the model run's target), variable '", target_var,
                      "'")
      : c.d.pco2.flux.file_name.empty()
          ? concat("air-sea CO2 flux of the bulk formula on the simulated surface pCO2 '",
                   target_var, "'")
          : concat("simulated air-sea CO2 flux, variable '", c.d.pco2.flux.file_name, "'");
  const std::string reconstructed_long =
      route ? concat(
                  "air-sea CO2 flux of the bulk formula on the surface pCO2 reconstructed by "
                  "the ",
                  c.source.model, " model")
            : concat("reconstructed air-sea CO2 flux by the ", c.source.model, " model");
  const std::string sign = route ? c.d.pco2.flux_sign : c.d.target_sign;
  const char* names[2] = {fc::kSimulated, fc::kReconstructed};
  for (int i = 0; i < 2; ++i) {
    w.define_variable(names[i], NcType::float32, {fc::kTime, fc::kY, fc::kX});
    w.put_attribute(names[i], "long_name", i == 0 ? simulated_long : reconstructed_long);
    if (!c.units.empty()) w.put_attribute(names[i], "units", c.units);
    if (!sign.empty()) w.put_attribute(names[i], "sign_convention", sign);
    w.put_attribute(names[i], "coordinates", "time_counter nav_lat nav_lon");
    w.put_attribute(names[i], "_FillValue", NcType::float32, {fc::kFill});
    w.put_attribute(names[i], "missing_value", NcType::float32, {fc::kFill});
  }
  const char* pco2_names[2] = {fc::kPco2Simulated, fc::kPco2Reconstructed};
  if (route) {
    for (int i = 0; i < 2; ++i) {
      w.define_variable(pco2_names[i], NcType::float32, {fc::kTime, fc::kY, fc::kX});
      w.put_attribute(
          pco2_names[i], "long_name",
          i == 0 ? concat("simulated surface-ocean pCO2, variable '", target_var, "'")
                 : concat("surface-ocean pCO2 reconstructed by the ", c.source.model, " model"));
      w.put_attribute(pco2_names[i], "units", "uatm");
      w.put_attribute(pco2_names[i], "coordinates", "time_counter nav_lat nav_lon");
      w.put_attribute(pco2_names[i], "_FillValue", NcType::float32, {fc::kFill});
    }
    w.put_attribute(fc::kReconstructed, "transfer_coefficient", NcType::float64,
                    {c.d.pco2.transfer_coefficient});
    w.put_attribute(fc::kReconstructed, "formula",
                    "F = k_w K0 (pCO2_sw - pCO2_air) (1 - ice), k_w = a U^2 (Sc/660)^-1/2 "
                    "(Wanninkhof 2014 Schmidt number, Weiss 1974 solubility)");
  }
  // Spatial design: which cells gave training or validation samples in this
  // year, so that the analysis scores the never-sampled ones.
  if (c.d.design == "spatial") {
    w.define_variable(fc::kSampled, NcType::byte, {fc::kTime, fc::kY, fc::kX});
    w.put_attribute(fc::kSampled, "long_name",
                    "1 where the location was observed in this year (its samples of the year "
                    "were training or validation samples), 0 where never sampled");
    w.put_attribute(fc::kSampled, "mask", c.d.sampling_mask);
    w.put_attribute(fc::kSampled, "coordinates", "time_counter nav_lat nav_lon");
  }
  // Cell areas, so that area sums need nothing but the cache (0 on duplicated
  // halo / north-fold points: every cell counts once).
  w.define_variable(fc::kCellArea, NcType::float64, {fc::kY, fc::kX});
  w.put_attribute(fc::kCellArea, "standard_name", "cell_area");
  w.put_attribute(fc::kCellArea, "long_name", "cell area (e1t*e2t)");
  w.put_attribute(fc::kCellArea, "units", "m2");
  w.put_attribute(fc::kCellArea, "coordinates", "nav_lat nav_lon");
  w.put_attribute(fc::kCellArea, "source", c.areas.source);
  if (c.d.drop_duplicate_points)
    w.put_attribute(fc::kCellArea, "comment",
                    "0 on duplicated ORCA halo columns and north-fold points, so that a sum over "
                    "the grid counts every cell once");
  w.put_attribute(fc::kReconstructed, fc::kFirstMonthReconstructed, NcType::int32,
                  {static_cast<double>(c.first_month)});
  w.put_attribute("", "Conventions", "CF-1.8");
  w.put_attribute("", "title",
                  concat("fluxrecon reconstruction: ", c.source.model, ", ", c.region, ", ",
                         c.experiment, ", ", c.year));
  w.put_attribute("", fc::kModel, c.source.model);
  w.put_attribute("", fc::kExperiment, c.experiment);
  w.put_attribute("", fc::kRegion, c.region);
  w.put_attribute("", "region_boxes", c.region_boxes);
  // Where the cache lies in the input grid (0-based first row and column).
  w.put_attribute("", fc::kInputGridNy, NcType::int32, {static_cast<double>(g.ny)});
  w.put_attribute("", fc::kInputGridNx, NcType::int32, {static_cast<double>(g.nx)});
  w.put_attribute("", fc::kYOffset, NcType::int32, {static_cast<double>(crop.row0)});
  w.put_attribute("", fc::kXOffset, NcType::int32, {static_cast<double>(crop.col0)});
  w.put_attribute("", fc::kInputGridChecksum, c.grid_checksum);
  w.put_attribute("", fc::kYear, NcType::int32, {static_cast<double>(c.year)});
  w.put_attribute("", fc::kModelFile, c.source.path);
  w.put_attribute("", fc::kModelFileChecksum, c.source.checksum);
  w.put_attribute("", "dataset", c.d.name);
  w.put_attribute("", fc::kDatasetConfig, c.d.origin);
  w.put_attribute("", "input_files",
                  c.first_month > 1 ? c.d.file_for(c.experiment, c.year)
                                    : concat(c.d.file_for(c.experiment, c.year - 1), " ",
                                             c.d.file_for(c.experiment, c.year)));
  w.put_attribute("", "cell_area_source",
                  c.areas.from_metrics ? "grid metrics (e1t*e2t)" : "computed from cell centres");
  w.put_attribute("", "window_months", NcType::int32, {static_cast<double>(c.d.window)});
  w.put_attribute("", fc::kSamplingDesign, c.d.design);
  w.put_attribute("", "target_route", route ? "pco2" : "flux");
  // The file variable the simulated flux comes from ("" = the bulk formula),
  // so that the analysis can check its climatology baseline is of that flux.
  w.put_attribute("", fc::kSimulatedVariable, route ? c.d.pco2.flux.file_name : target_var);
  if (route) w.put_attribute("", fc::kPco2RouteSettings, c.source.route);
  w.put_attribute("", "samples", NcType::float64, {static_cast<double>(c.samples)});
  w.put_attribute("", "skipped_windows", NcType::float64, {static_cast<double>(c.skipped)});
  w.put_attribute("", fc::kSoftware, std::string("fluxrecon ") + FLUXRECON_VERSION);
  w.end_definitions();

  const auto t = mid_month_days(c.year);
  const bool root = mpi::rank(comm) == 0;
  w.write(fc::kTimeCounter, {0}, {root ? 12 : 0}, t.data());
  // The rank's rows of the crop, its columns only (one element more than
  // needed so that a rank without rows still passes valid pointers).
  const size_t cells = static_cast<size_t>(crop.plane());
  std::vector<float> lat(cells + 1), lon(cells + 1);
  std::vector<double> area(cells + 1, 0.0);
  for (std::int64_t j = 0; j < crop.my_rows; ++j)
    for (std::int64_t i = 0; i < crop.cols; ++i) {
      const size_t from =
          static_cast<size_t>((crop.my_row0 + j - g.row_begin) * g.nx + crop.col0 + i);
      const size_t to = static_cast<size_t>(j * crop.cols + i);
      lat[to] = static_cast<float>(g.lat[from]);
      lon[to] = static_cast<float>(g.lon[from]);
      if (!c.areas.area.empty()) area[to] = c.areas.area[from];
    }
  const std::int64_t y0 = crop.my_row0 - crop.row0;
  w.write(fc::kLat, {y0, 0}, {crop.my_rows, crop.cols}, lat.data());
  w.write(fc::kLon, {y0, 0}, {crop.my_rows, crop.cols}, lon.data());
  w.write(fc::kCellArea, {y0, 0}, {crop.my_rows, crop.cols}, area.data());
  // The rank's rows of each month are one contiguous block in its buffer but
  // not in the file: one put per variable with the (12, rows, cols) block.
  static const float none = 0;
  const float* simulated = f.simulated.empty() ? &none : f.simulated.data();
  const float* reconstructed = f.reconstructed.empty() ? &none : f.reconstructed.data();
  w.write(fc::kSimulated, {0, y0, 0}, {12, crop.my_rows, crop.cols}, simulated);
  w.write(fc::kReconstructed, {0, y0, 0}, {12, crop.my_rows, crop.cols}, reconstructed);
  if (route) {
    w.write(fc::kPco2Simulated, {0, y0, 0}, {12, crop.my_rows, crop.cols},
            f.pco2_simulated.empty() ? &none : f.pco2_simulated.data());
    w.write(fc::kPco2Reconstructed, {0, y0, 0}, {12, crop.my_rows, crop.cols},
            f.pco2_reconstructed.empty() ? &none : f.pco2_reconstructed.data());
  }
  if (c.d.design == "spatial") {
    static const signed char no = 0;
    w.write(fc::kSampled, {0, y0, 0}, {12, crop.my_rows, crop.cols},
            f.sampled.empty() ? &no : f.sampled.data());
  }
  w.close();
  output.commit(w.expected_bytes());
}

// Collective: a complete cache at `path` made from this model file and
// starting in this month. A cache of another model file (the model was
// trained again) or of another --start-april choice is stale: it is redone.
bool cache_current(const std::string& path, const CacheSource& source, int first_month,
                   const Crop& crop, const std::string& grid_checksum, MPI_Comm comm) {
  if (!output_complete(path, comm)) return false;
  int current = 0;
  std::string why;
  if (mpi::rank(comm) == 0) {
    try {
      auto f = io::GridFile::open(path, MPI_COMM_SELF);
      const auto sum = f->text_attribute("", fc::kModelFileChecksum);
      const auto first = f->number_attribute(fc::kReconstructed, fc::kFirstMonthReconstructed);
      // The cells it holds: caches written before regional caches were cut
      // to their region's box hold the whole grid.
      const auto y0 = f->number_attribute("", fc::kYOffset).value_or(0);
      const auto x0 = f->number_attribute("", fc::kXOffset).value_or(0);
      const std::int64_t ny = f->has_dimension(fc::kY) ? f->dimension_length(fc::kY) : 0;
      const std::int64_t nx = f->has_dimension(fc::kX) ? f->dimension_length(fc::kX) : 0;
      if (sum != source.checksum)
        why = concat("made from another ", source.model, " model file (",
                     sum.value_or("no checksum"), ")");
      else if (!first || static_cast<int>(*first) != first_month)
        why =
            concat("starts in month ", first ? static_cast<int>(*first) : 0, ", not ", first_month);
      else if (ny != crop.rows || nx != crop.cols || y0 != crop.row0 || x0 != crop.col0)
        why = concat("holds ", ny, " x ", nx, " cells at (", y0, ", ", x0, "), not the region's ",
                     crop.rows, " x ", crop.cols, " at (", crop.row0, ", ", crop.col0, ")");
      else if (f->text_attribute("", fc::kInputGridChecksum) != grid_checksum)
        why = "was cut from another input grid";
      else if (f->text_attribute("", fc::kPco2RouteSettings).value_or("") != source.route)
        why = "was made with other pCO2 route settings";
      current = why.empty() ? 1 : 0;
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (!current) log::info("reconstruct: ", path, " is redone: ", why);
  }
  MPI_Bcast(&current, 1, MPI_INT, 0, comm);
  return current != 0;
}

}  // namespace fluxrecon::recon
