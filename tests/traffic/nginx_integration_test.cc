// The nginx router against a real nginx (`nginx` on PATH) on a run-time loopback port, with real
// HTTP backends; nginx is stopped by its pid.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "ramp/clock.h"
#include "traffic/nginx/nginx_router.h"
#include "traffic/nginx/upstream_render.h"
#include "traffic/proxy_fixture.h"

namespace ramp::traffic::nginx {
namespace {

using testing::Child;
using testing::NamedBackend;
using testing::TempDir;

class NginxRouterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::freePort();
    const std::string d = dir_.path();
    std::filesystem::create_directories(d + "/tmp");
    testing::writeFile(dir_.file("nginx.conf"),
                       std::string(::geteuid() == 0 ? "user root;\n" : "") +
                           "worker_processes 1;\n"
                           "daemon off;\n"
                           "pid " +
                           d +
                           "/nginx.pid;\n"
                           "error_log " +
                           d +
                           "/error.log notice;\n"
                           "events { worker_connections 256; }\n"
                           "http {\n"
                           "  access_log off;\n"
                           "  client_body_temp_path " +
                           d +
                           "/tmp/body;\n"
                           "  proxy_temp_path " +
                           d +
                           "/tmp/proxy;\n"
                           "  fastcgi_temp_path " +
                           d +
                           "/tmp/fastcgi;\n"
                           "  uwsgi_temp_path " +
                           d +
                           "/tmp/uwsgi;\n"
                           "  scgi_temp_path " +
                           d +
                           "/tmp/scgi;\n"
                           "  include " +
                           d +
                           "/upstream.conf;\n"
                           "  server {\n"
                           "    listen 127.0.0.1:" +
                           std::to_string(port_) +
                           ";\n"
                           "    location / { proxy_pass http://app; }\n"
                           "    location = /ramp-state { return 200 \"$ramp_state_app\"; }\n"
                           "  }\n"
                           "}\n");
    configJson_ = R"({"includePath":")" + d + R"(/upstream.conf","upstream":"app",)" +
                  R"("prefix":")" + d + R"(","conf":")" + d + R"(/nginx.conf",)" +
                  R"("errorLog":")" + d + R"(/error.log","pidFile":")" + d + R"(/nginx.pid",)" +
                  R"("stateUrl":"http://127.0.0.1:)" + std::to_string(port_) +
                  R"(/ramp-state","timeoutMs":5000})";
    for (int i = 0; i < 2; ++i) stable_.push_back(std::make_unique<NamedBackend>("stable"));
    for (int i = 0; i < 2; ++i) canary_.push_back(std::make_unique<NamedBackend>("canary"));
    auto router = NginxRouter::create(configJson_, 100, realClock());
    ASSERT_TRUE(router) << router.error().message;
    router_ = std::move(*router);
  }

  void startNginx() {
    std::string error;
    nginx_ = Child::spawn(
        {"nginx", "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log")},
        dir_.file("stdout.log"), &error);
    ASSERT_TRUE(nginx_) << error;
    ASSERT_TRUE(testing::waitForTcp(port_)) << testing::readFile(dir_.file("error.log"));
  }

  static RevisionEndpoints revision(const std::string& hash,
                                    const std::vector<std::unique_ptr<NamedBackend>>& backends) {
    RevisionEndpoints r{hash, {}};
    for (size_t i = 0; i < backends.size(); ++i) {
      r.endpoints.push_back(
          {hash + "-" + std::to_string(i), "127.0.0.1", backends[i]->port(), true});
    }
    return r;
  }

  // Polls verifyWeight until the running nginx serves the render (a reload takes ~0.1 s).
  WeightCheck waitVerified(int weight) {
    WeightCheck last = WeightCheck::kNotYet;
    for (int i = 0; i < 250; ++i) {
      auto check = router_->verifyWeight(weight, {});
      EXPECT_TRUE(check) << check.error().message;
      if (!check) return WeightCheck::kNotYet;
      last = *check;
      if (last == WeightCheck::kVerified) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  void expectSplit(int weight) {
    const int n = 1000;
    auto counts = testing::countResponses(port_, n);
    std::printf("nginx split: weight %d%% -> canary %d of %d\n", weight, counts["canary"], n);
    EXPECT_EQ(counts["error"], 0);
    EXPECT_EQ(counts["stable"] + counts["canary"], n);
    EXPECT_TRUE(testing::withinBinomial(counts["canary"], n, weight / 100.0))
        << "weight " << weight << ": canary " << counts["canary"] << " of " << n;
  }

  // The first sync writes the include before nginx runs (nginx.conf needs it to start); the
  // reload then fails because nothing runs yet, which is a clear kUnavailable.
  void bootstrap() {
    auto st = router_->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(st.error().message.find("not running"), std::string::npos) << st.error().message;
    startNginx();
    ASSERT_EQ(waitVerified(0), WeightCheck::kVerified);
  }

  TempDir dir_;
  int port_ = 0;
  std::string configJson_;
  std::unique_ptr<Child> nginx_;
  std::unique_ptr<NginxRouter> router_;
  std::vector<std::unique_ptr<NamedBackend>> stable_, canary_;
};

TEST_F(NginxRouterIntegrationTest, MeasuredSplitMatchesEveryWeight) {
  bootstrap();
  expectSplit(0);
  for (int weight : {10, 50, 100, 0}) {
    auto st = router_->setWeight(weight, {});
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_EQ(waitVerified(weight), WeightCheck::kVerified) << weight;
    expectSplit(weight);
  }
  EXPECT_NE(testing::readFile(dir_.file("upstream.conf")).find(" down;"), std::string::npos);
  EXPECT_EQ(router_->verifyWeight(40, {}).value(), WeightCheck::kNotYet);
}

// Blue-green through nginx: a preview upstream (served on its own port here) holds the new
// version alone before promotion; at promotion one reload moves the upstream to it with no
// failed request under load; the old servers stay in the file, `down`, until their scale-down
// deadline, then go.
TEST_F(NginxRouterIntegrationTest, BlueGreenPreviewThenOneReloadSwitchesThenTheOldServersDrain) {
  const int previewPort = testing::freePort();
  std::string conf = testing::readFile(dir_.file("nginx.conf"));
  conf.replace(conf.rfind("}\n"), 2,
               "  server {\n    listen 127.0.0.1:" + std::to_string(previewPort) +
                   ";\n    location / { proxy_pass http://app_preview; }\n  }\n}\n");
  testing::writeFile(dir_.file("nginx.conf"), conf);
  std::string json = configJson_;
  json.insert(json.size() - 1, R"(,"previewUpstream":"app_preview")");
  auto router = NginxRouter::create(json, 100, realClock());
  ASSERT_TRUE(router) << router.error().message;
  router_ = std::move(*router);
  const RevisionEndpoints v1 = revision("v1", stable_), v2 = revision("v2", canary_);
  const RevisionEndpoints old[] = {v1};
  const int n = 200;

  // The first release: v1 is active and preview (the include is written before nginx runs).
  (void)router_->syncEndpoints(v1, v1, {});
  startNginx();
  ASSERT_EQ(waitVerified(0), WeightCheck::kVerified);
  EXPECT_EQ(testing::countResponses(port_, n)["stable"], n);
  EXPECT_EQ(testing::countResponses(previewPort, n)["stable"], n);

  // v2 comes up as the preview: reachable on its own port, users still on v1.
  ASSERT_TRUE(router_->syncEndpoints(v1, v2, {}));
  ASSERT_EQ(waitVerified(0), WeightCheck::kVerified);
  EXPECT_EQ(testing::countResponses(port_, n)["stable"], n);
  EXPECT_EQ(testing::countResponses(previewPort, n)["canary"], n);

  // Promotion, under load: one render, one reload.
  std::map<std::string, int> during;
  std::thread load([&] { during = testing::countResponses(port_, 400); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto switched = router_->syncEndpoints(v2, v2, old);
  load.join();
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_EQ(during["error"], 0) << "stable " << during["stable"] << " canary " << during["canary"];
  ASSERT_EQ(waitVerified(0), WeightCheck::kVerified);
  EXPECT_EQ(testing::countResponses(port_, n)["canary"], n);
  EXPECT_EQ(testing::countResponses(previewPort, n)["canary"], n);
  const std::string include = testing::readFile(dir_.file("upstream.conf"));
  EXPECT_NE(include.find(std::to_string(stable_[0]->port()) + " down;  # draining v1"),
            std::string::npos)
      << include;

  // The scale-down deadline passed: v1 leaves the file.
  ASSERT_TRUE(router_->syncEndpoints(v2, v2, {}));
  ASSERT_EQ(waitVerified(0), WeightCheck::kVerified);
  EXPECT_EQ(testing::readFile(dir_.file("upstream.conf")).find("v1"), std::string::npos);
}

// The weights live in the include file, so a restarted nginx serves them at once.
TEST_F(NginxRouterIntegrationTest, WeightsSurviveAProxyRestart) {
  bootstrap();
  ASSERT_TRUE(router_->setWeight(30, {}));
  ASSERT_EQ(waitVerified(30), WeightCheck::kVerified);
  nginx_->stop();
  startNginx();
  EXPECT_EQ(waitVerified(30), WeightCheck::kVerified);
  expectSplit(30);
  // A new router (a restarted controller) picks the weight up from the file.
  auto fresh = NginxRouter::create(configJson_, 100, realClock());
  ASSERT_TRUE(fresh);
  ASSERT_TRUE((*fresh)->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  EXPECT_EQ((*fresh)->verifyWeight(30, {}).value(), WeightCheck::kVerified);
}

// `nginx -t` rejects the render: the previous include is restored and keeps serving.
TEST_F(NginxRouterIntegrationTest, RejectedRenderRestoresThePreviousFile) {
  bootstrap();
  ASSERT_TRUE(router_->setWeight(20, {}));
  ASSERT_EQ(waitVerified(20), WeightCheck::kVerified);
  const std::string before = testing::readFile(dir_.file("upstream.conf"));
  auto broken = revision("c2", canary_);
  broken.endpoints[0].address = "127.0.0.1:80";  // rendered as [127.0.0.1:80]: invalid in nginx
  auto st = router_->syncEndpoints(revision("s1", stable_), broken, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message.find("invalid IPv6 address"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("restored the previous file"), std::string::npos);
  EXPECT_EQ(testing::readFile(dir_.file("upstream.conf")), before);
  expectSplit(20);
}

// The file is right but the running workers serve an older render (a reload that never
// happened): verifyWeight says so, and the next setWeight reloads.
TEST_F(NginxRouterIntegrationTest, DetectsARenderThatIsNotLoaded) {
  bootstrap();
  NginxConfig config = *parseNginxConfig(configJson_);
  auto rendered = renderUpstream(config, revision("s1", stable_), revision("c1", canary_), 50, 100);
  ASSERT_TRUE(rendered);
  testing::writeFile(dir_.file("upstream.conf"), rendered->text);
  EXPECT_EQ(router_->verifyWeight(50, {}).value(), WeightCheck::kNotYet);
  ASSERT_TRUE(router_->setWeight(50, {}));
  EXPECT_EQ(waitVerified(50), WeightCheck::kVerified);
  expectSplit(50);
}

TEST_F(NginxRouterIntegrationTest, StoppedNginxIsAClearError) {
  bootstrap();
  nginx_->stop();
  auto st = router_->setWeight(70, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("nginx.pid"), std::string::npos) << st.error().message;
  auto check = router_->verifyWeight(70, {});
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ErrorCode::kUnavailable);
}

// Without stateUrl only the file can be compared, but a file nobody serves is not a verified
// weight: nginx killed (its pid file left behind) is an Error, not kVerified.
TEST_F(NginxRouterIntegrationTest, AFileNobodyServesIsNotVerified) {
  bootstrap();
  std::string json = configJson_;
  const auto from = json.find(R"(,"stateUrl")");
  json.erase(from, json.find(R"(,"timeoutMs")") - from);
  auto router = NginxRouter::create(json, 100, realClock());
  ASSERT_TRUE(router) << router.error().message;
  ASSERT_TRUE((*router)->syncEndpoints(revision("s1", stable_), revision("c1", canary_), {}));
  ASSERT_EQ((*router)->verifyWeight(0, {}).value(), WeightCheck::kVerified);
  nginx_->stop(9);
  ASSERT_TRUE(std::filesystem::exists(dir_.file("nginx.pid"))) << "SIGKILL leaves the pid file";
  auto check = (*router)->verifyWeight(0, {});
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(check.error().message.find("not running"), std::string::npos) << check.error().message;
}

// A deleted rollout: the upstream keeps its name but no replica, so nothing reaches the stopped
// replicas; with nginx stopped, the file alone is enough.
TEST_F(NginxRouterIntegrationTest, RemoveAllLeavesNoReplicaInTheUpstream) {
  bootstrap();
  ASSERT_TRUE(router_->setWeight(50, {}));
  ASSERT_EQ(waitVerified(50), WeightCheck::kVerified);
  ASSERT_TRUE(router_->removeAll());
  const std::string file = testing::readFile(dir_.file("upstream.conf"));
  for (const auto* backends : {&stable_, &canary_}) {
    for (const auto& b : *backends) {
      EXPECT_EQ(file.find(":" + std::to_string(b->port())), std::string::npos) << file;
    }
  }
  bool reloaded = false;
  for (int i = 0; i < 250 && !reloaded; ++i) {
    reloaded = testing::countResponses(port_, 1)["error"] == 1;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(reloaded) << "requests no longer reach the replicas";
  nginx_->stop();
  EXPECT_TRUE(router_->removeAll()) << "nginx stopped: the file is what it loads at start";
}

}  // namespace
}  // namespace ramp::traffic::nginx
