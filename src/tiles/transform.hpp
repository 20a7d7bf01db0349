// `fluxrecon tiles transform` (spec 8.4): a PCA of the sliding-window
// embeddings of every scene, fitted over all windows of all scenes (or a
// saved model applied), written per scene next to its input.
//
// Inputs: `<D>/embeddings/rect/<model_name>/<scene_id>.embeddings.<S>_step.nc`
// (model_name = the --model file's name without extension, S = --step-size or
// meta.yaml's), or every `*.embeddings.<S>_step.nc` of --embeddings DIR.
// Outputs next to each input `<stem>` (`<scene_id>.embeddings.<S>_step`):
// `<stem>.pca_transform[__n_components_K].nc` and `.png` (RGB of the first
// three components); when fitted, the model
// `pca_transform[__n_components_K].<S>_step.model.nc` in the same folder.
//
// The fit merges per-scene moments over MPI in scene order (scene i read on
// rank i mod P), so model and outputs are identical for any rank count.
// Reruns reuse a complete model and skip complete outputs made by the same model.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tiles/meta.hpp"

namespace fluxrecon::tiles {

struct TransformOptions {
  std::string transform_type;    // --transform-type: pca
  std::string model;             // --model: embedding model file (names the input folder)
  std::string embeddings_dir;    // --embeddings: the input folder itself (instead of --model)
  int step_size = 0;             // --step-size (0: meta.yaml's rect-slidingwindow step_size)
  int n_components = 0;          // --n-components (0: all, min(windows, dims))
  std::string pretrained_model;  // --pretrained-transform-model: apply this model, fit nothing
  std::string scene_filter;      // regex anchored at the start of the scene id
};

struct TransformSummary {
  std::int64_t scenes = 0;   // input files
  std::int64_t written = 0;  // scene outputs written by this run (all ranks)
  std::int64_t skipped = 0;  // already complete
  std::int64_t windows = 0;  // windows transformed by this run (all ranks)
  int dims = 0, components = 0;
  bool fitted = false;     // this run fitted the model
  std::string model_path;  // the model applied
  double fit_seconds = 0, apply_seconds = 0, seconds = 0;
};

const std::vector<std::string>& transform_types();
// The folder of the input embedding files (--embeddings, or the --model's folder).
std::string embeddings_folder(const Meta& meta, const TransformOptions& options);
// Collective over `comm`.
TransformSummary run_transform(const Meta& meta, const TransformOptions& options, MPI_Comm comm);

}  // namespace fluxrecon::tiles
