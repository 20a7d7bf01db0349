// CF time decoding against hand-computed dates in every calendar, plus the
// error messages for units and calendars we cannot decode.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/time_axis.hpp"

namespace fluxrecon::io {
namespace {

CalendarDate decode_one(double value, const std::string& units, const std::string& calendar) {
  return decode_time({value}, units, calendar, "test.nc: time").at(0);
}

void expect_date(const CalendarDate& date, int year, int month, int day, double seconds = 0) {
  EXPECT_EQ(date.year, year);
  EXPECT_EQ(date.month, month);
  EXPECT_EQ(date.day, day);
  EXPECT_EQ(date.seconds_of_day, seconds);
}

// Message of the Error that `body` throws, or "" if it does not throw one.
template <class Body>
std::string error_message(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TimeAxis, Day360MonthsAreThirtyDays) {
  const std::string units = "days since 0001-01-01";
  expect_date(decode_one(15, units, "360_day"), 1, 1, 16);
  expect_date(decode_one(45, units, "360_day"), 1, 2, 16);
  expect_date(decode_one(375, units, "360_day"), 2, 1, 16);
  expect_date(decode_one(1065, units, "360_day"), 3, 12, 16);
  expect_date(decode_one(359.5, units, "360_day"), 1, 12, 30, 43200);
  // February 30 exists in this calendar.
  expect_date(decode_one(1, "days since 2000-02-29", "360_day"), 2000, 2, 30);
}

TEST(TimeAxis, NoLeapHasNoFebruary29) {
  const std::string units = "days since 0001-01-01 00:00:00";
  expect_date(decode_one(365, units, "noleap"), 2, 1, 1);
  expect_date(decode_one(58, units, "noleap"), 1, 2, 28);
  expect_date(decode_one(59, units, "365_day"), 1, 3, 1);
  expect_date(decode_one(1, "days since 2000-02-28", "noleap"), 2000, 3, 1);
}

TEST(TimeAxis, AllLeapHasFebruary29EveryYear) {
  expect_date(decode_one(1, "days since 2001-02-28", "all_leap"), 2001, 2, 29);
  expect_date(decode_one(2, "days since 2001-02-28", "366_day"), 2001, 3, 1);
  expect_date(decode_one(366, "days since 2001-01-01", "all_leap"), 2002, 1, 1);
}

TEST(TimeAxis, StandardCalendarSwitchesFromJulianToGregorianIn1582) {
  expect_date(decode_one(1, "days since 1582-10-04", "standard"), 1582, 10, 15);
  expect_date(decode_one(-1, "days since 1582-10-15", "gregorian"), 1582, 10, 4);
  // 1500 is a leap year in the Julian calendar only.
  expect_date(decode_one(1, "days since 1500-02-28", "standard"), 1500, 2, 29);
  expect_date(decode_one(1, "days since 1500-02-28", "proleptic_gregorian"), 1500, 3, 1);
  expect_date(decode_one(1, "days since 1582-10-04", "proleptic_gregorian"), 1582, 10, 5);
  // Julian 0001-01-01 is two days before proleptic Gregorian 0001-01-01.
  expect_date(decode_one(730121, "days since 0001-01-01", "standard"), 2000, 1, 1);
  expect_date(decode_one(730119, "days since 0001-01-01", "proleptic_gregorian"), 2000, 1, 1);
}

TEST(TimeAxis, JulianCalendarKeepsCenturyLeapYears) {
  expect_date(decode_one(1, "days since 1900-02-28", "julian"), 1900, 2, 29);
  expect_date(decode_one(2, "days since 1900-02-28", "julian"), 1900, 3, 1);
  expect_date(decode_one(1, "days since 1900-02-28", "standard"), 1900, 3, 1);
}

TEST(TimeAxis, Bling30TimeCounterIsMidMonth) {
  const std::string units = "days since 1958-01-01 00:00:00";
  expect_date(decode_one(380.5, units, "standard"), 1959, 1, 16, 43200);
  expect_date(decode_one(15.5, units, "standard"), 1958, 1, 16, 43200);
  // A missing calendar attribute means the standard calendar.
  expect_date(decode_one(380.5, units, ""), 1959, 1, 16, 43200);
}

TEST(TimeAxis, UnitsInSecondsHoursMinutesWithTimeOfDayAndZone) {
  expect_date(decode_one(978350400, "seconds since 1970-01-01 00:00:00", "gregorian"), 2001, 1, 1,
              43200);
  expect_date(decode_one(18, "hours since 2000-01-01T06:00:00Z", "standard"), 2000, 1, 2);
  expect_date(decode_one(90, "minutes since 2000-01-01 00:00 UTC", "standard"), 2000, 1, 1, 5400);
  expect_date(decode_one(1, "Days since 1958-1-1", "Gregorian"), 1958, 1, 2);
  expect_date(decode_one(0.5, "days since 2000-01-01 06:30:15", "NOLEAP"), 2000, 1, 1,
              18 * 3600 + 30 * 60 + 15);
}

TEST(TimeAxis, NegativeOffsetsGoBackwards) {
  expect_date(decode_one(-1, "days since 2000-01-01", "standard"), 1999, 12, 31);
  expect_date(decode_one(-0.25, "days since 2000-01-01", "standard"), 1999, 12, 31, 64800);
  expect_date(decode_one(-1, "days since 0001-01-01", "360_day"), 0, 12, 30);
  expect_date(decode_one(-1, "days since 0001-01-01", "noleap"), 0, 12, 31);
}

TEST(TimeAxis, RoundsToTheNearestSecond) {
  expect_date(decode_one(380.49999999999, "days since 1958-01-01", "standard"), 1959, 1, 16, 43200);
  expect_date(decode_one(0.99999999999, "days since 1958-01-01", "standard"), 1958, 1, 2, 0);
}

TEST(TimeAxis, ConsecutiveDaysFollowDaysInMonth) {
  // Walking day by day must visit every date that days_in_month allows, in
  // order, for each calendar (1500-1700 crosses the 1582 switch).
  for (const std::string calendar :
       {"standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"}) {
    std::vector<double> days(200 * 366);
    for (std::size_t i = 0; i < days.size(); ++i) days[i] = static_cast<double>(i);
    const auto dates = decode_time(days, "days since 1500-01-01", calendar, "walk");
    for (std::size_t i = 1; i < dates.size(); ++i) {
      const auto& previous = dates[i - 1];
      CalendarDate expected = previous;
      // October 1582 has 21 days in the standard calendar, numbered 1-4, 15-31.
      const bool switch_month =
          calendar == "standard" && previous.year == 1582 && previous.month == 10;
      const int last_day =
          switch_month ? 31 : days_in_month(previous.year, previous.month, calendar);
      if (switch_month && previous.day == 4) {
        expected.day = 15;
      } else if (previous.day < last_day) {
        expected.day += 1;
      } else {
        expected.day = 1;
        expected.month = previous.month % 12 + 1;
        expected.year += previous.month == 12 ? 1 : 0;
      }
      ASSERT_EQ(dates[i].year, expected.year) << calendar << " step " << i;
      ASSERT_EQ(dates[i].month, expected.month) << calendar << " step " << i;
      ASSERT_EQ(dates[i].day, expected.day) << calendar << " step " << i;
    }
  }
}

TEST(TimeAxis, DaysInMonthPerCalendar) {
  EXPECT_EQ(days_in_month(2001, 2, "360_day"), 30);
  EXPECT_EQ(days_in_month(2001, 1, "360_day"), 30);
  EXPECT_EQ(days_in_month(2000, 2, "noleap"), 28);
  EXPECT_EQ(days_in_month(1999, 2, "all_leap"), 29);
  EXPECT_EQ(days_in_month(1900, 2, "standard"), 28);
  EXPECT_EQ(days_in_month(2000, 2, "gregorian"), 29);
  EXPECT_EQ(days_in_month(1500, 2, "standard"), 29);
  EXPECT_EQ(days_in_month(1500, 2, "proleptic_gregorian"), 28);
  EXPECT_EQ(days_in_month(1900, 2, "julian"), 29);
  EXPECT_EQ(days_in_month(1582, 10, "standard"), 21);
  EXPECT_EQ(days_in_month(1582, 10, "proleptic_gregorian"), 31);
  EXPECT_THROW(days_in_month(2000, 13, "standard"), Error);
}

TEST(TimeAxis, UnknownCalendarNamesWhatAndTheAllowedValues) {
  const auto message =
      error_message([] { decode_time({0.0}, "days since 2000-01-01", "lunar", "x.nc: time"); });
  EXPECT_NE(message.find("x.nc: time"), std::string::npos) << message;
  EXPECT_NE(message.find("'lunar'"), std::string::npos) << message;
  EXPECT_NE(message.find("360_day"), std::string::npos) << message;
  EXPECT_NE(message.find("proleptic_gregorian"), std::string::npos) << message;
  EXPECT_THROW(days_in_month(2000, 1, "none"), Error);
}

TEST(TimeAxis, BadUnitsNameWhatAndTheExpectedForm) {
  for (const std::string units :
       {"fortnights since 2000-01-01", "days after 2000-01-01", "days since", "",
        "months since 2000-01-01", "days since 2000-01-01 12:00:00 +05:00"}) {
    const auto message =
        error_message([&] { decode_time({0.0}, units, "standard", "y.nc: time_counter"); });
    EXPECT_NE(message.find("y.nc: time_counter"), std::string::npos) << units << ": " << message;
    EXPECT_NE(message.find("days, hours, minutes, seconds"), std::string::npos)
        << units << ": " << message;
  }
}

TEST(TimeAxis, ImpossibleReferenceDatesAndValuesAreErrors) {
  EXPECT_THROW(decode_one(0, "days since 2000-13-01", "standard"), Error);
  EXPECT_THROW(decode_one(0, "days since 2001-02-29", "standard"), Error);
  EXPECT_THROW(decode_one(0, "days since 2000-02-31", "360_day"), Error);
  EXPECT_THROW(decode_one(0, "days since 1582-10-10", "standard"), Error);
  EXPECT_NO_THROW(decode_one(0, "days since 1582-10-10", "proleptic_gregorian"));
  EXPECT_THROW(decode_one(0, "days since 2000-01-01 25:00", "standard"), Error);
  const auto message = error_message([] {
    decode_time({1.0, std::nan("")}, "days since 2000-01-01", "standard", "z.nc: t");
  });
  EXPECT_NE(message.find("index 1"), std::string::npos) << message;
}

}  // namespace
}  // namespace fluxrecon::io
