// docs/getting-started.md and examples/, run as written on a real stack: HAProxy, Prometheus,
// `ramp serve` and the demo service's replicas, all on 127.0.0.1.
//
// The stack is the guide's own files (examples/getting-started/): haproxy.cfg, prometheus.yml,
// the tokens file from tokens.example, and ramp serve started with the ExecStart line of
// ramp.service. Only what must be chosen at run time is replaced, literally, by
// GuideStack::placeholders() (ports, paths, the binaries, the tokens; the guide lists the same
// values under "What to change"); each must still occur in the files, so the two cannot drift.
// Before anything starts, the files pass `haproxy -c` and `promtool check config` without a
// warning and `systemd-analyze verify` without a word (skipped, with the reason printed, where
// systemd-analyze is missing). Two deviations, both stated where they happen: the CLI does not
// verify the test's throw-away self-signed certificate, and examples/ run with the guide's
// backend renamed be_demo.
//
// GettingStarted: the guide's first release and a new version through the guide's steps, to
// Healthy, with the analysis passing on HAProxy's counters. Examples: canary-rollout.yaml (with
// analysis-templates.yaml) and bluegreen-rollout.yaml, each applied, Healthy, then released as
// v2 through every step and analysis, to Healthy; basic-canary-rollout.yaml splits the traffic
// by replica counts at each step; judge-template.yaml is applied and each of
// its queries finds data during the canary (the judge's verdicts are tested by DemoE2E and
// tests/judge_prometheus).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "harness/harness.h"
#include "spec/codec.h"

