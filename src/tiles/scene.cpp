#include "tiles/scene.hpp"

#include <cmath>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"

namespace fluxrecon::tiles {
namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

const char* kCoordinateNames[] = {"xy", "lonlat", "goes_scan"};

std::string text_or(const io::GridFile& f, const std::string& var, const std::string& name,
                    const std::string& fallback = "") {
  return f.text_attribute(var, name).value_or(fallback);
}

std::string require_text(const io::GridFile& f, const std::string& name) {
  const auto v = f.text_attribute("", name);
  FR_REQUIRE(v.has_value(), f.path(), ": global attribute '", name,
             "' is missing; is this a file written by fluxrecon tiles?");
  return *v;
}

std::vector<double> read_axis(io::GridFile& f, const std::string& name) {
  const auto& info = f.variable(name);
  FR_REQUIRE(info.shape.size() == 1, f.path(), ": coordinate '", name, "' must be 1-D");
  std::vector<double> v(static_cast<size_t>(info.shape[0]));
  f.read(name, {0}, {info.shape[0]}, v.data());
  return v;
}

// Defines the data variable with its channel dimension (if several planes).
void define_planes(io::NcWriter& w, const std::string& name, const std::string& channel_dim,
                   size_t planes, const std::vector<std::string>& dims_yx) {
  std::vector<std::string> dims = dims_yx;
  if (planes > 1) dims.insert(dims.begin(), channel_dim);
  w.define_variable(name, io::NcType::float32, dims);
  w.put_attribute(name, "_FillValue", io::NcType::float32, {static_cast<double>(NAN)});
}

void plane_attributes(io::NcWriter& w, const std::string& name,
                      const std::vector<std::string>& channels,
                      const std::vector<std::string>& units,
                      const std::vector<std::string>& standard_names) {
  w.put_attribute(name, "channels", join(channels, ","));
  w.put_attribute(name, "channel_units", join(units, ";"));
  w.put_attribute(name, "channel_standard_names", join(standard_names, ";"));
  bool same = true;
  for (const auto& u : units) same = same && u == units.front();
  if (same && !units.empty()) w.put_attribute(name, "units", units.front());
  if (channels.size() == 1 && !standard_names.front().empty())
    w.put_attribute(name, "standard_name", standard_names.front());
}

void write_planes(io::NcWriter& w, const std::string& name, size_t planes, int ny, int nx,
                  const std::vector<float>& values) {
  if (planes > 1)
    w.write(name, {0, 0, 0}, {static_cast<std::int64_t>(planes), ny, nx}, values.data());
  else
    w.write(name, {0, 0}, {ny, nx}, values.data());
}

void read_planes(io::GridFile& f, const std::string& name, std::vector<float>& values,
                 std::vector<std::string>& channels, std::vector<std::string>& units,
                 std::vector<std::string>& standard_names) {
  const auto& info = f.variable(name);
  channels = split(text_or(f, name, "channels", name), ',');
  units = split(text_or(f, name, "channel_units"), ';');
  standard_names = split(text_or(f, name, "channel_standard_names"), ';');
  units.resize(channels.size());
  standard_names.resize(channels.size());
  const size_t planes = channels.size();
  FR_REQUIRE((planes == 1 && info.shape.size() == 2) ||
                 (planes > 1 && info.shape.size() == 3 &&
                  info.shape[0] == static_cast<std::int64_t>(planes)),
             f.path(), ": variable '", name, "' does not hold ", planes, " plane(s) of (y, x)");
  values.resize(static_cast<size_t>(planes * info.shape[info.shape.size() - 2] *
                                    info.shape[info.shape.size() - 1]));
  std::vector<std::int64_t> start(info.shape.size(), 0);
  f.read(name, start, info.shape, values.data());
}

}  // namespace

std::string render_name(Render r) {
  return r == Render::truecolor ? "truecolor" : r == Render::multichannel ? "multichannel" : "grey";
}

Render render_from_name(const std::string& name, const std::string& what) {
  if (name == "truecolor") return Render::truecolor;
  if (name == "multichannel") return Render::multichannel;
  if (name == "grey") return Render::grey;
  FR_FAIL(what, ": render '", name, "' is not one of truecolor, multichannel, grey");
}

