// Backend-independent parts of GridFile: format detection from magic bytes,
// backend choice, metadata lookups and the CF value mapping (fill values,
// valid range, packing) that both backends apply after a raw read.
#include "io/grid_file.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.hpp"
#include "core/mpi_util.hpp"
#include "io/hdf5_file.hpp"
#include "io/pnetcdf_file.hpp"

namespace fluxrecon::io {

namespace {

// Printable rendering of the first bytes of a file for error messages.
std::string describe_bytes(const char* bytes, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      text += static_cast<char>(byte);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      text += escaped;
    }
  }
  return text;
}

constexpr char kHdf5Signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
// HDF5 looks for its superblock at 0 and at powers of two from 512 (user block).
constexpr std::array<std::uint64_t, 4> kHdf5SignatureOffsets = {0, 512, 1024, 2048};

std::string join(const std::vector<std::string>& names, const char* separator) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : separator) + name;
  return text;
}

bool is_numeric_type(const std::string& type) {
  static const std::vector<std::string> numeric = {"byte", "ubyte", "short",  "ushort", "int",
                                                   "uint", "int64", "uint64", "float",  "double"};
  return std::find(numeric.begin(), numeric.end(), type) != numeric.end();
}

}  // namespace

std::string format_name(Format format) {
  switch (format) {
    case Format::cdf1_classic:
      return "classic netCDF (CDF-1)";
    case Format::cdf2_offset64:
      return "64-bit offset netCDF (CDF-2)";
    case Format::cdf5:
      return "CDF-5 (64-bit data)";
    case Format::netcdf4_hdf5:
      return "netCDF-4 (HDF5)";
  }
  return "unknown format";
}

Format detect_format(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  FR_REQUIRE(fs::exists(status), "file ", path, " does not exist; expected a netCDF file");
  FR_REQUIRE(!fs::is_directory(status), "file ", path, " is a directory, not a netCDF file");
  const auto size = fs::file_size(path, ec);
  FR_REQUIRE(!ec, "cannot read the size of file ", path, ": ", ec.message());
  FR_REQUIRE(size > 0, "file ", path, " is empty (0 bytes); expected a netCDF file");
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "cannot open file ", path, " for reading (permissions?)");

  char head[8] = {};
  const auto head_size = static_cast<std::size_t>(std::min<std::uintmax_t>(size, sizeof(head)));
  in.read(head, static_cast<std::streamsize>(head_size));
  FR_REQUIRE(in.gcount() == static_cast<std::streamsize>(head_size), "cannot read file ", path);
  if (head_size >= 4 && head[0] == 'C' && head[1] == 'D' && head[2] == 'F') {
    switch (head[3]) {
      case '\x01':
        return Format::cdf1_classic;
      case '\x02':
        return Format::cdf2_offset64;
      case '\x05':
        return Format::cdf5;
      default:
        FR_FAIL("file ", path, " starts with 'CDF' but has version byte ",
                describe_bytes(head + 3, 1), "; expected \\x01 (classic), \\x02 (64-bit offset) ",
                "or \\x05 (CDF-5)");
    }
  }
  for (const auto offset : kHdf5SignatureOffsets) {
    if (offset + sizeof(kHdf5Signature) > size) break;
    char signature[sizeof(kHdf5Signature)] = {};
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(signature, sizeof(signature));
    if (in.gcount() == sizeof(signature) &&
        std::equal(signature, signature + sizeof(signature), kHdf5Signature)) {
      return Format::netcdf4_hdf5;
    }
  }
  FR_FAIL("file ", path, " is not netCDF: it starts with \"", describe_bytes(head, head_size),
          "\" (", size, " bytes); expected \"CDF\\x01\", \"CDF\\x02\" or \"CDF\\x05\" ",
          "(classic, 64-bit offset, CDF-5) at byte 0, or the HDF5 signature ",
          "\"\\x89HDF\\r\\n\\x1a\\n\" (netCDF-4) at byte 0, 512, 1024 or 2048");
}

std::unique_ptr<GridFile> GridFile::open(const std::string& path, MPI_Comm comm) {
  // Rank 0 reads the magic bytes and tells the others: one small read instead
  // of one per rank, and every rank takes the same backend.
  int format_code = -1;
  all_ranks_agree(comm, [&] {
    if (mpi::rank(comm) == 0) format_code = static_cast<int>(detect_format(path));
  });
  MPI_Bcast(&format_code, 1, MPI_INT, 0, comm);
  const auto format = static_cast<Format>(format_code);
  if (format == Format::netcdf4_hdf5) return open_hdf5_file(path, comm);
  return open_pnetcdf_file(path, format, comm);
}

std::vector<std::string> GridFile::variable_names() const {
  std::vector<std::string> names;
  names.reserve(variables_.size());
  for (const auto& info : variables_) names.push_back(info.name);
  return names;
}

bool GridFile::has_variable(const std::string& name) const {
  return std::any_of(variables_.begin(), variables_.end(),
                     [&](const VariableInfo& info) { return info.name == name; });
}

