// Job provider against real local processes (true, false, sh, sleep). Label: integration.
// Time for deadlines is simulated; completion is observed by polling resume() in real time.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "analysis/providers/job/job_provider.h"
#include "common/redact.h"
#include "fakes/simulated_clock.h"
#include "harness/harness.h"

namespace ramp::analysis::providers {
namespace {

using ::ramp::testing::SimulatedClock;
using ::ramp::testing::TempDir;

bool processLive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

class JobProviderTest : public ::testing::Test {
 protected:
  JobProviderTest() {
    run_.metadata.name = "run1";
    run_.metadata.uid = "uid-1";
    metric_.name = "job-metric";
    metric_.provider.job.emplace();
  }

  JobProvider::Options options() {
    JobProvider::Options o;
    o.clock = &clock_;
    o.stateDir = dir_.path();
    o.redactor = &redactor_;
    return o;
  }
  MeasureContext ctx() { return MeasureContext{&run_, &metric_, clock_.now()}; }

  // Polls resume() in real time until the provider decides (or 10 s pass).
  Result<ProviderReply> waitDecided(JobProvider& p, const spec::Measurement& m) {
    for (int i = 0; i < 500; ++i) {
      auto r = p.resume(ctx(), m);
      if (!r || r->kind != ProviderReply::Kind::kRunning) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return makeError(ErrorCode::kDeadlineExceeded, "job did not finish in 10 s");
  }

  spec::Measurement started(const ProviderReply& r) {
    spec::Measurement m;
    m.phase = spec::AnalysisPhase::kRunning;
    m.metadata = r.metadata;
    m.resumeAt = r.resumeAt;
    return m;
  }

  TempDir dir_{"ramp-job-test"};
  SimulatedClock clock_;
  Redactor redactor_;
  spec::AnalysisRun run_;
  spec::Metric metric_;
};

TEST_F(JobProviderTest, ExitZeroIsSuccessful) {
  metric_.provider.job->command = {"true"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->kind, ProviderReply::Kind::kRunning);
  EXPECT_EQ(r->metadata.at(kJobNameKey), "uid-1.job-metric.1");
  ASSERT_TRUE(r->resumeAt.has_value());
  EXPECT_EQ(*r->resumeAt, clock_.now() + Duration(1000));
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->kind, ProviderReply::Kind::kDecided);
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kSuccessful);
  EXPECT_EQ(d->metadata.at(kJobExitCodeKey), "0");
}

TEST_F(JobProviderTest, NonZeroExitIsFailedWithCodeAndOutputTail) {
  metric_.provider.job->command = {"sh", "-c"};
  metric_.provider.job->args = {"echo first; echo boom >&2; exit 3"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kFailed);
  EXPECT_NE(d->message.find("exit code 3"), std::string::npos) << d->message;
  EXPECT_NE(d->message.find("boom"), std::string::npos) << d->message;
}

TEST_F(JobProviderTest, FalseIsFailed) {
  metric_.provider.job->command = {"false"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kFailed);
  EXPECT_NE(d->message.find("exit code 1"), std::string::npos) << d->message;
}

TEST_F(JobProviderTest, EnvAndWorkingDirAreApplied) {
  TempDir work("ramp-job-wd");
  metric_.provider.job->command = {
      "sh", "-c",
      "test \"$FOO\" = bar && test \"$(pwd -P)\" = \"$(cd " + work.path() + " && pwd -P)\""};
  metric_.provider.job->env = {{"FOO", "bar", {}}};
  metric_.provider.job->workingDir = work.path();
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kSuccessful) << d->message;
}

// A job inherits what a replica inherits (common/child_env.h), not the daemon's whole
// environment: a credential in the daemon's environment does not reach it, PATH does.
TEST_F(JobProviderTest, InheritsTheReplicasEnvironmentOnly) {
  ::setenv("RAMP_JOB_TEST_CREDENTIAL", "s3cr3t-value", 1);
  metric_.provider.job->command = {
      "sh", "-c",
      "test -z \"$RAMP_JOB_TEST_CREDENTIAL\" && test -n \"$PATH\" && test \"$FOO\" = bar"};
  metric_.provider.job->env = {{"FOO", "bar", {}}};
  JobProvider p(options());
  auto r = p.run(ctx());
  ::unsetenv("RAMP_JOB_TEST_CREDENTIAL");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kSuccessful) << d->message;
}

TEST_F(JobProviderTest, SecretsInOutputAreRedacted) {
  redactor_.add("hunter2-secret");
  metric_.provider.job->command = {"sh", "-c", "echo token=hunter2-secret; exit 1"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  auto d = waitDecided(p, started(*r));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message.find("hunter2-secret"), std::string::npos) << d->message;
  EXPECT_NE(d->message.find("token=*****"), std::string::npos) << d->message;
}

