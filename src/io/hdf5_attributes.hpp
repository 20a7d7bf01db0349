// String attributes of HDF5 files (sample stores, model files): one writer
// and one reader, with errors naming the file.
#pragma once

#include <hdf5.h>

#include <optional>
#include <string>

namespace fluxrecon::io {

// Writes a scalar, NUL-terminated string attribute on `object`.
void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& path);
// The attribute's value, or nullopt when `object` has no attribute `name`.
std::optional<std::string> find_string_attribute(hid_t object, const char* name,
                                                 const std::string& path);
// As find_string_attribute, but a missing attribute is an error naming `path`.
std::string read_string_attribute(hid_t object, const char* name, const std::string& path);

}  // namespace fluxrecon::io
