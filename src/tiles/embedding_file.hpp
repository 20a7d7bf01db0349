// The per-scene sliding-window embedding netCDF (spec 8) and its transforms
// (PCA): one home for the layout, shared by `tiles embed` (writer) and
// `tiles transform` (reader and writer).
//
// Layout: dimensions `<dim_name>`, `y`, `x`; variables `emb(<dim_name>, y, x)`
// float, `x(x)`, `y(y)` double, `i0(x)`, `j0(y)` int, `lat(y, x)`, `lon(y, x)`
// double, `explained_variance(<dim_name>)` double only when non-empty; global
// text attributes from `attributes` plus `scene_id`.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fluxrecon::tiles {

// One scene's sliding-window embeddings, or a transform of them.
struct EmbeddingGrid {
  std::string scene_id;
  std::string dim_name = "emb_dim";  // "emb_dim" for embeddings, "pca_dim" for a PCA transform
  int dims = 0;                      // length of dim_name
  std::vector<double> x, y;      // window centres in the domain projection's metres; x ascending
                                 // east, y ascending north (row 0 of the image is north)
  std::vector<int> i0;           // per x: centre pixel column in the regridded image
  std::vector<int> j0;           // per y: centre pixel row counted from the image's top
  std::vector<double> lat, lon;  // (y, x) row-major, degrees
  std::vector<float> values;     // (dims, y, x) row-major
  std::vector<double> explained_variance;         // per component (ratio); empty for embeddings
  std::map<std::string, std::string> attributes;  // text attributes: model_path, image_path,
                                                  // src_data_path, step_size, tile_N, lx_tile,
                                                  // ly_tile, transform_type, transform_model, ...
};

// Writes `path` under a temporary name and renames it when complete (core/atomic_file); called by
// one rank per file (serial netCDF through PnetCDF on MPI_COMM_SELF, like the project's other small
// files).
void write_embedding_grid(const std::string& path, const EmbeddingGrid& grid);
// Reads a file written by write_embedding_grid; errors name the file and what is wrong.
EmbeddingGrid read_embedding_grid(const std::string& path);

}  // namespace fluxrecon::tiles
