// The header of a PNG file (signature and IHDR chunk): enough to check that a
// plot is a real PNG of the expected size and to give the HTML report the
// image dimensions, without decoding pixels.
#pragma once

#include <cstdint>
#include <string>

namespace fluxrecon::plot {

struct PngInfo {
  int width = 0;
  int height = 0;
  int bit_depth = 0;
  int colour_type = 0;  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
  std::uint64_t file_bytes = 0;
};

// True when `path` ends with PNG's IEND chunk: the writer got to the end (a
// full disk cuts a PNG short without PLplot saying so).
bool png_complete(const std::string& path);

// Throws an Error naming `path` if it is not a PNG with a valid IHDR chunk.
PngInfo read_png_info(const std::string& path);

}  // namespace fluxrecon::plot
