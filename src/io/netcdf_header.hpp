// A bounds check of a classic netCDF header (CDF-1, CDF-2, CDF-5) before
// PnetCDF parses it. PnetCDF trusts the counts and lengths a header states:
// a damaged file that claims a 1.7 GB attribute makes it allocate and copy
// that much and run for minutes (found by tests/fuzz, target netcdf). Every
// count here is checked against the bytes the file really has, so such a
// file fails at once with a message naming the file and the entry.
#pragma once

#include <string>

namespace fluxrecon::io {

// Throws fluxrecon::Error (rank-local) naming `path`, the header entry and
// the sizes when the header is cut short or states more than the file holds.
void check_classic_header(const std::string& path);

}  // namespace fluxrecon::io
