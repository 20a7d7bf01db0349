// PNG images of scenes, domains and tiles (spec 3.3 step 5 and 3.8), always
// north up (spec Q8):
// - grey: 255 * (1 - (v - nanmin) / (nanmax - nanmin)), truncated to 8 bits
//   as the original does, replicated to RGB (what convml_tt loads); NaN -> 0;
// - multichannel (exactly 3 planes): the same per plane into R, G, B with
//   NaN-safe min and max (spec Q9); other plane counts are drawn grey from
//   the first plane;
// - truecolor: satpy's cira_stretch of reflectance in percent, clipped to
//   [0, 1] and rounded to 8 bits, alpha 0 where any band is NaN (RGBA).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tiles/scene.hpp"

namespace fluxrecon::tiles {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // top row first
};

// `values` [plane][y][x]; `y_ascending` true when row 0 is the southernmost.
Image render_planes(Render render, int planes, int ny, int nx, const std::vector<float>& values,
                    bool y_ascending);
void write_image(const std::string& path, const Image& image);

// satpy's cira_stretch of a reflectance in percent, before clipping.
double cira_stretch(double reflectance_percent);

}  // namespace fluxrecon::tiles
