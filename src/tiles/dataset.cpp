#include "tiles/dataset.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "tiles/goes_source.hpp"
#include "tiles/regrid.hpp"

namespace fluxrecon::tiles {

ProductRef primary_product(const Meta& meta) { return {meta.source, meta.product, "", meta.files}; }

ProductRef aux_product(const Meta& meta, const std::string& aux_name) {
  const AuxSpec& a = meta.aux_product(aux_name);
  return {a.source, a.product, a.name, a.files};
}

std::string product_dir(const Meta& meta, const ProductRef& ref) {
  return meta.data_path + "/source_data/" + ref.source + "/" + ref.product.text;
}

std::string scene_db_path(const Meta& meta) {
  return product_dir(meta, primary_product(meta)) + "/scene_ids." +
         (meta.db_type == "json" ? "json" : "yml");
}

std::string aux_db_path(const Meta& meta, const ProductRef& aux) {
  // The aux name keeps two aux products of the same source and type apart.
  return product_dir(meta, aux) + "/matched_scene_ids." + aux.aux_name + "." +
         (meta.db_type == "json" ? "json" : "yml");
}

std::string cropped_path(const Meta& meta, const ProductRef& ref, const std::string& scene_id,
                         const std::string& ext) {
  return product_dir(meta, ref) + "/cropped/" + scene_id + "." + ext;
}

std::string rect_path(const Meta& meta, const ProductRef& ref, const std::string& scene_id,
                      const std::string& ext) {
  return meta.data_path + "/rect/" + (ref.is_aux() ? "aux/" + ref.aux_name + "/" : "") + scene_id +
         "." + ext;
}

std::string triplets_dir(const Meta& meta) { return meta.data_path + "/triplets"; }

std::string tile_dir(const Meta& meta, const std::string& aux_name, const std::string& collection) {
  return triplets_dir(meta) + "/" + (aux_name.empty() ? "" : aux_name + "/") + collection;
}

std::string scene_db_text(const std::vector<SceneRef>& scenes, const std::string& db_type) {
  std::vector<SceneRef> sorted = scenes;
  std::sort(sorted.begin(), sorted.end(),
            [](const SceneRef& a, const SceneRef& b) { return a.scene_id < b.scene_id; });
  if (db_type == "json") {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& s : sorted) {
      if (s.time_index >= 0)
        j[s.scene_id] = {{"file", s.files[0]}, {"time_index", s.time_index}};
      else if (s.files.size() == 1)
        j[s.scene_id] = s.files[0];
      else
        j[s.scene_id] = s.files;
    }
    return j.dump(1) + "\n";
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& s : sorted) {
    out << YAML::Key << s.scene_id << YAML::Value;
    if (s.time_index >= 0)
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "file" << YAML::Value << s.files[0]
          << YAML::Key << "time_index" << YAML::Value << s.time_index << YAML::EndMap;
    else if (s.files.size() == 1)
      out << s.files[0];
    else
      out << s.files;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::vector<SceneRef> read_scene_db(const std::string& path) {
  std::vector<SceneRef> scenes;
  try {
    for (const auto& kv : YAML::LoadFile(path)) {
      SceneRef s;
      s.scene_id = kv.first.as<std::string>();
      s.time = parse_scene_id(s.scene_id).second;
      if (kv.second.IsMap()) {
        s.files = {kv.second["file"].as<std::string>()};
        s.time_index = kv.second["time_index"].as<int>();
      } else if (kv.second.IsSequence()) {
        s.files = kv.second.as<std::vector<std::string>>();
      } else {
        s.files = {kv.second.as<std::string>()};
      }
      scenes.push_back(s);
    }
  } catch (const YAML::Exception& e) {
    FR_FAIL(path, ": not a scene database (", e.what(), "); delete it and rerun GenerateSceneIDs");
  }
  std::sort(scenes.begin(), scenes.end(),
            [](const SceneRef& a, const SceneRef& b) { return a.scene_id < b.scene_id; });
  return scenes;
}

Domain scene_domain(const Meta& meta, const Scene& s) {
  Domain d;
  if (!meta.domain.as_source) {
    d.local = true;
    d.central_latitude = meta.domain.central_latitude;
    d.central_longitude = meta.domain.central_longitude;
    d.l_zonal = meta.domain.l_zonal;
    d.l_meridional = meta.domain.l_meridional;
    return d;
  }
  const auto [xlo, xhi] = std::minmax(s.x.front(), s.x.back());
  const auto [ylo, yhi] = std::minmax(s.y.front(), s.y.back());
  if (s.axes.kind == kernels::source_xy) {
    d.local = false;
    d.x_c = 0.5 * (xlo + xhi);
    d.y_c = 0.5 * (ylo + yhi);
    d.l_zonal = xhi - xlo;
    d.l_meridional = yhi - ylo;
    return d;
  }
  FR_REQUIRE(s.axes.kind == kernels::source_lonlat, "scene ", s.scene_id,
             ": domain kind as_source needs x/y or lat/lon source coordinates");
  d.local = true;
  d.central_latitude = 0.5 * (ylo + yhi);
  d.central_longitude = 0.5 * (xlo + xhi);
  const Laea p(d.central_latitude, d.central_longitude);
  // Innermost projected edges: west column's max x, east's min x, south row's max y, north's min y.
  double west = -INFINITY, east = INFINITY, south = -INFINITY, north = INFINITY, x, y;
  for (double lat : s.y) {
    p.forward(lat, xlo, x, y);
    west = std::max(west, x);
    p.forward(lat, xhi, x, y);
    east = std::min(east, x);
  }
  for (double lon : s.x) {
    p.forward(ylo, lon, x, y);
    south = std::max(south, y);
    p.forward(yhi, lon, x, y);
    north = std::min(north, y);
  }
  d.l_zonal = std::round(east - west) * 0.95;
  d.l_meridional = std::round(north - south) * 0.95;
  return d;
}

IndexBox domain_index_box(const kernels::SourceAxes& axes, const Domain& domain, double pad,
                          const std::string& what) {
  // Points on a 65 x 65 lattice that includes the domain's edges.
  const int n = 64;
  Grid g;
  g.nx = g.ny = n + 1;
  for (int k = 0; k <= n; ++k) {
    g.x.push_back((domain.local ? -domain.l_zonal / 2 : domain.x_min()) + domain.l_zonal * k / n);
    g.y.push_back((domain.local ? -domain.l_meridional / 2 : domain.y_min()) +
                  domain.l_meridional * k / n);
  }
  if (domain.local) {
    std::vector<double> xs, ys;
    for (double yy : g.y)
      for (double xx : g.x) {
        xs.push_back(xx);
        ys.push_back(yy);
      }
    g.lat.resize(xs.size());
    g.lon.resize(xs.size());
    Laea(domain.central_latitude, domain.central_longitude)
        .inverse(xs.data(), ys.data(), g.lat.data(), g.lon.data(), xs.size());
  }
  Scene probe;
  probe.axes = axes;
  std::vector<double> fi, fj;
  locate(probe, g, fi, fj);
  double i0 = INFINITY, i1 = -INFINITY, j0 = INFINITY, j1 = -INFINITY;
  bool inside = true;
  for (size_t k = 0; k < fi.size(); ++k) {
    inside = inside && std::isfinite(fi[k]) && std::isfinite(fj[k]) && fi[k] >= -0.5 &&
             fj[k] >= -0.5 && fi[k] <= axes.nx - 0.5 && fj[k] <= axes.ny - 0.5;
    i0 = std::min(i0, fi[k]);
    i1 = std::max(i1, fi[k]);
    j0 = std::min(j0, fj[k]);
    j1 = std::max(j1, fj[k]);
  }
  std::ostringstream dom;
  if (domain.local)
    dom << "centred at " << domain.central_latitude << " N, " << domain.central_longitude << " E, "
        << domain.l_zonal << " m x " << domain.l_meridional << " m";
  else
    dom << "x " << domain.x_min() << " to " << domain.x_max() << " m, y " << domain.y_min()
        << " to " << domain.y_max() << " m";
  FR_REQUIRE(inside, what, ": the domain (", dom.str(),
             ") is not entirely inside the source data (", axes.nx, " x ", axes.ny,
             " cells, x from ", axes.x0, " to ", axes.x0 + (axes.nx - 1) * axes.dx, ", y from ",
             axes.y0, " to ", axes.y0 + (axes.ny - 1) * axes.dy,
             axes.kind == kernels::source_lonlat      ? " degrees"
             : axes.kind == kernels::source_goes_scan ? " rad scan angle"
                                                      : " m",
             "); move or shrink the domain");
  const double pi = pad * (i1 - i0), pj = pad * (j1 - j0);
  IndexBox b;
  b.i0 = std::max(0, static_cast<int>(std::floor(i0 - pi)));
  b.i1 = std::min(axes.nx - 1, static_cast<int>(std::ceil(i1 + pi)));
  b.j0 = std::max(0, static_cast<int>(std::floor(j0 - pj)));
  b.j1 = std::min(axes.ny - 1, static_cast<int>(std::ceil(j1 + pj)));
  return b;
}

Scene crop_to_domain(const Scene& s, const Domain& domain, const std::string& what) {
  const IndexBox b = domain_index_box(s.axes, domain, 0.1, what);
  Scene c = s;
  const int nx = static_cast<int>(s.x.size()), ny = static_cast<int>(s.y.size());
  c.x.assign(s.x.begin() + b.i0, s.x.begin() + b.i1 + 1);
  c.y.assign(s.y.begin() + b.j0, s.y.begin() + b.j1 + 1);
  c.values.clear();
  for (int ch = 0; ch < s.nc(); ++ch)
    for (int j = b.j0; j <= b.j1; ++j) {
      const auto row = s.values.begin() + (static_cast<std::ptrdiff_t>(ch) * ny + j) * nx;
      c.values.insert(c.values.end(), row + b.i0, row + b.i1 + 1);
    }
  c.axes.nx = static_cast<int>(c.x.size());
  c.axes.ny = static_cast<int>(c.y.size());
  c.axes.x0 = c.x.front();
  c.axes.y0 = c.y.front();
  return c;
}

Scene load_source_scene(const Meta& meta, const ProductRef& ref, const SceneRef& scene,
                        const Domain& crop) {
  if (ref.source == "goes16") return read_goes_scene(meta, ref.product, scene, crop);
  Scene s = read_les_scene(meta, scene, ref.product);
  if (!meta.domain.as_source) s = crop_to_domain(s, crop, "scene " + scene.scene_id);
  return s;
}

}  // namespace fluxrecon::tiles
