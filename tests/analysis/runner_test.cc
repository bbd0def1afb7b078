// The shell end to end on a simulated clock with scripted providers: each test is one rule of
// reference §3 observed through whole runs.

#include "analysis/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analysis/secret_dir.h"
#include "analysis/test_util.h"

namespace ramp::analysis {
namespace {

using namespace testutil;
using P = ScriptedProvider;

TEST(Runner, SingleMeasurementWithoutIntervalThenSuccessful) {
  spec::Metric m = metric("m");
  m.successCondition = "result >= 0.95";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(0.99));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.provider("m").count("run"), 1u);
  EXPECT_EQ(h.run().status.metricResults[0].measurements[0].value, "0.99");
  EXPECT_EQ(h.run().status.runSummary, (spec::RunSummary{1, 1, 0, 0, 0}));
}

TEST(Runner, CountAndIntervalTimeline) {
  spec::Metric m = metric("m");
  m.count = ios(3);
  m.interval = "1m";
  m.successCondition = "result > 0";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(1)).onRun(P::number(1)).onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  auto calls = h.provider("m").calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].now, h.start());
  EXPECT_EQ(calls[1].now, h.start() + 1min);
  EXPECT_EQ(calls[2].now, h.start() + 2min);
  EXPECT_EQ(h.run().status.completedAt, h.start() + 2min);
}

TEST(Runner, InitialDelayCountsFromStartedAt) {
  spec::Metric now = metric("now");
  spec::Metric later = metric("later");
  later.initialDelay = "30s";
  Harness h(runOf({now, later}));
  h.provider("now").onRun(P::number(1));
  h.provider("later").onRun(P::number(1));
  RunPassOutcome first = h.pass();
  EXPECT_EQ(h.provider("later").count("run"), 0u) << "not before startedAt is set";
  ASSERT_TRUE(first.nextDue);
  EXPECT_EQ(*first.nextDue, h.start() + 30s);
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.provider("later").calls()[0].now, h.start() + 30s);
}

TEST(Runner, ErrorsRetryEveryTenSecondsAndDoNotCount) {
  spec::Metric m = metric("m");
  m.count = ios(2);
  m.interval = "5m";
  Harness h(runOf({m}));
  h.provider("m")
      .onRun(P::error("boom"))
      .onRun(P::number(1))
      .onRun(P::error("boom"))
      .onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  auto calls = h.provider("m").calls();
  ASSERT_EQ(calls.size(), 4u) << "2 errors + 2 counted measurements";
  EXPECT_EQ(calls[1].now, h.start() + 10s) << "retry after error: 10 s, not the interval";
  EXPECT_EQ(calls[2].now, h.start() + 10s + 5min) << "after a success: the interval";
  EXPECT_EQ(calls[3].now, h.start() + 20s + 5min);
  const auto* r = resultOf(h.run(), "m");
  EXPECT_EQ(r->count, 2);
  EXPECT_EQ(r->error, 2);
  EXPECT_EQ(r->measurements[0].message, "boom");
}

TEST(Runner, FourConsecutiveErrorsTolerated) {
  spec::Metric m = metric("m");
  Harness h(runOf({m}));
  for (int i = 0; i < 4; ++i) h.provider("m").onRun(P::error("down"));
  h.provider("m").onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.provider("m").count("run"), 5u);
}

TEST(Runner, FifthConsecutiveErrorErrorsTheRun) {
  spec::Metric m = metric("m");
  Harness h(runOf({m}));
  for (int i = 0; i < 5; ++i) h.provider("m").onRun(P::error("down"));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kError);
  EXPECT_EQ(h.provider("m").count("run"), 5u);
  EXPECT_EQ(h.clock().now(), h.start() + 40s);
  EXPECT_EQ(h.run().status.message,
            "Metric \"m\" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "
            "\"Error Message: down\"");
}

TEST(Runner, ErrorStreakResetBySuccess) {
  spec::Metric m = metric("m");
  m.count = ios(2);
  m.interval = "1s";
  Harness h(runOf({m}));
  for (int i = 0; i < 4; ++i) h.provider("m").onRun(P::error("down"));
  h.provider("m").onRun(P::number(1));
  for (int i = 0; i < 4; ++i) h.provider("m").onRun(P::error("down"));
  h.provider("m").onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(resultOf(h.run(), "m")->error, 8);
}

TEST(Runner, FailureLimitOneFailsOnSecondFailure) {
  spec::Metric m = metric("m");
  m.count = ios(5);
  m.interval = "1m";
  m.failureLimit = ios(1);
  m.successCondition = "result > 0";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(0)).onRun(P::number(1)).onRun(P::number(0));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kFailed);
  EXPECT_EQ(h.provider("m").count("run"), 3u);
  EXPECT_EQ(h.run().status.message,
            "Metric \"m\" assessed Failed due to failed (2) > failureLimit (1)");
}

