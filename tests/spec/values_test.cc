// Pure helpers of the spec model (spec/values.h) and the defaults of ramp/spec/rollout.h.
#include "spec/values.h"

#include <gtest/gtest.h>

#include "ramp/spec/rollout.h"
#include "spec/codec.h"

namespace ramp::spec {
namespace {

TEST(PauseDurationTest, IntStringIntAndGoDuration) {
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{int64_t{40}}), 40);
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{std::string("40")}), 40);
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{std::string("1m")}), 60);
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{std::string("1h30m")}), 5400);
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{std::string("1500ms")}), 1);  // truncated
  EXPECT_EQ(*pauseDurationSeconds(IntOrString{std::string("-5s")}), -5);
  EXPECT_FALSE(pauseDurationSeconds(IntOrString{std::string("soon")}).has_value());
}

TEST(IntOrPercentTest, ArgoRounding) {
  // maxSurge rounds up, maxUnavailable rounds down.
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("25%")}, 10, true), 3);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("25%")}, 10, false), 2);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("25%")}, 1, true), 1);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("25%")}, 1, false), 0);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{int64_t{2}}, 10, true), 2);
  // Quirk kept from Argo (issue #4567): a string without '%' is a percentage.
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("1")}, 10, true), 1);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("1")}, 10, false), 0);
  EXPECT_EQ(*resolveIntOrPercent(IntOrString{std::string("50")}, 10, false), 5);
  EXPECT_TRUE(isBarePercentString(IntOrString{std::string("1")}));
  EXPECT_FALSE(isBarePercentString(IntOrString{std::string("1%")}));
  EXPECT_FALSE(isBarePercentString(IntOrString{int64_t{1}}));
  EXPECT_FALSE(resolveIntOrPercent(IntOrString{std::string("lots")}, 10, true).has_value());
}

TEST(FencepostsTest, BothZeroForcesOneUnavailable) {
  auto f = resolveFenceposts(IntOrString{std::string("25%")}, IntOrString{std::string("25%")}, 1);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Fenceposts{1, 0}));
  f = resolveFenceposts(IntOrString{std::string("10%")}, IntOrString{std::string("10%")}, 1);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Fenceposts{1, 0}));  // surge rounds up to 1
  f = resolveFenceposts(IntOrString{int64_t{0}}, IntOrString{std::string("10%")}, 5);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (Fenceposts{0, 1}));  // both resolve to 0 -> maxUnavailable 1
  f = resolveFenceposts(IntOrString{std::string("25%")}, IntOrString{std::string("25%")}, 10);
  EXPECT_EQ(*f, (Fenceposts{3, 2}));
}

TEST(Rfc3339Test, RoundTripAndOffsets) {
  auto t = parseRfc3339("2026-11-22T10:50:24Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatRfc3339(*t), "2026-11-22T10:50:24Z");
  auto ms = parseRfc3339("2026-11-22T10:50:24.123456Z");
  ASSERT_TRUE(ms);
  EXPECT_EQ(formatRfc3339(*ms), "2026-11-22T10:50:24.123Z");
  auto off = parseRfc3339("2026-11-22T12:50:24+02:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(*off, *t);
  EXPECT_EQ(formatRfc3339(Time{}), "1970-01-01T00:00:00Z");
  for (const char* bad : {"2026-11-22", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-22T10:50:24", "yesterday"}) {
    EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TemplatedTest, DetectsPlaceholders) {
  EXPECT_TRUE(isTemplated("{{args.count}}"));
  EXPECT_TRUE(isTemplated("{{ args.interval }}s"));
  EXPECT_FALSE(isTemplated("5m"));
  EXPECT_FALSE(isTemplated("{{"));
}

// --- defaults (Argo's utils/defaults) ---------------------------------------------------------

const char* kMinimalCanary = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {canary: {}}
)";

const char* kMinimalBlueGreen = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: app, image: demo:1}]}
  strategy: {blueGreen: {activeService: active}}
)";

Rollout decodeOne(const char* yaml) {
  ParseOutput out = parseDocuments(yaml, "t.yaml");
  EXPECT_EQ(out.documents.size(), 1u);
  for (const auto& d : out.diagnostics) ADD_FAILURE() << formatDiagnostic(d);
  return std::get<Rollout>(out.documents.at(0).object);
}

TEST(DefaultsTest, RolloutSpecDefaults) {
  Rollout r = decodeOne(kMinimalCanary);
  EXPECT_FALSE(r.spec.replicas.has_value());  // absent stays absent (round trip as written)
  EXPECT_EQ(replicasOrDefault(r.spec), 1);
  EXPECT_EQ(progressDeadlineSecondsOrDefault(r.spec), 600);
  EXPECT_EQ(revisionHistoryLimitOrDefault(r.spec), 10);
  EXPECT_EQ(successfulRunHistoryLimitOrDefault(r.spec), 5);
  EXPECT_EQ(unsuccessfulRunHistoryLimitOrDefault(r.spec), 5);
  EXPECT_EQ(r.spec.minReadySeconds, 0);
  EXPECT_FALSE(r.spec.paused);
  EXPECT_FALSE(r.spec.progressDeadlineAbort);
}

