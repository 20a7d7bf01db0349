#include "tiles/triplets.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace fluxrecon::tiles {
namespace {

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

Rng::Rng(std::uint64_t seed, const std::string& key) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the key
  for (unsigned char c : key) h = (h ^ c) * 0x100000001B3ull;
  state_ = mix(seed + 0x9E3779B97F4A7C15ull) ^ mix(h);
}

std::uint64_t Rng::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  return mix(state_);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * n) % n; }

SceneSplits split_scenes(const std::vector<std::string>& scene_ids, const TripletSpec& spec,
                         long long seed) {
  const auto n = static_cast<long long>(scene_ids.size());
  FR_REQUIRE(n >= 2, "At least 2 scenes are needed to do `random_by_relative_sample_size` (found ",
             n, "). Please increase the number of scenes in your data source (time range, files)");
  std::vector<std::string> shuffled = scene_ids;
  std::sort(shuffled.begin(), shuffled.end());
  Rng rng(static_cast<std::uint64_t>(seed), "tile_scene_splits");
  for (size_t i = shuffled.size(); i > 1; --i) std::swap(shuffled[i - 1], shuffled[rng.below(i)]);
  long long total = 0;
  for (const auto& [name, count] : spec.n_triplets) total += count;
  SceneSplits splits;
  for (const auto& id : scene_ids) splits[id];
  size_t pos = 0;
  std::string sizes;
  for (size_t c = 0; c < spec.n_triplets.size(); ++c) {
    const auto& [name, count] = spec.n_triplets[c];
    const bool last = c + 1 == spec.n_triplets.size();
    const size_t k =
        last ? shuffled.size() - pos : static_cast<size_t>(static_cast<double>(count) / total * n);
    sizes += (c ? ", " : "") + name + ": " + std::to_string(k);
    if (count > 0)
      FR_REQUIRE(
          k >= 2, "sampling.triplets.N_triplets: collection '", name, "' (", count,
          " triplets) gets ", k, " of the ", n,
          " scenes, but a triplet needs 2 scenes of its collection (split by relative size: ",
          sizes, "...); with ", n, " scenes at most ", n / 2,
          " collections are possible: add scenes or change the relative counts");
    std::vector<std::string> members(shuffled.begin() + static_cast<std::ptrdiff_t>(pos),
                                     shuffled.begin() + static_cast<std::ptrdiff_t>(pos + k));
    pos += k;
    Rng pairs(static_cast<std::uint64_t>(seed), "triplet_pairs/" + name);
    for (long long t = 0; t < count; ++t) {
      const auto a = pairs.below(members.size());
      auto d = pairs.below(members.size() - 1);
      if (d >= a) ++d;
      splits[members[a]].push_back({t, false, name});
      splits[members[d]].push_back({t, true, name});
    }
  }
  return splits;
}

std::string splits_to_yaml(const SceneSplits& splits) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& [scene, entries] : splits) {
    out << YAML::Key << scene << YAML::Value << YAML::BeginSeq;
    for (const auto& e : entries)
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "is_distant" << YAML::Value
          << e.is_distant << YAML::Key << "triplet_collection" << YAML::Value << e.collection
          << YAML::Key << "triplet_id" << YAML::Value << e.triplet_id << YAML::EndMap;
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

SceneSplits splits_from_yaml(const std::string& text, const std::string& what) {
  SceneSplits s;
  try {
    const auto root = YAML::Load(text);
    for (const auto& kv : root) {
      auto& list = s[kv.first.as<std::string>()];
      for (const auto& e : kv.second)
        list.push_back({e["triplet_id"].as<long long>(), e["is_distant"].as<bool>(),
                        e["triplet_collection"].as<std::string>()});
    }
  } catch (const YAML::Exception& e) {
    FR_FAIL(what, ": not a tile-scene split file (", e.what(), "); delete it to regenerate");
  }
  return s;
}

Domain TileLocation::tile_domain() const {
  Domain d;
  d.local = geolocated;
  d.central_latitude = central_latitude;
  d.central_longitude = central_longitude;
  d.x_c = geolocated ? 0.0 : x_c;  // a local tile's grid is relative to its own centre
  d.y_c = geolocated ? 0.0 : y_c;
  d.l_zonal = d.l_meridional = size;
  return d;
}

std::string TileLocation::id() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05lld_", triplet_id);
  return buf + tile_type;
}