TEST(Runner, InconclusiveLimit) {
  spec::Metric m = metric("m");
  m.count = ios(4);
  m.interval = "1m";
  m.inconclusiveLimit = ios(1);
  m.successCondition = "result > 5";
  m.failureCondition = "result < 0";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(1)).onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kInconclusive);
}

TEST(Runner, ConsecutiveSuccessLimitEndsEarly) {
  spec::Metric m = metric("m");
  m.count = ios(10);
  m.interval = "1m";
  m.failureLimit = ios(3);
  m.consecutiveSuccessLimit = ios(2);
  m.successCondition = "result > 0";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(1)).onRun(P::number(0)).onRun(P::number(1)).onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.provider("m").count("run"), 4u) << "stops once 2 successes in a row";
}

TEST(Runner, ConsecutiveSuccessWithFailureLimitDisabledFailsWhenCountRunsOut) {
  spec::Metric m = metric("m");
  m.count = ios(3);
  m.interval = "1m";
  m.failureLimit = ios(-1);
  m.consecutiveSuccessLimit = ios(2);
  m.successCondition = "result > 0";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(0)).onRun(P::number(0)).onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kFailed);
}

TEST(Runner, FailedMetricTerminatesOthersAndRunFails) {
  spec::Metric bad = metric("bad");
  bad.successCondition = "result > 0";
  spec::Metric bg = metric("bg");
  bg.interval = "1m";  // indefinite
  Harness h(runOf({bad, bg}));
  h.provider("bad").onRun(P::number(0));
  h.provider("bg").onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kFailed);
  EXPECT_EQ(h.clock().now(), h.start()) << "no waiting for the other metric's interval";
  EXPECT_EQ(resultOf(h.run(), "bg")->phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.provider("bg").count("run"), 1u);
}

TEST(Runner, TerminateWithUnmetCountEndsSuccessful) {
  spec::Metric m = metric("m");
  m.count = ios(10);
  m.interval = "1m";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(1)).onRun(P::number(1));
  h.pass();
  h.clock().advance(1min);
  h.pass();
  h.run().spec.terminate = true;
  RunPassOutcome o = h.pass();
  EXPECT_TRUE(o.completed);
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(h.run().status.message, "Run Terminated");
  EXPECT_EQ(h.provider("m").count("run"), 2u);
}

TEST(Runner, TerminateAfterBreachedLimitKeepsTheBreach) {
  spec::Metric m = metric("m");
  m.count = ios(10);
  m.interval = "1m";
  m.inconclusiveLimit = ios(0);
  m.successCondition = "result > 5";
  m.failureCondition = "result < 0";
  spec::Metric other = metric("other");
  other.interval = "1m";
  Harness h(runOf({m, other}));
  h.provider("m").onRun(P::number(1));
  h.provider("other").onRun(P::number(1));
  h.pass();  // m -> Inconclusive, run still Running this pass
  h.run().spec.terminate = true;
  h.pass();
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kInconclusive);
}

TEST(Runner, AsyncMeasurementResumedAtResumeAt) {
  spec::Metric m = metric("job");
  Harness h(runOf({m}));
  h.provider("job")
      .onRun(P::running(h.start() + 5s, {{"job-name", "j1"}}))
      .onResume(P::running(h.start() + 10s))
      .onResume(P::decided(AnalysisPhase::kSuccessful, "exit 0"));
  RunPassOutcome o = h.pass();
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kRunning);
  EXPECT_EQ(resultOf(h.run(), "job")->phase, AnalysisPhase::kRunning);
  ASSERT_TRUE(o.nextDue);
  EXPECT_EQ(*o.nextDue, h.start() + 5s);
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  auto calls = h.provider("job").calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].op, "resume");
  EXPECT_EQ(calls[1].now, h.start() + 5s);
  EXPECT_EQ(calls[1].inFlight.metadata.at("job-name"), "j1") << "in-flight state persisted";
  EXPECT_EQ(calls[2].now, h.start() + 10s);
  const auto* r = resultOf(h.run(), "job");
  ASSERT_EQ(r->measurements.size(), 1u) << "resume replaces the in-flight measurement";
  EXPECT_EQ(r->measurements[0].startedAt, h.start());
  EXPECT_EQ(r->measurements[0].finishedAt, h.start() + 10s);
  EXPECT_EQ(r->measurements[0].message, "exit 0");
}

