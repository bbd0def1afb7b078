#include "spec/values.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "common/go_duration.h"

namespace ramp::spec {
namespace {

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Parses an optionally signed decimal integer that must consume all of `text`.
template <class Int>
bool parseInt(std::string_view text, Int* out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && begin != ptr;
}

}  // namespace

bool isTemplated(std::string_view text) {
  size_t open = text.find("{{");
  return open != std::string_view::npos && text.find("}}", open) != std::string_view::npos;
}

Result<int64_t> pauseDurationSeconds(const IntOrString& duration) {
  if (duration.isInt()) return duration.intValue();
  const std::string& s = duration.stringValue();
  int32_t seconds = 0;
  if (parseInt(s, &seconds)) return seconds;
  auto d = parseGoDuration(s);
  if (!d) return invalid("invalid pause duration \"" + s + "\": " + d.error().message);
  return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
}

bool isBarePercentString(const IntOrString& value) {
  if (value.isInt()) return false;
  int64_t n = 0;
  return parseInt(value.stringValue(), &n);
}

Result<int32_t> resolveIntOrPercent(const IntOrString& value, int32_t total, bool roundUp) {
  if (value.isInt()) {
    int64_t v = value.intValue();
    if (v > INT32_MAX || v < INT32_MIN) return invalid("value out of range");
    return static_cast<int32_t>(v);
  }
  std::string_view s = value.stringValue();
  if (!s.empty() && s.back() == '%') s.remove_suffix(1);
  int64_t percent = 0;
  if (!parseInt(s, &percent) || percent > INT32_MAX || percent < INT32_MIN) {
    return invalid("invalid value \"" + value.stringValue() +
                   "\": must be an integer or a percentage such as \"25%\"");
  }
  // Exact integer arithmetic (Go uses float64 here; identical for realistic values).
  int64_t product = percent * static_cast<int64_t>(total);
  int64_t q = product / 100;
  int64_t r = product % 100;
  if (r != 0) {
    if (roundUp && product > 0) ++q;
    if (!roundUp && product < 0) --q;
  }
  if (q > INT32_MAX || q < INT32_MIN) return invalid("value out of range");
  return static_cast<int32_t>(q);
}

IntOrString maxSurgeOrDefault(const CanaryStrategy& canary) {
  return canary.maxSurge ? *canary.maxSurge
                         : IntOrString{std::to_string(kDefaultMaxSurgePercent) + "%"};
}

IntOrString maxUnavailableOrDefault(const CanaryStrategy& canary) {
  return canary.maxUnavailable ? *canary.maxUnavailable
                               : IntOrString{std::to_string(kDefaultMaxUnavailablePercent) + "%"};
}

Result<Fenceposts> resolveFenceposts(const IntOrString& maxSurge, const IntOrString& maxUnavailable,
                                     int32_t replicas) {
  auto surge = resolveIntOrPercent(maxSurge, replicas, true);
  if (!surge) return std::unexpected(surge.error());
  auto unavailable = resolveIntOrPercent(maxUnavailable, replicas, false);
  if (!unavailable) return std::unexpected(unavailable.error());
  Fenceposts f{*surge, *unavailable};
  if (f.maxSurge == 0 && f.maxUnavailable == 0) f.maxUnavailable = 1;
  return f;
}

std::string formatRfc3339(Time t) {
  auto ms = t.time_since_epoch().count();
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t milli = ms - secs * 1000;
  std::chrono::sys_days days{
      std::chrono::days{secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400)}};
  int64_t rem = secs - days.time_since_epoch().count() * 86400;
  std::chrono::year_month_day ymd{days};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), rem / 3600,
                  (rem % 3600) / 60, rem % 60);
  if (milli != 0) out += fmt::format(".{:03}", milli);
  return out + "Z";
}

Result<Time> parseRfc3339(std::string_view text) {
  auto bad = [&] { return invalid("invalid time \"" + std::string(text) + "\": want RFC 3339"); };
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  if (text.size() < 20) return bad();
  auto num = [&](size_t pos, size_t len, int* out) {
    for (size_t i = pos; i < pos + len; ++i)
      if (!isDigit(text[i])) return false;
    *out = 0;
    for (size_t i = pos; i < pos + len; ++i) *out = *out * 10 + (text[i] - '0');
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!num(0, 4, &year) || text[4] != '-' || !num(5, 2, &month) || text[7] != '-' ||
      !num(8, 2, &day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !num(11, 2, &hour) || text[13] != ':' || !num(14, 2, &minute) || text[16] != ':' ||
      !num(17, 2, &second)) {
    return bad();
  }
  size_t i = 19;
  int64_t millis = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t start = i;
    int digits = 0;
    while (i < text.size() && isDigit(text[i])) {
      if (digits < 3) {
        millis = millis * 10 + (text[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (i == start) return bad();
    while (digits < 3) {
      millis *= 10;
      ++digits;
    }
  }
  int offsetMinutes = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, &oh) || text[i + 3] != ':' || !num(i + 4, 2, &om)) return bad();
    offsetMinutes = (oh * 60 + om) * (text[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return bad();
  }
  if (i != text.size()) return bad();
  std::chrono::year_month_day ymd{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  std::chrono::sys_days days{ymd};
  int64_t secs = days.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second -
                 offsetMinutes * 60;
  return Time(std::chrono::milliseconds(secs * 1000 + millis));
}

Result<long double> parseQuantity(std::string_view text) {
  const auto bad = [&](std::string_view why) -> Result<long double> {
    return makeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(text) + "\" is not a quantity: " + std::string(why) +
                         " (a number with an optional suffix, as 500m, 1.5, 128Mi, 1G, 1e3)");
  };
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      ++digits;
    } else if (text[i] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return bad("it does not start with a number");
  long double value = std::strtold(std::string(text.substr(0, i)).c_str(), nullptr);
  std::string_view suffix = text.substr(i);
  static constexpr std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1.0L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
      {"Ki", 1024.0L},
      {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L}};
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return value * factor;
  }
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view exponent = suffix.substr(1);
    size_t k = 0;
    if (k < exponent.size() && (exponent[k] == '+' || exponent[k] == '-')) ++k;
    if (k == exponent.size()) return bad("the exponent has no digits");
    for (size_t j = k; j < exponent.size(); ++j) {
      if (exponent[j] < '0' || exponent[j] > '9') return bad("the exponent is not an integer");
    }
    if (exponent.size() - k > 4) return bad("the exponent is out of range");
    return value * std::pow(10.0L, std::stold(std::string(exponent)));
  }
  return bad("unknown suffix \"" + std::string(suffix) +
             "\" (use one of m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent e3)");
}

}  // namespace ramp::spec
