// Heat maps, beeswarm summaries and category maps (the explanations' figures).
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "plot/plot_canvas.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::plot {
using namespace detail;

void plot_heatmap(const std::string& png_path, const HeatMap& plot) {
  const auto nr = plot.rows.size(), nc = plot.columns.size();
  require_input(nr > 0 && nc > 0, png_path, "heat map has no rows or no columns");
  require_input(
      plot.values.size() == nr * nc, png_path,
      concat("heat map has ", plot.values.size(), " values for ", nr, " x ", nc, " cells"));
  double lo = INFINITY, hi = -INFINITY;
  for (double v : plot.values)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  require_input(std::isfinite(lo), png_path, "every heat map value is NaN");
  if (plot.diverging) {
    hi = std::max(std::fabs(lo), std::fabs(hi));
    lo = -hi;
  }
  if (hi == lo) hi = lo + 1.0;
  Canvas canvas(png_path, plot.width, plot.height);
  plstream& pls = canvas.pls();
  canvas.set_colour_map(plot.diverging ? Cmap1::diverging : Cmap1::sequential);
  pls.vpor(0.26, 0.8, 0.1, 0.88);
  pls.wind(0, static_cast<double>(nc), 0, static_cast<double>(nr));
  canvas.text(nc > 6 ? 0.7 : 0.9);
  for (std::size_t r = 0; r < nr; ++r)
    for (std::size_t c = 0; c < nc; ++c) {
      const double v = plot.values[r * nc + c];
      // Row 0 at the top, as the table reads.
      const double x0 = static_cast<double>(c), y0 = static_cast<double>(nr - 1 - r);
      const PLFLT px[4] = {x0, x0 + 1, x0 + 1, x0}, py[4] = {y0, y0, y0 + 1, y0 + 1};
      if (std::isfinite(v)) {
        pls.col1((v - lo) / (hi - lo));
        pls.fill(4, px, py);
        if (plot.value_labels) {
          pls.col0(kForeground);
          pls.ptex(x0 + 0.5, y0 + 0.4, 1, 0, 0.5, format_number(v, 2).c_str());
        }
      }
    }
  canvas.text(1.0);
  pls.col0(kForeground);
  pls.box("bc", 0, 0, "bc", 0, 0);
  for (std::size_t c = 0; c < nc; ++c)
    pls.mtex("b", 1.5, (static_cast<double>(c) + 0.5) / static_cast<double>(nc), 0.5,
             plot.columns[c].c_str());
  for (std::size_t r = 0; r < nr; ++r)
    pls.mtex("lv", 0.8, 1.0 - (static_cast<double>(r) + 0.5) / static_cast<double>(nr), 1.0,
             plot.rows[r].c_str());
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(1.0);
  draw_colour_bar(canvas, 0.85, 0.88, 0.1, 0.88, lo, hi, plot.units, false);
  canvas.finish();
}

