// A small plotting layer over PLplot (pngcairo driver): line plots, filled
// lat/lon maps, density scatter plots and grouped bar charts, each written as
// one PNG file through a temporary name that is renamed when complete.
//
// Every function is rank-local (call it on one rank), checks its inputs and
// throws a fluxrecon::Error naming the output file and the offending series,
// panel or value before anything is drawn (PLplot itself exits the process on
// errors, so nothing invalid may reach it).
//
// Text passes through PLplot's escape sequences: "#u" / "#d" raise / lower
// (e.g. "mol m#u-2#d s#u-1#d"), "#[0x25cf]" is a unicode glyph.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fluxrecon::plot {

// ---------------------------------------------------------------- lines

struct Series {
  std::string name;         // legend entry
  std::vector<double> x;    // finite
  std::vector<double> y;    // NaN breaks the line (a gap)
  std::vector<double> std;  // optional: +-1 std band around y (empty = none)
  bool markers = false;     // a dot at every point as well as the line
};

struct LinePlot {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<Series> series;
  bool log_y = false;  // every plotted y (and y - std) must then be > 0
  // Optional labels at x = 1, 2, ... (e.g. month names); empty = numeric axis.
  std::vector<std::string> x_tick_labels;
  // x counts whole units (years, epochs): ticks on integers only, so that a
  // short range is not labelled at fractions printed as whole numbers.
  bool integer_x = false;
  // Dashed vertical lines at x with a legend entry each (e.g. the best epoch).
  struct VerticalLine {
    double x = 0;
    std::string label;
  };
  std::vector<VerticalLine> vertical_lines;
  int width = 1000;  // pixels
  int height = 650;
};

void plot_lines(const std::string& png_path, const LinePlot& plot);

// The tick interval of an integer axis spanning `span` units: 1, 2 or 5 x 10^k,
// the smallest that gives at most about 8 intervals (at least 1).
double integer_tick_step(double span);

// ---------------------------------------------------------------- maps

// Cell centres of a 2-D grid, row-major [y][x]: curvilinear (ORCA nav_lat /
// nav_lon) or regular (see regular_grid). Longitudes in any convention.
struct GeoGrid {
  int ny = 0;
  int nx = 0;
  std::vector<double> lat;
  std::vector<double> lon;
};
// The 2-D grid of a regular lat/lon grid given by its 1-D axes.
GeoGrid regular_grid(const std::vector<double>& lat, const std::vector<double>& lon);

enum class MapProjection {
  plate_carree,       // longitude/latitude box of `extent`
  south_polar_stereo  // circumpolar view from the pole to extent.lat_max
};

// Longitude range in any convention with lon_min < lon_max <= lon_min + 360.
struct MapExtent {
  double lon_min = -180, lon_max = 180, lat_min = -90, lat_max = 90;
};

enum class ColourMap {
  sequential,  // perceptually ordered (viridis-like) for fields
  diverging    // blue-white-red centred on zero for differences
};

struct MapPanel {
  std::string title;
  std::vector<double> values;  // ny * nx, NaN = blank (land, outside the region)
};

struct MapPlot {
  std::string title;  // above all panels
  std::string units;  // colour bar label
  GeoGrid grid;
  std::vector<MapPanel> panels;  // side by side, one colour scale
  MapProjection projection = MapProjection::plate_carree;
  MapExtent extent;
  ColourMap colour_map = ColourMap::sequential;
  // Colour range; unset = 2nd-98th percentile of all panels (sequential) or
  // +-98th percentile of |value| (diverging). Values beyond it take the end
  // colours.
  std::optional<double> vmin, vmax;
  bool coastlines = true;
  int panel_width = 700;  // pixels per panel
};

void plot_maps(const std::string& png_path, const MapPlot& plot);

// The extent that holds the finite cells of `values` with a small margin
// (longitudes kept contiguous across the dateline when that is shorter).
MapExtent extent_of(const GeoGrid& grid, const std::vector<double>& values);
// South polar stereographic for a circumpolar extent south of 25S (the
// Southern Ocean), plate carree otherwise.
MapProjection projection_for(const MapExtent& extent);

// ---------------------------------------------------------------- scatter

struct DensityScatter {
  std::string title;
  std::string xlabel;  // simulated
  std::string ylabel;  // reconstructed
  std::vector<double> x;
  std::vector<double> y;  // pairs with a NaN are skipped
  int bins = 150;         // per axis
  // Axis range shared by x and y (square plot, 1:1 line on the diagonal);
  // unset = 0.1st-99.9th percentile of both.
  std::optional<double> range_min, range_max;
  int width = 900;
  int height = 800;
};

// Least-squares fit y = slope * x + intercept over the plotted pairs and the
// coefficient of determination of y as a prediction of x
// (1 - sum (y - x)^2 / sum (x - mean x)^2, the seed's r2_score(x, y)).
struct ScatterFit {
  double slope = 0, intercept = 0, r2 = 0;
  long long points = 0;
};

ScatterFit plot_density_scatter(const std::string& png_path, const DensityScatter& plot);

// ---------------------------------------------------------------- bars

struct BarSeries {
  std::string name;            // legend entry (e.g. the model)
  std::vector<double> values;  // one per group; NaN = no bar
};

struct BarChart {
  std::string title;
  std::string ylabel;
  std::vector<std::string> groups;  // x categories (e.g. regions or metrics)
  std::vector<BarSeries> series;
  bool value_labels = true;  // print each value above its bar
  int width = 1000;
  int height = 600;
};

void plot_bars(const std::string& png_path, const BarChart& plot);

// ---------------------------------------------------------------- heat maps

// A table of values as coloured cells (e.g. variable x month of a window).
struct HeatMap {
  std::string title;
  std::string units;                 // colour bar label
  std::vector<std::string> rows;     // top to bottom
  std::vector<std::string> columns;  // left to right
  std::vector<double> values;        // rows x columns, row-major; NaN = blank
  bool diverging = false;            // centred on zero (signed values)
  bool value_labels = true;          // each value printed in its cell
  int width = 900;
  int height = 700;
};

void plot_heatmap(const std::string& png_path, const HeatMap& plot);

// A beeswarm-style summary (as SHAP's summary plot): per row (e.g. an input),
// one dot per instance at its value, spread vertically where dots crowd,
// coloured by the instance's input value (low blue to high red).
struct BeeswarmRow {
  std::string name;
  std::vector<double> values;  // x of each dot; NaN = none
  std::vector<double> colour;  // the same length: colour value (any scale, NaN = grey)
};

struct Beeswarm {
  std::string title;
  std::string xlabel;
  std::string colour_label;       // e.g. "input value (low to high)"
  std::vector<BeeswarmRow> rows;  // top to bottom
  int width = 1000;
  int height = 0;  // 0 = from the number of rows
};

void plot_beeswarm(const std::string& png_path, const Beeswarm& plot);

// Points on a lat/lon frame coloured by category (e.g. each explained
// instance by its leading driver), with a legend of the categories drawn,
// the most frequent first (at most 10 colours: the rest share "other").
struct CategoryMap {
  std::string title;
  std::vector<double> lat, lon;    // degrees; any longitude convention
  std::vector<int> category;       // index into `names`; < 0 = not drawn
  std::vector<std::string> names;  // the categories
  int width = 1100;
  int height = 600;
};

void plot_category_map(const std::string& png_path, const CategoryMap& plot);

}  // namespace fluxrecon::plot
