// The pure core, rule by rule (reference §3.3–§3.7). Each table row is one rule; changing the
// rule in src/analysis/engine.cc makes its row fail.

#include "analysis/engine.h"

#include <gtest/gtest.h>

#include "analysis/test_util.h"

namespace ramp::analysis {
namespace {

using namespace testutil;

// --- §3.3 measurement evaluation -------------------------------------------------------------

struct JudgeCase {
  const char* name;
  std::string success;
  std::string failure;
  Value value;
  AnalysisPhase want;
};

class JudgeTable : public ::testing::TestWithParam<JudgeCase> {};

TEST_P(JudgeTable, PhaseFollowsArgoEvaluateResult) {
  const JudgeCase& c = GetParam();
  spec::Metric m = metric("m");
  m.successCondition = c.success;
  m.failureCondition = c.failure;
  spec::Measurement got = judgeValue(m, c.value);
  EXPECT_EQ(got.phase, c.want) << c.name << ": " << got.message;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, JudgeTable,
    ::testing::Values(
        // §10.2: no conditions => Successful whatever the value (code, not the docs).
        JudgeCase{"none_number", "", "", Value::floating(0), AnalysisPhase::kSuccessful},
        JudgeCase{"none_nil", "", "", Value(), AnalysisPhase::kSuccessful},
        JudgeCase{"success_true", "result > 1", "", Value::floating(2), AnalysisPhase::kSuccessful},
        JudgeCase{"success_false", "result > 1", "", Value::floating(0), AnalysisPhase::kFailed},
        JudgeCase{"failure_true", "", "result > 1", Value::floating(2), AnalysisPhase::kFailed},
        JudgeCase{"failure_false", "", "result > 1", Value::floating(0),
                  AnalysisPhase::kSuccessful},
        JudgeCase{"both_failure_wins", "result > 1", "result > 0", Value::floating(2),
                  AnalysisPhase::kFailed},
        JudgeCase{"both_success", "result > 1", "result < 0", Value::floating(2),
                  AnalysisPhase::kSuccessful},
        JudgeCase{"both_neither", "result > 5", "result < 0", Value::floating(2),
                  AnalysisPhase::kInconclusive},
        JudgeCase{"non_bool_is_error", "result", "", Value::floating(2), AnalysisPhase::kError},
        JudgeCase{"index_empty_is_error", "result[0] > 1", "", Value::list({}),
                  AnalysisPhase::kError},
        JudgeCase{"failure_cond_error", "result > 1", "result[5] > 1",
                  Value::list({Value::floating(2)}), AnalysisPhase::kError}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Judge, NilResultErrorSaysNoData) {
  spec::Metric m = metric("m");
  m.successCondition = "result[0] >= 0.95";
  EXPECT_EQ(judgeValue(m, Value()).message,
            "could not evaluate successCondition \"result[0] >= 0.95\": metric result is nil or "
            "empty: no data returned from the metric provider");
  EXPECT_EQ(judgeValue(m, Value::list({})).message,
            "could not evaluate successCondition \"result[0] >= 0.95\": metric result is nil or "
            "empty: no data returned from the metric provider");
}

TEST(Judge, NonBoolNamesTheType) {
  spec::Metric m = metric("m");
  m.successCondition = "result";
  EXPECT_EQ(judgeValue(m, Value::floating(1.5)).message,
            "could not evaluate successCondition \"result\": expected bool, but got float64");
}

TEST(Judge, ValueIsFormattedLikeArgo) {
  spec::Metric m = metric("m");
  EXPECT_EQ(judgeValue(m, Value::list({Value::floating(0.5)})).value, "[0.5]");
}

TEST(Judge, GuardedEmptyVectorIsNotAnError) {
  spec::Metric m = metric("m");
  m.successCondition = "len(result) == 0 || result[0] >= 0.95";
  EXPECT_EQ(judgeValue(m, Value::list({})).phase, AnalysisPhase::kSuccessful)
      << "the documented 'no data counts as success' guard (reference §4.1 #3)";
  m.successCondition = "len(result) > 0 && result[0] >= 0.95";
  EXPECT_EQ(judgeValue(m, Value::list({})).phase, AnalysisPhase::kFailed)
      << "the documented 'no data counts as failure' guard (reference §4.1 #4)";
}

// --- §3.4 bookkeeping ------------------------------------------------------------------------

struct BookCase {
  AnalysisPhase phase;
  int32_t successful, failed, inconclusive, error, count, consecutiveError, consecutiveSuccess;
};

class Bookkeeping : public ::testing::TestWithParam<BookCase> {};

TEST_P(Bookkeeping, CountersFollowRunMeasurements) {
  const BookCase& c = GetParam();
  spec::AnalysisRun run = runOf({metric("m")});
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t0 = testing::SimulatedClock().now();
  // Start from consecutiveError 2 and consecutiveSuccess 3 so resets are visible.
  recordMeasurement(run, plan->metrics[0], done(AnalysisPhase::kSuccessful, t0), false, t0);
  spec::MetricResult& r = run.status.metricResults[0];
  r = spec::MetricResult{
      "m", AnalysisPhase::kRunning, r.measurements, "", 0, 0, 0, 0, 0, 2, 3, false, {}};
  recordMeasurement(run, plan->metrics[0], done(c.phase, t0), false, t0);
  EXPECT_EQ(r.successful, c.successful);
  EXPECT_EQ(r.failed, c.failed);
  EXPECT_EQ(r.inconclusive, c.inconclusive);
  EXPECT_EQ(r.error, c.error);
  EXPECT_EQ(r.count, c.count);
  EXPECT_EQ(r.consecutiveError, c.consecutiveError);
  EXPECT_EQ(r.consecutiveSuccess, c.consecutiveSuccess);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Bookkeeping,
    ::testing::Values(BookCase{AnalysisPhase::kSuccessful, 1, 0, 0, 0, 1, 0, 4},
                      BookCase{AnalysisPhase::kFailed, 0, 1, 0, 0, 1, 0, 0},
                      BookCase{AnalysisPhase::kInconclusive, 0, 0, 1, 0, 1, 0, 0},
                      // Errors do not count toward count.
                      BookCase{AnalysisPhase::kError, 0, 0, 0, 1, 0, 3, 0},
                      // An in-flight measurement changes no counter.
                      BookCase{AnalysisPhase::kRunning, 0, 0, 0, 0, 0, 2, 3}));

TEST(Bookkeeping, FirstMeasurementCreatesResultWithDryRunFlag) {
  spec::AnalysisRun run = runOf({metric("m")});
  run.spec.dryRun = {{"m"}};
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t0 = testing::SimulatedClock().now();
  spec::Measurement m;
  m.phase = AnalysisPhase::kSuccessful;
  recordMeasurement(run, plan->metrics[0], m, false, t0);
  ASSERT_EQ(run.status.metricResults.size(), 1u);
  EXPECT_TRUE(run.status.metricResults[0].dryRun);
  EXPECT_EQ(run.status.metricResults[0].measurements[0].startedAt, t0);
  EXPECT_EQ(run.status.metricResults[0].measurements[0].finishedAt, t0);
}

// --- §3.5 metric phase -----------------------------------------------------------------------

struct MetricCase {
  const char* name;
  // plan
  std::optional<int64_t> effectiveCount;
  int64_t failureLimit, inconclusiveLimit, consecutiveErrorLimit, consecutiveSuccessLimit;
  // result
  AnalysisPhase resultPhase;
  int measurements;  // 0 = none; last one completed unless lastInFlight
  bool lastInFlight;
  int32_t count, failed, inconclusive, consecutiveError, consecutiveSuccess;
  bool terminating;
  AnalysisPhase want;
};

class MetricPhase : public ::testing::TestWithParam<MetricCase> {};

TEST_P(MetricPhase, FollowsAssessMetricStatus) {
  const MetricCase& c = GetParam();
  MetricPlan p;
  p.metric = metric("m");
  p.effectiveCount = c.effectiveCount;
  p.failureLimit = c.failureLimit;
  p.inconclusiveLimit = c.inconclusiveLimit;
  p.consecutiveErrorLimit = c.consecutiveErrorLimit;
  p.consecutiveSuccessLimit = c.consecutiveSuccessLimit;
  spec::MetricResult r;
  r.name = "m";
  r.phase = c.resultPhase;
  Time t0 = testing::SimulatedClock().now();
  for (int i = 0; i < c.measurements; ++i)
    r.measurements.push_back(done(AnalysisPhase::kFailed, t0));
  if (c.lastInFlight) {
    r.measurements.back().phase = AnalysisPhase::kRunning;
    r.measurements.back().finishedAt.reset();
  }
  r.count = c.count;
  r.failed = c.failed;
  r.inconclusive = c.inconclusive;
  r.consecutiveError = c.consecutiveError;
  r.consecutiveSuccess = c.consecutiveSuccess;
  EXPECT_EQ(assessMetricStatus(p, r, c.terminating), c.want) << c.name;
}

constexpr auto kS = AnalysisPhase::kSuccessful;
constexpr auto kF = AnalysisPhase::kFailed;
constexpr auto kE = AnalysisPhase::kError;
constexpr auto kI = AnalysisPhase::kInconclusive;
constexpr auto kR = AnalysisPhase::kRunning;
constexpr auto kP = AnalysisPhase::kPending;
constexpr auto kN = AnalysisPhase::kNone;

INSTANTIATE_TEST_SUITE_P(
    Rules, MetricPhase,
    ::testing::Values(
        // 1. completed stays
        MetricCase{"completed_unchanged", 5, 0, 0, 4, 0, kF, 1, false, 5, 0, 0, 0, 5, false, kF},
        // 2. no measurements
        MetricCase{"none_pending", 5, 0, 0, 4, 0, kR, 0, false, 0, 0, 0, 0, 0, false, kP},
        MetricCase{"none_terminating", 5, 0, 0, 4, 0, kR, 0, false, 0, 0, 0, 0, 0, true, kS},
        // 3. in flight
        MetricCase{"in_flight", 5, 0, 0, 4, 0, kR, 1, true, 0, 9, 9, 9, 0, false, kR},
        // 4. limits: failed > failureLimit
        MetricCase{"failed_at_limit", {}, 1, 0, 4, 0, kR, 1, false, 1, 1, 0, 0, 0, false, kR},
        MetricCase{"failed_over_limit", {}, 1, 0, 4, 0, kR, 1, false, 2, 2, 0, 0, 0, false, kF},
        MetricCase{
            "failure_limit_default_0", {}, 0, 0, 4, 0, kR, 1, false, 1, 1, 0, 0, 0, false, kF},
        MetricCase{
            "failure_limit_disabled", {}, -1, 0, 4, 3, kR, 1, false, 9, 9, 0, 0, 0, false, kR},
        MetricCase{
            "inconclusive_over_limit", {}, 5, 1, 4, 0, kR, 1, false, 2, 0, 2, 0, 0, false, kI},
        MetricCase{"errors_4_of_4", {}, 0, 0, 4, 0, kR, 1, false, 0, 0, 0, 4, 0, false, kR},
        MetricCase{"errors_5_of_4", {}, 0, 0, 4, 0, kR, 1, false, 0, 0, 0, 5, 0, false, kE},
        MetricCase{
            "error_limit_0_first_error", {}, 0, 0, 0, 0, kR, 1, false, 0, 0, 0, 1, 0, false, kE},
        // precedence Error > Inconclusive > Failed
        MetricCase{"prec_all", {}, 0, 0, 0, 0, kR, 1, false, 2, 1, 1, 1, 0, false, kE},
        MetricCase{"prec_fail_inc", {}, 0, 0, 4, 0, kR, 1, false, 2, 1, 1, 0, 0, false, kI},
        MetricCase{"prec_fail_err", {}, 0, 0, 0, 0, kR, 1, false, 1, 1, 0, 1, 0, false, kE},
        // 5. consecutiveSuccessLimit reached
        MetricCase{"csl_reached", {}, 2, 0, 4, 3, kR, 1, false, 3, 0, 0, 0, 3, false, kS},
        MetricCase{"csl_not_yet", {}, 2, 0, 4, 3, kR, 1, false, 2, 0, 0, 0, 2, false, kR},
        // 6. count reached
        MetricCase{"count_reached", 3, 0, 0, 4, 0, kR, 1, false, 3, 0, 0, 0, 3, false, kS},
        MetricCase{"count_reached_csl_missed_fl_on", 5, 2, 0, 4, 3, kR, 1, false, 5, 2, 0, 0, 2,
                   false, kI},
        MetricCase{"count_reached_csl_missed_fl_off", 5, -1, 0, 4, 3, kR, 1, false, 5, 3, 0, 0, 1,
                   false, kF},
        MetricCase{"count_not_reached", 3, 0, 0, 4, 0, kR, 1, false, 2, 0, 0, 0, 2, false, kR},
        // 7. indefinite or not reached
        MetricCase{"indefinite_running", {}, 0, 0, 4, 0, kR, 1, false, 50, 0, 0, 0, 50, false, kR},
        MetricCase{
            "indefinite_terminating", {}, 0, 0, 4, 0, kR, 1, false, 50, 0, 0, 0, 50, true, kS},
        MetricCase{"unmet_count_terminating", 10, 0, 0, 4, 0, kR, 1, false, 2, 0, 0, 0, 2, true,
                   kS},
        MetricCase{"breached_terminating", 10, 0, 0, 4, 0, kR, 1, false, 2, 1, 0, 0, 0, true, kF},
        MetricCase{"none_phase_is_not_completed", 1, 0, 0, 4, 0, kN, 1, false, 1, 0, 0, 0, 1, false,
                   kS}),
    [](const auto& info) { return std::string(info.param.name); });

// --- §3.6 run phase --------------------------------------------------------------------------

TEST(RunPhase, SeverityOrder) {
  // Successful < Running < Pending < Inconclusive < Error < Failed
  const AnalysisPhase order[] = {kS, kR, kP, kI, kE, kF};
  for (size_t i = 0; i < 6; ++i) {
    for (size_t j = 0; j < 6; ++j) {
      EXPECT_EQ(isWorse(order[i], order[j]), j > i) << i << " " << j;
    }
  }
}

// Records `phases` for metric `name` through the core, then assesses.
void feed(spec::AnalysisRun& run, const RunPlan& plan, size_t metric,
          std::initializer_list<AnalysisPhase> phases, Time t) {
  for (AnalysisPhase p : phases) recordMeasurement(run, plan.metrics[metric], done(p, t), false, t);
}

TEST(RunPhase, WorstMetricWinsWithMessage) {
  spec::AnalysisRun run = runOf({metric("a"), metric("b"), metric("c")});
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kS}, t);
  feed(run, *plan, 1, {kI}, t);
  feed(run, *plan, 2, {kS}, t);
  Assessment a = assess(run, *plan, t);
  EXPECT_EQ(a.phase, kI);
  EXPECT_TRUE(a.completed);
  EXPECT_EQ(run.status.message,
            "Metric \"b\" assessed Inconclusive due to inconclusive (1) > "
            "inconclusiveLimit (0)");
  EXPECT_EQ(run.status.runSummary, (spec::RunSummary{3, 2, 0, 1, 0}));
  EXPECT_EQ(run.status.completedAt, t);
  EXPECT_EQ(run.status.startedAt, t);
}

TEST(RunPhase, ErrorMessageCarriesLastMeasurementMessage) {
  spec::AnalysisRun run = runOf({metric("a")});
  run.spec.metrics[0].consecutiveErrorLimit = ios(0);
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  spec::Measurement m = done(kE, t);
  m.message = "connection refused";
  recordMeasurement(run, plan->metrics[0], m, false, t);
  assess(run, *plan, t);
  EXPECT_EQ(run.status.phase, kE);
  EXPECT_EQ(run.status.message,
            "Metric \"a\" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): "
            "\"Error Message: connection refused\"");
  EXPECT_EQ(run.status.metricResults[0].message, "connection refused");
}

TEST(RunPhase, RunningUntilEveryMetricCompletes) {
  spec::AnalysisRun run = runOf({metric("a"), metric("b")});
  run.spec.metrics[1].initialDelay = "1m";
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kS}, t);
  Assessment a = assess(run, *plan, t);
  EXPECT_EQ(a.phase, kR) << "b has not started (initialDelay)";
  EXPECT_EQ(run.status.message, "");
  ASSERT_TRUE(a.nextDue);
  EXPECT_EQ(*a.nextDue, t + 1min);
}

