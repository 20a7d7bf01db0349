// GOES ABI fixed-grid navigation (GOES-R PUG vol. 4, section 4.2.8): scan
// angles (radians) <-> geodetic latitude/longitude (degrees) on the GRS80
// ellipsoid seen from the geostationary satellite. Device functions, used by
// the regridding kernels; equivalent to PROJ
// +proj=geos +h=35786023 +a=6378137 +b=6356752.31414 +lon_0=-75 +sweep=x.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

namespace fluxrecon::kernels {

// Kokkos moved its math functions out of Experimental in 3.7 (Debian has 3.4).
namespace tmath {
#if defined(KOKKOS_VERSION) && KOKKOS_VERSION >= 30700
using Kokkos::asin;
using Kokkos::atan;
using Kokkos::cos;
using Kokkos::floor;
using Kokkos::sin;
using Kokkos::sqrt;
using Kokkos::tan;
#else
using Kokkos::Experimental::asin;
using Kokkos::Experimental::atan;
using Kokkos::Experimental::cos;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::sin;
using Kokkos::Experimental::sqrt;
using Kokkos::Experimental::tan;
#endif
}  // namespace tmath

struct GoesNav {
  double perspective_height = 35786023.0;  // h above the ellipsoid (m)
  double semi_major = 6378137.0;
  double semi_minor = 6356752.31414;
  double lon0_deg = -75.0;

  KOKKOS_INLINE_FUNCTION double orbit_radius() const { return perspective_height + semi_major; }

  // Scan angles -> lat/lon; NaN off the Earth's disk.
  KOKKOS_INLINE_FUNCTION void to_latlon(double x, double y, double& lat_deg,
                                        double& lon_deg) const {
    const double H = orbit_radius(), re = semi_major, rp = semi_minor;
    const double r2 = (re * re) / (rp * rp);
    const double sx_ = tmath::sin(x), cx = tmath::cos(x), sy_ = tmath::sin(y),
                 cy = tmath::cos(y);
    const double a = sx_ * sx_ + cx * cx * (cy * cy + r2 * sy_ * sy_);
    const double b = -2.0 * H * cx * cy;
    const double c = H * H - re * re;
    const double disc = b * b - 4.0 * a * c;
    if (disc < 0) {
      lat_deg = lon_deg = NAN;
      return;
    }
    const double rs = (-b - tmath::sqrt(disc)) / (2.0 * a);
    const double s_x = rs * cx * cy, s_y = -rs * sx_, s_z = rs * cx * sy_;
    const double rad = 180.0 / M_PI;
    lat_deg = tmath::atan(r2 * s_z / tmath::sqrt((H - s_x) * (H - s_x) + s_y * s_y)) * rad;
    lon_deg = lon0_deg - tmath::atan(s_y / (H - s_x)) * rad;
  }

  // lat/lon -> scan angles; NaN where the point is not visible.
  KOKKOS_INLINE_FUNCTION void to_scan(double lat_deg, double lon_deg, double& x, double& y) const {
    const double H = orbit_radius(), re = semi_major, rp = semi_minor;
    const double deg = M_PI / 180.0;
    const double e2 = (re * re - rp * rp) / (re * re);
    const double phi_c = tmath::atan((rp * rp) / (re * re) * tmath::tan(lat_deg * deg));
    const double cphi = tmath::cos(phi_c);
    const double rc = rp / tmath::sqrt(1.0 - e2 * cphi * cphi);
    const double dl = (lon_deg - lon0_deg) * deg;
    const double s_x = H - rc * cphi * tmath::cos(dl);
    const double s_y = -rc * cphi * tmath::sin(dl);
    const double s_z = rc * tmath::sin(phi_c);
    if (H * (H - s_x) < s_y * s_y + (re * re) / (rp * rp) * s_z * s_z) {
      x = y = NAN;
      return;
    }
    y = tmath::atan(s_z / s_x);
    x = tmath::asin(-s_y / tmath::sqrt(s_x * s_x + s_y * s_y + s_z * s_z));
  }
};

// Scan angles of many points: xs/ys from lat/lon.
template <class Mem>
struct GoesScanFromLatLon {
  GoesNav nav;
  Kokkos::View<const double*, Mem> lat, lon;
  Kokkos::View<double*, Mem> x, y;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    nav.to_scan(lat(i), lon(i), x(i), y(i));
  }
};

// lat/lon of a grid of scan angles ([y][x] flattened).
template <class Mem>
struct GoesLatLonOfGrid {
  GoesNav nav;
  Kokkos::View<const double*, Mem> xs, ys;
  Kokkos::View<double*, Mem> lat, lon;
  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    const int nx = static_cast<int>(xs.extent(0));
    nav.to_latlon(xs(k % nx), ys(k / nx), lat(k), lon(k));
  }
};

}  // namespace fluxrecon::kernels
