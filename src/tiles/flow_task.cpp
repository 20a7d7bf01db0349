#include "tiles/flow_task.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/timer.hpp"
#include "io/grid_file.hpp"
#include "io/nc_writer.hpp"
#include "tiles/png.hpp"
#include "tiles/scene.hpp"

namespace fluxrecon::tiles {
namespace {

// One group's tracked positions (scene, trajectory) and the post-processed cells.
struct Trajectories {
  std::vector<const FlowScene*> scenes;  // from the seed image on
  int count = 0;                         // trajectories
  int nx = 0, ny = 0;
  std::vector<FlowPoint> position;  // [scene][traj] image column, row from the top
};

void write_trajectories_nc(const std::string& path, const FlowGroup& group, const Trajectories& t,
                           const FlowParams& params) {
  const int ns = static_cast<int>(t.scenes.size()), nt = t.count;
  const size_t n = static_cast<size_t>(ns) * nt;
  std::vector<std::int32_t> ci(n), cj(n);
  std::vector<float> fi(n), fj(n);
  std::vector<double> x(n, NAN), y(n, NAN), lat(n, NAN), lon(n, NAN), time(ns);
  std::string ids;
  for (int s = 0; s < ns; ++s) {
    const auto grid = read_gridded(t.scenes[s]->nc);
    FR_REQUIRE(grid.nx() == t.nx && grid.ny() == t.ny, t.scenes[s]->nc, " is ", grid.nx(), " x ",
               grid.ny(), " cells but its image ", t.scenes[s]->png, " is ", t.nx, " x ", t.ny,
               " pixels");
    time[s] = static_cast<double>(t.scenes[s]->time);
    ids += (s ? " " : "") + t.scenes[s]->scene_id;
    for (int p = 0; p < nt; ++p) {
      const size_t k = static_cast<size_t>(s) * nt + p;
      const FlowPoint& q = t.position[k];
      const auto cell = trajectory_cell(q, t.nx, t.ny);
      ci[k] = cell.i;
      cj[k] = cell.j;
      const bool lost = std::isnan(q.x) || std::isnan(q.y);
      fi[k] = lost ? NAN : q.x;
      fj[k] = lost ? NAN : static_cast<float>(t.ny - 1 - q.y);
      if (cell.i < 0) continue;
      x[k] = grid.x[cell.i];
      y[k] = grid.y[cell.j];
      if (!grid.lat.empty()) {
        lat[k] = grid.lat[static_cast<size_t>(cell.j) * t.nx + cell.i];
        lon[k] = grid.lon[static_cast<size_t>(cell.j) * t.nx + cell.i];
      }
    }
  }
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  w.define_dimension("scene_id", ns);
  w.define_dimension("traj_id", nt);
  const std::vector<std::string> dims{"scene_id", "traj_id"};
  w.define_variable("time", io::NcType::float64, {"scene_id"});
  w.put_attribute("time", "units", "seconds since 1970-01-01 00:00:00");
  const struct {
    const char* name;
    io::NcType type;
    const char* long_name;
    const char* units;
  } vars[] = {
      {"i", io::NcType::int32, "column of the nearest cell (-1: lost or outside)", "1"},
      {"j", io::NcType::int32, "row of the nearest cell counted from the south (-1: lost)", "1"},
      {"i_subpixel", io::NcType::float32, "tracked column, sub-pixel (NaN: lost)", "1"},
      {"j_subpixel", io::NcType::float32, "tracked row from the south, sub-pixel (NaN: lost)", "1"},
      {"x", io::NcType::float64, "x of the cell (i, j)", "m"},
      {"y", io::NcType::float64, "y of the cell (i, j)", "m"},
      {"lat", io::NcType::float64, "latitude of the cell (i, j)", "degrees_north"},
      {"lon", io::NcType::float64, "longitude of the cell (i, j)", "degrees_east"},
  };
  for (const auto& v : vars) {
    w.define_variable(v.name, v.type, dims);
    w.put_attribute(v.name, "long_name", v.long_name);
    w.put_attribute(v.name, "units", v.units);
  }
  w.put_attribute("", "prefix", group.prefix);
  w.put_attribute("", "scene_ids", ids);
  w.put_attribute("", "method",
                  "Shi-Tomasi seed points, pyramidal Lucas-Kanade tracking (fluxrecon kernels)");
  w.put_attribute("", "max_corners", std::to_string(params.max_corners));
  w.put_attribute("", "min_distance", std::to_string(params.min_distance));
  w.put_attribute("", "window", std::to_string(params.window));
  w.put_attribute("", "levels", std::to_string(params.levels));
  w.put_attribute("", "iterations", std::to_string(params.iterations));
  w.end_definitions();
  const std::vector<std::int64_t> start{0, 0}, count{ns, nt};
  w.write("time", {0}, {ns}, time.data());
  w.write("i", start, count, ci.data());
  w.write("j", start, count, cj.data());
  w.write("i_subpixel", start, count, fi.data());
  w.write("j_subpixel", start, count, fj.data());
  w.write("x", start, count, x.data());
  w.write("y", start, count, y.data());
  w.write("lat", start, count, lat.data());
  w.write("lon", start, count, lon.data());
  w.close();
  out.commit();
}

// RGB of a decoded PNG (grey replicated, RGBA on white).
// The dense flow of every tracked pair: dims (pair, gy, gx); u east and v
// north in pixels per step (the grid rows counted from the south, as j).
void write_field_nc(const std::string& path, const FlowGroup& group, const Trajectories& t,
                    const std::vector<FlowField>& fields) {
  const int np = static_cast<int>(fields.size());
  const int gx = np ? fields[0].gx : 0, gy = np ? fields[0].gy : 0, step = np ? fields[0].step : 0;
  const size_t plane = static_cast<size_t>(gx) * gy;
  std::vector<float> u(plane * np), v(plane * np);
  std::vector<double> t0(np), t1(np), col(gx), row(gy);
  for (int c = 0; c < gx; ++c) col[c] = step * (c + 0.5);
  for (int r = 0; r < gy; ++r) row[r] = t.ny - step * (r + 0.5);  // from the south
  for (int k = 0; k < np; ++k) {
    t0[k] = static_cast<double>(t.scenes[k]->time);
    t1[k] = static_cast<double>(t.scenes[k + 1]->time);
    for (int r = 0; r < gy; ++r)
      for (int c = 0; c < gx; ++c) {
        // Row r from the south is grid row gy - 1 - r from the top.
        const size_t from = static_cast<size_t>(gy - 1 - r) * gx + c;
        const size_t to = k * plane + static_cast<size_t>(r) * gx + c;
        u[to] = fields[k].dx[from];
        v[to] = -fields[k].dy[from];
      }
  }
  AtomicOutput out(path, MPI_COMM_SELF);
  io::NcWriter w(out.temp_path(), MPI_COMM_SELF, io::WriteFormat::cdf5);
  w.define_dimension("pair", np);
  w.define_dimension("gy", gy);
  w.define_dimension("gx", gx);
  w.define_variable("time_from", io::NcType::float64, {"pair"});
  w.define_variable("time_to", io::NcType::float64, {"pair"});
  for (const char* name : {"time_from", "time_to"})
    w.put_attribute(name, "units", "seconds since 1970-01-01 00:00:00");
  w.define_variable("i", io::NcType::float64, {"gx"});
  w.put_attribute("i", "long_name", "image column of the grid point (pixel centres at .5)");
  w.define_variable("j", io::NcType::float64, {"gy"});
  w.put_attribute("j", "long_name", "image row of the grid point counted from the south");
  w.define_variable("u", io::NcType::float32, {"pair", "gy", "gx"});
  w.put_attribute("u", "long_name", "eastward displacement between the pair's scenes (NaN: lost)");
  w.put_attribute("u", "units", "pixels");
  w.define_variable("v", io::NcType::float32, {"pair", "gy", "gx"});
  w.put_attribute("v", "long_name", "northward displacement between the pair's scenes (NaN: lost)");
  w.put_attribute("v", "units", "pixels");
  w.put_attribute("", "prefix", group.prefix);
  w.put_attribute("", "method", "pyramidal Lucas-Kanade on a regular grid (fluxrecon kernels)");
  w.put_attribute("", "grid_step", std::to_string(step));
  w.end_definitions();
  w.write("time_from", {0}, {np}, t0.data());
  w.write("time_to", {0}, {np}, t1.data());
  w.write("i", {0}, {gx}, col.data());
  w.write("j", {0}, {gy}, row.data());
  w.write("u", {0, 0, 0}, {np, gy, gx}, u.data());
  w.write("v", {0, 0, 0}, {np, gy, gx}, v.data());
  w.close();
  out.commit();
}

std::vector<std::uint8_t> rgb_of(const DecodedPng& png) {
  const size_t n = static_cast<size_t>(png.width) * png.height;
  std::vector<std::uint8_t> rgb(3 * n);
  for (size_t k = 0; k < n; ++k)
    for (int c = 0; c < 3; ++c) {
      const int src = png.channels < 3 ? 0 : c;
      double v = png.pixels[k * png.channels + src];
      if (png.channels == 4) {
        const double a = png.pixels[k * 4 + 3] / 255.0;
        v = a * v + (1 - a) * 255.0;
      }
      rgb[3 * k + c] = static_cast<std::uint8_t>(std::lround(v));
    }
  return rgb;
}

// Scene k with every trajectory drawn up to k and a dot at its position.
void write_frame(const std::string& path, const DecodedPng& png, const Trajectories& t, int k) {
  static const std::uint8_t palette[10][3] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  std::vector<std::uint8_t> rgb = rgb_of(png);
  const int nx = png.width, ny = png.height;
  auto plot = [&](int x, int y, const std::uint8_t* c) {
    if (x < 0 || y < 0 || x >= nx || y >= ny) return;
    std::copy(c, c + 3, rgb.begin() + 3 * (static_cast<size_t>(y) * nx + x));
  };
  for (int p = 0; p < t.count; ++p) {
    const std::uint8_t* colour = palette[p % 10];
    for (int s = 1; s <= k; ++s) {
      const FlowPoint a = t.position[static_cast<size_t>(s - 1) * t.count + p],
                      b = t.position[static_cast<size_t>(s) * t.count + p];
      if (std::isnan(a.x) || std::isnan(b.x)) continue;
      const double len = std::max(std::abs(b.x - a.x), std::abs(b.y - a.y));
      const int steps = std::max(1, static_cast<int>(std::ceil(len)));
      for (int q = 0; q <= steps; ++q)
        plot(static_cast<int>(std::lround(a.x + (b.x - a.x) * q / steps)),
             static_cast<int>(std::lround(a.y + (b.y - a.y) * q / steps)), colour);
    }
    const FlowPoint c = t.position[static_cast<size_t>(k) * t.count + p];
    if (std::isnan(c.x)) continue;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        plot(static_cast<int>(std::lround(c.x)) + dx, static_cast<int>(std::lround(c.y)) + dy,
             colour);
  }
  write_png(path, nx, ny, 3, rgb);
}

}  // namespace

std::string flow_group_prefix(const std::string& scene_id) {
  const auto pos = scene_id.find("__");
  bool ok = pos != std::string::npos && pos > 0 && scene_id.size() >= pos + 2 + 8;
  for (size_t k = pos + 2; ok && k < pos + 10; ++k)
    ok = std::isdigit(static_cast<unsigned char>(scene_id[k])) != 0;
  FR_REQUIRE(ok, "flow: scene id '", scene_id,
             "' is not <source>__<YYYYmmdd...>, so it has no date prefix to group by");
  return scene_id.substr(0, pos + 10);
}

std::vector<FlowGroup> flow_groups(std::vector<FlowScene> scenes) {
  std::sort(scenes.begin(), scenes.end(), [](const FlowScene& a, const FlowScene& b) {
    return a.time != b.time ? a.time < b.time : a.scene_id < b.scene_id;
  });
  std::vector<FlowGroup> groups;
  for (auto& s : scenes) {
    const std::string prefix = flow_group_prefix(s.scene_id);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const FlowGroup& g) { return g.prefix == prefix; });
    if (it == groups.end()) {
      groups.push_back({prefix, {}});
      it = groups.end() - 1;
    }
    it->scenes.push_back(std::move(s));
  }
  std::sort(groups.begin(), groups.end(),
            [](const FlowGroup& a, const FlowGroup& b) { return a.prefix < b.prefix; });
  return groups;
}