TEST(DefaultsTest, CanaryDefaults) {
  Rollout r = decodeOne(kMinimalCanary);
  const CanaryStrategy& c = *r.spec.strategy.canary;
  EXPECT_EQ(maxSurgeOrDefault(c), IntOrString{std::string("25%")});
  EXPECT_EQ(maxUnavailableOrDefault(c), IntOrString{std::string("25%")});
  EXPECT_EQ(scaleDownDelaySecondsOrDefault(r.spec), 30);
  EXPECT_EQ(abortScaleDownDelaySecondsOrDefault(r.spec), 30);
  EXPECT_EQ(scaleDownDelayRevisionLimitOrDefault(r.spec), INT32_MAX);
  EXPECT_EQ(maxTrafficWeightOrDefault(c), 100);
  EXPECT_FALSE(c.dynamicStableScale);
  RolloutAnalysisBackground bg;
  EXPECT_EQ(startingStepOrDefault(bg), 0);
  // With 4 replicas: surge ceil(1) = 1, unavailable floor(1) = 1.
  auto f = resolveFenceposts(maxSurgeOrDefault(c), maxUnavailableOrDefault(c), 4);
  EXPECT_EQ(*f, (Fenceposts{1, 1}));
}

TEST(DefaultsTest, BlueGreenDefaults) {
  Rollout r = decodeOne(kMinimalBlueGreen);
  const BlueGreenStrategy& bg = *r.spec.strategy.blueGreen;
  EXPECT_TRUE(autoPromotionEnabledOrDefault(bg));
  EXPECT_EQ(bg.autoPromotionSeconds, 0);
  EXPECT_EQ(scaleDownDelaySecondsOrDefault(r.spec), 30);
  EXPECT_EQ(abortScaleDownDelaySecondsOrDefault(r.spec), 30);
  BlueGreenStrategy off = bg;
  off.autoPromotionEnabled = false;
  EXPECT_FALSE(autoPromotionEnabledOrDefault(off));
}

TEST(DefaultsTest, ExplicitValuesWin) {
  RolloutSpec s;
  s.replicas = 0;
  s.progressDeadlineSeconds = 30;
  s.revisionHistoryLimit = 2;
  s.analysis = AnalysisRunStrategy{1, 2};
  s.strategy.canary = CanaryStrategy{};
  s.strategy.canary->scaleDownDelaySeconds = 5;
  s.strategy.canary->abortScaleDownDelaySeconds = 0;
  EXPECT_EQ(replicasOrDefault(s), 0);
  EXPECT_EQ(progressDeadlineSecondsOrDefault(s), 30);
  EXPECT_EQ(revisionHistoryLimitOrDefault(s), 2);
  EXPECT_EQ(successfulRunHistoryLimitOrDefault(s), 1);
  EXPECT_EQ(unsuccessfulRunHistoryLimitOrDefault(s), 2);
  EXPECT_EQ(scaleDownDelaySecondsOrDefault(s), 5);
  EXPECT_EQ(abortScaleDownDelaySecondsOrDefault(s), 0);
}

TEST(DefaultsTest, MetricDefaultsAreArgos) { EXPECT_EQ(kDefaultConsecutiveErrorLimit, 4); }

// Kubernetes' quantity grammar (apimachinery resource.ParseQuantity).
TEST(QuantityTest, ParsesKubernetesQuantities) {
  struct Case {
    const char* text;
    long double value;
  };
  for (const Case& c : std::initializer_list<Case>{{"1", 1},
                                                   {"500m", 0.5},
                                                   {"1.5", 1.5},
                                                   {".5", 0.5},
                                                   {"2.", 2},
                                                   {"+3", 3},
                                                   {"-2", -2},
                                                   {"128Mi", 128.0L * 1024 * 1024},
                                                   {"1Ki", 1024},
                                                   {"1G", 1e9},
                                                   {"1k", 1e3},
                                                   {"1e3", 1e3},
                                                   {"1E-3", 1e-3},
                                                   {"0", 0}}) {
    SCOPED_TRACE(c.text);
    auto q = parseQuantity(c.text);
    ASSERT_TRUE(q.has_value()) << q.error().message;
    EXPECT_NEAR(static_cast<double>(*q), static_cast<double>(c.value),
                std::abs(static_cast<double>(c.value)) * 1e-12 + 1e-15);
  }
}

TEST(QuantityTest, RejectsWhatKubernetesRejects) {
  for (const char* text : {"", "lots", "12XB", "1 Gi", "Mi", "1Mb", "1e", "1e1.5", "1.2.3", "--1",
                           "1m1", "1KI", ".", "1ki"}) {
    SCOPED_TRACE(text);
    auto q = parseQuantity(text);
    ASSERT_FALSE(q.has_value());
    EXPECT_NE(q.error().message.find("is not a quantity"), std::string::npos) << q.error().message;
  }
}

}  // namespace
}  // namespace ramp::spec
