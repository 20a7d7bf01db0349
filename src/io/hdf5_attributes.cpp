#include "io/hdf5_attributes.hpp"

#include <cstring>

#include "core/error.hpp"

namespace fluxrecon::io {
namespace {
void check(herr_t status, const std::string& path, const char* name) {
  FR_REQUIRE(status >= 0, "HDF5 failed to write or read attribute '", name, "' in '", path, "'");
}
}  // namespace

void use_checksummed_format(hid_t file_access) {
  // 1.8's format (superblock 2): 1.10's superblock 3 also records "open for
  // writing" in the file. (Model files are built in memory, and the image
  // HDF5 gives of an open file in this format fails its own superblock
  // checksum, so they keep the default format.)
  FR_REQUIRE(H5Pset_libver_bounds(file_access, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0,
             "HDF5 cannot write its 1.8 file format");
}

hid_t reading_file_access() {
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  FR_REQUIRE(access >= 0 && H5Pset_fclose_degree(access, H5F_CLOSE_STRONG) >= 0,
             "HDF5 cannot create a file-access property list");
  return access;
}

hid_t open_for_reading(const std::string& path) {
  const hid_t access = reading_file_access();
  hid_t file = -1;
  H5E_BEGIN_TRY { file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access); }
  H5E_END_TRY;
  H5Pclose(access);
  return file;
}

void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& path) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_strpad(type, H5T_STR_NULLTERM);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t status = attr < 0 ? -1 : H5Awrite(attr, type, value.empty() ? "" : value.c_str());
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  check(status, path, name);
}

std::optional<std::string> find_string_attribute(hid_t object, const char* name,
                                                 const std::string& path) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  check(attr, path, name);
  hid_t type = H5Aget_type(attr);
  std::string out(H5Tget_size(type), '\0');
  // Read as a C string of the stored size, whatever the stored padding.
  hid_t memory = H5Tcopy(H5T_C_S1);
  H5Tset_size(memory, out.size());
  const herr_t status = H5Aread(attr, memory, out.data());
  H5Tclose(memory);
  H5Tclose(type);
  H5Aclose(attr);
  check(status, path, name);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& path) {
  auto value = find_string_attribute(object, name, path);
  FR_REQUIRE(value.has_value(), "'", path, "' has no attribute '", name, "'");
  return *value;
}

}  // namespace fluxrecon::io
