// Integration tests of platform.process: real replicas (ramp-demo-service, /bin/sh) started by
// the driver on loopback ports, real HTTP/TCP/exec probes, real signals, and a real Prometheus
// reading the driver's file_sd file. Every wait polls observe()/replicas() against a deadline.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "platform/process/process_driver.h"
#include "platform/process/supervision.h"

namespace ramp::platform::process {
namespace {

namespace fs = std::filesystem;
using ramp::testing::TempDir;
using Steady = std::chrono::steady_clock;

spec::HttpGetAction httpAction(const std::string& path, const spec::IntOrString& port) {
  spec::HttpGetAction a;
  a.path = path;
  a.port = port;
  return a;
}

const std::string kKey = "shop/demo";

std::string demoBinary() { return ramp::testing::binaryDir() + "/demo/ramp-demo-service"; }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool waitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
  auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

bool pidAlive(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto st = parseProcStat(stat);
  return st && st->state != 'Z' && st->state != 'X';
}

spec::Probe httpProbe(const std::string& path, const std::string& port, int period = 1) {
  spec::Probe p;
  p.httpGet = httpAction(path, spec::IntOrString{port});
  p.periodSeconds = period;
  p.timeoutSeconds = 1;
  return p;
}

spec::PodTemplateSpec demoTemplate(const std::string& image, int graceSeconds = 5) {
  spec::PodTemplateSpec t;
  t.metadata.labels = {{"app", "demo"}};
  spec::Container c;
  c.name = "app";
  c.image = image;
  c.command = {demoBinary()};
  c.args = {"--threads", "2"};
  c.ports = {{"http", 8080, "TCP", std::nullopt, ""}};
  c.readinessProbe = httpProbe("/healthz", "http");
  t.spec.containers = {c};
  t.spec.extra["terminationGracePeriodSeconds"] = spec::RawJson{std::to_string(graceSeconds)};
  return t;
}

spec::PodTemplateSpec shellTemplate(const std::string& script, int graceSeconds) {
  spec::PodTemplateSpec t;
  spec::Container c;
  c.name = "sh";
  c.image = "shell:v1";
  c.command = {"/bin/sh", "-c", script};
  t.spec.containers = {c};
  t.spec.extra["terminationGracePeriodSeconds"] = spec::RawJson{std::to_string(graceSeconds)};
  return t;
}

class ProcessDriverTest : public ::testing::Test {
 protected:
  ProcessDriverOptions options(bool stopOnDestroy = true) {
    ProcessDriverOptions o;
    o.stateDir = dir_.path() + "/platform.process";
    o.backoff = BackoffPolicy{Duration(200), Duration(1000), Duration(600000)};
    o.pollInterval = Duration(50);
    o.stopReplicasOnDestroy = stopOnDestroy;
    return o;
  }
  std::unique_ptr<ProcessDriver> makeDriver(bool stopOnDestroy = true) {
    auto d = ProcessDriver::create(realClock(), options(stopOnDestroy));
    EXPECT_TRUE(d) << (d ? "" : d.error().message);
    return d ? std::move(*d) : nullptr;
  }
  ObservedRevision revisionOf(ProcessDriver& d, const std::string& hash) {
    auto w = d.observe(kKey);
    EXPECT_TRUE(w);
    if (w) {
      for (const auto& r : w->revisions) {
        if (r.podTemplateHash == hash) return r;
      }
    }
    return ObservedRevision{};
  }
  std::vector<ReplicaInfo> replicasOf(ProcessDriver& d, const std::string& hash) {
    std::vector<ReplicaInfo> out;
    for (auto& r : d.replicas(kKey)) {
      if (r.podTemplateHash == hash && !r.terminating) out.push_back(r);
    }
    return out;
  }

