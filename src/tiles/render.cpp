#include "tiles/render.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "tiles/png.hpp"

namespace fluxrecon::tiles {
namespace {

// Inverted min-max scaling of one plane into `channel` of `out`, truncating.
void inverted_minmax(const float* plane, int ny, int nx, bool y_ascending, int channels,
                     int channel, std::vector<std::uint8_t>& out) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t k = 0; k < static_cast<size_t>(ny) * nx; ++k)
    if (std::isfinite(plane[k])) {
      lo = std::min(lo, static_cast<double>(plane[k]));
      hi = std::max(hi, static_cast<double>(plane[k]));
    }
  const double range = hi > lo ? hi - lo : 1.0;
  for (int r = 0; r < ny; ++r) {
    const int j = y_ascending ? ny - 1 - r : r;
    for (int i = 0; i < nx; ++i) {
      const double v = plane[static_cast<size_t>(j) * nx + i];
      const double c = std::isfinite(v) ? std::clamp(1.0 - (v - lo) / range, 0.0, 1.0) : 0.0;
      out[(static_cast<size_t>(r) * nx + i) * channels + channel] =
          static_cast<std::uint8_t>(255.0 * c);
    }
  }
}

}  // namespace

double cira_stretch(double reflectance_percent) {
  double v = std::max(reflectance_percent * 0.01, std::numeric_limits<double>::epsilon());
  const double l0 = std::log10(0.0223);
  return (std::log10(v) - l0) / ((1.0 - l0) * 0.75);
}

Image render_planes(Render render, int planes, int ny, int nx, const std::vector<float>& values,
                    bool y_ascending) {
  FR_REQUIRE(values.size() == static_cast<size_t>(planes) * ny * nx, "render: ", values.size(),
             " values for ", planes, " x ", ny, " x ", nx);
  Image img;
  img.width = nx;
  img.height = ny;
  const size_t n = static_cast<size_t>(ny) * nx;
  if (render == Render::truecolor && planes == 3) {
    img.channels = 4;
    img.pixels.assign(n * 4, 0);
    for (int r = 0; r < ny; ++r) {
      const int j = y_ascending ? ny - 1 - r : r;
      for (int i = 0; i < nx; ++i) {
        const size_t src = static_cast<size_t>(j) * nx + i,
                     dst = (static_cast<size_t>(r) * nx + i) * 4;
        bool valid = true;
        for (int c = 0; c < 3; ++c) {
          const double v = values[c * n + src];
          valid = valid && std::isfinite(v);
          const double s = std::isfinite(v) ? std::clamp(cira_stretch(v), 0.0, 1.0) : 0.0;
          img.pixels[dst + c] = static_cast<std::uint8_t>(std::lround(255.0 * s));
        }
        img.pixels[dst + 3] = valid ? 255 : 0;
      }
    }
    return img;
  }
  img.channels = 3;
  img.pixels.assign(n * 3, 0);
  if (render == Render::multichannel && planes == 3) {
    for (int c = 0; c < 3; ++c)
      inverted_minmax(values.data() + c * n, ny, nx, y_ascending, 3, c, img.pixels);
  } else {
    inverted_minmax(values.data(), ny, nx, y_ascending, 3, 0, img.pixels);
    for (size_t k = 0; k < n; ++k)
      img.pixels[k * 3 + 1] = img.pixels[k * 3 + 2] = img.pixels[k * 3];
  }
  return img;
}

void write_image(const std::string& path, const Image& image) {
  write_png(path, image.width, image.height, image.channels, image.pixels);
}

}  // namespace fluxrecon::tiles
