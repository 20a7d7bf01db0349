// A scene (or a crop of one) in its source coordinates, and the netCDF files
// that hold scenes, regridded domains and tiles. Every file is written to a
// temporary name and renamed when complete; files are rank-local
// (MPI_COMM_SELF) because ranks work on different scenes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kernels/tiles_regrid.hpp"
#include "tiles/time_util.hpp"

namespace fluxrecon::tiles {

// How a field is drawn (spec 3.8): satpy-like true colour, a 3-channel
// min-max RGB, or a grey image (inverted min-max, north up).
enum class Render { truecolor, multichannel, grey };
std::string render_name(Render r);
Render render_from_name(const std::string& name, const std::string& what);

struct Scene {
  std::string scene_id;
  Seconds time = 0;
  std::string source, product;
  Render render = Render::grey;
  kernels::SourceAxes axes;  // coordinates of x and y (regular)
  std::vector<double> x, y;
  std::vector<std::string> channels, units, standard_names;  // one per plane
  std::vector<float> values;                                 // [channel][y][x]
  int nc() const { return static_cast<int>(channels.size()); }
};

// Checks that an axis is regularly spaced (within 1e-3 of a step) and
// returns (first value, step); `what` names the file and coordinate.
std::pair<double, double> regular_axis(const std::vector<double>& v, const std::string& what);
void set_axes(Scene& scene, int kind, const std::string& what);

// Cropped scenes: the source coordinates, written and read back.
void write_scene(const std::string& path, const Scene& scene);
Scene read_scene(const std::string& path);

// A regridded domain or a tile: planes [channel][y][x] on a grid, with 2-D
// lat/lon when geolocated.
struct GriddedField {
  std::string name;              // netCDF variable name
  std::vector<double> x, y;      // metres
  std::vector<double> lat, lon;  // [y][x] or empty
  std::vector<std::string> channels, units, standard_names;
  std::vector<float> values;
  std::vector<std::pair<std::string, std::string>> attributes;  // global text attributes
  int nx() const { return static_cast<int>(x.size()); }
  int ny() const { return static_cast<int>(y.size()); }
};
void write_gridded(const std::string& path, const GriddedField& field);
GriddedField read_gridded(const std::string& path);

// Name of the data variable of a product (true_color, the variable, ...).
std::string data_variable_name(const Scene& scene);

}  // namespace fluxrecon::tiles
