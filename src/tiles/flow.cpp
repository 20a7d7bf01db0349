#include "tiles/flow.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.hpp"

namespace fluxrecon::tiles {
namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using Plane = Kokkos::View<float**, Kokkos::LayoutRight, Mem>;
using HostPlane = Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace,
                               Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
using ConstHostPlane = Kokkos::View<const float**, Kokkos::LayoutRight, Kokkos::HostSpace,
                                    Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>> plane_policy(int ny, int nx) {
  return Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {ny, nx});
}

Plane to_device(const std::vector<float>& image, int nx, int ny, const char* label) {
  FR_REQUIRE(image.size() == static_cast<size_t>(nx) * ny, "flow: image of ", image.size(),
             " values is not ", nx, " x ", ny);
  Plane d(std::string(label), ny, nx);
  Kokkos::deep_copy(d, ConstHostPlane(image.data(), ny, nx));
  return d;
}

std::vector<float> to_host(const Plane& d) {
  std::vector<float> out(d.extent(0) * d.extent(1));
  Kokkos::deep_copy(HostPlane(out.data(), d.extent(0), d.extent(1)), d);
  return out;
}

}  // namespace

std::vector<float> grey_from_png(const DecodedPng& png) {
  const int ny = png.height, nx = png.width, nc = png.channels;
  FR_REQUIRE(nx > 0 && ny > 0 && nc >= 1 && nc <= 4 &&
                 png.pixels.size() == static_cast<size_t>(nx) * ny * nc,
             "flow: bad image (", nx, " x ", ny, " x ", nc, ")");
  Kokkos::View<std::uint8_t***, Kokkos::LayoutRight, Mem> rgba("flow_rgba", ny, nx, nc);
  Kokkos::deep_copy(
      rgba, Kokkos::View<const std::uint8_t***, Kokkos::LayoutRight, Kokkos::HostSpace,
                         Kokkos::MemoryTraits<Kokkos::Unmanaged>>(png.pixels.data(), ny, nx, nc));
  Plane grey("flow_grey", ny, nx);
  Kokkos::parallel_for("tiles::grey_from_rgba", plane_policy(ny, nx),
                       kernels::GreyFromRgba<Mem>{rgba, grey});
  return to_host(grey);
}