const VariableInfo& GridFile::variable(const std::string& name) const {
  for (const auto& info : variables_) {
    if (info.name == name) return info;
  }
  FR_FAIL("variable '", name, "' not found in file ", path_,
          "; variables in the file: ", join(variable_names(), ", "));
}

bool GridFile::has_dimension(const std::string& name) const {
  return std::any_of(dimensions_.begin(), dimensions_.end(),
                     [&](const auto& dimension) { return dimension.first == name; });
}

std::int64_t GridFile::dimension_length(const std::string& name) const {
  for (const auto& [dimension, length] : dimensions_) {
    if (dimension == name) return length;
  }
  std::vector<std::string> names;
  for (const auto& dimension : dimensions_) names.push_back(dimension.first);
  FR_FAIL("dimension '", name, "' not found in file ", path_,
          "; dimensions in the file: ", join(names, ", "));
}

void GridFile::check_hyperslab(const std::string& name, const std::vector<std::int64_t>& start,
                               const std::vector<std::int64_t>& count) const {
  const auto& info = variable(name);
  FR_REQUIRE(is_numeric_type(info.type), "variable '", name, "' in file ", path_, " holds ",
             info.type, " values; only numeric variables can be read as float/double");
  const auto rank = info.shape.size();
  FR_REQUIRE(start.size() == rank && count.size() == rank, "reading '", name, "' from ", path_,
             ": start has ", start.size(), " and count ", count.size(),
             " entries; the variable has ", rank, " dimensions (", join(info.dimensions, ", "),
             ")");
  for (std::size_t d = 0; d < rank; ++d) {
    FR_REQUIRE(start[d] >= 0 && count[d] >= 0 && start[d] + count[d] <= info.shape[d], "reading '",
               name, "' from ", path_, ": dimension ", info.dimensions[d], " has length ",
               info.shape[d], " but start ", start[d], " + count ", count[d], " does not fit");
  }
}

bool GridFile::float_holds_exactly(const std::string& type) {
  return type == "float" || type == "short" || type == "ushort" || type == "byte" ||
         type == "ubyte";
}

std::size_t GridFile::element_count(const std::vector<std::int64_t>& count) {
  std::size_t total = 1;
  for (const auto length : count) total *= static_cast<std::size_t>(length);
  return total;
}

GridFile::ValueMapping GridFile::value_mapping(const std::string& name) const {
  ValueMapping mapping;
  for (const char* attribute : {"_FillValue", "missing_value"}) {
    if (auto values = number_attribute_values(name, attribute)) {
      mapping.missing_values.insert(mapping.missing_values.end(), values->begin(), values->end());
    }
  }
  if (auto range = number_attribute_values(name, "valid_range"); range && range->size() >= 2) {
    mapping.valid_min = (*range)[0];
    mapping.valid_max = (*range)[1];
  }
  if (auto low = number_attribute(name, "valid_min")) mapping.valid_min = *low;
  if (auto high = number_attribute(name, "valid_max")) mapping.valid_max = *high;
  const auto scale = number_attribute(name, "scale_factor");
  const auto offset = number_attribute(name, "add_offset");
  mapping.packed = scale.has_value() || offset.has_value();
  mapping.scale_factor = scale.value_or(1.0);
  mapping.add_offset = offset.value_or(0.0);
  return mapping;
}

template <class Raw, class Out>
void GridFile::ValueMapping::apply(const Raw* raw, Out* out, std::size_t count) const {
  constexpr Out missing = std::numeric_limits<Out>::quiet_NaN();
  // Fill values in the raw type so that the comparison is exact (a float
  // fill of 1e20f is not the double 1e20).
  std::vector<Raw> raw_missing;
  for (const double value : missing_values) {
    if (std::isfinite(value) && std::abs(value) <= std::numeric_limits<Raw>::max()) {
      raw_missing.push_back(static_cast<Raw>(value));
    }
  }
  const bool has_range = valid_min.has_value() || valid_max.has_value();
  const double low = valid_min.value_or(-std::numeric_limits<double>::infinity());
  const double high = valid_max.value_or(std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < count; ++i) {
    const Raw value = raw[i];
    bool is_missing = !std::isfinite(value);
    for (const Raw fill : raw_missing) is_missing = is_missing || value == fill;
    if (has_range) {
      const auto wide = static_cast<double>(value);
      is_missing = is_missing || wide < low || wide > high;
    }
    if (is_missing) {
      out[i] = missing;
    } else if (packed) {
      out[i] = static_cast<Out>(static_cast<double>(value) * scale_factor + add_offset);
    } else {
      out[i] = static_cast<Out>(value);
    }
  }
}

template void GridFile::ValueMapping::apply<float, float>(const float*, float*, std::size_t) const;
template void GridFile::ValueMapping::apply<double, double>(const double*, double*,
                                                            std::size_t) const;
template void GridFile::ValueMapping::apply<double, float>(const double*, float*,
                                                           std::size_t) const;

}  // namespace fluxrecon::io
