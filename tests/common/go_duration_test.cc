// common/go_duration.h: the rows are Go's own cases (time_test.go, parseDurationTests and
// parseDurationErrorTests; Duration.String examples), plus the inputs on which ramp's four
// earlier parsers disagreed.
#include "common/go_duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace ramp {
namespace {

constexpr int64_t kNs = 1;
constexpr int64_t kUs = 1000 * kNs;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kS = 1000 * kMs;
constexpr int64_t kM = 60 * kS;
constexpr int64_t kH = 60 * kM;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct ParseCase {
  std::string text;
  int64_t ns;
};

TEST(GoDurationTest, ParsesGosCases) {
  const ParseCase cases[] = {
      // simple
      {"0", 0},
      {"5s", 5 * kS},
      {"30s", 30 * kS},
      {"1478s", 1478 * kS},
      // sign
      {"-5s", -5 * kS},
      {"+5s", 5 * kS},
      {"-0", 0},
      {"+0", 0},
      // decimal
      {"5.0s", 5 * kS},
      {"5.6s", 5 * kS + 600 * kMs},
      {"5.s", 5 * kS},
      {".5s", 500 * kMs},
      {"1.0s", 1 * kS},
      {"1.00s", 1 * kS},
      {"1.004s", 1 * kS + 4 * kMs},
      {"1.0040s", 1 * kS + 4 * kMs},
      {"100.00100s", 100 * kS + 1 * kMs},
      // different units
      {"10ns", 10 * kNs},
      {"11us", 11 * kUs},
      {"12\xC2\xB5s", 12 * kUs},  // U+00B5
      {"12\xCE\xBCs", 12 * kUs},  // U+03BC
      {"13ms", 13 * kMs},
      {"14s", 14 * kS},
      {"15m", 15 * kM},
      {"16h", 16 * kH},
      // composite durations
      {"3h30m", 3 * kH + 30 * kM},
      {"10.5s4m", 4 * kM + 10 * kS + 500 * kMs},
      {"-2m3.4s", -(2 * kM + 3 * kS + 400 * kMs)},
      {"1h2m3s4ms5us6ns", 1 * kH + 2 * kM + 3 * kS + 4 * kMs + 5 * kUs + 6 * kNs},
      {"39h9m14.425s", 39 * kH + 9 * kM + 14 * kS + 425 * kMs},
      // large value
      {"52763797000ns", 52763797000 * kNs},
      // more than 9 digits after the decimal point
      {"0.3333333333333333333h", 20 * kM},
      // 1<<53+1 cannot be stored precisely in a float64
      {"9007199254740993ns", (int64_t{1} << 53) + 1},
      // the largest durations an int64 of nanoseconds holds
      {"9223372036854775807ns", kMax},
      {"9223372036854775.807us", kMax},
      {"9223372036s854ms775us807ns", kMax},
      {"-9223372036854775808ns", kMin},
      {"-9223372036854775.808us", kMin},
      {"-9223372036s854ms775us808ns", kMin},
      {"-2562047h47m16.854775808s", kMin},
      // huge string
      {"0.100000000000000000000h", 6 * kM},
      // the first overflow check of the fraction
      {"0.830103483285477580700h", 49 * kM + 48 * kS + 372539827 * kNs},
      // where ramp's earlier parsers disagreed
      {"1us", 1 * kUs},
      {"-1s", -1 * kS},
      {"1.9999999ms", 1999999 * kNs},
  };
  for (const ParseCase& c : cases) {
    auto d = parseGoDuration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text << ": " << d.error().message;
    EXPECT_EQ(d->count(), c.ns) << c.text;
  }
}

struct ErrorCase {
  std::string text;
  std::string message;
};

TEST(GoDurationTest, RejectsWithGosMessages) {
  const ErrorCase cases[] = {
      {"", R"(time: invalid duration "")"},
      {"3", R"(time: missing unit in duration "3")"},
      {"-", R"(time: invalid duration "-")"},
      {"s", R"(time: invalid duration "s")"},
      {".", R"(time: invalid duration ".")"},
      {"-.", R"(time: invalid duration "-.")"},
      {".s", R"(time: invalid duration ".s")"},
      {"+.s", R"(time: invalid duration "+.s")"},
      {"1d", R"(time: unknown unit "d" in duration "1d")"},
      {"\x85\x85", R"(time: invalid duration "\x85\x85")"},
      {"\xff"
       "ff",
       R"(time: invalid duration "\xffff")"},
      {"hello \xff"
       "ff world",
       R"(time: invalid duration "hello \xffff world")"},
      {"\xEF\xBF\xBD", R"(time: invalid duration "\xef\xbf\xbd")"},
      {"\xEF\xBF\xBD hello \xEF\xBF\xBD world",
       R"(time: invalid duration "\xef\xbf\xbd hello \xef\xbf\xbd world")"},
      // overflow
      {"9223372036854775810ns", R"(time: invalid duration "9223372036854775810ns")"},
      {"9223372036854775808ns", R"(time: invalid duration "9223372036854775808ns")"},
      {"-9223372036854775809ns", R"(time: invalid duration "-9223372036854775809ns")"},
      {"9223372036854776us", R"(time: invalid duration "9223372036854776us")"},
      {"3000000h", R"(time: invalid duration "3000000h")"},
      {"9223372036854775.808us", R"(time: invalid duration "9223372036854775.808us")"},
      {"9223372036854ms775us808ns", R"(time: invalid duration "9223372036854ms775us808ns")"},
      // where ramp's earlier parsers disagreed, and quoting
      {"1..5s", R"(time: missing unit in duration "1..5s")"},
      {"1h-1m", R"(time: unknown unit "h-" in duration "1h-1m")"},
      {"5\xC2\xB5x", R"(time: unknown unit "\xc2\xb5x" in duration "5\xc2\xb5x")"},
      {"1\"s", R"(time: unknown unit "\"s" in duration "1\"s")"},
  };
  for (const ErrorCase& c : cases) {
    auto d = parseGoDuration(c.text);
    ASSERT_FALSE(d.has_value()) << c.text;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument) << c.text;
    EXPECT_EQ(d.error().message, c.message) << c.text;
  }
}

