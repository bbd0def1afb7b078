#include "traffic/nginx/upstream_render.h"

#include <gtest/gtest.h>

#include "fakes/simulated_clock.h"

#include "traffic/nginx/nginx_router.h"

namespace ramp::traffic::nginx {
namespace {

NginxConfig config() {
  NginxConfig c;
  c.includePath = "/tmp/app.conf";
  c.upstream = "app";
  c.pidFile = "/tmp/nginx.pid";
  c.stateVariable = "ramp_state_app";
  return c;
}

RevisionEndpoints revision(std::string hash, int n, int firstPort, int readyCount = -1) {
  RevisionEndpoints r{hash, {}};
  for (int i = 0; i < n; ++i) {
    r.endpoints.push_back({hash + "-" + std::to_string(i), "127.0.0.1", firstPort + i,
                           readyCount < 0 || i < readyCount});
  }
  return r;
}

// Sums the weights of the server lines tagged with `role`; -1 if weight=0 appears (invalid in
// nginx).
int64_t sumWeights(const std::string& text, const std::string& role) {
  int64_t sum = 0;
  size_t pos = 0;
  while ((pos = text.find("    server ", pos)) != std::string::npos) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    pos = end;
    if (line.find("# " + role + " ") == std::string::npos) continue;
    size_t w = line.find(" weight=");
    if (w == std::string::npos) continue;  // a `down` server
    int64_t v = std::stoll(line.substr(w + 8));
    if (v == 0) return -1;
    sum += v;
  }
  return sum;
}

TEST(NginxRenderTest, RendersTheExpectedFile) {
  auto r = renderUpstream(config(), revision("s1", 2, 1000), revision("c1", 1, 2000), 10, 100);
  ASSERT_TRUE(r) << r.error().message;
  const std::string expect =
      "# Managed by ramp (ramp/nginx); do not edit. canaryWeight=10 maxTrafficWeight=100\n"
      "upstream app {\n"
      "    server 127.0.0.1:1000 weight=9;  # stable s1 s1-0\n"
      "    server 127.0.0.1:1001 weight=9;  # stable s1 s1-1\n"
      "    server 127.0.0.1:2000 weight=2;  # canary c1 c1-0\n"
      "}\n"
      "map $host $ramp_state_app {\n"
      "    default \"" +
      r->digest + "\";\n}\n";
  EXPECT_EQ(r->text, expect);
  EXPECT_EQ(r->digest.size(), 16u);
  EXPECT_EQ(renderedCanaryWeight(r->text), 10);
  EXPECT_EQ(renderedCanaryWeight("upstream app {}"), std::nullopt);
}

// Summed weights are exactly w : (100 - w), and weight=0 never appears (nginx rejects it).
// A deleted rollout: the upstream keeps its name and only a placeholder that takes no traffic.
TEST(NginxRenderTest, RemovedKeepsTheUpstreamWithoutReplicas) {
  auto r = renderRemoved(config());
  EXPECT_NE(r.text.find("upstream app {\n    server 127.0.0.1:1 down;"), std::string::npos)
      << r.text;
  EXPECT_EQ(r.text.find("weight="), std::string::npos);
  EXPECT_NE(r.text.find(r.digest), std::string::npos) << "the state map names its digest";
  EXPECT_EQ(renderedCanaryWeight(r.text), std::nullopt);
}

TEST(NginxRenderTest, EveryPercentIsExactWithoutWeightZero) {
  for (int ns = 1; ns <= 4; ++ns) {
    for (int nc = 1; nc <= 4; ++nc) {
      for (int w = 0; w <= 100; ++w) {
        auto r = renderUpstream(config(), revision("s", ns, 1000), revision("c", nc, 2000), w, 100);
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->satisfied);
        int64_t s = sumWeights(r->text, "stable");
        int64_t c = sumWeights(r->text, "canary");
        ASSERT_GE(s, 0);
        ASSERT_GE(c, 0);
        EXPECT_EQ(c * 100, w * (c + s)) << "ns=" << ns << " nc=" << nc << " w=" << w;
        EXPECT_EQ(r->text.find("weight=0"), std::string::npos);
      }
    }
  }
}

TEST(NginxRenderTest, ZeroWeightAndNotReadyAreDown) {
  auto r = renderUpstream(config(), revision("s", 1, 1000), revision("c", 2, 2000, 1), 0, 100);
  ASSERT_TRUE(r);
  EXPECT_NE(r->text.find("server 127.0.0.1:2000 down;"), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("server 127.0.0.1:2001 down;"), std::string::npos);
  EXPECT_NE(r->text.find("server 127.0.0.1:1000 weight=1;"), std::string::npos);

  auto full = renderUpstream(config(), revision("s", 1, 1000), revision("c", 1, 2000), 100, 100);
  ASSERT_TRUE(full);
  EXPECT_NE(full->text.find("server 127.0.0.1:1000 down;"), std::string::npos);
}