std::pair<double, double> regular_axis(const std::vector<double>& v, const std::string& what) {
  FR_REQUIRE(v.size() >= 2, what, ": a coordinate needs at least 2 values, got ", v.size());
  const double step = (v.back() - v.front()) / static_cast<double>(v.size() - 1);
  FR_REQUIRE(step != 0 && std::isfinite(step), what,
             ": coordinate values are constant or not finite");
  for (size_t i = 0; i < v.size(); ++i)
    FR_REQUIRE(
        std::abs(v[i] - (v.front() + step * static_cast<double>(i))) <= 1e-3 * std::abs(step), what,
        ": coordinate is not regularly spaced at index ", i, " (", v[i], " vs ",
        v.front() + step * static_cast<double>(i), "); tile datasets need regular source grids");
  return {v.front(), step};
}

void set_axes(Scene& scene, int kind, const std::string& what) {
  scene.axes.kind = kind;
  scene.axes.nx = static_cast<int>(scene.x.size());
  scene.axes.ny = static_cast<int>(scene.y.size());
  std::tie(scene.axes.x0, scene.axes.dx) = regular_axis(scene.x, what + " (x)");
  std::tie(scene.axes.y0, scene.axes.dy) = regular_axis(scene.y, what + " (y)");
}

std::string data_variable_name(const Scene& scene) {
  if (scene.render == Render::truecolor) return "true_color";
  if (scene.channels.size() == 1) return scene.channels.front();
  return scene.product;
}

void write_scene(const std::string& path, const Scene& s) {
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  const int nx = static_cast<int>(s.x.size()), ny = static_cast<int>(s.y.size());
  const std::string name = data_variable_name(s);
  const bool scan = s.axes.kind == kernels::source_goes_scan;
  const bool lonlat = s.axes.kind == kernels::source_lonlat;
  const std::string xn = lonlat ? "lon" : "x", yn = lonlat ? "lat" : "y";
  const std::string cdim = s.render == Render::truecolor ? "bands" : "channel";
  w.define_dimension(cdim, static_cast<std::int64_t>(s.channels.size()));
  w.define_dimension(yn, ny);
  w.define_dimension(xn, nx);
  w.define_variable(xn, io::NcType::float64, {xn});
  w.define_variable(yn, io::NcType::float64, {yn});
  w.put_attribute(xn, "units", scan ? "rad" : lonlat ? "degrees_east" : "m");
  w.put_attribute(yn, "units", scan ? "rad" : lonlat ? "degrees_north" : "m");
  if (scan) {
    w.put_attribute(xn, "long_name", "GOES fixed grid projection x-coordinate (scan angle)");
    w.put_attribute(yn, "long_name", "GOES fixed grid projection y-coordinate (scan angle)");
  }
  define_planes(w, name, cdim, s.channels.size(), {yn, xn});
  plane_attributes(w, name, s.channels, s.units, s.standard_names);
  if (scan) {
    w.define_variable("goes_imager_projection", io::NcType::int32, {});
    const auto& n = s.axes.nav;
    w.put_attribute("goes_imager_projection", "grid_mapping_name", "geostationary");
    w.put_attribute("goes_imager_projection", "perspective_point_height", io::NcType::float64,
                    {n.perspective_height});
    w.put_attribute("goes_imager_projection", "semi_major_axis", io::NcType::float64,
                    {n.semi_major});
    w.put_attribute("goes_imager_projection", "semi_minor_axis", io::NcType::float64,
                    {n.semi_minor});
    w.put_attribute("goes_imager_projection", "longitude_of_projection_origin", io::NcType::float64,
                    {n.lon0_deg});
    w.put_attribute("goes_imager_projection", "sweep_angle_axis", "x");
    w.put_attribute(name, "grid_mapping", "goes_imager_projection");
  }
  w.put_attribute("", "scene_id", s.scene_id);
  w.put_attribute("", "time", iso_datetime(s.time));
  w.put_attribute("", "source", s.source);
  w.put_attribute("", "product", s.product);
  w.put_attribute("", "render", render_name(s.render));
  w.put_attribute("", "source_coordinates", kCoordinateNames[s.axes.kind]);
  w.put_attribute("", "data_variable", name);
  w.end_definitions();
  w.write(xn, {0}, {nx}, s.x.data());
  w.write(yn, {0}, {ny}, s.y.data());
  write_planes(w, name, s.channels.size(), ny, nx, s.values);
  if (scan) {
    // Written so that the file is as long as its header says (a scalar is never filled).
    const std::int32_t marker = -2147483647;
    w.write("goes_imager_projection", {}, {}, &marker);
  }
  w.close();
  out.commit();
}

