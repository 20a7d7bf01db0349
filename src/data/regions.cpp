#include "data/regions.hpp"

#include <cmath>

namespace fluxrecon::data {

double wrap_longitude(double lon) {
  double w = std::fmod(lon + 180.0, 360.0);
  if (w < 0) w += 360.0;
  return w - 180.0;
}

bool LatLonBox::contains(double lat, double lon) const {
  const bool lat_ok = (lat_min_strict ? lat > lat_min : lat >= lat_min) && lat <= lat_max;
  if (!lat_ok) return false;
  // Bounds are compared as given (the seed's inclusive <=); only wrap the point
  // when the box does not cover it as given (e.g. a 0..360 longitude grid).
  if (lon_min <= lon_max) {
    if (lon >= lon_min && lon <= lon_max) return true;
    const double w = wrap_longitude(lon);
    return w >= lon_min && w <= lon_max;
  }
  const double w = wrap_longitude(lon);
  return w >= lon_min || w <= lon_max;
}

bool Region::contains(double lat, double lon) const {
  if (boxes.empty()) return true;
  for (const auto& b : boxes)
    if (b.contains(lat, lon)) return true;
  return false;
}

std::vector<std::string> builtin_region_names() {
  return {"global", "North_Atlantic", "Southern_Ocean", "Equatorial_Pacific", "Arctic"};
}

bool builtin_region(const std::string& name, Region& out) {
  out = Region{name, {}};
  if (name == "global") return true;
  if (name == "North_Atlantic") {
    out.boxes = {LatLonBox{10, 70, -75, 0}};
  } else if (name == "Southern_Ocean") {
    out.boxes = {LatLonBox{-90, -45, -180, 180}};
  } else if (name == "Equatorial_Pacific") {
    // -10 <= lat <= 10 and (105 <= lon <= 180 or -180 <= lon <= -80)
    out.boxes = {LatLonBox{-10, 10, 105, 180}, LatLonBox{-10, 10, -180, -80}};
  } else if (name == "Arctic") {
    LatLonBox arctic{70, 90, -180, 180};
    arctic.lat_min_strict = true;
    out.boxes = {arctic};
  } else {
    return false;
  }
  return true;
}

}  // namespace fluxrecon::data
