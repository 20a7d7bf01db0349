// Optical flow on regridded scene images (spec 8.5): Shi-Tomasi
// corners as seed points and a pyramidal Lucas-Kanade tracker, both on the
// Kokkos kernels of kernels/tiles_flow.hpp (own equivalents of OpenCV's
// goodFeaturesToTrack and calcOpticalFlowPyrLK). Points are (x, y) = (image
// column, image row from the top), sub-pixel; a lost point is NaN. The
// dense field tracks a regular grid of points with the same tracker.
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <vector>

#include "kernels/tiles_flow.hpp"
#include "tiles/png.hpp"

namespace fluxrecon::tiles {

// The seed's parameters as defaults (spec 8.5).
struct FlowParams {
  int max_corners = 400;        // Shi-Tomasi: at most this many seed points
  double min_distance = 100;    // pixels between seed points
  double quality_level = 0.01;  // response below this fraction of the best is rejected
  int block_size = 5;           // structure-tensor block
  int min_corners = 100;        // seed from the first image with at least this many corners
  int window = 50;              // Lucas-Kanade window (pixels, square)
  int levels = 3;               // pyramid levels above the image (maxLevel)
  int iterations = 10;          // Newton steps per level
  double epsilon = 0.0;         // stop when a step is shorter (pixels)
  double min_eig_threshold = 1e-4;
  bool affine = true;   // window warp: affine (rotation-exact) or translation only (OpenCV's)
  bool frames = true;   // PNG frames with the trajectories drawn over the scenes
  int field_step = 16;  // dense flow field: grid spacing in pixels (0: no field)
};

struct FlowPoint {
  float x = 0, y = 0;
};

// Grey [0, 1] of a decoded PNG (RGBA on white, then 0.2125 R + 0.7154 G + 0.0721 B).
std::vector<float> grey_from_png(const DecodedPng& png);
// Min-max scaled to the integers 0..255 (truncated, as the seed's uint8
// image); NaN stays NaN; a constant image becomes 0.
std::vector<float> scaled_to_8bit(const std::vector<float>& grey);

// An image's pyramid and Scharr gradients on the device, built once and used
// both as the target of one step and the source of the next.
class FlowPyramid {
 public:
  using Mem = Kokkos::DefaultExecutionSpace::memory_space;
  // `image` [y][x], 0-255. Levels stop early where the next one would be no
  // larger than the window (as OpenCV's pyramid).
  FlowPyramid(const std::vector<float>& image, int nx, int ny, int levels, int window);
  const kernels::PyramidViews<Mem>& views() const { return views_; }
  int nx() const { return views_.nx[0]; }
  int ny() const { return views_.ny[0]; }
  int levels() const { return views_.levels; }

 private:
  kernels::PyramidViews<Mem> views_;
};

// Shi-Tomasi corners of `image` (0-255, [y][x]) as goodFeaturesToTrack:
// response above quality_level x the best, local 3x3 maxima away from the
// one-pixel border, strongest first (ties: larger index first), greedily
// at least min_distance apart, at most max_corners. NaN pixels, dilated by
// 5 x 5, are masked out.
std::vector<FlowPoint> good_features(const std::vector<float>& image, int nx, int ny,
                                     const FlowParams& params);

// Tracks `points` from `prev` to `next`; NaN points stay NaN.
std::vector<FlowPoint> track_points(const FlowPyramid& prev, const FlowPyramid& next,
                                    const std::vector<FlowPoint>& points, const FlowParams& params);

// The dense flow from `prev` to `next` on a regular grid: points every
// `step` pixels (centres step/2, 3 step/2, ... in both directions) tracked
// as track_points does; dx, dy [gy][gx] in pixels (x right, y down), NaN
// where a point is lost.
struct FlowField {
  int gx = 0, gy = 0, step = 0;
  std::vector<float> dx, dy;
};
FlowField dense_flow(const FlowPyramid& prev, const FlowPyramid& next, int step,
                     const FlowParams& params);

// Spec 8.5 post-processing of one position: rounded column i and row counted
// from the south j = ny - 1 - row; -1 for both when lost or outside the image.
struct TrajectoryCell {
  int i = -1, j = -1;
};
TrajectoryCell trajectory_cell(const FlowPoint& p, int nx, int ny);

}  // namespace fluxrecon::tiles