std::string flow_dir(const std::string& data_path) { return data_path + "/rect/trajectories"; }

std::string flow_trajectories_path(const std::string& data_path, const std::string& prefix) {
  return flow_dir(data_path) + "/" + prefix + ".flow_trajectories.nc";
}

std::string flow_field_path(const std::string& data_path, const std::string& prefix) {
  return flow_dir(data_path) + "/" + prefix + ".flow_field.nc";
}

std::string flow_frame_path(const std::string& data_path, const std::string& prefix, int k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".flow_trajectories.%03d.png", k);
  return flow_dir(data_path) + "/" + prefix + buf;
}

bool flow_group_complete(const std::string& data_path, const std::string& prefix, bool frames,
                         bool field) {
  const std::string nc = flow_trajectories_path(data_path, prefix);
  if (!output_complete(nc)) return false;
  if (!frames && !field) return true;
  const auto f = io::GridFile::open(nc, MPI_COMM_SELF);
  const auto ns = f->dimension_length("scene_id");
  // A group of one scene has no pair and so no field.
  if (field && ns > 1 && !output_complete(flow_field_path(data_path, prefix))) return false;
  if (frames)
    for (int k = 0; k < ns; ++k)
      if (!output_complete(flow_frame_path(data_path, prefix, k))) return false;
  return true;
}

