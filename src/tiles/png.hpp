// A minimal PNG encoder (8-bit grey, RGB or RGBA; no compression: deflate
// "stored" blocks). Written here rather than through PLplot because tiles must
// be exactly N x N pixels with the values computed, with no axes, margins,
// antialiasing or colour management; the files are larger than compressed
// ones (N*N*channels bytes), which is immaterial for 256-pixel tiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fluxrecon::tiles {

// `pixels` row-major, top row first, `channels` (1, 3 or 4) bytes per pixel.
std::vector<std::uint8_t> encode_png(int width, int height, int channels,
                                     const std::vector<std::uint8_t>& pixels);
// Encodes and writes atomically (temporary name, then rename; rank-local).
void write_png(const std::string& path, int width, int height, int channels,
               const std::vector<std::uint8_t>& pixels);

struct DecodedPng {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};
// Reads back what encode_png writes (stored blocks, filter 0) for tests and
// checks; throws naming the file for anything else.
DecodedPng read_png(const std::string& path);

}  // namespace fluxrecon::tiles
