// Optical-flow kernels for `tiles flow` (spec 8.5): the seed used OpenCV's
// goodFeaturesToTrack and calcOpticalFlowPyrLK; these are own equivalents.
// Images are float planes [y][x] with row 0 at the top, intensities 0-255.
// - grey from RGB(A) (RGBA on a white background first, as skimage's rgba2rgb);
// - one Gaussian pyramid level (5-tap binomial blur, then every second pixel,
//   reflect-101 borders, as OpenCV's pyrDown) and Scharr gradients;
// - the Shi-Tomasi response: the smaller eigenvalue of the 3x3-Sobel structure
//   tensor summed over a block (cornerMinEigenVal);
// - pyramidal iterative Lucas-Kanade for a set of points, one thread per point.
#pragma once

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>

#include "kernels/tiles_goes_nav.hpp"

namespace fluxrecon::kernels {

constexpr int kFlowMaxLevels = 8;

// Index i reflected into [0, n) without repeating the edge (OpenCV BORDER_REFLECT_101).
KOKKOS_INLINE_FUNCTION int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

template <class Mem>
struct GreyFromRgba {
  Kokkos::View<const std::uint8_t***, Kokkos::LayoutRight, Mem> rgba;  // (y, x, channel)
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> grey;                // [0, 1]
  KOKKOS_INLINE_FUNCTION void operator()(const int y, const int x) const {
    const int nc = static_cast<int>(rgba.extent(2));
    if (nc < 3) {
      grey(y, x) = rgba(y, x, 0) / 255.0f;
      return;
    }
    const double alpha = nc == 4 ? rgba(y, x, 3) / 255.0 : 1.0;
    double c[3];
    for (int k = 0; k < 3; ++k) c[k] = (1.0 - alpha) + alpha * (rgba(y, x, k) / 255.0);
    grey(y, x) = static_cast<float>(0.2125 * c[0] + 0.7154 * c[1] + 0.0721 * c[2]);
  }
};

// One pyramid level: dst(y, x) = binomial 5x5 blur of src at (2y, 2x).
template <class Mem>
struct PyramidDown {
  Kokkos::View<const float**, Kokkos::LayoutRight, Mem> src;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> dst;
  KOKKOS_INLINE_FUNCTION void operator()(const int y, const int x) const {
    const int ny = static_cast<int>(src.extent(0)), nx = static_cast<int>(src.extent(1));
    const float w[5] = {1, 4, 6, 4, 1};
    float sum = 0;
    for (int dy = -2; dy <= 2; ++dy) {
      const int sy = reflect101(2 * y + dy, ny);
      float row = 0;
      for (int dx = -2; dx <= 2; ++dx) row += w[dx + 2] * src(sy, reflect101(2 * x + dx, nx));
      sum += w[dy + 2] * row;
    }
    dst(y, x) = sum / 256.0f;
  }
};

// Scharr derivatives divided by 32, so that they are per pixel.
template <class Mem>
struct ScharrGradient {
  Kokkos::View<const float**, Kokkos::LayoutRight, Mem> img;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> gx, gy;
  KOKKOS_INLINE_FUNCTION void operator()(const int y, const int x) const {
    const int ny = static_cast<int>(img.extent(0)), nx = static_cast<int>(img.extent(1));
    const int ym = reflect101(y - 1, ny), yp = reflect101(y + 1, ny);
    const int xm = reflect101(x - 1, nx), xp = reflect101(x + 1, nx);
    gx(y, x) = (3 * (img(ym, xp) - img(ym, xm)) + 10 * (img(y, xp) - img(y, xm)) +
                3 * (img(yp, xp) - img(yp, xm))) /
               32.0f;
    gy(y, x) = (3 * (img(yp, xm) - img(ym, xm)) + 10 * (img(yp, x) - img(ym, x)) +
                3 * (img(yp, xp) - img(ym, xp))) /
               32.0f;
  }
};

// Products of the 3x3 Sobel derivatives (the structure tensor's entries per pixel).
template <class Mem>
struct SobelProducts {
  Kokkos::View<const float**, Kokkos::LayoutRight, Mem> img;
  Kokkos::View<float***, Kokkos::LayoutRight, Mem> prod;  // (3, y, x): gx*gx, gx*gy, gy*gy
  KOKKOS_INLINE_FUNCTION void operator()(const int y, const int x) const {
    const int ny = static_cast<int>(img.extent(0)), nx = static_cast<int>(img.extent(1));
    const int ym = reflect101(y - 1, ny), yp = reflect101(y + 1, ny);
    const int xm = reflect101(x - 1, nx), xp = reflect101(x + 1, nx);
    const double gx =
        (img(ym, xp) - img(ym, xm)) + 2.0 * (img(y, xp) - img(y, xm)) + (img(yp, xp) - img(yp, xm));
    const double gy =
        (img(yp, xm) - img(ym, xm)) + 2.0 * (img(yp, x) - img(ym, x)) + (img(yp, xp) - img(ym, xp));
    prod(0, y, x) = static_cast<float>(gx * gx);
    prod(1, y, x) = static_cast<float>(gx * gy);
    prod(2, y, x) = static_cast<float>(gy * gy);
  }
};

// Smaller eigenvalue of the block-summed structure tensor (reflect-101 borders).
template <class Mem>
struct MinEigenResponse {
  Kokkos::View<const float***, Kokkos::LayoutRight, Mem> prod;
  int block = 5;
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> response;
  KOKKOS_INLINE_FUNCTION void operator()(const int y, const int x) const {
    const int ny = static_cast<int>(prod.extent(1)), nx = static_cast<int>(prod.extent(2));
    const int lo = -(block / 2), hi = lo + block;
    double a = 0, b = 0, c = 0;
    for (int dy = lo; dy < hi; ++dy) {
      const int sy = reflect101(y + dy, ny);
      for (int dx = lo; dx < hi; ++dx) {
        const int sx = reflect101(x + dx, nx);
        a += prod(0, sy, sx);
        b += prod(1, sy, sx);
        c += prod(2, sy, sx);
      }
    }
    const double h = 0.5 * (a - c);
    response(y, x) = static_cast<float>(0.5 * (a + c) - tmath::sqrt(h * h + b * b));
  }
};

// All levels of an image pyramid in one flat array per quantity, so that a
// kernel can reach every level through plain Views.
template <class Mem>
struct PyramidViews {
  Kokkos::View<const float*, Mem> img, gx, gy;
  int levels = 1;
  int nx[kFlowMaxLevels] = {}, ny[kFlowMaxLevels] = {};
  long offset[kFlowMaxLevels] = {};

