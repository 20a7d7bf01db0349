// Filled lat/lon maps: every grid cell is drawn as the quadrilateral between
// the midpoints of its neighbours' centres, so curvilinear (ORCA) and regular
// grids look the same and cells with NaN stay blank. Side-by-side panels share
// one colour scale and one colour bar.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "plot/plot_canvas.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::plot {
namespace {
using namespace detail;

constexpr double kDegToRad = M_PI / 180.0;
// Room around the circle of a polar map for the longitude labels.
constexpr double kPolarMargin = 1.13;

// Longitude `lon` moved by whole turns to lie within 180 degrees of `ref`.
double near_lon(double lon, double ref) { return lon - 360.0 * std::round((lon - ref) / 360.0); }

// South polar stereographic coordinates (0 E at the top, east clockwise as
// seen from below the pole); radius 1 at the equator.
void south_polar(double lat, double lon, double& x, double& y) {
  const double r = std::tan((90.0 + lat) * 0.5 * kDegToRad);
  x = r * std::sin(lon * kDegToRad);
  y = r * std::cos(lon * kDegToRad);
}

void south_polar_mapform(PLINT n, PLFLT* x, PLFLT* y) {
  for (PLINT i = 0; i < n; ++i) south_polar(y[i], x[i], x[i], y[i]);
}

// Cell corners: (ny+1) x (nx+1) points midway between the four surrounding
// centres, extrapolated linearly one cell beyond the edges.
struct Corners {
  int ny = 0, nx = 0;
  std::vector<double> lat, lon;  // [(ny+1)*(nx+1)]
  double at_lat(int j, int i) const { return lat[static_cast<std::size_t>(j) * (nx + 1) + i]; }
  double at_lon(int j, int i) const { return lon[static_cast<std::size_t>(j) * (nx + 1) + i]; }
};

Corners cell_corners(const GeoGrid& g) {
  // Extended centres for j in -1..ny, i in -1..nx (lon unwrapped along rows).
  const int ey = g.ny + 2, ex = g.nx + 2;
  std::vector<double> clat(static_cast<std::size_t>(ey) * ex), clon(clat.size());
  auto idx = [&](int j, int i) { return static_cast<std::size_t>(j + 1) * ex + (i + 1); };
  auto src = [&](int j, int i) { return static_cast<std::size_t>(j) * g.nx + i; };
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      clat[idx(j, i)] = g.lat[src(j, i)];
      clon[idx(j, i)] = g.lon[src(j, i)];
    }
  // A one-cell-wide grid has no neighbour to extrapolate from: assume 1 degree.
  auto extrapolate = [&](std::size_t to, std::size_t from, std::size_t inner, double dlat,
                         double dlon) {
    if (inner == from) {
      clat[to] = clat[from] + dlat;
      clon[to] = clon[from] + dlon;
    } else {
      clat[to] = 2 * clat[from] - clat[inner];
      clon[to] = 2 * clon[from] - near_lon(clon[inner], clon[from]);
    }
  };
  for (int j = 0; j < g.ny; ++j) {
    extrapolate(idx(j, -1), idx(j, 0), idx(j, std::min(1, g.nx - 1)), 0, -1);
    extrapolate(idx(j, g.nx), idx(j, g.nx - 1), idx(j, std::max(g.nx - 2, 0)), 0, 1);
  }
  for (int i = -1; i <= g.nx; ++i) {
    extrapolate(idx(-1, i), idx(0, i), idx(std::min(1, g.ny - 1), i), -1, 0);
    extrapolate(idx(g.ny, i), idx(g.ny - 1, i), idx(std::max(g.ny - 2, 0), i), 1, 0);
  }
  Corners c;
  c.ny = g.ny;
  c.nx = g.nx;
  c.lat.resize(static_cast<std::size_t>(g.ny + 1) * (g.nx + 1));
  c.lon.resize(c.lat.size());
  for (int j = 0; j <= g.ny; ++j)
    for (int i = 0; i <= g.nx; ++i) {
      const std::size_t a = idx(j - 1, i - 1), b = idx(j - 1, i), d = idx(j, i - 1), e = idx(j, i);
      const double ref = clon[a];
      const std::size_t k = static_cast<std::size_t>(j) * (g.nx + 1) + i;
      c.lat[k] = 0.25 * (clat[a] + clat[b] + clat[d] + clat[e]);
      c.lon[k] =
          0.25 * (ref + near_lon(clon[b], ref) + near_lon(clon[d], ref) + near_lon(clon[e], ref));
    }
  return c;
}