namespace ramp {
namespace {

namespace fs = std::filesystem;
namespace rt = ramp::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string guideDir() { return rt::sourceDir() + "/examples/getting-started"; }

// The files of examples/getting-started that the guide quotes and this test runs.
const std::vector<std::string> kGuideFiles = {"haproxy.cfg",  "prometheus.yml",
                                              "ramp.service", "tokens.example",
                                              "rollout.yaml", "analysis-template.yaml"};

// The manifests of examples/ that run on the guide's stack.
const std::vector<std::string> kExampleFiles = {"analysis-templates.yaml", "judge-template.yaml",
                                                "canary-rollout.yaml", "bluegreen-rollout.yaml",
                                                "basic-canary-rollout.yaml"};

// Polls `ready` every 100 ms until it holds or `timeout` passes.
bool waitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (ready()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

struct CommandResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command, output captured in `dir`/cmd.out.
CommandResult shell(const std::string& command, const std::string& dir) {
  const std::string out = dir + "/cmd.out";
  const int status = std::system((command + " >" + out + " 2>&1").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, readText(out)};
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string randomToken() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  unsigned char bytes[24];
  random.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  std::string hex;
  for (unsigned char b : bytes) {
    static const char* kHex = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// The ExecStart= command line of a systemd unit (continuation lines joined), split on blanks.
// The guide's unit uses no quoting, so none is interpreted.
std::vector<std::string> execStart(const std::string& unit) {
  std::istringstream in(unit);
  std::string line, joined;
  bool inExec = false;
  while (std::getline(in, line)) {
    if (!inExec && line.rfind("ExecStart=", 0) != 0) continue;
    if (!inExec) line = line.substr(std::string("ExecStart=").size());
    inExec = true;
    const bool more = !line.empty() && line.back() == '\\';
    joined += " " + (more ? line.substr(0, line.size() - 1) : line);
    if (!more) break;
  }
  std::vector<std::string> argv;
  std::istringstream words(joined);
  for (std::string w; words >> w;) argv.push_back(w);
  return argv;
}

// One stack on loopback built from the guide's files.
class GuideStack {
 public:
  // `renames`: extra literal replacements (the examples use backend be_demo).
  explicit GuideStack(std::vector<std::pair<std::string, std::string>> renames = {})
      : renames_(std::move(renames)) {}

  ~GuideStack() {
    stopLoad();
    if (serve_) serve_->stop(15s);
    stopReplicas();
    prometheus_.reset();
    haproxy_.reset();
  }

  const rt::TempDir& dir() const { return dir_; }
  std::string frontUrl() const { return "http://127.0.0.1:" + std::to_string(frontPort_) + "/"; }
  std::string previewUrl() const {
    return "http://127.0.0.1:" + std::to_string(previewPort_) + "/";
  }
  std::string promUrl() const { return "http://127.0.0.1:" + std::to_string(promPort_); }
  std::string serveLog() const { return serve_ ? serve_->log() : ""; }

  // What the test puts where the guide's files hold a value of the reader's own host. Each one
  // must occur in the files (checked), and nothing else is changed.
  std::vector<std::pair<std::string, std::string>> placeholders() const {
    std::vector<std::pair<std::string, std::string>> p = {
        {"/usr/local/bin/ramp", rt::binaryDir() + "/ramp"},
        {"/opt/myapp/bin/myapp", rt::binaryDir() + "/demo/ramp-demo-service"},
        {"/var/lib/ramp", dir_.file("var-lib-ramp")},
        {"/etc/ramp", dir_.file("etc-ramp")},
        {"/run/haproxy/admin.sock", dir_.file("admin.sock")},
        {"bind :8080", "bind 127.0.0.1:" + std::to_string(frontPort_)},
        {"127.0.0.1:8080", "127.0.0.1:" + std::to_string(frontPort_)},
        {"127.0.0.1:8081", "127.0.0.1:" + std::to_string(previewPort_)},
        {"127.0.0.1:8405", "127.0.0.1:" + std::to_string(exporterPort_)},
        {"127.0.0.1:9090", "127.0.0.1:" + std::to_string(promPort_)},
        {"0.0.0.0:8443", "127.0.0.1:" + std::to_string(apiPort_)},
        {"ADMIN_TOKEN", adminToken_},
        {"OPERATOR_TOKEN", randomToken()},
        {"VIEWER_TOKEN", randomToken()},
    };
    // Only root may hand the runtime API socket to group haproxy.
    if (::geteuid() != 0) p.push_back({" group haproxy", ""});
    return p;
  }

  // The guide's file `name` with the placeholders (and renames) replaced.
  std::string render(const std::string& name) const { return renderPath(guideDir() + "/" + name); }

  // examples/`name` with the placeholders replaced (its HAProxy socket and frontend), written
  // beside the guide's files; returns the copy's path.
  std::string example(const std::string& name) const {
    const std::string copy = file("examples/" + name);
    writeText(copy, renderPath(rt::sourceDir() + "/examples/" + name));
    return copy;
  }

  std::string renderPath(const std::string& path) const {
    std::string text = readText(path);
    for (const auto& [from, to] : renames_) replaceAll(text, from, to);
    for (const auto& [from, to] : placeholders_) replaceAll(text, from, to);
    return text;
  }

  // Renders every guide file into the temp dir, checks the configs, starts HAProxy, ramp serve
  // and Prometheus. `path` is prepended to ramp serve's PATH (replicas inherit it).
  void start(const std::string& path = "") {
    frontPort_ = rt::pickFreePort();
    previewPort_ = rt::pickFreePort();
    exporterPort_ = rt::pickFreePort();
    promPort_ = rt::pickFreePort();
    apiPort_ = rt::pickFreePort();
    adminToken_ = randomToken();
    placeholders_ = placeholders();
    std::string all;
    for (const auto& f : kGuideFiles) all += readText(guideDir() + "/" + f);
    for (const auto& f : kExampleFiles) all += readText(rt::sourceDir() + "/examples/" + f);
    for (const auto& [from, to] : placeholders_) {
      if (from == " group haproxy") continue;
      EXPECT_NE(all.find(from), std::string::npos)
          << "placeholder " << from << " no longer occurs in examples/";
    }
    for (const auto& f : kGuideFiles) writeText(file(f), render(f));
    // The tokens file and the TLS pair where ramp.service expects them.
    writeText(dir_.file("etc-ramp/tokens"), render("tokens.example"));
    ::chmod(dir_.file("etc-ramp/tokens").c_str(), 0600);  // the guide's install -m 600
    fs::create_directories(dir_.file("etc-ramp/tls"));
    CommandResult tls = shell(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout " +
            dir_.file("etc-ramp/tls/key.pem") + " -out " + dir_.file("etc-ramp/tls/cert.pem"),
        dir_.path());
    ASSERT_EQ(tls.code, 0) << tls.out;

    checkHaproxyConfig();
    checkSystemdUnit();
    ASSERT_NO_FATAL_FAILURE(startHaproxy());
    ASSERT_NO_FATAL_FAILURE(startServe(path));
    // ramp serve has created its file_sd file: promtool then has nothing to warn about.
    checkPrometheusConfig();
    ASSERT_NO_FATAL_FAILURE(startPrometheus());
    writeText(dir_.file("client.config"), "server: https://127.0.0.1:" + std::to_string(apiPort_) +
                                              "\ntoken: " + adminToken_ +
                                              "\ninsecure-skip-tls-verify: true\n");
  }

  std::string file(const std::string& name) const { return dir_.file("files/" + name); }

  // `ramp ARGS…` as the guide's admin (client config: the server, the token; the test's
  // self-signed certificate is not verified).
  CommandResult ramp(const std::vector<std::string>& args) const {
    std::string cmd = "env -u RAMP_SERVER -u RAMP_TOKEN RAMP_CONFIG=" + dir_.file("client.config") +
                      " HOME=" + dir_.path() + " " + rt::binaryDir() + "/ramp";
    for (const auto& a : args) cmd += " " + quote(a);
    return shell(cmd, dir_.path());
  }

  json rollout(const std::string& name) const {
    CommandResult r = ramp({"get", "rollout", name, "-o", "json"});
    auto j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }

  // The AnalysisRuns of the default namespace, as the API lists them.
  json analysisRuns() const {
    CommandResult r = ramp({"list", "analysisruns", "-o", "json"});
    auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return json::array();
    return j.is_object() && j.contains("items") ? j["items"] : j;
  }

  // An instant query's result vector ([] on any failure).
  json query(const std::string& promql) const {
    auto r = rt::httpGet(promUrl() + "/api/v1/query?query=" + urlEncode(promql));
    if (!r || r->status != 200) return json::array();
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("data")) return json::array();
    return j["data"]["result"];
  }

  // Steady GETs through HAProxy's frontend (about 60 a second), counted by answer.
  void startLoad() {
    loadStop_ = false;
    load_ = std::thread([this] {
      while (!loadStop_) {
        auto r = rt::httpGet(frontUrl());
        {
          std::lock_guard lock(loadMu_);
          if (!r) {
            ++answers_["transport error"];
          } else if (r->status != 200) {
            ++answers_[std::to_string(r->status)];
          } else {
            ++answers_[r->body.substr(0, r->body.find('\n'))];
          }
        }
        std::this_thread::sleep_for(15ms);  // pacing, not waiting for a condition
      }
    });
  }
  void stopLoad() {
    loadStop_ = true;
    if (load_.joinable()) load_.join();
  }
  std::map<std::string, int> answers() {
    std::lock_guard lock(loadMu_);
    return answers_;
  }

 private:
  static void replaceAll(std::string& text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
      text.replace(at, from.size(), to);
    }
  }

  void checkHaproxyConfig() {
    CommandResult c = shell("haproxy -c -f " + file("haproxy.cfg"), dir_.path());
    EXPECT_EQ(c.code, 0) << c.out;
    EXPECT_EQ(c.out.find("WARNING"), std::string::npos) << "haproxy -c warns:\n" << c.out;
    EXPECT_EQ(c.out.find("ALERT"), std::string::npos) << c.out;
  }

  void checkSystemdUnit() {
    if (shell("command -v systemd-analyze", dir_.path()).code != 0) {
      std::printf("[ SKIPPED  ] systemd-analyze verify: systemd-analyze is not installed\n");
      return;
    }
    // verify wants the unit under its own name.
    CommandResult v = shell("systemd-analyze verify " + file("ramp.service"), dir_.path());
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_EQ(v.out, "") << "systemd-analyze verify ramp.service:\n" << v.out;
  }

  void checkPrometheusConfig() {
    CommandResult c = shell("promtool check config " + file("prometheus.yml"), dir_.path());
    EXPECT_EQ(c.code, 0) << c.out;
    EXPECT_EQ(c.out.find("WARNING"), std::string::npos) << "promtool warns:\n" << c.out;
  }

  void startHaproxy() {
    rt::ProcessOptions o;
    o.argv = {"haproxy", "-db", "-f", file("haproxy.cfg")};
    o.logFile = dir_.file("haproxy.log");
    auto p = rt::Process::start(o);
    ASSERT_TRUE(p) << p.error().message;
    haproxy_ = std::move(*p);
    ASSERT_TRUE(
        rt::waitForHttp("http://127.0.0.1:" + std::to_string(exporterPort_) + "/metrics", 20s))
        << haproxy_->log();
  }

  // ramp serve exactly as ramp.service's ExecStart says.
  void startServe(const std::string& path) {
    std::vector<std::string> argv = execStart(render("ramp.service"));
    ASSERT_GE(argv.size(), 2u);
    ASSERT_EQ(argv[1], "serve");
    rt::ProcessOptions o;
    o.argv = argv;
    const char* inherited = std::getenv("PATH");
    o.env["PATH"] = (path.empty() ? "" : path + ":") + (inherited ? inherited : "/usr/bin:/bin");
    o.logFile = dir_.file("serve.log");
    auto p = rt::Process::start(o);
    ASSERT_TRUE(p) << p.error().message;
    serve_ = std::move(*p);
    ASSERT_TRUE(waitUntil(
        [&] {
          return !serve_->running() || serve_->log().find("ramp serve: ready") != std::string::npos;
        },
        30s));
    ASSERT_TRUE(serve_->running()) << serve_->log();
    ASSERT_NE(serve_->log().find("ramp serve: ready"), std::string::npos) << serve_->log();
    // Set up as the guide says, ramp has nothing to warn about (e.g. a readable tokens file).
    EXPECT_EQ(serve_->log().find("warning"), std::string::npos) << serve_->log();
  }

  void startPrometheus() {
    rt::ProcessOptions o;
    o.argv = {"prometheus", "--config.file=" + file("prometheus.yml"),
              "--storage.tsdb.path=" + dir_.file("prometheus"),
              "--web.listen-address=127.0.0.1:" + std::to_string(promPort_), "--log.level=warn"};
    o.logFile = dir_.file("prometheus.log");
    auto p = rt::Process::start(o);
    ASSERT_TRUE(p) << p.error().message;
    prometheus_ = std::move(*p);
    // The first scrape lands ~5 s after start.
    ASSERT_TRUE(waitUntil([&] { return !query("up{job=\"haproxy\"} == 1").empty(); }, 40s))
        << prometheus_->log();
  }

  // The replicas this test made ramp start (they outlive ramp serve by design).
  void stopReplicas() {
    rt::stopProcessReplicas(dir_.file("var-lib-ramp/platform.process"), "ramp-demo-service");
  }

  rt::TempDir dir_{"ramp-guide"};
  std::vector<std::pair<std::string, std::string>> renames_;
  std::vector<std::pair<std::string, std::string>> placeholders_;
  int frontPort_ = 0, previewPort_ = 0, exporterPort_ = 0, promPort_ = 0, apiPort_ = 0;
  std::string adminToken_;
  std::unique_ptr<rt::Process> haproxy_, prometheus_, serve_;
  std::thread load_;
  std::atomic<bool> loadStop_{true};
  std::mutex loadMu_;
  std::map<std::string, int> answers_;
};

// Every AnalysisRun of rollout `name` ended Successful; returns how many there were.
int expectRunsSuccessful(const GuideStack& stack, const std::string& name) {
  int n = 0;
  for (const auto& run : stack.analysisRuns()) {
    if (run["metadata"].value("name", "").rfind(name + "-", 0) != 0) continue;
    ++n;
    EXPECT_EQ(run["status"].value("phase", ""), "Successful") << run.dump(2);
  }
  return n;
}

std::string stableHash(const json& rollout) {
  return rollout.contains("status") ? rollout["status"].value("stableRS", "") : "";
}

// docs/getting-started.md quotes each file of examples/getting-started whole, so what the
// reader copies is what this test runs.
TEST(GettingStarted, TheGuideQuotesItsFilesVerbatim) {
  const std::string guide = readText(rt::sourceDir() + "/docs/getting-started.md");
  ASSERT_FALSE(guide.empty());
  for (const auto& f : kGuideFiles) {
    const std::string text = readText(guideDir() + "/" + f);
    ASSERT_FALSE(text.empty()) << f;
    EXPECT_NE(guide.find(text), std::string::npos)
        << "docs/getting-started.md does not quote examples/getting-started/" << f << " verbatim";
  }
}

// The guide, step by step: check the configs, start the stack, the first release (straight to
// Healthy), then a new version through the canary steps and the analysis, to Healthy.
TEST(GettingStarted, FirstReleaseAndANewVersionReachHealthy) {
  GuideStack stack;
  ASSERT_NO_FATAL_FAILURE(stack.start());

  // "The first release".
  CommandResult applied = stack.ramp(
      {"apply", "-f", stack.file("analysis-template.yaml"), "-f", stack.file("rollout.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out;
  CommandResult first = stack.ramp({"status", "myapp", "--timeout", "60s"});
  ASSERT_EQ(first.code, 0) << first.out << stack.serveLog();
  auto v1 = rt::httpGet(stack.frontUrl());
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->status, 200);
  EXPECT_EQ(v1->body, "v1\n");
  const std::string v1Hash = stableHash(stack.rollout("myapp"));
  ASSERT_FALSE(v1Hash.empty());

  // "A new version", under steady traffic (the analysis needs canary traffic).
  stack.startLoad();
  CommandResult set = stack.ramp({"set", "image", "myapp", "myapp=myapp:v2"});
  ASSERT_EQ(set.code, 0) << set.out;
  CommandResult released = stack.ramp({"status", "myapp", "--timeout", "120s"});
  stack.stopLoad();
  ASSERT_EQ(released.code, 0) << released.out << stack.serveLog();

  const json after = stack.rollout("myapp");
  EXPECT_NE(stableHash(after), v1Hash) << after.dump(2);
  EXPECT_EQ(expectRunsSuccessful(stack, "myapp"), 1);
  auto v2 = rt::httpGet(stack.frontUrl());
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->body, "v2\n");
  const auto answers = stack.answers();
  EXPECT_GT(answers.count("v2") ? answers.at("v2") : 0, 0);
  // Users saw only answers of v1 and v2 (a transport error or two while HAProxy drops a
  // retired replica's server would be tolerable; none is expected).
  int other = 0;
  for (const auto& [answer, n] : answers) {
    if (answer != "v1" && answer != "v2") other += n;
  }
  EXPECT_LE(other, 2) << json(answers).dump();
}

// examples/ run on the guide's stack, whose backend is named be_demo there.
std::vector<std::pair<std::string, std::string>> examplesRenames() {
  return {{"be_myapp", "be_demo"}};
}

// The template queries of examples/judge-template.yaml (the demo preset's selector written
// out, the custom template's queries as they are) for rollout demo: each returns data while a
// canary runs.
std::vector<std::string> judgeQueries() {
  std::vector<std::string> out = {"sum(http_requests_total{version=\"v2\"})",
                                  "sum(http_requests_total{version=\"v1\"})"};
  const std::string file = rt::sourceDir() + "/examples/judge-template.yaml";
  auto parsed = spec::parseDocuments(readText(file), file);
  for (const auto& doc : parsed.documents) {
    const auto* t = std::get_if<spec::AnalysisTemplate>(&doc.object);
    if (t == nullptr) continue;
    for (const auto& metric : t->spec.metrics) {
      auto it = metric.provider.plugin.find("ramp/judge");
      if (it == metric.provider.plugin.end()) continue;
      auto config = json::parse(it->second.text, nullptr, false);
      if (!config.contains("queries")) continue;
      for (const auto& arm : {"canary", "stable"}) {
        for (const auto& [key, q] : config["queries"][arm].items()) {
          std::string text = q.get<std::string>();
          for (size_t at; (at = text.find("{{args.rollout}}")) != std::string::npos;) {
            text.replace(at, 16, "demo");
          }
          out.push_back(text);
        }
      }
    }
  }
  return out;
}

TEST(Examples, CanaryRolloutReleasesV2ThroughEveryStep) {
  GuideStack stack(examplesRenames());
  ASSERT_NO_FATAL_FAILURE(stack.start(rt::binaryDir() + "/demo"));
  CommandResult applied = stack.ramp({"apply", "-f", stack.example("analysis-templates.yaml"), "-f",
                                      stack.example("judge-template.yaml"), "-f",
                                      stack.example("canary-rollout.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out;
  CommandResult first = stack.ramp({"status", "demo", "--timeout", "60s"});
  ASSERT_EQ(first.code, 0) << first.out << stack.serveLog();
  const std::string v1Hash = stableHash(stack.rollout("demo"));

  stack.startLoad();
  CommandResult set = stack.ramp({"set", "image", "demo", "demo=ramp/demo-service:v2"});
  ASSERT_EQ(set.code, 0) << set.out;
  // While the canary runs, every query of judge-template.yaml finds its series.
  const auto queries = judgeQueries();
  ASSERT_EQ(queries.size(), 6u);
  for (const auto& q : queries) {
    EXPECT_TRUE(waitUntil([&] { return !stack.query(q).empty(); }, 60s))
        << q << " found nothing during the canary";
  }
  CommandResult released = stack.ramp({"status", "demo", "--timeout", "150s"});
  stack.stopLoad();
  ASSERT_EQ(released.code, 0) << released.out << stack.serveLog();
  EXPECT_NE(stableHash(stack.rollout("demo")), v1Hash);
  // The step analysis (success-rate, latency-p99), the smoke test and the background analysis.
  EXPECT_EQ(expectRunsSuccessful(stack, "demo"), 3);
  auto v2 = rt::httpGet(stack.frontUrl());
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->body, "v2\n");
}

// The first line of each answer of `n` GETs of `url` ("error" for a failure), counted.
std::map<std::string, int> answersOf(const std::string& url, int n) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    auto r = rt::httpGet(url);
    ++out[!r || r->status != 200 ? "error" : r->body.substr(0, r->body.find('\n'))];
  }
  return out;
}

// The ramp servers of HAProxy backend `backend` (name -> weight), through the runtime API.
std::map<std::string, int> haproxyServers(const GuideStack& stack, const std::string& backend) {
  CommandResult r = shell("echo 'show servers state " + backend +
                              "' | socat -t 2 - UNIX-CONNECT:" + stack.dir().file("admin.sock"),
                          stack.dir().path());
  std::map<std::string, int> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight …
    if (f.size() > 7 && f[1] == backend && f[3].rfind("ramp-", 0) == 0) {
      out[f[3]] = std::stoi(f[7]);
    }
  }
  return out;
}

// Blue-green through HAProxy on platform.process: the preview answers v2 on its own frontend
// while users still get v1; the pre-promotion analysis passes and one switch moves users to v2;
// v1's servers stay in the active backend at weight 0 for scaleDownDelaySeconds (30 s), then
// go with v1's replicas.
TEST(Examples, BlueGreenRolloutReleasesV2ThroughItsPrePromotionAnalysis) {
  GuideStack stack(
      {{"be_myapp_preview", "be_demo_bluegreen_preview"}, {"be_myapp", "be_demo_bluegreen"}});
  ASSERT_NO_FATAL_FAILURE(stack.start(rt::binaryDir() + "/demo"));
  CommandResult applied = stack.ramp({"apply", "-f", stack.example("analysis-templates.yaml"), "-f",
                                      stack.example("bluegreen-rollout.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out;
  EXPECT_EQ(applied.out.find("nothing routes"), std::string::npos) << applied.out;
  CommandResult first = stack.ramp({"status", "demo-bluegreen", "--timeout", "60s"});
  ASSERT_EQ(first.code, 0) << first.out << stack.serveLog();
  const std::string v1Hash = stableHash(stack.rollout("demo-bluegreen"));
  EXPECT_EQ(answersOf(stack.frontUrl(), 20)["v1"], 20);
  EXPECT_EQ(answersOf(stack.previewUrl(), 20)["v1"], 20);

  CommandResult set = stack.ramp({"set", "image", "demo-bluegreen", "demo=ramp/demo-service:v2"});
  ASSERT_EQ(set.code, 0) << set.out;
  // Before promotion (the analysis takes 15 s at least): the preview is v2, users get v1.
  EXPECT_TRUE(waitUntil(
      [&] {
        return answersOf(stack.previewUrl(), 5)["v2"] == 5 &&
               stableHash(stack.rollout("demo-bluegreen")) == v1Hash;
      },
      60s))
      << "the preview never answered v2 before promotion\n"
      << stack.serveLog();
  EXPECT_EQ(answersOf(stack.frontUrl(), 20)["v1"], 20) << "users left v1 before promotion";

  CommandResult released = stack.ramp({"status", "demo-bluegreen", "--timeout", "120s"});
  ASSERT_EQ(released.code, 0) << released.out << stack.serveLog();
  const json after = stack.rollout("demo-bluegreen");
  const std::string v2Hash = stableHash(after);
  EXPECT_NE(v2Hash, v1Hash);
  EXPECT_EQ(after.value("/status/blueGreen/activeSelector"_json_pointer, ""), v2Hash);
  EXPECT_EQ(expectRunsSuccessful(stack, "demo-bluegreen"), 1);
  EXPECT_EQ(answersOf(stack.frontUrl(), 20)["v2"], 20);
  EXPECT_EQ(answersOf(stack.previewUrl(), 20)["v2"], 20);
  // v1's servers are kept, at weight 0, while v1 runs out its scale-down delay.
  auto servers = haproxyServers(stack, "be_demo_bluegreen");
  int v1Servers = 0;
  for (const auto& [name, weight] : servers) {
    if (name.find(v1Hash) == std::string::npos) continue;
    ++v1Servers;
    EXPECT_EQ(weight, 0) << name;
  }
  EXPECT_EQ(v1Servers, 2) << json(servers).dump();
  // The switch event names the router that made it.
  CommandResult events = stack.ramp({"get", "rollout", "demo-bluegreen"});
  EXPECT_NE(events.out.find("through ramp/haproxy"), std::string::npos) << events.out;
  // After scaleDownDelaySeconds (30 s) v1 leaves the backend.
  EXPECT_TRUE(waitUntil(
      [&] {
        for (const auto& [name, weight] : haproxyServers(stack, "be_demo_bluegreen")) {
          if (name.find(v1Hash) != std::string::npos) return false;
        }
        return true;
      },
      60s))
      << json(haproxyServers(stack, "be_demo_bluegreen")).dump();
  EXPECT_EQ(haproxyServers(stack, "be_demo_bluegreen").size(), 2u);
  // The active role moved to v2 in the replicas' Prometheus labels.
  EXPECT_TRUE(waitUntil(
      [&] {
        return !stack
                    .query(
                        "up{rollout=\"demo-bluegreen\",role=\"active\",rollouts_pod_template_"
                        "hash=\"" +
                        v2Hash + "\"} == 1")
                    .empty();
      },
      30s));
}

// Argo's basic canary through HAProxy on platform.process: at setWeight 25 the rollout runs 1
// v2 and 3 v1 replicas, the backend holds all four at one weight and a quarter of the answers
// are v2; at 50, two of each and half; promoted, v2 alone.
TEST(Examples, BasicCanarySplitsTrafficByReplicaCounts) {
  GuideStack stack(std::vector<std::pair<std::string, std::string>>{{"be_myapp", "be_demo_basic"}});
  ASSERT_NO_FATAL_FAILURE(stack.start(rt::binaryDir() + "/demo"));
  CommandResult applied = stack.ramp({"apply", "-f", stack.example("basic-canary-rollout.yaml")});
  ASSERT_EQ(applied.code, 0) << applied.out;
  EXPECT_EQ(applied.out.find("nothing routes"), std::string::npos) << applied.out;
  CommandResult first = stack.ramp({"status", "demo-basic", "--timeout", "60s"});
  ASSERT_EQ(first.code, 0) << first.out << stack.serveLog();
  const std::string v1Hash = stableHash(stack.rollout("demo-basic"));
  EXPECT_EQ(answersOf(stack.frontUrl(), 20)["v1"], 20);

  // Servers of `hash` in the backend with traffic, and whether every server with traffic has
  // the same weight (a Service sends each ready replica the same share).
  const auto split = [&](const std::string& hash) {
    int servers = 0, others = 0;
    std::set<int> weights;
    for (const auto& [name, weight] : haproxyServers(stack, "be_demo_basic")) {
      if (weight == 0) continue;
      weights.insert(weight);
      ++(name.find(hash) != std::string::npos ? servers : others);
    }
    return std::tuple(servers, others, weights.size() == 1);
  };
  CommandResult set = stack.ramp({"set", "image", "demo-basic", "demo=ramp/demo-service:v2"});
  ASSERT_EQ(set.code, 0) << set.out;
  // setWeight 25 of 4 replicas: 1 v2 and 3 v1 (v1 scaled down from 4), then the pause.
  EXPECT_TRUE(waitUntil(
      [&] {
        return stack.rollout("demo-basic").value("/status/phase"_json_pointer, "") == "Paused" &&
               split(v1Hash) == std::tuple(3, 1, true);
      },
      60s))
      << json(haproxyServers(stack, "be_demo_basic")).dump() << stack.serveLog();
  auto quarter = answersOf(stack.frontUrl(), 200);
  EXPECT_EQ(quarter["error"], 0);
  EXPECT_NEAR(quarter["v2"], 50, 10) << json(quarter).dump();
  EXPECT_NEAR(quarter["v1"], 150, 10) << json(quarter).dump();

  CommandResult promoted = stack.ramp({"promote", "demo-basic"});
  ASSERT_EQ(promoted.code, 0) << promoted.out;
  // setWeight 50: 2 and 2, for the 5 s pause.
  EXPECT_TRUE(waitUntil([&] { return split(v1Hash) == std::tuple(2, 2, true); }, 60s))
      << json(haproxyServers(stack, "be_demo_basic")).dump();
  auto half = answersOf(stack.frontUrl(), 200);
  EXPECT_EQ(half["error"], 0);
  EXPECT_NEAR(half["v2"], 100, 10) << json(half).dump();

  CommandResult released = stack.ramp({"status", "demo-basic", "--timeout", "60s"});
  ASSERT_EQ(released.code, 0) << released.out << stack.serveLog();
  const std::string v2Hash = stableHash(stack.rollout("demo-basic"));
  EXPECT_NE(v2Hash, v1Hash);
  EXPECT_TRUE(waitUntil([&] { return split(v2Hash) == std::tuple(4, 0, true); }, 60s))
      << json(haproxyServers(stack, "be_demo_basic")).dump();
  EXPECT_EQ(answersOf(stack.frontUrl(), 20)["v2"], 20);
}

}  // namespace
}  // namespace ramp
