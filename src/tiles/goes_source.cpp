#include "tiles/goes_source.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/grid_file.hpp"
#include "kernels/tiles_goes_nav.hpp"
#include "tiles/dataset.hpp"
#include "tiles/goes_names.hpp"

namespace fluxrecon::tiles {
namespace fs = std::filesystem;

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;

struct ChannelBlock {
  int channel = 0;
  std::string label;  // L2: the field's name
  std::vector<double> x, y;
  std::vector<float> values;  // [y][x], calibrated
  kernels::GoesNav nav;
  std::string units, standard_name;
  Seconds start = 0;
};

double scalar(io::GridFile& f, const std::string& name, const std::string& why) {
  FR_REQUIRE(f.has_variable(name), f.path(), ": variable '", name, "' is missing (needed for ", why,
             "); is this an ABI L1b radiance file?");
  double v = NAN;
  const auto& info = f.variable(name);
  std::vector<std::int64_t> start(info.shape.size(), 0), count(info.shape.size(), 1);
  f.read(name, start, count, &v);
  FR_REQUIRE(std::isfinite(v), f.path(), ": variable '", name, "' holds no valid value");
  return v;
}

std::vector<double> axis(io::GridFile& f, const std::string& name) {
  FR_REQUIRE(f.has_variable(name), f.path(), ": scan-angle coordinate '", name,
             "' is missing; is this an ABI L1b radiance file?");
  const auto& info = f.variable(name);
  FR_REQUIRE(info.shape.size() == 1, f.path(), ": '", name, "' must be 1-D");
  std::vector<double> v(static_cast<size_t>(info.shape[0]));
  f.read(name, {0}, {info.shape[0]}, v.data());
  return v;
}

ChannelBlock read_channel(const std::string& path, const ProductInput& in, bool reflectance,
                          const Domain& domain, const std::string& scene_id) {
  const auto key = parse_goes_key(path);
  const bool l2 = !in.l2_product.empty();
  FR_REQUIRE(
      key && (l2 ? key->product == in.l2_product : key->channel == in.channel), path,
      ": expected the ABI ",
      l2 ? "L2 " + in.l2_product + " file" : "L1b file of channel " + std::to_string(in.channel),
      " for scene ", scene_id);
  auto f = io::GridFile::open(path, MPI_COMM_SELF);
  ChannelBlock b;
  b.channel = in.channel;
  b.start = key->start;
  // An L2 file holds one field on (y, x) besides its quality flags (spec 3.2).
  std::string data_var = "Rad";
  if (l2) {
    std::vector<std::string> fields;
    for (const auto& n : f->variable_names()) {
      const auto& v = f->variable(n);
      if (n.rfind("DQF", 0) != 0 && v.dimensions == std::vector<std::string>{"y", "x"})
        fields.push_back(n);
    }
    std::string names;
    for (const auto& n : fields) names += (names.empty() ? "" : ", ") + n;
    FR_REQUIRE(fields.size() == 1, path, ": expected exactly one (y, x) field besides DQF in this ",
               in.l2_product, " file, found ", fields.size(),
               names.empty() ? "" : " (" + names + ")");
    data_var = fields.front();
    b.label = data_var;
  }
  FR_REQUIRE(
      l2 || f->has_variable("Rad"), path, ": variable 'Rad' (radiance of channel ", in.channel,
      ") is missing (the file has: ",
      [&] {
        std::string s;
        for (const auto& n : f->variable_names()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }(),
      ")");
  FR_REQUIRE(f->has_variable("goes_imager_projection"), path,
             ": variable 'goes_imager_projection' (the fixed-grid projection) is missing");
  auto proj = [&](const char* n) {
    const auto v = f->number_attribute("goes_imager_projection", n);
    FR_REQUIRE(v.has_value(), path, ": goes_imager_projection has no attribute '", n, "'");
    return *v;
  };
  b.nav.perspective_height = proj("perspective_point_height");
  b.nav.semi_major = proj("semi_major_axis");
  b.nav.semi_minor = proj("semi_minor_axis");
  b.nav.lon0_deg = proj("longitude_of_projection_origin");
  const auto x = axis(*f, "x"), y = axis(*f, "y");
  Scene probe;
  probe.x = x;
  probe.y = y;
  probe.axes.nav = b.nav;
  set_axes(probe, kernels::source_goes_scan, path);
  const IndexBox box = domain_index_box(probe.axes, domain, 0.1, path);
  const std::int64_t nx = box.i1 - box.i0 + 1, ny = box.j1 - box.j0 + 1;
  b.x.assign(x.begin() + box.i0, x.begin() + box.i1 + 1);
  b.y.assign(y.begin() + box.j0, y.begin() + box.j1 + 1);
  const auto& rad = f->variable(data_var);
  FR_REQUIRE(rad.dimensions.size() == 2 && rad.dimensions[0] == "y" && rad.dimensions[1] == "x",
             path, ": '", data_var, "' must have dimensions (y, x)");
  b.values.resize(static_cast<size_t>(nx * ny));
  f->read(data_var, {box.j0, box.i0}, {ny, nx}, b.values.data());
  if (l2) {  // L2 fields are used as they are (fill values already NaN)
    b.units = f->text_attribute(data_var, "units").value_or("");
    b.standard_name = f->text_attribute(data_var, "standard_name").value_or("");
    return b;
  }
  if (f->has_variable("DQF")) {
    // Data-quality flags: 0 good, 1 conditionally usable; 2-4 (out of range, no value,
    // focal-plane temperature) become NaN.
    std::vector<float> dqf(b.values.size());
    f->read("DQF", {box.j0, box.i0}, {ny, nx}, dqf.data());
    for (size_t k = 0; k < dqf.size(); ++k)
      if (!(dqf[k] == 0 || dqf[k] == 1)) b.values[k] = NAN;
  }
  if (in.brightness_temperature) {
    const double fk1 = scalar(*f, "planck_fk1", "brightness temperature"),
                 fk2 = scalar(*f, "planck_fk2", "brightness temperature"),
                 bc1 = scalar(*f, "planck_bc1", "brightness temperature"),
                 bc2 = scalar(*f, "planck_bc2", "brightness temperature");
    for (auto& v : b.values) v = static_cast<float>(brightness_temperature(v, fk1, fk2, bc1, bc2));
    b.units = "K";
    b.standard_name = "toa_brightness_temperature";
  } else if (reflectance) {
    const double kappa0 = scalar(*f, "kappa0", "reflectance");
    for (auto& v : b.values) v = static_cast<float>(100.0 * kappa0 * v);
    b.units = "%";
    b.standard_name = "toa_bidirectional_reflectance";
  } else {
    b.units = f->text_attribute("Rad", "units").value_or("");
    b.standard_name = "toa_outgoing_radiance_per_unit_wavenumber";
  }
  return b;
}

// `b` on the scan-angle grid (xs, ys) by nearest pixel.
std::vector<float> onto(const ChannelBlock& b, const std::vector<double>& xs,
                        const std::vector<double>& ys) {
  const double x0 = b.x.front(), dx = (b.x.back() - x0) / std::max<size_t>(1, b.x.size() - 1);
  const double y0 = b.y.front(), dy = (b.y.back() - y0) / std::max<size_t>(1, b.y.size() - 1);
  std::vector<float> out(xs.size() * ys.size(), NAN);
  for (size_t j = 0; j < ys.size(); ++j) {
    const long jj = std::lround((ys[j] - y0) / dy);
    if (jj < 0 || jj >= static_cast<long>(b.y.size())) continue;
    for (size_t i = 0; i < xs.size(); ++i) {
      const long ii = std::lround((xs[i] - x0) / dx);
      if (ii >= 0 && ii < static_cast<long>(b.x.size()))
        out[j * xs.size() + i] =
            b.values[static_cast<size_t>(jj) * b.x.size() + static_cast<size_t>(ii)];
    }
  }
  return out;
}

}  // namespace

std::string goes_source_dir(const Meta& meta) { return meta.data_path + "/source_data/goes16"; }

double brightness_temperature(double radiance, double fk1, double fk2, double bc1, double bc2) {
  if (!(radiance > 0)) return NAN;
  return (fk2 / std::log(fk1 / radiance + 1.0) - bc1) / bc2;
}

std::vector<SceneRef> find_goes_scenes(const Meta& meta, const Product& product,
                                       bool apply_filters) {
  const std::string dir = goes_source_dir(meta);
  // Files by input: "C01".."C16" for L1b radiances, "L2:<product>" for L2 products.
  auto input_key = [](const ProductInput& in) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "C%02d", in.channel);
    return in.l2_product.empty() ? std::string(buf) : "L2:" + in.l2_product;
  };
  std::map<std::string, std::vector<std::pair<GoesKey, std::string>>> by_input;
  if (fs::is_directory(dir))
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file())
        if (auto k = parse_goes_key(e.path().string()); k && k->region == "F") {
          ProductInput in;
          in.channel = k->channel;
          if (k->level == "L2") in.l2_product = k->product;
          if (k->level == "L1b" ? k->product == "Rad" : k->level == "L2")
            by_input[input_key(in)].emplace_back(*k,
                                                 fs::relative(e.path(), meta.data_path).string());
        }
  std::map<Seconds, std::map<std::string, std::string>> by_time;
  for (const auto& iv : meta.time.intervals) {
    // The luigi query parameter has minute precision: truncate the centre.
    Seconds centre = iv.start + (iv.end - iv.start) / 2;
    centre -= ((centre % 60) + 60) % 60;
    const Seconds dt_max = (iv.end - iv.start) / 2;
    for (const auto& in : product.inputs) {
      int found = 0;
      for (const auto& [k, path] : by_input[input_key(in)])
        if (k.end > centre - dt_max && k.end < centre + dt_max &&
            k.sensor_mode == expected_sensor_mode(k.end)) {
          by_time[k.start][input_key(in)] = path;
          ++found;
        }
      if (found == 0) {
        const bool l2 = !in.l2_product.empty();
        std::string expected;
        int listed = 0;
        const Seconds step = full_disk_interval(centre);
        for (Seconds t = (centre - dt_max) / step * step; t < centre + dt_max && listed < 6;
             t += step, ++listed)
          expected += "\n  " + (l2 ? goes_l2_folder(in.l2_product, t) +
                                         goes_l2_name_pattern(in.l2_product, t)
                                   : goes_l1b_folder(t) + goes_l1b_name_pattern(in.channel, t));
        FR_FAIL("no GOES-16 ABI ", l2 ? "L2 " + in.l2_product : "L1b", " full-disk file",
                l2 ? std::string() : " of channel " + std::to_string(in.channel), " in ", dir,
                " whose scan ends between ", iso_datetime(centre - dt_max), " and ",
                iso_datetime(centre + dt_max), " (needed by type '", product.text,
                "'); expected files such as (one every ", step / 60, " min):", expected,
                "\nThere is no network access here: copy them from s3://noaa-goes16 into ", dir);
      }
    }
  }
  const std::optional<double> lon =
      meta.domain.as_source ? std::nullopt : std::optional<double>(meta.domain.central_longitude);
  std::vector<SceneRef> scenes;
  std::set<std::string> ids;
  for (const auto& [t, files] : by_time) {
    if (files.size() != product.inputs.size()) {
      log::info("tiles: warning: only ", files.size(), " of ", product.inputs.size(),
                " channels were found for ", iso_datetime(t), " so this time is excluded");
      continue;
    }
    TimeSpec intervals_only = meta.time;
    if (!apply_filters) intervals_only.filters.clear();
    if (!passes_time_filters(intervals_only, t, lon)) continue;
    SceneRef ref;
    ref.time = t;
    ref.scene_id = make_scene_id("goes16", t);
    for (const auto& in : product.inputs) ref.files.push_back(files.at(input_key(in)));
    if (!ids.insert(ref.scene_id).second) {
      log::info("tiles: warning: two scans start in the minute of ", ref.scene_id,
                "; keeping the first");
      continue;
    }
    scenes.push_back(ref);
  }
  FR_REQUIRE(!scenes.empty(), "No valid times found: no time in ", dir, " has all channels of '",
             product.text, "' and passes the time filters of ", meta.meta_path);
  return scenes;
}