  TempDir dir_{"ramp-process"};
};

TEST_F(ProcessDriverTest, ScaleUpServesOnAssignedPortsAndBecomesReadyThroughHttpProbes) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 1, demoTemplate("demo:v1"), 0}));
  auto before = revisionOf(*d, "aaa");
  EXPECT_EQ(before.currentReplicas, 0) << "created with 0 replicas";
  EXPECT_EQ(before.revision, 1);
  EXPECT_EQ(before.template_, demoTemplate("demo:v1"));
  ASSERT_TRUE(d->scale(kKey, "aaa", 2, 2));
  EXPECT_EQ(revisionOf(*d, "aaa").desiredReplicas, 2);
  ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "aaa").readyReplicas == 2; }))
      << "replicas: " << d->replicas(kKey).size();
  auto rev = revisionOf(*d, "aaa");
  EXPECT_EQ(rev.currentReplicas, 2);
  EXPECT_EQ(rev.availableReplicas, 2);  // minReadySeconds 0
  EXPECT_EQ(rev.crashLoopingReplicas, 0);
  ASSERT_EQ(rev.endpoints.size(), 2u);
  std::set<int> ports;
  for (const auto& e : rev.endpoints) {
    EXPECT_TRUE(e.ready);
    EXPECT_EQ(e.address, "127.0.0.1");
    ports.insert(e.port);
    // The image's tag reaches the process as VERSION, which the demo serves at /.
    auto r = ramp::testing::httpGet("http://127.0.0.1:" + std::to_string(e.port) + "/");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "v1\n");
  }
  EXPECT_EQ(ports.size(), 2u) << "each replica has its own port";
  EXPECT_EQ(rev.endpoints[0].name, "demo-aaa-0");
  EXPECT_EQ(rev.endpoints[1].name, "demo-aaa-1");

  // A log file and a pid file per replica.
  auto reps = replicasOf(*d, "aaa");
  ASSERT_EQ(reps.size(), 2u);
  std::string base = dir_.path() + "/platform.process/shop/demo/aaa-0";
  EXPECT_EQ(reps[0].logFile, base + ".log");
  EXPECT_NE(readFile(base + ".log").find("--- ramp: starting demo-aaa-0"), std::string::npos);
  auto pidDoc = nlohmann::json::parse(readFile(base + ".pid"));
  EXPECT_EQ(pidDoc["pid"], reps[0].pid);

  // Scale down to 1: the newest replica (index 1) goes, the demo exits on SIGTERM well within
  // its 5 s grace period.
  pid_t gone = reps[1].pid;
  auto start = Steady::now();
  ASSERT_TRUE(d->scale(kKey, "aaa", 1, 1));
  EXPECT_EQ(revisionOf(*d, "aaa").currentReplicas, 1);
  ASSERT_TRUE(waitUntil([&] { return !pidAlive(gone) && d->replicas(kKey).size() == 1; }));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(4));
  EXPECT_FALSE(fs::exists(dir_.path() + "/platform.process/shop/demo/aaa-1.pid"));
  EXPECT_EQ(replicasOf(*d, "aaa")[0].index, 0);

  // retire refuses while replicas run, then removes the revision.
  auto busy = d->retire(kKey, "aaa");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(d->scale(kKey, "aaa", 0, 0));
  ASSERT_TRUE(waitUntil([&] { return d->replicas(kKey).empty(); }));
  ASSERT_TRUE(d->retire(kKey, "aaa"));
  EXPECT_TRUE(d->observe(kKey)->revisions.empty());
  EXPECT_TRUE(d->retire(kKey, "aaa")) << "retiring an unknown revision succeeds";
}

TEST_F(ProcessDriverTest, ScaleDownSendsSigtermThenSigkillAfterTheGracePeriod) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  // The shell ignores SIGTERM, and so does `sleep` (an ignored signal stays ignored on exec).
  ASSERT_TRUE(d->ensureRevision(
      kKey, {"stubborn", 1, shellTemplate("trap '' TERM; echo started; sleep 100", 1), 0}));
  ASSERT_TRUE(d->scale(kKey, "stubborn", 1, 1));
  ASSERT_TRUE(waitUntil([&] {
    auto r = replicasOf(*d, "stubborn");
    return r.size() == 1 && r[0].pid > 0 &&
           readFile(r[0].logFile).find("started") != std::string::npos;
  }));
  pid_t pid = replicasOf(*d, "stubborn")[0].pid;
  auto start = Steady::now();
  ASSERT_TRUE(d->scale(kKey, "stubborn", 0, 0));
  auto all = d->replicas(kKey);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].terminating);
  ASSERT_TRUE(waitUntil([&] { return !pidAlive(pid); }, std::chrono::milliseconds(10000)));
  auto elapsed = Steady::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(900)) << "killed before its 1 s grace period";
  EXPECT_LT(elapsed, std::chrono::milliseconds(5000));
  ASSERT_TRUE(waitUntil([&] { return d->replicas(kKey).empty(); }));
  std::string log = readFile(dir_.path() + "/platform.process/shop/demo/stubborn-0.log");
  EXPECT_NE(log.find("SIGTERM sent"), std::string::npos) << log;
  EXPECT_NE(log.find("SIGKILL sent"), std::string::npos) << log;
}

