// PrometheusCounts against real HTTP servers on loopback (cpp-httplib answering as the Prometheus
// HTTP API does): what it sends, how it reads counters and histograms, and that every failure
// is an Error naming the endpoint and the query, with secrets hidden.

#include "analysis/judge/prometheus_counts.h"

#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "common/redact.h"
#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "harness/test_server.h"
#include "ramp/registry.h"

namespace ramp::analysis::judge {
namespace {

using ramp::testing::TestServer;

std::string vector1(const std::string& value) {
  return R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,")" +
         value + R"("]}]}})";
}
const std::string kEmpty = R"({"status":"success","data":{"resultType":"vector","result":[]}})";

std::string histogram(const std::vector<std::pair<std::string, std::string>>& buckets) {
  std::string r;
  for (const auto& [le, v] : buckets) {
    r += std::string(r.empty() ? "" : ",") + R"({"metric":{"le":")" + le +
         R"("},"value":[1700000000,")" + v + R"("]})";
  }
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + r + "]}}";
}

// Answers POST /api/v1/query from a table query -> (status, body); records what it was sent.
class FakePrometheus {
 public:
  FakePrometheus() {
    server_.server().Post("/api/v1/query",
                          [this](const httplib::Request& req, httplib::Response& res) {
                            std::lock_guard lock(mu_);
                            const std::string q = req.get_param_value("query");
                            times.push_back(req.get_param_value("time"));
                            queries.push_back(q);
                            auto it = answers.find(q);
                            if (it == answers.end()) {
                              res.status = 200;
                              res.set_content(kEmpty, "application/json");
                              return;
                            }
                            res.status = it->second.first;
                            res.set_content(it->second.second, "application/json");
                          });
    server_.start();
  }
  std::string url() const { return server_.url(); }
  std::string hostPort() const { return "127.0.0.1:" + std::to_string(server_.port()); }

  std::mutex mu_;
  std::map<std::string, std::pair<int, std::string>> answers;
  std::vector<std::string> queries;
  std::vector<std::string> times;

 private:
  TestServer server_;
};

struct Ctx {
  explicit Ctx(const std::string& configJson) {
    metric.name = "judge";
    metric.provider.plugin["ramp/judge"] = spec::RawJson{configJson};
    ctx.run = &run;
    ctx.metric = &metric;
    ctx.now = Time(std::chrono::milliseconds(1700000000250));
  }
  spec::Metric metric;
  spec::AnalysisRun run;
  MeasureContext ctx;
};

JudgeConfig config(const std::string& extra = "") {
  auto c = parseJudgeConfig(R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"})" +
                            extra + "}");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

const std::string kCanaryRequests = R"(sum(http_requests_total{version="v2"}))";
const std::string kCanaryErrors = R"(sum(http_requests_total{version="v2",code=~"5.."}))";
const std::string kStableRequests = R"(sum(http_requests_total{version="v1"}))";
const std::string kStableErrors = R"(sum(http_requests_total{version="v1",code=~"5.."}))";
const std::string kCanaryBuckets =
    R"(sum by (le) (http_request_duration_seconds_bucket{version="v2"}))";
const std::string kStableBuckets =
    R"(sum by (le) (http_request_duration_seconds_bucket{version="v1"}))";

TEST(PrometheusCounts, ReadsEachArmsCountersAtTheLookInstant) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {200, vector1("20")};
  prom.answers[kCanaryErrors] = {200, vector1("3")};
  prom.answers[kStableRequests] = {200, vector1("380")};
  // stable errors: no series yet (no 5xx so far) = 0
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->time, c.ctx.now);
  EXPECT_EQ(in->canary, (ArmCounts{20, 3, {}}));
  EXPECT_EQ(in->stable, (ArmCounts{380, 0, {}}));
  std::lock_guard lock(prom.mu_);
  EXPECT_EQ(prom.queries, (std::vector<std::string>{kCanaryRequests, kCanaryErrors, kStableRequests,
                                                    kStableErrors}));
  for (const auto& t : prom.times) EXPECT_EQ(t, "1700000000.250");
}

