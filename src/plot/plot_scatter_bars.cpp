// Density scatter (2-D histogram, log colour) with 1:1 line, least-squares
// fit and R^2; grouped bar charts for comparing models.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "plot/plot_canvas.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::plot {
namespace {
using namespace detail;

// One legend box in the current viewport; entries are lines or plain text.
struct LegendEntry {
  std::string text;
  int colour = -1;  // cmap0 index of the line or box; -1 = text only
  int style = 1;    // line style
  bool box = false;
};

void draw_entries(Canvas& canvas, const std::vector<LegendEntry>& entries, PLINT position,
                  double line_length = 0.08) {
  plstream& pls = canvas.pls();
  const auto n = entries.size();
  std::vector<PLINT> opts(n), text_colours(n, kForeground), box_colours(n, 0), patterns(n, 0),
      line_colours(n, 0), line_styles(n, 1), symbol_colours(n, 0), symbol_numbers(n, 1);
  std::vector<PLFLT> box_scales(n, 0.8), box_widths(n, 1.0), line_widths(n, 2.0),
      symbol_scales(n, 1.0);
  std::vector<const char*> text(n), symbols(n, "");
  for (std::size_t i = 0; i < n; ++i) {
    const LegendEntry& e = entries[i];
    text[i] = e.text.c_str();
    if (e.colour < 0)
      opts[i] = PL_LEGEND_NONE;
    else if (e.box) {
      opts[i] = PL_LEGEND_COLOR_BOX;
      box_colours[i] = e.colour;
    } else {
      opts[i] = PL_LEGEND_LINE;
      line_colours[i] = e.colour;
      line_styles[i] = e.style;
    }
  }
  PLFLT w = 0, h = 0;
  pls.legend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position, 0.02, 0.02,
             line_length, kBackground, kForeground, 1, 0, 0, static_cast<PLINT>(n), opts.data(),
             1.0, canvas.text_scale(0.85), 2.0, 0.0, text_colours.data(), text.data(),
             box_colours.data(), patterns.data(), box_scales.data(), box_widths.data(),
             line_colours.data(), line_styles.data(), line_widths.data(), symbol_colours.data(),
             symbol_scales.data(), symbol_numbers.data(), symbols.data());
}

std::string signed_term(double v) {
  return concat(v < 0 ? " - " : " + ", format_number(std::abs(v), 3));
}

}  // namespace

ScatterFit plot_density_scatter(const std::string& png_path, const DensityScatter& plot) {
  require_input(
      plot.x.size() == plot.y.size(), png_path,
      concat("scatter has ", plot.x.size(), " x values but ", plot.y.size(), " y values"));
  require_input(plot.bins >= 10 && plot.bins <= 1000, png_path,
                concat("bins = ", plot.bins, " is outside 10..1000"));
  if (plot.range_min && plot.range_max)
    require_input(*plot.range_min < *plot.range_max, png_path,
                  concat("axis range [", *plot.range_min, ", ", *plot.range_max, "] is empty"));

  // Fit over the finite pairs, in double with centred sums.
  ScatterFit fit;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < plot.x.size(); ++i)
    if (std::isfinite(plot.x[i]) && std::isfinite(plot.y[i])) {
      ++fit.points;
      mx += plot.x[i];
      my += plot.y[i];
    }
  require_input(fit.points >= 2, png_path,
                concat("scatter needs at least 2 finite (x, y) pairs, got ", fit.points));
  mx /= static_cast<double>(fit.points);
  my /= static_cast<double>(fit.points);
  double sxx = 0, sxy = 0, sse = 0;
  for (std::size_t i = 0; i < plot.x.size(); ++i)
    if (std::isfinite(plot.x[i]) && std::isfinite(plot.y[i])) {
      const double dx = plot.x[i] - mx, dy = plot.y[i] - my, e = plot.y[i] - plot.x[i];
      sxx += dx * dx;
      sxy += dx * dy;
      sse += e * e;
    }
  require_input(sxx > 0, png_path, "every x value is the same: no fit and no R^2");
  fit.slope = sxy / sxx;
  fit.intercept = my - fit.slope * mx;
  fit.r2 = 1.0 - sse / sxx;

  // Shared square axis range.
  std::vector<double> both(plot.x);
  both.insert(both.end(), plot.y.begin(), plot.y.end());
  double lo = plot.range_min ? *plot.range_min : percentile(both, 0.1);
  double hi = plot.range_max ? *plot.range_max : percentile(both, 99.9);
  if (!(hi > lo)) hi = lo + 1.0;
  if (!plot.range_min || !plot.range_max) {
    const double pad = 0.03 * (hi - lo);
    if (!plot.range_min) lo -= pad;
    if (!plot.range_max) hi += pad;
  }
  const int nb = plot.bins;
  const double step = (hi - lo) / nb;
  std::vector<long long> count(static_cast<std::size_t>(nb) * nb, 0);
  long long max_count = 0;
  for (std::size_t i = 0; i < plot.x.size(); ++i) {
    if (!std::isfinite(plot.x[i]) || !std::isfinite(plot.y[i])) continue;
    const double bx = (plot.x[i] - lo) / step, by = (plot.y[i] - lo) / step;
    if (bx < 0 || by < 0 || bx >= nb || by >= nb) continue;
    auto& c = count[static_cast<std::size_t>(by) * nb + static_cast<std::size_t>(bx)];
    max_count = std::max(max_count, ++c);
  }
  const double log_max = std::max(1.0, std::log10(static_cast<double>(std::max(1LL, max_count))));

  Canvas canvas(png_path, plot.width, plot.height);
  plstream& pls = canvas.pls();
  canvas.set_colour_map(Cmap1::density);
  pls.vpas(0.1, 0.8, 0.11, 0.9, 1.0);
  pls.wind(lo, hi, lo, hi);
  pls.col0(kGridLine);
  pls.box("g", 0, 0, "g", 0, 0);
  for (int j = 0; j < nb; ++j)
    for (int i = 0; i < nb; ++i) {
      const long long c = count[static_cast<std::size_t>(j) * nb + i];
      if (c == 0) continue;
      const PLFLT x0 = lo + i * step, y0 = lo + j * step;
      const PLFLT px[4] = {x0, x0 + step, x0 + step, x0}, py[4] = {y0, y0, y0 + step, y0 + step};
      pls.col1(std::log10(static_cast<double>(c)) / log_max);
      pls.fill(4, px, py);
    }
  const PLFLT diag[2] = {lo, hi};
  const PLFLT fit_y[2] = {fit.slope * lo + fit.intercept, fit.slope * hi + fit.intercept};
  pls.width(2.0);
  pls.lsty(2);
  pls.col0(kReference);
  pls.line(2, diag, diag);
  pls.lsty(1);
  pls.col0(kFitLine);
  pls.line(2, diag, fit_y);
  pls.width(1.0);
  pls.col0(kForeground);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  pls.lab(plot.xlabel.c_str(), plot.ylabel.c_str(), "");
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(1.0);
  draw_entries(
      canvas,
      {{"1:1 line", kReference, 2, false},
       {concat("Least-squares fit: y = ", format_number(fit.slope, 3), "x",
               signed_term(fit.intercept)),
        kFitLine, 1, false},
       {concat("R#u2#d = ", format_number(fit.r2, 3), "   (N = ", fit.points, ")"), -1, 1, false}},
      PL_POSITION_INSIDE | PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_VIEWPORT);
  PLFLT vx0, vx1, vy0, vy1;
  pls.gvpd(vx0, vx1, vy0, vy1);
  draw_colour_bar(canvas, vx1 + 0.03, vx1 + 0.06, vy0, vy1, 0.0, log_max, "Points per bin", true);
  canvas.finish();
  return fit;
}

