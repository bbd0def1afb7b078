// The judge's decisions on hand-computed cases.

#include "analysis/judge/judge.h"

#include <cmath>

#include <gtest/gtest.h>
#include <boost/math/distributions/binomial.hpp>

#include "analysis/judge/split_test.h"

namespace ramp::analysis::judge {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = Time(Duration(1767225600000));

JudgeInput at(Duration t, double cr, double ce, double sr, double se) {
  JudgeInput in;
  in.time = kT0 + t;
  in.canary = {cr, ce, {}};
  in.stable = {sr, se, {}};
  return in;
}

// Takes looks in order, returning the last verdict (asserting every look succeeds).
JudgeVerdict looks(const JudgeConfig& c, const std::vector<JudgeInput>& inputs) {
  JudgeState state;
  JudgeVerdict v;
  for (const auto& in : inputs) {
    auto r = judgeLook(c, state, in);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (!r) return v;
    v = *r;
    state = v.state;
  }
  return v;
}

TEST(Judge, FirstLookRecordsTheBaselineOnly) {
  JudgeConfig c;
  auto v = judgeLook(c, {}, at(seconds(0), 5000, 4000, 100000, 10));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->phase, Phase::kRunning);  // counts before the run are not the canary's record
  EXPECT_EQ(v->state.looks, 1);
  EXPECT_NE(v->explanation.find("baseline recorded"), std::string::npos);
}

TEST(Judge, RollsBackOnFourteenErrorsOfTwentyAtFivePercent) {
  JudgeConfig c;  // alpha 0.01, errors only, average of one e-value
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 20, 14, 380, 6)});
  EXPECT_EQ(v.phase, Phase::kFailed);
  // Independent computation: the 16-point mixture of binomial likelihood ratios.
  const RatioGrid grid = RatioGrid::regression(1.5, 100, 16);
  double e = 0;
  const boost::math::binomial_distribution<double> null(20, 0.05);
  for (size_t k = 0; k < grid.ratios.size(); ++k) {
    boost::math::binomial_distribution<double> alt(20, canaryEventShare(grid.ratios[k], 0.05));
    e += boost::math::pdf(alt, 14.0) / boost::math::pdf(null, 14.0) / 16;
  }
  EXPECT_NEAR(v.logEvidence, std::log(e), 1e-9);
  EXPECT_NEAR(v.logThreshold, std::log(100.0), 1e-12);
  EXPECT_NE(v.explanation.find("canary 14 of 20"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("stable 6 of 380"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("at 5.00% canary traffic"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("≥ 100 = 1/α"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("Failed"), std::string::npos);
}

TEST(Judge, EvidenceJustBelowTheThresholdKeepsRunning) {
  JudgeConfig c;
  // 2 canary errors of 20 with 6 of 380 on stable: suspicious but far from 1/alpha.
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 20, 2, 380, 6)});
  EXPECT_EQ(v.phase, Phase::kRunning);
  EXPECT_LT(v.logEvidence, v.logThreshold);
  EXPECT_GT(v.logEvidence, 0);
  EXPECT_NE(v.explanation.find("Running"), std::string::npos);
}

TEST(Judge, EvidenceAccumulatesAcrossWindowsWithDifferentSplits) {
  JudgeConfig c;
  // Two windows at 10% then 50% canary traffic; the e-value is the mixture of the products.
  // Window 1: canary 3 of 100, stable 6 of 900. Window 2: canary 9 of 600, stable 7 of 600.
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 100, 3, 900, 6),
                     at(seconds(30), 700, 12, 1500, 13)});
  const RatioGrid grid = RatioGrid::regression(1.5, 100, 16);
  double e = 0;
  for (size_t k = 0; k < grid.ratios.size(); ++k) {
    const double r = grid.ratios[k];
    e += std::exp(windowLogRatio(3, 9, 0.1, r, 1) + windowLogRatio(9, 16, 0.5, r, 1)) / 16;
  }
  EXPECT_NEAR(v.logEvidence, std::log(e), 1e-9);
}

TEST(Judge, BonferroniUsesKOverAlphaPerMetric) {
  JudgeConfig c;
  c.combine = Combine::kBonferroni;
  c.canaryWeight = 0.05;  // two metrics: errors and sample ratio
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 20, 14, 380, 6)});
  EXPECT_NEAR(v.logThreshold, std::log(200.0), 1e-12);
  EXPECT_EQ(v.phase, Phase::kFailed);
  EXPECT_NE(v.explanation.find("= 2/α"), std::string::npos) << v.explanation;
}

