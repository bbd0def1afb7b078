// ramp-demo: the runner of `make demo` (issue 6).
//
// Starts HAProxy and Prometheus (1 s scrape) on loopback ports picked at run time, `ramp serve`
// with the process platform, and a steady load through HAProxy; then, with live progress:
//   1. deploys v1 (initial deploy: no steps);
//   2. releases v2 (healthy): canary 5% -> 25% -> 50% -> 100% with Prometheus analysis
//      (examples/demo/analysis-template.yaml) -> expected Promoted;
//   3. releases v3 (10% errors): the analysis fails at 5%, ramp aborts -> expected Aborted,
//      traffic back on v2; it measures the time from v3's first bad response to the canary's
//      weight 0 in HAProxy.
//   4. with --judge, releases v4 (10% errors too) analysed by the canary judge
//      (examples/demo/judge-template.yaml) instead of the threshold template -> expected
//      Aborted; the table shows both bad releases side by side.
// It ends with a table per release. Without --once it keeps the stack up until Ctrl-C; with
// --once it exits 0 only if every outcome was the expected one. --bad-only --runs N repeats
// the bad release N times (the rollback-time benchmark, bench/demo).
//
// ramp serve also serves its HTTP API and dashboard (--listen) with three generated tokens
// (admin, operator, viewer) in DATA/tokens; DATA/dashboard.json says where and with which
// tokens, for people and for the dashboard's browser test. --pause-step gives v2 an indefinite
// pause after its 25% analysis, so that someone promotes it (dashboard or `ramp promote`).
//
// ramp serve signs every decision into its audit log with a key made by `ramp audit keygen`
// (DATA/audit.key), each naming the environment "demo"; after the stack stops, the demo ends by
// printing `ramp audit verify`'s result over the daemon's data directory (docs/audit.md), and exits
// non-zero if it fails.
//
// With --gitops the releases come from Git instead (docs/gitops.md): the runner makes a
// repository DATA/gitops/deploy.git (bare, file://) and an Argo CD Application `demo` reading
// its directory demo/ with auto-sync, and each release is a commit there (the templates, then
// the Rollout with the release's image) pushed and refreshed; ramp serve's GitOps agent syncs
// it. v3's rollback is then done the GitOps way: after ramp aborts v3, the runner asks for
// `ramp app rollback demo` (POST …/applications/demo/rollback as the operator), the agent pushes
// a revert commit to the branch (the demo prints it), syncs it, and the Rollout is back on v2
// with Git saying so.
//
// Specs are written into the daemon's SQLite store from this process (the controller picks
// external writes up within 250 ms), as a second writer would; the runner keeps the controller's
// status when it replaces a spec, as `ramp apply` does.

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "ramp/clock.h"
#include "rollout/engine.h"
#include "runner/load.h"
#include "runner/stack.h"
#include "spec/codec.h"
#include "spec/values.h"
#include "store/sqlite/sqlite_state_store.h"

#ifndef RAMP_DEMO_MANIFESTS
#define RAMP_DEMO_MANIFESTS "examples/demo"
#endif

namespace ramp::demo {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

std::atomic<bool> gInterrupted{false};
void onSignal(int) { gInterrupted = true; }

struct Options {
  bool once = false;
  bool fast = false;
  bool badOnly = false;
  int runs = 10;
  bool keep = false;
  std::string dataDir;
  std::string jsonFile;
  std::string rampBinary;
  std::string serviceDir;
  std::string manifests = RAMP_DEMO_MANIFESTS;
  double rate = 200;
  int threads = 4;
  bool killPrometheus = false;
  bool judge = false;
  bool pauseStep = false;
  bool gitops = false;
  std::string listen = "127.0.0.1:0";
};

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

std::string fmt1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// One release of the scenario and what happened to it.
struct Release {
  std::string tag;  // image tag; the service answers with it
  double errorRate = 0;
  std::string expected;          // Deployed, Promoted, Aborted
  std::string analysis = "slo";  // the steps' template: slo (thresholds) or judge
  std::string stableTag;         // the version it replaces (judge: the comparison's stable)
};

struct ReleaseResult {
  Release release;
  std::string outcome;     // Deployed, Promoted, Aborted, Timeout, Interrupted, Error
  std::string hash;        // the release's pod template hash
  std::string startedAt;   // RFC 3339, when the release was written
  std::string stableHash;  // status.stableRS when it settled
  double durationS = 0;
  int64_t requests = 0;
  int64_t canaryRequests = 0;  // answers from this release's version while it was the canary
  int64_t errors = 0;          // user-visible errors during the release
  std::optional<double> firstBadToWeight0S;
  std::optional<double> firstBadToLastCanaryS;
  std::string verdict;  // the last step analysis's message (which metric failed, and why)
  std::string note;
};

class Demo {
 public:
  explicit Demo(Options options) : o_(std::move(options)) {}
  ~Demo() { shutdown(); }

  Status setUp();
  Status applyTemplate();
  ReleaseResult release(const Release& r);
  void startLoad();
  void waitForCtrlC();
  void shutdown();
  // Runs `ramp audit verify` over the stopped daemon's data directory with the demo's public
  // key, printing its result. Returns its exit code.
  int verifyAudit() const;
  // Prints `ramp audit show` of the decisions that aborted a release (its analysis verdicts and
  // its abort, since `since`) from the stopped daemon's data directory. Returns 0 when the
  // command succeeded and showed an abort.
  int showAbortEvidence(const std::string& since) const;
  bool tempData() const { return tempData_; }
  const std::string& data() const { return data_; }
  LoadGenerator* load() { return load_.get(); }
  // ramp serve's /metrics page, read with the viewer token.
  Result<std::string> metricsPage() const;
  // --gitops, after v3 was aborted: the rollback by a revert commit, printed; waits until the
  // Rollout is Healthy on `stableHash` (v2's template). Returns the commit's short id and subject.
  Result<std::string> rollbackByRevert(const std::string& stableHash, const std::string& why);
  bool gitops() const { return o_.gitops; }

 private:
  Status startHaproxy();
  Status startPrometheus();
  Status startServe();
  Status writeTokens();
  Status applyManifest(const std::string& file, const std::function<void(Json&)>& edit);
  Result<std::string> rolloutJson(const Release& r);
  Status put(const std::string& json);
  // --gitops: the repository and the Application; each publish() writes a file of the
  // repository's demo/ directory (on top of any revert commit the agent pushed), commit()
  // commits, pushes and refreshes the Application (applies it, the first time).
  Status setUpGitops();
  Status publish(const std::string& name, const std::string& json);
  Status commit(const std::string& message);
  Result<std::string> apiPost(const std::string& path, const std::string& body,
                              const std::string& role);