TEST(RunPhase, FailedMetricTerminatesOnNextPass) {
  spec::AnalysisRun run = runOf({metric("a"), metric("b")});
  run.spec.metrics[1].interval = "1m";  // indefinite
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kF}, t);
  feed(run, *plan, 1, {kS}, t);
  Assessment a1 = assess(run, *plan, t);
  EXPECT_EQ(a1.phase, kR) << "terminating is decided from the phases before this pass";
  ASSERT_TRUE(a1.nextDue);
  EXPECT_EQ(*a1.nextDue, t) << "due again at once";
  EXPECT_TRUE(isTerminating(run));
  EXPECT_TRUE(dueTasks(run, *plan, t + 1h).empty()) << "no new measurements while terminating";
  Assessment a2 = assess(run, *plan, t);
  EXPECT_EQ(a2.phase, kF);
  EXPECT_EQ(run.status.message,
            "Metric \"a\" assessed Failed due to failed (1) > failureLimit (0)");
  EXPECT_EQ(resultOf(run, "b")->phase, kS) << "indefinite metric ends Successful when terminated";
}

TEST(RunPhase, TerminateRequestEndsSuccessfulWithRunTerminated) {
  spec::AnalysisRun run = runOf({metric("a")});
  run.spec.metrics[0].interval = "1m";
  run.spec.metrics[0].count = ios(10);
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kS, kS}, t);
  run.spec.terminate = true;
  Assessment a = assess(run, *plan, t);
  EXPECT_EQ(a.phase, kS);
  EXPECT_EQ(run.status.message, "Run Terminated");
}