TEST_F(ProcessDriverTest, CrashingReplicaIsRestartedWithBackoffAndCountsAsCrashLooping) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->ensureRevision(kKey, {"crash", 1, shellTemplate("echo crashing; exit 3", 1), 0}));
  ASSERT_TRUE(d->scale(kKey, "crash", 1, 1));
  ASSERT_TRUE(waitUntil([&] {
    auto r = replicasOf(*d, "crash");
    return revisionOf(*d, "crash").crashLoopingReplicas == 1 && r.size() == 1 && r[0].restarts >= 4;
  })) << "restarts: "
      << replicasOf(*d, "crash")[0].restarts;
  auto rev = revisionOf(*d, "crash");
  EXPECT_EQ(rev.currentReplicas, 1) << "a crash-looping replica still exists";
  auto r = replicasOf(*d, "crash")[0];
  EXPECT_NE(r.lastError.find("exited with status 3"), std::string::npos) << r.lastError;
  std::string log = readFile(r.logFile);
  EXPECT_NE(log.find("crashing"), std::string::npos) << "the replica's output is in its log";
  // 200 ms, 400 ms, 800 ms, then the 1 s cap.
  EXPECT_NE(log.find("restart in 200 ms"), std::string::npos) << log;
  EXPECT_NE(log.find("restart in 400 ms"), std::string::npos) << log;
  EXPECT_NE(log.find("restart in 800 ms"), std::string::npos) << log;
  ASSERT_TRUE(waitUntil(
      [&] { return readFile(r.logFile).find("restart in 1000 ms") != std::string::npos; }));
  EXPECT_EQ(readFile(r.logFile).find("restart in 1600 ms"), std::string::npos) << "cap is 1 s";
}

