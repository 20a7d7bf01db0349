// CF time decoding with our own calendar arithmetic: every calendar maps a
// date to a day number and back, so "value units since reference" becomes
// reference day + whole days, plus the seconds of the day. Offsets are
// rounded to the nearest second first, so 380.4999999 days still lands on
// 12:00:00 and month matching never depends on float noise.
#include "io/time_axis.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <regex>
#include <tuple>

#include "core/error.hpp"

namespace fluxrecon::io {

namespace {

enum class Calendar { standard, proleptic_gregorian, julian, noleap, all_leap, day360 };

constexpr const char* kAllowedCalendars =
    "standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, "
    "360_day";

// Julian day number of the first day of the Gregorian calendar (1582-10-15).
constexpr std::int64_t kGregorianStartJdn = 2299161;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

Calendar parse_calendar(const std::string& name, const std::string& what) {
  const auto key = lower(trim(name));
  if (key.empty() || key == "standard" || key == "gregorian") return Calendar::standard;
  if (key == "proleptic_gregorian") return Calendar::proleptic_gregorian;
  if (key == "julian") return Calendar::julian;
  if (key == "noleap" || key == "365_day") return Calendar::noleap;
  if (key == "all_leap" || key == "366_day") return Calendar::all_leap;
  if (key == "360_day") return Calendar::day360;
  FR_FAIL(what, ": unknown calendar '", name, "'; allowed: ", kAllowedCalendars);
}

// Division rounding towards minus infinity (C++ rounds towards zero).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

bool julian_leap(std::int64_t year) { return floor_div(year, 4) * 4 == year; }
bool gregorian_leap(std::int64_t year) {
  return julian_leap(year) && (year % 100 != 0 || year % 400 == 0);
}

// Day of the year before the first of each month (index month-1), plus total.
constexpr std::array<int, 13> kCumulativeNoLeap = {0,   31,  59,  90,  120, 151, 181,
                                                   212, 243, 273, 304, 334, 365};
constexpr std::array<int, 13> kCumulativeLeap = {0,   31,  60,  91,  121, 152, 182,
                                                 213, 244, 274, 305, 335, 366};

// Julian day numbers (days since -4712-01-01 Julian) of Julian and Gregorian
// calendar dates; astronomical year numbering (year 0 = 1 BC).
std::int64_t jdn_from_julian(std::int64_t y, int m, int d) {
  const std::int64_t a = (14 - m) / 12;
  const std::int64_t year = y + 4800 - a;
  const std::int64_t month = m + 12 * a - 3;
  return d + floor_div(153 * month + 2, 5) + 365 * year + floor_div(year, 4) - 32083;
}

std::int64_t jdn_from_gregorian(std::int64_t y, int m, int d) {
  const std::int64_t a = (14 - m) / 12;
  const std::int64_t year = y + 4800 - a;
  const std::int64_t month = m + 12 * a - 3;
  return d + floor_div(153 * month + 2, 5) + 365 * year + floor_div(year, 4) -
         floor_div(year, 100) + floor_div(year, 400) - 32045;
}

CalendarDate date_from_jdn(std::int64_t jdn, bool gregorian) {
  // Richards' algorithm; for the Julian calendar the century terms vanish.
  std::int64_t c = 0;
  std::int64_t e = 0;
  if (gregorian) {
    const std::int64_t a = jdn + 32044;
    const std::int64_t b = floor_div(4 * a + 3, 146097);
    c = a - floor_div(146097 * b, 4);
    const std::int64_t dd = floor_div(4 * c + 3, 1461);
    e = c - floor_div(1461 * dd, 4);
    c = 100 * b + dd;  // years since -4800 (before the March shift)
  } else {
    const std::int64_t a = jdn + 32082;
    c = floor_div(4 * a + 3, 1461);
    e = a - floor_div(1461 * c, 4);
  }
  const std::int64_t m = floor_div(5 * e + 2, 153);
  CalendarDate date;
  date.day = static_cast<int>(e - floor_div(153 * m + 2, 5) + 1);
  date.month = static_cast<int>(m + 3 - 12 * floor_div(m, 10));
  date.year = static_cast<int>(c - 4800 + floor_div(m, 10));
  return date;
}

bool in_gregorian_gap(int year, int month, int day) {
  return year == 1582 && month == 10 && day > 4 && day < 15;
}

bool before_gregorian_start(int year, int month, int day) {
  return std::make_tuple(year, month, day) < std::make_tuple(1582, 10, 15);
}

// Day number of a (valid) date; each calendar has its own origin.
std::int64_t day_number(Calendar calendar, int year, int month, int day) {
  switch (calendar) {
    case Calendar::standard:
      return before_gregorian_start(year, month, day) ? jdn_from_julian(year, month, day)
                                                      : jdn_from_gregorian(year, month, day);
    case Calendar::proleptic_gregorian:
      return jdn_from_gregorian(year, month, day);
    case Calendar::julian:
      return jdn_from_julian(year, month, day);
    case Calendar::noleap:
      return 365 * static_cast<std::int64_t>(year) + kCumulativeNoLeap[month - 1] + day - 1;
    case Calendar::all_leap:
      return 366 * static_cast<std::int64_t>(year) + kCumulativeLeap[month - 1] + day - 1;
    case Calendar::day360:
      return 360 * static_cast<std::int64_t>(year) + 30 * (month - 1) + day - 1;
  }
  return 0;
}

CalendarDate date_from_day_number(Calendar calendar, std::int64_t number) {
  auto from_fixed_year = [](std::int64_t n, int year_length, const std::array<int, 13>& table) {
    CalendarDate date;
    const std::int64_t year = floor_div(n, year_length);
    const auto day_of_year = static_cast<int>(n - year * year_length);
    int month = 1;
    while (month < 12 && table[static_cast<std::size_t>(month)] <= day_of_year) ++month;
    date.year = static_cast<int>(year);
    date.month = month;
    date.day = day_of_year - table[static_cast<std::size_t>(month - 1)] + 1;
    return date;
  };
  switch (calendar) {
    case Calendar::standard:
      return date_from_jdn(number, number >= kGregorianStartJdn);
    case Calendar::proleptic_gregorian:
      return date_from_jdn(number, true);
    case Calendar::julian:
      return date_from_jdn(number, false);
    case Calendar::noleap:
      return from_fixed_year(number, 365, kCumulativeNoLeap);
    case Calendar::all_leap:
      return from_fixed_year(number, 366, kCumulativeLeap);
    case Calendar::day360: {
      CalendarDate date;
      const std::int64_t year = floor_div(number, 360);
      const auto day_of_year = static_cast<int>(number - 360 * year);
      date.year = static_cast<int>(year);
      date.month = day_of_year / 30 + 1;
      date.day = day_of_year % 30 + 1;
      return date;
    }
  }
  return {};
}

int month_length(Calendar calendar, int year, int month) {
  static constexpr std::array<int, 12> kLengths = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool is_february = month == 2;
  switch (calendar) {
    case Calendar::day360:
      return 30;
    case Calendar::noleap:
      return kLengths[static_cast<std::size_t>(month - 1)];
    case Calendar::all_leap:
      return kLengths[static_cast<std::size_t>(month - 1)] + (is_february ? 1 : 0);
    case Calendar::julian:
      return kLengths[static_cast<std::size_t>(month - 1)] +
             (is_february && julian_leap(year) ? 1 : 0);
    case Calendar::proleptic_gregorian:
      return kLengths[static_cast<std::size_t>(month - 1)] +
             (is_february && gregorian_leap(year) ? 1 : 0);
    case Calendar::standard:
      if (year == 1582 && month == 10) return 21;  // 4 October was followed by 15 October
      return kLengths[static_cast<std::size_t>(month - 1)] +
             (is_february && (year < 1582 ? julian_leap(year) : gregorian_leap(year)) ? 1 : 0);
  }
  return 0;
}

struct TimeUnits {
  double seconds_per_unit = 0;
  int year = 0, month = 0, day = 0;
  double seconds_of_day = 0;
};

TimeUnits parse_units(const std::string& units, Calendar calendar, const std::string& what) {
  static const std::regex pattern(R"(^\s*([a-z]+)\s+since\s+(-?\d{1,6})-(\d{1,2})-(\d{1,2}))"
                                  R"((?:(?:\s+|t)(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)"
                                  R"(\s*(?:z|utc|gmt|[+]00?(?::?00)?)?\s*$)");
  const auto expected = concat(
      "expected '<unit> since YYYY-MM-DD[ hh:mm[:ss]][ UTC]' with <unit> one of days, hours, "
      "minutes, seconds");
  std::smatch match;
  const auto text = lower(units);
  FR_REQUIRE(std::regex_match(text, match, pattern), what, ": cannot read time units '", units,
             "'; ", expected);
  const auto unit = match[1].str();
  TimeUnits parsed;
  if (unit == "days" || unit == "day" || unit == "d") {
    parsed.seconds_per_unit = 86400;
  } else if (unit == "hours" || unit == "hour" || unit == "hrs" || unit == "hr" || unit == "h") {
    parsed.seconds_per_unit = 3600;
  } else if (unit == "minutes" || unit == "minute" || unit == "mins" || unit == "min") {
    parsed.seconds_per_unit = 60;
  } else if (unit == "seconds" || unit == "second" || unit == "secs" || unit == "sec" ||
             unit == "s") {
    parsed.seconds_per_unit = 1;
  } else {
    FR_FAIL(what, ": unknown time unit '", match[1].str(), "' in '", units, "'; ", expected);
  }
  parsed.year = std::stoi(match[2].str());
  parsed.month = std::stoi(match[3].str());
  parsed.day = std::stoi(match[4].str());
  const int hour = match[5].matched ? std::stoi(match[5].str()) : 0;
  const int minute = match[6].matched ? std::stoi(match[6].str()) : 0;
  const double second = match[7].matched ? std::stod(match[7].str()) : 0.0;
  FR_REQUIRE(parsed.month >= 1 && parsed.month <= 12 && parsed.day >= 1 &&
                 parsed.day <= month_length(calendar, parsed.year, parsed.month) &&
                 !(calendar == Calendar::standard &&
                   in_gregorian_gap(parsed.year, parsed.month, parsed.day)),
             what, ": reference date in '", units, "' does not exist in this calendar");
  FR_REQUIRE(hour < 24 && minute < 60 && second < 61, what, ": reference time of day in '", units,
             "' is out of range");
  parsed.seconds_of_day = hour * 3600.0 + minute * 60.0 + second;
  return parsed;
}

}  // namespace

int days_in_month(int year, int month, const std::string& calendar) {
  FR_REQUIRE(month >= 1 && month <= 12, "days_in_month: month ", month, " is not in 1..12");
  return month_length(parse_calendar(calendar, "days_in_month"), year, month);
}

std::vector<CalendarDate> decode_time(const std::vector<double>& values, const std::string& units,
                                      const std::string& calendar, const std::string& what) {
  const Calendar parsed_calendar = parse_calendar(calendar, what);
  const TimeUnits parsed = parse_units(units, parsed_calendar, what);
  const std::int64_t reference_day =
      day_number(parsed_calendar, parsed.year, parsed.month, parsed.day);
  std::vector<CalendarDate> dates;
  dates.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double seconds = values[i] * parsed.seconds_per_unit + parsed.seconds_of_day;
    // |seconds| < 2^62 keeps llround exact and day numbers far from overflow.
    FR_REQUIRE(std::isfinite(seconds) && std::abs(seconds) < 4.0e18, what, ": time value ",
               values[i], " at index ", i, " cannot be decoded with units '", units, "'");
    const std::int64_t total = std::llround(seconds);
    const std::int64_t whole_days = floor_div(total, 86400);
    CalendarDate date = date_from_day_number(parsed_calendar, reference_day + whole_days);
    date.seconds_of_day = static_cast<double>(total - whole_days * 86400);
    dates.push_back(date);
  }
  return dates;
}

}  // namespace fluxrecon::io
