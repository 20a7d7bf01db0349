#include "tiles/goes_names.hpp"

#include <cstdio>
#include <regex>

#include "core/error.hpp"

namespace fluxrecon::tiles {

Seconds parse_goes_time(const std::string& digits, const std::string& what) {
  FR_REQUIRE(digits.size() >= 13, what, ": time stamp '", digits,
             "' is shorter than YYYYJJJHHMMSS");
  for (size_t i = 0; i < 13; ++i)
    FR_REQUIRE(digits[i] >= '0' && digits[i] <= '9', what, ": time stamp '", digits,
               "' is not all digits");
  const int year = std::stoi(digits.substr(0, 4)), doy = std::stoi(digits.substr(4, 3));
  const int hour = std::stoi(digits.substr(7, 2)), minute = std::stoi(digits.substr(9, 2));
  const int second = std::stoi(digits.substr(11, 2));
  FR_REQUIRE(doy >= 1 && doy <= 366 && hour < 24 && minute < 60 && second < 61, what,
             ": time stamp '", digits, "' is not a valid YYYYJJJHHMMSS time");
  return make_time(year, 1, 1) + (doy - 1) * 86400 + hour * 3600 + minute * 60 + second;
}

std::optional<GoesKey> parse_goes_key(const std::string& key_or_path) {
  static const std::regex pattern(
      R"(OR_ABI-([A-Za-z0-9]{2,3})-([A-Za-z0-9]+)-M([A-Za-z0-9]+)_G16_s(\d+)_e(\d+)_c(\d+)\.nc)");
  const auto slash = key_or_path.find_last_of('/');
  const std::string base = slash == std::string::npos ? key_or_path : key_or_path.substr(slash + 1);
  std::smatch m;
  if (!std::regex_match(base, m, pattern)) return std::nullopt;
  GoesKey k;
  k.file_name = base;
  k.level = m[1];
  const std::string productregion = m[2];
  for (const char* region : {"M1", "M2", "F", "C"}) {
    const std::string r(region);
    if (productregion.size() > r.size() &&
        productregion.compare(productregion.size() - r.size(), r.size(), r) == 0) {
      k.region = r;
      k.product = productregion.substr(0, productregion.size() - r.size());
      break;
    }
  }
  if (k.region.empty()) return std::nullopt;
  const std::string mode_channel = m[3];
  static const std::regex mc(R"((\d)(?:C(\d{2}))?)");
  std::smatch mm;
  if (!std::regex_match(mode_channel, mm, mc)) return std::nullopt;
  k.sensor_mode = std::stoi(mm[1]);
  if (mm[2].matched) k.channel = std::stoi(mm[2]);
  try {
    k.start = parse_goes_time(m[4], base);
    k.end = parse_goes_time(m[5], base);
    k.created = parse_goes_time(m[6], base);
  } catch (const Error&) {
    return std::nullopt;
  }
  return k;
}

int expected_sensor_mode(Seconds t) { return t > make_time(2019, 4, 2) ? 6 : 3; }
Seconds full_disk_interval(Seconds t) { return expected_sensor_mode(t) == 6 ? 600 : 900; }

std::string goes_l1b_folder(Seconds t) {
  const Civil c = civil(t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "noaa-goes16/ABI-L1b-RadF/%04d/%03d/%02d/", c.year, day_of_year(t),
                c.hour);
  return buf;
}

std::string goes_l1b_name_pattern(int channel, Seconds t) {
  const Civil c = civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "OR_ABI-L1b-RadF-M%dC%02d_G16_s%04d%03d%02d%02d*_e*_c*.nc",
                expected_sensor_mode(t), channel, c.year, day_of_year(t), c.hour, c.minute);
  return buf;
}

std::string goes_l2_folder(const std::string& product, Seconds t) {
  const Civil c = civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "noaa-goes16/ABI-L2-%sF/%04d/%03d/%02d/", product.c_str(), c.year,
                day_of_year(t), c.hour);
  return buf;
}

std::string goes_l2_name_pattern(const std::string& product, Seconds t) {
  const Civil c = civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "OR_ABI-L2-%sF-M%d_G16_s%04d%03d%02d%02d*_e*_c*.nc",
                product.c_str(), expected_sensor_mode(t), c.year, day_of_year(t), c.hour, c.minute);
  return buf;
}

}  // namespace fluxrecon::tiles
