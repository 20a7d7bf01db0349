// Named ocean regions (exactly the seed's boxes, inclusive bounds) and
// user-defined lat/lon boxes. A region is a union of boxes.
#pragma once

#include <string>
#include <vector>

namespace fluxrecon::data {

struct LatLonBox {
  double lat_min = -90, lat_max = 90;
  double lon_min = -180, lon_max = 180;  // lon_min > lon_max wraps across the dateline
  bool lat_min_strict = false;           // Arctic is "lat > 70", strictly
  bool contains(double lat, double lon) const;
};

struct Region {
  std::string name;
  std::vector<LatLonBox> boxes;  // empty = everywhere (global)
  bool contains(double lat, double lon) const;
};

// The built-in names: global, North_Atlantic, Southern_Ocean, Equatorial_Pacific, Arctic.
std::vector<std::string> builtin_region_names();
// A built-in region, or nullptr-like empty optional semantics via bool.
bool builtin_region(const std::string& name, Region& out);
// Longitude wrapped into [-180, 180).
double wrap_longitude(double lon);

}  // namespace fluxrecon::data
