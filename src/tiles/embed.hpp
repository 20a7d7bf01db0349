// `fluxrecon tiles embed` (spec 8.3): sliding-window embeddings of every
// regridded scene with a triplet embedding model (models/conv_encoder.hpp),
// one netCDF per scene (tiles/embedding_file.hpp) at
// D/embeddings/rect/<model_name>/<scene_id>.embeddings.<S>_step.nc.
#pragma once

#include <mpi.h>

#include <string>

#include "models/conv_encoder.hpp"
#include "tiles/embedding_file.hpp"
#include "tiles/meta.hpp"
#include "tiles/png.hpp"
#include "tiles/scene.hpp"
#include "tiles/tasks.hpp"

namespace fluxrecon::tiles {

struct EmbedOptions {
  std::string model_path;    // --model
  int step_size = 0;         // --step-size (0: meta.yaml's rect-slidingwindow.step_size)
  int batch_size = 32;       // windows per forward pass (the seed's 32)
  std::string scene_filter;  // regex anchored at the start of the scene id
};

std::string embedding_path(const Meta& meta, const std::string& model_path,
                           const std::string& scene_id, int step_size);

// The windows of tile_N pixels every `step` pixels of one regridded scene
// (its PNG and the x, y, lat, lon of its netCDF), embedded in batches:
// window (it, jt) has its top-left pixel at column it*S, row jt*S from the
// top and its centre at i0 = it*S + N/2, j0 = jt*S + N/2; x = x[i0], y =
// y[ny-1-j0] (row 0 is north; without the seed's off-by-one, spec Q16), the
// grid's y ascending north; lat and lon NaN where the scene has none (LES x/y).
EmbeddingGrid embed_scene(models::ConvEncoder& encoder, const DecodedPng& image,
                          const GriddedField& field, int tile_N, int step, int batch_size);

// Collective over `comm`: scene i on rank i mod size; complete outputs are
// skipped; the files do not depend on the number of ranks.
TaskSummary run_embed(const Meta& meta, const EmbedOptions& options, MPI_Comm comm);

}  // namespace fluxrecon::tiles
