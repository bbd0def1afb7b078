#pragma once

// Test fixture pieces for the router integration tests: free loopback ports, temp dirs, child
// processes stopped by pid, tiny in-process backends that answer GET / with their name, and a
// client that measures the split over N requests. Real-time polling is allowed here (tests).
//
// Thread safety: none; use each object from the test's thread.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ramp::traffic::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();

// A directory under /tmp, removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process; the destructor stops it by its pid.
class Child {
 public:
  // Spawns argv (argv[0] found on PATH) with stdout/stderr appended to logPath. Returns null and
  // fills *error if it cannot be started.
  static std::unique_ptr<Child> spawn(const std::vector<std::string>& argv,
                                      const std::string& logPath, std::string* error);
  ~Child();
  pid_t pid() const { return pid_; }
  // Sends `signal`, waits up to 5 s, then SIGKILL. Idempotent.
  void stop(int signal = 15);

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool stopped_ = false;
};

// Polls a TCP connect to 127.0.0.1:port until it succeeds or the timeout passes.
bool waitForTcp(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// An HTTP server on a free loopback port that answers GET / with `name`.
class NamedBackend {
 public:
  explicit NamedBackend(std::string name);
  ~NamedBackend();
  int port() const { return port_; }
  const std::string& name() const { return name_; }

 private:
  struct Impl;
  std::string name_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

// Sends n GET / to 127.0.0.1:port and counts the bodies ("error" for failures and non-200).
std::map<std::string, int> countResponses(int port, int n);

// |hits - n p| <= sigmas * sqrt(n p (1 - p)) + 1: the binomial tolerance of a measured split.
bool withinBinomial(int hits, int n, double p, double sigmas = 4.0);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content);

}  // namespace ramp::traffic::testing