  // Bilinear value at (x, y) of level L; the image extends by reflection, the
  // gradients are zero outside (as OpenCV pads them).
  KOKKOS_INLINE_FUNCTION float image_at(int L, int ix, int iy) const {
    return img(offset[L] + static_cast<long>(reflect101(iy, ny[L])) * nx[L] +
               reflect101(ix, nx[L]));
  }
  KOKKOS_INLINE_FUNCTION void gradient_at(int L, int ix, int iy, float& dx, float& dy) const {
    if (ix < 0 || iy < 0 || ix >= nx[L] || iy >= ny[L]) {
      dx = dy = 0;
      return;
    }
    const long k = offset[L] + static_cast<long>(iy) * nx[L] + ix;
    dx = gx(k);
    dy = gy(k);
  }
};

// Pyramidal iterative Lucas-Kanade (Bouguet's scheme, as calcOpticalFlowPyrLK
// with flags 0): from the coarsest level down, Gauss-Newton steps on the
// window's intensity difference (gradients of the first image) until
// `iterations` or a step below `epsilon` pixels. OpenCV moves the window
// rigidly; with `affine` the window may also deform (Lucas-Kanade with an
// affine warp, 6 parameters), which removes the bias a rigid window has
// under rotation (tenths of a pixel at 3 degrees where the texture is
// elongated) and equals the rigid result for a pure translation.
// A point is lost (NaN) when its window leaves the image at level 0, or the
// window's spatial gradient matrix is singular or its smaller eigenvalue per
// window pixel (OpenCV's scaling of 8-bit images) is below `min_eig`.
template <class Mem>
struct PyramidalLucasKanade {
  PyramidViews<Mem> prev, next;
  int window = 21, levels = 3, iterations = 10;
  double epsilon = 0.0, min_eig = 1e-4;
  bool affine = true;  // window warp: affine (exact for small rotations) or translation only
  Kokkos::View<const float**, Kokkos::LayoutRight, Mem> from;  // (point, 2): x (column), y (row)
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> to;          // (point, 2); NaN when lost

