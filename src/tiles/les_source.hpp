// LES sources (spec 2.4, 3.5): netCDF files in <dataset>/source_data/LES/
// source_files/ matching a glob, each with a `time` coordinate and the
// product's variables on (time, y, x) in metres or (time, lat, lon). A scene
// is one time step of one file; no per-step copies are made (the database
// records the file and the step).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tiles/meta.hpp"
#include "tiles/scene.hpp"

namespace fluxrecon::tiles {

// Where the data of one scene are: for LES one file and a time index, for
// goes16 one file per input channel. Paths are relative to the dataset root.
struct SceneRef {
  std::string scene_id;
  Seconds time = 0;
  std::vector<std::string> files;
  int time_index = -1;  // LES only
};

std::string les_source_dir(const Meta& meta);

// Lists the matching files (sorted); throws naming the folder and glob when
// there are none.
std::vector<std::string> les_source_files(const Meta& meta, const std::string& glob);

// Every time step of every file whose time passes the filters; a channel
// missing in a file is an error naming the file, the variable and what the
// file holds. Collisions within a minute keep the first and warn (spec Q7).
std::vector<SceneRef> find_les_scenes(const Meta& meta, const Product& product,
                                      const std::string& glob);

// Reads one scene's planes (the product's variables in order).
Scene read_les_scene(const Meta& meta, const SceneRef& ref, const Product& product);

}  // namespace fluxrecon::tiles
