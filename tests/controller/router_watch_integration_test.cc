// The controller's router watch against real proxies: a running controller (worker threads, the
// real clock, the builtin HAProxy and nginx routers) drives a real HAProxy or nginx on run-time
// loopback ports; the proxies are killed and started again by pid.
//
// The workload driver is the InstantDriver double (the platform is not what is tested here): each
// replica is an in-process HTTP backend answering with its version ("v1", "v2"), available as
// soon as it is scaled.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "controller/controller.h"
#include "fakes/instant_driver.h"
#include "ramp/registry.h"
#include "rollout/operations.h"
#include "spec/codec.h"
#include "store/memory/memory_state_store.h"
#include "traffic/proxy_fixture.h"

namespace ramp::controller {
namespace {

namespace fixture = traffic::testing;
using SteadyClock = std::chrono::steady_clock;

std::string rolloutYaml(const std::string& image, const std::string& plugin) {
  return R"(
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: )" +
         image + R"(}]}
  strategy:
    canary:
      trafficRouting:
        plugins:
)" + plugin +
         R"(
      steps:
      - setWeight: 25
      - pause: {}
)";
}

// Polls `done` every 20 ms until it holds or `timeout` passes; returns the time it took.
std::optional<SteadyClock::duration> waitFor(const std::function<bool()>& done,
                                             std::chrono::milliseconds timeout) {
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < timeout) {
    if (done()) return SteadyClock::now() - start;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

class RouterWatchIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltins(registry_);
    context_.clock = &realClock();
    // Each replica is an in-process backend answering with its image's tag.
    driver_.clock = &realClock();
    driver_.ports = [this](const std::string& hash, const spec::PodTemplateSpec& tmpl, int32_t n) {
      const std::string& image = tmpl.spec.containers.at(0).image;
      auto& pool = backends_[hash];
      while (static_cast<int32_t>(pool.size()) < n) {
        pool.push_back(std::make_unique<fixture::NamedBackend>(image.substr(image.rfind(':') + 1)));
      }
      std::vector<int> ports;
      for (int32_t i = 0; i < n; ++i) ports.push_back(pool[static_cast<size_t>(i)]->port());
      return ports;
    };
    options_.workers = 2;
    options_.externalPoll = Duration(0);
    options_.progressPoll = std::chrono::milliseconds(100);
    // options_.routerWatch stays at its default (2 s): what `ramp serve` runs with.
    // RAMP_TEST_ROUTER_WATCH_MS=0 turns the watch off, to see these tests fail without it.
    if (const char* ms = std::getenv("RAMP_TEST_ROUTER_WATCH_MS")) {
      options_.routerWatch = Duration(std::atoll(ms));
    }
  }
  void TearDown() override {
    if (controller_) controller_->stop();
  }

  void startController() {
    controller_ = std::make_unique<Controller>(store_, registry_, driver_, context_, options_);
    ASSERT_TRUE(controller_->start());
  }

  // Writes the rollout as `ramp apply` would (keeping the status).
  void apply(const std::string& yaml) {
    auto parsed = spec::parseDocuments(yaml, "test.yaml");
    ASSERT_TRUE(parsed.diagnostics.empty()) << parsed.diagnostics.front().message;
    auto next = std::get<spec::Rollout>(parsed.documents.at(0).object);
    const store::ObjectKey key{"Rollout", "default", "web"};
    int64_t version = 0;
    next.metadata.generation = 1;
    if (auto existing = store_.get(key)) {
      auto old = spec::rolloutFromJson(existing->json).value;
      next.status = old->status;
      next.metadata.generation = old->metadata.generation + 1;
      version = existing->version;
    }
    ASSERT_TRUE(store_.put(key, spec::toJson(next), version));
  }

  spec::Rollout rollout() {
    auto got = store_.get({"Rollout", "default", "web"});
    EXPECT_TRUE(got);
    return *spec::rolloutFromJson(got->json).value;
  }

  // Waits until the stored rollout is in `phase` with its weight verified by the routers.
  void waitSettled(const std::string& phase, int32_t weight) {
    auto took = waitFor(
        [&] {
          auto r = rollout();
          return spec::rolloutPhaseName(r.status.phase) == phase && r.status.canary.weights &&
                 r.status.canary.weights->canary.weight == weight &&
                 r.status.canary.weights->verified != false;
        },
        std::chrono::seconds(20));
    auto r = rollout();
    ASSERT_TRUE(took) << "still " << spec::rolloutPhaseName(r.status.phase) << " ("
                      << r.status.message << ")";
  }

  void abort() {
    const store::ObjectKey key{"Rollout", "default", "web"};
    auto got = store_.get(key);
    ASSERT_TRUE(got);
    auto next = rollout::abortRollout(*spec::rolloutFromJson(got->json).value);
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_TRUE(store_.put(key, spec::toJson(*next), got->version));
  }

  fixture::TempDir dir_;
  store::MemoryStateStore store_;
  Registry registry_;
  testing::InstantDriver driver_;
  // The backends of each revision (by hash), created as the driver scales up; kept until the end.
  std::map<std::string, std::vector<std::unique_ptr<fixture::NamedBackend>>> backends_;
  ExtensionContext context_;
  ControllerOptions options_;
  std::unique_ptr<Controller> controller_;
};