// What `ramp get` and `ramp logs` read through the seam: each replica's state, readiness,
// restarts and last exit, and its own log, by name only.
TEST_F(ProcessDriverTest, ObserveReplicasAndReadLogsOfRunningAndCrashingReplicas) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->ensureRevision(
      kKey, {"ok", 1, shellTemplate("echo hello from $RAMP_POD_NAME; exec sleep 60", 1), 0}));
  ASSERT_TRUE(d->ensureRevision(kKey, {"crash", 2, shellTemplate("echo crashing; exit 3", 1), 0}));
  ASSERT_TRUE(d->scale(kKey, "ok", 2, 2));
  ASSERT_TRUE(d->scale(kKey, "crash", 1, 1));
  auto find = [&](const std::string& name) {
    auto all = d->observeReplicas(kKey);
    EXPECT_TRUE(all);
    for (const ObservedReplica& r : all ? *all : std::vector<ObservedReplica>{}) {
      if (r.name == name) return r;
    }
    return ObservedReplica{};
  };
  ASSERT_TRUE(waitUntil([&] {
    return find("demo-ok-0").state == "Running" && find("demo-ok-1").state == "Running" &&
           find("demo-crash-0").state == "CrashLoopBackOff";
  })) << find("demo-crash-0").state;
  auto all = d->observeReplicas(kKey);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "demo-crash-0") << "ordered by hash, then index";
  ObservedReplica ok = find("demo-ok-1");
  EXPECT_TRUE(ok.ready);
  EXPECT_EQ(ok.restarts, 0);
  EXPECT_EQ(ok.lastExit, "");
  EXPECT_TRUE(ok.startedAt.has_value());
  ObservedReplica crash = find("demo-crash-0");
  EXPECT_FALSE(crash.ready);
  EXPECT_GE(crash.restarts, 2);
  EXPECT_EQ(crash.lastExit, "exit 3");
  EXPECT_NE(crash.message.find("exited with status 3"), std::string::npos) << crash.message;
  EXPECT_FALSE(crash.startedAt.has_value()) << "not running while it backs off";

  // Each replica's own output, continued from nextOffset.
  ASSERT_TRUE(waitUntil([&] {
    auto c = d->readLog(kKey, "demo-ok-1", 0, 1 << 20);
    return c && c->text.find("hello from demo-ok-1") != std::string::npos;
  }));
  auto first = d->readLog(kKey, "demo-ok-1", 0, 1 << 20);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->offset, 0);
  EXPECT_EQ(first->nextOffset, static_cast<int64_t>(first->text.size()));
  EXPECT_EQ(first->text.find("demo-ok-0"), std::string::npos) << "another replica's output";
  auto more = d->readLog(kKey, "demo-ok-1", first->nextOffset, 1 << 20);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->text, "") << "nothing new";
  EXPECT_EQ(more->nextOffset, first->nextOffset);
  auto tail = d->readLog(kKey, "demo-ok-1", -5, 1 << 20);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->text, first->text.substr(first->text.size() - 5));
  auto capped = d->readLog(kKey, "demo-ok-1", 0, 3);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->text, first->text.substr(0, 3));
  EXPECT_EQ(capped->nextOffset, 3);
  auto crashed = d->readLog(kKey, "demo-crash-0", 0, 1 << 20);
  ASSERT_TRUE(crashed);
  EXPECT_NE(crashed->text.find("crashing"), std::string::npos);

  // Only names the driver lists: not another rollout's, not a path.
  for (const char* name : {"demo-ok-7", "../../state.json", "", "demo-ok-1.log"}) {
    auto r = d->readLog(kKey, name, 0, 100);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << name;
  }
  auto other = d->readLog("shop/other", "demo-ok-1", 0, 100);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  auto zero = d->readLog(kKey, "demo-ok-1", 0, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  auto none = d->observeReplicas("shop/never");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// The restart backoff is scheduled on the driver's clock: with a simulated clock and no
// supervisor thread, a crashed replica stays down until the clock reaches its restart time.
TEST_F(ProcessDriverTest, RestartBackoffRunsOnTheDriversClock) {
  ramp::testing::SimulatedClock clock;
  auto opts = options();
  opts.supervise = false;
  auto created = ProcessDriver::create(clock, opts);
  ASSERT_TRUE(created) << created.error().message;
  auto d = std::move(*created);
  ASSERT_TRUE(d->ensureRevision(kKey, {"crash", 1, shellTemplate("exit 3", 1), 0}));
  ASSERT_TRUE(d->scale(kKey, "crash", 1, 1));
  pid_t first = replicasOf(*d, "crash")[0].pid;
  ASSERT_GT(first, 0) << "scale starts the replica at once";
  // Real time passes until the exit is seen; simulated time does not move.
  ASSERT_TRUE(waitUntil([&] {
    d->tick();
    return replicasOf(*d, "crash")[0].restarts == 1;
  }));
  auto r = replicasOf(*d, "crash")[0];
  EXPECT_EQ(r.pid, 0);
  EXPECT_EQ(r.nextRestart, clock.now() + Duration(200));
  EXPECT_FALSE(r.crashLooping) << "one crash is not a loop";
  clock.advance(Duration(199));
  d->tick();
  EXPECT_EQ(replicasOf(*d, "crash")[0].pid, 0) << "restarted before its backoff ended";
  clock.advance(Duration(1));
  d->tick();
  EXPECT_GT(replicasOf(*d, "crash")[0].pid, 0) << "not restarted when its backoff ended";
  ASSERT_TRUE(waitUntil([&] {
    d->tick();
    return replicasOf(*d, "crash")[0].restarts == 2;
  }));
  r = replicasOf(*d, "crash")[0];
  EXPECT_EQ(r.nextRestart, clock.now() + Duration(400)) << "the second wait doubles";
  EXPECT_TRUE(r.crashLooping);
  EXPECT_EQ(revisionOf(*d, "crash").crashLoopingReplicas, 1);
}

// restartReplica (spec.restartAt): the oldest replica started before the time gets SIGTERM (then
// SIGKILL after its grace period, on the driver's clock) and a replacement starts at once in its
// slot; start times come back through observe().
TEST_F(ProcessDriverTest, RestartReplicaReplacesTheOldestReplicaStartedBeforeTheTime) {
  ramp::testing::SimulatedClock clock;
  auto opts = options();
  opts.supervise = false;
  auto created = ProcessDriver::create(clock, opts);
  ASSERT_TRUE(created) << created.error().message;
  auto d = std::move(*created);
  const Time t0 = clock.now();
  // The replicas ignore SIGTERM, so the old one is still stopping after the call.
  ASSERT_TRUE(d->ensureRevision(
      kKey, {"rst", 1, shellTemplate("trap '' TERM; echo started; sleep 100", 1), 0}));
  ASSERT_TRUE(d->scale(kKey, "rst", 2, 2));
  auto before = replicasOf(*d, "rst");
  ASSERT_EQ(before.size(), 2u);
  ASSERT_GT(before[0].pid, 0);
  ASSERT_GT(before[1].pid, 0);
  EXPECT_EQ(revisionOf(*d, "rst").replicaStartedAt, (std::vector<Time>{t0, t0}));

  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(d->restartReplica(kKey, "rst", t0 + std::chrono::seconds(1)));
  auto after = replicasOf(*d, "rst");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].index, 0);
  EXPECT_GT(after[0].pid, 0) << "the replacement starts at once";
  EXPECT_NE(after[0].pid, before[0].pid);
  EXPECT_EQ(after[1].pid, before[1].pid) << "only one replica is restarted";
  auto rev = revisionOf(*d, "rst");
  EXPECT_EQ(rev.desiredReplicas, 2);
  EXPECT_EQ(rev.currentReplicas, 2) << "the stopping replica is not counted";
  EXPECT_EQ(rev.replicaStartedAt, (std::vector<Time>{t0, t0 + std::chrono::seconds(5)}));
  bool terminating = false;
  for (const auto& r : d->replicas(kKey)) terminating |= r.terminating && r.pid == before[0].pid;
  EXPECT_TRUE(terminating) << "the old replica is stopping";
  EXPECT_NE(readFile(after[0].logFile).find("restart requested"), std::string::npos);
  // Its 1 s grace period runs on the driver's clock.
  d->tick();
  EXPECT_TRUE(pidAlive(before[0].pid));
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(waitUntil([&] {
    d->tick();
    return !pidAlive(before[0].pid);
  })) << "SIGKILL after the grace period";

  // The second old replica, then nothing is left to restart.
  ASSERT_TRUE(d->restartReplica(kKey, "rst", t0 + std::chrono::seconds(1)));
  ASSERT_TRUE(d->restartReplica(kKey, "rst", t0 + std::chrono::seconds(1)));
  after = replicasOf(*d, "rst");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_NE(after[1].pid, before[1].pid);
  EXPECT_EQ(revisionOf(*d, "rst").replicaStartedAt,
            (std::vector<Time>{t0 + std::chrono::seconds(5), t0 + std::chrono::seconds(6)}));

  auto unknown = d->restartReplica(kKey, "nope", t0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(ProcessDriverTest, CommandThatDoesNotExistIsAClearError) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  auto t = shellTemplate("true", 1);
  t.spec.containers[0].command = {"ramp-no-such-program"};
  auto s = d->ensureRevision(kKey, {"x", 1, t, 0});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("spec.template.spec.containers[0].command[0]"),
            std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("\"ramp-no-such-program\" not found in PATH"), std::string::npos)
      << s.error().message;

  t.spec.containers[0].command = {dir_.path() + "/missing"};
  s = d->ensureRevision(kKey, {"x", 1, t, 0});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("is not an executable file"), std::string::npos);

  t.spec.containers[0].command.clear();  // an image alone cannot run on this platform
  s = d->ensureRevision(kKey, {"x", 1, t, 0});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("spec.template.spec.containers[0].command:"), std::string::npos)
      << s.error().message;
  EXPECT_TRUE(d->observe(kKey)->revisions.empty()) << "nothing half-applied";

  // A program that disappears after ensureRevision: every start fails, with the reason, and
  // the replica crash-loops.
  std::string script = dir_.path() + "/app.sh";
  std::ofstream(script) << "#!/bin/sh\nexec sleep 100\n";
  ::chmod(script.c_str(), 0755);
  t.spec.containers[0].command = {script};
  ASSERT_TRUE(d->ensureRevision(kKey, {"x", 1, t, 0}));
  fs::remove(script);
  ASSERT_TRUE(d->scale(kKey, "x", 1, 1));
  ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "x").crashLoopingReplicas == 1; }));
  auto r = replicasOf(*d, "x")[0];
  EXPECT_EQ(r.pid, 0);
  EXPECT_NE(r.lastError.find("is not an executable file"), std::string::npos) << r.lastError;
  EXPECT_EQ(revisionOf(*d, "x").readyReplicas, 0);
  EXPECT_NE(readFile(r.logFile).find("cannot start"), std::string::npos);
}

