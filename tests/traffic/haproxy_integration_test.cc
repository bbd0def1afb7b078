// The HAProxy router against a real HAProxy (`haproxy` on PATH) on run-time loopback ports, with
// real HTTP backends; HAProxy is stopped by its pid.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "ramp/clock.h"
#include "traffic/haproxy/haproxy_router.h"
#include "traffic/haproxy/runtime_api.h"
#include "traffic/haproxy/server_state.h"
#include "traffic/proxy_fixture.h"

namespace ramp::traffic::haproxy {
namespace {

using testing::Child;
using testing::NamedBackend;
using testing::TempDir;

class HaproxyRouterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    frontendPort_ = testing::freePort();
    previewPort_ = testing::freePort();
    apiPort_ = testing::freePort();
    socket_ = dir_.file("admin.sock");
    testing::writeFile(dir_.file("haproxy.cfg"),
                       "global\n"
                       "    stats socket " +
                           socket_ +
                           " mode 600 level admin\n"
                           "    stats socket 127.0.0.1:" +
                           std::to_string(apiPort_) +
                           " level admin\n"
                           "defaults\n"
                           "    mode http\n"
                           "    timeout connect 2s\n"
                           "    timeout client 10s\n"
                           "    timeout server 10s\n"
                           "    option http-server-close\n"
                           "frontend fe\n"
                           "    bind 127.0.0.1:" +
                           std::to_string(frontendPort_) +
                           "\n"
                           "    default_backend be_app\n"
                           "frontend fe_preview\n"
                           "    bind 127.0.0.1:" +
                           std::to_string(previewPort_) +
                           "\n"
                           "    default_backend be_preview\n"
                           "backend be_app\n"
                           "    balance roundrobin\n"
                           "backend be_preview\n"
                           "    balance roundrobin\n"
                           "backend be_hash\n"
                           "    balance source\n");
    startHaproxy();
    for (int i = 0; i < 2; ++i) stable_.push_back(std::make_unique<NamedBackend>("stable"));
    for (int i = 0; i < 2; ++i) canary_.push_back(std::make_unique<NamedBackend>("canary"));
  }

  // Starts HAProxy on `files` (default: haproxy.cfg), loaded in that order.
  void startHaproxy(std::vector<std::string> files = {}) {
    if (files.empty()) files.push_back(dir_.file("haproxy.cfg"));
    std::vector<std::string> argv = {"haproxy", "-db"};
    for (const auto& f : files) argv.insert(argv.end(), {"-f", f});
    std::string error;
    haproxy_ = Child::spawn(argv, dir_.file("haproxy.log"), &error);
    ASSERT_TRUE(haproxy_) << error;
    ASSERT_TRUE(testing::waitForTcp(frontendPort_)) << testing::readFile(dir_.file("haproxy.log"));
    ASSERT_TRUE(testing::waitForTcp(apiPort_));
    // The unix socket can lag the TCP listeners (after a restart the old, dead socket file is
    // still there until HAProxy replaces it): wait until it answers too.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool answers = false;
    while (!answers && std::chrono::steady_clock::now() < deadline) {
      RuntimeApiClient client(*parseRuntimeApiAddress(socket_), Duration(1000), realClock());
      auto session = client.open();
      answers = session && session->call("show info").has_value();
      if (!answers) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(answers) << "runtime API socket " << socket_ << " does not answer";
  }

  std::unique_ptr<HaproxyRouter> makeRouter(std::string api = "", std::string backend = "be_app",
                                            std::string backendFile = "",
                                            std::string previewBackend = "") {
    if (api.empty()) api = "unix:" + socket_;
    std::string file = backendFile.empty() ? "" : R"(,"backendFile":")" + backendFile + R"(")";
    if (!previewBackend.empty()) file += R"(,"previewBackend":")" + previewBackend + R"(")";
    auto router = HaproxyRouter::create(R"({"runtimeApi":")" + api + R"(","backend":")" + backend +
                                            R"(","timeoutMs":1000)" + file + "}",
                                        100, realClock());
    EXPECT_TRUE(router) << router.error().message;
    return std::move(*router);
  }

  static RevisionEndpoints revision(const std::string& hash,
                                    const std::vector<std::unique_ptr<NamedBackend>>& backends,
                                    size_t readyCount = 100) {
    RevisionEndpoints r{hash, {}};
    for (size_t i = 0; i < backends.size(); ++i) {
      r.endpoints.push_back({"app-" + hash + "-" + std::to_string(i), "127.0.0.1",
                             backends[i]->port(), i < readyCount});
    }
    return r;
  }

  // Measures the canary share over 1,000 requests and checks it against `weight`.
  void expectSplit(int weight) {
    const int n = 1000;
    auto counts = testing::countResponses(frontendPort_, n);
    EXPECT_EQ(counts["error"], 0);
    EXPECT_EQ(counts["stable"] + counts["canary"], n);
    std::printf("haproxy split: weight %d%% -> canary %d of %d\n", weight, counts["canary"], n);
    EXPECT_TRUE(testing::withinBinomial(counts["canary"], n, weight / 100.0))
        << "weight " << weight << ": canary " << counts["canary"] << " of " << n;
  }

  std::vector<ServerState> servers(const std::string& backend = "be_app") {
    RuntimeApiClient client(*parseRuntimeApiAddress(socket_), Duration(1000), realClock());
    auto session = client.open();
    if (!session) {
      ADD_FAILURE() << "runtime API: " << session.error().message;
      return {};
    }
    auto reply = session->call("show servers state " + backend);
    if (!reply) {
      ADD_FAILURE() << "show servers state: " << reply.error().message;
      return {};
    }
    auto parsed = parseServersState(*reply);
    if (!parsed) {
      ADD_FAILURE() << parsed.error().message;
      return {};
    }
    return *parsed;
  }

  TempDir dir_;
  int frontendPort_ = 0;
  int previewPort_ = 0;
  int apiPort_ = 0;
  std::string socket_;
  std::unique_ptr<Child> haproxy_;
  std::vector<std::unique_ptr<NamedBackend>> stable_, canary_;
};