TEST(NginxRenderTest, FallbacksAndErrors) {
  // No ready canary at 30%: stable keeps everything and the plan is not satisfied.
  auto r = renderUpstream(config(), revision("s", 1, 1000), revision("c", 1, 2000, 0), 30, 100);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->satisfied);
  EXPECT_NE(r->text.find("127.0.0.1:1000 weight=1;"), std::string::npos);
  EXPECT_EQ(
      renderUpstream(config(), revision("s", 1, 1, 0), revision("c", 1, 2, 0), 0, 100).error().code,
      ErrorCode::kFailedPrecondition);
  EXPECT_EQ(
      renderUpstream(config(), revision("s", 1, 1), revision("c", 1, 2), 101, 100).error().code,
      ErrorCode::kInvalidArgument);
  RevisionEndpoints evil{"s", {{"x", "127.0.0.1;include /etc/passwd", 80, true}}};
  EXPECT_EQ(renderUpstream(config(), evil, revision("c", 1, 2), 0, 100).error().code,
            ErrorCode::kInvalidArgument);
  RevisionEndpoints v6{"s", {{"x", "::1", 80, true}}};
  EXPECT_NE(renderUpstream(config(), v6, revision("c", 1, 2), 0, 100)->text.find("[::1]:80"),
            std::string::npos);
}

// Blue-green: the active upstream holds the active (and the preview, down), the previous active
// kept `down` while it drains, and the preview upstream the preview alone. One file, so one
// reload switches both.
TEST(NginxRenderTest, BlueGreenUpstreamsAndDrainingServers) {
  NginxConfig c = config();
  c.previewUpstream = "app_preview";
  const RevisionEndpoints draining[] = {revision("old", 1, 3000)};
  auto r = renderUpstream(c, revision("v2", 1, 2000), revision("v2", 1, 2000), 0, 100, draining);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->text.find("upstream app {\n"
                         "    server 127.0.0.1:2000 weight=1;  # stable v2 v2-0\n"
                         "    server 127.0.0.1:3000 down;  # draining old old-0\n"
                         "}\n"
                         "upstream app_preview {\n"
                         "    server 127.0.0.1:2000 weight=1;  # preview v2 v2-0\n"
                         "}\n"),
            std::string::npos)
      << r->text;
  // Before promotion the preview upstream holds the preview alone; the digest covers it.
  auto before = renderUpstream(c, revision("v1", 1, 1000), revision("v2", 1, 2000), 0, 100);
  ASSERT_TRUE(before);
  EXPECT_NE(before->text.find("upstream app_preview {\n"
                              "    server 127.0.0.1:2000 weight=1;  # preview v2 v2-0\n}"),
            std::string::npos)
      << before->text;
  EXPECT_NE(before->text.find("    server 127.0.0.1:2000 down;  # canary v2 v2-0\n"),
            std::string::npos);
  NginxConfig other = c;
  other.previewUpstream = "app_other";
  EXPECT_NE(renderUpstream(other, revision("v1", 1, 1000), revision("v2", 1, 2000), 0, 100)->digest,
            before->digest);
  // A deleted rollout empties both upstreams.
  EXPECT_NE(renderRemoved(c).text.find("upstream app_preview {\n    server 127.0.0.1:1 down;"),
            std::string::npos);
}

TEST(NginxRenderTest, DigestFollowsTheUpstreamBlock) {
  auto a = renderUpstream(config(), revision("s", 1, 1000), revision("c", 1, 2000), 10, 100);
  auto b = renderUpstream(config(), revision("s", 1, 1000), revision("c", 1, 2000), 20, 100);
  auto c = renderUpstream(config(), revision("s", 1, 1000), revision("c", 1, 2000), 10, 100);
  EXPECT_NE(a->digest, b->digest);
  EXPECT_EQ(a->digest, c->digest);
}

TEST(NginxRouterTest, UnsupportedRoutesAndNotRunning) {
  ramp::testing::SimulatedClock clock_;
  auto router = NginxRouter::create(
      R"({"includePath":"/nonexistent-dir/app.conf","upstream":"app","pidFile":"/nonexistent.pid"})",
      100, clock_);
  ASSERT_TRUE(router);
  EXPECT_EQ((*router)->type(), "ramp/nginx");
  EXPECT_EQ((*router)->setHeaderRoute({"h", {}}).error().code, ErrorCode::kUnsupported);
  EXPECT_EQ((*router)->setMirrorRoute({"m", {}, {}}).error().code, ErrorCode::kUnsupported);
  EXPECT_TRUE((*router)->removeManagedRoutes());
  auto reload = (*router)->reload();
  ASSERT_FALSE(reload);
  EXPECT_EQ(reload.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(reload.error().message.find("/nonexistent.pid"), std::string::npos);
  EXPECT_EQ((*router)->verifyWeight(0, {}).value(), WeightCheck::kNotYet);
}

}  // namespace
}  // namespace ramp::traffic::nginx