  std::optional<spec::Rollout> readRollout();
  // The summed weight of `hash`'s servers in rotation in HAProxy, and of all servers; nullopt
  // when HAProxy does not answer.
  std::optional<std::pair<int, int>> haproxyWeights(const std::string& hash);
  void progress(const std::string& line);
  void stopReplicas();

  Options o_;
  std::string data_;
  bool tempData_ = false;
  std::string rampData_, socket_;
  std::string gitDir_;       // --gitops: DATA/gitops (deploy.git, work/)
  bool appApplied_ = false;  // --gitops: the Application is stored (after the first commit)
  int frontPort_ = 0, statsPort_ = 0, promPort_ = 0;
  std::map<std::string, std::string> tokens_;  // role -> token
  std::string apiUrl_;
  std::unique_ptr<ChildProcess> haproxy_, prometheus_, serve_;
  std::unique_ptr<store::SqliteStateStore> store_;
  std::unique_ptr<LoadGenerator> load_;
  Steady::time_point started_ = Steady::now();
  bool shutDown_ = false;
};

// Runs `git ARGS…` (each argument single-quoted; the demo's own paths hold no quote). Its
// output, trailing newline removed, or an error with the command and its output.
Result<std::string> git(const std::vector<std::string>& args) {
  std::string cmd = "git";
  for (const std::string& a : args) cmd += " '" + a + "'";
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return makeError(ErrorCode::kUnavailable, "cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kUnavailable, cmd + " failed: " + out);
  }
  return out;
}

void Demo::progress(const std::string& line) {
  std::printf("[%6.1fs] %s\n", seconds(Steady::now() - started_), line.c_str());
  std::fflush(stdout);
}

Status Demo::setUp() {
  if (o_.dataDir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ramp-demo-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return makeError(ErrorCode::kUnavailable, "cannot create a directory like " + pattern);
    }
    data_ = pattern;
    tempData_ = true;
  } else {
    std::error_code ec;
    fs::create_directories(o_.dataDir, ec);
    data_ = fs::absolute(o_.dataDir).string();
  }
  rampData_ = data_ + "/ramp";
  socket_ = data_ + "/haproxy.sock";
  fs::create_directories(data_ + "/prom/data");
  fs::create_directories(rampData_);
  if (o_.rampBinary.empty() || o_.serviceDir.empty()) {
    const fs::path self = fs::read_symlink("/proc/self/exe").parent_path();  // <build>/demo/runner
    if (o_.rampBinary.empty()) o_.rampBinary = (self.parent_path().parent_path() / "ramp").string();
    if (o_.serviceDir.empty()) o_.serviceDir = self.parent_path().string();
  }
  if (::access(o_.rampBinary.c_str(), X_OK) != 0) {
    return makeError(ErrorCode::kNotFound, o_.rampBinary + " is not an executable (--ramp)");
  }
  if (::access((o_.serviceDir + "/ramp-demo-service").c_str(), X_OK) != 0) {
    return makeError(ErrorCode::kNotFound,
                     o_.serviceDir + "/ramp-demo-service is not an executable (--service-dir)");
  }
  progress("data directory " + data_);
  if (auto s = startHaproxy(); !s) return s;
  if (auto s = startPrometheus(); !s) return s;
  if (auto s = startServe(); !s) return s;
  return o_.gitops ? setUpGitops() : Status{};
}

Status Demo::startHaproxy() {
  frontPort_ = pickFreePort();
  statsPort_ = pickFreePort();
  std::ostringstream cfg;
  cfg << "global\n"
      << "    stats socket " << socket_ << " mode 600 level admin\n"
      << "    stats timeout 30s\n"
      << "defaults\n"
      << "    mode http\n"
      << "    timeout connect 2s\n"
      << "    timeout client 10s\n"
      << "    timeout server 10s\n"
      << "    option http-server-close\n"
      << "frontend fe_demo\n"
      << "    bind 127.0.0.1:" << frontPort_ << "\n"
      << "    default_backend be_demo\n"
      << "frontend fe_stats\n"
      << "    bind 127.0.0.1:" << statsPort_ << "\n"
      << "    http-request use-service prometheus-exporter if { path /metrics }\n"
      << "# ramp adds one server per ready replica (runtime API); it starts empty.\n"
      << "backend be_demo\n"
      << "    balance roundrobin\n";
  const std::string path = data_ + "/haproxy.cfg";
  if (auto s = writeFile(path, cfg.str()); !s) return s;
  auto p = ChildProcess::start({"haproxy", "-db", "-f", path}, {}, data_ + "/haproxy.log");
  if (!p) return std::unexpected(p.error());
  haproxy_ = std::move(*p);
  if (!waitFor(
          [&] { return haproxy_->running() && haproxyCommand(socket_, "show info").has_value(); },
          10s)) {
    return makeError(ErrorCode::kUnavailable,
                     "HAProxy did not start; see " + data_ + "/haproxy.log");
  }
  progress("HAProxy pid " + std::to_string(haproxy_->pid()) + ": traffic on http://127.0.0.1:" +
           std::to_string(frontPort_) + ", runtime API " + socket_);
  return {};
}

