#include "tiles/projection.hpp"

#include <proj.h>

#include <cfenv>
#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace fluxrecon::tiles {

struct Laea::State {
  PJ_CONTEXT* ctx = nullptr;
  PJ* pj = nullptr;
};

Laea::Laea(double central_latitude, double central_longitude) : state_(std::make_unique<State>()) {
  std::ostringstream def;
  def.precision(17);
  def << "+proj=laea +lat_0=" << central_latitude << " +lon_0=" << central_longitude
      << " +x_0=0 +y_0=0 +ellps=WGS84 +units=m";
  state_->ctx = proj_context_create();
  state_->pj = proj_create(state_->ctx, def.str().c_str());
  if (!state_->pj) {
    const std::string why = proj_context_errno_string(state_->ctx, proj_context_errno(state_->ctx));
    proj_context_destroy(state_->ctx);
    FR_FAIL("PROJ cannot create '", def.str(), "': ", why);
  }
}

Laea::~Laea() {
  if (state_->pj) proj_destroy(state_->pj);
  if (state_->ctx) proj_context_destroy(state_->ctx);
}

void Laea::forward(const double* lat, const double* lon, double* x, double* y, size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    x[i] = proj_torad(lon[i]);
    y[i] = proj_torad(lat[i]);
  }
  proj_trans_generic(state_->pj, PJ_FWD, x, sizeof(double), n, y, sizeof(double), n, nullptr, 0, 0,
                     nullptr, 0, 0);
  for (size_t i = 0; i < n; ++i)
    if (x[i] == HUGE_VAL || y[i] == HUGE_VAL) x[i] = y[i] = NAN;
}

void Laea::inverse(const double* x, const double* y, double* lat, double* lon, size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    lon[i] = x[i];
    lat[i] = y[i];
  }
  proj_trans_generic(state_->pj, PJ_INV, lon, sizeof(double), n, lat, sizeof(double), n, nullptr, 0,
                     0, nullptr, 0, 0);
  for (size_t i = 0; i < n; ++i) {
    if (lon[i] == HUGE_VAL || lat[i] == HUGE_VAL) {
      lat[i] = lon[i] = NAN;
      continue;
    }
    lon[i] = proj_todeg(lon[i]);
    lat[i] = proj_todeg(lat[i]);
  }
}

int cells_per_side(double length, double dx) {
  FR_REQUIRE(dx > 0 && length > 0, "grid: length ", length, " m and spacing ", dx,
             " m must be positive");
  const int saved = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double n = std::nearbyint(length / dx);
  std::fesetround(saved);
  FR_REQUIRE(n >= 1 && n < 1e6, "grid: ", length, " m at ", dx, " m per cell gives ", n,
             " cells; expected 1 to 1e6");
  return static_cast<int>(n);
}

Grid make_grid(const Domain& domain, double dx) {
  Grid g;
  g.dx = dx;
  g.nx = cells_per_side(domain.l_zonal, dx);
  g.ny = cells_per_side(domain.l_meridional, dx);
  // A local domain's grid is relative to its centre (spec 4.2).
  const double ox = domain.local ? 0.0 : domain.x_c, oy = domain.local ? 0.0 : domain.y_c;
  for (int i = 0; i < g.nx; ++i) g.x.push_back(ox - domain.l_zonal / 2 + dx / 2 + i * dx);
  for (int j = 0; j < g.ny; ++j) g.y.push_back(oy - domain.l_meridional / 2 + dx / 2 + j * dx);
  if (domain.local) {
    const size_t n = static_cast<size_t>(g.nx) * g.ny;
    std::vector<double> xs(n), ys(n);
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        xs[static_cast<size_t>(j) * g.nx + i] = g.x[i];
        ys[static_cast<size_t>(j) * g.nx + i] = g.y[j];
      }
    g.lat.resize(n);
    g.lon.resize(n);
    Laea(domain.central_latitude, domain.central_longitude)
        .inverse(xs.data(), ys.data(), g.lat.data(), g.lon.data(), n);
  }
  return g;
}

}  // namespace fluxrecon::tiles