TEST(Judge, SampleRatioMismatchRollsBack) {
  JudgeConfig c;
  c.canaryWeight = 0.05;
  // The router sends half the requests to the canary instead of 5%; errors look healthy.
  std::vector<JudgeInput> in = {at(seconds(0), 0, 0, 0, 0)};
  for (int i = 1; i <= 3; ++i) in.push_back(at(seconds(15 * i), 500.0 * i, 1.0 * i, 500.0 * i, i));
  auto v = looks(c, in);
  EXPECT_EQ(v.phase, Phase::kFailed);
  EXPECT_EQ(v.metrics.back().name, "sample-ratio");
  EXPECT_NE(v.explanation.find("strongest: sample-ratio"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("expected 5.00%"), std::string::npos) << v.explanation;
}

TEST(Judge, SplitWithinToleranceIsNotAMismatch) {
  JudgeConfig c;
  c.canaryWeight = 0.05;
  std::vector<JudgeInput> in = {at(seconds(0), 0, 0, 0, 0)};
  // 5.3% canary share, inside the 4%-6% band, for a long time.
  for (int i = 1; i <= 40; ++i) in.push_back(at(seconds(15 * i), 530.0 * i, 0, 9470.0 * i, 0));
  auto v = looks(c, in);
  EXPECT_EQ(v.phase, Phase::kRunning);
  EXPECT_LT(v.metrics.back().logRegression, 0);
}

TEST(Judge, TooLittleTrafficIsInconclusiveNeverSuccessful) {
  JudgeConfig c;
  c.maxDuration = minutes(10);
  // About 3 canary requests a minute and one stable error in ten minutes.
  std::vector<JudgeInput> in;
  for (int m = 0; m <= 10; ++m) in.push_back(at(minutes(m), 3.0 * m, 0, 57.0 * m, m >= 5 ? 1 : 0));
  auto v = looks(c, in);
  EXPECT_EQ(v.phase, Phase::kInconclusive);
  EXPECT_NE(v.explanation.find("too little traffic"), std::string::npos) << v.explanation;
}

TEST(Judge, NoCanaryTrafficAtAllIsInconclusive) {
  JudgeConfig c;
  c.maxDuration = minutes(5);
  auto v = looks(c, {at(minutes(0), 0, 0, 0, 0), at(minutes(5), 0, 0, 6000, 60)});
  EXPECT_EQ(v.phase, Phase::kInconclusive);
}

TEST(Judge, MaxDurationWithEnoughTrafficPromotes) {
  JudgeConfig c;
  c.maxDuration = minutes(5);
  c.promotionAlpha = 1e-12;  // keep non-inferiority out of the way
  auto v = looks(c, {at(minutes(0), 0, 0, 0, 0), at(minutes(5), 3000, 30, 57000, 570)});
  EXPECT_EQ(v.phase, Phase::kSuccessful);
  EXPECT_NE(v.explanation.find("maxDuration"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("had the canary's rate been 5× stable's"), std::string::npos);
}

TEST(Judge, MaxCanaryRequestsPromotesWithoutRegression) {
  JudgeConfig c;
  c.maxCanaryRequests = 1000;
  c.promotionAlpha = 1e-12;
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 500, 0, 9500, 0),
                     at(seconds(30), 1000, 0, 19000, 0)});
  EXPECT_EQ(v.phase, Phase::kSuccessful);
  EXPECT_NE(v.explanation.find("maxCanaryRequests 1000"), std::string::npos) << v.explanation;
}

TEST(Judge, NonInferiorityPromotesEarly) {
  JudgeConfig c;  // margin 1.5
  // Equal 1% error rates over 100k canary requests: clearly under 1.5x stable's rate.
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(60), 100000, 1000, 100000, 1000)});
  EXPECT_EQ(v.phase, Phase::kSuccessful);
  EXPECT_NE(v.explanation.find("no worse than the margin"), std::string::npos) << v.explanation;
}

TEST(Judge, RegressionIsNeverPromotedByNonInferiority) {
  JudgeConfig c;
  c.alpha = 1e-300;  // never roll back: look only at promotion
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(60), 100000, 2000, 100000, 1000)});
  EXPECT_EQ(v.phase, Phase::kRunning);
  EXPECT_LT(v.metrics[0].logNonInferiority, 0);
}

TEST(Judge, CounterResetCountsTheNewValue) {
  JudgeConfig c;
  // The canary restarted between looks 2 and 3: requests 800 -> 50, errors 4 -> 1.
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 800, 4, 15200, 76),
                     at(seconds(30), 50, 1, 16150, 81)});
  EXPECT_EQ(v.state.resets, 1);
  EXPECT_DOUBLE_EQ(v.state.errors.canaryRequests, 850);
  EXPECT_DOUBLE_EQ(v.state.errors.canaryEvents, 5);
  EXPECT_DOUBLE_EQ(v.state.errors.stableRequests, 16150);
  EXPECT_NE(v.explanation.find("counter reset"), std::string::npos);
}

TEST(Judge, InconsistentWindowIsDropped) {
  JudgeConfig c;
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 10, 12, 190, 0)});
  EXPECT_EQ(v.state.skippedWindows, 1);
  EXPECT_DOUBLE_EQ(v.state.errors.canaryRequests, 0);
  EXPECT_EQ(v.phase, Phase::kRunning);
}

TEST(Judge, RejectsNegativeCounters) {
  JudgeConfig c;
  auto v = judgeLook(c, {}, at(seconds(0), -1, 0, 0, 0));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("canary requests"), std::string::npos);
}

