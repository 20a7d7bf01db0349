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
using Kokkos::acos;
using Kokkos::asin;
using Kokkos::atan;
using Kokkos::cos;
using Kokkos::floor;
using Kokkos::sin;
using Kokkos::sqrt;
using Kokkos::tan;
#else
using Kokkos::Experimental::acos;
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
    const double sx_ = tmath::sin(x), cx = tmath::cos(x), sy_ = tmath::sin(y), cy = tmath::cos(y);
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

namespace fluxrecon::kernels {

// Cosine of the solar zenith angle at (lat, lon) in degrees, `day_of_year`
// (1-366) and `utc_hours`, with the NOAA low-precision solar position
// (declination and equation of time from the fractional year).
KOKKOS_INLINE_FUNCTION double cos_solar_zenith(double lat_deg, double lon_deg, int day_of_year,
                                               double utc_hours) {
  const double g = 2.0 * M_PI / 365.0 * (day_of_year - 1 + (utc_hours - 12.0) / 24.0);
  const double eot = 229.18 * (0.000075 + 0.001868 * tmath::cos(g) - 0.032077 * tmath::sin(g) -
                               0.014615 * tmath::cos(2 * g) - 0.040849 * tmath::sin(2 * g));
  const double decl = 0.006918 - 0.399912 * tmath::cos(g) + 0.070257 * tmath::sin(g) -
                      0.006758 * tmath::cos(2 * g) + 0.000907 * tmath::sin(2 * g) -
                      0.002697 * tmath::cos(3 * g) + 0.00148 * tmath::sin(3 * g);
  const double minutes = utc_hours * 60.0 + eot + 4.0 * lon_deg;
  const double hour_angle = (minutes / 4.0 - 180.0) * M_PI / 180.0;
  const double phi = lat_deg * M_PI / 180.0;
  return tmath::sin(phi) * tmath::sin(decl) +
         tmath::cos(phi) * tmath::cos(decl) * tmath::cos(hour_angle);
}

// True colour from reflectances in percent (spec 3.3 without the Rayleigh
// correction and the self-sharpening): each band divided by cos(SZA) up to
// 88 degrees, faded linearly to 0 between 88 and 95 degrees; R = C02,
// G = 0.465 C01 + 0.465 C02 + 0.07 C03, B = C01.
template <class Mem>
struct TrueColor {
  GoesNav nav;
  Kokkos::View<const double*, Mem> xs, ys;  // scan angles of the columns and rows
  Kokkos::View<const float**, Kokkos::LayoutRight, Mem> c01, c02, c03;  // [y][x] reflectance %
  int day_of_year = 1;
  double utc_hours = 0;
  Kokkos::View<float***, Kokkos::LayoutRight, Mem> rgb;  // [3][y][x]

  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    const int nx = static_cast<int>(xs.extent(0));
    const int i = k % nx, j = k / nx;
    double lat, lon;
    nav.to_latlon(xs(i), ys(j), lat, lon);
    const double mu = cos_solar_zenith(lat, lon, day_of_year, utc_hours);
    const double limit = 0.034899496702500969;  // cos(88 degrees)
    const double sza = tmath::acos(mu < -1 ? -1 : (mu > 1 ? 1 : mu)) * 180.0 / M_PI;
    double factor = 0;
    if (sza <= 88.0)
      factor = 1.0 / mu;
    else if (sza < 95.0)
      factor = (95.0 - sza) / 7.0 / limit;
    const double b = c01(j, i) * factor, r = c02(j, i) * factor, n = c03(j, i) * factor;
    rgb(0, j, i) = static_cast<float>(r);
    rgb(1, j, i) = static_cast<float>(0.465 * b + 0.465 * r + 0.07 * n);
    rgb(2, j, i) = static_cast<float>(b);
  }
};

}  // namespace fluxrecon::kernels