std::vector<TileLocation> tile_locations(const std::string& scene_id,
                                         const std::vector<TripletEntry>& entries,
                                         const Domain& domain, const Meta& meta) {
  const double L = meta.triplets.tile_N * meta.resolution;
  const double r = meta.triplets.neigh_dist_scaling * L;
  const double lx = domain.l_zonal, ly = domain.l_meridional;
  FR_REQUIRE(lx >= L && ly >= L, meta.meta_path, ": sampling.triplets.tile_N ",
             meta.triplets.tile_N, " x resolution ", meta.resolution, " m gives tiles of ", L,
             " m, larger than the domain of ", scene_id, " (", lx, " m x ", ly,
             " m); use a smaller tile_N or resolution");
  const double x0 = domain.x_min(), y0 = domain.y_min(), x1 = domain.x_max(), y1 = domain.y_max();
  const double margin = L / 2;
  // convml-data places a tile recorded at (x, y) at the inverse projection of (-x, -y) (spec 5.2).
  const double mirror = meta.triplets.faithful_geolocation ? -1.0 : 1.0;
  auto inside = [&](double x, double y) {
    return x - L / 2 >= x0 - 1e-6 && x + L / 2 <= x1 + 1e-6 && y - L / 2 >= y0 - 1e-6 &&
           y + L / 2 <= y1 + 1e-6;
  };
  std::unique_ptr<Laea> frame;
  if (domain.local)
    frame = std::make_unique<Laea>(domain.central_latitude, domain.central_longitude);
  std::vector<TileLocation> out;
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& e = entries[k];
    Rng rng(static_cast<std::uint64_t>(meta.seed), scene_id + "/" + std::to_string(k) + "/" +
                                                       e.collection + "/" +
                                                       std::to_string(e.triplet_id));
    auto draw = [&](double& x, double& y) {
      x = x0 + margin + (x1 - x0 - 2 * margin) * rng.uniform();
      y = y0 + margin + (y1 - y0 - 2 * margin) * rng.uniform();
    };
    TileLocation base;
    base.triplet_id = e.triplet_id;
    base.collection = e.collection;
    base.size = L;
    base.geolocated = domain.local;
    // Every entry draws a whole triplet, in this order, so a tile does not depend on whether
    // it is kept (spec 5.2).
    double xa, ya, xd, yd, theta = 0;
    draw(xa, ya);
    int tries = 0;
    do {
      theta = 2 * M_PI * rng.uniform();
      FR_REQUIRE(++tries <= 10000, meta.meta_path, ": cannot place a neighbour tile at ", r,
                 " m (neigh_dist_scaling x tile size) from the anchor inside the domain of ",
                 scene_id, " (", lx, " m x ", ly, " m); reduce neigh_dist_scaling or tile_N");
    } while (!inside(xa + r * std::cos(theta), ya + r * std::sin(theta)));
    draw(xd, yd);
    auto place = [&](const char* type, double x, double y) {
      TileLocation t = base;
      t.tile_type = type;
      t.x_c = x;
      t.y_c = y;
      if (frame)
        frame->inverse(mirror * (x - domain.x_c), mirror * (y - domain.y_c), t.central_latitude,
                       t.central_longitude);
      return t;
    };
    if (e.is_distant) {
      out.push_back(place("distant", xd, yd));
    } else {
      const TileLocation anchor = place("anchor", xa, ya);
      TileLocation neighbor = place("neighbor", xa + r * std::cos(theta), ya + r * std::sin(theta));
      if (frame)  // in the anchor's own frame, where the distance is exactly r
        Laea(anchor.central_latitude, anchor.central_longitude)
            .inverse(mirror * r * std::cos(theta), mirror * r * std::sin(theta),
                     neighbor.central_latitude, neighbor.central_longitude);
      out.push_back(anchor);
      out.push_back(neighbor);
    }
  }
  return out;
}

namespace {
void emit_loc(YAML::Emitter& out, const TileLocation& t) {
  out << YAML::Key << "loc" << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (t.geolocated)
    out << YAML::Key << "central_latitude" << YAML::Value << t.central_latitude << YAML::Key
        << "central_longitude" << YAML::Value << t.central_longitude;
  out << YAML::Key << "l_meridional" << YAML::Value << t.size << YAML::Key << "l_zonal"
      << YAML::Value << t.size << YAML::Key << "x_c" << YAML::Value << t.x_c << YAML::Key << "y_c"
      << YAML::Value << t.y_c << YAML::EndMap;
}
}  // namespace

std::string locations_to_yaml(const std::vector<TileLocation>& tiles) {
  if (tiles.empty()) return "[]\n";
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginSeq;
  for (const auto& t : tiles) {
    out << YAML::BeginMap;
    emit_loc(out, t);
    out << YAML::Key << "tile_type" << YAML::Value << t.tile_type << YAML::Key
        << "triplet_collection" << YAML::Value << t.collection << YAML::Key << "triplet_id"
        << YAML::Value << t.triplet_id << YAML::EndMap;
  }
  out << YAML::EndSeq;
  return std::string(out.c_str()) + "\n";
}

std::vector<TileLocation> locations_from_yaml(const std::string& text, const std::string& what) {
  std::vector<TileLocation> tiles;
  try {
    for (const auto& e : YAML::Load(text)) {
      TileLocation t;
      const auto loc = e["loc"];
      t.tile_type = e["tile_type"].as<std::string>();
      t.collection = e["triplet_collection"].as<std::string>();
      t.triplet_id = e["triplet_id"].as<long long>();
      t.x_c = loc["x_c"].as<double>();
      t.y_c = loc["y_c"].as<double>();
      t.size = loc["l_zonal"].as<double>();
      t.geolocated = static_cast<bool>(loc["central_latitude"]);
      if (t.geolocated) {
        t.central_latitude = loc["central_latitude"].as<double>();
        t.central_longitude = loc["central_longitude"].as<double>();
      }
      tiles.push_back(t);
    }
  } catch (const YAML::Exception& e) {
    FR_FAIL(what, ": not a tile-location file (", e.what(), "); delete it to regenerate");
  }
  return tiles;
}

std::string tile_meta_yaml(const TileLocation& t, const std::string& scene_id,
                           const std::string& aux_name) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginMap;
  if (!aux_name.empty()) out << YAML::Key << "aux_name" << YAML::Value << aux_name;
  emit_loc(out, t);
  out << YAML::Key << "scene_id" << YAML::Value << scene_id << YAML::Key << "tile_type"
      << YAML::Value << t.tile_type << YAML::Key << "triplet_collection" << YAML::Value
      << t.collection << YAML::Key << "triplet_id" << YAML::Value << t.triplet_id << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace fluxrecon::tiles
