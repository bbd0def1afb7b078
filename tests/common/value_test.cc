#include "ramp/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ramp {
namespace {

struct FormatCase {
  Value value;
  std::string want;
};

TEST(ValueTest, FormatsLikeGoPercentV) {
  const FormatCase cases[] = {
      {Value::nil(), "<nil>"},
      {Value::boolean(true), "true"},
      {Value::integer(-42), "-42"},
      {Value::floating(0.99), "0.99"},
      {Value::floating(1.0), "1"},
      {Value::floating(100), "100"},
      {Value::floating(1e20), "100000000000000000000"},
      {Value::floating(1e21), "1e+21"},
      {Value::floating(0.0001), "0.0001"},
      {Value::floating(0.00001), "1e-05"},
      {Value::floating(std::nan("")), "NaN"},
      {Value::floating(std::numeric_limits<double>::infinity()), "+Inf"},
      {Value::floating(-std::numeric_limits<double>::infinity()), "-Inf"},
      {Value::string("ok"), "ok"},
      {Value::list({Value::floating(0.5), Value::floating(2)}), "[0.5,2]"},
      {Value::list({}), "[]"},
      {Value::map({{"a", Value::integer(1)}, {"b", Value::boolean(false)}}), "map[a:1 b:false]"},
  };
  for (const auto& c : cases) EXPECT_EQ(formatValue(c.value), c.want);
}

TEST(ValueTest, EqualityIsDeepAndKindSensitive) {
  EXPECT_EQ(Value::list({Value::integer(1)}), Value::list({Value::integer(1)}));
  EXPECT_NE(Value::integer(1), Value::floating(1));
  EXPECT_NE(Value::list({Value::integer(1)}), Value::list({Value::integer(2)}));
  EXPECT_EQ(Value::nil(), Value());
}

}  // namespace
}  // namespace ramp