TEST_F(HaproxyRouterIntegrationTest, MeasuredSplitMatchesEveryWeight) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  for (int weight : {0, 5, 30, 50, 100}) {
    auto st = router->setWeight(weight, {});
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(router->verifyWeight(weight, {}).value(), WeightCheck::kVerified) << weight;
    expectSplit(weight);
  }
  // Another weight than the applied one does not verify.
  EXPECT_EQ(router->verifyWeight(40, {}).value(), WeightCheck::kNotYet);
  // setWeight is idempotent: the same call again sends no command and stays verified.
  ASSERT_TRUE(router->setWeight(100, {}));
  EXPECT_EQ(router->verifyWeight(100, {}).value(), WeightCheck::kVerified);
}

// Blue-green through HAProxy (the engine passes active as stable, preview as canary, weight 0):
// the preview backend serves the new version alone before promotion while users see the old
// one; at promotion one batch moves the active backend to the new version, with no failed
// request under load; the old servers stay (weight 0, in rotation for requests in flight)
// until their scale-down deadline, then go.
TEST_F(HaproxyRouterIntegrationTest, BlueGreenPreviewThenOneSwitchThenTheOldServersDrain) {
  auto router = makeRouter("", "be_app", "", "be_preview");
  const RevisionEndpoints v1 = revision("v1", stable_), v2 = revision("v2", canary_);
  const RevisionEndpoints none[] = {v1};
  const int n = 200;
  // The first release: v1 is active and preview.
  ASSERT_TRUE(router->syncEndpoints(v1, v1, {}));
  ASSERT_TRUE(router->setWeight(0, {}));
  EXPECT_EQ(testing::countResponses(frontendPort_, n)["stable"], n);
  EXPECT_EQ(testing::countResponses(previewPort_, n)["stable"], n);

  // v2 comes up as the preview: reachable on its own frontend, users still on v1.
  ASSERT_TRUE(router->syncEndpoints(v1, v2, {}));
  EXPECT_EQ(router->verifyWeight(0, {}).value(), WeightCheck::kVerified);
  EXPECT_EQ(testing::countResponses(frontendPort_, n)["stable"], n);
  EXPECT_EQ(testing::countResponses(previewPort_, n)["canary"], n);

  // Promotion, under load.
  std::map<std::string, int> during;
  std::thread load([&] { during = testing::countResponses(frontendPort_, 400); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto switched = router->syncEndpoints(v2, v2, none);
  load.join();
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_EQ(during["error"], 0) << "stable " << during["stable"] << " canary " << during["canary"];
  EXPECT_EQ(router->verifyWeight(0, {}).value(), WeightCheck::kVerified);
  EXPECT_EQ(testing::countResponses(frontendPort_, n)["canary"], n);
  EXPECT_EQ(testing::countResponses(previewPort_, n)["canary"], n);
  // v1's servers are still in the active backend, in rotation at weight 0.
  int kept = 0;
  for (const auto& s : servers("be_app")) {
    if (s.name.find("-v1-") == std::string::npos) continue;
    ++kept;
    EXPECT_EQ(s.userWeight, 0) << s.name;
    EXPECT_EQ(s.adminState, 0) << s.name;
  }
  EXPECT_EQ(kept, 2);

  // The scale-down deadline passed: v1 leaves the backend.
  ASSERT_TRUE(router->syncEndpoints(v2, v2, {}));
  EXPECT_EQ(router->verifyWeight(0, {}).value(), WeightCheck::kVerified);
  for (const auto& s : servers("be_app")) {
    EXPECT_EQ(s.name.find("-v1-"), std::string::npos) << s.name << " still in be_app";
  }
  EXPECT_EQ(servers("be_app").size(), 2u);
  EXPECT_EQ(servers("be_preview").size(), 2u);
}

TEST_F(HaproxyRouterIntegrationTest, TcpRuntimeApiWorksToo) {
  auto router = makeRouter("127.0.0.1:" + std::to_string(apiPort_));
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(20, {}));
  EXPECT_EQ(router->verifyWeight(20, {}).value(), WeightCheck::kVerified);
  expectSplit(20);
}

// HAProxy restarts and loses its runtime servers and weights: verifyWeight notices, and the next
// reconcile (syncEndpoints + setWeight) puts everything back.
TEST_F(HaproxyRouterIntegrationTest, WeightsSurviveAProxyRestart) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(30, {}));
  ASSERT_EQ(router->verifyWeight(30, {}).value(), WeightCheck::kVerified);
  expectSplit(30);

  haproxy_->stop();
  startHaproxy();
  EXPECT_TRUE(servers().empty());
  EXPECT_EQ(router->verifyWeight(30, {}).value(), WeightCheck::kNotYet);

  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(30, {}));
  EXPECT_EQ(router->verifyWeight(30, {}).value(), WeightCheck::kVerified);
  expectSplit(30);
}

