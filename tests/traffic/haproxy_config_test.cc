#include "traffic/haproxy/haproxy_config.h"

#include <gtest/gtest.h>

#include "traffic/nginx/nginx_config.h"

namespace ramp::traffic {
namespace {

TEST(HaproxyConfigTest, DefaultsAndAllFields) {
  auto c = haproxy::parseHaproxyConfig(R"({"runtimeApi":"unix:/run/a.sock","backend":"be_app"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->runtimeApi, "unix:/run/a.sock");
  EXPECT_EQ(c->backend, "be_app");
  EXPECT_EQ(c->serverPrefix, "ramp-");
  EXPECT_EQ(c->maxServerWeight, 256);
  EXPECT_EQ(c->timeoutMs, 2000);
  auto all = haproxy::parseHaproxyConfig(
      R"({"runtimeApi":"127.0.0.1:9999","backend":"be","serverPrefix":"r_","maxServerWeight":100,
          "timeoutMs":50,"backendFile":"/etc/haproxy/ramp/be.cfg"})");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, (haproxy::HaproxyConfig{"127.0.0.1:9999", "be", "r_", 100, 50,
                                          "/etc/haproxy/ramp/be.cfg", ""}));
  auto preview = haproxy::parseHaproxyConfig(
      R"({"runtimeApi":"/a.sock","backend":"be_active","previewBackend":"be_preview"})");
  ASSERT_TRUE(preview) << preview.error().message;
  EXPECT_EQ(preview->previewBackend, "be_preview");
  // Both backends are claimed: another Rollout naming either would delete these servers.
  auto report = haproxy::inspectHaproxyConfig(
      R"({"runtimeApi":"/a.sock","backend":"be_active","previewBackend":"be_preview"})");
  ASSERT_EQ(report.claims.size(), 2u);
  EXPECT_EQ(report.claims[1].resource, "haproxy unix:/a.sock backend be_preview");
  EXPECT_EQ(report.claims[1].field, "previewBackend");
  EXPECT_TRUE(report.preview);
  EXPECT_FALSE(haproxy::inspectHaproxyConfig(R"({"runtimeApi":"/a.sock","backend":"b"})").preview);
}

TEST(HaproxyConfigTest, ErrorsNameTheField) {
  const std::string p = "trafficRouting.plugins[\"ramp/haproxy\"].";
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {R"({"runtimeApi":"/a.sock"})", p + "backend: required"},
      {R"({"backend":"be"})", p + "runtimeApi: required"},
      {R"({"runtimeApi":"nowhere","backend":"be"})", p + "runtimeApi: expected"},
      {R"({"runtimeApi":"/a","backend":"be app"})", p + "backend: may hold only"},
      {R"({"runtimeApi":"/a","backend":7})", p + "backend: must be a string"},
      {R"({"runtimeApi":"/a","backend":"be","maxServerWeight":257})",
       p + "maxServerWeight: must be in [1, 256]"},
      {R"({"runtimeApi":"/a","backend":"be","timeoutMs":"5"})",
       p + "timeoutMs: must be an integer"},
      {R"({"runtimeApi":"/a","backend":"be","weights":1})", p + "weights: unknown field"},
      {R"({"runtimeApi":"/a","backend":"be","serverPrefix":""})", p + "serverPrefix: must not"},
      {R"({"runtimeApi":"/a","backend":"be","backendFile":"be.cfg"})",
       p + "backendFile: must be an absolute path"},
      {R"({"runtimeApi":"/a","backend":"be","previewBackend":"be"})",
       p + "previewBackend: must differ from backend"},
      {R"({"runtimeApi":"/a","backend":"be","previewBackend":"b e"})",
       p + "previewBackend: may hold only"},
  };
  for (const auto& c : cases) {
    auto r = haproxy::parseHaproxyConfig(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message.starts_with(c.message)) << r.error().message;
  }
  EXPECT_EQ(haproxy::parseHaproxyConfig("{").error().code, ErrorCode::kParse);
  EXPECT_EQ(haproxy::parseHaproxyConfig("[]").error().code, ErrorCode::kInvalidArgument);
}

TEST(NginxConfigTest, DefaultsAndErrors) {
  auto c = nginx::parseNginxConfig(
      R"({"includePath":"/etc/nginx/ramp/app.conf","upstream":"app-1","pidFile":"/run/nginx.pid"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->nginxBinary, "nginx");
  EXPECT_EQ(c->stateVariable, "ramp_state_app_1");
  EXPECT_EQ(c->keepalive, 0);
  EXPECT_EQ(c->timeoutMs, 10000);

  const std::string p = "trafficRouting.plugins[\"ramp/nginx\"].";
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {R"({"upstream":"app","pidFile":"/p"})", p + "includePath: required"},
      {R"({"includePath":"rel.conf","upstream":"app","pidFile":"/p"})",
       p + "includePath: must be absolute"},
      {R"({"includePath":"/a.conf","pidFile":"/p"})", p + "upstream: required"},
      {R"({"includePath":"/a.conf","upstream":"a;b","pidFile":"/p"})", p + "upstream: may hold"},
      {R"({"includePath":"/a.conf","upstream":"app"})", p + "pidFile: required"},
      {R"({"includePath":"/a.conf","upstream":"app","pidFile":"/p","keepalive":-1})",
       p + "keepalive: must be in"},
      {R"({"includePath":"/a.conf","upstream":"app","pidFile":"/p","stateUrl":"ftp://x"})",
       p + "stateUrl: must be an http"},
      {R"({"includePath":"/a.conf","upstream":"app","pidFile":"/p","stateVariable":"a-b"})",
       p + "stateVariable: may hold"},
      {R"({"includePath":"/a.conf","upstream":"app","pidFile":"/p","reload":true})",
       p + "reload: unknown field"},
      {R"({"includePath":"/a.conf","upstream":"app","previewUpstream":"app","pidFile":"/p"})",
       p + "previewUpstream: must differ from upstream"},
  };
  for (const auto& k : cases) {
    auto r = nginx::parseNginxConfig(k.json);
    ASSERT_FALSE(r) << k.json;
    EXPECT_TRUE(r.error().message.starts_with(k.message)) << r.error().message;
  }
  auto report = nginx::inspectNginxConfig(
      R"({"includePath":"/a.conf","upstream":"app","previewUpstream":"app-preview",
          "pidFile":"/p"})");
  ASSERT_TRUE(report.problems.empty());
  EXPECT_TRUE(report.preview);
  ASSERT_EQ(report.claims.size(), 3u);
  EXPECT_EQ(report.claims[1].resource, "nginx /p upstream app-preview");
}

}  // namespace
}  // namespace ramp::traffic
