// CF time axes: "UNITS since REFERENCE" with the CF calendars, decoded to
// calendar dates so that months can be matched exactly across calendars.
#pragma once

#include <string>
#include <vector>

namespace fluxrecon::io {

struct CalendarDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  double seconds_of_day = 0;
};

// Calendars: standard/gregorian (Julian before 1582-10-15), proleptic_gregorian,
// julian, noleap/365_day, all_leap/366_day, 360_day. Units: seconds, minutes,
// hours, days since YYYY-MM-DD[ hh:mm[:ss]]. Throws fluxrecon::Error naming
// `what` (e.g. "file.nc: time_counter") for unknown units or calendars.
std::vector<CalendarDate> decode_time(const std::vector<double>& values, const std::string& units,
                                      const std::string& calendar, const std::string& what);

// Days in `month` of `year` in `calendar` (already validated name).
int days_in_month(int year, int month, const std::string& calendar);

}  // namespace fluxrecon::io