// With backendFile, HAProxy loads the servers and weights ramp applied last when it starts: a
// restart alone (nobody calls the router) never empties the backend. The user's config leaves
// the backend to that file, which starts as a bare `backend be_app`.
TEST_F(HaproxyRouterIntegrationTest, ABackendFileStartsARestartedHaproxyWithTheLastServers) {
  haproxy_->stop();
  std::string own = testing::readFile(dir_.file("haproxy.cfg"));
  own.erase(own.find("\nbackend be_app\n") + 1,
            std::string("backend be_app\n    balance roundrobin\n").size());
  const std::string ownPath = dir_.file("own.cfg");
  const std::string backendFile = dir_.file("ramp-be_app.cfg");
  testing::writeFile(ownPath, own);
  testing::writeFile(backendFile, "backend be_app\n");
  startHaproxy({ownPath, backendFile});

  auto router = makeRouter("", "be_app", backendFile);
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_, 1), {}));
  ASSERT_TRUE(router->setWeight(30, {}));
  ASSERT_EQ(router->verifyWeight(30, {}).value(), WeightCheck::kVerified);
  const std::string written = testing::readFile(backendFile);
  EXPECT_NE(written.find("backend be_app\n"), std::string::npos) << written;
  EXPECT_NE(written.find("server ramp-app-s1-0 127.0.0.1:" + std::to_string(stable_[0]->port()) +
                         " weight "),
            std::string::npos)
      << written;
  EXPECT_NE(written.find("server ramp-app-c1-1 127.0.0.1:" + std::to_string(canary_[1]->port()) +
                         " weight 0 disabled"),
            std::string::npos)
      << written;

  haproxy_->stop(9);
  startHaproxy({ownPath, backendFile});
  EXPECT_EQ(router->verifyWeight(30, {}).value(), WeightCheck::kVerified)
      << "HAProxy started with every server, weight and maintenance state";
  expectSplit(30);

  // The rollout is deleted: no server is left, in the runtime or in the file, and HAProxy still
  // starts on that file.
  ASSERT_TRUE(router->removeAll());
  EXPECT_TRUE(servers().empty());
  EXPECT_EQ(testing::readFile(backendFile).find("server "), std::string::npos);
  haproxy_->stop();
  startHaproxy({ownPath, backendFile});
  EXPECT_TRUE(servers().empty());
}