TEST(PrometheusCounts, ConfigAddressWinsOverTheDefault) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {200, vector1("7")};
  PrometheusCounts counts({.defaultAddress = "http://127.0.0.1:1"});
  Ctx c("{}");
  auto in = counts.fetch(config(R"(, "address": ")" + prom.url() + R"(/")"), c.ctx);
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->canary.requests, 7);
}

TEST(PrometheusCounts, ReadsHistogramsSortedAndFillsAMissingArm) {
  FakePrometheus prom;
  prom.answers[kCanaryBuckets] = {200, histogram({{"+Inf", "10"}, {"0.1", "8"}, {"0.005", "2"}})};
  // stable: no histogram series yet
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(R"(, "latency": {"thresholdSeconds": 0.1})"), c.ctx);
  ASSERT_TRUE(in) << in.error().message;
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(in->canary.buckets, (std::vector<Bucket>{{0.005, 2}, {0.1, 8}, {inf, 10}}));
  EXPECT_EQ(in->stable.buckets, (std::vector<Bucket>{{0.005, 0}, {0.1, 0}, {inf, 0}}));
}

TEST(PrometheusCounts, NoHistogramForEitherArmIsAnError) {
  FakePrometheus prom;
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(R"(, "latency": {})"), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("no histogram series for either arm"), std::string::npos)
      << in.error().message;
  EXPECT_NE(in.error().message.find(kCanaryBuckets), std::string::npos) << in.error().message;
}

TEST(PrometheusCounts, HistogramSeriesWithoutLeOrDuplicatedAreErrors) {
  FakePrometheus prom;
  prom.answers[kCanaryBuckets] = {200, vector1("3")};
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(R"(, "latency": {})"), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("has no `le` label"), std::string::npos);
  prom.answers[kCanaryBuckets] = {200, histogram({{"0.1", "1"}, {"0.1", "2"}, {"+Inf", "3"}})};
  in = counts.fetch(config(R"(, "latency": {})"), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("share one `le`"), std::string::npos);
}

TEST(PrometheusCounts, SeveralSeriesForACounterIsAnError) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {
      200,
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"code":"200"},"value":[1,"5"]},{"metric":{"code":"500"},"value":[1,"1"]}]}})"};
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("returned 2 series"), std::string::npos) << in.error().message;
}

TEST(PrometheusCounts, AScalarIsACounterAndNegativeOrNaNIsNot) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"42"]}})"};
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->canary.requests, 42);
  prom.answers[kCanaryRequests] = {200, vector1("NaN")};
  in = counts.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(in.error().message.find("not a counter value"), std::string::npos);
}

TEST(PrometheusCounts, NonSuccessStatusNamesEndpointAndQuery) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {503, "overloaded, try later"};
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kUnavailable);
  const std::string& m = in.error().message;
  EXPECT_NE(m.find(prom.url() + "/api/v1/query"), std::string::npos) << m;
  EXPECT_NE(m.find(kCanaryRequests), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 503"), std::string::npos) << m;
  EXPECT_NE(m.find("overloaded"), std::string::npos) << m;
}

TEST(PrometheusCounts, PrometheusErrorEnvelopeIsReported) {
  FakePrometheus prom;
  prom.answers[kStableErrors] = {
      400, R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})"};
  PrometheusCounts counts({.defaultAddress = prom.url()});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(in.error().message.find("bad_data: parse error at char 5"), std::string::npos);
  EXPECT_NE(in.error().message.find(kStableErrors), std::string::npos);
}

TEST(PrometheusCounts, MalformedResponsesAreParseErrors) {
  const std::string bodies[] = {
      "<html>not json</html>",
      R"({"status":"success"})",
      R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}})",
      R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
      R"({"data":{}})",
  };
  for (const auto& body : bodies) {
    FakePrometheus prom;
    prom.answers[kCanaryRequests] = {200, body};
    PrometheusCounts counts({.defaultAddress = prom.url()});
    Ctx c("{}");
    auto in = counts.fetch(config(), c.ctx);
    ASSERT_FALSE(in) << body;
    EXPECT_TRUE(in.error().code == ErrorCode::kParse || in.error().code == ErrorCode::kUnsupported)
        << body << ": " << in.error().message;
    EXPECT_NE(in.error().message.find(kCanaryRequests), std::string::npos) << in.error().message;
  }
}