void plot_beeswarm(const std::string& png_path, const Beeswarm& plot) {
  const auto nr = plot.rows.size();
  require_input(nr > 0, png_path, "beeswarm has no rows");
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& r : plot.rows) {
    require_input(r.colour.size() == r.values.size(), png_path,
                  concat("beeswarm row '", r.name, "' has ", r.colour.size(), " colours for ",
                         r.values.size(), " values"));
    for (double v : r.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  require_input(std::isfinite(lo), png_path, "every beeswarm value is NaN");
  if (hi == lo) hi = lo + 1.0;
  const double pad = 0.05 * (hi - lo);
  const int height = plot.height > 0 ? plot.height : std::max(400, 120 + 34 * static_cast<int>(nr));
  Canvas canvas(png_path, plot.width, height);
  plstream& pls = canvas.pls();
  canvas.set_colour_map(Cmap1::diverging);
  pls.vpor(0.25, 0.86, 0.1, 0.92);
  pls.wind(lo - pad, hi + pad, 0, static_cast<double>(nr));
  pls.col0(kGridLine);
  pls.box("g", 0, 0, "", 0, 0);
  const PLFLT zx[2] = {0, 0}, zy[2] = {0, static_cast<double>(nr)};
  pls.col0(kForeground);
  if (lo - pad < 0 && hi + pad > 0) pls.line(2, zx, zy);
  canvas.text(0.5);
  for (std::size_t r = 0; r < nr; ++r) {
    const auto& row = plot.rows[r];
    // Colours scaled to the row's own range (inputs differ in scale).
    double clo = INFINITY, chi = -INFINITY;
    for (double c : row.colour)
      if (std::isfinite(c)) {
        clo = std::min(clo, c);
        chi = std::max(chi, c);
      }
    // Dots in 60 bins across the axis stack up and down from the row's centre.
    std::vector<int> crowd(60, 0);
    const double centre = static_cast<double>(nr - 1 - r) + 0.5;
    for (std::size_t i = 0; i < row.values.size(); ++i) {
      const double v = row.values[i];
      if (!std::isfinite(v)) continue;
      const auto bin = static_cast<std::size_t>(std::clamp((v - lo) / (hi - lo) * 59.0, 0.0, 59.0));
      const int k = crowd[bin]++;
      const double offset = std::min(0.42, 0.035 * ((k + 1) / 2)) * (k % 2 ? 1 : -1);
      const PLFLT x = v, y = centre + offset;
      const double c = row.colour[i];
      if (std::isfinite(c) && chi > clo) {
        pls.col1((c - clo) / (chi - clo));
      } else {
        pls.col0(kGridLine);
      }
      pls.string(1, &x, &y, "#[0x25cf]");
    }
  }
  canvas.text(1.0);
  pls.col0(kForeground);
  pls.box("bcnst", 0, 0, "bc", 0, 0);
  for (std::size_t r = 0; r < nr; ++r)
    pls.mtex("lv", 0.8, 1.0 - (static_cast<double>(r) + 0.5) / static_cast<double>(nr), 1.0,
             plot.rows[r].name.c_str());
  pls.mtex("b", 3.0, 0.5, 0.5, plot.xlabel.c_str());
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(1.0);
  draw_colour_bar(canvas, 0.9, 0.92, 0.1, 0.92, 0.0, 1.0, plot.colour_label, false);
  canvas.finish();
}

void plot_category_map(const std::string& png_path, const CategoryMap& plot) {
  const auto n = plot.lat.size();
  require_input(plot.lon.size() == n && plot.category.size() == n, png_path,
                concat("category map has ", n, " latitudes, ", plot.lon.size(), " longitudes and ",
                       plot.category.size(), " categories"));
  std::vector<std::size_t> count(plot.names.size(), 0);
  double lat_lo = 90, lat_hi = -90, lon_lo = 180, lon_hi = -180;
  std::vector<double> lon(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int k = plot.category[i];
    require_input(
        k < static_cast<int>(plot.names.size()), png_path,
        concat("category map: point ", i, " has category ", k, " of ", plot.names.size()));
    require_input(std::isfinite(plot.lat[i]) && std::isfinite(plot.lon[i]), png_path,
                  concat("category map: point ", i, " has no finite position"));
    lon[i] = std::remainder(plot.lon[i], 360.0);  // -180..180
    if (k < 0) continue;
    ++count[static_cast<std::size_t>(k)];
    lat_lo = std::min(lat_lo, plot.lat[i]);
    lat_hi = std::max(lat_hi, plot.lat[i]);
    lon_lo = std::min(lon_lo, lon[i]);
    lon_hi = std::max(lon_hi, lon[i]);
  }
  require_input(lat_lo <= lat_hi, png_path, "category map has no point to draw");
  // The categories by frequency: the first kSeriesCount - 1 get their own colour.
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < count.size(); ++k)
    if (count[k] > 0) order.push_back(k);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return count[a] > count[b]; });
  const std::size_t own = order.size() <= kSeriesCount ? order.size() : kSeriesCount - 1;
  std::vector<int> slot(plot.names.size(), static_cast<int>(own));  // own = "other"
  for (std::size_t r = 0; r < own; ++r) slot[order[r]] = static_cast<int>(r);

  const double pad_lat = std::max(2.0, 0.05 * (lat_hi - lat_lo)),
               pad_lon = std::max(2.0, 0.05 * (lon_hi - lon_lo));
  Canvas canvas(png_path, plot.width, plot.height);
  plstream& pls = canvas.pls();
  pls.vpor(0.08, 0.74, 0.12, 0.9);
  pls.wind(std::max(-180.0, lon_lo - pad_lon), std::min(180.0, lon_hi + pad_lon),
           std::max(-90.0, lat_lo - pad_lat), std::min(90.0, lat_hi + pad_lat));
  pls.col0(kGridLine);
  pls.box("g", 0, 0, "g", 0, 0);
  canvas.text(0.6);
  for (std::size_t i = 0; i < n; ++i) {
    const int k = plot.category[i];
    if (k < 0) continue;
    pls.col0(series_colour(static_cast<std::size_t>(slot[static_cast<std::size_t>(k)])));
    const PLFLT x = lon[i], y = plot.lat[i];
    pls.string(1, &x, &y, "#[0x25cf]");
  }
  canvas.text(1.0);
  pls.col0(kForeground);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  pls.mtex("b", 3.0, 0.5, 0.5, "longitude (degrees east)");
  pls.mtex("l", 4.5, 0.5, 0.5, "latitude (degrees north)");
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(0.9);
  const std::size_t rows = own + (order.size() > own ? 1 : 0);
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t points = 0;
    std::string name = "other";
    if (r < own) {
      name = plot.names[order[r]];
      points = count[order[r]];
    } else {
      for (std::size_t q = own; q < order.size(); ++q) points += count[order[q]];
    }
    pls.col0(series_colour(r));
    pls.mtex("rv", 1.5, 1.0 - (static_cast<double>(r) + 0.5) / 14.0, 0.0,
             concat("#[0x25cf] ", name, " (", points, ")").c_str());
  }
  canvas.finish();
}

}  // namespace fluxrecon::plot
