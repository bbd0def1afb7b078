#include "platform/sim/sim_driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakes/simulated_clock.h"
#include "harness/harness.h"

namespace ramp::platform::sim {
namespace {

using ramp::testing::SimulatedClock;
using ramp::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;

spec::PodTemplateSpec podTemplate(std::map<std::string, std::string> annotations = {},
                                  const std::string& image = "demo:v1") {
  spec::PodTemplateSpec t;
  t.metadata.labels = {{"app", "demo"}};
  t.metadata.annotations = std::move(annotations);
  spec::Container c;
  c.name = "demo";
  c.image = image;
  c.args = {"--port", "8080"};
  t.spec.containers.push_back(c);
  return t;
}

std::unique_ptr<SimDriver> openDriver(Clock& clock, const std::string& dir = "") {
  auto d = SimDriver::open(clock, dir);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
  return d ? std::move(*d) : nullptr;
}

const ObservedRevision& only(const ObservedWorkload& w) {
  EXPECT_EQ(w.revisions.size(), 1u);
  return w.revisions.at(0);
}

TEST(SimDriver, UnknownRolloutHasNoRevisions) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  auto w = d->observe("default/none");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->revisions.empty());
  EXPECT_EQ(d->type(), "platform.sim");
}

TEST(SimDriver, ReplicasBecomeReadyAfterReadyAfterAndAvailableAfterMinReadySeconds) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  auto t = podTemplate({{kSimReadyAfterAnnotation, "2s"}});
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, t, 3}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 3, 3));

  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.podTemplateHash, "abc");
  EXPECT_EQ(r.revision, 1);
  EXPECT_EQ(r.template_, t);
  EXPECT_EQ(r.createdAt, clock.now());
  EXPECT_EQ(r.desiredReplicas, 3);
  EXPECT_EQ(r.currentReplicas, 3);
  EXPECT_EQ(r.readyReplicas, 0);
  EXPECT_EQ(r.availableReplicas, 0);
  ASSERT_EQ(r.endpoints.size(), 3u);
  EXPECT_EQ(r.endpoints[0], (traffic::Endpoint{"abc-0", "127.0.0.1", 0, false}));
  EXPECT_EQ(r.endpoints[2].name, "abc-2");

  clock.advance(milliseconds(1999));
  EXPECT_EQ(only(*d->observe("default/demo")).readyReplicas, 0);

  clock.advance(milliseconds(1));
  r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.readyReplicas, 3);
  EXPECT_EQ(r.availableReplicas, 0);
  EXPECT_TRUE(r.endpoints[1].ready);

  clock.advance(milliseconds(2999));
  EXPECT_EQ(only(*d->observe("default/demo")).availableReplicas, 0);
  clock.advance(milliseconds(1));
  EXPECT_EQ(only(*d->observe("default/demo")).availableReplicas, 3);
}

TEST(SimDriver, WithoutAnnotationReplicasAreReadyAndAvailableAtOnce) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, podTemplate(), 0}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 2, 2));
  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.readyReplicas, 2);
  EXPECT_EQ(r.availableReplicas, 2);
  EXPECT_EQ(r.crashLoopingReplicas, 0);
}

TEST(SimDriver, CrashLoopingReplicasNeverBecomeReady) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  ASSERT_TRUE(d->ensureRevision("default/demo",
                                {"bad", 2, podTemplate({{kSimCrashLoopAnnotation, "true"}}), 0}));
  ASSERT_TRUE(d->scale("default/demo", "bad", 2, 2));
  clock.advance(std::chrono::hours(1));
  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.currentReplicas, 2);
  EXPECT_EQ(r.readyReplicas, 0);
  EXPECT_EQ(r.availableReplicas, 0);
  EXPECT_EQ(r.crashLoopingReplicas, 2);
  EXPECT_FALSE(r.endpoints[0].ready);
}

TEST(SimDriver, ScaleDownRemovesTheNewestReplicasFirst) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  ASSERT_TRUE(d->ensureRevision("default/demo",
                                {"abc", 1, podTemplate({{kSimReadyAfterAnnotation, "2s"}}), 0}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 2, 2));
  clock.advance(seconds(2));  // the first two are ready
  ASSERT_TRUE(d->scale("default/demo", "abc", 5, 5));
  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.currentReplicas, 5);
  EXPECT_EQ(r.readyReplicas, 2);

  ASSERT_TRUE(d->scale("default/demo", "abc", 3, 3));
  r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.currentReplicas, 3);
  EXPECT_EQ(r.readyReplicas, 2);  // the two old ones stayed
  EXPECT_TRUE(r.endpoints[0].ready);
  EXPECT_TRUE(r.endpoints[1].ready);
  EXPECT_FALSE(r.endpoints[2].ready);

  ASSERT_TRUE(d->scale("default/demo", "abc", 0, 0));
  r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.currentReplicas, 0);
  EXPECT_TRUE(r.endpoints.empty());
}