Scene read_scene(const std::string& path) {
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  Scene s;
  s.scene_id = require_text(*f, "scene_id");
  s.time = parse_datetime(require_text(*f, "time"), path + ": attribute time");
  s.source = require_text(*f, "source");
  s.product = require_text(*f, "product");
  s.render = render_from_name(require_text(*f, "render"), path);
  const std::string coords = require_text(*f, "source_coordinates");
  int kind = -1;
  for (int k = 0; k < 3; ++k)
    if (coords == kCoordinateNames[k]) kind = k;
  FR_REQUIRE(kind >= 0, path, ": source_coordinates '", coords, "' is not xy, lonlat or goes_scan");
  const bool lonlat = kind == kernels::source_lonlat;
  s.x = read_axis(*f, lonlat ? "lon" : "x");
  s.y = read_axis(*f, lonlat ? "lat" : "y");
  if (kind == kernels::source_goes_scan) {
    auto num = [&](const char* n) {
      const auto v = f->number_attribute("goes_imager_projection", n);
      FR_REQUIRE(v.has_value(), path, ": goes_imager_projection has no attribute '", n, "'");
      return *v;
    };
    s.axes.nav.perspective_height = num("perspective_point_height");
    s.axes.nav.semi_major = num("semi_major_axis");
    s.axes.nav.semi_minor = num("semi_minor_axis");
    s.axes.nav.lon0_deg = num("longitude_of_projection_origin");
  }
  set_axes(s, kind, path);
  read_planes(*f, require_text(*f, "data_variable"), s.values, s.channels, s.units,
              s.standard_names);
  return s;
}

void write_gridded(const std::string& path, const GriddedField& g) {
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  const int nx = g.nx(), ny = g.ny();
  const bool truecolor = g.name == "true_color";
  const std::string cdim = truecolor ? "bands" : "channel";
  w.define_dimension(cdim, static_cast<std::int64_t>(g.channels.size()));
  w.define_dimension("y", ny);
  w.define_dimension("x", nx);
  w.define_variable("x", io::NcType::float64, {"x"});
  w.define_variable("y", io::NcType::float64, {"y"});
  w.put_attribute("x", "long_name", "approximate zonal distance");
  w.put_attribute("x", "units", "m");
  w.put_attribute("y", "long_name", "approximate meridional distance");
  w.put_attribute("y", "units", "m");
  const bool geo = !g.lat.empty();
  if (geo) {
    w.define_variable("lat", io::NcType::float64, {"y", "x"});
    w.define_variable("lon", io::NcType::float64, {"y", "x"});
    w.put_attribute("lat", "standard_name", "latitude");
    w.put_attribute("lat", "units", "degrees_north");
    w.put_attribute("lon", "standard_name", "longitude");
    w.put_attribute("lon", "units", "degrees_east");
  }
  define_planes(w, g.name, cdim, g.channels.size(), {"y", "x"});
  plane_attributes(w, g.name, g.channels, g.units, g.standard_names);
  if (geo) w.put_attribute(g.name, "coordinates", "lat lon");
  for (const auto& [k, v] : g.attributes) w.put_attribute("", k, v);
  w.put_attribute("", "data_variable", g.name);
  w.end_definitions();
  w.write("x", {0}, {nx}, g.x.data());
  w.write("y", {0}, {ny}, g.y.data());
  if (geo) {
    w.write("lat", {0, 0}, {ny, nx}, g.lat.data());
    w.write("lon", {0, 0}, {ny, nx}, g.lon.data());
  }
  write_planes(w, g.name, g.channels.size(), ny, nx, g.values);
  w.close();
  out.commit();
}

GriddedField read_gridded(const std::string& path) {
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  GriddedField g;
  g.name = require_text(*f, "data_variable");
  g.x = read_axis(*f, "x");
  g.y = read_axis(*f, "y");
  if (f->has_variable("lat")) {
    g.lat.resize(g.x.size() * g.y.size());
    g.lon.resize(g.lat.size());
    const std::int64_t ny = static_cast<std::int64_t>(g.y.size()),
                       nx = static_cast<std::int64_t>(g.x.size());
    f->read("lat", {0, 0}, {ny, nx}, g.lat.data());
    f->read("lon", {0, 0}, {ny, nx}, g.lon.data());
  }
  read_planes(*f, g.name, g.values, g.channels, g.units, g.standard_names);
  for (const char* k : {"scene_id", "render", "product", "source"})
    if (auto v = f->text_attribute("", k)) g.attributes.emplace_back(k, *v);
  return g;
}

}  // namespace fluxrecon::tiles