TEST(RunPhase, TerminateBeforeAnyMeasurementIsSuccessful) {
  spec::AnalysisRun run = runOf({metric("a")});
  run.spec.metrics[0].initialDelay = "1h";
  run.spec.terminate = true;
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Assessment a = assess(run, *plan, testing::SimulatedClock().now());
  EXPECT_EQ(a.phase, kS);
}

TEST(RunPhase, DryRunMetricNeverDecides) {
  spec::AnalysisRun run = runOf({metric("real"), metric("dry-one")});
  run.spec.dryRun = {{"dry"}};  // unanchored regex
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->metrics[1].dryRun);
  EXPECT_FALSE(plan->metrics[0].dryRun);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 1, {kF}, t);
  feed(run, *plan, 0, {kS}, t);
  Assessment a = assess(run, *plan, t);
  EXPECT_FALSE(isTerminating(run)) << "a failed dry-run metric does not terminate the run";
  EXPECT_EQ(a.phase, kS);
  EXPECT_EQ(run.status.message, "");
  EXPECT_EQ(resultOf(run, "dry-one")->phase, kF);
  EXPECT_EQ(resultOf(run, "dry-one")->message,
            "Metric assessed Failed due to failed (1) > failureLimit (0)");
  EXPECT_EQ(run.status.runSummary, (spec::RunSummary{1, 1, 0, 0, 0}));
  ASSERT_TRUE(run.status.dryRunSummary);
  EXPECT_EQ(*run.status.dryRunSummary, (spec::RunSummary{1, 0, 1, 0, 0}));
}

