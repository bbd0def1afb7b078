// bench_api: load on a real API server process (ramp_api_test_server: SQLite store + ApiServer,
// no controller) on 127.0.0.1.
//
//   1. Seeds N rollouts through POST /api/v1/apply.
//   2. wrk (keep-alive, --latency) against GET of one rollout, GET of the rollout list, /healthz
//      and /metrics, with a bearer token (so authentication is part of every request).
//   3. Opens W concurrent watch streams (raw sockets), checks every stream receives a change, and
//      reports the server's extra resident memory (VmRSS) per stream.
//
//   bench_api [--rollouts N] [--watchers W] [--duration S] [--connections C] [--server PATH]
//
// Prints one table. Targets (issue 5, 2-core machine): >= 10,000 GET req/s with p99 < 10 ms;
// 1,000 concurrent watch streams with < 100 MB extra memory.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "harness/harness.h"

namespace {

using namespace std::chrono_literals;
namespace rt = ramp::testing;

constexpr const char* kToken = "bench-admin-token-0123456789";

std::string rollout(int i) {
  return R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"r)" +
         std::to_string(i) +
         R"(","namespace":"bench"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"r"}},"template":{"metadata":{"labels":{"app":"r"}},"spec":{"containers":[{"name":"app","image":"app:v1"}]}},"strategy":{"canary":{"steps":[{"setWeight":20},{"pause":{}},{"setWeight":60}]}}}})";
}

struct WrkResult {
  double rps = 0;
  std::string p50, p99;
  std::string raw;
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

WrkResult wrk(const std::string& url, int connections, int seconds) {
  std::string cmd = "wrk -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
                    "s --latency -H 'Authorization: Bearer " + kToken + "' '" + url + "' 2>&1";
  WrkResult r;
  r.raw = run(cmd);
  std::smatch m;
  if (std::regex_search(r.raw, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    r.rps = std::stod(m[1]);
  }
  if (std::regex_search(r.raw, m, std::regex(R"(50%\s+([0-9.]+\w+))"))) r.p50 = m[1];
  if (std::regex_search(r.raw, m, std::regex(R"(99%\s+([0-9.]+\w+))"))) r.p99 = m[1];
  if (r.raw.find("Non-2xx") != std::string::npos) r.p99 += " (non-2xx!)";
  return r;
}

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int connectWatch(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                    kToken + "\r\n\r\n";
  ::send(fd, req.data(), req.size(), 0);
  return fd;
}

// Reads what is available on every fd until each has seen `needle` or the timeout passes;
// returns how many saw it.
size_t drainUntil(std::vector<int>& fds, const std::string& needle, std::chrono::seconds timeout) {
  std::vector<std::string> tails(fds.size());
  std::vector<bool> done(fds.size(), false);
  size_t count = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pollfd> pfds;
  while (count < fds.size() && std::chrono::steady_clock::now() < deadline) {
    pfds.clear();
    for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
    if (::poll(pfds.data(), pfds.size(), 200) <= 0) continue;
    char buf[16384];
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (!(pfds[i].revents & POLLIN)) continue;
      ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
      if (n <= 0) continue;
      tails[i].append(buf, static_cast<size_t>(n));
      if (!done[i] && tails[i].find(needle) != std::string::npos) {
        done[i] = true;
        ++count;
      }
      if (tails[i].size() > 4096) tails[i].erase(0, tails[i].size() - 256);
    }
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  int rollouts = 100, watchers = 1000, duration = 10, connections = 8;
  std::string serverPath = rt::binaryDir() + "/tests/api/ramp_api_test_server";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--rollouts") rollouts = std::stoi(v);
    if (f == "--watchers") watchers = std::stoi(v);
    if (f == "--duration") duration = std::stoi(v);
    if (f == "--connections") connections = std::stoi(v);
    if (f == "--server") serverPath = v;
  }
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);

