#include "analysis/nearest_location.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace fluxrecon::analysis {
namespace {

constexpr double kDegToRad = M_PI / 180.0;
constexpr double kEarthRadiusKm = 6371.229;  // as NEMO
constexpr int kLeafSize = 8;

double squared_distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

}  // namespace

std::array<double, 3> unit_vector(double lat_deg, double lon_deg) {
  const double p = lat_deg * kDegToRad, l = lon_deg * kDegToRad;
  return {std::cos(p) * std::cos(l), std::cos(p) * std::sin(l), std::sin(p)};
}

double great_circle_km(double lat1, double lon1, double lat2, double lon2) {
  const double chord =
      std::sqrt(squared_distance(unit_vector(lat1, lon1), unit_vector(lat2, lon2)));
  return 2.0 * kEarthRadiusKm * std::asin(std::min(1.0, chord / 2.0));
}

NearestLocation::NearestLocation(const std::vector<double>& lat, const std::vector<double>& lon,
                                 const std::vector<std::int64_t>& ids)
    : ids_(ids) {
  FR_REQUIRE(lat.size() == lon.size() && lat.size() == ids.size(), "nearest location: ", lat.size(),
             " latitudes, ", lon.size(), " longitudes and ", ids.size(), " ids");
  points_.reserve(lat.size());
  for (std::size_t k = 0; k < lat.size(); ++k) {
    FR_REQUIRE(std::isfinite(lat[k]) && std::isfinite(lon[k]) && std::abs(lat[k]) <= 90.0,
               "nearest location: point ", ids[k], " is at latitude ", lat[k], ", longitude ",
               lon[k]);
    points_.push_back(unit_vector(lat[k], lon[k]));
  }
  order_.resize(points_.size());
  for (std::size_t k = 0; k < order_.size(); ++k) order_[k] = static_cast<int>(k);
  if (!points_.empty()) build(0, static_cast<int>(points_.size()));
}

int NearestLocation::build(int begin, int end) {
  const int index = static_cast<int>(nodes_.size());
  nodes_.push_back({begin, end, -1, 0, -1, -1});
  if (end - begin <= kLeafSize) return index;
  // Split on the axis of the largest spread, at the median.
  std::array<double, 3> lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
  for (int k = begin; k < end; ++k)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], points_[order_[k]][a]);
      hi[a] = std::max(hi[a], points_[order_[k]][a]);
    }
  int axis = 0;
  for (int a = 1; a < 3; ++a)
    if (hi[a] - lo[a] > hi[axis] - lo[axis]) axis = a;
  if (!(hi[axis] > lo[axis])) return index;  // every point at one place: a leaf
  const int mid = begin + (end - begin) / 2;
  std::nth_element(order_.begin() + begin, order_.begin() + mid, order_.begin() + end,
                   [&](int a, int b) {
                     return points_[a][axis] < points_[b][axis] ||
                            (points_[a][axis] == points_[b][axis] && a < b);
                   });
  const double split = points_[order_[mid]][axis];
  const int left = build(begin, mid);
  const int right = build(mid, end);
  nodes_[index].axis = axis;
  nodes_[index].split = split;
  nodes_[index].left = left;
  nodes_[index].right = right;
  return index;
}

bool NearestLocation::better(double d2, int candidate, double best_d2, int best) const {
  return best < 0 || d2 < best_d2 || (d2 == best_d2 && ids_[candidate] < ids_[best]);
}

void NearestLocation::search(int node, const std::array<double, 3>& q, double& best_d2,
                             int& best) const {
  const Node& n = nodes_[node];
  if (n.axis < 0) {
    for (int k = n.begin; k < n.end; ++k) {
      const int p = order_[k];
      const double d2 = squared_distance(points_[p], q);
      if (better(d2, p, best_d2, best)) {
        best_d2 = d2;
        best = p;
      }
    }
    return;
  }
  // Left holds coordinates <= split, right >= split.
  const double diff = q[n.axis] - n.split;
  const int near = diff <= 0 ? n.left : n.right, far = diff <= 0 ? n.right : n.left;
  search(near, q, best_d2, best);
  // A point at the same distance as the best may lie beyond the plane only
  // when the plane is not farther than it: keep ties reachable.
  if (best < 0 || diff * diff <= best_d2 * (1.0 + 1e-9)) search(far, q, best_d2, best);
}

int NearestLocation::nearest(double lat_deg, double lon_deg) const {
  if (points_.empty()) return -1;
  double best_d2 = 0;
  int best = -1;
  search(0, unit_vector(lat_deg, lon_deg), best_d2, best);
  return best;
}

}  // namespace fluxrecon::analysis