void check_extent(const std::string& path, const MapExtent& e, MapProjection projection) {
  require_input(e.lat_min >= -90 && e.lat_max <= 90 && e.lat_min < e.lat_max, path,
                concat("latitude range [", e.lat_min, ", ", e.lat_max,
                       "] is not an increasing range within [-90, 90]"));
  require_input(e.lon_min < e.lon_max && e.lon_max <= e.lon_min + 360.0 + 1e-9, path,
                concat("longitude range [", e.lon_min, ", ", e.lon_max,
                       "] must increase by at most 360 degrees"));
  if (projection == MapProjection::south_polar_stereo)
    require_input(
        e.lat_max <= 0 && e.lat_max > -89, path,
        concat("a south polar map needs its outer latitude in (-89, 0], got ", e.lat_max));
}

void check_map_plot(const std::string& path, const MapPlot& plot) {
  const GeoGrid& g = plot.grid;
  require_input(g.ny > 0 && g.nx > 0, path,
                concat("the grid is empty (", g.ny, " x ", g.nx, " cells)"));
  const auto cells = static_cast<std::size_t>(g.ny) * static_cast<std::size_t>(g.nx);
  require_input(g.lat.size() == cells && g.lon.size() == cells, path,
                concat("the grid has ", g.lat.size(), " latitudes and ", g.lon.size(),
                       " longitudes for ", g.ny, " x ", g.nx, " cells"));
  require_input(!plot.panels.empty(), path, "no panels to plot");
  bool any = false;
  for (const auto& p : plot.panels) {
    require_input(p.values.size() == cells, path,
                  concat("panel '", p.title, "' has ", p.values.size(), " values for ", cells,
                         " grid cells"));
    any = any ||
          std::any_of(p.values.begin(), p.values.end(), [](double v) { return std::isfinite(v); });
  }
  require_input(any, path, "every value of every panel is NaN (nothing to map)");
  check_extent(path, plot.extent, plot.projection);
  if (plot.vmin && plot.vmax)
    require_input(*plot.vmin < *plot.vmax, path,
                  concat("colour range [", *plot.vmin, ", ", *plot.vmax, "] is empty"));
  require_input(plot.panel_width >= 250 && plot.panel_width <= 3000, path,
                concat("panel width ", plot.panel_width, " pixels is outside 250..3000"));
}

// The colour range: given, or robust percentiles of every panel's values.
std::pair<double, double> colour_range(const MapPlot& plot) {
  std::vector<double> all;
  for (const auto& p : plot.panels) all.insert(all.end(), p.values.begin(), p.values.end());
  double lo, hi;
  if (plot.colour_map == ColourMap::diverging) {
    for (auto& v : all) v = std::abs(v);
    hi = percentile(all, 98.0);
    lo = -hi;
  } else {
    lo = percentile(all, 2.0);
    hi = percentile(all, 98.0);
  }
  if (plot.vmin) lo = *plot.vmin;
  if (plot.vmax) hi = *plot.vmax;
  if (!(hi > lo)) {  // a constant field
    const double pad = std::max(std::abs(lo) * 0.1, 1e-12);
    lo -= pad;
    hi += pad;
  }
  return {lo, hi};
}

// A run of neighbouring cells of one row with the same colour, drawn as one
// polygon along the grid's own corners (top edge left to right, bottom edge
// back): far fewer fills than one per cell on fine grids, the same picture.
struct CellRun {
  int colour = -1;  // 0..255, the resolution of colour map 1
  std::vector<PLFLT> top_x, top_y, bottom_x, bottom_y;
  bool empty() const { return colour < 0; }
};

void fill_run(plstream& pls, CellRun& run, const MapExtent& e, bool wrap) {
  if (run.empty()) return;
  std::vector<PLFLT> x(run.top_x), y(run.top_y);
  x.insert(x.end(), run.bottom_x.rbegin(), run.bottom_x.rend());
  y.insert(y.end(), run.bottom_y.rbegin(), run.bottom_y.rend());
  pls.col1(run.colour / 255.0);
  pls.fill(static_cast<PLINT>(x.size()), x.data(), y.data());
  // On a whole-circle map, the part beyond one edge appears at the other.
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  if (wrap && (*hi > e.lon_max || *lo < e.lon_min)) {
    const double shift = *hi > e.lon_max ? -360.0 : 360.0;
    for (auto& v : x) v += shift;
    pls.fill(static_cast<PLINT>(x.size()), x.data(), y.data());
  }
  run = CellRun{};
}

