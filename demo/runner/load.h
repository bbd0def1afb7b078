#pragma once

// LoadGenerator: the demo's users. A few threads send GET / through HAProxy at a fixed total
// rate, each over one keep-alive connection (libcurl), and count every answer by the version
// that served it (the demo service's X-Version header) and by outcome. A user-visible error is
// any answer other than 200, or no answer at all (transport error or 2 s timeout).
//
// Thread safety: start()/stop() from one thread; snapshot() from any thread.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ramp::demo {

using SteadyTime = std::chrono::steady_clock::time_point;

struct VersionCounts {
  int64_t ok = 0;
  int64_t errors = 0;  // non-200 answers from this version
  std::optional<SteadyTime> firstError;
  std::optional<SteadyTime> lastResponse;
};

struct LoadSnapshot {
  int64_t requests = 0;
  int64_t errors = 0;           // every user-visible error (any version, proxy, transport)
  int64_t transportErrors = 0;  // no answer
  std::map<std::string, VersionCounts> byVersion;  // "" = answered by HAProxy itself
};

class LoadGenerator {
 public:
  LoadGenerator(std::string url, double requestsPerSecond, int threads);
  ~LoadGenerator();  // stop()

  void start();
  void stop();
  LoadSnapshot snapshot() const;

 private:
  void run(int index);
  void record(const std::string& version, long status, bool transportError);

  const std::string url_;
  const double rate_;
  const int threads_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
  mutable std::mutex mu_;
  LoadSnapshot counts_;
};

}  // namespace ramp::demo
