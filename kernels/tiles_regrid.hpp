// Regridding kernels for tile datasets. Every source here lies on a regular
// grid in its own coordinates (x/y metres, lon/lat degrees, or GOES scan
// angles), so a target point is located by mapping it into those coordinates
// and then into fractional source indices; values are blended bilinearly
// (whole-domain products; NaN if any corner is NaN or the point lies outside)
// or taken from the nearest source cell (tiles and aux products).
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>

#include "kernels/tiles_goes_nav.hpp"

namespace fluxrecon::kernels {

enum SourceCoordinates : int { source_xy = 0, source_lonlat = 1, source_goes_scan = 2 };

// Regular source axes: coordinate of index i is x0 + i*dx (dx may be < 0).
struct SourceAxes {
  int kind = source_xy;
  int nx = 0, ny = 0;
  double x0 = 0, dx = 1, y0 = 0, dy = 1;
  GoesNav nav;

  // (a, b) is (x, y) in metres for xy sources, else (lat, lon) in degrees.
  KOKKOS_INLINE_FUNCTION void index_of(double a, double b, double& fi, double& fj) const {
    double cx = a, cy = b;
    if (kind == source_lonlat) {
      // Longitude into the 360-degree window that starts half a turn before the axis centre.
      const double centre = x0 + 0.5 * (nx - 1) * dx;
      double lon = b;
      while (lon < centre - 180.0) lon += 360.0;
      while (lon >= centre + 180.0) lon -= 360.0;
      cx = lon;
      cy = a;
    } else if (kind == source_goes_scan) {
      nav.to_scan(a, b, cx, cy);
    }
    fi = (cx - x0) / dx;
    fj = (cy - y0) / dy;
  }
};

template <class Mem>
struct LocateInSource {
  SourceAxes axes;
  Kokkos::View<const double*, Mem> a, b;
  Kokkos::View<double*, Mem> fi, fj;
  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    axes.index_of(a(k), b(k), fi(k), fj(k));
  }
};

// out(c, k) from src(c, j, i) at fractional index (fi(k), fj(k)).
template <class Mem>
struct BilinearSample {
  Kokkos::View<const float***, Kokkos::LayoutRight, Mem> src;
  Kokkos::View<const double*, Mem> fi, fj;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> out;
  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    const int nc = static_cast<int>(src.extent(0)), ny = static_cast<int>(src.extent(1)),
              nx = static_cast<int>(src.extent(2));
    const double x = fi(k), y = fj(k);
    const bool inside = x >= 0.0 && y >= 0.0 && x <= nx - 1.0 && y <= ny - 1.0;
    if (!inside || nx < 2 || ny < 2) {
      for (int c = 0; c < nc; ++c) out(c, k) = NAN;
      return;
    }
    int i0 = static_cast<int>(tmath::floor(x)), j0 = static_cast<int>(tmath::floor(y));
    if (i0 > nx - 2) i0 = nx - 2;
    if (j0 > ny - 2) j0 = ny - 2;
    const double wx = x - i0, wy = y - j0;
    for (int c = 0; c < nc; ++c) {
      const double v00 = src(c, j0, i0), v01 = src(c, j0, i0 + 1), v10 = src(c, j0 + 1, i0),
                   v11 = src(c, j0 + 1, i0 + 1);
      const double v = (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
      out(c, k) = static_cast<float>(v);  // NaN corners propagate
    }
  }
};

template <class Mem>
struct NearestSample {
  Kokkos::View<const float***, Kokkos::LayoutRight, Mem> src;
  Kokkos::View<const double*, Mem> fi, fj;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> out;
  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    const int nc = static_cast<int>(src.extent(0)), ny = static_cast<int>(src.extent(1)),
              nx = static_cast<int>(src.extent(2));
    const double x = fi(k), y = fj(k);
    // Cells own [i - 0.5, i + 0.5); NaN (off-disk) compares false and falls out.
    const bool inside = x >= -0.5 && y >= -0.5 && x < nx - 0.5 && y < ny - 0.5;
    const int i = inside ? static_cast<int>(tmath::floor(x + 0.5)) : 0;
    const int j = inside ? static_cast<int>(tmath::floor(y + 0.5)) : 0;
    for (int c = 0; c < nc; ++c) out(c, k) = inside ? src(c, j, i) : NAN;
  }
};

}  // namespace fluxrecon::kernels
