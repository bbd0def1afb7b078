// Fuzzes the condition language: compiles arbitrary text and evaluates whatever compiles on a
// fixed set of metric results (nil, scalar, NaN, Prometheus vectors, web JSON), and as a time
// expression. Any crash, sanitizer report or unbounded recursion is a bug; errors are fine.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "expr/expr.h"

namespace {

const std::vector<ramp::Value>& results() {
  using ramp::Value;
  static const std::vector<Value> kResults = [] {
    double nan = std::numeric_limits<double>::quiet_NaN();
    Value web = Value::map(
        {{"ok", Value::boolean(true)},
         {"successPercent", Value::floating(0.95)},
         {"a.b", Value::string("x")},
         {"rows", Value::list({Value::map({{"value", Value::string("9950")}}),
                               Value::map({{"Values", Value::list({Value::floating(0.001)})}})})}});
    return std::vector<Value>{
        Value(),
        Value::floating(0.97),
        Value::floating(nan),
        Value::string("true"),
        Value::list({Value::floating(0.97)}),
        Value::list({}),
        Value::list({Value::floating(nan), Value::floating(1e300), Value::integer(-1)}),
        web,
    };
  }();
  return kResults;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto program = ramp::expr::compile(src);
  if (program) {
    for (const ramp::Value& r : results()) (void)ramp::expr::evaluate(**program, r);
  }
  (void)ramp::expr::evaluateTime(src, ramp::Time(std::chrono::milliseconds(1'700'000'000'000)));
  return 0;
}
