// Internal to the plotting layer: one PNG page on a private PLplot stream,
// written under a temporary name and renamed by finish(); the palette and
// colour maps shared by every plot; small drawing helpers.
#pragma once

#include <plstream.h>

#include <memory>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"

namespace fluxrecon::plot::detail {

// Colour map 0 (indexed colours) as set by Canvas.
enum Palette : int {
  kBackground = 0,
  kForeground = 1,  // axes, text
  kGridLine = 2,
  kReference = 3,  // 1:1 line
  kFitLine = 4,
  kLand = 5,
  kSeriesFirst = 6,  // kSeriesCount solid series colours
  kSeriesCount = 10,
  kBandFirst = kSeriesFirst + kSeriesCount,  // the same colours, translucent
  kPaletteSize = kBandFirst + kSeriesCount
};
inline int series_colour(std::size_t i) {
  return kSeriesFirst + static_cast<int>(i % kSeriesCount);
}
inline int band_colour(std::size_t i) { return kBandFirst + static_cast<int>(i % kSeriesCount); }

enum class Cmap1 { sequential, diverging, density };

class Canvas {
 public:
  // Checks the size (100..8000 pixels) and opens the page.
  Canvas(const std::string& png_path, int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  plstream& pls() { return *pls_; }
  int width() const { return width_; }
  int height() const { return height_; }
  // Sets the character height to `relative` x 15 pixels. PLplot's default
  // grows with the page ((width + height) / 100 pixels with pngcairo), which
  // would make text on wide multi-panel pages overflow the margins.
  void text(double relative) { pls_->schr(0, text_scale(relative)); }
  // The same as a scale factor of PLplot's default height (for pllegend).
  double text_scale(double relative) const { return base_text_ * relative; }
  // Loads a continuous colour map into PLplot's colour map 1.
  void set_colour_map(Cmap1 map);
  // Ends the page, checks the file and renames it to its final name.
  void finish();

 private:
  std::string path_;
  int width_, height_;
  double base_text_;
  AtomicOutput output_;
  std::unique_ptr<plstream> pls_;
};

// Throws a clear error for the plot `png_path` unless `ok`.
void require_input(bool ok, const std::string& png_path, const std::string& what);

// Percentile (0..100) of the finite values by linear interpolation; NaN if none.
double percentile(std::vector<double> values, double pct);

// Draws a colour bar for colour map 1 over [vmin, vmax] in the viewport
// (xmin, xmax, ymin, ymax) of normalised page coordinates: horizontal when
// wider than tall. `log10_axis`: the values are log10 of the labelled ones.
void draw_colour_bar(Canvas& canvas, double xmin, double xmax, double ymin, double ymax,
                     double vmin, double vmax, const std::string& label, bool log10_axis);

// Page title centred at the top of the page.
void draw_page_title(Canvas& canvas, const std::string& title);

// Short number for labels ("0.953", "-1.2e-08").
std::string format_number(double value, int significant = 3);

}  // namespace fluxrecon::plot::detail
