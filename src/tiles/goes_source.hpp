// goes16 sources (spec 2.2, 3.1-3.4): GOES-16 ABI L1b radiance files found
// under <dataset>/source_data/goes16/ (any folders below, e.g. the S3 layout
// noaa-goes16/ABI-L1b-RadF/YYYY/DDD/HH/) by their standard names; there is no
// network access, so missing files are an error that lists the names and
// times expected. Radiances are calibrated with each file's own constants:
// brightness temperature from planck_fk1/fk2/bc1/bc2, reflectance from kappa0.
#pragma once

#include <string>
#include <vector>

#include "tiles/les_source.hpp"
#include "tiles/meta.hpp"
#include "tiles/projection.hpp"
#include "tiles/scene.hpp"

namespace fluxrecon::tiles {

std::string goes_source_dir(const Meta& meta);

// Scenes of `product` within the dataset's intervals: for each interval, the
// files whose scan ends within half the interval of its centre (spec 2.2),
// grouped by start time; a time is a scene only when every channel has a
// file; then the time filters. `apply_filters` false: intervals only (aux).
std::vector<SceneRef> find_goes_scenes(const Meta& meta, const Product& product,
                                       bool apply_filters);

// BT = (fk2 / ln(fk1 / L + 1) - bc1) / bc2 (spec 3.2).
double brightness_temperature(double radiance, double fk1, double fk2, double bc1, double bc2);

// Reads the block of each channel file that covers `domain` (padded 10%),
// calibrates it and puts all channels on the finest channel's grid
// (nearest, i.e. replication of coarser pixels, as satpy's native resampler).
Scene read_goes_scene(const Meta& meta, const Product& product, const SceneRef& ref,
                      const Domain& domain);

}  // namespace fluxrecon::tiles