void plot_bars(const std::string& png_path, const BarChart& plot) {
  require_input(!plot.groups.empty(), png_path, "bar chart has no groups");
  require_input(!plot.series.empty(), png_path, "bar chart has no series");
  double lo = 0, hi = 0;
  bool any = false;
  for (const auto& s : plot.series) {
    require_input(s.values.size() == plot.groups.size(), png_path,
                  concat("series '", s.name, "' has ", s.values.size(), " values for ",
                         plot.groups.size(), " groups"));
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      any = true;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  require_input(any, png_path, "every bar value is NaN");
  if (hi == lo) hi = 1.0;
  const double pad = 0.12 * (hi - lo);
  if (lo < 0) lo -= pad;
  hi = hi > 0 ? hi + pad : hi;

  const auto ng = plot.groups.size(), ns = plot.series.size();
  Canvas canvas(png_path, plot.width, plot.height);
  plstream& pls = canvas.pls();
  pls.vpor(0.1, 0.74, 0.14, 0.88);
  pls.wind(0.5, static_cast<double>(ng) + 0.5, lo, hi);
  pls.col0(kGridLine);
  pls.box("", 0, 0, "g", 0, 0);
  const double bar = 0.8 / static_cast<double>(ns);
  for (std::size_t s = 0; s < ns; ++s)
    for (std::size_t g = 0; g < ng; ++g) {
      const double v = plot.series[s].values[g];
      if (!std::isfinite(v)) continue;
      const double x0 = static_cast<double>(g) + 1.0 - 0.4 + static_cast<double>(s) * bar;
      const PLFLT px[4] = {x0, x0 + bar, x0 + bar, x0}, py[4] = {0, 0, v, v};
      pls.col0(series_colour(s));
      pls.fill(4, px, py);
      pls.col0(kForeground);
      const PLFLT ox[5] = {x0, x0 + bar, x0 + bar, x0, x0}, oy[5] = {0, 0, v, v, 0};
      pls.line(5, ox, oy);
      if (plot.value_labels) {
        canvas.text(ns > 4 ? 0.55 : 0.7);
        const double off = 0.015 * (hi - lo);
        pls.ptex(x0 + 0.5 * bar, v >= 0 ? v + off : v - 3 * off, 1, 0, 0.5,
                 format_number(v, 3).c_str());
        canvas.text(1.0);
      }
    }
  const PLFLT zx[2] = {0.5, static_cast<double>(ng) + 0.5}, zy[2] = {0, 0};
  pls.col0(kForeground);
  pls.line(2, zx, zy);
  pls.box("bc", 0, 0, "bcnstv", 0, 0);
  for (std::size_t g = 0; g < ng; ++g)
    pls.mtex("b", 1.5, (static_cast<double>(g) + 0.5) / static_cast<double>(ng), 0.5,
             plot.groups[g].c_str());
  pls.mtex("l", 4.5, 0.5, 0.5, plot.ylabel.c_str());
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(1.0);
  std::vector<LegendEntry> entries;
  for (std::size_t s = 0; s < ns; ++s)
    entries.push_back({plot.series[s].name, series_colour(s), 1, true});
  draw_entries(canvas, entries, PL_POSITION_OUTSIDE | PL_POSITION_RIGHT | PL_POSITION_VIEWPORT,
               0.04);
  canvas.finish();
}

}  // namespace fluxrecon::plot
