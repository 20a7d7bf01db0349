// Nearest point on the sphere: a k-d tree over unit vectors (the chord
// length is monotonic in the great-circle distance), for the climatology
// baseline's "nearest training location" of every cell of a cache.
//
// Ties (equal distance, e.g. a duplicated ORCA halo column) go to the
// smallest id, so the answer does not depend on how the points were ordered.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace fluxrecon::analysis {

// The unit vector of a point given in degrees (float degrees as stored in
// caches and sample stores, so that equal coordinates give equal vectors).
std::array<double, 3> unit_vector(double lat_deg, double lon_deg);

// Great-circle distance in km on a sphere of NEMO's radius (for tests and logs).
double great_circle_km(double lat1, double lon1, double lat2, double lon2);

class NearestLocation {
 public:
  // Points by their coordinates (degrees) and ids; `ids` break ties.
  NearestLocation(const std::vector<double>& lat, const std::vector<double>& lon,
                  const std::vector<std::int64_t>& ids);
  // The index (into the constructor's vectors) of the point nearest to
  // (lat, lon); -1 when there are no points.
  int nearest(double lat_deg, double lon_deg) const;
  std::size_t size() const { return points_.size(); }

 private:
  struct Node {
    int begin = 0, end = 0;  // points order_[begin, end)
    int axis = -1;           // -1 = leaf
    double split = 0;
    int left = -1, right = -1;
  };
  int build(int begin, int end);
  void search(int node, const std::array<double, 3>& q, double& best_d2, int& best) const;
  bool better(double d2, int candidate, double best_d2, int best) const;

  std::vector<std::array<double, 3>> points_;
  std::vector<std::int64_t> ids_;
  std::vector<int> order_;
  std::vector<Node> nodes_;
};

}  // namespace fluxrecon::analysis