TEST(Runner, AsyncWithoutResumeAtResumesAfterTenSeconds) {
  Harness h(runOf({metric("job")}));
  h.provider("job")
      .onRun(P::running(std::nullopt))
      .onResume(P::decided(AnalysisPhase::kFailed, "exit 1"));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kFailed);
  EXPECT_EQ(h.provider("job").calls()[1].now, h.start() + 10s);
}

TEST(Runner, TerminateStopsInFlightMeasurement) {
  spec::Metric m = metric("job");
  Harness h(runOf({m}));
  h.provider("job").onRun(P::running(h.start() + 1h));
  h.pass();
  h.run().spec.terminate = true;
  h.pass();
  EXPECT_EQ(h.provider("job").count("terminate"), 1u);
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kSuccessful);
  const auto& ms = resultOf(h.run(), "job")->measurements;
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(ms[0].message, "Metric Terminated");
  EXPECT_EQ(ms[0].finishedAt, h.start());
}

TEST(Runner, FailedTerminateIsAnErrorMeasurement) {
  Harness h(runOf({metric("job")}));
  h.provider("job")
      .onRun(P::running(h.start() + 1h))
      .onTerminate(std::unexpected(Error{ErrorCode::kUnavailable, "kill failed"}));
  h.pass();
  h.run().spec.terminate = true;
  h.pass();
  const auto& ms = resultOf(h.run(), "job")->measurements;
  EXPECT_EQ(ms[0].phase, AnalysisPhase::kError);
  EXPECT_EQ(ms[0].message, "kill failed");
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kSuccessful)
      << "one error is under consecutiveErrorLimit; the terminated metric ends Successful";
}

TEST(Runner, DryRunFailureDoesNotFailRun) {
  spec::Metric real = metric("real");
  spec::Metric dry = metric("canary-dry");
  dry.successCondition = "result > 0";
  Harness h(runOf({real, dry}));
  h.run().spec.dryRun = {{"dry$"}};
  h.provider("real").onRun(P::number(1));
  h.provider("canary-dry").onRun(P::number(0));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(resultOf(h.run(), "canary-dry")->phase, AnalysisPhase::kFailed);
  EXPECT_TRUE(resultOf(h.run(), "canary-dry")->dryRun);
  EXPECT_EQ(*h.run().status.dryRunSummary, (spec::RunSummary{1, 0, 1, 0, 0}));
}

TEST(Runner, InvalidSpecErrorsRunWithoutMeasuring) {
  spec::Metric m = metric("m");
  m.count = ios(3);  // no interval
  Harness h(runOf({m}));
  RunPassOutcome o = h.pass();
  EXPECT_TRUE(o.completed);
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kError);
  EXPECT_EQ(h.run().status.message,
            "Analysis spec invalid: metrics[0]: interval must be specified when count > 1");
  EXPECT_EQ(h.provider("m").count("run"), 0u);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].reason, "AnalysisRunError");
}

TEST(Runner, ArgsSubstitutedIntoProviderAndConditions) {
  spec::Metric m = metric("m");
  m.provider.web->url = "http://{{ args.host }}/health";
  m.successCondition = "result >= {{args.min}}";
  Harness h(runOf({m}));
  h.run().spec.args = {{"host", "svc:8080", {}}, {"min", "0.9", {}}};
  h.provider("m").onRun(P::number(0.5));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kFailed);
  EXPECT_EQ(h.provider("m").calls()[0].metric.provider.web->url, "http://svc:8080/health");
}

TEST(Runner, UnresolvedArgErrorsRun) {
  spec::Metric m = metric("m");
  m.provider.web->url = "http://{{args.host}}/";
  Harness h(runOf({m}));
  h.pass();
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kError);
  EXPECT_EQ(h.run().status.message,
            "Unable to resolve metric arguments: failed to resolve {{args.host}}");
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("ramp-secrets-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "default" / "api");
    std::ofstream(root_ / "default" / "api" / "token") << "s3cr3t-t0ken\n";
    secrets_ = std::make_unique<SecretDir>(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  std::unique_ptr<SecretDir> secrets_;
};

TEST_F(SecretsTest, SecretReachesProviderAndIsRedactedEverywhere) {
  spec::Metric m = metric("m");
  m.provider.web->headers = {{"Authorization", "Bearer {{args.token}}"}};
  Harness h(runOf({m}));
  spec::Argument arg{"token", std::nullopt, spec::ArgumentValueFrom{}};
  arg.valueFrom->secretKeyRef = spec::SecretKeyRef{"api", "token"};
  h.run().spec.args = {arg};
  h.env().secrets = secrets_.get();
  std::vector<std::string> logged;
  h.env().onSecret = [&](const std::string& s) { logged.push_back(s); };
  analysis::ProviderReply reply;
  reply.kind = analysis::ProviderReply::Kind::kValue;
  reply.value = Value::string("echo s3cr3t-t0ken");
  reply.metadata = {{"query", "token=s3cr3t-t0ken"}};
  h.provider("m").onRun(P::error("401 for Bearer s3cr3t-t0ken")).onRun(reply);
  h.runToEnd();
  auto calls = h.provider("m").calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].metric.provider.web->headers[0].value, "Bearer s3cr3t-t0ken");
  const auto& ms = resultOf(h.run(), "m")->measurements;
  EXPECT_EQ(ms[0].message, "401 for Bearer *****");
  EXPECT_EQ(ms[1].value, "echo *****");
  EXPECT_EQ(ms[1].metadata.at("query"), "token=*****");
  for (const auto& rec : h.measurements()) {
    EXPECT_EQ(rec.measurement.message.find("s3cr3t"), std::string::npos);
  }
  ASSERT_FALSE(logged.empty()) << "the caller learns the secret to scrub its logs";
  EXPECT_EQ(logged[0], "s3cr3t-t0ken");
  EXPECT_EQ(h.run().spec.metrics[0].provider.web->headers[0].value, "Bearer {{args.token}}")
      << "the stored spec never holds the secret";
}

