// A tiny NEMO-like dataset whose every value encodes what it is, so tests can
// check windows, order and statistics exactly. Written with plain PnetCDF on
// one rank (independent of the project's reader and writer).
#pragma once

#include <pnetcdf.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tiny {

constexpr int nx = 8, ny = 6;
inline const char* kRoles[11] = {
    "SST",      "SAL",      "ice_frac",   "mixed_layer_depth", "heat_flux_down", "water_flux_up",
    "stress_X", "stress_Y", "currents_X", "currents_Y",        "co2flux"};

inline bool land(int y, int x) { return (x == 0 && y < 3) || (x == 3 && y == 2); }
inline double lat_of(int y, int /*x*/) { return -75.0 + 30.0 * y; }
inline double lon_of(int /*y*/, int x) { return -157.5 + 45.0 * x; }

// The value of role r at point (y, x) in month m (1..12) of `year`.
inline float value(int r, int year, int month, int y, int x) {
  const double t = (year - 2000) * 12 + (month - 1);
  return static_cast<float>(r * 10.0 + std::sin(0.3 * t + r) * (1 + y) + 0.1 * x + 0.01 * t);
}

struct Options {
  int months = 12;             // write fewer to make a bad year
  bool nan_in_ocean = false;   // a NaN at an ocean point
  bool drop_variable = false;  // leave out currents_Y
};

inline void check(int status, const char* what) {
  if (status != NC_NOERR) {
    std::fprintf(stderr, "tiny dataset: %s: %s\n", what, ncmpi_strerror(status));
    std::abort();
  }
}

// Writes <dir>/tiny_<year>.nc on the calling rank alone.
inline void write_year(const std::string& dir, int year, const Options& o = {}) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/tiny_" + std::to_string(year) + ".nc";
  int nc = 0;
  check(ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &nc),
        "create");
  int dt, dy, dx;
  check(ncmpi_def_dim(nc, "time", o.months, &dt), "dim");
  check(ncmpi_def_dim(nc, "y", ny, &dy), "dim");
  check(ncmpi_def_dim(nc, "x", nx, &dx), "dim");
  int vt, vlat, vlon, vmask, vars[11];
  check(ncmpi_def_var(nc, "time_counter", NC_DOUBLE, 1, &dt, &vt), "var");
  const char* units = "days since 2000-01-01 00:00:00";
  check(ncmpi_put_att_text(nc, vt, "units", std::strlen(units), units), "att");
  check(ncmpi_put_att_text(nc, vt, "calendar", 6, "noleap"), "att");
  int d2[2] = {dy, dx}, d3[3] = {dt, dy, dx};
  check(ncmpi_def_var(nc, "nav_lat", NC_FLOAT, 2, d2, &vlat), "var");
  check(ncmpi_def_var(nc, "nav_lon", NC_FLOAT, 2, d2, &vlon), "var");
  check(ncmpi_def_var(nc, "tmask", NC_BYTE, 2, d2, &vmask), "var");
  const float fill = 1e20f;
  for (int r = 0; r < 11; ++r) {
    if (o.drop_variable && r == 9) continue;
    check(ncmpi_def_var(nc, kRoles[r], NC_FLOAT, 3, d3, &vars[r]), "var");
    check(ncmpi_put_att_float(nc, vars[r], "_FillValue", NC_FLOAT, 1, &fill), "att");
  }
  check(ncmpi_enddef(nc), "enddef");
  std::vector<double> times(o.months);
  const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  for (int m = 0; m < o.months; ++m) times[m] = (year - 2000) * 365 + cum[m] + 14.5;
  std::vector<float> lat(nx * ny), lon(nx * ny);
  std::vector<signed char> mask(nx * ny);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      lat[y * nx + x] = static_cast<float>(lat_of(y, x));
      lon[y * nx + x] = static_cast<float>(lon_of(y, x));
      mask[y * nx + x] = land(y, x) ? 0 : 1;
    }
  check(ncmpi_put_var_double_all(nc, vt, times.data()), "put");
  check(ncmpi_put_var_float_all(nc, vlat, lat.data()), "put");
  check(ncmpi_put_var_float_all(nc, vlon, lon.data()), "put");
  check(ncmpi_put_var_schar_all(nc, vmask, mask.data()), "put");
  std::vector<float> field(static_cast<size_t>(o.months) * nx * ny);
  for (int r = 0; r < 11; ++r) {
    if (o.drop_variable && r == 9) continue;
    for (int m = 0; m < o.months; ++m)
      for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x)
          field[(m * ny + y) * nx + x] = land(y, x) ? fill : value(r, year, m + 1, y, x);
    if (o.nan_in_ocean && r == 4) field[(5 * ny + 4) * nx + 5] = NAN;
    check(ncmpi_put_var_float_all(nc, vars[r], field.data()), "put");
  }
  check(ncmpi_close(nc), "close");
}

inline std::string config_text(const std::string& dir, const std::string& extra = "") {
  return "dataset: {name: tiny, directory: " + dir +
         "}\nexperiments: {run: {pattern: 'tiny_{year}.nc'}}\ntraining_experiment: run\n"
         "grid: {cell_width: '', cell_height: ''}\n" +
         extra;
}

}  // namespace tiny
