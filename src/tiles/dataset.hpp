// The layout of a tile dataset on disk (spec 2.2, 5.3, 6.1-6.3, 7.2) and the
// steps shared by the tasks: scene databases, loading a scene from its
// source (LES or goes16), cropping it to the domain and deriving the domain
// of `as_source` datasets from the data (spec 4.6).
#pragma once

#include <string>
#include <vector>

#include "tiles/les_source.hpp"
#include "tiles/meta.hpp"
#include "tiles/projection.hpp"
#include "tiles/scene.hpp"

namespace fluxrecon::tiles {

// What a task processes: the primary product or one aux product.
struct ProductRef {
  std::string source;
  Product product;
  std::string aux_name;  // "" for the primary product
  std::string files;     // LES glob
  bool is_aux() const { return !aux_name.empty(); }
};
ProductRef primary_product(const Meta& meta);
ProductRef aux_product(const Meta& meta, const std::string& aux_name);

std::string product_dir(const Meta& meta, const ProductRef& ref);  // source_data/<source>/<type>
std::string scene_db_path(const Meta& meta);
std::string aux_db_path(const Meta& meta, const ProductRef& aux);
std::string cropped_path(const Meta& meta, const ProductRef& ref, const std::string& scene_id,
                         const std::string& ext);
std::string rect_path(const Meta& meta, const ProductRef& ref, const std::string& scene_id,
                      const std::string& ext);
std::string triplets_dir(const Meta& meta);
std::string tile_dir(const Meta& meta, const std::string& aux_name, const std::string& collection);

// Scene databases: {scene_id: file | [files] | {file, time_index}}, keys sorted.
std::string scene_db_text(const std::vector<SceneRef>& scenes, const std::string& db_type);
std::vector<SceneRef> read_scene_db(const std::string& path);

// Loads a scene of `ref` (cropped to `crop` when it is a local domain; goes16
// reads only the needed block of each file).
Scene load_source_scene(const Meta& meta, const ProductRef& ref, const SceneRef& scene,
                        const Domain& crop);

// The domain of the dataset for this scene: meta.yaml's, or derived from the data.
Domain scene_domain(const Meta& meta, const Scene& scene);

// Crops to the domain's bounding box in source indices, padded by 10% of its
// extent on each side (minima floored, maxima ceiled, spec Q17). A domain
// that is not entirely inside the source is an error naming both extents.
Scene crop_to_domain(const Scene& scene, const Domain& domain, const std::string& what);
// Fractional index box [i0, i1] x [j0, j1] of the domain in the source axes.
struct IndexBox {
  int i0 = 0, i1 = 0, j0 = 0, j1 = 0;
};
IndexBox domain_index_box(const kernels::SourceAxes& axes, const Domain& domain, double pad,
                          const std::string& what);

}  // namespace fluxrecon::tiles
