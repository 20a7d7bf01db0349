// Domains and grids of tile datasets (spec 4.1, 4.2). A local domain is a
// rectangle in the Lambert azimuthal equal-area projection (WGS84) centred on
// (central_latitude, central_longitude), evaluated through PROJ; a Cartesian
// domain is a rectangle in the source's own x/y metres (LES on x/y). Grids
// have round(L/dx) cells per side (half to even) at cell centres.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace fluxrecon::tiles {

// Forward and inverse LAEA through PROJ. Not thread-safe (one PROJ context).
class Laea {
 public:
  Laea(double central_latitude, double central_longitude);
  ~Laea();
  Laea(const Laea&) = delete;
  Laea& operator=(const Laea&) = delete;
  // Degrees <-> metres, n points in place of the outputs.
  void forward(const double* lat, const double* lon, double* x, double* y, size_t n) const;
  void inverse(const double* x, const double* y, double* lat, double* lon, size_t n) const;
  void forward(double lat, double lon, double& x, double& y) const {
    forward(&lat, &lon, &x, &y, 1);
  }
  void inverse(double x, double y, double& lat, double& lon) const {
    inverse(&x, &y, &lat, &lon, 1);
  }

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct Domain {
  bool local = true;  // LAEA (geolocated); false: Cartesian in source metres
  double central_latitude = 0, central_longitude = 0;
  double x_c = 0, y_c = 0;  // centre; a local domain's grid is relative to it
  double l_zonal = 0, l_meridional = 0;

  double x_min() const { return x_c - l_zonal / 2; }
  double x_max() const { return x_c + l_zonal / 2; }
  double y_min() const { return y_c - l_meridional / 2; }
  double y_max() const { return y_c + l_meridional / 2; }
};

struct Grid {
  int nx = 0, ny = 0;
  double dx = 0;
  std::vector<double> x, y;      // cell centres (relative to the centre for local domains)
  std::vector<double> lat, lon;  // [y][x], local domains only
};

// Cells per side: round(L/dx), half to even as numpy does.
int cells_per_side(double length, double dx);
Grid make_grid(const Domain& domain, double dx);

}  // namespace fluxrecon::tiles