// An application that ignores PORT and binds a fixed port someone else holds: the replica
// crash-loops, is never ready, and its log says why.
TEST_F(ProcessDriverTest, PortAlreadyTakenCrashLoopsWithTheReasonInTheLog) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int taken = ntohs(addr.sin_port);

  auto d = makeDriver();
  ASSERT_TRUE(d);
  auto t = demoTemplate("demo:v1", 1);
  t.spec.containers[0].args = {"--port", std::to_string(taken)};
  ASSERT_TRUE(d->ensureRevision(kKey, {"clash", 1, t, 0}));
  ASSERT_TRUE(d->scale(kKey, "clash", 1, 1));
  ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "clash").crashLoopingReplicas == 1; }));
  auto rev = revisionOf(*d, "clash");
  EXPECT_EQ(rev.readyReplicas, 0);
  EXPECT_EQ(rev.availableReplicas, 0);
  auto r = replicasOf(*d, "clash")[0];
  EXPECT_NE(r.lastError.find("exited with status 1"), std::string::npos) << r.lastError;
  EXPECT_NE(readFile(r.logFile).find("cannot listen on 127.0.0.1:" + std::to_string(taken)),
            std::string::npos)
      << readFile(r.logFile);
  ::close(fd);

  auto bad = demoTemplate("demo:v1");
  bad.spec.containers[0].workingDir = dir_.path() + "/nowhere";
  auto s = d->ensureRevision(kKey, {"wd", 1, bad, 0});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("spec.template.spec.containers[0].workingDir"),
            std::string::npos)
      << s.error().message;
}

