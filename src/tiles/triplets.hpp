// Triplet sampling (spec 5.1, 5.2) with one user seed: the split of scenes
// into collections and every tile position come from deterministic streams
// keyed by (seed, what), so the same seed gives the same dataset on any
// number of ranks (the original mixed in the process id, spec Q4).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tiles/meta.hpp"
#include "tiles/projection.hpp"

namespace fluxrecon::tiles {

// splitmix64 stream seeded from the user seed and a key.
class Rng {
 public:
  Rng(std::uint64_t seed, const std::string& key);
  std::uint64_t next();
  double uniform();                      // [0, 1)
  std::uint64_t below(std::uint64_t n);  // [0, n)

 private:
  std::uint64_t state_;
};

struct TripletEntry {
  long long triplet_id = 0;
  bool is_distant = false;
  std::string collection;
};
using SceneSplits = std::map<std::string, std::vector<TripletEntry>>;  // every scene, maybe empty

// Collections in N_triplets order get floor(n_c / sum n * N_scenes) shuffled
// scenes, the last one the remainder (spec Q5); each collection with
// triplets needs at least 2 scenes, else an error says how many there are.
SceneSplits split_scenes(const std::vector<std::string>& scene_ids, const TripletSpec& spec,
                         long long seed);
std::string splits_to_yaml(const SceneSplits& splits);
SceneSplits splits_from_yaml(const std::string& text, const std::string& what);

struct TileLocation {
  std::string tile_type;  // anchor, neighbor, distant
  long long triplet_id = 0;
  std::string collection;
  double x_c = 0, y_c = 0, size = 0;  // in the domain frame (m)
  bool geolocated = false;
  double central_latitude = 0, central_longitude = 0;
  Domain tile_domain() const;
  std::string id() const;  // "00012_anchor"
};

// Tile positions of one scene's entries inside `domain` (spec 5.2, with the
// geolocation fixed: the tile centre is the inverse LAEA of +x, +y, and the
// neighbour lies at +r(cos t, sin t) in the anchor's own frame).
std::vector<TileLocation> tile_locations(const std::string& scene_id,
                                         const std::vector<TripletEntry>& entries,
                                         const Domain& domain, const Meta& meta);
std::string locations_to_yaml(const std::vector<TileLocation>& tiles);
std::vector<TileLocation> locations_from_yaml(const std::string& text, const std::string& what);
// The <id>.yml of one tile (spec 5.3).
std::string tile_meta_yaml(const TileLocation& tile, const std::string& scene_id,
                           const std::string& aux_name);

}  // namespace fluxrecon::tiles
