// The tasks of `fluxrecon tiles` (spec 7): each is idempotent (outputs that
// exist are skipped; every file is written under a temporary name and
// renamed), runs the tasks it needs whose outputs are missing, and spreads
// scenes over the ranks of `comm` (scene i on rank i mod size). Every result
// depends only on meta.yaml (and its seed), never on the number of ranks.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tiles/flow.hpp"
#include "tiles/meta.hpp"

namespace fluxrecon::tiles {

struct TaskOptions {
  std::string aux_name;                 // --aux-name
  std::string tiles_kind = "triplets";  // triplets | rect-slidingwindow
  int step_size = 0;                    // --step-size (0: meta.yaml's)
  std::string scene_filter;             // regex anchored at the start of the scene id
  FlowParams flow;                      // task `flow`
};

struct TaskSummary {
  std::string task;
  std::int64_t scenes = 0;   // scenes the task covered
  std::int64_t written = 0;  // scene outputs written by this run (all ranks)
  std::int64_t skipped = 0;  // already complete
  std::int64_t tiles = 0;    // tiles written (all ranks)
  double megapixels = 0;     // regridded output pixels (all ranks)
  double seconds = 0;
  // Task `flow`: groups with trajectories, image pairs tracked, points still
  // found after each pair (summed) and the time spent in the tracker.
  std::int64_t groups = 0, pairs = 0, points_tracked = 0;
  double track_seconds = 0;
};

const std::vector<std::string>& task_names();
// Sliding-window tiles along one axis (spec 6.4): floor((n - N) / S) + 1, or 0 if n < N.
int sliding_window_count(int pixels, int tile_N, int step);
// Collective over `comm`.
TaskSummary run_task(const std::string& task, const Meta& meta, const TaskOptions& options,
                     MPI_Comm comm);

}  // namespace fluxrecon::tiles