Status Demo::startPrometheus() {
  promPort_ = pickFreePort();
  const std::string fileSd = data_ + "/prom/file_sd.json";
  if (auto s = writeFile(fileSd, "[]\n"); !s) return s;
  std::ostringstream cfg;
  cfg << "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
      << "scrape_configs:\n"
      << "  - job_name: haproxy\n"
      << "    params: {scope: [server]}\n"
      << "    static_configs: [{targets: ['127.0.0.1:" << statsPort_ << "']}]\n"
      << "  - job_name: demo\n"
      << "    file_sd_configs: [{files: ['" << fileSd << "'], refresh_interval: 1s}]\n";
  const std::string path = data_ + "/prom/prometheus.yml";
  if (auto s = writeFile(path, cfg.str()); !s) return s;
  auto p = ChildProcess::start(
      {"prometheus", "--config.file=" + path, "--storage.tsdb.path=" + data_ + "/prom/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(promPort_),
       "--storage.tsdb.retention.time=1h", "--log.level=warn"},
      {}, data_ + "/prom/prometheus.log");
  if (!p) return std::unexpected(p.error());
  prometheus_ = std::move(*p);
  const std::string base = "http://127.0.0.1:" + std::to_string(promPort_);
  // The first scrape lands ~5 s after start: wait until HAProxy's target is up.
  const auto upQuery = base + "/api/v1/query?query=up%7Bjob%3D%22haproxy%22%7D";
  const bool up = waitFor(
      [&] {
        if (!prometheus_->running()) return false;
        auto r = httpGet(upQuery);
        if (!r || r->status != 200) return false;
        try {
          auto j = Json::parse(r->body);
          for (const auto& s : j["data"]["result"]) {
            if (s["value"][1] == "1") return true;
          }
        } catch (const std::exception&) {
        }
        return false;
      },
      30s, 100ms);
  if (!up) {
    return makeError(
        ErrorCode::kUnavailable,
        "Prometheus did not scrape HAProxy within 30 s; see " + data_ + "/prom/prometheus.log");
  }
  progress("Prometheus pid " + std::to_string(prometheus_->pid()) + " on " + base +
           " scrapes HAProxy and the replicas (file_sd) every 1 s");
  return {};
}

// Three tokens, one per role, named after the role: DATA/tokens (mode 600), the file
// `ramp serve --tokens` reads.
Result<std::string> Demo::metricsPage() const {
  http::Request req;
  req.url = apiUrl_ + "/metrics";
  auto viewer = tokens_.find("viewer");
  if (viewer != tokens_.end())
    req.headers.emplace_back("Authorization", "Bearer " + viewer->second);
  auto reply = http::send(req);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->ok()) {
    return makeError(ErrorCode::kUnavailable,
                     "GET /metrics answered " + std::to_string(reply->status));
  }
  return std::move(reply->body);
}

Status Demo::writeTokens() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::string text = "# TOKEN,NAME,ROLE — generated by ramp-demo for this run\n";
  for (const char* role : {"admin", "operator", "viewer"}) {
    unsigned char bytes[16];
    if (!random.read(reinterpret_cast<char*>(bytes), sizeof bytes)) {
      return makeError(ErrorCode::kUnavailable, "cannot read /dev/urandom");
    }
    std::string token;
    for (unsigned char b : bytes) {
      static const char* kHex = "0123456789abcdef";
      token += kHex[b >> 4];
      token += kHex[b & 15];
    }
    tokens_[role] = token;
    text += token + "," + role + "," + role + "\n";
  }
  const std::string path = data_ + "/tokens";
  if (auto s = writeFile(path, text); !s) return s;
  ::chmod(path.c_str(), 0600);
  return {};
}

Status Demo::startServe() {
  if (auto s = writeTokens(); !s) return s;
  const std::string key = data_ + "/audit.key";
  const std::string keygen = o_.rampBinary + " audit keygen --out '" + key + "' >/dev/null";
  if (!fs::exists(key) && std::system(keygen.c_str()) != 0) {
    return makeError(ErrorCode::kUnavailable, "ramp audit keygen --out " + key + " failed");
  }
  const char* path = std::getenv("PATH");
  std::map<std::string, std::string> env = {
      {"PATH", o_.serviceDir + ":" + (path ? path : "/usr/bin:/bin")},
      {"RAMP_PROCESS_FILE_SD", data_ + "/prom/file_sd.json"}};
  const std::string log = data_ + "/serve.log";
  auto p = ChildProcess::start(
      {o_.rampBinary, "serve", "--data", rampData_, "--platform", "platform.process",
       "--prometheus", "http://127.0.0.1:" + std::to_string(promPort_), "--progress-poll-ms", "250",
       "--listen", o_.listen, "--tokens", data_ + "/tokens", "--audit-key", key, "--environment",
       "demo"},
      env, log);
  if (!p) return std::unexpected(p.error());
  serve_ = std::move(*p);
  const bool ready = waitFor(
      [&] {
        auto text = readFile(log);
        return serve_->running() && text && text->find("ramp serve: ready") != std::string::npos;
      },
      20s);
  if (!ready) return makeError(ErrorCode::kUnavailable, "ramp serve did not start; see " + log);
  // "api listening on http://127.0.0.1:PORT (…)" names the port picked for --listen …:0.
  auto text = readFile(log);
  const std::string marker = "api listening on ";
  const size_t at = text ? text->find(marker) : std::string::npos;
  if (at == std::string::npos) {
    return makeError(ErrorCode::kUnavailable,
                     "ramp serve did not say where its API listens; see " + log);
  }
  const size_t from = at + marker.size();
  apiUrl_ = text->substr(from, text->find_first_of(" \n", from) - from);
  Json info = {{"url", apiUrl_}, {"tokensFile", data_ + "/tokens"}, {"tokens", tokens_}};
  if (auto s = writeFile(data_ + "/dashboard.json", info.dump(2) + "\n"); !s) return s;
  ::chmod((data_ + "/dashboard.json").c_str(), 0600);
  auto store = store::SqliteStateStore::open(rampData_ + "/ramp.db");
  if (!store) return std::unexpected(store.error());
  store_ = std::move(*store);
  progress("ramp serve pid " + std::to_string(serve_->pid()) + " (platform.process, log " + log +
           ")");
  progress("dashboard and API: " + apiUrl_ + "/ (tokens for admin, operator and viewer in " +
           data_ + "/tokens)");
  return {};
}

Status Demo::setUpGitops() {
  gitDir_ = data_ + "/gitops";
  std::error_code ec;
  fs::remove_all(gitDir_, ec);  // ours: a --data directory used again starts a new history
  const std::string bare = gitDir_ + "/deploy.git", work = gitDir_ + "/work";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"init", "-q", "--bare", "-b", "main", bare},
                                             {"init", "-q", "-b", "main", work},
                                             {"-C", work, "remote", "add", "origin", bare}}) {
    if (auto r = git(args); !r) return std::unexpected(r.error());
  }
  fs::create_directories(work + "/demo", ec);
  progress("gitops: releases come from Git: " + bare + " (work tree " + work +
           "); Application argocd/demo reads its demo/ directory with auto-sync");
  return {};
}