// Draws one panel's cells in the current viewport and window.
void draw_cells(plstream& pls, const MapPlot& plot, const Corners& corners,
                const std::vector<double>& values, double vmin, double vmax) {
  const MapExtent& e = plot.extent;
  const bool polar = plot.projection == MapProjection::south_polar_stereo;
  const double mid = 0.5 * (e.lon_min + e.lon_max);
  const bool full_circle = !polar && e.lon_max - e.lon_min > 359.0;
  const int ny = plot.grid.ny, nx = plot.grid.nx;
  // Corners in the order top-left, top-right, bottom-right, bottom-left.
  static constexpr int dj[4] = {0, 0, 1, 1}, di[4] = {0, 1, 1, 0};
  std::array<PLFLT, 4> px{}, py{};
  CellRun run;
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      const std::size_t k = static_cast<std::size_t>(j) * nx + i;
      const double v = values[k], clat = plot.grid.lat[k];
      if (!std::isfinite(v) || !std::isfinite(clat) || !std::isfinite(plot.grid.lon[k])) {
        fill_run(pls, run, e, full_circle);
        continue;
      }
      const double clon = near_lon(plot.grid.lon[k], mid);
      double lon_lo = clon, lon_hi = clon, lat_lo = clat, lat_hi = clat;
      for (int c = 0; c < 4; ++c) {
        const double la = corners.at_lat(j + dj[c], i + di[c]);
        const double lo = near_lon(corners.at_lon(j + dj[c], i + di[c]), clon);
        lon_lo = std::min(lon_lo, lo);
        lon_hi = std::max(lon_hi, lo);
        lat_lo = std::min(lat_lo, la);
        lat_hi = std::max(lat_hi, la);
        if (polar)
          south_polar(la, lo, px[c], py[c]);
        else {
          px[c] = lo;
          py[c] = la;
        }
      }
      // Degenerate cells (grid folds, the pole) would smear across the map;
      // cells outside the extent need no drawing.
      const bool skip = (lon_hi - lon_lo > 60.0 && std::abs(clat) < 85.0) || lat_hi < e.lat_min ||
                        lat_lo > e.lat_max ||
                        (!polar && !full_circle && (lon_hi < e.lon_min || lon_lo > e.lon_max));
      if (skip) {
        fill_run(pls, run, e, full_circle);
        continue;
      }
      const int colour =
          static_cast<int>(std::lround(255.0 * std::clamp((v - vmin) / (vmax - vmin), 0.0, 1.0)));
      // A run continues only with the same colour across a shared edge (a
      // longitude wrap between the cells breaks it).
      const bool continues = !run.empty() && run.colour == colour &&
                             std::abs(run.top_x.back() - px[0]) < 1e-9 &&
                             std::abs(run.bottom_x.back() - px[3]) < 1e-9;
      if (!continues) {
        fill_run(pls, run, e, full_circle);
        run.colour = colour;
        run.top_x = {px[0]};
        run.top_y = {py[0]};
        run.bottom_x = {px[3]};
        run.bottom_y = {py[3]};
      }
      run.top_x.push_back(px[1]);
      run.top_y.push_back(py[1]);
      run.bottom_x.push_back(px[2]);
      run.bottom_y.push_back(py[2]);
    }
    fill_run(pls, run, e, full_circle);
  }
}

// Blanks what lies outside the circle of radius r in the square window
// [-w, w]^2 (coastlines and the outer corners of edge cells). The polygons
// stay within the window: PLplot's polygon clipping fails for these shapes.
void mask_outside_circle(plstream& pls, double r, double w) {
  constexpr int kArc = 64;
  pls.col0(kBackground);
  for (int q = 0; q < 4; ++q) {
    const double sx = (q == 0 || q == 3) ? 1 : -1, sy = q < 2 ? 1 : -1;
    std::vector<PLFLT> x = {sx * w, sx * w, 0}, y = {0, sy * w, sy * w};
    for (int a = 0; a <= kArc; ++a) {
      const double t = 0.5 * M_PI * a / kArc;
      x.push_back(sx * r * std::sin(t));
      y.push_back(sy * r * std::cos(t));
    }
    pls.fill(static_cast<PLINT>(x.size()), x.data(), y.data());
  }
}

