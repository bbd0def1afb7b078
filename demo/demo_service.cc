// ramp-demo-service: the application ramp rolls out in `make demo` and in integration tests.
//
// GET /            answers 200 with its version (or 500 for a configurable fraction of requests),
//                  after a configurable added latency; both carry the version in X-Version.
// GET /metrics     Prometheus text format: http_requests_total{code,version} and the
//                  http_request_duration_seconds histogram (only GET / requests are counted).
// GET /healthz     200 "ok".
// POST /admin/config?error_rate=0.1&latency_ms=50&latency_jitter_ms=10
//                  changes behaviour at run time (tests use it to steer counters).
//
// Configuration: flags, else environment (PORT, VERSION or IMAGE, ERROR_RATE, LATENCY_MS,
// LATENCY_JITTER_MS, SEED). Listens on 127.0.0.1 only. SIGTERM/SIGINT stop it cleanly.

#include <httplib.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>

namespace {

constexpr std::array<double, 10> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,  1.0,   2.5,  5.0};

std::string envOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

bool parseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return false;
  *out = d;
  return true;
}

// Escapes a label value for the Prometheus text format.
std::string escapeLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string formatNumber(double d) {
  std::array<char, 64> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  return std::string(buf.data(), r.ptr);
}

class Service {
 public:
  Service(std::string version, double errorRate, double latencyMs, double jitterMs, uint64_t seed)
      : version_(std::move(version)),
        errorRate_(errorRate),
        latencyMs_(latencyMs),
        jitterMs_(jitterMs),
        rng_(seed) {}

  // Decides one request's fate: returns {status, delay}.
  std::pair<int, std::chrono::microseconds> decide() {
    std::lock_guard lock(mu_);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    int status = unit(rng_) < errorRate_ ? 500 : 200;
    double ms = latencyMs_;
    if (jitterMs_ > 0) ms += (unit(rng_) * 2.0 - 1.0) * jitterMs_;
    if (ms < 0) ms = 0;
    return {status, std::chrono::microseconds(static_cast<int64_t>(ms * 1000.0))};
  }

