// Line plots: named series with optional +-1 std bands, legend, log y.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "plot/plot_canvas.hpp"
#include "plot/plots.hpp"

namespace fluxrecon::plot {
namespace {
using namespace detail;

constexpr const char* kDot = "#[0x25cf]";

void check_line_plot(const std::string& path, const LinePlot& plot) {
  require_input(!plot.series.empty(), path, "no series to plot");
  bool any_finite = false;
  for (const auto& s : plot.series) {
    const std::string name = concat("series '", s.name, "'");
    require_input(!s.x.empty(), path, name + " is empty");
    require_input(s.x.size() == s.y.size(), path,
                  concat(name, " has ", s.x.size(), " x values but ", s.y.size(), " y values"));
    require_input(s.std.empty() || s.std.size() == s.y.size(), path,
                  concat(name, " has ", s.std.size(), " std values for ", s.y.size(), " points"));
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      require_input(std::isfinite(s.x[i]), path, concat(name, " has x[", i, "] = ", s.x[i]));
      if (!std::isfinite(s.y[i])) continue;
      any_finite = true;
      require_input(!plot.log_y || s.y[i] > 0, path,
                    concat(name, " has y[", i, "] = ", s.y[i], " on a log axis (must be > 0)"));
      if (!s.std.empty())
        require_input(std::isfinite(s.std[i]) && s.std[i] >= 0, path,
                      concat(name, " has std[", i, "] = ", s.std[i], " (must be >= 0)"));
    }
  }
  require_input(any_finite, path, "every y value is NaN");
  for (const auto& v : plot.vertical_lines)
    require_input(std::isfinite(v.x), path,
                  concat("vertical line '", v.label, "' is at x = ", v.x));
}

// Calls body(begin, end) for each run of consecutive points with a finite y.
template <class Body>
void for_each_run(const Series& s, Body body) {
  std::size_t i = 0;
  while (i < s.y.size()) {
    while (i < s.y.size() && !std::isfinite(s.y[i])) ++i;
    std::size_t j = i;
    while (j < s.y.size() && std::isfinite(s.y[j])) ++j;
    if (j > i) body(i, j);
    i = j;
  }
}

// The plot corner (0 TR, 1 TL, 2 BR, 3 BL) holding the fewest points, for the legend.
PLINT quiet_corner(const LinePlot& plot, double x0, double x1, double y0, double y1) {
  int count[4] = {0, 0, 0, 0};
  for (const auto& s : plot.series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const double y = plot.log_y ? std::log10(s.y[i]) : s.y[i];
      const double u = (s.x[i] - x0) / (x1 - x0), v = (y - y0) / (y1 - y0);
      const bool right = u > 0.6, left = u<0.4, top = v> 0.65, bottom = v < 0.35;
      count[0] += right && top;
      count[1] += left && top;
      count[2] += right && bottom;
      count[3] += left && bottom;
    }
  const int best = static_cast<int>(std::min_element(count, count + 4) - count);
  const PLINT where[4] = {PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_TOP | PL_POSITION_LEFT,
                          PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
                          PL_POSITION_BOTTOM | PL_POSITION_LEFT};
  return where[best] | PL_POSITION_INSIDE | PL_POSITION_VIEWPORT;
}

void draw_legend(Canvas& canvas, const LinePlot& plot, PLINT position) {
  plstream& pls = canvas.pls();
  std::vector<std::string> labels;
  std::vector<PLINT> opts, text_colours, box_colours, box_patterns, line_colours, line_styles,
      symbol_colours, symbol_numbers;
  std::vector<PLFLT> box_scales, box_widths, line_widths, symbol_scales;
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const Series& s = plot.series[i];
    if (s.name.empty()) continue;
    labels.push_back(s.name);
    opts.push_back(PL_LEGEND_LINE | (s.markers ? PL_LEGEND_SYMBOL : 0));
    box_colours.push_back(0);
    box_patterns.push_back(0);
    box_scales.push_back(0.0);
    box_widths.push_back(0.0);
    line_colours.push_back(series_colour(i));
    symbol_colours.push_back(series_colour(i));
    if (!s.std.empty()) {
      labels.push_back(s.name + " #[0x00b1] 1 std");
      opts.push_back(PL_LEGEND_COLOR_BOX);
      box_colours.push_back(band_colour(i));
      box_patterns.push_back(0);
      box_scales.push_back(0.8);
      box_widths.push_back(1.0);
      line_colours.push_back(0);
      symbol_colours.push_back(0);
    }
  }
  const std::size_t n_series = labels.size();
  for (const auto& v : plot.vertical_lines) {
    if (v.label.empty()) continue;
    labels.push_back(v.label);
    opts.push_back(PL_LEGEND_LINE);
    box_colours.push_back(0);
    box_patterns.push_back(0);
    box_scales.push_back(0.0);
    box_widths.push_back(0.0);
    line_colours.push_back(kForeground);
    symbol_colours.push_back(0);
  }
  if (labels.empty()) return;
  const auto n = labels.size();
  text_colours.assign(n, kForeground);
  line_styles.assign(n, 1);
  for (std::size_t i = n_series; i < n; ++i) line_styles[i] = 2;  // dashed
  line_widths.assign(n, 2.0);
  symbol_numbers.assign(n, 1);
  symbol_scales.assign(n, 0.7);
  std::vector<const char*> text(n), symbols(n, kDot);
  for (std::size_t i = 0; i < n; ++i) text[i] = labels[i].c_str();
  PLFLT legend_width = 0, legend_height = 0;
  pls.legend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position,
             0.02, 0.03, 0.08, kBackground, kForeground, 1, 0, 0, static_cast<PLINT>(n),
             opts.data(), 1.0, canvas.text_scale(0.9), 2.0, 0.0, text_colours.data(), text.data(),
             box_colours.data(), box_patterns.data(), box_scales.data(), box_widths.data(),
             line_colours.data(), line_styles.data(), line_widths.data(), symbol_colours.data(),
             symbol_scales.data(), symbol_numbers.data(), symbols.data());
}

}  // namespace

