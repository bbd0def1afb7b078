// End to end: a real API server process (SQLite store, port chosen at run time, bearer tokens)
// driven only through the `ramp` CLI and HTTP. Covers every verb, every auth outcome (no token,
// wrong token, a role too low: refused and the state unchanged), invalid specs, conflicts, body
// limits, a watch resumed after a disconnect, and a slow watcher that neither stalls writers nor
// keeps its stream.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "harness/harness.h"
#include "harness/promtool.h"
#include "harness/ramp_daemon.h"
#include "spec/codec.h"
#include "store/sqlite/sqlite_state_store.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;

constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kOperator = "operator-token-0123456789abc";
constexpr const char* kViewer = "viewer-token-0123456789abcde";

constexpr const char* kRollout = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:v1
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 60
)";

constexpr const char* kRun = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: web-abc-1
  namespace: shop
spec:
  metrics:
  - name: errors
    provider:
      web:
        url: http://127.0.0.1:1/x
)";

using rt::CliResult;

class ApiServerProcess {
 public:
  ApiServerProcess(const rt::TempDir& dir, std::vector<std::string> extra = {}) {
    std::ofstream(dir.file("tokens.csv")) << "# token,name,role\n"
                                          << kAdmin << ",alice,admin\n"
                                          << kOperator << ",olga,operator\n"
                                          << kViewer << ",victor,viewer\n";
    rt::ProcessOptions o;
    o.argv = {rt::binaryDir() + "/tests/api/ramp_api_test_server",
              "--data",
              dir.file("data"),
              "--listen",
              "127.0.0.1:0",
              "--tokens",
              dir.file("tokens.csv"),
              "--heartbeat-ms",
              "300"};
    for (std::string& e : extra) o.argv.push_back(std::move(e));
    static int instance = 0;
    o.logFile = dir.file("server-" + std::to_string(++instance) + ".log");
    auto p = rt::Process::start(o);
    if (!p) {
      ADD_FAILURE() << p.error().message;
      return;
    }
    process_ = std::move(*p);
    for (int i = 0; i < 200 && url_.empty(); ++i) {
      std::string log = process_->log();
      size_t at = log.find("listening on ");
      if (at != std::string::npos) {
        size_t end = log.find(' ', at + 13);
        url_ = log.substr(at + 13, end - at - 13);
      } else {
        std::this_thread::sleep_for(50ms);
      }
    }
    EXPECT_FALSE(url_.empty()) << process_->log();
    port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
  }
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  std::string log() const { return process_ ? process_->log() : ""; }

 private:
  std::unique_ptr<rt::Process> process_;
  std::string url_;
  int port_ = 0;
};

ramp::http::Response call(const std::string& method, const std::string& url,
                          const std::string& token, const std::string& body = "",
                          ramp::http::Headers headers = {}) {
  ramp::http::Request r;
  r.method = method;
  r.url = url;
  r.body = body;
  r.headers = std::move(headers);
  if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
  bool typed = false;
  for (const auto& h : r.headers) typed = typed || h.first == "Content-Type";
  if (!body.empty() && !typed) r.headers.push_back({"Content-Type", "application/json"});
  auto res = ramp::http::send(r);
  EXPECT_TRUE(res) << (res ? "" : res.error().message);
  return res ? *res : ramp::http::Response{};
}

// One HTTP/1.1 request written by hand on a raw socket (so the test chooses every header, e.g. no
// Content-Length), and the status line of the answer, or "" when none came within `timeout`.
std::string rawStatusLine(int port, const std::string& head, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size())) {
    pollfd p{fd, POLLIN, 0};
    while (got.find("\r\n") == std::string::npos &&
           ::poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

class ApiIntegration : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<ApiServerProcess>(dir_); }

  // Runs `ramp ARGS…` with RAMP_SERVER set and RAMP_TOKEN = token (unset when empty).
  CliResult cli(const std::vector<std::string>& args, const std::string& token = kAdmin) {
    return rt::runRamp(dir_, args, server_->url(), token);
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name)) << text;
    return dir_.file(name);
  }

  std::string api(const std::string& path) { return server_->url() + path; }

  json getRollout() {
    auto r = call("GET", api("/api/v1/namespaces/shop/rollouts/web"), kViewer);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Writes a status into the stored rollout through the SQLite file, as the controller would.
  void controllerWritesStatus(const std::function<void(ramp::spec::Rollout&)>& f) {
    auto store = ramp::store::SqliteStateStore::open(dir_.file("data") + "/ramp.db");
    ASSERT_TRUE(store) << store.error().message;
    ramp::store::ObjectKey key{"Rollout", "shop", "web"};
    auto obj = (*store)->get(key);
    ASSERT_TRUE(obj);
    auto r = ramp::spec::rolloutFromJson(obj->json);
    ASSERT_TRUE(r.value);
    f(*r.value);
    ASSERT_TRUE((*store)->put(key, ramp::spec::toJson(*r.value), obj->version));
  }

  rt::TempDir dir_{"ramp-api-it"};
  std::unique_ptr<ApiServerProcess> server_;
};