TEST(SimDriver, RestartReplicaReplacesTheOldestReplicaStartedBeforeTheTime) {
  SimulatedClock clock;
  TempDir dir("ramp-sim-restart");
  const Time t0 = clock.now();
  {
    auto d = openDriver(clock, dir.path());
    ASSERT_TRUE(d->ensureRevision("default/demo",
                                  {"abc", 1, podTemplate({{kSimReadyAfterAnnotation, "2s"}}), 0}));
    ASSERT_TRUE(d->scale("default/demo", "abc", 2, 2));
    clock.advance(seconds(5));
    ASSERT_TRUE(d->scale("default/demo", "abc", 3, 3));  // one more, started at t0 + 5 s
    auto r = only(*d->observe("default/demo"));
    EXPECT_EQ(r.replicaStartedAt, (std::vector<Time>{t0, t0, t0 + seconds(5)}));

    clock.advance(seconds(5));  // t0 + 10 s: all three ready
    ASSERT_TRUE(d->restartReplica("default/demo", "abc", t0 + seconds(1)));
    r = only(*d->observe("default/demo"));
    EXPECT_EQ(r.currentReplicas, 3);
    EXPECT_EQ(r.desiredReplicas, 3);
    EXPECT_EQ(r.replicaStartedAt, (std::vector<Time>{t0, t0 + seconds(5), t0 + seconds(10)}));
    EXPECT_EQ(r.readyReplicas, 2);  // the replacement waits for ready-after
    EXPECT_EQ(r.availableReplicas, 2);

    // Only replicas started before the time are replaced; none left = nothing happens.
    ASSERT_TRUE(d->restartReplica("default/demo", "abc", t0 + seconds(1)));
    ASSERT_TRUE(d->restartReplica("default/demo", "abc", t0 + seconds(1)));
    r = only(*d->observe("default/demo"));
    EXPECT_EQ(r.replicaStartedAt,
              (std::vector<Time>{t0 + seconds(5), t0 + seconds(10), t0 + seconds(10)}));

    auto unknown = d->restartReplica("default/demo", "nope", t0 + seconds(1));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  }
  // Durable: a new driver on the same directory sees the replacement start times.
  auto d = openDriver(clock, dir.path());
  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.replicaStartedAt,
            (std::vector<Time>{t0 + seconds(5), t0 + seconds(10), t0 + seconds(10)}));
}

TEST(SimDriver, MutationsAreIdempotent) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  auto t = podTemplate({{kSimReadyAfterAnnotation, "10s"}});
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, t, 0}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 3, 3));
  clock.advance(seconds(6));
  // Re-applying after a crash: same revision, same scale. Nothing restarts.
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, t, 0}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 3, 3));
  clock.advance(seconds(4));
  auto r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.readyReplicas, 3);
  EXPECT_EQ(r.createdAt, clock.now() - seconds(10));

  // ensureRevision of an existing revision only updates its revision number.
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 4, podTemplate({}, "demo:other"), 9}));
  r = only(*d->observe("default/demo"));
  EXPECT_EQ(r.revision, 4);
  EXPECT_EQ(r.template_, t);
  EXPECT_EQ(r.availableReplicas, 3);
}

TEST(SimDriver, FailAnnotationMakesEnsureRevisionUnavailable) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  auto s = d->ensureRevision("default/demo",
                             {"abc", 1, podTemplate({{kSimFailAnnotation, "ensure"}}), 0});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("platform.sim"), std::string::npos);
  EXPECT_TRUE(d->observe("default/demo")->revisions.empty());
}

TEST(SimDriver, BadAnnotationsAreInvalidArgumentsNamingTheField) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  auto s = d->ensureRevision("default/demo",
                             {"abc", 1, podTemplate({{kSimReadyAfterAnnotation, "soon"}}), 0});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("template.metadata.annotations[\"sim.ramp.dev/ready-after\"]"),
            std::string::npos)
      << s.error().message;

  s = d->ensureRevision("default/demo",
                        {"abc", 1, podTemplate({{kSimReadyAfterAnnotation, "-1s"}}), 0});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);

  s = d->ensureRevision("default/demo",
                        {"abc", 1, podTemplate({{kSimFailAnnotation, "scale"}}), 0});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("sim.ramp.dev/fail"), std::string::npos);
  EXPECT_TRUE(d->observe("default/demo")->revisions.empty());
}