TEST(PrometheusCounts, UnreachableServerAndMissingAddress) {
  const int port = ramp::testing::pickFreePort();  // nothing listens there
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  PrometheusCounts counts({.defaultAddress = url});
  Ctx c("{}");
  auto in = counts.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(in.error().message.find(url + "/api/v1/query"), std::string::npos);
  EXPECT_NE(in.error().message.find(kCanaryRequests), std::string::npos);

  PrometheusCounts none({});
  in = none.fetch(config(), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(in.error().message.find("no Prometheus address"), std::string::npos);

  in = none.fetch(config(R"(, "address": "prometheus:9090")"), c.ctx);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message.find("is not an http:// or https:// URL"), std::string::npos);
}

TEST(PrometheusCounts, CredentialsAndSecretsAreRedacted) {
  FakePrometheus prom;
  prom.answers[kCanaryRequests] = {500, "boom"};
  Redactor secrets({"tenant-token-42"});
  PrometheusCounts counts({.defaultAddress = "", .redactor = &secrets});
  Ctx c("{}");
  auto cfg = config();
  cfg.address = "http://judge:pa55word-x@" + prom.hostPort();
  auto in = counts.fetch(cfg, c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().message.find("pa55word-x"), std::string::npos) << in.error().message;
  EXPECT_NE(in.error().message.find("HTTP 500"), std::string::npos) << in.error().message;

  // A secret of the run (e.g. a secretKeyRef arg) pasted into a query never shows.
  cfg.address = prom.url();
  cfg.canary.requests = R"(sum(http_requests_total{tenant="tenant-token-42"}))";
  prom.answers[cfg.canary.requests] = {500, "boom"};
  in = counts.fetch(cfg, c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().message.find("tenant-token-42"), std::string::npos) << in.error().message;
  EXPECT_NE(in.error().message.find("*****"), std::string::npos) << in.error().message;

  // A malformed address with credentials: the message hides them too.
  cfg.address = "ftp://judge:pa55word-x@host";
  in = counts.fetch(cfg, c.ctx);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().message.find("pa55word-x"), std::string::npos) << in.error().message;
}

// The registered provider.judge reads from the daemon's default address, or the config's.
TEST(PrometheusCounts, RegisteredJudgeUsesTheDaemonsPrometheus) {
  FakePrometheus prom;
  Registry registry;
  registerBuiltins(registry, BuiltinSettings{prom.url()});
  ramp::testing::SimulatedClock clock;
  ExtensionContext context;
  context.clock = &clock;
  spec::MetricProviderSpec spec;
  spec.plugin["ramp/judge"] =
      spec::RawJson{R"({"preset": {"name": "demo", "canary": "v2", "stable": "v1"}})"};
  auto provider = registry.makeProvider(spec, context);
  ASSERT_TRUE(provider) << provider.error().message;
  Ctx c(spec.plugin["ramp/judge"].text);
  auto reply = (*provider)->run(c.ctx);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->kind, ProviderReply::Kind::kRunning);
  {
    std::lock_guard lock(prom.mu_);
    EXPECT_EQ(prom.queries.size(), 4u);
  }

  // With the default pointing nowhere, the config's address is used.
  Registry nowhere;
  registerBuiltins(nowhere, BuiltinSettings{"http://127.0.0.1:1"});
  provider = nowhere.makeProvider(spec, context);
  ASSERT_TRUE(provider);
  Ctx c2(R"({"address": ")" + prom.url() +
         R"(", "preset": {"name": "demo", "canary": "v2", "stable": "v1"}})");
  reply = (*provider)->run(c2.ctx);
  ASSERT_TRUE(reply) << reply.error().message;
  std::lock_guard lock(prom.mu_);
  EXPECT_EQ(prom.queries.size(), 8u);
}

}  // namespace
}  // namespace ramp::analysis::judge
