#include "io/netcdf_header.hpp"

#include <cstdint>
#include <fstream>
#include <string>

#include "core/error.hpp"

namespace fluxrecon::io {
namespace {

// The header grammar of the netCDF classic format specification (CDF-1, 2
// and 5): big-endian integers; counts are 4 bytes, 8 in CDF-5; names and
// values are padded to 4 bytes.
constexpr std::uint32_t kDimensionTag = 0x0A, kVariableTag = 0x0B, kAttributeTag = 0x0C;

class HeaderReader {
 public:
  HeaderReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    FR_REQUIRE(in_.good(), path, ": cannot be opened for reading");
    in_.seekg(0, std::ios::end);
    size_ = static_cast<std::uint64_t>(in_.tellg());
    in_.seekg(0);
  }

  std::uint64_t big_endian(int bytes, const char* what) {
    require(static_cast<std::uint64_t>(bytes), what);
    unsigned char b[8] = {};
    in_.read(reinterpret_cast<char*>(b), bytes);
    FR_REQUIRE(in_.good(), "file ", path_,
               " is truncated or not a valid netCDF file: its header cannot be read at ", what);
    pos_ += static_cast<std::uint64_t>(bytes);
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b[i];
    return v;
  }
  // A count (NON_NEG): 4 bytes, 8 in CDF-5.
  std::uint64_t count(const char* what) { return big_endian(wide_ ? 8 : 4, what); }
  // Skips `bytes` (padded to 4) that must lie inside the file.
  void skip(std::uint64_t bytes, const std::string& what) {
    const std::uint64_t padded = bytes + (4 - bytes % 4) % 4;
    require(padded, what);
    pos_ += padded;
    in_.seekg(static_cast<std::streamoff>(pos_));
  }
  void name(const char* what) {
    const std::uint64_t length = count(what);
    skip(length, std::string(what) + " name of " + std::to_string(length) + " bytes");
  }
  // `n` entries of at least `min_bytes` each must fit in what is left.
  void require_entries(std::uint64_t n, std::uint64_t min_bytes, const std::string& what) {
    if (min_bytes > 0 && n > (size_ - pos_) / min_bytes)
      FR_FAIL("file ", path_, " is truncated or not a valid netCDF file: its header's ", what,
              " states ", n, " entries of at least ", min_bytes, " bytes, but only ", size_ - pos_,
              " bytes of the file's ", size_, " follow (a truncated or corrupted file)");
  }
  void set_wide(bool wide) { wide_ = wide; }
  bool wide() const { return wide_; }

 private:
  void require(std::uint64_t bytes, const std::string& what) {
    if (bytes > size_ - pos_)
      FR_FAIL("file ", path_, " is truncated or not a valid netCDF file: its header's ", what,
              " needs ", bytes, " bytes at offset ", pos_, ", but the file ends at ", size_,
              " (a truncated or corrupted file)");
  }
  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0, pos_ = 0;
  bool wide_ = false;
};

std::uint64_t type_size(std::uint64_t type, const std::string& path) {
  switch (type) {
    case 1:
    case 2:
    case 7:
      return 1;  // byte, char, ubyte
    case 3:
    case 8:
      return 2;  // short, ushort
    case 4:
    case 5:
    case 9:
      return 4;  // int, float, uint
    case 6:
    case 10:
    case 11:
      return 8;  // double, int64, uint64
  }
  FR_FAIL("file ", path, " is truncated or not a valid netCDF file: its header names value type ",
          type, ", which netCDF does not have");
}

// An attribute list: ABSENT (two zeros) or the tag, a count and the entries.
void attributes(HeaderReader& h, const std::string& owner, const std::string& path) {
  const std::uint64_t tag = h.big_endian(4, "attribute list tag");
  const std::uint64_t n = h.count("attribute count");
  if (tag == 0 && n == 0) return;
  FR_REQUIRE(tag == kAttributeTag, "file ", path,
             " is truncated or not a valid netCDF file: its header's attribute list of ", owner,
             " has tag ", tag, " (expected ", kAttributeTag, ")");
  h.require_entries(n, 12, "attribute list of " + owner);
  for (std::uint64_t i = 0; i < n; ++i) {
    h.name("attribute");
    const std::uint64_t type = h.big_endian(4, "attribute type");
    const std::uint64_t values = h.count("attribute length");
    const std::uint64_t size = type_size(type, path);
    h.require_entries(values, size, "attribute of " + owner);
    h.skip(values * size, "attribute values of " + owner);
  }
}

}  // namespace

void check_classic_header(const std::string& path) {
  HeaderReader h(path);
  const std::uint64_t magic = h.big_endian(4, "magic number");
  FR_REQUIRE((magic >> 8) == 0x434446, path, ": not a classic netCDF file (no CDF magic number)");
  const int version = static_cast<int>(magic & 0xff);
  FR_REQUIRE(version == 1 || version == 2 || version == 5, path,
             ": unknown classic netCDF version ", version);
  h.set_wide(version == 5);
  h.count("number of records");  // any value, including STREAMING

  std::uint64_t tag = h.big_endian(4, "dimension list tag");
  std::uint64_t n_dims = h.count("dimension count");
  if (!(tag == 0 && n_dims == 0)) {
    FR_REQUIRE(tag == kDimensionTag, "file ", path,
               " is truncated or not a valid netCDF file: its header's dimension list has tag ",
               tag, " (expected ", kDimensionTag, ")");
    h.require_entries(n_dims, 8, "dimension list");
    for (std::uint64_t i = 0; i < n_dims; ++i) {
      h.name("dimension");
      // CDF-5 lengths are 8 bytes; past 2^62 no file could hold them, and
      // as signed sizes they would turn negative.
      const std::uint64_t length = h.count("dimension length");
      FR_REQUIRE(length < (std::uint64_t{1} << 62), "file ", path,
                 " is truncated or not a valid netCDF file: its header gives dimension ", i + 1,
                 " a length of ", length);
    }
  }
  attributes(h, "the file (global attributes)", path);

  tag = h.big_endian(4, "variable list tag");
  const std::uint64_t n_vars = h.count("variable count");
  if (tag == 0 && n_vars == 0) return;
  FR_REQUIRE(tag == kVariableTag, "file ", path,
             " is truncated or not a valid netCDF file: its header's variable list has tag ", tag,
             " (expected ", kVariableTag, ")");
  h.require_entries(n_vars, 20, "variable list");
  const int count_bytes = h.wide() ? 8 : 4;
  for (std::uint64_t v = 0; v < n_vars; ++v) {
    const std::string owner = "variable " + std::to_string(v + 1);
    h.name("variable");
    const std::uint64_t rank = h.count("variable rank");
    h.require_entries(rank, static_cast<std::uint64_t>(count_bytes), "dimension ids of " + owner);
    for (std::uint64_t d = 0; d < rank; ++d) {
      const std::uint64_t id = h.count("dimension id");
      FR_REQUIRE(id < n_dims, "file ", path,
                 " is truncated or not a valid netCDF file: its header's ", owner,
                 " uses dimension id ", id, " of ", n_dims);
    }
    attributes(h, owner, path);
    type_size(h.big_endian(4, "variable type"), path);
    h.count("variable size");
    h.big_endian(version == 1 ? 4 : 8, "variable offset");
  }
}

}  // namespace fluxrecon::io