TEST(RunPhase, OnlyDryRunMetricsCompletedIsSuccessful) {
  spec::AnalysisRun run = runOf({metric("dry")});
  run.spec.dryRun = {{".*"}};
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kE}, t);
  run.spec.metrics[0].consecutiveErrorLimit = ios(0);
  plan = planRun(run);
  assess(run, *plan, t);
  EXPECT_EQ(run.status.phase, kS);
}

TEST(RunPhase, CompletedRunIsLeftAlone) {
  spec::AnalysisRun run = runOf({metric("a")});
  run.status.phase = kF;
  run.status.message = "x";
  auto plan = planRun(run);
  spec::AnalysisRun before = run;
  assess(run, *plan, testing::SimulatedClock().now());
  EXPECT_EQ(run, before);
  EXPECT_TRUE(dueTasks(run, *plan, testing::SimulatedClock().now()).empty());
}

TEST(RunPhase, EventsOnCompletion) {
  spec::AnalysisRun run = runOf({metric("a")});
  auto plan = planRun(run);
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kF}, t);
  Assessment a = assess(run, *plan, t);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].reason, "MetricFailed");
  EXPECT_EQ(a.events[0].message, "Metric 'a' Completed. Result: Failed");
  EXPECT_TRUE(a.events[0].warning);
  EXPECT_EQ(a.events[1].reason, "AnalysisRunFailed");
  EXPECT_EQ(a.events[1].message, "Analysis Completed. Result: Failed");
}

