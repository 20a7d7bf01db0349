#include "app/year_range.hpp"

#include <regex>

#include "core/error.hpp"

namespace fluxrecon::app {

std::pair<int, int> parse_year_range(const std::string& text, const std::string& option) {
  static const std::regex range(R"(^(\d{1,4})(?::(\d{1,4}))?$)");
  std::smatch m;
  FR_REQUIRE(std::regex_match(text, m, range), option, " '", text,
             "': expected A:B (e.g. 2009:2018) or one year");
  const int first = std::stoi(m[1]);
  return {first, m[2].matched ? std::stoi(m[2]) : first};
}

}  // namespace fluxrecon::app