void draw_polar_frame(Canvas& canvas, const MapExtent& e, double r_max) {
  plstream& pls = canvas.pls();
  constexpr int kSteps = 181;
  pls.col0(kGridLine);
  pls.lsty(2);
  for (double lat = -80; lat < e.lat_max - 1; lat += 20) {  // latitude circles
    std::vector<PLFLT> x(kSteps), y(kSteps);
    for (int s = 0; s < kSteps; ++s) south_polar(lat, -180.0 + 2.0 * s, x[s], y[s]);
    pls.line(kSteps, x.data(), y.data());
  }
  for (int lon = -180; lon < 180; lon += 60) {  // meridians
    double x0, y0, x1, y1;
    south_polar(-89.9, lon, x0, y0);
    south_polar(e.lat_max, lon, x1, y1);
    const PLFLT lx[2] = {x0, x1}, ly[2] = {y0, y1};
    pls.line(2, lx, ly);
  }
  pls.lsty(1);
  pls.col0(kForeground);
  std::vector<PLFLT> x(kSteps), y(kSteps);
  for (int s = 0; s < kSteps; ++s) south_polar(e.lat_max, -180.0 + 2.0 * s, x[s], y[s]);
  pls.line(kSteps, x.data(), y.data());
  canvas.text(0.8);
  for (int lon = -180; lon < 180; lon += 60) {
    double lx, ly;
    south_polar(e.lat_max, lon, lx, ly);
    const double grow = 1.0 + 0.07 * r_max / std::hypot(lx, ly);
    const std::string label = lon == 0 || lon == -180
                                  ? concat(std::abs(lon), "#[0x00b0]")
                                  : concat(std::abs(lon), "#[0x00b0]", lon > 0 ? "E" : "W");
    pls.ptex(lx * grow, ly * grow, 1, 0, 0.5, label.c_str());
  }
  for (double lat = -80; lat < e.lat_max - 1; lat += 20) {
    double lx, ly;
    south_polar(lat, 135.0, lx, ly);
    pls.ptex(lx, ly, 1, 0, 0.5, concat(std::abs(lat), "#[0x00b0]S").c_str());
  }
  canvas.text(1.0);
}

}  // namespace

GeoGrid regular_grid(const std::vector<double>& lat, const std::vector<double>& lon) {
  FR_REQUIRE(!lat.empty() && !lon.empty(), "regular grid: ", lat.size(), " latitudes and ",
             lon.size(), " longitudes (both must be non-empty)");
  GeoGrid g;
  g.ny = static_cast<int>(lat.size());
  g.nx = static_cast<int>(lon.size());
  g.lat.reserve(lat.size() * lon.size());
  g.lon.reserve(lat.size() * lon.size());
  for (double la : lat)
    for (double lo : lon) {
      g.lat.push_back(la);
      g.lon.push_back(lo);
    }
  return g;
}

MapExtent extent_of(const GeoGrid& grid, const std::vector<double>& values) {
  FR_REQUIRE(values.size() == grid.lat.size() && values.size() == grid.lon.size(),
             "map extent: ", values.size(), " values for a grid of ", grid.lat.size(), " cells");
  double lat_lo = 90, lat_hi = -90;
  std::vector<double> lons;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k]) || !std::isfinite(grid.lat[k]) || !std::isfinite(grid.lon[k]))
      continue;
    lat_lo = std::min(lat_lo, grid.lat[k]);
    lat_hi = std::max(lat_hi, grid.lat[k]);
    lons.push_back(grid.lon[k] - 360.0 * std::floor(grid.lon[k] / 360.0));  // [0, 360)
  }
  FR_REQUIRE(!lons.empty(), "map extent: every value is NaN");
  std::sort(lons.begin(), lons.end());
  lons.erase(std::unique(lons.begin(), lons.end()), lons.end());
  // The covered arc is the circle minus its largest gap between occupied longitudes.
  double gap = lons.front() + 360.0 - lons.back(), start = lons.front(), end = lons.back();
  for (std::size_t i = 1; i < lons.size(); ++i)
    if (lons[i] - lons[i - 1] > gap) {
      gap = lons[i] - lons[i - 1];
      start = lons[i];
      end = lons[i - 1] + 360.0;
    }
  MapExtent e;
  const double lat_pad = std::max(1.0, 0.03 * (lat_hi - lat_lo));
  e.lat_min = std::max(-90.0, lat_lo - lat_pad);
  e.lat_max = std::min(90.0, lat_hi + lat_pad);
  if (gap < 30.0) {  // (nearly) all longitudes: the whole circle
    e.lon_min = -180;
    e.lon_max = 180;
  } else {
    const double lon_pad = std::max(1.0, 0.03 * (end - start));
    const double width = std::min(360.0, end - start + 2 * lon_pad);
    e.lon_min = start - lon_pad;
    if (e.lon_min >= 180.0) e.lon_min -= 360.0;
    e.lon_max = e.lon_min + width;
  }
  return e;
}