TEST(RunPhase, ConsecutiveSuccessShortfallExplained) {
  spec::AnalysisRun run = runOf({metric("a")});
  run.spec.metrics[0].count = ios(3);
  run.spec.metrics[0].interval = "1s";
  run.spec.metrics[0].failureLimit = ios(1);
  run.spec.metrics[0].consecutiveSuccessLimit = ios(2);
  auto plan = planRun(run);
  ASSERT_TRUE(plan) << plan.error().message;
  Time t = testing::SimulatedClock().now();
  feed(run, *plan, 0, {kS, kF, kS}, t);
  assess(run, *plan, t);
  EXPECT_EQ(run.status.phase, kI);
  EXPECT_EQ(run.status.message,
            "Metric \"a\" assessed Inconclusive due to consecutiveSuccess (1) < "
            "consecutiveSuccessLimit (2) after count (3)");
}

// --- §3.7 scheduling -------------------------------------------------------------------------

struct ScheduleCase {
  const char* name;
  std::string interval;
  std::string initialDelay;
  std::optional<int64_t> count;
  std::vector<AnalysisPhase> history;  // measurements finished at t0
  bool started;                        // status.startedAt = t0
  Duration at;                         // now = t0 + at
  bool wantDue;
};

class Schedule : public ::testing::TestWithParam<ScheduleCase> {};