TEST_F(ProcessDriverTest, UnknownRevisionAndBadCountsAreErrors) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->observe("nobody/here")->revisions.empty());
  auto s = d->scale(kKey, "nope", 1, 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(d->setScaleDownDeadline(kKey, "nope", std::nullopt).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 1, demoTemplate("demo:v1"), 0}));
  EXPECT_EQ(d->scale(kKey, "aaa", -1, -1).error().code, ErrorCode::kInvalidArgument);
  Time deadline = Time(Duration(1767225600000));
  ASSERT_TRUE(d->setScaleDownDeadline(kKey, "aaa", deadline));
  EXPECT_EQ(revisionOf(*d, "aaa").scaleDownDeadline, deadline);
  ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 4, demoTemplate("demo:v1"), 0}));
  EXPECT_EQ(revisionOf(*d, "aaa").revision, 4) << "ensureRevision updates the revision number";
  EXPECT_EQ(d->type(), "platform.process");
}

TEST_F(ProcessDriverTest, RestartedDriverReadoptsLiveReplicasAndRestartsDeadOnes) {
  std::vector<int> pids;
  std::vector<int> ports;
  {
    auto d = makeDriver(/*stopOnDestroy=*/false);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 1, demoTemplate("demo:v1"), 0}));
    ASSERT_TRUE(d->scale(kKey, "aaa", 3, 3));
    ASSERT_TRUE(d->setRoles(kKey, {{"aaa", "stable"}}, {}));
    Time deadline = Time(Duration(1767225600000));
    ASSERT_TRUE(d->setScaleDownDeadline(kKey, "aaa", deadline));
    ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "aaa").readyReplicas == 3; }));
    for (const auto& r : replicasOf(*d, "aaa")) {
      pids.push_back(r.pid);
      ports.push_back(r.ports[0]);
    }
  }  // the driver (the daemon) goes away; its replicas keep running
  ASSERT_EQ(pids.size(), 3u);
  for (int pid : pids) EXPECT_TRUE(pidAlive(pid)) << pid;
  // One replica dies while no driver watches it.
  ::kill(pids[2], SIGKILL);
  ASSERT_TRUE(waitUntil([&] { return !pidAlive(pids[2]); }));

  // No supervisor thread: until tick() runs, no probe has run, so what observe() says about
  // readiness comes from the persisted state alone.
  auto opts = options();
  opts.supervise = false;
  auto created = ProcessDriver::create(realClock(), opts);
  ASSERT_TRUE(created) << created.error().message;
  auto d = std::move(*created);
  auto rev = revisionOf(*d, "aaa");
  EXPECT_EQ(rev.desiredReplicas, 3);
  EXPECT_EQ(rev.revision, 1);
  EXPECT_EQ(rev.template_, demoTemplate("demo:v1"));
  EXPECT_EQ(rev.scaleDownDeadline, Time(Duration(1767225600000)));
  EXPECT_EQ(rev.readyReplicas, 2) << "adopted replicas keep their readiness: no traffic blip";
  auto reps = replicasOf(*d, "aaa");
  ASSERT_EQ(reps.size(), 3u);
  EXPECT_EQ(reps[0].pid, pids[0]);
  EXPECT_EQ(reps[1].pid, pids[1]);
  EXPECT_TRUE(reps[0].adopted);
  EXPECT_TRUE(reps[1].adopted);
  EXPECT_EQ(reps[0].ports[0], ports[0]);
  EXPECT_FALSE(reps[2].adopted);
  EXPECT_NE(reps[2].pid, pids[2]) << "the dead replica was started again";
  ASSERT_TRUE(waitUntil([&] {
    d->tick();
    return revisionOf(*d, "aaa").readyReplicas == 3;
  }));
  EXPECT_NE(readFile(reps[0].logFile).find("re-adopted"), std::string::npos);
  // Adopted replicas are still supervised: scale down stops them.
  ASSERT_TRUE(d->scale(kKey, "aaa", 0, 0));
  ASSERT_TRUE(waitUntil([&] {
    d->tick();
    return !pidAlive(pids[0]) && !pidAlive(pids[1]);
  }));
}