double integer_tick_step(double span) {
  double step = 1;
  for (double decade = 1;; decade *= 10)
    for (double m : {1.0, 2.0, 5.0}) {
      step = m * decade;
      if (span / step <= 8.0) return step;
    }
}

void plot_lines(const std::string& png_path, const LinePlot& plot) {
  check_line_plot(png_path, plot);
  const auto to_axis = [&](double y) { return plot.log_y ? std::log10(y) : y; };

  // Data range, bands included (on a log axis a band is cut at the smallest y).
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : plot.series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      if (!std::isfinite(s.y[i])) continue;
      const double sd = s.std.empty() ? 0.0 : s.std[i];
      y0 = std::min(y0, to_axis(plot.log_y ? s.y[i] : s.y[i] - sd));
      y1 = std::max(y1, to_axis(s.y[i] + sd));
    }
  for (const auto& v : plot.vertical_lines) {
    x0 = std::min(x0, v.x);
    x1 = std::max(x1, v.x);
  }
  if (!plot.x_tick_labels.empty()) {
    x0 = std::min(x0, 1.0) - 0.5;
    x1 = std::max(x1, static_cast<double>(plot.x_tick_labels.size())) + 0.5;
  } else if (x1 == x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  const double ypad = y1 > y0 ? 0.06 * (y1 - y0) : std::max(0.5, std::abs(y0) * 0.1);
  y0 -= ypad;
  y1 += ypad;

  Canvas canvas(png_path, plot.width, plot.height);
  plstream& pls = canvas.pls();
  pls.vsta();
  pls.wind(x0, x1, y0, y1);
  const bool categorical = !plot.x_tick_labels.empty();
  const char* yopt = plot.log_y ? "bclnstv" : "bcnstv";
  pls.col0(kGridLine);
  const double xtick = categorical ? 1.0 : plot.integer_x ? integer_tick_step(x1 - x0) : 0.0;
  const PLINT xsub = categorical || (plot.integer_x && xtick == 1.0) ? 1 : 0;
  pls.box("g", xtick, xsub, plot.log_y ? "gl" : "g", 0, 0);

  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    if (s.std.empty()) continue;
    pls.col0(band_colour(k));
    for_each_run(s, [&](std::size_t b, std::size_t e) {
      std::vector<PLFLT> px, py;
      for (std::size_t i = b; i < e; ++i) {
        px.push_back(s.x[i]);
        py.push_back(std::min(y1, to_axis(s.y[i] + s.std[i])));
      }
      for (std::size_t i = e; i-- > b;) {
        px.push_back(s.x[i]);
        const double low = s.y[i] - s.std[i];
        py.push_back(plot.log_y && low <= 0 ? y0 : std::max(y0, to_axis(low)));
      }
      if (px.size() >= 3) pls.fill(static_cast<PLINT>(px.size()), px.data(), py.data());
    });
  }
  pls.width(2.0);
  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    pls.col0(series_colour(k));
    for_each_run(s, [&](std::size_t b, std::size_t e) {
      std::vector<PLFLT> px(s.x.begin() + static_cast<std::ptrdiff_t>(b),
                            s.x.begin() + static_cast<std::ptrdiff_t>(e));
      std::vector<PLFLT> py;
      for (std::size_t i = b; i < e; ++i) py.push_back(to_axis(s.y[i]));
      if (px.size() >= 2) pls.line(static_cast<PLINT>(px.size()), px.data(), py.data());
      if (s.markers || px.size() == 1) {
        canvas.text(0.6);
        pls.string(static_cast<PLINT>(px.size()), px.data(), py.data(), kDot);
        canvas.text(1.0);
      }
    });
  }
  pls.col0(kForeground);
  pls.lsty(2);
  for (const auto& v : plot.vertical_lines) {
    const PLFLT vx[2] = {v.x, v.x}, vy[2] = {y0, y1};
    pls.line(2, vx, vy);
  }
  pls.lsty(1);
  pls.width(1.0);
  pls.box(categorical ? "bcst" : "bcnst", xtick, xsub, yopt, 0, 0);
  for (std::size_t i = 0; i < plot.x_tick_labels.size(); ++i) {
    const double pos = (static_cast<double>(i + 1) - x0) / (x1 - x0);
    pls.mtex("b", 1.6, pos, 0.5, plot.x_tick_labels[i].c_str());
  }
  pls.lab(plot.xlabel.c_str(), plot.ylabel.c_str(), "");
  canvas.text(1.2);
  pls.mtex("t", 1.5, 0.5, 0.5, plot.title.c_str());
  canvas.text(1.0);
  draw_legend(canvas, plot, quiet_corner(plot, x0, x1, y0, y1));
  canvas.finish();
}

}  // namespace fluxrecon::plot
