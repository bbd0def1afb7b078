#pragma once

// The local stack of `make demo`: child processes stopped by pid, free loopback ports, plain
// HTTP GETs, HAProxy's runtime API and the config files of HAProxy and Prometheus.
//
// Everything listens on 127.0.0.1 on ports picked at run time. This is a program, not a
// library of ramp: it waits in real time (sleep_for), which src/ may not.
//
// Thread safety: a ChildProcess is used from one thread; the free functions are thread-safe.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ramp/error.h"

namespace ramp::demo {

// A child started by the demo; the destructor stops it (SIGTERM, then SIGKILL) by its pid.
class ChildProcess {
 public:
  // Starts argv[0] (absolute path or found on PATH) with the current environment plus `env`,
  // stdout and stderr appended to `logFile`. Error when fork/exec fails.
  static Result<std::unique_ptr<ChildProcess>> start(const std::vector<std::string>& argv,
                                                     const std::map<std::string, std::string>& env,
                                                     const std::string& logFile);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // SIGTERM, up to `grace`, then SIGKILL. Returns the wait status. Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL now (fault injection). Returns the wait status.
  int kill();

 private:
  ChildProcess(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
  pid_t pid_;
  std::string name_;
  std::optional<int> status_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int pickFreePort();

// GET url with a `timeout`; returns {status, body} or an Error on transport failure.
struct HttpAnswer {
  long status = 0;
  std::string body;
};
Result<HttpAnswer> httpGet(const std::string& url,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// Polls `ready` every `every` until it returns true or `timeout` passes.
bool waitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = std::chrono::milliseconds(50));

// Sends one command line to HAProxy's runtime API at unix socket `path`; returns the reply.
Result<std::string> haproxyCommand(const std::string& path, const std::string& command);

// One server of `show servers state`.
struct HaproxyServer {
  std::string name;
  int opState = 0;     // 2 = running
  int adminState = 0;  // 0 = in rotation; maint/drain bits otherwise
  int weight = 0;      // current user weight
};
// Parses the reply of `show servers state <backend>`. Lines that are not server rows are skipped.
std::vector<HaproxyServer> parseServersState(const std::string& reply);

// Writes `text` to `path` (replacing it). Error naming the path.
Status writeFile(const std::string& path, const std::string& text);
// Reads the whole file; Error naming the path.
Result<std::string> readFile(const std::string& path);

}  // namespace ramp::demo