TEST_F(JobProviderTest, DeadlineKillsTheProcessAndFails) {
  metric_.provider.job->command = {"sleep", "30"};
  metric_.provider.job->activeDeadlineSeconds = 2;
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // resumeAt never passes the deadline.
  clock_.advance(Duration(1500));
  auto still = p.resume(ctx(), started(*r));
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->kind, ProviderReply::Kind::kRunning);
  EXPECT_EQ(*still->resumeAt, clock_.now() + Duration(500));
  pid_t pid = std::stoi(r->metadata.at(kJobPidKey));
  EXPECT_TRUE(processLive(pid));
  clock_.advance(Duration(600));
  auto d = p.resume(ctx(), started(*r));
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->kind, ProviderReply::Kind::kDecided);
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kFailed);
  EXPECT_NE(d->message.find("deadline"), std::string::npos);
  for (int i = 0; i < 100 && processLive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(processLive(pid));
}

TEST_F(JobProviderTest, TerminateKillsTheProcessGroupAndIsIdempotent) {
  metric_.provider.job->command = {"sh", "-c", "sleep 30; echo never"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  pid_t pid = std::stoi(r->metadata.at(kJobPidKey));
  pid_t pgid = std::stoi(r->metadata.at(kJobPgidKey));
  ASSERT_TRUE(processLive(pid));
  ASSERT_TRUE(p.terminate(ctx(), started(*r)).has_value());
  for (int i = 0; i < 100 && processLive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(processLive(pid));
  EXPECT_NE(::kill(-pgid, 0) == 0 && processLive(pid), true);
  EXPECT_TRUE(p.terminate(ctx(), started(*r)).has_value());
}

TEST_F(JobProviderTest, TerminateEscalatesToSigkill) {
  // The shell ignores SIGTERM, so only SIGKILL stops it.
  metric_.provider.job->command = {"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"};
  auto o = options();
  o.terminateGrace = Duration(200);
  JobProvider p(o);
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  pid_t pid = std::stoi(r->metadata.at(kJobPidKey));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the trap be installed
  ASSERT_TRUE(p.terminate(ctx(), started(*r)).has_value());
  for (int i = 0; i < 100 && processLive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(processLive(pid));
}

TEST_F(JobProviderTest, AFreshProviderResumesFromMetadataAlone) {
  metric_.provider.job->command = {"sh", "-c", "sleep 0.3; exit 4"};
  spec::Measurement m;
  {
    JobProvider first(options());
    auto r = first.run(ctx());
    ASSERT_TRUE(r.has_value());
    m = started(*r);
  }  // the "daemon" goes away
  JobProvider second(options());
  auto d = waitDecided(second, m);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->phase, spec::AnalysisPhase::kFailed);
  EXPECT_NE(d->message.find("exit code 4"), std::string::npos);
}

TEST_F(JobProviderTest, RepeatedRunAdoptsTheLaunchedJob) {
  metric_.provider.job->command = {"sleep", "30"};
  JobProvider p(options());
  auto a = p.run(ctx());
  auto b = p.run(ctx());
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->metadata.at(kJobPidKey), b->metadata.at(kJobPidKey));
  ASSERT_TRUE(p.terminate(ctx(), started(*a)).has_value());
}

TEST_F(JobProviderTest, JobNameCountsPreviousMeasurements) {
  metric_.provider.job->command = {"true"};
  spec::MetricResult mr;
  mr.name = "job-metric";
  mr.count = 2;
  mr.error = 1;
  run_.status.metricResults.push_back(mr);
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->metadata.at(kJobNameKey), "uid-1.job-metric.4");
  ASSERT_TRUE(waitDecided(p, started(*r)).has_value());
}

TEST_F(JobProviderTest, MissingMetadataIsAnError) {
  JobProvider p(options());
  spec::Measurement m;
  auto r = p.resume(ctx(), m);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("metadata"), std::string::npos);
  EXPECT_FALSE(p.terminate(ctx(), m).has_value());
}

TEST_F(JobProviderTest, ProcessGoneWithoutStatusIsAnError) {
  metric_.provider.job->command = {"sleep", "30"};
  JobProvider p(options());
  auto r = p.run(ctx());
  ASSERT_TRUE(r.has_value());
  // Kill the whole group behind the provider's back (like a host reboot would).
  ::kill(-std::stoi(r->metadata.at(kJobPgidKey)), SIGKILL);
  pid_t pid = std::stoi(r->metadata.at(kJobPidKey));
  for (int i = 0; i < 100 && processLive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto d = p.resume(ctx(), started(*r));
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("without recording an exit status"), std::string::npos);
}

TEST_F(JobProviderTest, BadSpecsAreErrors) {
  JobProvider p(options());
  auto noCommand = p.run(ctx());
  ASSERT_FALSE(noCommand.has_value());
  EXPECT_NE(noCommand.error().message.find("no command"), std::string::npos);

  metric_.provider.job->command = {"true"};
  metric_.provider.job->env = {{"X", "", spec::RawJson{R"({"secretKeyRef":{}})"}}};
  auto valueFrom = p.run(ctx());
  ASSERT_FALSE(valueFrom.has_value());
  EXPECT_EQ(valueFrom.error().code, ErrorCode::kUnsupported);

  metric_.provider.job->env.clear();
  metric_.provider.job->workingDir = dir_.file("does-not-exist");
  auto badDir = p.run(ctx());
  ASSERT_FALSE(badDir.has_value());
  EXPECT_NE(badDir.error().message.find("does not exist"), std::string::npos)
      << badDir.error().message;
}

}  // namespace
}  // namespace ramp::analysis::providers