Status Demo::publish(const std::string& name, const std::string& json) {
  // The agent may have pushed a revert commit since the last release: build on it.
  if (appApplied_) {
    if (auto r = git({"-C", gitDir_ + "/work", "pull", "-q", "--ff-only", "origin", "main"}); !r) {
      return std::unexpected(r.error());
    }
  }
  return writeFile(gitDir_ + "/work/demo/" + name, Json::parse(json).dump(2) + "\n");
}

Status Demo::commit(const std::string& message) {
  const std::string work = gitDir_ + "/work";
  const std::vector<std::string> as = {
      "-C", work, "-c", "user.name=ramp-demo", "-c", "user.email=ramp-demo@localhost"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), as.begin(), as.end());
    return git(args);
  };
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"add", "-A"}, {"commit", "-q", "-m", message}, {"push", "-q", "origin", "main"}}) {
    if (auto r = with(args); !r) return std::unexpected(r.error());
  }
  auto sha = with({"rev-parse", "--short", "HEAD"});
  if (!sha) return std::unexpected(sha.error());
  progress("gitops: commit " + *sha + " \"" + message + "\" pushed");
  if (appApplied_) {
    // `ramp app refresh demo`: the agent reads the repository now instead of at its next poll.
    auto r = apiPost("/api/v1/namespaces/argocd/applications/demo/refresh", "{}", "operator");
    return r ? Status{} : Status{std::unexpected(r.error())};
  }
  const Json app = {{"apiVersion", "argoproj.io/v1alpha1"},
                    {"kind", "Application"},
                    {"metadata", {{"name", "demo"}, {"namespace", "argocd"}}},
                    {"spec",
                     {{"source",
                       {{"repoURL", "file://" + gitDir_ + "/deploy.git"},
                        {"path", "demo"},
                        {"targetRevision", "main"}}},
                      {"destination", {{"namespace", "default"}}},
                      {"syncPolicy", {{"automated", Json::object()}}}}}};
  if (auto s = put(app.dump()); !s) return s;
  appApplied_ = true;
  return {};
}

Result<std::string> Demo::apiPost(const std::string& path, const std::string& body,
                                  const std::string& role) {
  http::Request req;
  req.method = "POST";
  req.url = apiUrl_ + path;
  req.body = body;
  req.headers.emplace_back("Authorization", "Bearer " + tokens_[role]);
  req.headers.emplace_back("Content-Type", "application/json");
  auto reply = http::send(req);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->ok()) {
    return makeError(
        ErrorCode::kUnavailable,
        "POST " + path + " answered " + std::to_string(reply->status) + ": " + reply->body);
  }
  return std::move(reply->body);
}

Result<std::string> Demo::rollbackByRevert(const std::string& stableHash, const std::string& why) {
  const std::string bare = gitDir_ + "/deploy.git";
  auto before = git({"--git-dir", bare, "rev-parse", "main"});
  if (!before) return std::unexpected(before.error());
  const Json body = {{"reason", why}};
  auto reply =
      apiPost("/api/v1/namespaces/argocd/applications/demo/rollback", body.dump(), "operator");
  if (!reply) return std::unexpected(reply.error());
  progress("gitops: ramp app rollback demo --reason '" + why +
           "' (as operator): " + Json::parse(*reply, nullptr, false).value("message", *reply));
  // The agent pushes the revert commit, then syncs it.
  std::string head;
  waitFor(
      [&] {
        auto h = git({"--git-dir", bare, "rev-parse", "main"});
        if (h && *h != *before) head = *h;
        return !head.empty() || gInterrupted;
      },
      60s);
  if (head.empty()) {
    return makeError(ErrorCode::kUnavailable,
                     "no revert commit on main after 60 s; see " + data_ + "/serve.log");
  }
  auto shown = git({"--git-dir", bare, "log", "-1", "--format=%h by %an: %s%n%n%b", "main"});
  if (!shown) return std::unexpected(shown.error());
  std::string indented;
  for (size_t at = 0; at < shown->size();) {
    const size_t nl = shown->find('\n', at);
    indented += "    " + shown->substr(at, nl == std::string::npos ? nl : nl - at) + "\n";
    at = nl == std::string::npos ? shown->size() : nl + 1;
  }
  progress("gitops: the revert commit on " + bare + " main:\n" + indented);
  const bool back = waitFor(
      [&] {
        auto r = readRollout();
        return gInterrupted ||
               (r && r->spec.template_ &&
                rollout::podTemplateHash(*r->spec.template_, std::nullopt) == stableHash &&
                r->status.phase == spec::RolloutPhase::kHealthy &&
                r->status.stableRS == stableHash);
      },
      60s);
  if (!back || gInterrupted) {
    return makeError(ErrorCode::kUnavailable,
                     "the Rollout did not come back to " + stableHash + " after the revert");
  }
  progress(
      "gitops: v3 rolled back by that commit: the Rollout runs v2's template again "
      "(Healthy), and Git says so");
  return shown->substr(0, shown->find('\n'));
}

// Reads one manifest of examples/demo as JSON (decoded and re-encoded by ramp's codec).
Result<Json> readManifest(const std::string& file) {
  auto text = readFile(file);
  if (!text) return std::unexpected(text.error());
  auto parsed = spec::parseDocuments(*text, file);
  if (spec::hasErrors(parsed.diagnostics) || parsed.documents.size() != 1) {
    std::string msg = file + ": expected one valid document";
    for (const auto& d : parsed.diagnostics) msg += "\n  " + spec::formatDiagnostic(d);
    return makeError(ErrorCode::kInvalidArgument, msg);
  }
  return Json::parse(spec::toJson(parsed.documents[0].object));
}

Status Demo::put(const std::string& json) {
  auto decoded = spec::objectFromJson(json);
  if (!decoded.value) {
    return makeError(ErrorCode::kInvalidArgument,
                     decoded.diagnostics.empty() ? "invalid object"
                                                 : spec::formatDiagnostic(decoded.diagnostics[0]));
  }
  const auto& meta = spec::metadataOf(*decoded.value);
  store::ObjectKey key{spec::kindName(spec::kindOf(*decoded.value)), meta.namespace_, meta.name};
  // What `ramp apply` does: keep the status the controller wrote, bump the generation.
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto existing = store_->get(key);
    std::string text = spec::toJson(*decoded.value);
    int64_t version = 0;
    if (auto* r = std::get_if<spec::Rollout>(&*decoded.value)) {
      r->metadata.generation = 1;
      if (existing) {
        auto old = spec::rolloutFromJson(existing->json).value;
        if (old) {
          r->status = old->status;
          r->metadata.generation = old->metadata.generation + 1;
        }
      }
      text = spec::toJson(*r);
    }
    if (existing) version = existing->version;
    auto put = store_->put(key, text, version);
    if (put) return {};
    if (put.error().code != ErrorCode::kConflict) return std::unexpected(put.error());
  }
  return makeError(ErrorCode::kConflict, "could not write " + key.toString());
}

