// Times for tile datasets: naive UTC datetimes held as whole seconds since
// 1970-01-01 00:00:00 (the original never handles time zones), scene IDs
// `<source>__YYYYmmddHHMM`, ISO-8601 durations and the longitude-only
// "nearest zenith time" of satdata (spec 2.1, 2.3).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace fluxrecon::tiles {

using Seconds = std::int64_t;

struct Civil {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

// Proleptic Gregorian calendar.
std::int64_t days_from_civil(int year, int month, int day);
Seconds make_time(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);
Civil civil(Seconds t);
int day_of_year(Seconds t);  // 1..366

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.fff]]" or with 'T'; fractions of a
// second are dropped. Throws an Error naming `what` and the accepted forms.
Seconds parse_datetime(const std::string& text, const std::string& what);
// "2020-02-02T14:00:00".
std::string iso_datetime(Seconds t);

// "P1D", "PT30M", "PT1H30M", "P1DT2H", "PT90S" (no years or months: their
// length is not fixed). Throws an Error naming `what`.
Seconds parse_iso_duration(const std::string& text, const std::string& what);
std::string iso_duration(Seconds s);

// Scene IDs: the time truncated to the minute.
std::string make_scene_id(const std::string& source, Seconds t);
// Splits on "__" (exactly two parts) and parses the time; throws naming `id`.
std::pair<std::string, Seconds> parse_scene_id(const std::string& id);

// satdata's zenith time at longitude `lon_deg` (east positive): 12:00 UTC of
// t's date minus lon x 240 s, wrapped to within +-12 h of t. Longitude only:
// no equation of time (kept for parity with the original, spec Q14).
double nearest_zenith_time(Seconds t, double lon_deg);

}  // namespace fluxrecon::tiles