TEST_F(ProcessDriverTest, LivenessFailureRestartsTheReplica) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  auto t = demoTemplate("demo:v1", 1);
  auto liveness = httpProbe("/no-such-path", "http");  // the demo answers 404
  liveness.failureThreshold = 1;
  liveness.initialDelaySeconds = 1;  // the demo listens by then, so the probe gets its 404
  t.spec.containers[0].livenessProbe = liveness;
  ASSERT_TRUE(d->ensureRevision(kKey, {"live", 1, t, 0}));
  ASSERT_TRUE(d->scale(kKey, "live", 1, 1));
  ASSERT_TRUE(waitUntil([&] {
    auto r = replicasOf(*d, "live");
    return r.size() == 1 && r[0].restarts >= 1;
  }));
  auto r = replicasOf(*d, "live")[0];
  EXPECT_NE(r.lastError.find("liveness probe failed"), std::string::npos) << r.lastError;
  EXPECT_NE(r.lastError.find("404"), std::string::npos) << r.lastError;
}

TEST_F(ProcessDriverTest, ExecReadinessAndTcpLivenessProbes) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  auto t = demoTemplate("demo:v1", 1);
  auto& c = t.spec.containers[0];
  // $(VAR) expansion in env: each replica gets its own marker file.
  c.env = {{"MARKER", dir_.path() + "/ready-$(RAMP_REPLICA)", {}}};
  spec::Probe exec;
  exec.exec = spec::ExecAction{{"/bin/sh", "-c", "test -f \"$MARKER\""}};
  exec.periodSeconds = 1;
  exec.failureThreshold = 1;
  c.readinessProbe = exec;
  spec::Probe tcp;
  tcp.tcpSocket = spec::TcpSocketAction{spec::IntOrString{int64_t{8080}}, ""};
  tcp.periodSeconds = 1;
  c.livenessProbe = tcp;
  ASSERT_TRUE(d->ensureRevision(kKey, {"exec", 1, t, 0}));
  ASSERT_TRUE(d->scale(kKey, "exec", 2, 2));
  ASSERT_TRUE(waitUntil([&] {
    auto r = replicasOf(*d, "exec");
    return r.size() == 2 && r[0].pid > 0 && r[1].pid > 0 && !r[0].lastError.empty();
  })) << "the exec probe must have failed once";
  EXPECT_EQ(revisionOf(*d, "exec").readyReplicas, 0);
  std::ofstream(dir_.path() + "/ready-1") << "";
  ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "exec").readyReplicas == 1; }));
  auto reps = replicasOf(*d, "exec");
  EXPECT_FALSE(reps[0].ready);
  EXPECT_TRUE(reps[1].ready);
  auto rev = revisionOf(*d, "exec");
  EXPECT_FALSE(rev.endpoints[0].ready);
  EXPECT_TRUE(rev.endpoints[1].ready);
  fs::remove(dir_.path() + "/ready-1");
  ASSERT_TRUE(waitUntil([&] { return revisionOf(*d, "exec").readyReplicas == 0; }));
  for (const auto& r : replicasOf(*d, "exec")) EXPECT_EQ(r.restarts, 0) << "tcp liveness holds";
}

nlohmann::json readFileSd(const std::string& path) {
  auto j = nlohmann::json::parse(readFile(path), nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j;
}

TEST_F(ProcessDriverTest, FileSdListsReadyReplicasWithRoleLabels) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  std::string sd = d->fileSdPath();
  EXPECT_EQ(sd, dir_.path() + "/platform.process/file_sd.json");
  EXPECT_EQ(readFile(sd), "[]\n") << "written at start, empty";
  ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 1, demoTemplate("demo:v1"), 0}));
  ASSERT_TRUE(d->ensureRevision(kKey, {"bbb", 2, demoTemplate("demo:v2"), 0}));
  ASSERT_TRUE(d->scale(kKey, "aaa", 2, 2));
  ASSERT_TRUE(d->scale(kKey, "bbb", 1, 1));
  auto bad = d->setRoles(kKey, {{"aaa", "primary"}}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(d->setRoles(kKey, {{"aaa", "stable"}, {"bbb", "canary"}}, {}));
  ASSERT_TRUE(waitUntil([&] { return readFileSd(sd).size() == 3; })) << readFile(sd);
  std::map<std::string, int> byRole;
  for (const auto& group : readFileSd(sd)) {
    const auto& labels = group["labels"];
    std::string role = labels["role"];
    ++byRole[role];
    EXPECT_EQ(labels["namespace"], "shop");
    EXPECT_EQ(labels["rollout"], "demo");
    EXPECT_EQ(labels["app"], "demo") << "template labels come along";
    EXPECT_EQ(labels["rollouts_pod_template_hash"], role == "stable" ? "aaa" : "bbb");
    EXPECT_EQ(labels["revision"], role == "stable" ? "1" : "2");
    std::string target = group["targets"][0];
    EXPECT_TRUE(target.starts_with("127.0.0.1:")) << target;
  }
  EXPECT_EQ(byRole["stable"], 2);
  EXPECT_EQ(byRole["canary"], 1);

  // Promotion swaps the roles; the file follows at once.
  ASSERT_TRUE(d->setRoles(kKey, {{"bbb", "stable"}, {"aaa", "canary"}}, {}));
  int canaries = 0;
  for (const auto& g : readFileSd(sd)) canaries += g["labels"]["role"] == "canary";
  EXPECT_EQ(canaries, 2);
  // Scaled-down replicas leave the file.
  ASSERT_TRUE(d->scale(kKey, "aaa", 0, 0));
  EXPECT_EQ(readFileSd(sd).size(), 1u);
  EXPECT_EQ(readFileSd(sd)[0]["labels"]["role"], "stable");
}

