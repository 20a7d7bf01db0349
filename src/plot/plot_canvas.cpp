#include "plot/plot_canvas.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "plot/png_info.hpp"

namespace fluxrecon::plot::detail {
namespace {

struct Rgb {
  int r, g, b;
};

// Tableau-like qualitative colours: distinguishable, also in grey print.
constexpr Rgb kSeries[kSeriesCount] = {
    {31, 119, 180}, {214, 39, 40},   {44, 160, 44},   {255, 127, 14}, {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

int checked_size(const std::string& path, int pixels, const char* what) {
  require_input(pixels >= 100 && pixels <= 8000, path,
                concat(what, " ", pixels, " pixels is outside 100..8000"));
  return pixels;
}

// Piecewise-linear RGB colour map through `stops` (0..255), evenly spaced.
void load_rgb_map(plstream& pls, const std::vector<Rgb>& stops) {
  const auto n = stops.size();
  std::vector<PLFLT> pos(n), r(n), g(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    pos[i] = static_cast<double>(i) / static_cast<double>(n - 1);
    r[i] = stops[i].r / 255.0;
    g[i] = stops[i].g / 255.0;
    b[i] = stops[i].b / 255.0;
  }
  pls.scmap1n(256);
  pls.scmap1l(true, static_cast<PLINT>(n), pos.data(), r.data(), g.data(), b.data());
}

}  // namespace

void require_input(bool ok, const std::string& png_path, const std::string& what) {
  FR_REQUIRE(ok, "plot '", png_path, "': ", what);
}

Canvas::Canvas(const std::string& png_path, int width, int height)
    : path_(png_path),
      width_(checked_size(png_path, width, "width")),
      height_(checked_size(png_path, height, "height")),
      base_text_(1500.0 / (width_ + height_)),
      output_(png_path, MPI_COMM_SELF) {
  pls_ = std::make_unique<plstream>();
  plstream& p = *pls_;
  p.sdev("pngcairo");
  p.sfnam(output_.temp_path().c_str());
  p.spage(0, 0, width_, height_, 0, 0);
  p.scmap0n(kPaletteSize);
  p.scol0(kBackground, 255, 255, 255);
  p.scol0(kForeground, 0, 0, 0);
  p.scol0(kGridLine, 215, 215, 215);
  p.scol0(kReference, 200, 30, 30);
  p.scol0(kFitLine, 20, 60, 200);
  p.scol0(kLand, 205, 205, 205);
  for (int i = 0; i < kSeriesCount; ++i) {
    p.scol0(kSeriesFirst + i, kSeries[i].r, kSeries[i].g, kSeries[i].b);
    p.scol0a(kBandFirst + i, kSeries[i].r, kSeries[i].g, kSeries[i].b, 0.22);
  }
  p.init();
  p.adv(0);
  p.col0(kForeground);
  text(1.0);
}

Canvas::~Canvas() = default;

void Canvas::set_colour_map(Cmap1 map) {
  switch (map) {
    case Cmap1::sequential:  // viridis-like: dark blue to yellow
      load_rgb_map(*pls_,
                   {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}});
      break;
    case Cmap1::diverging:  // blue - white - red, white at the centre
      load_rgb_map(*pls_, {{33, 102, 172},
                           {103, 169, 207},
                           {209, 229, 240},
                           {247, 247, 247},
                           {253, 219, 199},
                           {239, 138, 98},
                           {178, 24, 43}});
      break;
    case Cmap1::density:  // light to dark so that sparse bins stay visible on white
      load_rgb_map(*pls_,
                   {{200, 225, 245}, {90, 160, 210}, {40, 100, 170}, {60, 40, 120}, {20, 10, 40}});
      break;
  }
}

void Canvas::finish() {
  pls_.reset();  // plend1: the driver writes the PNG
  if (!png_complete(output_.temp_path())) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(output_.temp_path(), ec);
    const std::uint64_t free = free_disk_bytes(path_);
    FR_FAIL("cannot write plot '", path_, "': PLplot's PNG is incomplete (", ec ? 0 : bytes,
            " bytes, no IEND chunk)",
            free < (1u << 20) ? concat(": no space left on device (", free, " bytes free)")
                              : std::string());
  }
  const PngInfo info = read_png_info(output_.temp_path());
  FR_REQUIRE(info.width == width_ && info.height == height_, "plot '", path_, "': PLplot wrote ",
             info.width, "x", info.height, " pixels, expected ", width_, "x", height_);
  output_.commit();
}

double percentile(std::vector<double> values, double pct) {
  values.erase(
      std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
      values.end());
  if (values.empty()) return std::nan("");
  const double pos = std::clamp(pct, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::ptrdiff_t>(std::floor(pos));
  const auto at = values.begin() + lo;
  std::nth_element(values.begin(), at, values.end());  // no full sort of a large field
  const double a = *at;
  const double b = at + 1 == values.end() ? a : *std::min_element(at + 1, values.end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

void draw_colour_bar(Canvas& canvas, double xmin, double xmax, double ymin, double ymax,
                     double vmin, double vmax, const std::string& label, bool log10_axis) {
  plstream& pls = canvas.pls();
  const bool horizontal = (xmax - xmin) > (ymax - ymin);
  pls.vpor(xmin, xmax, ymin, ymax);
  if (horizontal)
    pls.wind(vmin, vmax, 0, 1);
  else
    pls.wind(0, 1, vmin, vmax);
  const PLFLT bx[4] = {horizontal ? vmin : 0, horizontal ? vmax : 1, horizontal ? vmax : 1,
                       horizontal ? vmin : 0};
  const PLFLT by[4] = {horizontal ? 0 : vmin, horizontal ? 0 : vmin, horizontal ? 1 : vmax,
                       horizontal ? 1 : vmax};
  pls.gradient(4, bx, by, horizontal ? 0 : 90);
  pls.col0(kForeground);
  canvas.text(0.85);
  const char* numeric = log10_axis ? "bclnst" : "bcnst";
  if (horizontal) {
    pls.box(numeric, 0, 0, "bc", 0, 0);
    pls.mtex("b", 3.3, 0.5, 0.5, label.c_str());
  } else {
    pls.box("bc", 0, 0, log10_axis ? "bclmstv" : "bcmstv", 0, 0);
    pls.mtex("r", 5.5, 0.5, 0.5, label.c_str());
  }
  canvas.text(1.0);
}

void draw_page_title(Canvas& canvas, const std::string& title) {
  plstream& pls = canvas.pls();
  if (title.empty()) return;
  pls.vpor(0, 1, 0, 1);
  pls.wind(0, 1, 0, 1);
  pls.col0(kForeground);
  canvas.text(1.25);
  pls.mtex("t", -1.6, 0.5, 0.5, title.c_str());
  canvas.text(1.0);
}

std::string format_number(double value, int significant) {
  std::ostringstream out;
  out.precision(significant);
  out << value;
  return out.str();
}

}  // namespace fluxrecon::plot::detail