Scene read_goes_scene(const Meta& meta, const Product& product, const SceneRef& ref,
                      const Domain& domain) {
  FR_REQUIRE(ref.files.size() == product.inputs.size(), "scene ", ref.scene_id, ": ",
             ref.files.size(), " files for the ", product.inputs.size(), " channels of '",
             product.text, "'; rerun GenerateSceneIDs");
  FR_REQUIRE(domain.local, "goes16 scenes need a local domain");
  const bool truecolor = product.kind == Product::Kind::truecolor_rgb;
  std::vector<ChannelBlock> blocks;
  for (size_t c = 0; c < ref.files.size(); ++c)
    blocks.push_back(read_channel(meta.data_path + "/" + ref.files[c], product.inputs[c], truecolor,
                                  domain, ref.scene_id));
  // The finest channel's grid is the scene's grid.
  size_t finest = 0;
  for (size_t c = 1; c < blocks.size(); ++c)
    if (std::abs(blocks[c].x[1] - blocks[c].x[0]) <
        std::abs(blocks[finest].x[1] - blocks[finest].x[0]))
      finest = c;
  Scene s;
  s.scene_id = ref.scene_id;
  s.time = blocks.front().start;
  s.source = "goes16";
  s.product = product.text;
  s.x = blocks[finest].x;
  s.y = blocks[finest].y;
  s.axes.nav = blocks[finest].nav;
  set_axes(s, kernels::source_goes_scan, ref.files[finest]);
  const size_t n = s.x.size() * s.y.size();
  std::vector<std::vector<float>> planes;
  for (const auto& b : blocks) planes.push_back(onto(b, s.x, s.y));
  if (truecolor) {
    s.render = Render::truecolor;
    const int nx = static_cast<int>(s.x.size()), ny = static_cast<int>(s.y.size());
    using Host2 = Kokkos::View<const float**, Kokkos::LayoutRight, Kokkos::HostSpace,
                               Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
    auto dev2 = [&](const std::vector<float>& v, const char* label) {
      Kokkos::View<float**, Kokkos::LayoutRight, Mem> d(std::string(label), ny, nx);
      Kokkos::deep_copy(d, Host2(v.data(), ny, nx));
      return d;
    };
    auto dev1 = [&](const std::vector<double>& v, const char* label) {
      Kokkos::View<double*, Mem> d(std::string(label), v.size());
      Kokkos::deep_copy(
          d,
          Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
              v.data(), v.size()));
      return d;
    };
    const Civil c = civil(s.time);
    kernels::TrueColor<Mem> tc{
        s.axes.nav,
        dev1(s.x, "tc_x"),
        dev1(s.y, "tc_y"),
        dev2(planes[0], "tc_c01"),
        dev2(planes[1], "tc_c02"),
        dev2(planes[2], "tc_c03"),
        day_of_year(s.time),
        c.hour + c.minute / 60.0 + c.second / 3600.0,
        Kokkos::View<float***, Kokkos::LayoutRight, Mem>("tc_rgb", 3, ny, nx)};
    Kokkos::parallel_for("tiles::true_color", Kokkos::RangePolicy<Exec>(0, nx * ny), tc);
    s.values.resize(3 * n);
    Kokkos::deep_copy(
        Kokkos::View<float***, Kokkos::LayoutRight, Kokkos::HostSpace,
                     Kokkos::MemoryTraits<Kokkos::Unmanaged>>(s.values.data(), 3, ny, nx),
        tc.rgb);
    s.channels = {"R", "G", "B"};
    s.units = {"%", "%", "%"};
    s.standard_names = {"true_color", "true_color", "true_color"};
    return s;
  }
  s.render = product.kind == Product::Kind::multichannel ? Render::multichannel : Render::grey;
  for (size_t c = 0; c < blocks.size(); ++c) {
    s.values.insert(s.values.end(), planes[c].begin(), planes[c].end());
    char name[8];
    std::snprintf(name, sizeof name, "C%02d", blocks[c].channel);
    s.channels.push_back(blocks[c].label.empty() ? std::string(name) : blocks[c].label);
    s.units.push_back(blocks[c].units);
    s.standard_names.push_back(blocks[c].standard_name);
  }
  return s;
}

}  // namespace fluxrecon::tiles