// A real Prometheus discovers the replicas from the file_sd file and keeps the labels, so a
// query selects the canary exactly as it would by Kubernetes pod labels.
TEST_F(ProcessDriverTest, PrometheusDiscoversReplicasWithTheirRoles) {
  auto d = makeDriver();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->ensureRevision(kKey, {"aaa", 1, demoTemplate("demo:v1"), 0}));
  ASSERT_TRUE(d->ensureRevision(kKey, {"bbb", 2, demoTemplate("demo:v2"), 0}));
  ASSERT_TRUE(d->scale(kKey, "aaa", 1, 1));
  ASSERT_TRUE(d->scale(kKey, "bbb", 1, 1));
  ASSERT_TRUE(d->setRoles(kKey, {{"aaa", "stable"}, {"bbb", "canary"}}, {}));
  ASSERT_TRUE(waitUntil([&] { return readFileSd(d->fileSdPath()).size() == 2; }));

  std::string work = dir_.path() + "/prom";
  fs::create_directories(work + "/data");
  int port = ramp::testing::pickFreePort();
  std::ofstream(work + "/prometheus.yml")
      << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
      << "scrape_configs:\n"
      << "  - job_name: demo\n"
      << "    file_sd_configs: [{files: ['" << d->fileSdPath() << "'], refresh_interval: 1s}]\n";
  ramp::testing::ProcessOptions p;
  p.argv = {"prometheus", "--config.file=" + work + "/prometheus.yml",
            "--storage.tsdb.path=" + work + "/data",
            "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"};
  p.logFile = work + "/prometheus.log";
  auto prom = ramp::testing::Process::start(p);
  ASSERT_TRUE(prom) << prom.error().message;
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(ramp::testing::waitForHttp(url + "/-/ready", std::chrono::milliseconds(20000)))
      << (*prom)->log();

  auto series = [&](const std::string& promql) {
    auto r = ramp::testing::httpGet(url + "/api/v1/query?query=" + http::urlEncode(promql));
    if (!r || r->status != 200) return nlohmann::json::array();
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j["data"]["result"];
  };
  ASSERT_TRUE(waitUntil(
      [&] {
        return series("up{role=\"canary\"} == 1").size() == 1 &&
               series("up{role=\"stable\"} == 1").size() == 1;
      },
      std::chrono::milliseconds(40000)))
      << (*prom)->log();
  auto canary = series("up{role=\"canary\"}")[0]["metric"];
  EXPECT_EQ(canary["rollouts_pod_template_hash"], "bbb");
  EXPECT_EQ(canary["namespace"], "shop");
  EXPECT_EQ(canary["rollout"], "demo");
  EXPECT_EQ(canary["revision"], "2");
  EXPECT_EQ(canary["job"], "demo");
}

TEST(ProcessDriverFactory, NeedsADataDirectory) {
  ExtensionContext context;
  context.clock = &realClock();
  auto d = makeProcessDriver(context);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message.find("data directory"), std::string::npos);

  TempDir dir("ramp-process-factory");
  context.dataDir = dir.path();
  auto ok = makeProcessDriver(context);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->type(), "platform.process");
  EXPECT_TRUE(fs::exists(dir.path() + "/platform.process/file_sd.json"));
}

}  // namespace
}  // namespace ramp::platform::process
