// "A:B" or "A" on the command line -> an inclusive year range.
#pragma once

#include <string>
#include <utility>

namespace fluxrecon::app {

// Throws a fluxrecon::Error naming `option` (e.g. "reconstruct: --years")
// for anything but A:B or one year A (up to 4 digits each).
std::pair<int, int> parse_year_range(const std::string& text, const std::string& option);

}  // namespace fluxrecon::app
