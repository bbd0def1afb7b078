#pragma once

// The `ramp` binary as a user runs it, for tests that drive a real daemon: `ramp serve` started
// on a run-time port (its URL read from its log), and CLI commands run against it with a token,
// with HOME and RAMP_CONFIG isolated so no user's configuration leaks in.
//
// Thread safety: one test thread.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.h"

namespace ramp::testing {

struct CliResult {
  int code = -1;    // the exit code; -1 when it did not exit normally
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `ramp ARGS…` with HOME = dir; with `server` set, RAMP_SERVER = server and RAMP_TOKEN =
// token (unset when empty). Output goes through files in `dir`.
CliResult runRamp(const TempDir& dir, const std::vector<std::string>& args,
                  const std::string& server = "", const std::string& token = "");

// `ramp serve --data DIR/data --listen 127.0.0.1:0 EXTRA…`, its log in DIR/serve.log.
class RampDaemon {
 public:
  // Starts it and waits (up to 20 s) for "listening on URL". On failure a test failure is
  // added and url() is "".
  RampDaemon(const TempDir& dir, const std::vector<std::string>& extra);
  const std::string& url() const { return url_; }
  std::string log() const { return process_ ? process_->log() : ""; }
  bool running() { return process_ && process_->running(); }
  // SIGTERM, then SIGKILL after `grace`; the wait status (Process::stop). -1 if never started.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) {
    return process_ ? process_->stop(grace) : -1;
  }

 private:
  std::unique_ptr<Process> process_;
  std::string url_;
};

// The process platform's replicas outlive `ramp serve` (they are re-adopted by the next daemon):
// when a ReplicaReaper goes, every replica still named by a pid file under `dataDir` is killed
// (its process group, SIGKILL).
class ReplicaReaper {
 public:
  explicit ReplicaReaper(std::string dataDir) : dataDir_(std::move(dataDir)) {}
  ~ReplicaReaper();
  ReplicaReaper(const ReplicaReaper&) = delete;
  ReplicaReaper& operator=(const ReplicaReaper&) = delete;

 private:
  std::string dataDir_;
};

}  // namespace ramp::testing
