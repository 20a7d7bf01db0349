// The HDF5 files fluxrecon writes (sample stores, model files): their format
// and string attributes (one writer and one reader, errors naming the file).
#pragma once

#include <hdf5.h>

#include <optional>
#include <string>

namespace fluxrecon::io {

// Sets `file_access` to write HDF5 1.8's file format, whose superblock,
// object headers and attribute heaps carry checksums that HDF5 verifies on
// every open: a damaged header is then refused, not decoded into wrong
// metadata (or into one of the library's own over-reads).
void use_checksummed_format(hid_t file_access);
// A new file-access property list (the caller closes it) for reading an HDF5
// file: closing the file closes every object still open in it, so that an
// error path that left a dataset or attribute open cannot keep the whole
// file, and its memory, open until the program ends.
hid_t reading_file_access();
// Opens `path` read-only (serial HDF5) with reading_file_access() and without
// HDF5's error printout; a negative id when it cannot be opened.
hid_t open_for_reading(const std::string& path);

// Writes a scalar, NUL-terminated string attribute on `object`.
void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& path);
// The attribute's value, or nullopt when `object` has no attribute `name`.
std::optional<std::string> find_string_attribute(hid_t object, const char* name,
                                                 const std::string& path);
// As find_string_attribute, but a missing attribute is an error naming `path`.
std::string read_string_attribute(hid_t object, const char* name, const std::string& path);

}  // namespace fluxrecon::io