class HaproxyWatchTest : public RouterWatchIntegrationTest {
 protected:
  void SetUp() override {
    RouterWatchIntegrationTest::SetUp();
    port_ = fixture::freePort();
    socket_ = dir_.file("admin.sock");
    fixture::writeFile(dir_.file("haproxy.cfg"),
                       "global\n    stats socket " + socket_ +
                           " mode 600 level admin\n"
                           "defaults\n    mode http\n    timeout connect 2s\n"
                           "    timeout client 10s\n    timeout server 10s\n"
                           "    option http-server-close\n"
                           "frontend fe\n    bind 127.0.0.1:" +
                           std::to_string(port_) +
                           "\n    default_backend be_app\n"
                           "backend be_app\n    balance roundrobin\n");
    startHaproxy();
  }

  void startHaproxy() {
    std::string error;
    haproxy_ = fixture::Child::spawn({"haproxy", "-db", "-f", dir_.file("haproxy.cfg")},
                                     dir_.file("haproxy.log"), &error);
    ASSERT_TRUE(haproxy_) << error;
    ASSERT_TRUE(fixture::waitForTcp(port_)) << fixture::readFile(dir_.file("haproxy.log"));
  }

  std::string plugin() const {
    return "          ramp/haproxy: {runtimeApi: \"unix:" + socket_ +
           "\", backend: be_app, timeoutMs: 1000}";
  }

  // Kills HAProxy, starts it again (empty: runtime servers are lost) and measures how long
  // users wait until every request is answered again by a replica.
  SteadyClock::duration restartAndTimeRecovery() {
    haproxy_->stop(9);
    startHaproxy();
    const auto restarted = SteadyClock::now();
    auto took = waitFor([&] { return fixture::countResponses(port_, 20)["error"] == 0; },
                        std::chrono::seconds(20));
    EXPECT_TRUE(took) << "the backend was not restored";
    const auto waited = SteadyClock::now() - restarted;
    std::printf("servers back %.0f ms after the HAProxy restart\n",
                std::chrono::duration<double, std::milli>(waited).count());
    return waited;
  }

  // The split over 400 requests is `weight` % canary ("v2"), within 4 sigma.
  void expectSplit(int weight) {
    auto counts = fixture::countResponses(port_, 400);
    EXPECT_EQ(counts["error"], 0);
    EXPECT_TRUE(fixture::withinBinomial(counts["v2"], 400, weight / 100.0))
        << "weight " << weight << ": v2 got " << counts["v2"] << " of 400";
  }

  int port_ = 0;
  std::string socket_;
  std::unique_ptr<fixture::Child> haproxy_;
};

// Item 1 of "Plain hosts, done right": HAProxy killed and restarted while the rollout is
// Healthy, paused at an indefinite `pause: {}`, and Degraded (aborted); users see the servers
// back within 5 s each time. (Without the watch only the 15-minute resync would restore them.)
TEST_F(HaproxyWatchTest, ServersAreBackWithin5sAfterARestartInEveryPhase) {
  startController();
  apply(rolloutYaml("demo:v1", plugin()));
  waitSettled("Healthy", 0);
  expectSplit(0);
  EXPECT_LT(restartAndTimeRecovery(), std::chrono::seconds(5)) << "Healthy";
  waitSettled("Healthy", 0);

  apply(rolloutYaml("demo:v2", plugin()));
  waitSettled("Paused", 25);
  expectSplit(25);
  EXPECT_LT(restartAndTimeRecovery(), std::chrono::seconds(5)) << "Paused";
  expectSplit(25);
  waitSettled("Paused", 25);

  abort();
  waitSettled("Degraded", 0);
  EXPECT_LT(restartAndTimeRecovery(), std::chrono::seconds(5)) << "Degraded";
  expectSplit(0);
  waitSettled("Degraded", 0);
}

// While HAProxy is down the stored status says the weight is not verified (what `ramp get`,
// the dashboard and /metrics show) and the rollout is not Healthy; it recovers on its own.
TEST_F(HaproxyWatchTest, ADownProxyShowsInTheStatusUntilItIsBack) {
  startController();
  apply(rolloutYaml("demo:v1", plugin()));
  waitSettled("Healthy", 0);
  haproxy_->stop(9);
  auto seen = waitFor(
      [&] {
        auto r = rollout();
        return r.status.canary.weights && r.status.canary.weights->verified == false &&
               r.status.phase != spec::RolloutPhase::kHealthy;
      },
      std::chrono::seconds(10));
  EXPECT_TRUE(seen) << "the mismatch never reached the status";
  startHaproxy();
  waitSettled("Healthy", 0);
  EXPECT_EQ(fixture::countResponses(port_, 20)["error"], 0);
}