Status Demo::applyManifest(const std::string& file, const std::function<void(Json&)>& edit) {
  auto t = readManifest(o_.manifests + "/" + file);
  if (!t) return std::unexpected(t.error());
  edit(*t);
  if (o_.gitops) return publish(file.substr(0, file.rfind('.')) + ".json", t->dump());
  return put(t->dump());
}

Status Demo::applyTemplate() {
  auto slo = applyManifest("analysis-template.yaml", [&](Json& t) {
    if (!o_.fast) return;
    // Short intervals for CI: fewer measurements per step.
    for (auto& m : t["spec"]["metrics"]) {
      if (m["name"] == "success-rate") m["count"] = 4;
      if (m["name"] == "latency-p99") m["count"] = 2;
    }
  });
  if (slo && o_.judge) slo = applyManifest("judge-template.yaml", [](Json&) {});
  if (!slo || !o_.gitops) return slo;
  return commit("analysis templates");
}

Result<std::string> Demo::rolloutJson(const Release& r) {
  auto j = readManifest(o_.manifests + "/rollout.yaml");
  if (!j) return std::unexpected(j.error());
  auto& c = (*j)["spec"]["template"]["spec"]["containers"][0];
  std::string image = c["image"];
  c["image"] = image.substr(0, image.rfind(':')) + ":" + r.tag;
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", r.errorRate);
  for (auto& e : c["env"]) {
    if (e["name"] == "ERROR_RATE") e["value"] = rate;
  }
  auto& canary = (*j)["spec"]["strategy"]["canary"];
  canary["trafficRouting"]["plugins"]["ramp/haproxy"]["runtimeApi"] = "unix:" + socket_;
  Json steps = Json::array();
  int weight = 0, analyses = 0;
  for (const Json& step : canary["steps"]) {
    if (step.contains("setWeight")) weight = step["setWeight"].get<int>();
    if (step.contains("analysis") && r.analysis == "judge") {
      // The judge compares this release's servers with stable's, at this step's weight.
      steps.push_back(Json::parse(R"({"analysis":{"templates":[{"templateName":"canary-judge"}],
          "args":[{"name":"canary-hash","valueFrom":{"podTemplateHashValue":"Latest"}},
                  {"name":"stable-hash","valueFrom":{"podTemplateHashValue":"Stable"}}]}})"));
      steps.back()["analysis"]["args"].push_back(
          {{"name", "canary-weight"}, {"value", std::to_string(weight)}});
    } else {
      steps.push_back(step);
    }
    if (step.contains("analysis") && ++analyses == 2 && o_.pauseStep && r.tag == "v2") {
      steps.push_back(Json::parse(R"({"pause":{}})"));  // indefinite: someone must promote
    }
  }
  canary["steps"] = steps;
  return j->dump();
}

std::optional<spec::Rollout> Demo::readRollout() {
  auto got = store_->get({"Rollout", "default", "demo"});
  if (!got) return std::nullopt;
  return spec::rolloutFromJson(got->json).value;
}

std::optional<std::pair<int, int>> Demo::haproxyWeights(const std::string& hash) {
  auto reply = haproxyCommand(socket_, "show servers state be_demo");
  if (!reply) return std::nullopt;
  int mine = 0, all = 0;
  for (const auto& s : parseServersState(*reply)) {
    if (s.adminState != 0 || s.opState != 2) continue;
    all += s.weight;
    if (s.name.find("-" + hash + "-") != std::string::npos) mine += s.weight;
  }
  return std::make_pair(mine, all);
}

void Demo::startLoad() {
  load_ = std::make_unique<LoadGenerator>("http://127.0.0.1:" + std::to_string(frontPort_) + "/",
                                          o_.rate, o_.threads);
  load_->start();
  progress("load: " + fmt1(o_.rate) + " requests/s through HAProxy (" + std::to_string(o_.threads) +
           " keep-alive clients)");
}

std::string describe(const spec::Rollout& r) {
  std::string s = spec::rolloutPhaseName(r.status.phase);
  if (s.empty()) s = "Pending";
  if (r.status.abort) s += " (aborted)";
  const int steps =
      static_cast<int>(r.spec.strategy.canary ? r.spec.strategy.canary->steps.size() : 0);
  if (r.status.currentStepIndex) {
    s += "  step " + std::to_string(*r.status.currentStepIndex) + "/" + std::to_string(steps);
  }
  if (r.status.canary.weights) {
    s += "  canary weight " + std::to_string(r.status.canary.weights->canary.weight) + "%";
  }
  if (r.status.canary.currentStepAnalysisRunStatus) {
    const auto& a = *r.status.canary.currentStepAnalysisRunStatus;
    s += "  analysis " + std::string(spec::analysisPhaseName(a.status));
    if (!a.message.empty()) s += " (" + a.message + ")";
  }
  return s;
}