TEST_P(Schedule, DueFollowsGenerateMetricTasks) {
  const ScheduleCase& c = GetParam();
  spec::AnalysisRun run = runOf({metric("m")});
  run.spec.metrics[0].interval = c.interval;
  run.spec.metrics[0].initialDelay = c.initialDelay;
  if (c.count) run.spec.metrics[0].count = ios(*c.count);
  run.spec.metrics[0].failureLimit = ios(0);
  run.spec.metrics[0].consecutiveErrorLimit = ios(100);
  auto plan = planRun(run);
  ASSERT_TRUE(plan) << plan.error().message;
  Time t0 = testing::SimulatedClock().now();
  if (c.started) run.status.startedAt = t0;
  for (AnalysisPhase p : c.history) {
    recordMeasurement(run, plan->metrics[0], done(p, t0), false, t0);
  }
  auto tasks = dueTasks(run, *plan, t0 + c.at);
  EXPECT_EQ(!tasks.empty(), c.wantDue) << c.name;
  if (!tasks.empty()) {
    EXPECT_EQ(tasks[0].kind, TaskKind::kRun);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Schedule,
    ::testing::Values(
        ScheduleCase{"first_immediately", "", "", {}, {}, false, 0s, true},
        ScheduleCase{"delay_needs_started_at", "", "30s", {}, {}, false, 1h, false},
        ScheduleCase{"delay_not_passed", "", "30s", {}, {}, true, 29s, false},
        ScheduleCase{"delay_passed", "", "30s", {}, {}, true, 30s, true},
        ScheduleCase{"no_interval_single_measurement", "", "", {}, {kS}, true, 1h, false},
        ScheduleCase{"count_zero_no_interval_is_one", "", "", 0, {kS}, true, 1h, false},
        ScheduleCase{"interval_not_elapsed", "1m", "", 3, {kS}, true, 59s, false},
        ScheduleCase{"interval_elapsed", "1m", "", 3, {kS}, true, 60s, true},
        ScheduleCase{"count_reached", "1m", "", 2, {kS, kS}, true, 1h, false},
        ScheduleCase{"indefinite_with_interval", "1m", "", {}, {kS, kS, kS, kS}, true, 60s, true},
        ScheduleCase{"error_retry_10s_not_interval", "1m", "", 3, {kE}, true, 10s, true},
        ScheduleCase{"error_retry_not_before_10s", "1m", "", 3, {kE}, true, 9s, false},
        ScheduleCase{"error_retry_without_interval", "", "", {}, {kE}, true, 10s, true},
        ScheduleCase{"errors_do_not_count", "1m", "", 2, {kS, kE}, true, 10s, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Schedule, InFlightResumedAtResumeAtAndTerminatedWhenTerminating) {
  spec::AnalysisRun run = runOf({metric("m")});
  auto plan = planRun(run);
  Time t0 = testing::SimulatedClock().now();
  spec::Measurement inflight;
  inflight.phase = kR;
  inflight.resumeAt = t0 + 5s;
  recordMeasurement(run, plan->metrics[0], inflight, false, t0);
  EXPECT_TRUE(dueTasks(run, *plan, t0 + 4s).empty());
  auto tasks = dueTasks(run, *plan, t0 + 5s);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, TaskKind::kResume);
  run.spec.terminate = true;
  tasks = dueTasks(run, *plan, t0 + 1s);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, TaskKind::kTerminate);
}

TEST(Schedule, NextDueIsEarliestAcrossMetrics) {
  spec::AnalysisRun run = runOf({metric("slow"), metric("err"), metric("async"), metric("late")});
  run.spec.metrics[0].interval = "5m";
  run.spec.metrics[1].interval = "5m";
  run.spec.metrics[1].consecutiveErrorLimit = ios(9);
  run.spec.metrics[3].initialDelay = "2h";
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  Time t0 = testing::SimulatedClock().now();
  run.status.startedAt = t0;
  recordMeasurement(run, plan->metrics[0], done(kS, t0), false, t0);
  recordMeasurement(run, plan->metrics[1], done(kE, t0), false, t0);
  spec::Measurement inflight;
  inflight.phase = kR;
  inflight.resumeAt = t0 + 3s;
  recordMeasurement(run, plan->metrics[2], inflight, false, t0);
  Assessment a = assess(run, *plan, t0);
  ASSERT_TRUE(a.nextDue);
  EXPECT_EQ(*a.nextDue, t0 + 3s);
  run.status.metricResults[2].measurements.back().resumeAt = t0 + 1h;
  a = assess(run, *plan, t0);
  EXPECT_EQ(*a.nextDue, t0 + 10s) << "error retry";
}

// --- history trim and rules ------------------------------------------------------------------

TEST(Retention, DefaultKeepsLastTen) {
  spec::AnalysisRun run = runOf({metric("m")});
  run.spec.metrics[0].interval = "1s";
  auto plan = planRun(run);
  Time t0 = testing::SimulatedClock().now();
  for (int i = 0; i < 15; ++i) {
    recordMeasurement(run, plan->metrics[0], done(kS, t0 + std::chrono::seconds(i)), false, t0);
  }
  assess(run, *plan, t0);
  const auto& ms = run.status.metricResults[0].measurements;
  ASSERT_EQ(ms.size(), 10u);
  EXPECT_EQ(ms.front().finishedAt, t0 + 5s);
  EXPECT_EQ(run.status.metricResults[0].count, 15) << "counters survive trimming";
}

TEST(Retention, RuleLimitAppliesByUnanchoredRegex) {
  spec::AnalysisRun run = runOf({metric("error-rate"), metric("latency")});
  run.spec.metrics[0].interval = "1s";
  run.spec.metrics[1].interval = "1s";
  run.spec.measurementRetention = {{"rate", 3}};
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->metrics[0].retentionLimit, 3);
  EXPECT_EQ(plan->metrics[1].retentionLimit, 10);
  Time t0 = testing::SimulatedClock().now();
  for (int i = 0; i < 12; ++i) {
    recordMeasurement(run, plan->metrics[0], done(kS, t0), false, t0);
    recordMeasurement(run, plan->metrics[1], done(kS, t0), false, t0);
  }
  assess(run, *plan, t0);
  EXPECT_EQ(resultOf(run, "error-rate")->measurements.size(), 3u);
  EXPECT_EQ(resultOf(run, "latency")->measurements.size(), 10u);
}

