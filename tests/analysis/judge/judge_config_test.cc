#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "analysis/judge/judge.h"

namespace ramp::analysis::judge {
namespace {

const char* kQueries =
    "\"queries\": {\"canary\": {\"requests\": \"sum(a)\", \"errors\": \"sum(b)\"}, "
    "\"stable\": {\"requests\": \"sum(c)\", \"errors\": \"sum(d)\"}}";

std::string with(const std::string& extra) {
  return std::string("{") + kQueries + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string errorOf(const std::string& json) {
  auto c = parseJudgeConfig(json);
  EXPECT_FALSE(c.has_value()) << json;
  return c ? "" : c.error().message;
}

TEST(JudgeConfig, DefaultsMatchTheDocs) {
  auto c = parseJudgeConfig(with(""));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->alpha, 0.01);
  EXPECT_DOUBLE_EQ(c->promotionAlpha, 0.05);
  EXPECT_DOUBLE_EQ(c->minRegression, 1.5);
  EXPECT_DOUBLE_EQ(c->mustDetect, 5);
  EXPECT_EQ(c->maxDuration, std::chrono::hours(1));
  EXPECT_EQ(c->lookInterval, std::chrono::seconds(15));
  EXPECT_FALSE(c->canaryWeight);
  EXPECT_FALSE(c->latency);
  EXPECT_EQ(c->combine, Combine::kAverage);
  EXPECT_EQ(c->canary.requests, "sum(a)");
}

TEST(JudgeConfig, ReadsEveryField) {
  auto c = parseJudgeConfig(
      R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"},
         "alpha": 0.05, "promotionAlpha": 0.1, "minRegression": 2, "margin": 1.3,
         "mustDetect": 3, "maxCanaryRequests": 5000, "maxDuration": "1h30m",
         "lookInterval": "30s", "canaryWeight": 20, "srmTolerance": 0.1, "combine": "bonferroni",
         "address": "http://127.0.0.1:9090",
         "latency": {"thresholdSeconds": 0.25, "minRegression": 1.5, "margin": 1.2}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->alpha, 0.05);
  EXPECT_DOUBLE_EQ(c->margin, 1.3);
  EXPECT_DOUBLE_EQ(*c->maxCanaryRequests, 5000);
  EXPECT_EQ(c->maxDuration, std::chrono::minutes(90));
  EXPECT_EQ(c->lookInterval, std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(*c->canaryWeight, 0.2);
  EXPECT_EQ(c->combine, Combine::kBonferroni);
  ASSERT_TRUE(c->latency);
  EXPECT_DOUBLE_EQ(*c->latency->thresholdSeconds, 0.25);
  EXPECT_DOUBLE_EQ(c->latency->margin, 1.2);
  EXPECT_EQ(c->address, "http://127.0.0.1:9090");
}

// Template args are strings: a number written as one (canaryWeight: "{{args.weight}}") is
// accepted, checked against the same range.
TEST(JudgeConfig, NumbersMayComeAsStrings) {
  auto c = parseJudgeConfig(with(R"("alpha": "0.02", "canaryWeight": "20")"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->alpha, 0.02);
  EXPECT_DOUBLE_EQ(*c->canaryWeight, 0.2);
  EXPECT_EQ(errorOf(with(R"("canaryWeight": "100")")),
            "ramp/judge.canaryWeight: must be a number in (0, 100) (percent), got \"100\"");
}

TEST(JudgeConfig, ErrorsNameTheField) {
  EXPECT_EQ(errorOf(with(R"("alpha": 2)")),
            "ramp/judge.alpha: must be a number in (0, 0.5], got 2");
  EXPECT_EQ(errorOf(with(R"("alpha": "1%")")),
            "ramp/judge.alpha: must be a number in (0, 0.5], got \"1%\"");
  EXPECT_EQ(errorOf(with(R"("canaryWeight": " 5")")),
            "ramp/judge.canaryWeight: must be a number in (0, 100) (percent), got \" 5\"");
  EXPECT_NE(errorOf(with(R"("canaryWeight": "")")).find("ramp/judge.canaryWeight"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("alpah": 0.01)")).find("ramp/judge.alpah: unknown field"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("maxDuration": "ten minutes")")).find("ramp/judge.maxDuration"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("minRegression": 1)")).find("ramp/judge.minRegression"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("canaryWeight": 100)")).find("ramp/judge.canaryWeight"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("combine": "max")")).find("ramp/judge.combine"), std::string::npos);
  EXPECT_NE(errorOf(with(R"("latency": {"threshold": 1})")).find("ramp/judge.latency.threshold"),
            std::string::npos);
  EXPECT_NE(errorOf("{}").find("ramp/judge.queries.canary.requests: is required"),
            std::string::npos);
  EXPECT_NE(errorOf(with(R"("latency": {})")).find("queries.canary.latencyBuckets"),
            std::string::npos);
  EXPECT_NE(errorOf("[1]").find("ramp/judge: must be an object"), std::string::npos);
  EXPECT_NE(errorOf("{").find("not valid JSON"), std::string::npos);
}

TEST(JudgeConfig, DemoPresetFillsQueries) {
  auto c = parseJudgeConfig(
      R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"}, "latency": {}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->canary.requests, "sum(http_requests_total{version=\"v2\"})");
  EXPECT_EQ(c->canary.errors, "sum(http_requests_total{version=\"v2\",code=~\"5..\"})");
  EXPECT_EQ(c->stable.latencyBuckets,
            "sum by (le) (http_request_duration_seconds_bucket{version=\"v1\"})");
}

TEST(JudgeConfig, HaproxyPresetHasNoLatencyHistogram) {
  auto c = parseJudgeConfig(
      R"({"preset": {"name": "haproxy", "canary": "app_canary", "stable": "app_stable"}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->stable.errors,
            "sum(haproxy_backend_http_responses_total{proxy=\"app_stable\",code=\"5xx\"})");
  EXPECT_NE(errorOf(R"({"preset": {"name": "haproxy", "canary": "a", "stable": "b"},
                        "latency": {}})")
                .find("HAProxy's exporter has no latency histogram"),
            std::string::npos);
}

TEST(JudgeConfig, PresetLabelsCannotInjectPromQL) {
  EXPECT_NE(
      errorOf(R"({"preset": {"name": "demo", "canary": "x\"} or vector(1) #", "stable": "v1"}})")
          .find("ramp/judge.preset.canary"),
      std::string::npos);
  EXPECT_NE(errorOf(R"({"preset": {"name": "nginx", "canary": "a", "stable": "b"}})")
                .find("ramp/judge.preset.name: must be demo or haproxy"),
            std::string::npos);
}

// The durations are Go's (common/go_duration.h), as in every other part of ramp: the judge's own
// parser accepted "1..5s", rejected "1us" and rounded "1.9999999ms" up to 2 ms.
TEST(JudgeConfig, DurationsAreGoDurations) {
  struct Case {
    std::string text;
    std::optional<Duration> want;  // nullopt: rejected with `error`
    std::string error;
  };
  const Case cases[] = {
      {"1h30m", std::chrono::minutes(90), ""},
      {"1.5s", std::chrono::milliseconds(1500), ""},
      {"1500us", std::chrono::milliseconds(1), ""},
      {"1.9999999ms", std::chrono::milliseconds(1), ""},
      {"+2s", std::chrono::seconds(2), ""},
      {"1..5s", std::nullopt, R"(ramp/judge.lookInterval: time: missing unit in duration "1..5s")"},
      {"15", std::nullopt, R"(ramp/judge.lookInterval: time: missing unit in duration "15")"},
      {"", std::nullopt, R"(ramp/judge.lookInterval: time: invalid duration "")"},
      {"5d", std::nullopt, R"(ramp/judge.lookInterval: time: unknown unit "d" in duration "5d")"},
      {"0", std::nullopt, "ramp/judge.lookInterval: must be positive"},
      {"-1s", std::nullopt, "ramp/judge.lookInterval: must be positive"},
      {"1us", std::nullopt, "ramp/judge.lookInterval: must be positive"},  // under 1 ms
  };
  for (const Case& c : cases) {
    auto config = parseJudgeConfig(with(R"("lookInterval": ")" + c.text + R"(")"));
    if (c.want) {
      ASSERT_TRUE(config) << c.text << ": " << config.error().message;
      EXPECT_EQ(config->lookInterval, *c.want) << c.text;
    } else {
      ASSERT_FALSE(config) << c.text;
      EXPECT_EQ(config.error().message, c.error) << c.text;
    }
  }
}

}  // namespace
}  // namespace ramp::analysis::judge
