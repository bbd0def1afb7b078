// common/cron.h: Argo CD's sync-window schedules (robfig/cron's five fields) in IANA zones.
#include "common/cron.h"

#include <gtest/gtest.h>

#include "spec/values.h"

namespace ramp {
namespace {

Time at(const char* rfc3339) { return *spec::parseRfc3339(rfc3339); }
std::string fmt(Time t) { return spec::formatRfc3339(t); }

TEST(CronTest, ParseErrorsNameTheField) {
  struct Row {
    const char* text;
    const char* want;
  };
  const Row rows[] = {
      {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"* 24 * * *", "hour: 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"* * * FOO *", "month: \"FOO\" is not a number"},
      {"* * * * 7", "day-of-week: 7 is out of range 0-6"},
      {"*/0 * * * *", "minute: bad step \"0\""},
      {"5-1 * * * *", "minute: range \"5-1\" runs backwards"},
      {"1,,2 * * * *", "minute: empty list item in \"1,,2\""},
  };
  for (const Row& row : rows) {
    auto s = parseCron(row.text);
    ASSERT_FALSE(s) << row.text;
    EXPECT_EQ(s.error().message, row.want) << row.text;
  }
}

TEST(CronTest, NextFiring) {
  struct Row {
    const char* schedule;
    const char* zone;
    const char* after;
    const char* want;
  };
  const Row rows[] = {
      {"0 22 * * *", "", "2026-12-06T10:00:00Z", "2026-12-06T22:00:00Z"},
      {"0 22 * * *", "", "2026-12-06T22:00:00Z", "2026-12-07T22:00:00Z"},  // strictly after
      {"*/15 * * * *", "", "2026-12-06T10:07:30Z", "2026-12-06T10:15:00Z"},
      {"0 9 * * MON-FRI", "", "2026-12-05T12:00:00Z", "2026-12-07T09:00:00Z"},  // Sat -> Mon
      {"0 0 1 jan,jul *", "", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"},
      // Both day fields restricted: either matches (the 13th, or a Friday).
      {"0 0 13 * 5", "", "2026-12-06T00:00:00Z", "2026-12-11T00:00:00Z"},
      {"0 0 13 * 5", "", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"},
      // In a zone: 22:00 in Paris is 21:00 UTC in winter, 20:00 in summer.
      {"0 22 * * *", "Europe/Paris", "2026-12-06T10:00:00Z", "2026-12-06T21:00:00Z"},
      {"0 22 * * *", "Europe/Paris", "2026-07-06T10:00:00Z", "2026-07-06T20:00:00Z"},
      // 02:30 does not exist in Paris on 2026-03-29 (clocks jump 02:00 -> 03:00): next day.
      {"30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
      // 02:30 happens twice on 2026-10-25: it fires once, at the first.
      {"30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
      {"30 2 * * *", "Europe/Paris", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
  };
  for (const Row& row : rows) {
    auto s = parseCron(row.schedule);
    ASSERT_TRUE(s) << row.schedule;
    auto next = nextCronTime(*s, row.zone, at(row.after));
    ASSERT_TRUE(next) << row.schedule << ": " << next.error().message;
    EXPECT_EQ(fmt(*next), row.want) << row.schedule << " in " << row.zone << " after " << row.after;
  }
  auto never = nextCronTime(*parseCron("0 0 30 2 *"), "", at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(nextCronTime(*parseCron("* * * * *"), "Mars/Olympus", at("2026-01-01T00:00:00Z")));
}

TEST(CronTest, WindowOpenFromFiringForDuration) {
  auto s = *parseCron("0 22 * * *");
  const Duration eightHours = std::chrono::hours(8);
  struct Row {
    const char* now;
    bool open;
  };
  const Row rows[] = {
      {"2026-12-06T21:59:59Z", false}, {"2026-12-06T22:00:00Z", true},
      {"2026-12-07T05:59:59Z", true},  {"2026-12-07T06:00:00Z", false},
      {"2026-12-07T12:00:00Z", false},
  };
  for (const Row& row : rows) {
    auto w = cronWindowAt(s, "", eightHours, at(row.now));
    ASSERT_TRUE(w);
    EXPECT_EQ(w->open, row.open) << row.now;
  }
  auto w = cronWindowAt(s, "", eightHours, at("2026-12-07T01:00:00Z"));
  EXPECT_EQ(fmt(w->opened), "2026-12-06T22:00:00Z");
  EXPECT_EQ(fmt(w->closes), "2026-12-07T06:00:00Z");
  EXPECT_TRUE(checkTimeZone("America/New_York"));
  EXPECT_TRUE(checkTimeZone(""));
  EXPECT_FALSE(checkTimeZone("Europe/Pariss"));
}

}  // namespace
}  // namespace ramp
