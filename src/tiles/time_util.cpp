#include "tiles/time_util.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>

#include "core/error.hpp"

namespace fluxrecon::tiles {

std::int64_t days_from_civil(int year, int month, int day) {
  // Howard Hinnant's algorithm: days relative to 1970-01-01.
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Seconds make_time(int year, int month, int day, int hour, int minute, int second) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

Civil civil(Seconds t) {
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t rem = t - days * 86400;
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem % 3600 / 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

int day_of_year(Seconds t) {
  const Civil c = civil(t);
  return static_cast<int>(days_from_civil(c.year, c.month, c.day) - days_from_civil(c.year, 1, 1)) +
         1;
}

Seconds parse_datetime(const std::string& text, const std::string& what) {
  static const std::regex pattern(
      R"(^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|UTC)?\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    FR_FAIL(what, ": '", text,
            "' is not a date-time; expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or "
            "YYYY-MM-DDTHH:MM[:SS] (UTC)");
  const int year = std::stoi(m[1]), month = std::stoi(m[2]), day = std::stoi(m[3]);
  const int hour = m[4].matched ? std::stoi(m[4]) : 0;
  const int minute = m[5].matched ? std::stoi(m[5]) : 0;
  const int second = m[6].matched ? std::stoi(m[6]) : 0;
  const Seconds t = make_time(year, month, day, hour, minute, second);
  const Civil back = civil(t);
  FR_REQUIRE(month >= 1 && month <= 12 && back.day == day && back.month == month && hour < 24 &&
                 minute < 60 && second < 60,
             what, ": '", text, "' is not a valid calendar date and time");
  return t;
}

std::string iso_datetime(Seconds t) {
  const Civil c = civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

Seconds parse_iso_duration(const std::string& text, const std::string& what) {
  static const std::regex pattern(
      R"(^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$)");
  std::smatch m;
  const bool ok =
      std::regex_match(text, m, pattern) && text != "P" && text != "PT" && text.back() != 'T';
  if (!ok)
    FR_FAIL(what, ": '", text,
            "' is not an ISO-8601 duration; expected e.g. PT10M, PT1H30M, P1D or P1DT6H (weeks, "
            "days, hours, minutes, seconds)");
  double s = 0;
  const double unit[] = {0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0};
  for (int k = 1; k <= 5; ++k)
    if (m[k].matched) s += std::stod(m[k]) * unit[k];
  return static_cast<Seconds>(std::llround(s));
}

std::string iso_duration(Seconds s) {
  std::string out = "P";
  if (s >= 86400) out += std::to_string(s / 86400) + "D";
  s %= 86400;
  if (s > 0 || out == "P") {
    out += "T";
    if (s >= 3600) out += std::to_string(s / 3600) + "H";
    if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "M";
    if (s % 60 || out == "PT") out += std::to_string(s % 60) + "S";
  }
  return out;
}

std::string make_scene_id(const std::string& source, Seconds t) {
  const Civil c = civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d", c.year, c.month, c.day, c.hour, c.minute);
  return source + "__" + buf;
}

std::pair<std::string, Seconds> parse_scene_id(const std::string& id) {
  const auto pos = id.find("__");
  const bool two = pos != std::string::npos && id.find("__", pos + 2) == std::string::npos;
  const std::string stamp = two ? id.substr(pos + 2) : "";
  bool digits = stamp.size() == 12;
  for (char ch : stamp) digits = digits && std::isdigit(static_cast<unsigned char>(ch));
  FR_REQUIRE(two && pos > 0 && digits, "scene id '", id,
             "' is not of the form <source>__YYYYmmddHHMM");
  const int y = std::stoi(stamp.substr(0, 4)), mo = std::stoi(stamp.substr(4, 2)),
            d = std::stoi(stamp.substr(6, 2)), h = std::stoi(stamp.substr(8, 2)),
            mi = std::stoi(stamp.substr(10, 2));
  const Seconds t = make_time(y, mo, d, h, mi);
  const Civil back = civil(t);
  FR_REQUIRE(back.month == mo && back.day == d && h < 24 && mi < 60, "scene id '", id,
             "' holds an invalid date");
  return {id.substr(0, pos), t};
}

double nearest_zenith_time(Seconds t, double lon_deg) {
  const Civil c = civil(t);
  const double dt_mid = (c.hour - 12) * 3600.0 + c.minute * 60.0 + c.second;
  const double dt_lon = -lon_deg * 240.0;
  double d = -dt_mid + dt_lon;
  if (d < -12 * 3600.0) d += 24 * 3600.0;
  if (d > 12 * 3600.0) d -= 24 * 3600.0;
  return static_cast<double>(t) + d;
}

}  // namespace fluxrecon::tiles