// A deleted rollout's servers go away (runtime API only).
TEST_F(HaproxyRouterIntegrationTest, RemoveAllDeletesEveryServerOfTheRollout) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(50, {}));
  ASSERT_EQ(servers().size(), 4u);
  ASSERT_TRUE(router->removeAll());
  EXPECT_TRUE(servers().empty());
  ASSERT_TRUE(router->removeAll()) << "idempotent";
  haproxy_->stop(9);
  EXPECT_EQ(router->removeAll().error().code, ErrorCode::kUnavailable);
}

TEST_F(HaproxyRouterIntegrationTest, KilledHaproxyIsAClearError) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  haproxy_->stop(9);
  auto st = router->setWeight(10, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find(socket_), std::string::npos) << st.error().message;
  auto check = router->verifyWeight(10, {});
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
}

// A change that cannot be applied leaves the previous destinations serving.
TEST_F(HaproxyRouterIntegrationTest, BadChangeKeepsThePreviousDestinations) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(0, {}));
  auto broken = revision("c2", canary_);
  broken.endpoints[0].port = 0;
  auto st = router->syncEndpoints(revision("s1", stable_), broken, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  expectSplit(0);
  EXPECT_EQ(router->verifyWeight(0, {}).value(), WeightCheck::kVerified);

  // No ready replica anywhere: refused, the backend keeps serving what it had.
  auto st2 = router->syncEndpoints(revision("s1", stable_, 0), revision("c1", canary_, 0), {});
  ASSERT_FALSE(st2);
  EXPECT_EQ(st2.error().code, ErrorCode::kFailedPrecondition);
  expectSplit(0);
}

TEST_F(HaproxyRouterIntegrationTest, IncompatibleOrMissingBackendIsAClearError) {
  auto hashed = makeRouter("", "be_hash");
  auto st = hashed->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message.find("add server be_hash/"), std::string::npos)
      << st.error().message;
  std::printf("%s\n", st.error().message.c_str());
  auto missing = makeRouter("", "be_missing");
  auto st2 = missing->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {});
  ASSERT_FALSE(st2);
  EXPECT_NE(st2.error().message.find("be_missing"), std::string::npos) << st2.error().message;
  std::printf("%s\n", st2.error().message.c_str());
}

// Replicas come and go: not-ready replicas are held in maintenance and get no traffic, replicas
// that went away are deleted, and a canary without ready replicas cannot carry its weight.
TEST_F(HaproxyRouterIntegrationTest, FollowsReplicaChanges) {
  auto router = makeRouter();
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_TRUE(router->setWeight(50, {}));

  // One canary replica not ready: all canary traffic goes to the other, the split holds.
  ASSERT_TRUE(router->syncEndpoints(revision("s1", stable_), revision("c1", canary_, 1), {}));
  EXPECT_EQ(router->verifyWeight(50, {}).value(), WeightCheck::kVerified);
  expectSplit(50);
  auto state = servers();
  auto notReady = std::find_if(state.begin(), state.end(),
                               [](const ServerState& s) { return s.name == "ramp-app-c1-1"; });
  ASSERT_NE(notReady, state.end());
  EXPECT_TRUE(notReady->inMaintenance());

  // The second stable replica goes away: its server is deleted.
  auto oneStable = revision("s1", stable_);
  oneStable.endpoints.pop_back();
  ASSERT_TRUE(router->syncEndpoints(oneStable, revision("c1", canary_, 1), {}));
  state = servers();
  EXPECT_EQ(std::count_if(state.begin(), state.end(),
                          [](const ServerState& s) { return s.name == "ramp-app-s1-1"; }),
            0);
  EXPECT_EQ(router->verifyWeight(50, {}).value(), WeightCheck::kVerified);
  expectSplit(50);

  // No ready canary at 50%: stable serves everything, and the weight is not verified.
  ASSERT_TRUE(router->syncEndpoints(oneStable, revision("c1", canary_, 0), {}));
  EXPECT_EQ(router->verifyWeight(50, {}).value(), WeightCheck::kNotYet);
  expectSplit(0);
}

}  // namespace
}  // namespace ramp::traffic::haproxy
