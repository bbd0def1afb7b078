#include <charconv>
#include <cmath>
#include <string>

#include "ramp/value.h"

namespace ramp {
namespace {

// Go's %v for float64 is strconv.FormatFloat(f, 'g', -1, 64): shortest round-trip digits,
// exponent form when exp < -4 || exp >= 21, and "+Inf", "-Inf", "NaN".
std::string formatFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  char buf[64];
  int exp10 = static_cast<int>(std::floor(std::log10(std::fabs(d))));
  std::to_chars_result r;
  if (exp10 < -4 || exp10 >= 21) {
    r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // Go writes the exponent with at least two digits and a sign: 1e+21, 1e-05.
    auto e = s.find('e');
    std::string mant = s.substr(0, e);
    std::string ex = s.substr(e + 1);
    char sign = '+';
    if (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) {
      sign = ex[0];
      ex = ex.substr(1);
    }
    while (ex.size() > 1 && ex[0] == '0') ex = ex.substr(1);
    if (ex.size() < 2) ex = "0" + ex;
    return mant + "e" + sign + ex;
  }
  r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

}  // namespace

std::string formatValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: return "<nil>";
    case Value::Kind::kBool: return v.asBool() ? "true" : "false";
    case Value::Kind::kInt: return std::to_string(v.asInt());
    case Value::Kind::kFloat: return formatFloat(v.asFloat());
    case Value::Kind::kString: return v.asString();
    case Value::Kind::kList: {
      std::string s = "[";
      bool first = true;
      for (const Value& e : v.asList()) {
        if (!first) s += ",";
        first = false;
        s += formatValue(e);
      }
      return s + "]";
    }
    case Value::Kind::kMap: {
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, e] : v.asMap()) {
        if (!first) s += " ";
        first = false;
        s += k + ":" + formatValue(e);
      }
      return s + "]";
    }
  }
  return "";
}

}  // namespace ramp