  rt::TempDir dir("ramp-bench-api");
  std::ofstream(dir.file("tokens.csv")) << kToken << ",bench,admin\n";
  rt::ProcessOptions o;
  o.argv = {serverPath,    "--data",   dir.file("data"),       "--listen",
            "127.0.0.1:0", "--tokens", dir.file("tokens.csv"), "--heartbeat-ms",
            "15000"};
  o.logFile = dir.file("server.log");
  auto server = rt::Process::start(o);
  if (!server) {
    std::cerr << "cannot start " << serverPath << ": " << server.error().message << "\n";
    return 1;
  }
  std::string url;
  for (int i = 0; i < 200 && url.empty(); ++i) {
    std::string log = (*server)->log();
    size_t at = log.find("listening on ");
    if (at != std::string::npos) {
      url = log.substr(at + 13, log.find(' ', at + 13) - at - 13);
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  if (url.empty()) {
    std::cerr << "server did not start: " << (*server)->log() << "\n";
    return 1;
  }
  int port = std::stoi(url.substr(url.rfind(':') + 1));
  for (int i = 0; i < rollouts; ++i) {
    ramp::http::Request r;
    r.method = "POST";
    r.url = url + "/api/v1/apply";
    r.body = rollout(i);
    r.headers = {{"Authorization", std::string("Bearer ") + kToken}};
    auto res = ramp::http::send(r);
    if (!res || res->status != 201) {
      std::cerr << "seed failed: " << (res ? res->body : res.error().message) << "\n";
      return 1;
    }
  }

  struct Row {
    std::string name;
    WrkResult r;
  };
  std::vector<Row> rows;
  rows.push_back({"GET /api/v1/namespaces/bench/rollouts/r1",
                  wrk(url + "/api/v1/namespaces/bench/rollouts/r1", connections, duration)});
  rows.push_back(
      {"GET /healthz (no auth, no store)", wrk(url + "/healthz", connections, duration)});
  rows.push_back({"GET /api/v1/namespaces/bench/rollouts (" + std::to_string(rollouts) + ")",
                  wrk(url + "/api/v1/namespaces/bench/rollouts", connections, duration)});
  rows.push_back({"GET /metrics (" + std::to_string(rollouts) + " rollouts)",
                  wrk(url + "/metrics", connections, duration)});

  // Watch streams.
  long before = rssKb((*server)->pid());
  std::vector<int> fds;
  for (int i = 0; i < watchers; ++i) {
    int fd = connectWatch(
        port, "/api/v1/watch?kind=rollouts&namespace=bench&name=r" + std::to_string(i % rollouts));
    if (fd >= 0) fds.push_back(fd);
  }
  size_t synced = drainUntil(fds, "event: SYNC", 60s);
  // One change per watched rollout: every stream must see its PUT.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < std::min(rollouts, watchers); ++i) {
    ramp::http::Request r;
    r.method = "POST";
    r.url = url + "/api/v1/namespaces/bench/rollouts/r" + std::to_string(i) + "/pause";
    r.headers = {{"Authorization", std::string("Bearer ") + kToken}};
    (void)ramp::http::send(r);
  }
  size_t updated = drainUntil(fds, "\"paused\":true", 60s);
  double fanoutMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  long during = rssKb((*server)->pid());
  for (int fd : fds) ::close(fd);

  std::printf("\nbench_api: %d rollouts, wrk -t2 -c%d -d%ds, bearer token on every request\n\n",
              rollouts, connections, duration);
  std::printf("| %-52s | %10s | %9s | %9s |\n", "endpoint", "req/s", "p50", "p99");
  std::printf("|%s|%s|%s|%s|\n", std::string(54, '-').c_str(), std::string(12, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str());
  for (const Row& row : rows) {
    std::printf("| %-52s | %10.0f | %9s | %9s |\n", row.name.c_str(), row.r.rps, row.r.p50.c_str(),
                row.r.p99.c_str());
  }
  std::printf("\n| %-52s | %10s |\n", "watch streams", "value");
  std::printf("|%s|%s|\n", std::string(54, '-').c_str(), std::string(12, '-').c_str());
  std::printf("| %-52s | %10zu |\n", "streams opened", fds.size());
  std::printf("| %-52s | %10zu |\n", "streams synced (initial object + SYNC)", synced);
  std::printf("| %-52s | %10zu |\n", "streams that received their change", updated);
  std::printf("| %-52s | %10.0f |\n", "time to deliver all changes (ms)", fanoutMs);
  std::printf("| %-52s | %10.1f |\n", "server RSS before (MB)", before / 1024.0);
  std::printf("| %-52s | %10.1f |\n", "server RSS with streams open (MB)", during / 1024.0);
  std::printf("| %-52s | %10.1f |\n", "extra RSS (MB)", (during - before) / 1024.0);
  std::printf(
      "| %-52s | %10.1f |\n", "extra RSS per stream (KB)",
      fds.empty() ? 0.0 : static_cast<double>(during - before) / static_cast<double>(fds.size()));
  (*server)->stop();
  return 0;
}
