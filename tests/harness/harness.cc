#include "harness/harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "harness/promtool.h"

extern char** environ;

namespace ramp::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

// The environment wins (a test may point elsewhere); else the directories of this build.
std::string sourceDir() {
  std::string dir = envOr("RAMP_SOURCE_DIR");
  return dir.empty() ? RAMP_HARNESS_SOURCE_DIR : dir;
}
std::string binaryDir() {
  std::string dir = envOr("RAMP_BINARY_DIR");
  return dir.empty() ? RAMP_HARNESS_BINARY_DIR : dir;
}

namespace {

// True when a listening socket could bind 127.0.0.1:`port` just now.
bool portBindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// The lowest port of the kernel's ephemeral range (net.ipv4.ip_local_port_range).
int ephemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 11024) return low;
  return 32768;
}

}  // namespace

int pickFreePort() {
  // Below the ephemeral range: a port there is never taken by the source port of an outgoing
  // connection (or by another process's bind to port 0) between this call and the server's
  // bind, which a port the kernel had handed out as ephemeral was (Prometheus failed once with
  // "address already in use"). Random, so that concurrent test processes rarely meet, and
  // never the same twice in one process.
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 random{std::random_device{}()};
  std::lock_guard lock(mu);
  const int high = ephemeralLow() - 1;
  std::uniform_int_distribution<int> pick(high - 10000, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (given.contains(port) || !portBindable(port)) continue;
    given.insert(port);
    return port;
  }
  return -1;
}

TempDir::TempDir(const std::string& prefix) {
  std::string base = envOr("TMPDIR");
  if (base.empty()) base = "/tmp";
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::unique_ptr<Process>> Process::start(const ProcessOptions& options) {
  if (options.argv.empty()) return makeError(ErrorCode::kInvalidArgument, "empty argv");
  std::vector<std::string> envStrings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto name = entry.substr(0, entry.find('='));
    if (!options.env.contains(name)) envStrings.push_back(entry);
  }
  for (const auto& [k, v] : options.env) envStrings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = options.logFile.empty() ? "/dev/null" : options.logFile;
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!options.workingDir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.workingDir.c_str());
  }
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return makeError(ErrorCode::kUnavailable,
                     "cannot start " + options.argv[0] + ": " + std::strerror(rc));
  }
  return std::unique_ptr<Process>(new Process(pid, options.logFile));
}

Process::~Process() { stop(); }

bool Process::running() {
  if (status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    return false;
  }
  return r == 0;
}

int Process::stop(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  if (!running()) return status_.value_or(-1);
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!running()) return *status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  status_ = status;
  return status;
}

std::string Process::log() const {
  if (logFile_.empty()) return "";
  std::ifstream in(logFile_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<HttpResult> httpGet(const std::string& url) {
  http::Request req;
  req.url = url;
  req.timeout = std::chrono::milliseconds(5000);
  auto resp = http::send(req);
  if (!resp) return std::unexpected(resp.error());
  return HttpResult{resp->status, resp->body};
}

Status promtoolCheckMetrics(const std::string& page) {
  TempDir dir("ramp-promtool");
  std::ofstream(dir.file("page.prom"), std::ios::binary) << page;
  const std::string cmd =
      "promtool check metrics <" + dir.file("page.prom") + " >" + dir.file("out") + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(dir.file("out"));
  std::stringstream out;
  out << in.rdbuf();
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    return makeError(ErrorCode::kUnavailable, "promtool could not run: " + out.str());
  }
  if (WEXITSTATUS(status) != 0 || !out.str().empty()) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "promtool check metrics (exit " + std::to_string(WEXITSTATUS(status)) + "): " + out.str());
  }
  return {};
}

Result<HttpResult> httpPost(const std::string& url, const std::string& body,
                            const std::string& contentType) {
  http::Request req;
  req.method = "POST";
  req.url = url;
  req.body = body;
  req.headers.emplace_back("Content-Type", contentType);
  req.timeout = std::chrono::milliseconds(5000);
  auto resp = http::send(req);
  if (!resp) return std::unexpected(resp.error());
  return HttpResult{resp->status, resp->body};
}

