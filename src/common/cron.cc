#include "common/cron.h"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace ramp {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // nullptr or max-min+1 names (upper case)
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 6, kDayNames},
}};

std::unexpected<Error> fieldError(const FieldSpec& f, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, std::string(f.name) + ": " + what);
}

Result<int> parseNumber(const FieldSpec& f, std::string_view text) {
  if (f.names != nullptr) {
    std::string upper(text);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 0; i <= f.max - f.min; ++i) {
      if (upper == f.names[i]) return f.min + i;
    }
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return fieldError(f, "\"" + std::string(text) + "\" is not a number");
  }
  if (value < f.min || value > f.max) {
    return fieldError(f, std::to_string(value) + " is out of range " + std::to_string(f.min) + "-" +
                             std::to_string(f.max));
  }
  return value;
}

// Parses one field into `bits` (indexed by value); `any` is set for * and ?.
Status parseField(const FieldSpec& f, std::string_view text, std::vector<bool>& bits, bool& any) {
  bits.assign(static_cast<size_t>(f.max) + 1, false);
  any = false;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.empty()) return fieldError(f, "empty list item in \"" + std::string(text) + "\"");
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      std::string_view s = part.substr(slash + 1);
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size() || step <= 0) {
        return fieldError(f, "bad step \"" + std::string(s) + "\"");
      }
      part = part.substr(0, slash);
    }
    int low = 0, high = 0;
    if (part == "*" || part == "?") {
      low = f.min;
      high = f.max;
      if (step == 1 && text.find(',') == std::string_view::npos) any = true;
    } else if (size_t dash = part.find('-'); dash != std::string_view::npos) {
      auto a = parseNumber(f, part.substr(0, dash));
      if (!a) return std::unexpected(a.error());
      auto b = parseNumber(f, part.substr(dash + 1));
      if (!b) return std::unexpected(b.error());
      if (*a > *b) {
        return fieldError(f, "range \"" + std::string(part) + "\" runs backwards");
      }
      low = *a;
      high = *b;
    } else {
      auto a = parseNumber(f, part);
      if (!a) return std::unexpected(a.error());
      low = *a;
      // robfig: "n/step" means n through the maximum.
      high = step > 1 ? f.max : *a;
    }
    for (int v = low; v <= high; v += step) bits[static_cast<size_t>(v)] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return {};
}

template <size_t N>
void copyBits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (size_t i = 0; i < N && i < from.size(); ++i) to[i] = from[i];
}

bool dayMatches(const CronSchedule& s, const date::year_month_day& ymd) {
  const bool dom = s.daysOfMonth[static_cast<unsigned>(ymd.day())];
  const bool dow = s.daysOfWeek[date::weekday(date::sys_days(ymd)).c_encoding()];
  if (s.anyDayOfMonth || s.anyDayOfWeek) return dom && dow;
  return dom || dow;
}

Result<const date::time_zone*> zoneNamed(std::string_view zone) {
  if (zone.empty() || zone == "UTC") return nullptr;  // nullptr = UTC
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return makeError(ErrorCode::kInvalidArgument, "unknown time zone \"" + std::string(zone) +
                                                      "\" (an IANA name such as "
                                                      "Europe/Paris is expected)");
  }
}

}  // namespace

Result<CronSchedule> parseCron(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) parts.push_back(text.substr(i, j - i));
    i = j;
  }
  if (parts.size() != kFields.size()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "expected 5 fields (minute hour day-of-month month day-of-week), got " +
                         std::to_string(parts.size()));
  }
  CronSchedule s;
  std::vector<bool> bits;
  bool any = false;
  for (size_t f = 0; f < kFields.size(); ++f) {
    if (auto ok = parseField(kFields[f], parts[f], bits, any); !ok) {
      return std::unexpected(ok.error());
    }
    switch (f) {
      case 0: copyBits(bits, s.minutes); break;
      case 1: copyBits(bits, s.hours); break;
      case 2:
        copyBits(bits, s.daysOfMonth);
        s.anyDayOfMonth = any;
        break;
      case 3: copyBits(bits, s.months); break;
      case 4:
        copyBits(bits, s.daysOfWeek);
        s.anyDayOfWeek = any;
        break;
    }
  }
  return s;
}

Status checkTimeZone(std::string_view zone) {
  auto z = zoneNamed(zone);
  if (!z) return std::unexpected(z.error());
  return {};
}

Result<Time> nextCronTime(const CronSchedule& schedule, std::string_view zone, Time after) {
  auto tz = zoneNamed(zone);
  if (!tz) return std::unexpected(tz.error());
  using std::chrono::minutes;
  // Local wall time of `after`, then the first whole local minute after it.
  const auto sysMinute = std::chrono::floor<minutes>(after);
  date::local_time<minutes> local = *tz == nullptr
                                        ? date::local_time<minutes>(sysMinute.time_since_epoch())
                                        : date::floor<minutes>((*tz)->to_local(sysMinute));
  local += minutes(1);
  const auto startDay = date::floor<date::days>(local);
  for (int d = 0; d < 5 * 366; ++d) {
    const date::local_days day = startDay + date::days(d);
    const date::year_month_day ymd(day);
    if (!schedule.months[static_cast<unsigned>(ymd.month())] || !dayMatches(schedule, ymd)) {
      continue;
    }
    for (int h = 0; h < 24; ++h) {
      if (!schedule.hours[static_cast<size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!schedule.minutes[static_cast<size_t>(m)]) continue;
        const date::local_time<minutes> candidate = day + std::chrono::hours(h) + minutes(m);
        if (candidate < local) continue;
        if (*tz == nullptr) {
          return Time(std::chrono::duration_cast<Duration>(candidate.time_since_epoch()));
        }
        const date::local_info info = (*tz)->get_info(candidate);
        if (info.result == date::local_info::nonexistent) continue;  // skipped by DST
        const auto sys = candidate - info.first.offset;              // first occurrence
        const Time t(std::chrono::duration_cast<Duration>(sys.time_since_epoch()));
        if (t > after) return t;
      }
    }
  }
  return makeError(ErrorCode::kNotFound, "the schedule never fires");
}

Result<CronWindow> cronWindowAt(const CronSchedule& schedule, std::string_view zone,
                                Duration length, Time now) {
  auto next = nextCronTime(schedule, zone, now - length);
  if (!next) {
    if (next.error().code == ErrorCode::kNotFound) return CronWindow{};
    return std::unexpected(next.error());
  }
  CronWindow w;
  if (*next <= now) {
    w.open = true;
    w.opened = *next;
    w.closes = *next + length;
  }
  return w;
}

}  // namespace ramp