JudgeInput withHist(JudgeInput in, std::vector<Bucket> c, std::vector<Bucket> s) {
  in.canary.buckets = std::move(c);
  in.stable.buckets = std::move(s);
  return in;
}

const double kInf = std::numeric_limits<double>::infinity();

TEST(Judge, LatencyThresholdMustBeABucketBound) {
  JudgeConfig c;
  c.latency = LatencyConfig{0.3};
  auto v = judgeLook(c, {},
                     withHist(at(seconds(0), 0, 0, 0, 0), {{0.25, 0}, {0.5, 0}, {kInf, 0}},
                              {{0.25, 0}, {0.5, 0}, {kInf, 0}}));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("0.3 is not a bucket bound of the histogram (have 0.25, 0.5)"),
            std::string::npos)
      << v.error().message;
}

TEST(Judge, LatencyShiftRollsBack) {
  JudgeConfig c;
  c.latency = LatencyConfig{0.25};
  // Errors equal; 40% of canary requests slower than 250ms against 5% of stable's.
  auto v = looks(
      c, {withHist(at(seconds(0), 0, 0, 0, 0), {{0.25, 0}, {kInf, 0}}, {{0.25, 0}, {kInf, 0}}),
          withHist(at(seconds(15), 200, 2, 1800, 18), {{0.25, 120}, {kInf, 200}},
                   {{0.25, 1710}, {kInf, 1800}})});
  EXPECT_EQ(v.phase, Phase::kFailed);
  EXPECT_NE(v.explanation.find("strongest: latency>0.25s"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("slower than 0.25s: canary 80 of 200"), std::string::npos)
      << v.explanation;
}

TEST(Judge, AllBucketLatencyTestAveragesOverBounds) {
  JudgeConfig c;
  c.latency = LatencyConfig{};
  auto v = looks(c, {withHist(at(seconds(0), 0, 0, 0, 0), {{0.1, 0}, {0.5, 0}, {kInf, 0}},
                              {{0.1, 0}, {0.5, 0}, {kInf, 0}}),
                     withHist(at(seconds(15), 100, 0, 900, 0), {{0.1, 50}, {0.5, 90}, {kInf, 100}},
                              {{0.1, 450}, {0.5, 810}, {kInf, 900}})});
  ASSERT_EQ(v.state.latencyBounds.size(), 2u);
  const auto& m = v.metrics[1];
  EXPECT_EQ(m.name, "latency (all buckets)");
  EXPECT_FALSE(m.hasNonInferiority);  // no early promotion without a single bound
  const RatioGrid up = RatioGrid::regression(1.25, 100, 16);
  std::vector<double> a, b;
  addWindow(up, 100, 50, 900, 450, a);
  addWindow(up, 100, 10, 900, 90, b);
  EXPECT_NEAR(m.logRegression,
              std::log((std::exp(logEValue(up, a)) + std::exp(logEValue(up, b))) / 2), 1e-9);
}

TEST(JudgeState, StateFromAnotherConfigIsRejected) {
  JudgeConfig c;
  auto v = looks(c, {at(seconds(0), 0, 0, 0, 0), at(seconds(15), 20, 1, 380, 6)});
  JudgeState s = v.state;
  s.errors.regression.resize(3);  // as if written under a different grid
  auto r = judgeLook(c, s, at(seconds(30), 40, 1, 760, 12));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not fit"), std::string::npos);
  JudgeConfig withLatency = c;
  withLatency.latency = LatencyConfig{};
  s = v.state;
  s.latencyBounds = {0.1};  // bounds without their statistics
  EXPECT_FALSE(judgeLook(withLatency, s, at(seconds(30), 40, 1, 760, 12)));
}

TEST(JudgeState, RoundTripsThroughMetadata) {
  JudgeConfig c;
  c.latency = LatencyConfig{0.25};
  c.canaryWeight = 0.2;
  auto v = looks(
      c, {withHist(at(seconds(0), 0, 0, 0, 0), {{0.25, 0}, {kInf, 0}}, {{0.25, 0}, {kInf, 0}}),
          withHist(at(seconds(15), 200, 1, 800, 3), {{0.25, 190}, {kInf, 200}},
                   {{0.25, 770}, {kInf, 800}})});
  auto back = JudgeState::fromMap(v.state.toMap());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, v.state);
}

TEST(JudgeState, MalformedMetadataNamesTheKey) {
  JudgeState s;
  auto m = s.toMap();
  m["judge.errors"] = "1,2,3|x|";
  auto back = JudgeState::fromMap(m);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("judge.errors"), std::string::npos);
  m = s.toMap();
  m["judge.srm"] = "0.5,nan";  // NaN never enters the statistics
  EXPECT_FALSE(JudgeState::fromMap(m));
  m = s.toMap();
  m["judge.counters"] = "inf,0,0";
  EXPECT_FALSE(JudgeState::fromMap(m));
  m.erase("judge.version");
  EXPECT_FALSE(JudgeState::fromMap(m));
}

}  // namespace
}  // namespace ramp::analysis::judge