TEST(GoDurationTest, MillisTruncateTowardZero) {
  EXPECT_EQ(*parseGoDurationMillis("1.9999999ms"), Duration(1));
  EXPECT_EQ(*parseGoDurationMillis("-1.9999999ms"), Duration(-1));
  EXPECT_EQ(*parseGoDurationMillis("999us"), Duration(0));
  EXPECT_EQ(*parseGoDurationMillis("1m30s"), Duration(90000));
  EXPECT_EQ(parseGoDurationMillis("5").error().message, R"(time: missing unit in duration "5")");
}

TEST(GoDurationTest, FormatsAsGoDurationString) {
  const ParseCase cases[] = {
      {"0s", 0},
      {"1ns", 1 * kNs},
      {"1.1\xC2\xB5s", 1100 * kNs},
      {"2.2ms", 2200 * kUs},
      {"3.3s", 3300 * kMs},
      {"4m5s", 4 * kM + 5 * kS},
      {"4m5.001s", 4 * kM + 5001 * kMs},
      {"5h6m7.001s", 5 * kH + 6 * kM + 7001 * kMs},
      {"8m0.000000001s", 8 * kM + 1 * kNs},
      {"1h0m0s", kH},
      {"-1m0s", -kM},
      {"2562047h47m16.854775807s", kMax},
      {"-2562047h47m16.854775808s", kMin},
  };
  for (const ParseCase& c : cases) {
    EXPECT_EQ(formatGoDuration(std::chrono::nanoseconds(c.ns)), c.text) << c.ns;
    auto back = parseGoDuration(c.text);
    ASSERT_TRUE(back.has_value()) << c.text;
    EXPECT_EQ(back->count(), c.ns) << c.text << " round trip";
  }
}

}  // namespace
}  // namespace ramp
