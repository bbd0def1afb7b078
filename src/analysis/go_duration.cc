#include "analysis/go_duration.h"

#include <cstdint>
#include <string>

namespace ramp::analysis {
namespace {

std::unexpected<Error> invalid(std::string_view text) {
  return makeError(ErrorCode::kInvalidArgument,
                   "time: invalid duration \"" + std::string(text) + "\"");
}

// Nanoseconds per unit, or 0 for an unknown unit.
int64_t unitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000LL;
  if (unit == "m") return 60LL * 1000000000LL;
  if (unit == "h") return 3600LL * 1000000000LL;
  return 0;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> parseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return invalid(text);
  // Accumulate in long double nanoseconds; Go's limit is about 292 years of int64 nanoseconds.
  long double total = 0;
  while (!s.empty()) {
    if (!(isDigit(s[0]) || s[0] == '.')) return invalid(text);
    size_t i = 0;
    long double whole = 0;
    bool sawDigits = false;
    while (i < s.size() && isDigit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      ++i;
      sawDigits = true;
    }
    long double frac = 0;
    long double scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && isDigit(s[i])) {
        frac = frac * 10 + (s[i] - '0');
        scale *= 10;
        ++i;
        sawDigits = true;
      }
    }
    if (!sawDigits) return invalid(text);
    size_t u = i;
    while (u < s.size() && !isDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "time: missing unit in duration \"" + std::string(text) + "\"");
    }
    int64_t nanos = unitNanos(unit);
    if (nanos == 0) {
      return makeError(ErrorCode::kInvalidArgument, "time: unknown unit \"" + std::string(unit) +
                                                        "\" in duration \"" + std::string(text) +
                                                        "\"");
    }
    total += (whole + frac / scale) * nanos;
    if (total > 9223372036854775807.0L) return invalid(text);
    s.remove_prefix(u);
  }
  auto ms = static_cast<int64_t>(total / 1000000.0L);
  return Duration(negative ? -ms : ms);
}

}  // namespace ramp::analysis