TEST_F(ApiIntegration, EveryAuthOutcome) {
  ASSERT_EQ(cli({"apply", "-f", write("web.yaml", kRollout)}).code, 0);
  json before = getRollout();
  std::string promote = api("/api/v1/namespaces/shop/rollouts/web/promote");

  auto none = call("POST", promote, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["reason"], "unauthenticated");
  EXPECT_FALSE(none.header("WWW-Authenticate").empty());
  EXPECT_EQ(call("POST", promote, "wrong-token-0123456789abcdef").status, 401);
  auto low = call("POST", promote, kViewer);
  EXPECT_EQ(low.status, 403);
  EXPECT_NE(json::parse(low.body)["message"].get<std::string>().find("operator"),
            std::string::npos);
  EXPECT_EQ(call("POST", api("/api/v1/apply"), kOperator, kRollout).status, 403);
  EXPECT_EQ(call("DELETE", api("/api/v1/namespaces/shop/rollouts/web"), kOperator).status, 403);
  EXPECT_EQ(call("GET", api("/metrics"), "").status, 401);
  EXPECT_EQ(call("GET", api("/api/v1/watch"), "nope-nope-nope-nope-nope").status, 401);
  EXPECT_EQ(call("GET", api("/healthz"), "").status, 200);
  EXPECT_EQ(call("GET", api("/readyz"), "").status, 200);
  EXPECT_EQ(getRollout(), before);  // nothing changed

  // The same through the CLI: refused with exit 4 and a message, state unchanged.
  CliResult noToken = cli({"promote", "web", "-n", "shop"}, "");
  EXPECT_EQ(noToken.code, 4);
  EXPECT_NE(noToken.err.find("authentication required"), std::string::npos) << noToken.err;
  CliResult wrong = cli({"get", "rollout", "web", "-n", "shop"}, "wrong-token-0123456789abcdef");
  EXPECT_EQ(wrong.code, 4);
  CliResult viewer = cli({"promote", "web", "-n", "shop"}, kViewer);
  EXPECT_EQ(viewer.code, 4);
  EXPECT_NE(viewer.err.find("needs role operator"), std::string::npos) << viewer.err;
  EXPECT_EQ(getRollout(), before);
  // The operator may promote; the event names the caller.
  ASSERT_EQ(cli({"promote", "web", "-n", "shop"}, kOperator).code, 0);
  auto events = call("GET", api("/api/v1/events?kind=Rollout&namespace=shop&name=web"), kViewer);
  json ev = json::parse(events.body)["items"];
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[0]["actor"], "alice");
  EXPECT_EQ(ev[0]["reason"], "SpecApplied");
  EXPECT_EQ(ev.back()["actor"], "olga");
  EXPECT_EQ(ev.back()["reason"], "RolloutPromoted");
}

