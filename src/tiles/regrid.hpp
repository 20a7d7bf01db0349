// Regridding a scene onto a domain grid (spec 4.4): target cells are located
// in the scene's source coordinates (through PROJ for geolocated grids, then
// the Kokkos kernels of kernels/tiles_regrid.hpp) and sampled bilinearly or
// from the nearest source cell. Cells outside the scene become NaN.
#pragma once

#include <vector>

#include "tiles/projection.hpp"
#include "tiles/scene.hpp"

namespace fluxrecon::tiles {

enum class Method { bilinear, nearest };

// Planes [channel][y][x] of `scene` on `grid`. A geolocated grid (lat/lon
// filled) needs a geolocated scene; a Cartesian grid needs an x/y scene.
std::vector<float> regrid(const Scene& scene, const Grid& grid, Method method);

// Fractional source indices of every grid cell (for crop boxes and checks).
void locate(const Scene& scene, const Grid& grid, std::vector<double>& fi, std::vector<double>& fj);

}  // namespace fluxrecon::tiles
