#include "tiles/embedding_file.hpp"

#include <pnetcdf.h>

#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"

namespace fluxrecon::tiles {
namespace {

void check_grid(const std::string& path, const EmbeddingGrid& g) {
  const size_t nx = g.x.size(), ny = g.y.size(), n = nx * ny;
  FR_REQUIRE(!g.scene_id.empty(), path, ": embedding grid without a scene_id");
  FR_REQUIRE(!g.dim_name.empty() && g.dim_name != "x" && g.dim_name != "y", path,
             ": embedding dimension name '", g.dim_name, "' must be set and differ from x and y");
  FR_REQUIRE(g.dims > 0, path, ": embedding grid of scene ", g.scene_id, " has ", g.dims, " ",
             g.dim_name, " (at least 1 needed)");
  FR_REQUIRE(nx > 0 && ny > 0, path, ": embedding grid of scene ", g.scene_id, " has ", ny, " x ",
             nx, " windows (at least 1 x 1 needed)");
  FR_REQUIRE(g.i0.size() == nx && g.j0.size() == ny, path, ": i0 has ", g.i0.size(),
             " entries and j0 ", g.j0.size(), " but x has ", nx, " and y ", ny);
  FR_REQUIRE(g.lat.size() == n && g.lon.size() == n, path, ": lat and lon hold ", g.lat.size(),
             " and ", g.lon.size(), " values, not y x x = ", n);
  FR_REQUIRE(g.values.size() == static_cast<size_t>(g.dims) * n, path, ": ", g.values.size(),
             " embedding values, not ", g.dim_name, " x y x x = ", g.dims, " x ", ny, " x ", nx);
  FR_REQUIRE(g.explained_variance.empty() || g.explained_variance.size() == size_t(g.dims), path,
             ": explained_variance has ", g.explained_variance.size(), " values, not ", g.dims);
  const auto id = g.attributes.find("scene_id");
  FR_REQUIRE(id == g.attributes.end() || id->second == g.scene_id, path, ": attribute scene_id '",
             id->second, "' differs from the grid's scene_id '", g.scene_id, "'");
}

// The names of the global text attributes (GridFile reads attributes by name only).
std::vector<std::string> global_text_attribute_names(const std::string& path) {
  int ncid = -1;
  int err = ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid);
  FR_REQUIRE(err == NC_NOERR, "cannot open ", path, " with PnetCDF: ", ncmpi_strerror(err));
  int count = 0;
  err = ncmpi_inq_varnatts(ncid, NC_GLOBAL, &count);
  std::vector<std::string> names;
  for (int i = 0; err == NC_NOERR && i < count; ++i) {
    char name[NC_MAX_NAME + 1] = {};
    err = ncmpi_inq_attname(ncid, NC_GLOBAL, i, name);
    nc_type type = NC_NAT;
    if (err == NC_NOERR) err = ncmpi_inq_atttype(ncid, NC_GLOBAL, name, &type);
    if (type == NC_CHAR) names.emplace_back(name);
  }
  ncmpi_close(ncid);
  FR_REQUIRE(err == NC_NOERR, path, ": cannot list the global attributes: ", ncmpi_strerror(err));
  return names;
}

const io::VariableInfo& require_variable(const io::GridFile& f, const std::string& name,
                                         const std::vector<std::string>& dimensions,
                                         const std::vector<std::string>& types) {
  FR_REQUIRE(f.has_variable(name), f.path(), ": variable '", name,
             "' is missing; is this an embedding file written by fluxrecon tiles?");
  const auto& v = f.variable(name);
  std::string want, have;
  for (const auto& d : dimensions) want += (want.empty() ? "" : ", ") + d;
  for (const auto& d : v.dimensions) have += (have.empty() ? "" : ", ") + d;
  FR_REQUIRE(v.dimensions == dimensions, f.path(), ": variable '", name, "' has dimensions (", have,
             "), expected (", want, ")");
  bool type_ok = false;
  for (const auto& t : types) type_ok = type_ok || v.type == t;
  FR_REQUIRE(type_ok, f.path(), ": variable '", name, "' is of type ", v.type, ", expected ",
             types.front());
  return v;
}

std::vector<int> read_indices(io::GridFile& f, const std::string& name, std::int64_t n) {
  std::vector<double> raw(static_cast<size_t>(n));
  f.read(name, {0}, {n}, raw.data());
  std::vector<int> out(raw.size());
  for (size_t k = 0; k < raw.size(); ++k) {
    FR_REQUIRE(std::isfinite(raw[k]), f.path(), ": variable '", name, "' holds a missing value at ",
               k);
    out[k] = static_cast<int>(raw[k]);
  }
  return out;
}

}  // namespace