TEST_F(ApiIntegration, EveryVerbThroughTheCli) {
  std::string file = write("web.yaml", std::string(kRollout) + "---\n" + kRun);
  CliResult applied = cli({"apply", "-f", file});
  ASSERT_EQ(applied.code, 0) << applied.err;
  EXPECT_NE(applied.out.find("rollout.argoproj.io/web created"), std::string::npos);
  EXPECT_NE(applied.out.find("analysisrun.argoproj.io/web-abc-1 created"), std::string::npos);
  EXPECT_NE(cli({"apply", "-f", file}).out.find("web unchanged"), std::string::npos);

  CliResult get = cli({"get", "rollout", "web", "-n", "shop"});
  ASSERT_EQ(get.code, 0) << get.err;
  for (const char* want : {"Name:", "web", "Strategy:", "Canary", "Step:", "0/3",
                           "SetWeight:", "web:v1", "Desired:", "α web-abc-1", "SpecApplied"}) {
    EXPECT_NE(get.out.find(want), std::string::npos) << want << "\n" << get.out;
  }
  EXPECT_EQ(get.out.find("\033["), std::string::npos);  // no colour when not a terminal
  CliResult asJson = cli({"get", "rollout", "web", "-n", "shop", "-o", "json"});
  ASSERT_EQ(asJson.code, 0);
  EXPECT_EQ(json::parse(asJson.out)["metadata"]["name"], "web");
  CliResult asYaml = cli({"get", "ro", "web", "-n", "shop", "-o", "yaml"});
  ASSERT_EQ(asYaml.code, 0);
  EXPECT_NE(asYaml.out.find("kind: Rollout"), std::string::npos) << asYaml.out;
  EXPECT_NE(asYaml.out.find("image: web:v1"), std::string::npos);

  CliResult list = cli({"list", "rollouts", "-n", "shop"});
  ASSERT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("web"), std::string::npos);
  EXPECT_NE(list.out.find("Canary"), std::string::npos);
  CliResult all = cli({"list", "rollouts", "-A"});
  EXPECT_NE(all.out.find("shop"), std::string::npos) << all.out;
  EXPECT_EQ(cli({"list", "rollouts"}).out.find("web"), std::string::npos);  // namespace default

  EXPECT_EQ(cli({"promote", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_EQ(getRollout()["status"]["currentStepIndex"], 1);
  EXPECT_EQ(cli({"pause", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_EQ(getRollout()["spec"]["paused"], true);
  // Pausing a paused rollout succeeds and writes nothing (Argo's pause is a patch).
  int64_t pausedVersion =
      std::stoll(getRollout()["metadata"]["resourceVersion"].get<std::string>());
  CliResult again = cli({"pause", "web", "-n", "shop"}, kOperator);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(std::stoll(getRollout()["metadata"]["resourceVersion"].get<std::string>()),
            pausedVersion);
  EXPECT_EQ(cli({"resume", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_FALSE(getRollout()["spec"].value("paused", false));
  EXPECT_EQ(cli({"restart", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_TRUE(getRollout()["spec"].contains("restartAt"));
  EXPECT_EQ(cli({"set", "image", "web", "web=web:v2", "-n", "shop"}, kOperator).code, 0);
  EXPECT_EQ(getRollout()["spec"]["template"]["spec"]["containers"][0]["image"], "web:v2");
  EXPECT_EQ(cli({"set", "image", "web", "nope=x:1", "-n", "shop"}, kOperator).code, 1);
  // abort applies only to an update in progress; then retry.
  EXPECT_EQ(cli({"abort", "web", "-n", "shop"}, kOperator).code, 1);
  controllerWritesStatus([](ramp::spec::Rollout& r) {
    r.status.stableRS = "old";
    r.status.currentPodHash = "new";
  });
  EXPECT_EQ(cli({"abort", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_EQ(getRollout()["status"]["abort"], true);
  EXPECT_EQ(cli({"retry", "web", "-n", "shop"}, kOperator).code, 0);
  EXPECT_FALSE(getRollout()["status"].value("abort", false));
  EXPECT_EQ(cli({"promote", "web", "--full", "-n", "shop"}, kOperator).code, 0);
  EXPECT_EQ(getRollout()["status"]["promoteFull"], true);
  CliResult undo = cli({"undo", "web", "--to-revision", "1", "-n", "shop"}, kOperator);
  EXPECT_EQ(undo.code, 1);  // no platform attached to this server: 501 with the reason
  EXPECT_NE(undo.err.find("revision history"), std::string::npos) << undo.err;

  CliResult run = cli({"get", "analysisrun", "web-abc-1", "-n", "shop"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("errors"), std::string::npos);
  EXPECT_EQ(cli({"terminate", "analysisrun", "web-abc-1", "-n", "shop"}, kOperator).code, 0);
  auto r = call("GET", api("/api/v1/namespaces/shop/analysisruns/web-abc-1"), kViewer);
  EXPECT_EQ(json::parse(r.body)["spec"]["terminate"], true);

  // status: no controller runs here, so the rollout never becomes Healthy: timeout (3).
  CliResult status = cli({"status", "web", "-n", "shop", "--timeout", "1s"});
  EXPECT_EQ(status.code, 3) << status.out << status.err;
  controllerWritesStatus([](ramp::spec::Rollout& ro) {
    ro.status.phase = ramp::spec::RolloutPhase::kDegraded;
    ro.status.message = "ProgressDeadlineExceeded";
  });
  CliResult degraded = cli({"status", "web", "-n", "shop", "--timeout", "5s"});
  EXPECT_EQ(degraded.code, 1) << degraded.out;
  EXPECT_NE(degraded.out.find("Degraded - ProgressDeadlineExceeded"), std::string::npos);
  controllerWritesStatus([](ramp::spec::Rollout& ro) {
    ro.status.phase = ramp::spec::RolloutPhase::kHealthy;
    ro.status.message.clear();
  });
  EXPECT_EQ(cli({"status", "web", "-n", "shop", "--timeout", "5s"}).code, 0);

  // get -w prints each new state (not a terminal: lines, no redraw codes).
  CliResult watched = cli({"get", "rollout", "web", "-n", "shop", "-w", "--timeout", "1s"});
  EXPECT_EQ(watched.code, 0) << watched.err;
  EXPECT_NE(watched.out.find("✔ Healthy"), std::string::npos) << watched.out;
  CliResult listW = cli({"list", "rollouts", "-A", "-w", "--timeout", "1s"});
  EXPECT_EQ(listW.code, 0) << listW.err;

  EXPECT_EQ(cli({"delete", "rollout", "web", "-n", "shop"}, kOperator).code, 4);
  EXPECT_EQ(cli({"delete", "rollout", "web", "-n", "shop"}).code, 0);
  EXPECT_EQ(cli({"get", "rollout", "web", "-n", "shop"}).code, 1);
  EXPECT_EQ(cli({"delete", "analysisrun", "web-abc-1", "-n", "shop"}).code, 0);
}

TEST_F(ApiIntegration, InvalidSpecsAreRefusedWithTheLintErrors) {
  std::string bad = kRollout;
  bad.replace(bad.find("setWeight: 60"), 13, "setWeight: 160");
  std::string file = write("bad.yaml", bad);
  CliResult r = cli({"apply", "-f", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(file + ":22:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spec.strategy.canary.steps[2].setWeight"), std::string::npos) << r.err;
  EXPECT_EQ(call("GET", api("/api/v1/namespaces/shop/rollouts/web"), kViewer).status, 404);
  auto http = call("POST", api("/api/v1/apply"), kAdmin, bad);
  EXPECT_EQ(http.status, 400);
  json body = json::parse(http.body);
  EXPECT_EQ(body["diagnostics"][0]["line"], 22);
  EXPECT_EQ(call("POST", api("/api/v1/apply"), kAdmin, "{not yaml: [").status, 400);
}

// `apply -f good.yaml bad.yaml` checks both files before writing either: nothing is created.
TEST_F(ApiIntegration, ApplyChecksEveryFileBeforeWritingAny) {
  std::string good = write("good.yaml", kRollout);
  std::string bad = kRun;
  bad.replace(bad.find("name: web-abc-1"), 15, "name: web-abc-1\n  labels: [x]");
  std::string badFile = write("bad.yaml", bad);
  CliResult r = cli({"apply", "-f", good, "-f", badFile});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(badFile + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(call("GET", api("/api/v1/namespaces/shop/rollouts/web"), kViewer).status, 404);
  // --dry-run checks and says what would happen, writing nothing.
  CliResult dry = cli({"apply", "-f", good, "--dry-run"});
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out, "rollout.argoproj.io/web created (dry run)\n");
  EXPECT_EQ(call("GET", api("/api/v1/namespaces/shop/rollouts/web"), kViewer).status, 404);
  EXPECT_EQ(call("POST", api("/api/v1/apply?dryRun=yes"), kAdmin, kRollout).status, 400);
  CliResult both = cli({"apply", "-f", good, "-f", write("run.yaml", kRun)});
  EXPECT_EQ(both.code, 0) << both.err;
  EXPECT_EQ(both.out,
            "rollout.argoproj.io/web created\nanalysisrun.argoproj.io/web-abc-1 created\n");
}

// A POST without a body (no Content-Length) is authenticated before anything else and, when
// allowed, served at once (httplib alone waited for the connection to close, then said 400).
TEST_F(ApiIntegration, ABodylessPostIsAuthenticatedFirstAndServed) {
  ASSERT_EQ(cli({"apply", "-f", write("web.yaml", kRollout)}).code, 0);
  std::string path = "/api/v1/namespaces/shop/rollouts/web/promote";
  EXPECT_EQ(
      rawStatusLine(server_->port(), "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 5s),
      "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(
      rawStatusLine(server_->port(),
                    "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                        kViewer + "\r\n\r\n",
                    5s),
      "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(
      rawStatusLine(server_->port(),
                    "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                        kOperator + "\r\n\r\n",
                    5s),
      "HTTP/1.1 200 OK");
  EXPECT_EQ(getRollout()["status"]["currentStepIndex"], 1);
}

// A form-encoded body (curl -d's default) is refused with what to send instead, at any size.
TEST_F(ApiIntegration, AFormEncodedBodyIsToldToSendYaml) {
  for (size_t size : {size_t{100}, size_t{20000}}) {
    std::string body = std::string(kRollout) + "#" + std::string(size, 'x') + "\n";
    auto r = call("POST", api("/api/v1/apply"), kAdmin, body,
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 415) << size;
    EXPECT_NE(r.body.find("send application/yaml"), std::string::npos) << r.body;
  }
  // The same without credentials is refused for the credentials first.
  auto anon = call("POST", api("/api/v1/apply"), "", "a=b",
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(call("GET", api("/api/v1/namespaces/shop/rollouts/web"), kViewer).status, 404);
}

// `list` of an empty kind says so on stderr (as kubectl); AnalysisRuns get a STATUS column.
TEST_F(ApiIntegration, ListSaysNoResourcesAndShowsRunStatus) {
  CliResult empty = cli({"list", "rollouts"});
  EXPECT_EQ(empty.code, 0);
  EXPECT_EQ(empty.out, "");
  EXPECT_EQ(empty.err, "No resources found in default namespace.\n");
  EXPECT_EQ(cli({"list", "analysisruns", "-A"}).err, "No resources found\n");
  ASSERT_EQ(cli({"apply", "-f", write("run.yaml", kRun)}).code, 0);
  CliResult runs = cli({"list", "analysisruns", "-n", "shop"});
  EXPECT_EQ(runs.code, 0) << runs.err;
  EXPECT_EQ(runs.out.substr(0, runs.out.find('\n')).find("STATUS"), 40u) << runs.out;
  EXPECT_NE(runs.out.find("web-abc-1"), std::string::npos) << runs.out;
}

TEST_F(ApiIntegration, ConflictsLimitsAndErrors) {
  auto created = call("POST", api("/api/v1/apply"), kAdmin, kRollout);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string rv = json::parse(created.body)["objects"][0]["resourceVersion"];
  json obj = getRollout();
  obj["metadata"]["resourceVersion"] = rv;
  obj["spec"]["replicas"] = 5;
  auto put = call("PUT", api("/api/v1/namespaces/shop/rollouts/web"), kAdmin, obj.dump());
  EXPECT_EQ(put.status, 200) << put.body;
  // The same stale resourceVersion again: 409, and the object keeps replicas 5.
  obj["spec"]["replicas"] = 7;
  auto stale = call("PUT", api("/api/v1/namespaces/shop/rollouts/web"), kAdmin, obj.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json::parse(stale.body)["reason"], "conflict");
  EXPECT_EQ(getRollout()["spec"]["replicas"], 5);
  EXPECT_EQ(
      call("DELETE", api("/api/v1/namespaces/shop/rollouts/web?resourceVersion=1"), kAdmin).status,
      409);
  auto big = call("POST", api("/api/v1/apply"), kAdmin, std::string(2 << 20, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(json::parse(big.body, nullptr, false)["status"], 413);
  auto missing = call("GET", api("/api/v1/namespaces/shop/rollouts/nope"), kViewer);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(json::parse(missing.body)["message"].get<std::string>().find("not found"),
            std::string::npos);
  EXPECT_EQ(call("GET", api("/api/v1/widgets"), kViewer).status, 404);
  EXPECT_EQ(call("GET", api("/api/v1/namespaces/shop/rollouts/web/promote"), kAdmin).status, 405);
  EXPECT_EQ(
      call("POST", api("/api/v1/namespaces/shop/rollouts/web/promote"), kAdmin, "{\"x\":1}").status,
      400);
  EXPECT_EQ(call("POST", api("/api/v1/namespaces/shop/rollouts/web/abort"), kAdmin).status, 422);

  auto metrics = call("GET", api("/metrics"), kViewer);
  ASSERT_EQ(metrics.status, 200);
  for (const char* want :
       {"rollout_info{namespace=\"shop\",name=\"web\",strategy=\"canary\"",
        "rollout_info_replicas_desired{namespace=\"shop\",name=\"web\"} 5",
        "rollout_info_replicas_available", "rollout_info_replicas_updated",
        "rollout_info_replicas_unavailable", "rollout_events_total", "analysis_run_info",
        "process_resident_memory_bytes", "process_cpu_seconds_total", "ramp_api_watch_streams"}) {
    EXPECT_NE(metrics.body.find(want), std::string::npos) << want;
  }
  auto checked = rt::promtoolCheckMetrics(metrics.body);
  EXPECT_TRUE(checked) << (checked ? "" : checked.error().message) << metrics.body;
}

// A minimal SSE client on a raw socket, so a test can also be a client that never reads.
class RawWatch {
 public:
  RawWatch(int port, const std::string& pathAndQuery, const std::string& token,
           const std::string& lastEventId = "", int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string req = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      "Authorization: Bearer " + token + "\r\n";
    if (!lastEventId.empty()) req += "Last-Event-ID: " + lastEventId + "\r\n";
    req += "\r\n";
    EXPECT_EQ(::send(fd_, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  }
  ~RawWatch() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  struct Frame {
    std::string id, event, data;
  };

  // Reads until a frame with event `event` arrives (returns it) or `timeout` passes.
  std::optional<Frame> next(const std::string& event, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      while (auto f = popFrame()) {
        frames_.push_back(*f);
        if (f->event == event) return f;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !fill(left)) return std::nullopt;
    }
  }
  const std::vector<Frame>& seen() const { return frames_; }
  // True when the server closed the connection within `timeout` (reading everything).
  bool closedWithin(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!fill(left)) return eof_;
    }
    return false;
  }
  std::string raw() const { return raw_; }

 private:
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    raw_.append(buf, static_cast<size_t>(n));
    if (raw_.size() > (1u << 20)) raw_.erase(0, raw_.size() - (1u << 20));
    decode();
    return true;
  }
  // Strips the HTTP header and the chunked framing into body_.
  void decode() {
    if (!headerDone_) {
      size_t end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      status_ = raw_.substr(0, raw_.find("\r\n"));
      pending_ = raw_.substr(end + 4);
      headerDone_ = true;
      raw_.clear();
    } else {
      pending_ += raw_;
      raw_.clear();
    }
    while (true) {
      size_t eol = pending_.find("\r\n");
      if (eol == std::string::npos) return;
      size_t len = std::stoul(pending_.substr(0, eol), nullptr, 16);
      if (pending_.size() < eol + 2 + len + 2) return;
      body_ += pending_.substr(eol + 2, len);
      pending_.erase(0, eol + 2 + len + 2);
    }
  }
  std::optional<Frame> popFrame() {
    size_t end = body_.find("\n\n");
    if (end == std::string::npos) return std::nullopt;
    std::string text = body_.substr(0, end);
    body_.erase(0, end + 2);
    Frame f;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("id: ", 0) == 0) f.id = line.substr(4);
      if (line.rfind("event: ", 0) == 0) f.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) f.data = line.substr(6);
      if (line.rfind(": heartbeat", 0) == 0) f.event = "heartbeat";
    }
    return f;
  }

  int fd_ = -1;
  std::string raw_, pending_, body_, status_;
  bool headerDone_ = false, eof_ = false;
  std::vector<Frame> frames_;
};

int64_t revisionOf(const std::string& id) { return std::stoll(id.substr(0, id.find('.'))); }

TEST_F(ApiIntegration, WatchResumesAfterADisconnect) {
  ASSERT_EQ(call("POST", api("/api/v1/apply"), kAdmin, kRollout).status, 201);
  std::string lastId;
  {
    RawWatch w(server_->port(), "/api/v1/watch?kind=rollouts&namespace=shop", kViewer);
    auto first = w.next("PUT");  // the current object
    ASSERT_TRUE(first);
    EXPECT_NE(first->data.find("\"name\":\"web\""), std::string::npos);
    ASSERT_TRUE(w.next("SYNC"));
    ASSERT_TRUE(w.next("heartbeat", 5s));  // heartbeats keep an idle stream alive
    ASSERT_EQ(cli({"pause", "web", "-n", "shop"}, kOperator).code, 0);
    auto paused = w.next("PUT");
    ASSERT_TRUE(paused);
    EXPECT_NE(paused->data.find("\"paused\":true"), std::string::npos);
    auto event = w.next("EVENT");
    ASSERT_TRUE(event);
    EXPECT_NE(event->data.find("RolloutPaused"), std::string::npos);
    lastId = event->id;
  }  // disconnect
  ASSERT_EQ(cli({"resume", "web", "-n", "shop"}, kOperator).code, 0);
  ASSERT_EQ(cli({"set", "image", "web", "web=web:v3", "-n", "shop"}, kOperator).code, 0);
  RawWatch w(server_->port(), "/api/v1/watch?kind=rollouts&namespace=shop", kViewer, lastId);
  auto resumed = w.next("PUT");
  ASSERT_TRUE(resumed);
  EXPECT_GT(revisionOf(resumed->id), revisionOf(lastId));
  EXPECT_EQ(resumed->data.find("\"paused\":true"), std::string::npos);  // not replayed
  auto second = w.next("PUT");
  ASSERT_TRUE(second);
  EXPECT_NE(second->data.find("web:v3"), std::string::npos);
  ASSERT_TRUE(w.next("SYNC"));
  std::vector<std::string> reasons;
  for (const auto& f : w.seen()) {
    if (f.event == "EVENT") reasons.push_back(json::parse(f.data)["reason"]);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"RolloutResumed", "RolloutImageSet"}));
  // A position the change log cannot serve: the client is told to list again (410).
  RawWatch gone(server_->port(), "/api/v1/watch?resourceVersion=99999999", kViewer);
  auto err = gone.next("ERROR");
  ASSERT_TRUE(err);
  EXPECT_EQ(json::parse(err->data)["status"], 410);
}

TEST_F(ApiIntegration, SlowWatcherIsCutOffWithoutStallingWriters) {
  server_.reset();
  server_ =
      std::make_unique<ApiServerProcess>(dir_, std::vector<std::string>{"--watch-buffer", "16"});
  ASSERT_EQ(call("POST", api("/api/v1/apply"), kAdmin, kRollout).status, 201);
  RawWatch slow(server_->port(), "/api/v1/watch", kViewer, "", 4096);  // never reads
  RawWatch fast(server_->port(), "/api/v1/watch", kViewer);
  ASSERT_TRUE(fast.next("SYNC"));
  // 150 updates of ~100 KB each: far more than the socket buffers and the 16-frame queue.
  std::string pad(100000, 'p');
  auto worst = std::chrono::milliseconds(0);
  json obj = getRollout();
  for (int i = 0; i < 150; ++i) {
    obj["metadata"].erase("resourceVersion");
    obj["metadata"]["annotations"]["pad"] = std::to_string(i) + pad;
    auto t0 = std::chrono::steady_clock::now();
    auto r = call("POST", api("/api/v1/apply"), kAdmin, obj.dump());
    worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0));
    ASSERT_EQ(r.status, 200) << r.body;
    // The fast watcher keeps up and sees each change.
    auto f = fast.next("PUT");
    ASSERT_TRUE(f) << i;
  }
  EXPECT_LT(worst.count(), 3000) << "a write waited on a watcher";
  auto metrics = call("GET", api("/metrics"), kViewer);
  EXPECT_NE(metrics.body.find("ramp_api_watch_cutoffs_total 1"), std::string::npos)
      << metrics.body.substr(metrics.body.find("ramp_api_watch"), 200);
  // The slow stream ends (after what the kernel buffered) instead of growing without bound.
  EXPECT_TRUE(slow.closedWithin(30s));
}

}  // namespace

// The real daemon: `ramp serve` with the controller on the simulated platform, its API on a
// run-time port. The CLI drives a release end to end: apply, status, set image, promote, undo
// (revision history from the platform), and /metrics carries the controller's own metrics.
TEST(ServeIntegration, RealServeRunsTheApiNextToTheController) {
  rt::TempDir dir("ramp-serve-api");
  std::ofstream(dir.file("tokens.csv")) << kAdmin << ",alice,admin\n";
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/ramp",
            "serve",
            "--data",
            dir.file("data"),
            "--platform",
            "platform.sim",
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            dir.file("tokens.csv")};
  o.logFile = dir.file("serve.log");
  auto serve = rt::Process::start(o);
  ASSERT_TRUE(serve) << serve.error().message;
  std::string url;
  for (int i = 0; i < 400 && url.empty(); ++i) {
    std::string log = (*serve)->log();
    size_t at = log.find("listening on ");
    if (at != std::string::npos) {
      url = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_FALSE(url.empty()) << (*serve)->log();
  auto cli = [&](const std::vector<std::string>& args) {
    std::string cmd = "env -u RAMP_CONFIG RAMP_SERVER=" + url + " RAMP_TOKEN=" + kAdmin +
                      " HOME=" + dir.path() + " " + rt::binaryDir() + "/ramp";
    for (const std::string& a : args) cmd += " '" + a + "'";
    cmd += " >" + dir.file("out") + " 2>&1";
    int status = std::system(cmd.c_str());
    std::ifstream in(dir.file("out"));
    std::stringstream s;
    s << in.rdbuf();
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str());
  };
  auto phase = [&]() {
    auto [code, out] = cli({"get", "rollout", "web", "-n", "shop", "-o", "json"});
    json j = json::parse(out, nullptr, false);
    return j.is_discarded() ? std::string() : j["status"].value("phase", "");
  };
  auto waitPhase = [&](const std::string& want) {
    for (int i = 0; i < 300; ++i) {
      if (phase() == want) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  std::ofstream(dir.file("web.yaml")) << kRollout;
  auto applied = cli({"apply", "-f", dir.file("web.yaml")});
  ASSERT_EQ(applied.first, 0) << applied.second;
  auto healthy = cli({"status", "web", "-n", "shop", "--timeout", "60s"});
  ASSERT_EQ(healthy.first, 0) << healthy.second << (*serve)->log();
  ASSERT_EQ(cli({"set", "image", "web", "web=web:v2", "-n", "shop"}).first, 0);
  ASSERT_TRUE(waitPhase("Paused")) << phase();  // the canary's pause step
  auto tree = cli({"get", "rollout", "web", "-n", "shop"});
  EXPECT_NE(tree.second.find("# revision:2"), std::string::npos) << tree.second;
  EXPECT_NE(tree.second.find("# revision:1"), std::string::npos) << tree.second;
  ASSERT_EQ(cli({"promote", "web", "-n", "shop"}).first, 0);
  auto done = cli({"status", "web", "-n", "shop", "--timeout", "60s"});
  ASSERT_EQ(done.first, 0) << done.second;
  auto undo = cli({"undo", "web", "-n", "shop"});
  ASSERT_EQ(undo.first, 0) << undo.second;
  auto after = cli({"get", "rollout", "web", "-n", "shop", "-o", "json"});
  EXPECT_EQ(json::parse(after.second)["spec"]["template"]["spec"]["containers"][0]["image"],
            "web:v1");
  auto metrics = call("GET", url + "/metrics", kAdmin);
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("rollout_reconcile"), std::string::npos);
  EXPECT_NE(metrics.body.find("rollout_info{namespace=\"shop\",name=\"web\""), std::string::npos);
  EXPECT_NE(metrics.body.find("rollout_events_total{namespace=\"shop\",name=\"web\""),
            std::string::npos);
  // The page as a Prometheus scrape reads it: one HELP, TYPE and label set per name, and no
  // fault the writer found (common/metrics_page.h).
  auto checked = rt::promtoolCheckMetrics(metrics.body);
  EXPECT_TRUE(checked) << (checked ? "" : checked.error().message) << metrics.body;
  EXPECT_EQ(metrics.body.find("# ramp: metrics page error"), std::string::npos) << metrics.body;
  EXPECT_EQ((*serve)->stop(), 0);
}

// Runs `ramp serve ARGS…` on platform.sim until it exits by itself (or 20 s pass: then it is
// stopped and -1 returned). Returns its exit code; *log gets what it printed.
int serveUntilExit(const rt::TempDir& dir, const std::vector<std::string>& args, std::string* log) {
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/ramp", "serve",      "--data",
            dir.file("data"),          "--platform", "platform.sim"};
  for (const std::string& a : args) o.argv.push_back(a);
  o.logFile = dir.file("serve-exit.log");
  auto serve = rt::Process::start(o);
  if (!serve) {
    ADD_FAILURE() << serve.error().message;
    return -1;
  }
  for (int i = 0; i < 400 && (*serve)->running(); ++i) std::this_thread::sleep_for(50ms);
  bool exited = !(*serve)->running();
  int code = (*serve)->stop();
  *log = (*serve)->log();
  return exited && WIFEXITED(code) ? WEXITSTATUS(code) : -1;
}

// A port in use by another server, even one that allows port sharing (SO_REUSEPORT, as a first
// `ramp serve` through httplib did), stops `ramp serve` with "address already in use".
TEST(ServerStartup, APortInUseStopsServe) {
  rt::TempDir dir("ramp-api-inuse");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::string log;
  EXPECT_EQ(serveUntilExit(dir, {"--listen", listen}, &log), 1) << log;
  EXPECT_NE(log.find("cannot listen on " + listen + ": address already in use"), std::string::npos)
      << log;
  ::close(fd);
}

// A bad tokens file stops `ramp serve` before its controller starts, naming every bad line.
TEST(ServerStartup, ABadTokensFileStopsServeWithEveryError) {
  rt::TempDir dir("ramp-api-badtokens");
  std::ofstream(dir.file("tokens.csv")) << "short,alice,admin\n"
                                        << kAdmin << ",bob,admin\n"
                                        << "two-fields-0123456789abc,carol\n";
  std::string log;
  EXPECT_EQ(
      serveUntilExit(dir, {"--listen", "127.0.0.1:0", "--tokens", dir.file("tokens.csv")}, &log), 1)
      << log;
  EXPECT_NE(log.find("tokens.csv:1: token is too short"), std::string::npos) << log;
  EXPECT_NE(log.find("tokens.csv:3: expected TOKEN,NAME,ROLE"), std::string::npos) << log;
  EXPECT_EQ(log.find("ready"), std::string::npos) << log;
}

// Runs the `ramp` CLI against `url` with `token`; returns the exit code and stdout+stderr.
std::pair<int, std::string> runRamp(const rt::TempDir& dir, const std::string& url,
                                    const std::string& token,
                                    const std::vector<std::string>& args) {
  std::string cmd = "env -u RAMP_CONFIG RAMP_SERVER=" + url + " RAMP_TOKEN=" + token +
                    " HOME=" + dir.path() + " " + rt::binaryDir() + "/ramp";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " >" + dir.file("cli.out") + " 2>&1";
  int status = std::system(cmd.c_str());
  std::ifstream in(dir.file("cli.out"));
  std::stringstream s;
  s << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str()};
}

std::string processRollout(const std::string& name, int replicas, const std::string& script) {
  return "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: " + name +
         "\n  namespace: shop\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  selector:\n    matchLabels: {app: " + name +
         "}\n  template:\n    metadata:\n      labels: {app: " + name +
         "}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: "
         "main\n        image: " +
         name + ":v1\n        command: [/bin/sh, -c, '" + script +
         "']\n  strategy:\n    canary:\n      steps:\n      - setWeight: 50\n";
}

// `ramp get` and `ramp logs` against a real `ramp serve` on the process platform: replicas that
// write to stdout, one that crashes. `get` shows each replica under its revision (a crashing one
// CrashLoopBackOff with its restarts and last exit); `logs` prints what they wrote, prefixed per
// replica, --replica and --revision select, --tail keeps the last lines, -f follows until
// SIGTERM; the API refuses a replica the rollout does not have.
TEST(ServeIntegration, ProcessReplicasInGetAndLogs) {
  rt::TempDir dir("ramp-serve-logs");
  std::ofstream(dir.file("tokens.csv")) << kAdmin << ",alice,admin\n"
                                        << kViewer << ",victor,viewer\n";
  rt::ReplicaReaper reaper(dir.file("data"));
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/ramp",
            "serve",
            "--data",
            dir.file("data"),
            "--platform",
            "platform.process",
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            dir.file("tokens.csv")};
  o.logFile = dir.file("serve.log");
  auto serve = rt::Process::start(o);
  ASSERT_TRUE(serve) << serve.error().message;
  std::string url;
  for (int i = 0; i < 400 && url.empty(); ++i) {
    std::string log = (*serve)->log();
    size_t at = log.find("listening on ");
    if (at != std::string::npos) {
      url = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_FALSE(url.empty()) << (*serve)->log();
  auto admin = [&](const std::vector<std::string>& args) {
    return runRamp(dir, url, kAdmin, args);
  };
  auto viewer = [&](const std::vector<std::string>& args) {
    return runRamp(dir, url, kViewer, args);
  };
  std::ofstream(dir.file("talker.yaml")) << processRollout(
      "talker", 2,
      "echo \"hello from $RAMP_POD_NAME\"; i=0; while true; do i=$((i+1)); echo \"tick $i\"; "
      "sleep 0.2; done");
  std::ofstream(dir.file("crashy.yaml"))
      << processRollout("crashy", 1, "echo \"boom from $RAMP_POD_NAME\"; exit 3");
  auto applied = admin({"apply", "-f", dir.file("talker.yaml"), "-f", dir.file("crashy.yaml")});
  ASSERT_EQ(applied.first, 0) << applied.second;
  auto healthy = admin({"status", "talker", "-n", "shop", "--timeout", "60s"});
  ASSERT_EQ(healthy.first, 0) << healthy.second << (*serve)->log();
  auto ro = admin({"get", "rollout", "talker", "-n", "shop", "-o", "json"});
  std::string hash = json::parse(ro.second)["status"].value("currentPodHash", "");
  ASSERT_FALSE(hash.empty()) << ro.second;
  const std::string r0 = "talker-" + hash + "-0", r1 = "talker-" + hash + "-1";

  // get: the replicas under their revision.
  auto tree = viewer({"get", "rollout", "talker", "-n", "shop"});
  ASSERT_EQ(tree.first, 0) << tree.second;
  EXPECT_NE(tree.second.find("□ " + r0), std::string::npos) << tree.second;
  EXPECT_NE(tree.second.find("□ " + r1), std::string::npos) << tree.second;
  EXPECT_NE(tree.second.find("✔ Running"), std::string::npos) << tree.second;
  EXPECT_NE(tree.second.find("ready:1/1, restarts:0"), std::string::npos) << tree.second;
  EXPECT_LT(tree.second.find("# revision:1"), tree.second.find("□ " + r0)) << tree.second;

  // logs: both replicas, each line prefixed with its name.
  std::pair<int, std::string> all;
  for (int i = 0; i < 100; ++i) {
    all = viewer({"logs", "talker", "-n", "shop"});
    if (all.second.find("[" + r1 + "] tick 2\n") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(all.first, 0) << all.second;
  EXPECT_NE(all.second.find("[" + r0 + "] hello from " + r0 + "\n"), std::string::npos)
      << all.second;
  EXPECT_NE(all.second.find("[" + r1 + "] hello from " + r1 + "\n"), std::string::npos)
      << all.second;
  EXPECT_NE(all.second.find("[" + r1 + "] tick 2\n"), std::string::npos) << all.second;

  // --replica selects one (no prefix); --revision too; --tail keeps the last lines.
  auto one = viewer({"logs", "talker", "-n", "shop", "--replica", "1"});
  ASSERT_EQ(one.first, 0) << one.second;
  EXPECT_NE(one.second.find("hello from " + r1 + "\n"), std::string::npos) << one.second;
  EXPECT_EQ(one.second.find(r0), std::string::npos) << one.second;
  EXPECT_EQ(one.second.find("["), std::string::npos) << one.second;
  auto tail =
      viewer({"logs", "talker", "-n", "shop", "--revision", hash, "--replica", "0", "--tail", "2"});
  ASSERT_EQ(tail.first, 0) << tail.second;
  EXPECT_TRUE(std::regex_match(tail.second, std::regex("tick \\d+\ntick \\d+\n"))) << tail.second;
  auto none = viewer({"logs", "talker", "-n", "shop", "--replica", "7"});
  EXPECT_EQ(none.first, 1) << none.second;
  EXPECT_NE(none.second.find("has no replica with index 7 (replicas: " + r0 + ", " + r1 + ")"),
            std::string::npos)
      << none.second;
  auto otherRevision = viewer({"logs", "talker", "-n", "shop", "--revision", "nope"});
  EXPECT_EQ(otherRevision.first, 1) << otherRevision.second;

  // The API: only names the rollout has; viewers may read, no token may not.
  const std::string base = url + "/api/v1/namespaces/shop/rollouts/talker";
  EXPECT_EQ(call("GET", base + "/replicas", kViewer).status, 200);
  EXPECT_EQ(call("GET", base + "/replicas", "").status, 401);
  EXPECT_EQ(call("GET", base + "/logs?replica=" + r0 + "&limit=10", kViewer).status, 200);
  EXPECT_EQ(call("GET", base + "/logs?replica=..%2F..%2Framp.db", kViewer).status, 404);
  EXPECT_EQ(call("GET", base + "/logs?replica=crashy-x-0", kViewer).status, 404);

  // -f follows new lines until SIGTERM, then exits 0.
  rt::ProcessOptions f;
  f.argv = {rt::binaryDir() + "/ramp", "logs", "talker", "-n", "shop", "--replica", "0", "-f"};
  f.env = {{"RAMP_SERVER", url}, {"RAMP_TOKEN", kViewer}, {"HOME", dir.path()}};
  f.logFile = dir.file("follow.log");
  auto follower = rt::Process::start(f);
  ASSERT_TRUE(follower) << follower.error().message;
  auto lastTick = [&] {
    std::string text = (*follower)->log();
    int last = 0;
    static const std::regex kTick("tick (\\d+)\n");
    for (std::sregex_iterator it(text.begin(), text.end(), kTick), end; it != end; ++it) {
      last = std::stoi((*it)[1]);
    }
    return last;
  };
  int first = 0;
  for (int i = 0; i < 100 && first == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    first = lastTick();
  }
  ASSERT_GT(first, 0) << (*follower)->log();
  bool moved = false;
  for (int i = 0; i < 100 && !moved; ++i) {
    std::this_thread::sleep_for(100ms);
    moved = lastTick() >= first + 5;
  }
  EXPECT_TRUE(moved) << "-f printed no new lines after tick " << first << ":\n"
                     << (*follower)->log();
  int status = (*follower)->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "ramp logs -f after SIGTERM: status " << status;

  // A crashing replica: CrashLoopBackOff with its restarts and last exit; its output in logs.
  std::string crashLine;
  for (int i = 0; i < 300 && crashLine.empty(); ++i) {
    auto t = viewer({"get", "rollout", "crashy", "-n", "shop"});
    size_t at = t.second.find("CrashLoopBackOff");
    if (at != std::string::npos) {
      size_t start = t.second.rfind('\n', at) + 1;
      crashLine = t.second.substr(start, t.second.find('\n', at) - start);
    } else {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_FALSE(crashLine.empty()) << viewer({"get", "rollout", "crashy", "-n", "shop"}).second;
  EXPECT_NE(crashLine.find("□ crashy-"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("✖ CrashLoopBackOff"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("ready:0/1"), std::string::npos) << crashLine;
  EXPECT_NE(crashLine.find("last exit: exit 3"), std::string::npos) << crashLine;
  std::smatch restarts;
  ASSERT_TRUE(std::regex_search(crashLine, restarts, std::regex("restarts:(\\d+)"))) << crashLine;
  EXPECT_GE(std::stoi(restarts[1]), 2) << crashLine;
  auto boom = viewer({"logs", "crashy", "-n", "shop"});
  ASSERT_EQ(boom.first, 0) << boom.second;
  EXPECT_NE(boom.second.find("boom from crashy-"), std::string::npos) << boom.second;
  EXPECT_EQ((*serve)->stop(), 0);
}

// Without a tokens file the server has no authentication, so it listens on loopback only and
// says so; asked for another address it refuses to start.
TEST(ServerStartup, NoTokensMeansLoopbackOnly) {
  rt::TempDir dir("ramp-api-noauth");
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/tests/api/ramp_api_test_server", "--data", dir.file("data"),
            "--listen", "0.0.0.0:0"};
  o.logFile = dir.file("refused.log");
  auto refused = rt::Process::start(o);
  ASSERT_TRUE(refused);
  for (int i = 0; i < 200 && (*refused)->running(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE((*refused)->running());  // exits on its own
  EXPECT_NE((*refused)->log().find("refusing to listen on 0.0.0.0:0 without authentication"),
            std::string::npos)
      << (*refused)->log();

  o.argv[4] = "127.0.0.1:0";
  o.logFile = dir.file("local.log");
  auto local = rt::Process::start(o);
  ASSERT_TRUE(local);
  std::string log;
  for (int i = 0; i < 200 && log.find("listening on") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    log = (*local)->log();
  }
  EXPECT_NE(log.find("authentication off, loopback only"), std::string::npos) << log;
}

// With a certificate and key the API speaks HTTPS (and only HTTPS).
TEST(ServerStartup, TlsWhenGivenACertificate) {
  rt::TempDir dir("ramp-api-tls");
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
      dir.file("key.pem") + " -out " + dir.file("cert.pem") + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ApiServerProcess server(dir,
                          {"--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")});
  ASSERT_EQ(server.url().rfind("https://", 0), 0u) << server.log();
  ramp::http::Request r;
  r.url = server.url() + "/api/v1/rollouts";
  r.insecure = true;  // self-signed
  r.headers = {{"Authorization", std::string("Bearer ") + kViewer}};
  auto res = ramp::http::send(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  ramp::http::Request plain;
  plain.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/healthz";
  auto p = ramp::http::send(plain);
  EXPECT_TRUE(!p || p->status != 200);
  std::string cli = "env -u RAMP_CONFIG RAMP_TOKEN=" + std::string(kViewer) + " " +
                    rt::binaryDir() +
                    "/ramp list rollouts -A --insecure-skip-tls-verify --server " + server.url() +
                    " >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cli.c_str())), 0);
}