MapProjection projection_for(const MapExtent& extent) {
  const bool circumpolar = extent.lon_max - extent.lon_min > 359.0;
  return circumpolar && extent.lat_max <= -25.0 ? MapProjection::south_polar_stereo
                                                : MapProjection::plate_carree;
}

void plot_maps(const std::string& png_path, const MapPlot& plot) {
  check_map_plot(png_path, plot);
  const auto [vmin, vmax] = colour_range(plot);
  const MapExtent& e = plot.extent;
  const bool polar = plot.projection == MapProjection::south_polar_stereo;

  // Layout in pixels: page title, per panel a title, the map and axis
  // labels, then one colour bar under all panels.
  const int n = static_cast<int>(plot.panels.size());
  const int left = 75, right = 25, title_h = plot.title.empty() ? 10 : 50, panel_title_h = 40,
            axis_h = polar ? 10 : 60, bar_h = 125;
  const int map_w = plot.panel_width - left - right;
  const double aspect =
      polar ? 1.0 : std::clamp((e.lat_max - e.lat_min) / (e.lon_max - e.lon_min), 0.25, 1.5);
  const int map_h = static_cast<int>(std::lround(map_w * aspect));
  const int width = n * plot.panel_width;
  const int height = title_h + panel_title_h + map_h + axis_h + bar_h;

  Canvas canvas(png_path, width, height);
  plstream& pls = canvas.pls();
  canvas.set_colour_map(plot.colour_map == ColourMap::diverging ? Cmap1::diverging
                                                                : Cmap1::sequential);
  const Corners corners = cell_corners(plot.grid);
  const auto fx = [&](double px) { return px / width; };
  const auto fy = [&](double py) { return 1.0 - py / height; };  // from the top

  double r_max = 0, unused = 0;
  if (polar) south_polar(e.lat_max, 0.0, unused, r_max);
  for (int p = 0; p < n; ++p) {
    const double x0 = p * plot.panel_width + left, top = title_h + panel_title_h;
    pls.vpor(fx(x0), fx(x0 + map_w), fy(top + map_h), fy(top));
    if (polar)
      pls.wind(-r_max * kPolarMargin, r_max * kPolarMargin, -r_max * kPolarMargin,
               r_max * kPolarMargin);
    else
      pls.wind(e.lon_min, e.lon_max, e.lat_min, e.lat_max);
    draw_cells(pls, plot, corners, plot.panels[p].values, vmin, vmax);
    pls.col0(kForeground);
    if (polar) {
      if (plot.coastlines) pls.map(south_polar_mapform, "globe", -180, 180, -90, e.lat_max);
      // Just inside the window: PLplot's polygon clipping can invert a mask
      // whose edges lie on the clip boundary (seen as a blank last panel).
      mask_outside_circle(pls, r_max, 0.999 * r_max * kPolarMargin);
      draw_polar_frame(canvas, e, r_max);
    } else {
      if (plot.coastlines) pls.map(nullptr, "globe", e.lon_min, e.lon_max, e.lat_min, e.lat_max);
      pls.col0(kForeground);
      pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
      pls.mtex("b", 2.8, 0.5, 0.5, "Longitude (#[0x00b0]E)");
      pls.mtex("l", 3.6, 0.5, 0.5, "Latitude (#[0x00b0]N)");
    }
    canvas.text(1.1);
    pls.mtex("t", 1.0, 0.5, 0.5, plot.panels[p].title.c_str());
    canvas.text(1.0);
  }
  const double bar_w = std::min(0.7 * width, 900.0);
  const double bar_top = height - bar_h + 30;
  draw_colour_bar(canvas, fx(0.5 * (width - bar_w)), fx(0.5 * (width + bar_w)), fy(bar_top + 22),
                  fy(bar_top), vmin, vmax, plot.units, false);
  draw_page_title(canvas, plot.title);
  canvas.finish();
}

}  // namespace fluxrecon::plot
