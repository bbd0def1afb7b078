// evaluateTime: the time-only expression environment Argo uses for Prometheus range-query
// bounds (now(), duration("5m"), + and -).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/go_duration.h"
#include "expr/expr.h"
#include "expr/program.h"

namespace ramp::expr {
namespace {

struct TimeValue {
  enum class Kind { kTime, kDuration } kind;
  int64_t ns;  // nanoseconds since the epoch (kTime) or a length (kDuration)
};

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
      auto d = parseGoDuration(arg.literal.asString());
      if (!d) return fail(nd, d.error().message);
      out = {TimeValue::Kind::kDuration, d->count()};
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