TEST(SimDriver, UnknownRevisionsAndRetire) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  EXPECT_EQ(d->scale("default/demo", "nope", 1, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(d->setScaleDownDeadline("default/demo", "nope", clock.now()).error().code,
            ErrorCode::kNotFound);
  EXPECT_TRUE(d->retire("default/demo", "nope"));

  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, podTemplate(), 0}));
  ASSERT_TRUE(d->ensureRevision("default/demo", {"def", 2, podTemplate({}, "demo:v2"), 0}));
  ASSERT_TRUE(d->scale("default/demo", "abc", 1, 1));
  auto s = d->retire("default/demo", "abc");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(d->scale("default/demo", "abc", 0, 0));
  ASSERT_TRUE(d->retire("default/demo", "abc"));
  auto w = d->observe("default/demo");
  ASSERT_EQ(w->revisions.size(), 1u);
  EXPECT_EQ(w->revisions[0].podTemplateHash, "def");
  ASSERT_TRUE(d->retire("default/demo", "def"));
  EXPECT_EQ(d->rolloutCount(), 0u);
}

TEST(SimDriver, ScaleDownDeadlineIsRecordedAndCleared) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, podTemplate(), 0}));
  Time deadline = clock.now() + seconds(30);
  ASSERT_TRUE(d->setScaleDownDeadline("default/demo", "abc", deadline));
  EXPECT_EQ(only(*d->observe("default/demo")).scaleDownDeadline, deadline);
  ASSERT_TRUE(d->setScaleDownDeadline("default/demo", "abc", std::nullopt));
  EXPECT_FALSE(only(*d->observe("default/demo")).scaleDownDeadline.has_value());
}