  void record(int status, double seconds) {
    std::lock_guard lock(mu_);
    (status == 500 ? errors_ : ok_)++;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      if (seconds <= kBuckets[i]) bucketCounts_[i]++;
    }
    durationCount_++;
    durationSum_ += seconds;
  }

  std::string metrics() const {
    std::lock_guard lock(mu_);
    std::string v = escapeLabel(version_);
    std::string out;
    out += "# HELP http_requests_total Requests to / by status code.\n";
    out += "# TYPE http_requests_total counter\n";
    out += "http_requests_total{code=\"200\",version=\"" + v + "\"} " + std::to_string(ok_) + "\n";
    out +=
        "http_requests_total{code=\"500\",version=\"" + v + "\"} " + std::to_string(errors_) + "\n";
    out += "# HELP http_request_duration_seconds Latency of requests to /.\n";
    out += "# TYPE http_request_duration_seconds histogram\n";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += "http_request_duration_seconds_bucket{version=\"" + v + "\",le=\"" +
             formatNumber(kBuckets[i]) + "\"} " + std::to_string(bucketCounts_[i]) + "\n";
    }
    out += "http_request_duration_seconds_bucket{version=\"" + v + "\",le=\"+Inf\"} " +
           std::to_string(durationCount_) + "\n";
    out += "http_request_duration_seconds_sum{version=\"" + v + "\"} " +
           formatNumber(durationSum_) + "\n";
    out += "http_request_duration_seconds_count{version=\"" + v + "\"} " +
           std::to_string(durationCount_) + "\n";
    return out;
  }

  // Applies the query parameters of POST /admin/config; returns "" or an error message.
  std::string configure(const httplib::Request& req) {
    double errorRate = -1, latency = -1, jitter = -1;
    if (req.has_param("error_rate") &&
        (!parseDouble(req.get_param_value("error_rate"), &errorRate) || errorRate < 0 ||
         errorRate > 1)) {
      return "error_rate must be a number in [0, 1]";
    }
    if (req.has_param("latency_ms") &&
        (!parseDouble(req.get_param_value("latency_ms"), &latency) || latency < 0)) {
      return "latency_ms must be a non-negative number";
    }
    if (req.has_param("latency_jitter_ms") &&
        (!parseDouble(req.get_param_value("latency_jitter_ms"), &jitter) || jitter < 0)) {
      return "latency_jitter_ms must be a non-negative number";
    }
    std::lock_guard lock(mu_);
    if (errorRate >= 0) errorRate_ = errorRate;
    if (latency >= 0) latencyMs_ = latency;
    if (jitter >= 0) jitterMs_ = jitter;
    return "";
  }

  std::string config() const {
    std::lock_guard lock(mu_);
    return "{\"version\":\"" + escapeLabel(version_) +
           "\",\"error_rate\":" + formatNumber(errorRate_) +
           ",\"latency_ms\":" + formatNumber(latencyMs_) +
           ",\"latency_jitter_ms\":" + formatNumber(jitterMs_) + "}";
  }

  const std::string& version() const { return version_; }

 private:
  const std::string version_;
  mutable std::mutex mu_;
  double errorRate_;
  double latencyMs_;
  double jitterMs_;
  std::mt19937_64 rng_;
  uint64_t ok_ = 0;
  uint64_t errors_ = 0;
  std::array<uint64_t, kBuckets.size()> bucketCounts_{};
  uint64_t durationCount_ = 0;
  double durationSum_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ramp demo service"};
  int port = std::stoi(envOr("PORT", "8080"));
  std::string version = envOr("VERSION", envOr("IMAGE", "demo:v1"));
  double errorRate = 0, latencyMs = 0, jitterMs = 0;
  uint64_t seed = 1;
  std::string host = "127.0.0.1";
  int threads = 32;
  if (!parseDouble(envOr("ERROR_RATE", "0"), &errorRate) ||
      !parseDouble(envOr("LATENCY_MS", "0"), &latencyMs) ||
      !parseDouble(envOr("LATENCY_JITTER_MS", "0"), &jitterMs)) {
    std::fprintf(stderr, "ERROR_RATE, LATENCY_MS and LATENCY_JITTER_MS must be numbers\n");
    return 2;
  }
  seed = std::strtoull(envOr("SEED", "1").c_str(), nullptr, 10);
  app.add_option("--port", port, "TCP port on 127.0.0.1 (0 = any free port; $PORT)");
  app.add_option("--version", version, "version string served at / ($VERSION or $IMAGE)");
  app.add_option("--error-rate", errorRate, "fraction of requests answered 500 ($ERROR_RATE)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--latency-ms", latencyMs, "added latency per request ($LATENCY_MS)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--latency-jitter-ms", jitterMs, "uniform jitter +/- ms ($LATENCY_JITTER_MS)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "random seed for errors and jitter ($SEED)");
  app.add_option("--threads", threads, "worker threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  // Clients that hang up before a (slow) answer is written must not kill the service.
  ::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; one thread waits for them and stops the server.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  Service service(version, errorRate, latencyMs, jitterMs, seed);
  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    auto [status, delay] = service.decide();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    res.status = status;
    res.set_header("X-Version", service.version());
    res.set_content(status == 200 ? service.version() + "\n" : "injected error\n", "text/plain");
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    service.record(status, seconds);
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.metrics(), "text/plain; version=0.0.4");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/admin/config", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.config() + "\n", "application/json");
  });
  server.Post("/admin/config", [&](const httplib::Request& req, httplib::Response& res) {
    std::string err = service.configure(req);
    if (!err.empty()) {
      res.status = 400;
      res.set_content(err + "\n", "text/plain");
      return;
    }
    res.set_content(service.config() + "\n", "application/json");
  });

  int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("ramp-demo-service %s listening on %s:%d\n", version.c_str(), host.c_str(), bound);
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stopSignals, &sig);
    // stop() is a no-op until the listen loop runs: repeat until listen_after_bind returns.
    while (!done.load()) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  server.listen_after_bind();
  done.store(true);
  // listen_after_bind returned: a signal stopped us, or the socket failed (wake the stopper).
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return 0;
}
