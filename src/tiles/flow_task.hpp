// `fluxrecon tiles flow` (spec 8.5): optical-flow trajectories through the
// regridded scenes of each day. Scenes are grouped by their date prefix
// `<source>__<YYYYmmdd>` and taken in time order; seed points come from the
// first image with at least min_corners Shi-Tomasi corners (earlier images
// are left out) and are tracked image to image. One group is rank-local work
// (group g on rank g mod P); the outputs, under D/rect/trajectories/, are
// `<prefix>.flow_trajectories.nc`, with frames on
// `<prefix>.flow_trajectories.<kkk>.png` (scene k with the tracks so far),
// and with a field step the dense flow of every tracked pair,
// `<prefix>.flow_field.nc`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tiles/flow.hpp"
#include "tiles/time_util.hpp"

namespace fluxrecon::tiles {

struct FlowScene {
  std::string scene_id;
  Seconds time = 0;
  std::string png, nc;  // D/rect/<id>.png and .nc
};

struct FlowGroup {
  std::string prefix;             // <source>__<YYYYmmdd>
  std::vector<FlowScene> scenes;  // in time order
};

// "<source>__<YYYYmmdd>" of a scene id "<source>__<YYYYmmddHHMM>"; throws naming the id otherwise.
std::string flow_group_prefix(const std::string& scene_id);
// Groups sorted by prefix, scenes by time then id.
std::vector<FlowGroup> flow_groups(std::vector<FlowScene> scenes);

std::string flow_dir(const std::string& data_path);  // D/rect/trajectories
std::string flow_trajectories_path(const std::string& data_path, const std::string& prefix);
std::string flow_frame_path(const std::string& data_path, const std::string& prefix, int k);
std::string flow_field_path(const std::string& data_path, const std::string& prefix);

// True when the trajectories file, every frame it implies (frames on) and
// the dense field (field on) are complete.
bool flow_group_complete(const std::string& data_path, const std::string& prefix, bool frames,
                         bool field);

struct FlowGroupStats {
  int scenes = 0;  // scenes in the trajectories (from the seed image on)
  int pairs = 0;   // image pairs tracked
  int seeds = 0;
  std::int64_t points_tracked = 0;  // points still found after each pair, summed
  double track_seconds = 0;         // pyramids and tracking only
};

// Rank-local: computes and writes one group's outputs (atomically). Errors
// name the group, the scene or the file: no scene, images of different
// sizes, or no image with min_corners corners.
FlowGroupStats run_flow_group(const std::string& data_path, const FlowGroup& group,
                              const FlowParams& params);

}  // namespace fluxrecon::tiles