std::vector<float> scaled_to_8bit(const std::vector<float>& grey) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : grey)
    if (!std::isnan(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  std::vector<float> out(grey.size());
  for (size_t k = 0; k < grey.size(); ++k) {
    if (std::isnan(grey[k]))
      out[k] = NAN;
    else
      out[k] = hi > lo ? std::floor(255.0f * ((grey[k] - lo) / (hi - lo))) : 0.0f;
  }
  return out;
}

FlowPyramid::FlowPyramid(const std::vector<float>& image, int nx, int ny, int levels, int window) {
  FR_REQUIRE(levels >= 0 && levels < kernels::kFlowMaxLevels, "flow: levels ", levels,
             " is not in 0..", kernels::kFlowMaxLevels - 1);
  std::vector<Plane> planes{to_device(image, nx, ny, "flow_level0")};
  // Level L + 1 exists only when larger than the window (OpenCV's rule).
  while (static_cast<int>(planes.size()) <= levels) {
    const int w = (static_cast<int>(planes.back().extent(1)) + 1) / 2,
              h = (static_cast<int>(planes.back().extent(0)) + 1) / 2;
    if (w <= window || h <= window) break;
    Plane down("flow_level", h, w);
    Kokkos::parallel_for("tiles::pyramid_down", plane_policy(h, w),
                         kernels::PyramidDown<Mem>{planes.back(), down});
    planes.push_back(down);
  }
  long total = 0;
  views_.levels = static_cast<int>(planes.size());
  for (int L = 0; L < views_.levels; ++L) {
    views_.nx[L] = static_cast<int>(planes[L].extent(1));
    views_.ny[L] = static_cast<int>(planes[L].extent(0));
    views_.offset[L] = total;
    total += static_cast<long>(views_.nx[L]) * views_.ny[L];
  }
  Kokkos::View<float*, Mem> img("flow_pyramid", total), gx("flow_gx", total), gy("flow_gy", total);
  for (int L = 0; L < views_.levels; ++L) {
    const int w = views_.nx[L], h = views_.ny[L];
    const auto range = std::make_pair(views_.offset[L], views_.offset[L] + long(w) * h);
    // Unmanaged 2-D windows onto the flat arrays (same memory space, contiguous).
    Plane li(Kokkos::subview(img, range).data(), h, w), lx(Kokkos::subview(gx, range).data(), h, w),
        ly(Kokkos::subview(gy, range).data(), h, w);
    Kokkos::deep_copy(li, planes[L]);
    Kokkos::parallel_for("tiles::scharr_gradient", plane_policy(h, w),
                         kernels::ScharrGradient<Mem>{li, lx, ly});
  }
  views_.img = img;
  views_.gx = gx;
  views_.gy = gy;
}

std::vector<FlowPoint> good_features(const std::vector<float>& image, int nx, int ny,
                                     const FlowParams& params) {
  FR_REQUIRE(params.block_size >= 1, "flow: block size ", params.block_size, " must be >= 1");
  const size_t n = static_cast<size_t>(nx) * ny;
  // NaN pixels and their 5 x 5 neighbourhood are masked; the kernels see them as 0.
  std::vector<char> masked(n, 0);
  std::vector<float> clean(image);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x)
      if (std::isnan(image[static_cast<size_t>(y) * nx + x])) {
        clean[static_cast<size_t>(y) * nx + x] = 0;
        for (int dy = -2; dy <= 2; ++dy)
          for (int dx = -2; dx <= 2; ++dx)
            if (y + dy >= 0 && y + dy < ny && x + dx >= 0 && x + dx < nx)
              masked[static_cast<size_t>(y + dy) * nx + x + dx] = 1;
      }
  const Plane img = to_device(clean, nx, ny, "flow_corner_image");
  Kokkos::View<float***, Kokkos::LayoutRight, Mem> prod("flow_sobel_products", 3, ny, nx);
  Kokkos::parallel_for("tiles::sobel_products", plane_policy(ny, nx),
                       kernels::SobelProducts<Mem>{img, prod});
  Plane response("flow_min_eigen", ny, nx);
  Kokkos::parallel_for("tiles::min_eigen_response", plane_policy(ny, nx),
                       kernels::MinEigenResponse<Mem>{prod, params.block_size, response});
  std::vector<float> eig = to_host(response);

  float best = 0;
  for (size_t k = 0; k < n; ++k)
    if (!masked[k]) best = std::max(best, eig[k]);
  const float threshold = static_cast<float>(best * params.quality_level);
  for (auto& v : eig)
    if (!(v > threshold)) v = 0;
  // Local maxima of the 3 x 3 neighbourhood, away from the one-pixel border.
  std::vector<size_t> candidates;
  for (int y = 1; y < ny - 1; ++y)
    for (int x = 1; x < nx - 1; ++x) {
      const size_t k = static_cast<size_t>(y) * nx + x;
      if (eig[k] == 0 || masked[k]) continue;
      bool peak = true;
      for (int dy = -1; dy <= 1 && peak; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          if (eig[k + static_cast<long>(dy) * nx + dx] > eig[k]) peak = false;
      if (peak) candidates.push_back(k);
    }
  std::sort(candidates.begin(), candidates.end(),
            [&](size_t a, size_t b) { return eig[a] != eig[b] ? eig[a] > eig[b] : a > b; });
  std::vector<FlowPoint> corners;
  const double d2 = params.min_distance * params.min_distance;
  for (size_t k : candidates) {
    if (params.max_corners > 0 && static_cast<int>(corners.size()) >= params.max_corners) break;
    const FlowPoint p{static_cast<float>(k % nx), static_cast<float>(k / nx)};
    bool far = true;
    for (const auto& q : corners) {
      const double dx = p.x - q.x, dy = p.y - q.y;
      if (dx * dx + dy * dy < d2) {
        far = false;
        break;
      }
    }
    if (far) corners.push_back(p);
  }
  return corners;
}

std::vector<FlowPoint> track_points(const FlowPyramid& prev, const FlowPyramid& next,
                                    const std::vector<FlowPoint>& points,
                                    const FlowParams& params) {
  FR_REQUIRE(prev.nx() == next.nx() && prev.ny() == next.ny(), "flow: images of ", prev.nx(), " x ",
             prev.ny(), " and ", next.nx(), " x ", next.ny(), " pixels cannot be tracked between");
  FR_REQUIRE(params.window >= 3 && params.iterations >= 1, "flow: window ", params.window,
             " (>= 3) and iterations ", params.iterations, " (>= 1)");
  const int np = static_cast<int>(points.size());
  std::vector<float> flat(2 * points.size());
  for (int p = 0; p < np; ++p) {
    flat[2 * p] = points[p].x;
    flat[2 * p + 1] = points[p].y;
  }
  Plane from("flow_from", np, 2), to("flow_to", np, 2);
  Kokkos::deep_copy(from, ConstHostPlane(flat.data(), np, 2));
  kernels::PyramidalLucasKanade<Mem> lk{prev.views(),
                                        next.views(),
                                        params.window,
                                        params.levels,
                                        params.iterations,
                                        params.epsilon,
                                        params.min_eig_threshold,
                                        params.affine,
                                        from,
                                        to};
  Kokkos::parallel_for("tiles::pyramidal_lucas_kanade", Kokkos::RangePolicy<Exec>(0, np), lk);
  flat = to_host(to);
  std::vector<FlowPoint> out(points.size());
  for (int p = 0; p < np; ++p) out[p] = {flat[2 * p], flat[2 * p + 1]};
  return out;
}

FlowField dense_flow(const FlowPyramid& prev, const FlowPyramid& next, int step,
                     const FlowParams& params) {
  FR_REQUIRE(step >= 1, "flow: the dense field's grid step ", step, " must be at least 1 pixel");
  FlowField f;
  f.step = step;
  f.gx = prev.nx() / step;
  f.gy = prev.ny() / step;
  FR_REQUIRE(f.gx >= 1 && f.gy >= 1, "flow: --flow-field-step ", step,
             " is larger than the images (", prev.nx(), " x ", prev.ny(), " pixels)");
  std::vector<FlowPoint> grid;
  grid.reserve(static_cast<size_t>(f.gx) * f.gy);
  for (int r = 0; r < f.gy; ++r)
    for (int c = 0; c < f.gx; ++c) grid.push_back({step * (c + 0.5f), step * (r + 0.5f)});
  const auto moved = track_points(prev, next, grid, params);
  f.dx.resize(grid.size());
  f.dy.resize(grid.size());
  for (size_t k = 0; k < grid.size(); ++k) {
    f.dx[k] = moved[k].x - grid[k].x;  // NaN stays NaN
    f.dy[k] = moved[k].y - grid[k].y;
  }
  return f;
}

TrajectoryCell trajectory_cell(const FlowPoint& p, int nx, int ny) {
  if (std::isnan(p.x) || std::isnan(p.y)) return {};
  // Half-way cases to even, as numpy.round.
  const double i = std::nearbyint(p.x), row = std::nearbyint(p.y);
  if (i < 0 || i >= nx || row < 0 || row >= ny) return {};
  return {static_cast<int>(i), static_cast<int>(ny - 1 - row)};
}

}  // namespace fluxrecon::tiles
