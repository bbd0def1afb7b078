// Web provider against a real HTTP server (cpp-httplib in the test) and the demo service.

#include "analysis/providers/web/web_provider.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/redact.h"
#include "harness/harness.h"
#include "harness/test_server.h"

namespace ramp::analysis::providers {
namespace {

using ::ramp::testing::TestServer;

class WebProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& s = server_.server();
    s.Get("/json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"data":{"ok":true,"successPercent":0.95},
                          "items":[{"value":1},{"value":2}],"a":{"b.c":"dotted"}})",
                      "application/json");
    });
    s.Get("/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("plain text", "text/plain");
    });
    s.Get("/fail", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 503;
      res.set_content("down; you sent " + req.get_header_value("Authorization"), "text/plain");
    });
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      res.set_content("{}", "application/json");
    });
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json j;
      j["method"] = req.method;
      j["contentType"] = req.get_header_value("Content-Type");
      j["xTest"] = req.get_header_value("X-Test");
      j["raw"] = req.body;
      auto parsed = nlohmann::json::parse(req.body, nullptr, false);
      if (!parsed.is_discarded()) j["body"] = parsed;
      res.set_content(j.dump(), "application/json");
    };
    s.Get("/echo", echo);
    s.Post("/echo", echo);
    s.Put("/echo", echo);
    server_.start();
    metric_.name = "web";
    metric_.provider.web.emplace();
  }

  Result<ProviderReply> run() {
    WebProvider p(WebProvider::Options{&redactor_});
    return p.run(MeasureContext{&run_, &metric_, Time()});
  }
  spec::WebMetric& web() { return *metric_.provider.web; }

  TestServer server_;
  Redactor redactor_;
  spec::AnalysisRun run_;
  spec::Metric metric_;
};

TEST_F(WebProviderTest, JsonPathFormsOnARealResponse) {
  web().url = server_.url("/json");
  struct Case {
    const char* path;
    Value expected;
  };
  for (const Case& c : {Case{"{$.data.ok}", Value::boolean(true)},
                        Case{"{.data.successPercent}", Value::floating(0.95)},
                        Case{"{$.items[0].value}", Value::floating(1)},
                        Case{"{$.a['b.c']}", Value::string("dotted")}}) {
    web().jsonPath = c.path;
    auto r = run();
    ASSERT_TRUE(r.has_value()) << c.path << ": " << r.error().message;
    EXPECT_EQ(r->kind, ProviderReply::Kind::kValue);
    EXPECT_EQ(r->value, c.expected) << c.path;
  }
  web().jsonPath = "";
  auto whole = run();
  ASSERT_TRUE(whole.has_value());
  ASSERT_TRUE(whole->value.isMap());
  EXPECT_EQ(whole->value.asMap().at("data").asMap().at("ok"), Value::boolean(true));
}

TEST_F(WebProviderTest, NonJsonIsTheRawString) {
  web().url = server_.url("/text");
  auto r = run();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, Value::string("plain text"));
}

TEST_F(WebProviderTest, MissingPathIsAnErrorNamingTheUrl) {
  web().url = server_.url("/json");
  web().jsonPath = "{$.data.nope}";
  auto r = run();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/json"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nope is not found"), std::string::npos);
}

TEST_F(WebProviderTest, Non2xxIsAnErrorWithSecretsRedacted) {
  web().url = server_.url("/fail");
  web().headers = {{"Authorization", "Bearer tok-123456"}};
  auto r = run();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("received non 2xx response code: 503"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("tok-123456"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("*****"), std::string::npos) << r.error().message;
}

TEST_F(WebProviderTest, TimeoutIsDeadlineExceeded) {
  web().url = server_.url("/slow");
  web().timeoutSeconds = 1;
  auto r = run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().message;
  EXPECT_NE(r.error().message.find("/slow"), std::string::npos);
}

TEST_F(WebProviderTest, PostWithJsonBodySetsContentType) {
  web().url = server_.url("/echo");
  web().method = "POST";
  web().jsonBody = spec::RawJson{R"({"x":41})"};
  web().headers = {{"X-Test", "yes"}};
  web().jsonPath = "{$}";
  auto r = run();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto& m = r->value.asMap();
  EXPECT_EQ(m.at("method"), Value::string("POST"));
  EXPECT_EQ(m.at("contentType"), Value::string("application/json"));
  EXPECT_EQ(m.at("xTest"), Value::string("yes"));
  EXPECT_EQ(m.at("body").asMap().at("x"), Value::floating(41));
}

TEST_F(WebProviderTest, PutWithStringBody) {
  web().url = server_.url("/echo");
  web().method = "PUT";
  web().body = "hello";
  web().jsonPath = "{$.raw}";
  auto r = run();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, Value::string("hello"));
}

TEST_F(WebProviderTest, InvalidCombinationsAreErrors) {
  web().url = server_.url("/echo");
  web().body = "x";
  auto getWithBody = run();
  ASSERT_FALSE(getWithBody.has_value());
  EXPECT_NE(getWithBody.error().message.find("POST or PUT"), std::string::npos);
  web().method = "POST";
  web().jsonBody = spec::RawJson{"{}"};
  auto both = run();
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message.find("either body or jsonBody"), std::string::npos);
  web().body.clear();
  web().method = "DELETE";
  EXPECT_FALSE(run().has_value());
  web().method = "GET";
  web().jsonBody = {};
  web().jsonPath = "{$.a[?(@.b)]}";
  auto filter = run();
  ASSERT_FALSE(filter.has_value());
  EXPECT_EQ(filter.error().code, ErrorCode::kUnsupported);
}

TEST_F(WebProviderTest, UnreachableIsUnavailable) {
  web().url = "http://127.0.0.1:" + std::to_string(ramp::testing::pickFreePort()) + "/x";
  auto r = run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos);
}

TEST_F(WebProviderTest, AgainstTheDemoService) {
  ramp::testing::TempDir dir("ramp-web-demo");
  auto demo = ramp::testing::DemoService::start({.version = "demo:v7"}, dir.path());
  ASSERT_TRUE(demo.has_value()) << demo.error().message;
  web().url = (*demo)->url("/admin/config");
  web().jsonPath = "{$.version}";
  auto r = run();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value, Value::string("demo:v7"));
  web().url = (*demo)->url("/");
  web().jsonPath = "";
  auto text = run();
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->value, Value::string("demo:v7\n"));
}

}  // namespace
}  // namespace ramp::analysis::providers
