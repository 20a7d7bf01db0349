#include "tiles/les_source.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/grid_file.hpp"
#include "io/time_axis.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

std::string listing(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

// "x"/"y" (metres) or "lon"/"lat" (degrees), and the source-coordinate kind.
std::pair<std::pair<std::string, std::string>, int> les_coordinates(const io::GridFile& f) {
  if (f.has_variable("x") && f.has_variable("y")) return {{"x", "y"}, kernels::source_xy};
  if (f.has_variable("lon") && f.has_variable("lat"))
    return {{"lon", "lat"}, kernels::source_lonlat};
  FR_FAIL(f.path(),
          ": no x/y (metres) or lat/lon coordinates; an LES file needs 1-D x and y or "
          "lat and lon next to time");
}

std::vector<Seconds> read_times(io::GridFile& f) {
  FR_REQUIRE(f.has_variable("time"), f.path(),
             ": no 'time' coordinate (variables: ", listing(f.variable_names()), ")");
  const auto& info = f.variable("time");
  FR_REQUIRE(info.shape.size() == 1 && info.shape[0] > 0, f.path(),
             ": 'time' must be 1-D with at least one value");
  std::vector<double> raw(static_cast<size_t>(info.shape[0]));
  f.read("time", {0}, {info.shape[0]}, raw.data());
  const auto units = f.text_attribute("time", "units");
  FR_REQUIRE(units.has_value(), f.path(),
             ": 'time' has no units attribute (e.g. 'seconds since "
             "2020-02-02 12:00:00')");
  const auto dates = io::decode_time(
      raw, *units, f.text_attribute("time", "calendar").value_or("standard"), f.path() + ": time");
  std::vector<Seconds> out;
  for (const auto& d : dates)
    out.push_back(make_time(d.year, d.month, d.day) +
                  static_cast<Seconds>(std::floor(d.seconds_of_day)));
  return out;
}

}  // namespace

std::string les_source_dir(const Meta& meta) {
  return meta.data_path + "/source_data/LES/source_files";
}

std::vector<std::string> les_source_files(const Meta& meta, const std::string& glob) {
  const std::string dir = les_source_dir(meta);
  std::vector<std::string> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() &&
          fnmatch(glob.c_str(), e.path().filename().string().c_str(), 0) == 0 &&
          e.path().filename().string()[0] != '.')  // not a temporary (.name.part-PID)
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  FR_REQUIRE(!files.empty(), "no LES source files found matching ", dir, "/", glob,
             " (put netCDF files there, or add a synthetic_les section to ", meta.meta_path,
             " to generate them)");
  return files;
}

std::vector<SceneRef> find_les_scenes(const Meta& meta, const Product& product,
                                      const std::string& glob) {
  std::vector<SceneRef> scenes;
  std::map<std::string, std::string> seen;
  const std::optional<double> lon =
      meta.domain.as_source ? std::nullopt : std::optional<double>(meta.domain.central_longitude);
  for (const auto& path : les_source_files(meta, glob)) {
    auto f = io::GridFile::open(path, MPI_COMM_SELF);
    for (const auto& in : product.inputs)
      FR_REQUIRE(f->has_variable(in.variable), path, ": variable '", in.variable,
                 "' required by type '", product.text,
                 "' is missing (the file has: ", listing(f->variable_names()), ")");
    les_coordinates(*f);
    const auto times = read_times(*f);
    for (size_t k = 0; k < times.size(); ++k) {
      if (!passes_time_filters(meta.time, times[k], lon)) continue;
      SceneRef ref;
      ref.time = times[k];
      ref.scene_id = make_scene_id("LES", times[k]);
      ref.files = {fs::relative(path, meta.data_path).string()};
      ref.time_index = static_cast<int>(k);
      const std::string where = path + " step " + std::to_string(k);
      if (auto it = seen.find(ref.scene_id); it != seen.end()) {
        log::info("tiles: warning: scene ", ref.scene_id, " of ", where,
                  " falls in the same minute "
                  "as ",
                  it->second, "; keeping the first");
        continue;
      }
      seen[ref.scene_id] = where;
      scenes.push_back(ref);
    }
  }
  std::sort(scenes.begin(), scenes.end(),
            [](const SceneRef& a, const SceneRef& b) { return a.scene_id < b.scene_id; });
  return scenes;
}

Scene read_les_scene(const Meta& meta, const SceneRef& ref, const Product& product) {
  FR_REQUIRE(ref.files.size() == 1 && ref.time_index >= 0, "scene ", ref.scene_id,
             ": an LES scene needs one file and a time index");
  const std::string path = meta.data_path + "/" + ref.files[0];
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  const auto [names, kind] = les_coordinates(*f);
  Scene s;
  s.scene_id = ref.scene_id;
  s.time = ref.time;
  s.source = "LES";
  s.product = product.text;
  s.render = product.kind == Product::Kind::multichannel ? Render::multichannel : Render::grey;
  for (auto* axis : {&s.x, &s.y}) {
    const std::string& n = axis == &s.x ? names.first : names.second;
    const auto& info = f->variable(n);
    FR_REQUIRE(info.shape.size() == 1, path, ": coordinate '", n, "' must be 1-D");
    axis->resize(static_cast<size_t>(info.shape[0]));
    f->read(n, {0}, {info.shape[0]}, axis->data());
  }
  set_axes(s, kind, path);
  const auto nt = f->dimension_length("time");
  FR_REQUIRE(ref.time_index < nt, path, ": scene ", ref.scene_id, " refers to time step ",
             ref.time_index, " but the file has ", nt, "; rerun GenerateSceneIDs");
  const std::int64_t ny = static_cast<std::int64_t>(s.y.size()),
                     nx = static_cast<std::int64_t>(s.x.size());
  for (const auto& in : product.inputs) {
    FR_REQUIRE(f->has_variable(in.variable), path, ": variable '", in.variable,
               "' is missing (the file has: ", listing(f->variable_names()), ")");
    const auto& info = f->variable(in.variable);
    const std::vector<std::string> expected = {"time", names.second, names.first};
    FR_REQUIRE(info.dimensions == expected, path, ": variable '", in.variable, "' has dimensions (",
               listing(info.dimensions), "), expected (", listing(expected), ")");
    const size_t off = s.values.size();
    s.values.resize(off + static_cast<size_t>(ny * nx));
    f->read(in.variable, {ref.time_index, 0, 0}, {1, ny, nx}, s.values.data() + off);
    s.channels.push_back(in.variable);
    s.units.push_back(f->text_attribute(in.variable, "units").value_or(""));
    s.standard_names.push_back(f->text_attribute(in.variable, "standard_name").value_or(""));
  }
  return s;
}

}  // namespace fluxrecon::tiles