FlowGroupStats run_flow_group(const std::string& data_path, const FlowGroup& group,
                              const FlowParams& params) {
  FR_REQUIRE(!group.scenes.empty(), "flow: group ", group.prefix, " has no scenes");
  FlowGroupStats stats;
  Trajectories t;
  std::vector<FlowPoint> points;
  std::unique_ptr<FlowPyramid> prev;
  std::vector<FlowField> fields;  // dense flow per tracked pair
  int most = -1;
  std::string most_id;
  for (const auto& scene : group.scenes) {
    const auto png = read_png(scene.png);
    if (t.nx == 0) {
      t.nx = png.width;
      t.ny = png.height;
    }
    FR_REQUIRE(png.width == t.nx && png.height == t.ny, "flow: group ", group.prefix, ": ",
               scene.png, " is ", png.width, " x ", png.height, " pixels, the group's first is ",
               t.nx, " x ", t.ny);
    const double t0 = wall_seconds();
    const auto image = scaled_to_8bit(grey_from_png(png));
    if (t.scenes.empty()) {
      // Still looking for the seed image.
      const auto corners = good_features(image, t.nx, t.ny, params);
      if (static_cast<int>(corners.size()) > most) {
        most = static_cast<int>(corners.size());
        most_id = scene.scene_id;
      }
      if (static_cast<int>(corners.size()) < params.min_corners) {
        stats.track_seconds += wall_seconds() - t0;
        continue;
      }
      points = corners;
      t.count = static_cast<int>(points.size());
      stats.seeds = t.count;
      prev = std::make_unique<FlowPyramid>(image, t.nx, t.ny, params.levels, params.window);
    } else {
      auto next = std::make_unique<FlowPyramid>(image, t.nx, t.ny, params.levels, params.window);
      points = track_points(*prev, *next, points, params);
      if (params.field_step > 0)
        fields.push_back(dense_flow(*prev, *next, params.field_step, params));
      prev = std::move(next);
      ++stats.pairs;
      for (const auto& p : points) stats.points_tracked += std::isnan(p.x) ? 0 : 1;
    }
    Kokkos::fence();
    stats.track_seconds += wall_seconds() - t0;
    t.scenes.push_back(&scene);
    t.position.insert(t.position.end(), points.begin(), points.end());
  }
  FR_REQUIRE(!t.scenes.empty(), "flow: group ", group.prefix, ": no image of its ",
             group.scenes.size(), " scene(s) has ", params.min_corners,
             " or more corners (most: ", most, " in ", most_id,
             "); lower --min-corners or --min-distance");
  stats.scenes = static_cast<int>(t.scenes.size());
  ensure_directory(flow_dir(data_path));
  if (params.frames)
    for (int k = 0; k < stats.scenes; ++k)
      write_frame(flow_frame_path(data_path, group.prefix, k), read_png(t.scenes[k]->png), t, k);
  if (params.field_step > 0 && !fields.empty())
    write_field_nc(flow_field_path(data_path, group.prefix), group, t, fields);
  // The trajectories last: a group is complete once they exist.
  write_trajectories_nc(flow_trajectories_path(data_path, group.prefix), group, t, params);
  return stats;
}

}  // namespace fluxrecon::tiles
