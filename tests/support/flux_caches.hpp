// Reconstruction caches in the layout of `fluxrecon reconstruct`, written
// collectively with the project's netCDF writer from closed-form fields, so
// that analysis tests know every value (and can recompute any metric).
#pragma once

#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/flux_cache_format.hpp"
#include "io/nc_writer.hpp"

namespace test_util {

struct FluxCacheSpec {
  std::string model = "mlp";
  std::string region = "global";
  std::string experiment = "experiment_1";
  int year = 2001;
  int ny = 10, nx = 16;
  std::string units = "mol m-2 s-1";
  double to_units = 1.0;        // stored = physical (mol m-2 s-1) x to_units
  double lat_shift = 0.0;       // another grid
  bool empty = false;           // every cell is fill (an empty region)
  bool with_cell_area = false;  // write cell_area = area_of(j, i)
  // Cells outside the region (fill): south of this latitude only, if set.
  double region_lat_max = 90.0;
  double region_lat_min = -90.0, region_lon_min = -180.0, region_lon_max = 180.0;
  // A regional cache as reconstruct writes it: only rows crop_y0 ..
  // crop_y0 + crop_ny - 1 and columns crop_x0 .. of the ny x nx grid, with
  // the offset attributes (crop_ny = 0: the whole grid, no attributes).
  int crop_y0 = 0, crop_x0 = 0, crop_ny = 0, crop_nx = 0;
  std::string input_grid_checksum;  // written when not empty
  // The sampling mask of a spatial design: variable `sampled` (byte, time x
  // y x) = cache_sampled(), 0 outside the region's cells.
  bool with_sampled = false;
  std::string sampling_design;  // global attribute, written when not empty
};

constexpr float kFluxCacheFill = fluxrecon::io::flux_cache::kFill;

inline double cache_lat(const FluxCacheSpec& s, int j) {
  return -75.0 + 140.0 * j / (s.ny - 1) + s.lat_shift;
}
inline double cache_lon(const FluxCacheSpec& s, int i) { return -180.0 + 360.0 * (i + 0.5) / s.nx; }
inline bool cache_land(int j, int i) { return (j == 3 && i >= 4 && i <= 7) || (j == 6 && i == 2); }
inline bool cache_cell(const FluxCacheSpec& s, int j, int i) {
  return !s.empty && !cache_land(j, i) && cache_lat(s, j) <= s.region_lat_max &&
         cache_lat(s, j) >= s.region_lat_min && cache_lon(s, i) >= s.region_lon_min &&
         cache_lon(s, i) <= s.region_lon_max;
}
// Physical values, mol m-2 s-1: a seasonal cycle, a pattern, a trend.
inline double cache_simulated(int year, int m, int j, int i) {
  return 1e-8 *
         (std::sin(0.5 * j + 0.3 * i) + 0.4 * std::cos(0.52 * m + 0.1 * j) + 0.05 * (year - 2000));
}
inline double model_skill(const std::string& model) { return model == "mlp" ? 0.9 : 0.7; }
inline double cache_reconstructed(const std::string& model, int year, int m, int j, int i) {
  return model_skill(model) * cache_simulated(year, m, j, i) +
         2e-9 * std::cos(1.3 * i + 0.7 * m + j + year);
}
// The sampling mask written with with_sampled: 1 where the cell-month was a
// training or validation sample (about a third of them, changing with the
// month and year).
inline bool cache_sampled(int year, int m, int j, int i) {
  return (3 * j + 5 * i + m + year) % 3 == 0;
}
// Areas written into cell_area (m^2) when asked for.
inline double cache_area(int j, int i) { return 1e9 * (1.0 + 0.5 * j + 0.01 * i); }

inline std::string cache_name(const FluxCacheSpec& s) {
  return fluxrecon::io::flux_cache::file_name(s.model, s.region, s.experiment, s.year);
}

// Collective over MPI_COMM_WORLD; rows split over the ranks.
inline void write_flux_cache(const std::string& path, const FluxCacheSpec& s) {
  namespace io = fluxrecon::io;
  namespace fc = fluxrecon::io::flux_cache;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const bool cropped = s.crop_ny > 0;
  const int ny = cropped ? s.crop_ny : s.ny, nx = cropped ? s.crop_nx : s.nx;
  const int y0 = cropped ? s.crop_y0 : 0, x0 = cropped ? s.crop_x0 : 0;
  // Rows of the cache (0-based in the cache); grid rows are y0 + those.
  const int begin = ny * rank / size, rows = ny * (rank + 1) / size - begin;
  io::NcWriter w(path, MPI_COMM_WORLD, io::WriteFormat::cdf5);
  w.define_dimension(fc::kTime, 12);
  w.define_dimension(fc::kY, ny);
  w.define_dimension(fc::kX, nx);
  w.define_variable(fc::kTimeCounter, io::NcType::float64, {fc::kTime});
  w.put_attribute(fc::kTimeCounter, "units", "days since " + std::to_string(s.year) + "-01-01");
  w.put_attribute(fc::kTimeCounter, "calendar", "noleap");
  for (const char* v : {fc::kLat, fc::kLon})
    w.define_variable(v, io::NcType::float32, {fc::kY, fc::kX});
  for (const char* v : {fc::kSimulated, fc::kReconstructed}) {
    w.define_variable(v, io::NcType::float32, {fc::kTime, fc::kY, fc::kX});
    w.put_attribute(v, "units", s.units);
    w.put_attribute(v, "_FillValue", io::NcType::float32, {kFluxCacheFill});
  }
  if (s.with_cell_area) {
    w.define_variable(fc::kCellArea, io::NcType::float64, {fc::kY, fc::kX});
    w.put_attribute(fc::kCellArea, "units", "m2");
  }
  if (s.with_sampled) {
    w.define_variable(fc::kSampled, io::NcType::byte, {fc::kTime, fc::kY, fc::kX});
    w.put_attribute(fc::kSampled, "long_name",
                    "1 where the cell-month's target was a training or validation sample");
  }
  if (!s.sampling_design.empty()) w.put_attribute("", fc::kSamplingDesign, s.sampling_design);
  w.put_attribute("", fc::kModel, s.model);
  w.put_attribute("", fc::kExperiment, s.experiment);
  w.put_attribute("", fc::kRegion, s.region);
  w.put_attribute("", fc::kYear, io::NcType::int32, {static_cast<double>(s.year)});
  w.put_attribute("", fc::kModelFile, "/models/" + s.model + ".h5");
  w.put_attribute("", fc::kModelFileChecksum, "fnv1a64:0123456789abcdef");
  w.put_attribute("", fc::kSoftware, "fluxrecon test");
  if (!s.input_grid_checksum.empty())
    w.put_attribute("", fc::kInputGridChecksum, s.input_grid_checksum);
  if (cropped) {
    w.put_attribute("", fc::kInputGridNy, io::NcType::int32, {static_cast<double>(s.ny)});
    w.put_attribute("", fc::kInputGridNx, io::NcType::int32, {static_cast<double>(s.nx)});
    w.put_attribute("", fc::kYOffset, io::NcType::int32, {static_cast<double>(y0)});
    w.put_attribute("", fc::kXOffset, io::NcType::int32, {static_cast<double>(x0)});
  }
  w.end_definitions();

  const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::vector<double> t;
  double start = 0;
  for (int m = 0; m < 12; ++m) {
    t.push_back(start + days[m] / 2.0);
    start += days[m];
  }
  w.write(fc::kTimeCounter, {0}, {rank == 0 ? 12 : 0}, t.data());
  std::vector<float> lat, lon, sim, rec;
  std::vector<signed char> sampled;
  std::vector<double> area;
  for (int j = y0 + begin; j < y0 + begin + rows; ++j)
    for (int i = x0; i < x0 + nx; ++i) {
      lat.push_back(static_cast<float>(cache_lat(s, j)));
      lon.push_back(static_cast<float>(cache_lon(s, i)));
      area.push_back(cache_area(j, i));
    }
  for (int m = 0; m < 12; ++m)
    for (int j = y0 + begin; j < y0 + begin + rows; ++j)
      for (int i = x0; i < x0 + nx; ++i) {
        const bool cell = cache_cell(s, j, i);
        sim.push_back(cell ? static_cast<float>(cache_simulated(s.year, m, j, i) * s.to_units)
                           : kFluxCacheFill);
        rec.push_back(
            cell ? static_cast<float>(cache_reconstructed(s.model, s.year, m, j, i) * s.to_units)
                 : kFluxCacheFill);
        sampled.push_back(cell && cache_sampled(s.year, m, j, i) ? 1 : 0);
      }
  // A rank without rows still passes valid pointers.
  for (auto* v : {&lat, &lon, &sim, &rec}) v->reserve(1);
  area.reserve(1);
  sampled.reserve(1);
  w.write(fc::kLat, {begin, 0}, {rows, nx}, lat.data());
  w.write(fc::kLon, {begin, 0}, {rows, nx}, lon.data());
  w.write(fc::kSimulated, {0, begin, 0}, {12, rows, nx}, sim.data());
  w.write(fc::kReconstructed, {0, begin, 0}, {12, rows, nx}, rec.data());
  if (s.with_cell_area) w.write(fc::kCellArea, {begin, 0}, {rows, nx}, area.data());
  if (s.with_sampled) w.write(fc::kSampled, {0, begin, 0}, {12, rows, nx}, sampled.data());
  w.close();
}

}  // namespace test_util
