#include "tiles/png.hpp"

#include <array>
#include <fstream>
#include <iterator>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace fluxrecon::tiles {
namespace {

std::uint32_t crc32(const std::uint8_t* data, size_t n, std::uint32_t crc = 0) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void chunk(std::vector<std::uint8_t>& out, const char* type,
           const std::vector<std::uint8_t>& data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put32(out, crc32(out.data() + start, out.size() - start));
}

std::uint32_t get32(const std::vector<std::uint8_t>& b, size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) |
         (std::uint32_t(b[at + 2]) << 8) | b[at + 3];
}

}  // namespace

std::vector<std::uint8_t> encode_png(int width, int height, int channels,
                                     const std::vector<std::uint8_t>& pixels) {
  FR_REQUIRE(width > 0 && height > 0 && (channels == 1 || channels == 3 || channels == 4),
             "PNG: bad image shape ", width, " x ", height, " x ", channels);
  const size_t row = static_cast<size_t>(width) * channels;
  FR_REQUIRE(pixels.size() == row * height, "PNG: ", pixels.size(), " bytes for a ", width, " x ",
             height, " x ", channels, " image");
  // Raw scanlines, each preceded by filter type 0.
  std::vector<std::uint8_t> raw;
  raw.reserve((row + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels.begin() + static_cast<std::ptrdiff_t>(row * y),
               pixels.begin() + static_cast<std::ptrdiff_t>(row * (y + 1)));
  }
  // zlib stream of stored deflate blocks.
  std::vector<std::uint8_t> z = {0x78, 0x01};
  std::uint32_t a = 1, b = 0;
  for (std::uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    const size_t len = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<std::uint8_t>(len & 0xFF));
    z.push_back(static_cast<std::uint8_t>(len >> 8));
    z.push_back(static_cast<std::uint8_t>(~len & 0xFF));
    z.push_back(static_cast<std::uint8_t>((~len >> 8) & 0xFF));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
             raw.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
    if (last) break;
  }
  put32(z, (b << 16) | a);
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  put32(ihdr, static_cast<std::uint32_t>(width));
  put32(ihdr, static_cast<std::uint32_t>(height));
  ihdr.push_back(8);
  ihdr.push_back(channels == 1 ? 0 : channels == 3 ? 2 : 6);
  ihdr.push_back(0);
  ihdr.push_back(0);
  ihdr.push_back(0);
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", {});
  return out;
}

void write_png(const std::string& path, int width, int height, int channels,
               const std::vector<std::uint8_t>& pixels) {
  const auto bytes = encode_png(width, height, channels, pixels);
  AtomicOutput out(path, MPI_COMM_SELF);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    FR_REQUIRE(f.good(), "cannot write '", out.temp_path(), "'");
  }
  out.commit();
}

DecodedPng read_png(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FR_REQUIRE(f.good(), "cannot read PNG '", path, "'");
  const std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)), {});
  FR_REQUIRE(b.size() > 33 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', path, ": not a PNG");
  DecodedPng img;
  std::vector<std::uint8_t> z;
  for (size_t at = 8; at + 12 <= b.size();) {
    const std::uint32_t len = get32(b, at);
    const std::string type(b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                           b.begin() + static_cast<std::ptrdiff_t>(at + 8));
    FR_REQUIRE(at + 12 + len <= b.size(), path, ": truncated chunk ", type);
    FR_REQUIRE(crc32(b.data() + at + 4, len + 4) == get32(b, at + 8 + len), path,
               ": CRC mismatch in chunk ", type);
    if (type == "IHDR") {
      img.width = static_cast<int>(get32(b, at + 8));
      img.height = static_cast<int>(get32(b, at + 12));
      const int ct = b[at + 17];
      img.channels = ct == 0 ? 1 : ct == 2 ? 3 : ct == 6 ? 4 : 0;
      FR_REQUIRE(b[at + 16] == 8 && img.channels > 0, path, ": only 8-bit grey/RGB/RGBA supported");
    } else if (type == "IDAT") {
      z.insert(z.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 8),
               b.begin() + static_cast<std::ptrdiff_t>(at + 8 + len));
    }
    at += 12 + len;
  }
  std::vector<std::uint8_t> raw;
  for (size_t at = 2; at + 5 <= z.size();) {
    const int final = z[at] & 1;
    FR_REQUIRE((z[at] >> 1) == 0, path, ": compressed PNG data are not supported by this reader");
    const size_t len = z[at + 1] | (z[at + 2] << 8);
    raw.insert(raw.end(), z.begin() + static_cast<std::ptrdiff_t>(at + 5),
               z.begin() + static_cast<std::ptrdiff_t>(at + 5 + len));
    at += 5 + len;
    if (final) break;
  }
  const size_t row = static_cast<size_t>(img.width) * img.channels;
  FR_REQUIRE(raw.size() == (row + 1) * img.height, path, ": image data have the wrong size");
  for (int y = 0; y < img.height; ++y) {
    FR_REQUIRE(raw[(row + 1) * y] == 0, path, ": only filter type 0 is supported");
    img.pixels.insert(img.pixels.end(),
                      raw.begin() + static_cast<std::ptrdiff_t>((row + 1) * y + 1),
                      raw.begin() + static_cast<std::ptrdiff_t>((row + 1) * (y + 1)));
  }
  return img;
}

}  // namespace fluxrecon::tiles