TEST(Retention, RuleLimitAboveDefaultKeepsMore) {
  spec::AnalysisRun run = runOf({metric("m")});
  run.spec.metrics[0].interval = "1s";
  run.spec.measurementRetention = {{".*", 20}};
  auto plan = planRun(run);
  Time t0 = testing::SimulatedClock().now();
  for (int i = 0; i < 25; ++i) recordMeasurement(run, plan->metrics[0], done(kS, t0), false, t0);
  assess(run, *plan, t0);
  EXPECT_EQ(run.status.metricResults[0].measurements.size(), 20u);
}

struct PlanErrorCase {
  const char* name;
  std::function<void(spec::AnalysisRun&)> edit;
  std::string want;
};

class PlanErrors : public ::testing::TestWithParam<PlanErrorCase> {};

TEST_P(PlanErrors, RunErrorMessage) {
  const PlanErrorCase& c = GetParam();
  spec::AnalysisRun run = runOf({metric("m")});
  c.edit(run);
  auto plan = planRun(run);
  ASSERT_FALSE(plan) << c.name;
  EXPECT_EQ(plan.error().message, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PlanErrors,
    ::testing::Values(
        PlanErrorCase{"no_metrics", [](auto& r) { r.spec.metrics.clear(); },
                      "Analysis spec invalid: no metrics specified"},
        PlanErrorCase{"duplicate", [](auto& r) { r.spec.metrics.push_back(metric("m")); },
                      "Analysis spec invalid: metrics[1]: duplicate name 'm'"},
        PlanErrorCase{
            "count_without_interval", [](auto& r) { r.spec.metrics[0].count = ios(2); },
            "Analysis spec invalid: metrics[0]: interval must be specified when count > 1"},
        PlanErrorCase{"count_below_failure_limit",
                      [](auto& r) {
                        r.spec.metrics[0].count = ios(2);
                        r.spec.metrics[0].interval = "1m";
                        r.spec.metrics[0].failureLimit = ios(3);
                      },
                      "Analysis spec invalid: metrics[0]: count must be >= failureLimit"},
        PlanErrorCase{"count_below_inconclusive_limit",
                      [](auto& r) {
                        r.spec.metrics[0].count = ios(2);
                        r.spec.metrics[0].interval = "1m";
                        r.spec.metrics[0].inconclusiveLimit = ios(3);
                      },
                      "Analysis spec invalid: metrics[0]: count must be >= inconclusiveLimit"},
        PlanErrorCase{"count_below_fl_plus_csl",
                      [](auto& r) {
                        r.spec.metrics[0].count = ios(3);
                        r.spec.metrics[0].interval = "1m";
                        r.spec.metrics[0].failureLimit = ios(1);
                        r.spec.metrics[0].consecutiveSuccessLimit = ios(3);
                      },
                      "Analysis spec invalid: metrics[0]: count must be >= failureLimit + "
                      "consecutiveSuccessLimit"},
        PlanErrorCase{"bad_interval", [](auto& r) { r.spec.metrics[0].interval = "5x"; },
                      "Analysis spec invalid: metrics[0]: invalid interval string: time: unknown "
                      "unit \"x\" in duration \"5x\""},
        PlanErrorCase{"bad_initial_delay",
                      [](auto& r) { r.spec.metrics[0].initialDelay = "60s-typo"; },
                      "Analysis spec invalid: metrics[0]: invalid startDelay string: time: "
                      "unknown unit \"s-typo\" in duration \"60s-typo\""},
        PlanErrorCase{"failure_limit_below_minus_one",
                      [](auto& r) { r.spec.metrics[0].failureLimit = ios(-2); },
                      "Analysis spec invalid: metrics[0]: failureLimit must be >= -1"},
        PlanErrorCase{"failure_limit_minus_one_needs_csl",
                      [](auto& r) { r.spec.metrics[0].failureLimit = ios(-1); },
                      "Analysis spec invalid: metrics[0]: failureLimit -1 requires "
                      "consecutiveSuccessLimit > 0"},
        PlanErrorCase{"negative_inconclusive_limit",
                      [](auto& r) { r.spec.metrics[0].inconclusiveLimit = ios(-1); },
                      "Analysis spec invalid: metrics[0]: inconclusiveLimit must be >= 0"},
        PlanErrorCase{"negative_error_limit",
                      [](auto& r) { r.spec.metrics[0].consecutiveErrorLimit = ios(-1); },
                      "Analysis spec invalid: metrics[0]: consecutiveErrorLimit must be >= 0"},
        PlanErrorCase{"negative_success_limit",
                      [](auto& r) { r.spec.metrics[0].consecutiveSuccessLimit = ios(-1); },
                      "Analysis spec invalid: metrics[0]: consecutiveSuccessLimit must be >= 0"},
        PlanErrorCase{"non_integer_count", [](auto& r) { r.spec.metrics[0].count = ios("5x"); },
                      "Analysis spec invalid: metrics[0]: count must be an integer, got \"5x\""},
        PlanErrorCase{"no_provider", [](auto& r) { r.spec.metrics[0].provider = {}; },
                      "Analysis spec invalid: metrics[0]: no provider specified"},
        PlanErrorCase{"two_providers",
                      [](auto& r) { r.spec.metrics[0].provider.prometheus.emplace(); },
                      "Analysis spec invalid: metrics[0]: multiple providers specified"},
        PlanErrorCase{"dry_run_matches_nothing", [](auto& r) { r.spec.dryRun = {{"^x$"}}; },
                      "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)"},
        PlanErrorCase{"star_alone_is_invalid_regex", [](auto& r) { r.spec.dryRun = {{"*"}}; },
                      "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)"},
        PlanErrorCase{"retention_matches_nothing",
                      [](auto& r) {
                        r.spec.measurementRetention = {{"nope", 5}};
                      },
                      "Analysis spec invalid: measurementRetention[0]: Rule didn't match any "
                      "metric name(s)"},
        PlanErrorCase{"unresolved_arg",
                      [](auto& r) { r.spec.metrics[0].successCondition = "result > {{args.x}}"; },
                      "Unable to resolve metric arguments: failed to resolve {{args.x}}"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Plan, ArgsResolveIntoCountAndIntervals) {
  spec::AnalysisRun run = runOf({metric("m")});
  run.spec.args = {{"n", "3", {}}, {"every", "30s", {}}};
  run.spec.metrics[0].count = ios("{{ args.n }}");
  run.spec.metrics[0].interval = "{{args.every}}";
  auto plan = planRun(run);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->metrics[0].effectiveCount, 3);
  EXPECT_EQ(plan->metrics[0].interval, Duration(30s));
}

TEST(Plan, EffectiveCount) {
  spec::AnalysisRun run = runOf({metric("a"), metric("b"), metric("c")});
  run.spec.metrics[1].interval = "1m";
  run.spec.metrics[2].interval = "1m";
  run.spec.metrics[2].count = ios(0);
  auto plan = planRun(run);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->metrics[0].effectiveCount, 1) << "unset, no interval: one measurement";
  EXPECT_EQ(plan->metrics[1].effectiveCount, std::nullopt) << "unset, interval: indefinite";
  EXPECT_EQ(plan->metrics[2].effectiveCount, std::nullopt) << "0 with interval: indefinite";
  EXPECT_EQ(plan->metrics[0].consecutiveErrorLimit, 4) << "default consecutiveErrorLimit";
}

}  // namespace
}  // namespace ramp::analysis