TEST_F(SecretsTest, MissingSecretErrorsRun) {
  Harness h(runOf({metric("m")}));
  spec::Argument arg{"token", std::nullopt, spec::ArgumentValueFrom{}};
  arg.valueFrom->secretKeyRef = spec::SecretKeyRef{"api", "nope"};
  h.run().spec.args = {arg};
  h.env().secrets = secrets_.get();
  h.pass();
  EXPECT_EQ(h.run().status.phase, AnalysisPhase::kError);
  EXPECT_EQ(h.run().status.message,
            "Unable to resolve metric arguments: key 'nope' does not exist in secret 'api'");
}

TEST(Runner, UnknownProviderIsAnErrorMeasurement) {
  Harness h(runOf({metric("m")}));
  h.env().resolve = [](const spec::Metric&) -> Result<MetricProvider*> {
    return makeError(ErrorCode::kUnsupported, "provider datadog is not supported");
  };
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kError);
  EXPECT_EQ(resultOf(h.run(), "m")->measurements.back().message,
            "provider datadog is not supported");
  EXPECT_EQ(resultOf(h.run(), "m")->error, 5);
}

TEST(Runner, RunToCompletionOnSimulatedClock) {
  spec::Metric m = metric("m");
  m.count = ios(2);
  m.interval = "30s";
  Harness h(runOf({m}));
  h.provider("m").onRun(P::number(1)).onRun(P::number(1));
  std::vector<std::string> seen;
  RunnerCallbacks cb;
  cb.onMeasurement = [&](const RecordedMeasurement& r) {
    seen.push_back(r.metric + ":" + spec::analysisPhaseName(r.measurement.phase));
  };
  cb.onEvent = [&](const PhaseEvent& e) { seen.push_back(e.reason); };
  EXPECT_EQ(runToCompletion(h.run(), h.env(), cb), AnalysisPhase::kSuccessful);
  EXPECT_EQ(seen, (std::vector<std::string>{"m:Successful", "m:Successful", "MetricSuccessful",
                                            "AnalysisRunSuccessful"}));
  EXPECT_EQ(h.clock().now(), h.start() + 30s);
}

TEST(Runner, StopFlagTerminatesLikeSpecTerminate) {
  spec::Metric m = metric("m");
  m.interval = "1m";  // indefinite
  Harness h(runOf({m}));
  for (int i = 0; i < 3; ++i) h.provider("m").onRun(P::number(1));
  std::atomic<bool> stop{false};
  RunnerCallbacks cb;
  int n = 0;
  cb.onMeasurement = [&](const RecordedMeasurement&) {
    if (++n == 3) stop = true;
  };
  EXPECT_EQ(runToCompletion(h.run(), h.env(), cb, &stop), AnalysisPhase::kSuccessful);
  EXPECT_TRUE(h.run().spec.terminate);
  EXPECT_EQ(h.run().status.message, "Run Terminated");
  EXPECT_EQ(h.provider("m").count("run"), 3u);
}

TEST(Runner, MeasurementsTrimmedDuringLongRun) {
  spec::Metric m = metric("m");
  m.count = ios(15);
  m.interval = "1s";
  Harness h(runOf({m}));
  for (int i = 0; i < 15; ++i) h.provider("m").onRun(P::number(1));
  EXPECT_EQ(h.runToEnd(), AnalysisPhase::kSuccessful);
  EXPECT_EQ(resultOf(h.run(), "m")->measurements.size(), 10u);
  EXPECT_EQ(resultOf(h.run(), "m")->count, 15);
}

}  // namespace
}  // namespace ramp::analysis
