#include "common/go_duration.h"

#include <cstdint>

namespace ramp {
namespace {

constexpr uint64_t kTwo63 = uint64_t{1} << 63;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Go's time.quote: the text in double quotes; '"' and '\\' escaped with a backslash; every byte of
// a non-ASCII or control character written as \xNN.
std::string goQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x80 || b < 0x20) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      continue;
    }
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

std::unexpected<Error> parseError(std::string_view what, std::string_view text) {
  return makeError(ErrorCode::kInvalidArgument, "time: " + std::string(what) + " " + goQuote(text));
}

// Nanoseconds per unit, or 0 for an unknown unit.
uint64_t unitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000 * 1000 * 1000;
  if (unit == "m") return uint64_t{60} * 1000 * 1000 * 1000;
  if (unit == "h") return uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

// Go's fmtFrac: the `digits` fractional digits of v, trailing zeros dropped (and the point
// with them). Returns the fraction text and v with those digits removed.
std::string fraction(uint64_t& v, int digits) {
  std::string frac;
  bool print = false;
  for (int i = 0; i < digits; ++i) {
    const auto digit = static_cast<char>('0' + v % 10);
    print = print || digit != '0';
    if (print) frac.insert(frac.begin(), digit);
    v /= 10;
  }
  return print ? "." + frac : std::string();
}

}  // namespace

Result<std::chrono::nanoseconds> parseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return parseError("invalid duration", text);
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || isDigit(s[0]))) return parseError("invalid duration", text);
    // The integer part, [0-9]*: an overflow is an error.
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < s.size() && isDigit(s[i]); ++i) {
      if (whole > kTwo63 / 10) return parseError("invalid duration", text);
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      if (whole > kTwo63) return parseError("invalid duration", text);
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // The fraction, (\.[0-9]*)?: digits past 63 bits of precision are read and ignored.
    uint64_t frac = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      for (i = 0; i < s.size() && isDigit(s[i]); ++i) {
        if (overflow) continue;
        if (frac > (kTwo63 - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t next = frac * 10 + static_cast<uint64_t>(s[i] - '0');
        if (next > kTwo63) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
      post = i > 0;
      s.remove_prefix(i);
    }
    if (!pre && !post) return parseError("invalid duration", text);  // ".s", "-.s"
    // The unit: everything up to the next digit or point.
    for (i = 0; i < s.size() && !(s[i] == '.' || isDigit(s[i])); ++i) {
    }
    if (i == 0) return parseError("missing unit in duration", text);
    const std::string_view unitText = s.substr(0, i);
    s.remove_prefix(i);
    const uint64_t unit = unitNanos(unitText);
    if (unit == 0) {
      return parseError("unknown unit " + goQuote(unitText) + " in duration", text);
    }
    if (whole > kTwo63 / unit) return parseError("invalid duration", text);
    uint64_t value = whole * unit;
    if (frac > 0) {
      // As Go: in float64, which is nanosecond-exact up to an hour's fraction.
      value +=
          static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (value > kTwo63) return parseError("invalid duration", text);
    }
    total += value;
    if (total > kTwo63) return parseError("invalid duration", text);
  }
  if (negative) return std::chrono::nanoseconds(static_cast<int64_t>(0 - total));
  if (total > kTwo63 - 1) return parseError("invalid duration", text);
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

Result<Duration> parseGoDurationMillis(std::string_view text) {
  auto d = parseGoDuration(text);
  if (!d) return std::unexpected(d.error());
  return std::chrono::duration_cast<Duration>(*d);
}

std::string formatGoDuration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000 * 1000 * 1000) {
    // Under a second: ns, µs or ms, with a fraction.
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000 * 1000) {
      const std::string frac = fraction(u, 3);
      out = std::to_string(u) + frac + "\xC2\xB5s";
    } else {
      const std::string frac = fraction(u, 6);
      out = std::to_string(u) + frac + "ms";
    }
  } else {
    const std::string frac = fraction(u, 9);
    const uint64_t seconds = u % 60;
    u /= 60;
    out = std::to_string(seconds) + frac + "s";
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

}  // namespace ramp