void write_embedding_grid(const std::string& path, const EmbeddingGrid& g) {
  check_grid(path, g);
  const std::int64_t nx = static_cast<std::int64_t>(g.x.size()),
                     ny = static_cast<std::int64_t>(g.y.size()), nd = g.dims;
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  w.define_dimension(g.dim_name, nd);
  w.define_dimension("y", ny);
  w.define_dimension("x", nx);
  w.define_variable("x", io::NcType::float64, {"x"});
  w.define_variable("y", io::NcType::float64, {"y"});
  w.put_attribute("x", "long_name", "window centre, zonal distance in the domain projection");
  w.put_attribute("x", "units", "m");
  w.put_attribute("y", "long_name", "window centre, meridional distance in the domain projection");
  w.put_attribute("y", "units", "m");
  w.define_variable("i0", io::NcType::int32, {"x"});
  w.put_attribute("i0", "long_name", "window centre pixel column in the regridded image");
  w.define_variable("j0", io::NcType::int32, {"y"});
  w.put_attribute("j0", "long_name", "window centre pixel row from the image's top");
  w.define_variable("lat", io::NcType::float64, {"y", "x"});
  w.define_variable("lon", io::NcType::float64, {"y", "x"});
  w.put_attribute("lat", "standard_name", "latitude");
  w.put_attribute("lat", "units", "degrees_north");
  w.put_attribute("lon", "standard_name", "longitude");
  w.put_attribute("lon", "units", "degrees_east");
  w.define_variable("emb", io::NcType::float32, {g.dim_name, "y", "x"});
  w.put_attribute("emb", "coordinates", "lat lon");
  if (!g.explained_variance.empty()) {
    w.define_variable("explained_variance", io::NcType::float64, {g.dim_name});
    w.put_attribute("explained_variance", "long_name", "explained variance ratio per component");
  }
  for (const auto& [key, text] : g.attributes)
    if (key != "scene_id") w.put_attribute("", key, text);
  w.put_attribute("", "scene_id", g.scene_id);
  w.end_definitions();
  w.write("x", {0}, {nx}, g.x.data());
  w.write("y", {0}, {ny}, g.y.data());
  const std::vector<std::int32_t> i0(g.i0.begin(), g.i0.end()), j0(g.j0.begin(), g.j0.end());
  w.write("i0", {0}, {nx}, i0.data());
  w.write("j0", {0}, {ny}, j0.data());
  w.write("lat", {0, 0}, {ny, nx}, g.lat.data());
  w.write("lon", {0, 0}, {ny, nx}, g.lon.data());
  w.write("emb", {0, 0, 0}, {nd, ny, nx}, g.values.data());
  if (!g.explained_variance.empty())
    w.write("explained_variance", {0}, {nd}, g.explained_variance.data());
  w.close();
  out.commit();
}

EmbeddingGrid read_embedding_grid(const std::string& path) {
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  FR_REQUIRE(f->format() != io::Format::netcdf4_hdf5, path,
             ": a netCDF-4 file; embedding files are CDF-5, written by fluxrecon tiles");
  EmbeddingGrid g;
  FR_REQUIRE(f->has_variable("emb"), path,
             ": variable 'emb' is missing; is this an embedding file written by fluxrecon tiles?");
  const auto& emb = f->variable("emb");
  FR_REQUIRE(emb.dimensions.size() == 3 && emb.dimensions[1] == "y" && emb.dimensions[2] == "x",
             path, ": variable 'emb' must have dimensions (<embedding dimension>, y, x)");
  g.dim_name = emb.dimensions[0];
  require_variable(*f, "emb", {g.dim_name, "y", "x"}, {"float"});
  const std::int64_t nd = emb.shape[0], ny = emb.shape[1], nx = emb.shape[2];
  g.dims = static_cast<int>(nd);
  require_variable(*f, "x", {"x"}, {"double", "float"});
  require_variable(*f, "y", {"y"}, {"double", "float"});
  require_variable(*f, "i0", {"x"}, {"int"});
  require_variable(*f, "j0", {"y"}, {"int"});
  require_variable(*f, "lat", {"y", "x"}, {"double", "float"});
  require_variable(*f, "lon", {"y", "x"}, {"double", "float"});
  const bool has_ev = f->has_variable("explained_variance");
  if (has_ev) require_variable(*f, "explained_variance", {g.dim_name}, {"double", "float"});
  const auto scene_id = f->text_attribute("", "scene_id");
  FR_REQUIRE(scene_id && !scene_id->empty(), path, ": global attribute 'scene_id' is missing");
  g.scene_id = *scene_id;

  g.x.resize(static_cast<size_t>(nx));
  g.y.resize(static_cast<size_t>(ny));
  f->read("x", {0}, {nx}, g.x.data());
  f->read("y", {0}, {ny}, g.y.data());
  g.i0 = read_indices(*f, "i0", nx);
  g.j0 = read_indices(*f, "j0", ny);
  g.lat.resize(static_cast<size_t>(nx * ny));
  g.lon.resize(g.lat.size());
  f->read("lat", {0, 0}, {ny, nx}, g.lat.data());
  f->read("lon", {0, 0}, {ny, nx}, g.lon.data());
  g.values.resize(static_cast<size_t>(nd * ny * nx));
  f->read("emb", {0, 0, 0}, {nd, ny, nx}, g.values.data());
  if (has_ev) {
    g.explained_variance.resize(static_cast<size_t>(nd));
    f->read("explained_variance", {0}, {nd}, g.explained_variance.data());
  }
  for (const auto& name : global_text_attribute_names(path)) {
    if (name == "scene_id") continue;
    const auto text = f->text_attribute("", name);
    if (text) g.attributes[name] = *text;
  }
  return g;
}

}  // namespace fluxrecon::tiles
