#include "analysis/providers/sim/sim_provider.h"

#include <gtest/gtest.h>

#include "analysis/runner.h"
#include "fakes/simulated_clock.h"

namespace ramp::analysis::providers {
namespace {

spec::Metric metric(const std::string& config) {
  spec::Metric m;
  m.name = "success-rate";
  m.successCondition = "result[0] >= 0.9";
  m.provider.plugin["ramp/sim"] = spec::RawJson{config};
  return m;
}

// A run whose metric already recorded `count` judged measurements and `errors` errors.
spec::AnalysisRun runWith(int32_t count, int32_t errors) {
  spec::AnalysisRun run;
  spec::MetricResult r;
  r.name = "success-rate";
  r.count = count;
  r.error = errors;
  run.status.metricResults.push_back(r);
  return run;
}

Result<ProviderReply> measure(const std::string& config, int32_t count, int32_t errors = 0) {
  SimProvider p;
  spec::Metric m = metric(config);
  spec::AnalysisRun run = runWith(count, errors);
  return p.run(MeasureContext{&run, &m, Time{}});
}

constexpr const char* kScript =
    R"({"key": "demo:v2", "script": {"demo:v2": [1, 0.5, "error", 0.25], "*": [7]}})";

TEST(SimProvider, TheIthMeasurementReturnsTheIthScriptedValue) {
  auto first = measure(kScript, 0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->kind, ProviderReply::Kind::kValue);
  EXPECT_EQ(first->value.toDouble(), 1.0);
  EXPECT_EQ(measure(kScript, 1)->value.toDouble(), 0.5);
  // Errors count too: one judged + one error = the third entry.
  EXPECT_EQ(measure(kScript, 2, 1)->value.toDouble(), 0.25);
  // Past the end: the last value repeats.
  EXPECT_EQ(measure(kScript, 40, 3)->value.toDouble(), 0.25);
}

TEST(SimProvider, AFirstMeasurementWithNoResultYetIsIndexZero) {
  SimProvider p;
  spec::Metric m = metric(kScript);
  spec::AnalysisRun run;
  auto reply = p.run(MeasureContext{&run, &m, Time{}});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->value.toDouble(), 1.0);
}

TEST(SimProvider, ErrorEntryFailsTheMeasurement) {
  auto r = measure(kScript, 2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("scripted error"), std::string::npos);
}

TEST(SimProvider, OtherKeysFallBackToStar) {
  auto r = measure(R"({"key": "demo:v9", "script": {"demo:v2": [1], "*": [7]}})", 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value.toDouble(), 7.0);
}

TEST(SimProvider, AMissingScriptIsAnErrorNotSuccess) {
  auto r = measure(R"({"key": "demo:v9", "script": {"demo:v2": [1]}})", 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message,
            "provider.plugin[\"ramp/sim\"].script: no entry for key \"demo:v9\" and no \"*\"");
}

TEST(SimProvider, BadConfigNamesTheFieldPath) {
  struct Case {
    const char* config;
    const char* message;
  } cases[] = {
      {R"([])", "provider.plugin[\"ramp/sim\"]: must be a JSON object"},
      {R"({"key": "k", "script": []})", "provider.plugin[\"ramp/sim\"].script: must be an object"},
      {R"({"key": 3, "script": {}})", "provider.plugin[\"ramp/sim\"].key: must be a string"},
      {R"({"script": {"*": [1]}})", "provider.plugin[\"ramp/sim\"].key: is required"},
      {R"({"key": "k"})", "provider.plugin[\"ramp/sim\"].script: is required"},
      {R"({"key": "k", "script": {"a": []}})",
       "provider.plugin[\"ramp/sim\"].script[\"a\"]: must be a non-empty list"},
      {R"({"key": "k", "script": {"a": [1, "oops"]}})",
       "provider.plugin[\"ramp/sim\"].script[\"a\"][1]: must be a number or \"error\", got "
       "\"oops\""},
      {R"({"key": "k", "script": {}, "extra": 1})",
       "provider.plugin[\"ramp/sim\"].extra: unknown field (known: key, script)"},
  };
  for (const Case& c : cases) {
    auto parsed = parseSimConfig(c.config);
    ASSERT_FALSE(parsed) << c.config;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message, c.message);
    auto r = measure(c.config, 0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(SimProvider, FactoryChecksTheConfig) {
  spec::MetricProviderSpec good;
  good.plugin["ramp/sim"] = spec::RawJson{kScript};
  auto p = makeSimProvider(good, ExtensionContext{});
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->type(), "ramp/sim");
  spec::MetricProviderSpec bad;
  bad.plugin["ramp/sim"] = spec::RawJson{R"({"key": "k", "script": 1})"};
  auto e = makeSimProvider(bad, ExtensionContext{});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(makeSimProvider(spec::MetricProviderSpec{}, ExtensionContext{}));
}

// Through the real engine: errors advance the script too, args are substituted into the key,
// and the values are judged by the metric's conditions.
TEST(SimProvider, DrivesARealAnalysisRun) {
  spec::Metric m;
  m.name = "success-rate";
  m.count = spec::IntOrString{int64_t{4}};
  m.interval = "1m";
  m.successCondition = "result >= 0.9";
  m.failureLimit = spec::IntOrString{int64_t{1}};
  m.provider.plugin["ramp/sim"] =
      spec::RawJson{R"({"key":"{{args.image}}","script":{"demo:v2":[1,"error",0.5,1],"*":[0]}})"};
  spec::AnalysisRun run;
  run.metadata.name = "run";
  run.spec.metrics.push_back(m);
  spec::Argument image;
  image.name = "image";
  image.value = "demo:v2";
  run.spec.args.push_back(image);

  ramp::testing::SimulatedClock clock;
  SimProvider provider;
  ReconcileEnv env;
  env.clock = &clock;
  env.resolve = [&](const spec::Metric&) -> Result<MetricProvider*> { return &provider; };
  EXPECT_EQ(runToCompletion(run, env, {}), spec::AnalysisPhase::kSuccessful);
  const auto& ms = run.status.metricResults.at(0).measurements;
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_EQ(ms[0].phase, spec::AnalysisPhase::kSuccessful);
  EXPECT_EQ(ms[1].phase, spec::AnalysisPhase::kError);
  EXPECT_EQ(ms[2].phase, spec::AnalysisPhase::kFailed);
  EXPECT_EQ(ms[3].phase, spec::AnalysisPhase::kSuccessful);
  EXPECT_EQ(ms[4].phase, spec::AnalysisPhase::kSuccessful);  // past the end: the last value
}

}  // namespace
}  // namespace ramp::analysis::providers
