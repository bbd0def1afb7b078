// evaluateTime: the time-only expression environment Argo uses for Prometheus range-query
// bounds (now(), duration("5m"), + and -).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "expr/expr.h"
#include "expr/program.h"

namespace ramp::expr {
namespace {

struct TimeValue {
  enum class Kind { kTime, kDuration } kind;
  int64_t ns;  // nanoseconds since the epoch (kTime) or a length (kDuration)
};

// Go's time.ParseDuration.
bool parseGoDuration(std::string_view s, int64_t& out, std::string& err) {
  std::string quoted(1, '"');
  quoted.append(s);
  quoted.push_back('"');
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") {
    out = 0;
    return true;
  }
  if (rest.empty()) {
    err = "time: invalid duration " + quoted;
    return false;
  }
  long double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      v = v * 10 + (rest[i] - '0');
      digits = true;
      ++i;
    }
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        v += (rest[i] - '0') * scale;
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    if (!digits) {
      err = "time: invalid duration " + quoted;
      return false;
    }
    size_t u = i;
    while (u < rest.size() && rest[u] != '.' && !(rest[u] >= '0' && rest[u] <= '9')) ++u;
    std::string_view unit = rest.substr(i, u - i);
    if (unit.empty()) {
      err = "time: missing unit in duration " + quoted;
      return false;
    }
    long double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else {
      err = "time: unknown unit \"" + std::string(unit) + "\" in duration " + quoted;
      return false;
    }
    total += v * mult;
    if (total > 9.2233720368547758e18L) {
      err = "time: invalid duration " + quoted;
      return false;
    }
    rest.remove_prefix(u);
  }
  out = static_cast<int64_t>(neg ? -total : total);
  return true;
}

class TimeEvaluator {
 public:
  TimeEvaluator(const Program& p, Time now) : prog_(p), now_(now) {}

  bool eval(int32_t n, TimeValue& out) {
    const Node& nd = prog_.nodes[static_cast<size_t>(n)];
    if (nd.kind == NodeKind::kCall && nd.fn == Builtin::kNow) {
      out = {TimeValue::Kind::kTime,
             std::chrono::duration_cast<std::chrono::nanoseconds>(now_.time_since_epoch()).count()};
      return true;
    }
    if (nd.kind == NodeKind::kCall && nd.fn == Builtin::kDuration) {
      const Node& arg = prog_.nodes[static_cast<size_t>(nd.kids[0])];
      if (arg.kind != NodeKind::kLiteral || !arg.literal.isString()) {
        return fail(nd, "duration() takes a string literal");
      }
      std::string err;
      out.kind = TimeValue::Kind::kDuration;
      if (!parseGoDuration(arg.literal.asString(), out.ns, err)) return fail(nd, err);
      return true;
    }
    if (nd.kind == NodeKind::kUnary && nd.op == Op::kNeg) {
      if (!eval(nd.kids[0], out)) return false;
      if (out.kind != TimeValue::Kind::kDuration) return fail(nd, "invalid operation: - time.Time");
      out.ns = -out.ns;
      return true;
    }
    if (nd.kind == NodeKind::kBinary && (nd.op == Op::kAdd || nd.op == Op::kSub)) {
      TimeValue a, b;
      if (!eval(nd.kids[0], a) || !eval(nd.kids[1], b)) return false;
      using K = TimeValue::Kind;
      if (nd.op == Op::kAdd && a.kind == K::kTime && b.kind == K::kTime) {
        return fail(nd, "invalid operation: + (mismatched types time.Time and time.Time)");
      }
      if (nd.op == Op::kSub && a.kind == K::kDuration && b.kind == K::kTime) {
        return fail(nd, "invalid operation: - (mismatched types time.Duration and time.Time)");
      }
      int64_t r;
      bool overflow = nd.op == Op::kAdd ? __builtin_add_overflow(a.ns, b.ns, &r)
                                        : __builtin_sub_overflow(a.ns, b.ns, &r);
      if (overflow) return fail(nd, "time arithmetic overflows");
      out.ns = r;
      // time - time is a duration; anything involving one time is a time.
      out.kind = (a.kind == K::kTime) != (b.kind == K::kTime) ? K::kTime : K::kDuration;
      return true;
    }
    return fail(nd, "only now(), duration(\"...\"), + and - are allowed in a time expression");
  }

  const Error& error() const { return error_; }

 private:
  bool fail(const Node& nd, std::string message) {
    error_ = Error{ErrorCode::kInvalidArgument, prog_.position(nd.offset) + ": " + message};
    return false;
  }

  const Program& prog_;
  Time now_;
  Error error_;
};

}  // namespace

Result<Time> evaluateTime(std::string_view source, Time now) {
  auto program = parse(source);
  if (!program) return std::unexpected(program.error());
  TimeEvaluator ev(*program, now);
  TimeValue v;
  if (!ev.eval(program->root, v)) return std::unexpected(ev.error());
  if (v.kind != TimeValue::Kind::kTime) {
    return makeError(ErrorCode::kInvalidArgument, "expected time.Time, but got time.Duration");
  }
  return Time(std::chrono::floor<Duration>(std::chrono::nanoseconds(v.ns)));
}

}  // namespace ramp::expr
