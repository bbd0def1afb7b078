#pragma once

// Cron schedules in a time zone: the `schedule` + `duration` + `timeZone` of Argo CD's sync
// windows (AppProject.spec.syncWindows). The grammar is Argo CD's (robfig/cron's standard
// parser with the five fields minute, hour, day-of-month, month, day-of-week): `*`, `?` (day
// fields), numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month names JAN-DEC and
// day names SUN-SAT (any case). Day-of-week 0 is Sunday. As in robfig/cron, when both day fields
// are restricted a day matches if either does; when one is `*` or `?` both must match.
//
// Times are evaluated in the schedule's IANA zone (Howard Hinnant's date/tz over the system's
// zoneinfo): a local time skipped by a daylight-saving change is not a firing, and a repeated
// one fires once (its first occurrence).
//
// Thread safety: pure functions (the zone database is read once, behind the library's lock).

#include <bitset>
#include <string>
#include <string_view>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> daysOfMonth;  // bit 0 unused
  std::bitset<13> months;       // bit 0 unused
  std::bitset<7> daysOfWeek;    // 0 = Sunday
  bool anyDayOfMonth = false;   // the field was * or ?
  bool anyDayOfWeek = false;
  bool operator==(const CronSchedule&) const = default;
};

// Parses a five-field schedule. kInvalidArgument naming the field and what is wrong, e.g.
// `hour: 24 is out of range 0-23`, `expected 5 fields (minute hour day-of-month month
// day-of-week), got 4`.
Result<CronSchedule> parseCron(std::string_view text);

// Ok when `zone` names an IANA time zone of the system's database ("" and "UTC" always do);
// kInvalidArgument otherwise.
Status checkTimeZone(std::string_view zone);

// The first firing of `schedule` strictly after `after`, in `zone` ("" = UTC), searched up to
// five years ahead (robfig's bound); kNotFound when none (e.g. "0 0 30 2 *"). kInvalidArgument
// for an unknown zone.
Result<Time> nextCronTime(const CronSchedule& schedule, std::string_view zone, Time after);

// Whether a window of `length` opening at each firing of `schedule` is open at `now`, as Argo
// CD's SyncWindow.active: the first firing after now - length is not after now. On success
// returns the window's bounds in `opened`/`closes` (set only when open). Errors as nextCronTime,
// except that "no firing" is simply closed.
struct CronWindow {
  bool open = false;
  Time opened{};
  Time closes{};
};
Result<CronWindow> cronWindowAt(const CronSchedule& schedule, std::string_view zone,
                                Duration length, Time now);

}  // namespace ramp