  KOKKOS_INLINE_FUNCTION static double absd(double v) { return v < 0 ? -v : v; }

  KOKKOS_INLINE_FUNCTION void operator()(const int p) const {
    const float px = from(p, 0), py = from(p, 1);
    if (px != px || py != py) {  // NaN: lost earlier in the chain
      to(p, 0) = to(p, 1) = NAN;
      return;
    }
    const double half = (window - 1) * 0.5;
    const double area = static_cast<double>(window) * window;
    const int top = levels < prev.levels ? levels : prev.levels - 1;
    double nx_ = 0, ny_ = 0;     // estimate at the current level
    double m[4] = {0, 0, 0, 0};  // affine deformation (scale-free: kept across levels)
    bool lost = false;
    for (int L = top; L >= 0; --L) {
      const double scale = 1.0 / (1 << L);
      const double ppx = px * scale - half, ppy = py * scale - half;  // window origin in prev
      if (L == top) {
        nx_ = px * scale;
        ny_ = py * scale;
      } else {
        nx_ *= 2;
        ny_ *= 2;
      }
      const int ipx = static_cast<int>(tmath::floor(ppx)),
                ipy = static_cast<int>(tmath::floor(ppy));
      if (ipx < -window || ipx >= prev.nx[L] || ipy < -window || ipy >= prev.ny[L]) {
        if (L == 0) lost = true;
        continue;
      }
      const double ax = ppx - ipx, ay = ppy - ipy;
      const double w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay,
                   w11 = ax * ay;
      // Normal matrix of the window's warp parameters, (dx, dy) and for the
      // affine model the deformation (m00, m01, m10, m11): from the first
      // image's gradients only, so once per level. Its (dx, dy) block is the
      // window's spatial gradient matrix.
      const int np = affine ? 6 : 2;
      double hessian[6][6] = {};
      for (int wy = 0; wy < window; ++wy)
        for (int wx = 0; wx < window; ++wx) {
          double jac[6];
          jacobian(prev, L, ipx + wx, ipy + wy, w00, w01, w10, w11, wx - half, wy - half, jac);
          for (int r = 0; r < np; ++r)
            for (int c = r; c < np; ++c) hessian[r][c] += jac[r] * jac[c];
        }
      const double a11 = hessian[0][0], a12 = hessian[0][1], a22 = hessian[1][1];
      const double det = a11 * a22 - a12 * a12;
      // OpenCV sums raw Scharr derivatives (32x ours) scaled by 2^-20.
      const double eig = (a22 + a11 - tmath::sqrt((a11 - a22) * (a11 - a22) + 4.0 * a12 * a12)) /
                         (2.0 * area) / 1024.0;
      if (eig < min_eig || det < 1e-12 * (a11 + a22) * (a11 + a22) || !(det > 0)) {
        if (L == 0) lost = true;
        continue;
      }
      double prev_dx = 0, prev_dy = 0;
      for (int it = 0; it < iterations; ++it) {
        const int iqx = static_cast<int>(tmath::floor(nx_ - half)),
                  iqy = static_cast<int>(tmath::floor(ny_ - half));
        if (iqx < -window || iqx >= next.nx[L] || iqy < -window || iqy >= next.ny[L]) {
          if (L == 0) lost = true;
          break;
        }
        double h[6][7] = {};
        for (int r = 0; r < np; ++r)
          for (int c = r; c < np; ++c) h[r][c] = hessian[r][c];
        for (int wy = 0; wy < window; ++wy)
          for (int wx = 0; wx < window; ++wx) {
            const int ix = ipx + wx, iy = ipy + wy;
            const double ox = wx - half, oy = wy - half;  // offset from the point
            const double i_val =
                w00 * prev.image_at(L, ix, iy) + w01 * prev.image_at(L, ix + 1, iy) +
                w10 * prev.image_at(L, ix, iy + 1) + w11 * prev.image_at(L, ix + 1, iy + 1);
            const double j_val = bilinear(next, L, nx_ + ox + m[0] * ox + m[1] * oy,
                                          ny_ + oy + m[2] * ox + m[3] * oy);
            double jac[6];
            jacobian(prev, L, ix, iy, w00, w01, w10, w11, ox, oy, jac);
            const double diff = j_val - i_val;
            for (int r = 0; r < np; ++r) h[r][6] -= diff * jac[r];
          }
        double step[6] = {};
        if (!solve(h, np, step)) {
          if (L == 0) lost = true;
          break;
        }
        nx_ += step[0];
        ny_ += step[1];
        for (int k = 0; k < np - 2; ++k) m[k] += step[k + 2];
        const double step_x = step[0], step_y = step[1];
        if (step_x * step_x + step_y * step_y <= epsilon * epsilon) break;
        // Oscillating between two positions: settle in the middle.
        if (it > 0 && absd(step_x + prev_dx) < 0.01 && absd(step_y + prev_dy) < 0.01) {
          nx_ -= 0.5 * step_x;
          ny_ -= 0.5 * step_y;
          break;
        }
        prev_dx = step_x;
        prev_dy = step_y;
      }
    }
    to(p, 0) = lost ? NAN : static_cast<float>(nx_);
    to(p, 1) = lost ? NAN : static_cast<float>(ny_);
  }