ReleaseResult Demo::release(const Release& rel) {
  ReleaseResult res;
  res.release = rel;
  auto json = rolloutJson(rel);
  if (!json) {
    res.outcome = "Error";
    res.note = json.error().message;
    return res;
  }
  auto decoded = spec::rolloutFromJson(*json);
  const std::string hash = rollout::podTemplateHash(*decoded.value->spec.template_, std::nullopt);
  res.hash = hash;
  const LoadSnapshot before = load_ ? load_->snapshot() : LoadSnapshot{};
  const auto t0 = Steady::now();
  res.startedAt = spec::formatRfc3339(realClock().now());
  progress("release " + rel.tag +
           (rel.errorRate > 0 ? " (" + fmt1(rel.errorRate * 100) + "% errors)" : std::string()) +
           ": pod template hash " + hash + ", expecting " + rel.expected);
  const std::string image = decoded.value->spec.template_->spec.containers.empty()
                                ? ""
                                : decoded.value->spec.template_->spec.containers[0].image;
  Status written = o_.gitops ? publish("rollout.json", *json) : put(*json);
  if (written && o_.gitops) written = commit("release " + rel.tag + ": " + image);
  if (auto& s = written; !s) {
    res.outcome = "Error";
    res.note = s.error().message;
    return res;
  }
  const auto limit = o_.fast ? 150s : 300s;
  std::string last;
  auto lastLoadLine = Steady::now();
  std::optional<Steady::time_point> weight0;
  std::optional<Steady::time_point> settledAt;
  bool killedProm = false;
  bool hintedPause = false;
  int64_t generation = 0;
  while (!gInterrupted) {
    const auto now = Steady::now();
    if (now - t0 > limit) {
      res.outcome = "Timeout";
      res.note = "not settled after " + fmt1(seconds(limit)) + " s: " + last;
      break;
    }
    auto r = readRollout();
    // --gitops: the agent applies the commit a moment later; until then the Rollout is the
    // previous release's.
    if (r && o_.gitops &&
        (!r->spec.template_ ||
         rollout::podTemplateHash(*r->spec.template_, std::nullopt) != hash)) {
      r.reset();
    }
    if (r) {
      generation = r->metadata.generation;
      const std::string d = describe(*r);
      if (d != last) {
        progress("  " + rel.tag + "  " + d);
        last = d;
      }
      // Fault injection: Prometheus dies as soon as the first analysis starts.
      if (o_.killPrometheus && !killedProm && r->status.canary.currentStepAnalysisRunStatus &&
          prometheus_) {
        progress("  fault: SIGKILL Prometheus pid " + std::to_string(prometheus_->pid()));
        prometheus_->kill();
        killedProm = true;
      }
      if (!hintedPause && r->status.phase == spec::RolloutPhase::kPaused &&
          !r->status.pauseConditions.empty() && !apiUrl_.empty()) {
        hintedPause = true;
        progress("  " + rel.tag + "  paused: promote it in the dashboard (" + apiUrl_ +
                 "/) or with `ramp promote demo`");
      }
      const bool current = r->status.observedGeneration == std::to_string(generation);
      if (const auto& a = r->status.canary.currentStepAnalysisRunStatus;
          current && a && !a->message.empty()) {
        res.verdict = a->message;
      }
      if (current && !settledAt) {
        res.stableHash = r->status.stableRS;
        if (r->status.abort && r->status.phase == spec::RolloutPhase::kDegraded) {
          res.outcome = "Aborted";
          settledAt = now;
        } else if (r->status.phase == spec::RolloutPhase::kHealthy && r->status.stableRS == hash) {
          res.outcome = rel.expected == "Promoted" ? "Promoted" : "Deployed";
          settledAt = now;
        }
      }
    }
    // The canary's weight in HAProxy, after its first bad answer.
    if (load_ && !weight0) {
      const auto snap = load_->snapshot();
      auto v = snap.byVersion.find(rel.tag);
      if (v != snap.byVersion.end() && v->second.firstError) {
        auto w = haproxyWeights(hash);
        if (w && w->first == 0) {
          weight0 = Steady::now();
          progress("  " + rel.tag + "  canary weight 0 in HAProxy, " +
                   fmt1(seconds(*weight0 - *v->second.firstError)) +
                   " s after its first bad answer");
        }
      }
    }
    if (load_ && now - lastLoadLine >= 2s) {
      lastLoadLine = now;
      const auto snap = load_->snapshot();
      std::string line = "  load: " + std::to_string(snap.requests - before.requests) +
                         " requests since " + rel.tag + " began, errors " +
                         std::to_string(snap.errors - before.errors) + "; served by";
      for (const auto& [ver, c] : snap.byVersion) {
        auto b = before.byVersion.find(ver);
        const int64_t n =
            c.ok + c.errors - (b == before.byVersion.end() ? 0 : b->second.ok + b->second.errors);
        if (n > 0)
          line += " " + (ver.empty() ? std::string("haproxy") : ver) + "=" + std::to_string(n);
      }
      progress(line);
    }
    if (settledAt) {
      // An aborted release is done once HAProxy has the canary at weight 0 (or 10 s passed).
      if (res.outcome != "Aborted" || weight0 || !load_ || now - *settledAt > 10s) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  if (gInterrupted && res.outcome.empty()) res.outcome = "Interrupted";
  if (settledAt) res.durationS = seconds(*settledAt - t0);
  if (load_) {
    // Let in-flight requests land before counting.
    std::this_thread::sleep_for(500ms);
    const auto after = load_->snapshot();
    res.requests = after.requests - before.requests;
    res.errors = after.errors - before.errors;
    // A release deployed without steps (v1, or a rollback to it) never has a canary.
    auto a = after.byVersion.find(rel.tag);
    if (a != after.byVersion.end() && rel.expected != "Deployed") {
      auto b = before.byVersion.find(rel.tag);
      res.canaryRequests = a->second.ok + a->second.errors -
                           (b == before.byVersion.end() ? 0 : b->second.ok + b->second.errors);
      if (a->second.firstError) {
        if (weight0) res.firstBadToWeight0S = seconds(*weight0 - *a->second.firstError);
        if (res.outcome == "Aborted" && a->second.lastResponse) {
          res.firstBadToLastCanaryS = seconds(*a->second.lastResponse - *a->second.firstError);
        }
      }
    }
  }
  progress("release " + rel.tag + ": " + res.outcome + " after " + fmt1(res.durationS) + " s" +
           (res.note.empty() ? "" : " — " + res.note));
  return res;
}

void Demo::waitForCtrlC() {
  while (!gInterrupted) std::this_thread::sleep_for(100ms);
}

// Replicas outlive `ramp serve` by design (docs/platforms/process.md); the demo started them
// through the daemon, so it stops them by the pids in their pid files, after checking that each
// pid is still a ramp-demo-service.
void Demo::stopReplicas() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(rampData_ + "/platform.process", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pid") continue;
    auto text = readFile(it->path().string());
    if (!text) continue;
    try {
      const pid_t pid = Json::parse(*text).at("pid").get<pid_t>();
      auto cmd = readFile("/proc/" + std::to_string(pid) + "/cmdline");
      if (cmd && cmd->find("ramp-demo-service") != std::string::npos) pids.push_back(pid);
    } catch (const std::exception&) {
    }
  }
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  waitFor(
      [&] {
        for (pid_t pid : pids) {
          if (::kill(pid, 0) == 0) return false;
        }
        return true;
      },
      3s);
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
}

void Demo::shutdown() {
  if (shutDown_) return;
  shutDown_ = true;
  if (load_) load_->stop();
  store_.reset();
  if (serve_) serve_->stop(10s);
  stopReplicas();
  if (prometheus_) prometheus_->stop();
  if (haproxy_) haproxy_->stop();
}

// Runs `ramp ARGS` (shown as typed), copying its output to stdout. Returns its exit code (-1
// when it could not run) and its output.
std::pair<int, std::string> runRampPrinted(const std::string& rampBinary, const std::string& args) {
  std::printf("\n$ ramp %s\n", args.c_str());
  std::fflush(stdout);
  FILE* p = ::popen((rampBinary + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::fputs(buf, stdout);
    out += buf;
  }
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int Demo::verifyAudit() const {
  return runRampPrinted(o_.rampBinary, "audit verify --data-dir " + rampData_ + " --public-key " +
                                           data_ + "/audit.key.pub")
      .first;
}

int Demo::showAbortEvidence(const std::string& since) const {
  auto [code, out] =
      runRampPrinted(o_.rampBinary, "audit show demo --data-dir " + rampData_ + " --since " +
                                        since + " --action analysis-verdict,abort");
  if (code == 0 && out.find(" abort by ") != std::string::npos) return 0;
  std::fprintf(stderr, "ramp-demo: the audit log shows no abort since %s\n", since.c_str());
  return 1;
}

std::string pad(std::string s, size_t n) {
  if (s.size() < n) s.append(n - s.size(), ' ');
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string analysisName(const Release& r) { return r.analysis == "judge" ? "judge" : "threshold"; }

void printTable(const std::vector<ReleaseResult>& results) {
  std::printf("\n%s\n", (pad("release", 9) + pad("analysis", 10) + pad("expected", 10) +
                         pad("outcome", 12) + pad("duration", 10) + pad("canary served", 15) +
                         pad("errors users saw", 18) + "requests")
                            .c_str());
  for (const auto& r : results) {
    std::printf("%s\n",
                (pad(r.release.tag, 9) +
                 pad(r.release.expected == "Deployed" ? "-" : analysisName(r.release), 10) +
                 pad(r.release.expected, 10) + pad(r.outcome, 12) +
                 pad(fmt1(r.durationS) + " s", 10) + pad(std::to_string(r.canaryRequests), 15) +
                 pad(std::to_string(r.errors), 18) + std::to_string(r.requests))
                    .c_str());
  }
  for (const auto& r : results) {
    if (r.firstBadToWeight0S) {
      std::printf("%s (%s): first bad answer -> canary weight 0 in HAProxy %.2f s",
                  r.release.tag.c_str(), analysisName(r.release).c_str(), *r.firstBadToWeight0S);
      if (r.firstBadToLastCanaryS) {
        std::printf(", -> last answer from the canary %.2f s", *r.firstBadToLastCanaryS);
      }
      std::printf("\n");
    }
  }
}

Json toJson(const ReleaseResult& r) {
  Json j = {{"release", r.release.tag},
            {"expected", r.release.expected},
            {"outcome", r.outcome},
            {"durationS", r.durationS},
            {"requests", r.requests},
            {"canaryRequests", r.canaryRequests},
            {"errors", r.errors},
            {"errorRate", r.release.errorRate},
            {"analysis", analysisName(r.release)},
            {"ok", r.outcome == r.release.expected},
            {"hash", r.hash},
            {"stableHash", r.stableHash}};
  if (r.firstBadToWeight0S) j["firstBadToWeight0S"] = *r.firstBadToWeight0S;
  if (r.firstBadToLastCanaryS) j["firstBadToLastCanaryS"] = *r.firstBadToLastCanaryS;
  if (!r.verdict.empty()) j["verdict"] = r.verdict;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

int run(const Options& o) {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Demo demo(o);
  std::vector<ReleaseResult> results;
  auto fail = [&](const std::string& msg) {
    std::fprintf(stderr, "ramp-demo: %s\n", msg.c_str());
    demo.shutdown();
    return 1;
  };
  if (auto s = demo.setUp(); !s) return fail(s.error().message);
  if (auto s = demo.applyTemplate(); !s) return fail(s.error().message);

  const Release bad{"v3", 0.1, "Aborted", "slo", "v2"};
  std::string gitopsRollback, gitopsRollbackError;  // --gitops: v3's revert commit, or why not
  results.push_back(demo.release({"v1", 0, "Deployed", "slo", ""}));
  if (results.back().outcome == "Deployed" && !gInterrupted) {
    demo.startLoad();
    std::this_thread::sleep_for(1s);
    if (o.killPrometheus) {
      // Without Prometheus every measurement errors: the analysis ends in Error after
      // consecutiveErrorLimit, and a release must never be promoted on missing data.
      results.push_back(demo.release({"v2", 0, "Aborted", "slo", "v1"}));
    } else if (!o.badOnly) {
      results.push_back(demo.release({"v2", 0, "Promoted", "slo", "v1"}));
      if (results.back().outcome == "Promoted" && !gInterrupted) {
        results.push_back(demo.release(bad));
        if (o.gitops && results.back().outcome == "Aborted" && !gInterrupted) {
          ReleaseResult& v3 = results.back();
          const std::string why =
              "v3 aborted by ramp" + (v3.verdict.empty() ? "" : ": " + v3.verdict);
          auto reverted = demo.rollbackByRevert(results[1].hash, why.substr(0, 200));
          if (reverted) {
            gitopsRollback = *reverted;
          } else {
            gitopsRollbackError = reverted.error().message;
            std::fprintf(stderr, "ramp-demo: rollback by revert failed: %s\n",
                         gitopsRollbackError.c_str());
          }
        }
        if (o.judge && results.back().outcome == "Aborted" && !gInterrupted) {
          // The same bad release, analysed by the judge instead of the thresholds.
          results.push_back(demo.release({"v4", 0.1, "Aborted", "judge", "v2"}));
        }
      }
    } else {
      for (int i = 1; i <= o.runs && !gInterrupted; ++i) {
        results.push_back(demo.release(
            {"v3-r" + std::to_string(i), 0.1, "Aborted", o.judge ? "judge" : "slo", "v1"}));
        if (results.back().outcome != "Aborted" || gInterrupted) break;
        // Back to v1 (the stable template: no steps) before the next bad release.
        results.push_back(demo.release({"v1", 0, "Deployed", "slo", ""}));
        if (results.back().outcome != "Deployed") break;
      }
    }
  }

  bool allExpected = !gInterrupted;
  for (const auto& r : results) allExpected = allExpected && r.outcome == r.release.expected;
  if (!o.badOnly) {
    const size_t planned = o.killPrometheus ? 2 : (o.judge ? 4 : 3);
    allExpected = allExpected && results.size() == planned;
  }
  if (o.gitops && !o.badOnly && !o.killPrometheus)
    allExpected = allExpected && !gitopsRollback.empty();
  printTable(results);
  if (!gitopsRollback.empty()) {
    std::printf("v3 rolled back in Git by revert commit %s\n", gitopsRollback.c_str());
  }

  std::vector<double> toWeight0, toLast, failed;
  for (const auto& r : results) {
    if (r.release.errorRate <= 0) continue;
    if (r.firstBadToWeight0S) toWeight0.push_back(*r.firstBadToWeight0S);
    if (r.firstBadToLastCanaryS) toLast.push_back(*r.firstBadToLastCanaryS);
    failed.push_back(static_cast<double>(r.errors));
  }
  if (o.badOnly) {
    std::printf("\nbad releases: %zu (10%% errors, first step 5%%, %.0f requests/s)\n",
                failed.size(), o.rate);
    std::printf("%-44s %8s %8s %8s\n", "", "median", "p95", "max");
    auto row = [](const char* name, const std::vector<double>& v, const char* unit) {
      std::printf("%-44s %7.2f%s %7.2f%s %7.2f%s\n", name, percentile(v, 0.5), unit,
                  percentile(v, 0.95), unit, percentile(v, 1.0), unit);
    };
    row("first bad answer -> canary weight 0 (HAProxy)", toWeight0, "s");
    row("first bad answer -> last canary answer", toLast, "s");
    row("failed user requests per bad release", failed, " ");
  }

  if (!o.jsonFile.empty()) {
    Json j;
    j["ok"] = allExpected;
    j["rate"] = o.rate;
    j["fast"] = o.fast;
    j["releases"] = Json::array();
    for (const auto& r : results) j["releases"].push_back(toJson(r));
    // The page a Prometheus would scrape from ramp serve after the releases (tests check it
    // with promtool).
    if (auto page = demo.metricsPage()) {
      j["metricsPage"] = *page;
    } else {
      j["metricsPageError"] = page.error().message;
    }
    if (o.gitops) {
      j["gitops"] = {{"rollbackCommit", gitopsRollback}};
      if (!gitopsRollbackError.empty()) j["gitops"]["error"] = gitopsRollbackError;
    }
    if (!toWeight0.empty()) {
      j["firstBadToWeight0S"] = {{"median", percentile(toWeight0, 0.5)},
                                 {"p95", percentile(toWeight0, 0.95)}};
    }
    std::ofstream(o.jsonFile) << j.dump(2) << "\n";
  }
  std::printf("\n%s\n", allExpected ? "every outcome was the expected one"
                                    : "NOT every outcome was the expected one");
  if (!o.once && !gInterrupted) {
    demo.load()->stop();
    std::printf("The stack stays up until Ctrl-C: HAProxy, Prometheus and ramp serve (data %s).\n",
                demo.data().c_str());
    std::fflush(stdout);
    demo.waitForCtrlC();
  }
  demo.shutdown();
  // The last word: every decision of the run, signed and checked (docs/audit.md).
  if (demo.verifyAudit() != 0) allExpected = false;
  // ... and the evidence an auditor asks for about the last bad release's abort.
  for (auto r = results.rbegin(); r != results.rend(); ++r) {
    if (r->release.errorRate <= 0 || r->outcome != "Aborted") continue;
    if (demo.showAbortEvidence(r->startedAt) != 0) allExpected = false;
    break;
  }
  if (demo.tempData() && !o.keep && allExpected) {
    std::error_code ec;
    fs::remove_all(demo.data(), ec);
  } else {
    std::printf("data kept in %s (logs: haproxy.log, prom/, serve.log, ramp/platform.process/)\n",
                demo.data().c_str());
  }
  return allExpected ? 0 : 1;
}

}  // namespace
}  // namespace ramp::demo

int main(int argc, char** argv) {
  ramp::demo::Options o;
  CLI::App app{"ramp-demo: a release through HAProxy with Prometheus analysis (make demo)"};
  app.add_flag("--once", o.once, "Exit after the table: 0 only if every outcome was expected");
  app.add_flag("--fast", o.fast, "Fewer measurements per analysis step (CI)");
  app.add_flag("--bad-only", o.badOnly,
               "Benchmark: repeat the bad release --runs times, rolling back to v1 in between");
  app.add_option("--runs", o.runs, "Bad releases with --bad-only")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--data", o.dataDir, "Working directory (default: a new temporary directory)");
  app.add_flag("--keep", o.keep, "Keep the temporary directory");
  app.add_option("--json", o.jsonFile, "Write a machine-readable summary here");
  app.add_option("--ramp", o.rampBinary, "The ramp binary (default: next to the build's demo/)");
  app.add_option("--service-dir", o.serviceDir, "Directory holding ramp-demo-service");
  app.add_option("--manifests", o.manifests, "Directory of rollout.yaml and analysis-template.yaml")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Load in requests per second")->capture_default_str();
  app.add_option("--clients", o.threads, "Load client threads")->capture_default_str();
  app.add_flag("--judge", o.judge,
               "Also release v4 (10% errors) analysed by the canary judge instead of the "
               "thresholds, and compare both bad releases in the table (with --bad-only: every "
               "bad release uses the judge)");
  app.add_flag("--pause-step", o.pauseStep,
               "Give v2 an indefinite pause after its 25% analysis: promote it from the "
               "dashboard or with `ramp promote demo`");
  app.add_flag("--gitops", o.gitops,
               "Release from a local Git repository (DATA/gitops/deploy.git) through ramp's "
               "GitOps agent: each release is a commit, and v3's rollback is a revert commit "
               "pushed by `ramp app rollback demo` (docs/gitops.md)");
  app.add_option("--listen", o.listen, "Address of ramp serve's API and dashboard")
      ->capture_default_str();
  app.add_flag("--kill-prometheus", o.killPrometheus,
               "Fault: SIGKILL Prometheus when v2's first analysis starts; expects v2 Aborted");
  CLI11_PARSE(app, argc, argv);
  if (o.badOnly) o.once = true;
  return ramp::demo::run(o);
}
