#include "core/checksum.hpp"

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.hpp"

namespace fluxrecon {

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * kFnv1a64Prime;
  return h;
}

std::string fnv1a64_label(std::uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + hex;
}

std::string file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "cannot read '", path, "' to checksum it");
  std::uint64_t h = kFnv1a64Offset;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = fnv1a64(buf.data(), static_cast<std::size_t>(in.gcount()), h);
  }
  FR_REQUIRE(in.eof(), "cannot read '", path, "' to checksum it (a read failed part-way)");
  return fnv1a64_label(h);
}

std::string text_checksum(const std::string& text) {
  return fnv1a64_label(fnv1a64(text.data(), text.size()));
}

}  // namespace fluxrecon
