#include "plot/png_info.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace fluxrecon::plot {
namespace {

std::uint32_t big_endian32(const unsigned char* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

}  // namespace

bool png_complete(const std::string& path) {
  static constexpr unsigned char kEnd[12] = {0,   0,   0,    0,    'I',  'E',
                                             'N', 'D', 0xae, 0x42, 0x60, 0x82};
  std::ifstream in(path, std::ios::binary);
  if (!in.seekg(-12, std::ios::end)) return false;
  std::array<unsigned char, 12> tail{};
  in.read(reinterpret_cast<char*>(tail.data()), tail.size());
  return in.gcount() == 12 && std::equal(tail.begin(), tail.end(), kEnd);
}

PngInfo read_png_info(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "cannot open PNG file '", path, "'");
  // 8-byte signature, then the IHDR chunk: length 13, "IHDR", width, height,
  // bit depth, colour type, compression, filter, interlace.
  std::array<unsigned char, 8 + 8 + 13> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  FR_REQUIRE(in.gcount() == static_cast<std::streamsize>(head.size()), "'", path,
             "' is too short to be a PNG file (", in.gcount(), " bytes)");
  static constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  for (int i = 0; i < 8; ++i)
    FR_REQUIRE(head[i] == kSignature[i], "'", path, "' is not a PNG file (bad signature)");
  FR_REQUIRE(big_endian32(&head[8]) == 13 && head[12] == 'I' && head[13] == 'H' &&
                 head[14] == 'D' && head[15] == 'R',
             "'", path, "' is not a PNG file (first chunk is not a 13-byte IHDR)");
  PngInfo info;
  const std::uint32_t w = big_endian32(&head[16]), h = big_endian32(&head[20]);
  FR_REQUIRE(w > 0 && h > 0 && w < (1u << 31) && h < (1u << 31), "'", path,
             "' has an invalid PNG size ", w, "x", h);
  info.width = static_cast<int>(w);
  info.height = static_cast<int>(h);
  info.bit_depth = head[24];
  info.colour_type = head[25];
  info.file_bytes = std::filesystem::file_size(path);
  return info;
}

}  // namespace fluxrecon::plot