void stopProcessReplicas(const std::string& platformDir, const std::string& program) {
  namespace fs = std::filesystem;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::vector<pid_t> pids;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(platformDir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pid") continue;
    auto j = nlohmann::json::parse(slurp(it->path().string()), nullptr, false);
    if (j.is_discarded() || !j.contains("pid")) continue;
    const pid_t pid = j["pid"].get<pid_t>();
    if (slurp("/proc/" + std::to_string(pid) + "/cmdline").find(program) != std::string::npos) {
      pids.push_back(pid);
    }
  }
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  auto anyAlive = [&] {
    for (pid_t pid : pids) {
      if (::kill(pid, 0) == 0) return true;
    }
    return false;
  };
  while (anyAlive() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
}

bool waitForHttp(const std::string& url, std::chrono::milliseconds timeout, long status) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    http::Request req;
    req.url = url;
    req.timeout = std::chrono::milliseconds(1000);
    auto resp = http::send(req);
    if (resp && resp->status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// --- DemoService ------------------------------------------------------------------------------

Result<std::unique_ptr<DemoService>> DemoService::start(const DemoOptions& options,
                                                        const std::string& logDir) {
  auto service = std::make_unique<DemoService>();
  service->port_ = pickFreePort();
  std::string binary = binaryDir() + "/demo/ramp-demo-service";
  ProcessOptions p;
  p.argv = {binary,
            "--port",
            std::to_string(service->port_),
            "--version",
            options.version,
            "--error-rate",
            std::to_string(options.errorRate),
            "--latency-ms",
            std::to_string(options.latencyMs),
            "--seed",
            std::to_string(options.seed)};
  p.logFile = logDir + "/demo-" + std::to_string(service->port_) + ".log";
  auto proc = Process::start(p);
  if (!proc) return std::unexpected(proc.error());
  service->process_ = std::move(*proc);
  if (!waitForHttp(service->url("/healthz"))) {
    return makeError(ErrorCode::kUnavailable, "demo service did not answer on " +
                                                  service->hostPort() + "; log:\n" +
                                                  service->process_->log());
  }
  return service;
}

Result<int> DemoService::drive(int n) {
  int errors = 0;
  for (int i = 0; i < n; ++i) {
    auto r = httpGet(url("/"));
    if (!r) return std::unexpected(r.error());
    if (r->status == 500) ++errors;
  }
  return errors;
}

Status DemoService::configure(double errorRate, double latencyMs) {
  std::string q;
  if (errorRate >= 0) q += "error_rate=" + std::to_string(errorRate);
  if (latencyMs >= 0)
    q += std::string(q.empty() ? "" : "&") + "latency_ms=" + std::to_string(latencyMs);
  auto r = httpPost(url("/admin/config?" + q));
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) {
    return makeError(ErrorCode::kInvalidArgument, "demo config rejected: " + r->body);
  }
  return {};
}

// --- PrometheusServer -------------------------------------------------------------------------

Status PrometheusServer::writeConfig(
    const std::map<std::string, std::vector<std::string>>& targets) {
  std::ofstream out(workDir_ + "/prometheus.yml");
  out << "global: {scrape_interval: " << scrapeInterval_
      << ", evaluation_interval: " << scrapeInterval_ << "}\n";
  out << "scrape_configs:\n";
  for (const auto& [job, list] : targets) {
    out << "  - job_name: '" << job << "'\n    static_configs: [{targets: [";
    for (size_t i = 0; i < list.size(); ++i) out << (i ? ", " : "") << "'" << list[i] << "'";
    out << "]}]\n";
  }
  out.close();
  if (!out) return makeError(ErrorCode::kInternal, "cannot write " + workDir_ + "/prometheus.yml");
  return {};
}

Result<std::unique_ptr<PrometheusServer>> PrometheusServer::start(const PrometheusOptions& options,
                                                                  const std::string& workDir) {
  auto server = std::make_unique<PrometheusServer>();
  server->workDir_ = workDir;
  server->scrapeInterval_ = options.scrapeInterval;
  std::filesystem::create_directories(workDir + "/data");
  if (auto s = server->writeConfig(options.targets); !s) return std::unexpected(s.error());
  server->port_ = pickFreePort();
  ProcessOptions p;
  p.argv = {"prometheus",
            "--config.file=" + workDir + "/prometheus.yml",
            "--storage.tsdb.path=" + workDir + "/data",
            "--storage.tsdb.retention.time=1h",
            "--web.listen-address=127.0.0.1:" + std::to_string(server->port_),
            "--web.enable-lifecycle",
            "--log.level=warn"};
  p.logFile = workDir + "/prometheus.log";
  auto proc = Process::start(p);
  if (!proc) return std::unexpected(proc.error());
  server->process_ = std::move(*proc);
  if (!waitForHttp(server->url() + "/-/ready", std::chrono::milliseconds(20000))) {
    return makeError(ErrorCode::kUnavailable,
                     "prometheus did not become ready; log:\n" + server->process_->log());
  }
  return server;
}

Result<HttpResult> PrometheusServer::query(const std::string& promql) {
  return httpGet(url() + "/api/v1/query?query=" + http::urlEncode(promql));
}

Status PrometheusServer::waitForValueAtLeast(const std::string& promql, double minValue,
                                             std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last;
  while (Clock::now() < deadline) {
    auto r = query(promql);
    if (r && r->status == 200) {
      last = r->body;
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      if (!j.is_discarded() && j["data"]["result"].is_array() && !j["data"]["result"].empty()) {
        const auto& v = j["data"]["result"][0]["value"];
        if (v.is_array() && v.size() == 2 && v[1].is_string() &&
            std::strtod(v[1].get<std::string>().c_str(), nullptr) >= minValue) {
          return {};
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return makeError(
      ErrorCode::kDeadlineExceeded,
      "query " + promql + " did not reach " + std::to_string(minValue) + "; last answer: " + last);
}

Status PrometheusServer::waitForTargetsUp(size_t count, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last;
  while (Clock::now() < deadline) {
    auto r = query("up");
    if (r && r->status == 200) {
      last = r->body;
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      size_t up = 0;
      if (!j.is_discarded() && j["data"]["result"].is_array()) {
        for (const auto& series : j["data"]["result"]) {
          if (series["value"].is_array() && series["value"].size() == 2 &&
              series["value"][1] == "1") {
            ++up;
          }
        }
      }
      if (up >= count) return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return makeError(ErrorCode::kDeadlineExceeded,
                   "prometheus targets not up after " + std::to_string(timeout.count()) +
                       " ms; last `up`: " + last + "\nlog:\n" + process_->log());
}

Status PrometheusServer::setTargets(
    const std::map<std::string, std::vector<std::string>>& targets) {
  if (auto s = writeConfig(targets); !s) return s;
  auto r = httpPost(url() + "/-/reload");
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) {
    return makeError(ErrorCode::kUnavailable, "prometheus reload failed: " + r->body);
  }
  return {};
}

}  // namespace ramp::testing