// Deleting the rollout removes its servers from the backend.
TEST_F(HaproxyWatchTest, DeletingTheRolloutRemovesItsServers) {
  startController();
  apply(rolloutYaml("demo:v1", plugin()));
  waitSettled("Healthy", 0);
  ASSERT_EQ(fixture::countResponses(port_, 4)["v1"], 4);
  auto got = store_.get({"Rollout", "default", "web"});
  ASSERT_TRUE(store_.remove(got->key, got->version));
  auto gone = waitFor([&] { return fixture::countResponses(port_, 1)["error"] == 1; },
                      std::chrono::seconds(10));
  EXPECT_TRUE(gone) << "HAProxy still sends requests to the deleted rollout's replicas";
}

class NginxWatchTest : public RouterWatchIntegrationTest {
 protected:
  void SetUp() override {
    RouterWatchIntegrationTest::SetUp();
    port_ = fixture::freePort();
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/tmp");
    std::string conf = std::string(::geteuid() == 0 ? "user root;\n" : "") +
                       "worker_processes 1;\ndaemon off;\npid " + d + "/nginx.pid;\n" +
                       "error_log " + d + "/error.log notice;\n" +
                       "events { worker_connections 256; }\nhttp {\n  access_log off;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      conf += std::string("  ") + t + "_temp_path " + d + "/tmp/" + t + ";\n";
    }
    conf += "  include " + d +
            "/upstream.conf;\n  server {\n    listen 127.0.0.1:" + std::to_string(port_) +
            ";\n    location / { proxy_pass http://app; }\n"
            "    location = /ramp-state { return 200 \"$ramp_state_app\"; }\n  }\n}\n";
    fixture::writeFile(dir_.file("nginx.conf"), conf);
  }

  void startNginx() {
    std::string error;
    nginx_ = fixture::Child::spawn(
        {"nginx", "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log")},
        dir_.file("stdout.log"), &error);
    ASSERT_TRUE(nginx_) << error;
    ASSERT_TRUE(fixture::waitForTcp(port_)) << fixture::readFile(dir_.file("error.log"));
  }

  std::string plugin() const {
    const std::string d = dir_.path();
    return "          ramp/nginx: {includePath: \"" + d + "/upstream.conf\", upstream: app, " +
           "prefix: \"" + d + "\", conf: \"" + d + "/nginx.conf\", errorLog: \"" + d +
           "/error.log\", pidFile: \"" + d +
           "/nginx.pid\", stateUrl: \"http://127.0.0.1:" + std::to_string(port_) +
           "/ramp-state\", timeoutMs: 5000}";
  }

  int port_ = 0;
  std::unique_ptr<fixture::Child> nginx_;
};

// A rollout whose router cannot reload (nginx not running: the include is written, the reload
// fails) is never Healthy until the router verifies; once nginx runs, it becomes Healthy.
TEST_F(NginxWatchTest, NeverHealthyUntilTheRouterVerifies) {
  startController();
  apply(rolloutYaml("demo:v1", plugin()));
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < std::chrono::seconds(4)) {
    auto r = rollout();
    ASSERT_NE(r.status.phase, spec::RolloutPhase::kHealthy)
        << "Healthy while nginx does not run: " << r.status.message;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(dir_.file("upstream.conf")));
  startNginx();
  waitSettled("Healthy", 0);
  EXPECT_EQ(fixture::countResponses(port_, 4)["v1"], 4);
}

// `nginx -t` rejects the configuration (nginx.conf is broken): the include cannot be installed,
// and the rollout is not Healthy until the configuration is fixed and nginx serves it.
TEST_F(NginxWatchTest, ARejectedConfigIsNeverHealthy) {
  const std::string good = fixture::readFile(dir_.file("nginx.conf"));
  fixture::writeFile(dir_.file("nginx.conf"), good + "this is not nginx;\n");
  startController();
  apply(rolloutYaml("demo:v1", plugin()));
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < std::chrono::seconds(4)) {
    auto r = rollout();
    ASSERT_NE(r.status.phase, spec::RolloutPhase::kHealthy) << r.status.message;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("upstream.conf"))) << "rejected, not installed";
  fixture::writeFile(dir_.file("nginx.conf"), good);
  ASSERT_TRUE(waitFor([&] { return std::filesystem::exists(dir_.file("upstream.conf")); },
                      std::chrono::seconds(15)));
  startNginx();
  waitSettled("Healthy", 0);
}

}  // namespace
}  // namespace ramp::controller
