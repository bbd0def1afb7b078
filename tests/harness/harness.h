#pragma once

// Test harness for integration tests that run real servers on loopback: free ports, child
// processes stopped by pid, temporary directories, waiting for an HTTP endpoint, a real
// Prometheus scraping real targets, and ramp's demo service.
//
// Everything listens on 127.0.0.1 on ports picked at run time. Bounded real-time polling is
// allowed here (this is test code, not src/). Every process started is stopped by its pid in
// the owner's destructor, so a failing test leaves nothing behind.
//
// Thread safety: none; use each object from one thread.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ramp/error.h"

namespace ramp::testing {

// $RAMP_SOURCE_DIR / $RAMP_BINARY_DIR when set, else this build's source and binary dirs.
std::string sourceDir();
std::string binaryDir();

// Returns a TCP port on 127.0.0.1 that was free a moment ago: a random one below the kernel's
// ephemeral range (so no outgoing connection takes it meanwhile), never the same twice in one
// process; -1 when none was found.
int pickFreePort();

// A fresh directory under $TMPDIR (or /tmp), removed recursively by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ramp-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Returns path() + "/" + name.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is the program (absolute path or found on PATH)
  std::map<std::string, std::string> env;  // added to (or overriding) the inherited environment
  std::string logFile;                     // stdout and stderr appended here; "" = /dev/null
  std::string workingDir;                  // "" = inherit
};

// A child process owned by the test. The destructor stops it.
class Process {
 public:
  // Spawns the process. Error when the program cannot be started.
  static Result<std::unique_ptr<Process>> start(const ProcessOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the wait status (or the one
  // already collected). Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // The contents of the log file ("" when none).
  std::string log() const;

 private:
  Process(pid_t pid, std::string logFile) : pid_(pid), logFile_(std::move(logFile)) {}
  pid_t pid_;
  std::string logFile_;
  std::optional<int> status_;
};

// Replicas of platform.process outlive `ramp serve` by design (docs/platforms/process.md): stops
// the ones under `platformDir` (DATA/platform.process), by the pids in their pid files, when the
// pid still runs `program` (SIGTERM, SIGKILL after 5 s).
void stopProcessReplicas(const std::string& platformDir, const std::string& program);

// Polls `url` with GET until it answers `status` or `timeout` elapses. Returns true on success.
bool waitForHttp(const std::string& url,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
                 long status = 200);

// Convenience GET/POST through ramp's HTTP client. Error on transport failure.
struct HttpResult {
  long status = 0;
  std::string body;
};
Result<HttpResult> httpGet(const std::string& url);
Result<HttpResult> httpPost(const std::string& url, const std::string& body = "",
                            const std::string& contentType = "application/x-www-form-urlencoded");

// ramp-demo-service started on a free port (binary from $RAMP_BINARY_DIR/demo).
struct DemoOptions {
  std::string version = "demo:v1";
  double errorRate = 0;
  double latencyMs = 0;
  uint64_t seed = 1;
};
class DemoService {
 public:
  static Result<std::unique_ptr<DemoService>> start(const DemoOptions& options,
                                                    const std::string& logDir);
  int port() const { return port_; }
  // "127.0.0.1:<port>", the form Prometheus targets use.
  std::string hostPort() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& path = "/") const { return "http://" + hostPort() + path; }
  // Sends `n` GET / requests; returns how many got 500 (Error on transport failure).
  Result<int> drive(int n);
  // POST /admin/config with the given settings (negative = unchanged).
  Status configure(double errorRate, double latencyMs = -1);
  Process& process() { return *process_; }

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// A real Prometheus (`prometheus` on PATH) on a free port with a 1 s scrape interval.
struct PrometheusOptions {
  // job name -> targets ("127.0.0.1:port").
  std::map<std::string, std::vector<std::string>> targets;
  std::string scrapeInterval = "1s";
};
class PrometheusServer {
 public:
  // Writes the config under `workDir`, starts Prometheus and waits until /-/ready answers.
  static Result<std::unique_ptr<PrometheusServer>> start(const PrometheusOptions& options,
                                                         const std::string& workDir);
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Waits until `up` reports at least `count` series with value 1 (first samples take ~5 s).
  Status waitForTargetsUp(size_t count,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  // Waits until the instant query `promql` returns a non-empty result whose first sample's
  // value satisfies `minValue` (>=). Used to wait for counters to be scraped.
  Status waitForValueAtLeast(const std::string& promql, double minValue,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  // GET /api/v1/query?query=… ; returns the raw body.
  Result<HttpResult> query(const std::string& promql);
  // Rewrites the scrape targets and POSTs /-/reload.
  Status setTargets(const std::map<std::string, std::vector<std::string>>& targets);
  Process& process() { return *process_; }

 private:
  Status writeConfig(const std::map<std::string, std::vector<std::string>>& targets);
  int port_ = 0;
  std::string workDir_;
  std::string scrapeInterval_;
  std::unique_ptr<Process> process_;
};

}  // namespace ramp::testing