  // Bilinear image value at a real position of level L (reflected outside).
  KOKKOS_INLINE_FUNCTION static double bilinear(const PyramidViews<Mem>& v, int L, double x,
                                                double y) {
    const int ix = static_cast<int>(tmath::floor(x)), iy = static_cast<int>(tmath::floor(y));
    const double fx = x - ix, fy = y - iy;
    return (1 - fy) * ((1 - fx) * v.image_at(L, ix, iy) + fx * v.image_at(L, ix + 1, iy)) +
           fy * ((1 - fx) * v.image_at(L, ix, iy + 1) + fx * v.image_at(L, ix + 1, iy + 1));
  }

  // Solves the symmetric system h (upper triangle, right-hand side in column
  // 6) of size n by Gaussian elimination with partial pivoting; false when singular.
  KOKKOS_INLINE_FUNCTION static bool solve(double (&h)[6][7], int n, double (&x)[6]) {
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < r; ++c) h[r][c] = h[c][r];
    double scale = 0;
    for (int r = 0; r < n; ++r) scale = h[r][r] > scale ? h[r][r] : scale;
    if (!(scale > 0)) return false;
    for (int c = 0; c < n; ++c) {
      int pivot = c;
      for (int r = c + 1; r < n; ++r)
        if (absd(h[r][c]) > absd(h[pivot][c])) pivot = r;
      if (!(absd(h[pivot][c]) > 1e-12 * scale)) return false;
      if (pivot != c)
        for (int k = 0; k < 7; ++k) {
          const double t = h[c][k];
          h[c][k] = h[pivot][k];
          h[pivot][k] = t;
        }
      for (int r = c + 1; r < n; ++r) {
        const double f = h[r][c] / h[c][c];
        for (int k = c; k < 7; ++k) h[r][k] -= f * h[c][k];
      }
    }
    for (int r = n - 1; r >= 0; --r) {
      double v = h[r][6];
      for (int k = r + 1; k < n; ++k) v -= h[r][k] * x[k];
      x[r] = v / h[r][r];
    }
    return true;
  }

  // d(image)/d(warp parameters) at window offset (ox, oy).
  KOKKOS_INLINE_FUNCTION static void jacobian(const PyramidViews<Mem>& v, int L, int ix, int iy,
                                              double w00, double w01, double w10, double w11,
                                              double ox, double oy, double (&jac)[6]) {
    double dx, dy;
    sample_gradient(v, L, ix, iy, w00, w01, w10, w11, dx, dy);
    jac[0] = dx;
    jac[1] = dy;
    jac[2] = dx * ox;
    jac[3] = dx * oy;
    jac[4] = dy * ox;
    jac[5] = dy * oy;
  }

  KOKKOS_INLINE_FUNCTION static void sample_gradient(const PyramidViews<Mem>& v, int L, int ix,
                                                     int iy, double w00, double w01, double w10,
                                                     double w11, double& dx, double& dy) {
    float x00, y00, x01, y01, x10, y10, x11, y11;
    v.gradient_at(L, ix, iy, x00, y00);
    v.gradient_at(L, ix + 1, iy, x01, y01);
    v.gradient_at(L, ix, iy + 1, x10, y10);
    v.gradient_at(L, ix + 1, iy + 1, x11, y11);
    dx = w00 * x00 + w01 * x01 + w10 * x10 + w11 * x11;
    dy = w00 * y00 + w01 * y01 + w10 * y10 + w11 * y11;
  }
};

}  // namespace fluxrecon::kernels