TEST(SimDriver, StateSurvivesANewInstanceOnTheSameDataDir) {
  SimulatedClock clock;
  TempDir dir("ramp-sim");
  ObservedWorkload before;
  {
    auto d = openDriver(clock, dir.path());
    ASSERT_TRUE(d->ensureRevision("default/demo",
                                  {"old", 1, podTemplate({{kSimReadyAfterAnnotation, "5s"}}), 2}));
    ASSERT_TRUE(d->ensureRevision(
        "default/demo",
        {"new", 2, podTemplate({{kSimCrashLoopAnnotation, "true"}}, "demo:v2"), 0}));
    ASSERT_TRUE(d->ensureRevision("team/other", {"xyz", 7, podTemplate(), 0}));
    ASSERT_TRUE(d->scale("default/demo", "old", 4, 4));
    clock.advance(seconds(3));
    ASSERT_TRUE(d->scale("default/demo", "old", 3, 3));
    ASSERT_TRUE(d->scale("default/demo", "new", 2, 2));
    ASSERT_TRUE(d->ensureRevision("default/demo", {"old", 3, podTemplate(), 2}));
    ASSERT_TRUE(d->setScaleDownDeadline("default/demo", "old", clock.now() + seconds(30)));
    ASSERT_TRUE(d->retire("team/other", "xyz"));
    before = *d->observe("default/demo");
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/platform.sim/sim.db"));
  auto d = openDriver(clock, dir.path());
  auto after = d->observe("default/demo");
  ASSERT_TRUE(after);
  auto sorted = [](ObservedWorkload w) {
    std::sort(w.revisions.begin(), w.revisions.end(),
              [](const auto& a, const auto& b) { return a.revision < b.revision; });
    return w;
  };
  EXPECT_EQ(sorted(*after), sorted(before));
  EXPECT_EQ(d->rolloutCount(), 1u);  // the retired rollout stayed gone
  // Time keeps counting from the stored start times.
  clock.advance(seconds(4));
  auto later = d->observe("default/demo");
  ASSERT_TRUE(later);
  for (const auto& r : later->revisions) {
    if (r.podTemplateHash == "old") {
      EXPECT_EQ(r.readyReplicas, 3);
      EXPECT_EQ(r.availableReplicas, 3);
      EXPECT_EQ(r.revision, 3);
    }
  }
}

TEST(SimDriver, MemoryOnlyDriversKeepNothing) {
  SimulatedClock clock;
  auto d = openDriver(clock, "");
  ASSERT_TRUE(d->ensureRevision("default/demo", {"abc", 1, podTemplate(), 0}));
  auto again = openDriver(clock, "");
  EXPECT_TRUE(again->observe("default/demo")->revisions.empty());
}

TEST(SimDriver, AFileThatIsNotASimDatabaseIsReported) {
  SimulatedClock clock;
  TempDir dir("ramp-sim");
  std::filesystem::create_directories(dir.path() + "/platform.sim");
  std::ofstream(dir.path() + "/platform.sim/sim.db") << std::string(4096, 'x');
  auto d = SimDriver::open(clock, dir.path());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(d.error().message.find("sim.db"), std::string::npos) << d.error().message;
}

TEST(SimDriver, TheWorldHasOneOwnerAtATime) {
  SimulatedClock clock;
  TempDir dir("ramp-sim");
  {
    auto first = openDriver(clock, dir.path());
    ASSERT_TRUE(first->ensureRevision("default/demo", {"abc", 1, podTemplate(), 0}));
    ASSERT_TRUE(first->scale("default/demo", "abc", 2, 2));
    // A second owner is refused while the first holds the file, and says why.
    auto second = SimDriver::open(clock, dir.path());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(second.error().message.find("platform.sim/sim.db"), std::string::npos)
        << second.error().message;
    EXPECT_NE(second.error().message.find("one owner at a time"), std::string::npos)
        << second.error().message;
  }
  // Once the first has closed, the next owner finds everything it wrote.
  auto next = openDriver(clock, dir.path());
  EXPECT_EQ(only(*next->observe("default/demo")).desiredReplicas, 2);
}

TEST(SimDriver, ConcurrentRolloutsFromSeveralThreads) {
  SimulatedClock clock;
  TempDir dir("ramp-sim");
  auto d = openDriver(clock, dir.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string key = "ns" + std::to_string(t) + "/r" + std::to_string(i);
        EXPECT_TRUE(d->ensureRevision(key, {"h", 1, podTemplate(), 0}));
        EXPECT_TRUE(d->scale(key, "h", i % 4, i % 4));
        EXPECT_EQ(d->observe(key)->revisions.at(0).currentReplicas, i % 4);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(d->rolloutCount(), 200u);
  d.reset();
  EXPECT_EQ(openDriver(clock, dir.path())->rolloutCount(), 200u);
}

TEST(SimDriver, TemplatesOutsideTheDecodeCacheAreDecodedWhenObserved) {
  SimulatedClock clock;
  auto d = openDriver(clock);
  // More distinct templates than the decode cache holds (1024): the first ones are kept as JSON
  // only and decoded again by observe().
  for (int i = 0; i < 1100; ++i) {
    auto t = podTemplate({{kSimReadyAfterAnnotation, "1s"}}, "demo:" + std::to_string(i));
    ASSERT_TRUE(d->ensureRevision("default/r" + std::to_string(i), {"h", 1, t, 0}));
  }
  for (int i : {0, 1, 1099, 0}) {
    auto w = d->observe("default/r" + std::to_string(i));
    ASSERT_TRUE(w);
    EXPECT_EQ(only(*w).template_,
              podTemplate({{kSimReadyAfterAnnotation, "1s"}}, "demo:" + std::to_string(i)));
  }
  // Revisions with the same template share it, and retiring them all releases it.
  ASSERT_TRUE(d->ensureRevision("default/s1", {"h", 1, podTemplate(), 0}));
  ASSERT_TRUE(d->ensureRevision("default/s2", {"h", 1, podTemplate(), 0}));
  ASSERT_TRUE(d->retire("default/s1", "h"));
  EXPECT_EQ(only(*d->observe("default/s2")).template_, podTemplate());
  ASSERT_TRUE(d->retire("default/s2", "h"));
  ASSERT_TRUE(d->ensureRevision("default/s3", {"h", 1, podTemplate(), 0}));
  EXPECT_EQ(only(*d->observe("default/s3")).template_, podTemplate());
}

// A SIGKILL right after a call returned loses nothing: a child process applies changes and
// acknowledges each one on a pipe; the parent kills it mid-stream and reopens the data dir.
TEST(SimDriver, EveryAcknowledgedChangeSurvivesSigkill) {
  SimulatedClock clock;
  TempDir dir("ramp-sim");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto d = SimDriver::open(clock, dir.path());
    if (!d) _exit(2);
    for (int i = 0;; ++i) {  // until killed
      std::string key = "default/r" + std::to_string(i);
      if (!(*d)->ensureRevision(key, {"h", 1, podTemplate(), 0})) _exit(3);
      if (!(*d)->scale(key, "h", 1 + i % 5, 1 + i % 5)) _exit(4);
      int32_t ack = i;
      if (write(fds[1], &ack, sizeof ack) != sizeof ack) _exit(5);
    }
  }
  close(fds[1]);
  int32_t last = -1;
  int32_t ack = 0;
  while (last < 50 && read(fds[0], &ack, sizeof ack) == sizeof ack) last = ack;
  kill(child, SIGKILL);
  // Acks already in the pipe were acknowledged before the kill too.
  while (read(fds[0], &ack, sizeof ack) == sizeof ack) last = ack;
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_GE(last, 50);

  auto d = openDriver(clock, dir.path());
  for (int i = 0; i <= last; ++i) {
    auto w = d->observe("default/r" + std::to_string(i));
    ASSERT_TRUE(w);
    ASSERT_EQ(w->revisions.size(), 1u) << "rollout " << i << " of " << last;
    EXPECT_EQ(w->revisions[0].currentReplicas, 1 + i % 5) << "rollout " << i;
  }
}

}  // namespace
}  // namespace ramp::platform::sim
