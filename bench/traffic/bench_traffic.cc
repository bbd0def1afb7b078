// Latency of one weight change, measured against a real HAProxy and a real nginx started on
// loopback ports (stopped by pid when each benchmark ends):
//   BM_HaproxyCommand         one `set weight` runtime API round trip (prompt-mode session open)
//   BM_HaproxySetWeight       HaproxyRouter::setWeight: connect, show servers state, set weights
//   BM_HaproxySetAndVerify    setWeight + verifyWeight (what one reconcile does)
//   BM_NginxSetWeight         NginxRouter::setWeight: render, write, `nginx -t`, SIGHUP
//   BM_NginxUntilServing      setWeight, then poll verifyWeight until only the new workers serve
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "ramp/clock.h"
#include "traffic/haproxy/haproxy_router.h"
#include "traffic/haproxy/runtime_api.h"
#include "traffic/nginx/nginx_router.h"
#include "traffic/proxy_fixture.h"

namespace {

using namespace ramp;
using namespace ramp::traffic;
using traffic::testing::Child;
using traffic::testing::NamedBackend;

RevisionEndpoints revision(const std::string& hash, const NamedBackend& backend) {
  return RevisionEndpoints{hash, {{hash + "-0", "127.0.0.1", backend.port(), true}}};
}

struct HaproxyStack {
  traffic::testing::TempDir dir;
  NamedBackend stable{"stable"}, canary{"canary"};
  std::unique_ptr<Child> haproxy;
  std::unique_ptr<haproxy::HaproxyRouter> router;

  HaproxyStack() {
    const int port = traffic::testing::freePort();
    traffic::testing::writeFile(dir.file("haproxy.cfg"),
                                "global\n    stats socket " + dir.file("admin.sock") +
                                    " mode 600 level admin\n"
                                    "defaults\n    mode http\n    timeout connect 2s\n"
                                    "    timeout client 10s\n    timeout server 10s\n"
                                    "frontend fe\n    bind 127.0.0.1:" +
                                    std::to_string(port) +
                                    "\n    default_backend be_app\n"
                                    "backend be_app\n    balance roundrobin\n");
    std::string error;
    haproxy = Child::spawn({"haproxy", "-db", "-f", dir.file("haproxy.cfg")},
                           dir.file("haproxy.log"), &error);
    if (!haproxy || !traffic::testing::waitForTcp(port)) std::abort();
    router = std::move(*haproxy::HaproxyRouter::create(
        R"({"runtimeApi":"unix:)" + dir.file("admin.sock") + R"(","backend":"be_app"})", 100,
        realClock()));
    if (!router->syncEndpoints(revision("s", stable), revision("c", canary), {})) std::abort();
  }
};

void BM_HaproxyCommand(benchmark::State& state) {
  HaproxyStack stack;
  haproxy::RuntimeApiClient client(
      *haproxy::parseRuntimeApiAddress("unix:" + stack.dir.file("admin.sock")), Duration(2000),
      realClock());
  int i = 0;
  for (auto _ : state) {
    auto session = client.open();
    auto reply = session->call("set weight be_app/ramp-s-0 " + std::to_string(100 + (i++ % 2)));
    if (!reply || !reply->empty()) state.SkipWithError("set weight failed");
  }
}
BENCHMARK(BM_HaproxyCommand)->Iterations(2000)->Unit(benchmark::kMicrosecond);

void BM_HaproxySetWeight(benchmark::State& state) {
  HaproxyStack stack;
  int i = 0;
  for (auto _ : state) {
    if (!stack.router->setWeight(10 + (i++ % 2) * 10, {})) state.SkipWithError("setWeight failed");
  }
}
BENCHMARK(BM_HaproxySetWeight)->Iterations(2000)->Unit(benchmark::kMicrosecond);

void BM_HaproxySetAndVerify(benchmark::State& state) {
  HaproxyStack stack;
  int i = 0;
  for (auto _ : state) {
    const int w = 10 + (i++ % 2) * 10;
    if (!stack.router->setWeight(w, {})) state.SkipWithError("setWeight failed");
    auto check = stack.router->verifyWeight(w, {});
    if (!check || *check != WeightCheck::kVerified) state.SkipWithError("not verified");
  }
}
BENCHMARK(BM_HaproxySetAndVerify)->Iterations(2000)->Unit(benchmark::kMicrosecond);

struct NginxStack {
  traffic::testing::TempDir dir;
  NamedBackend stable{"stable"}, canary{"canary"};
  std::unique_ptr<Child> nginx;
  std::unique_ptr<nginx::NginxRouter> router;

  NginxStack() {
    const int port = traffic::testing::freePort();
    const std::string d = dir.path();
    std::filesystem::create_directories(d + "/tmp");
    traffic::testing::writeFile(
        dir.file("nginx.conf"),
        std::string(::geteuid() == 0 ? "user root;\n" : "") +
            "worker_processes 1;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
            "/error.log notice;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
            "  client_body_temp_path " +
            d + "/tmp/body;\n  proxy_temp_path " + d + "/tmp/proxy;\n  fastcgi_temp_path " + d +
            "/tmp/fastcgi;\n  uwsgi_temp_path " + d + "/tmp/uwsgi;\n  scgi_temp_path " + d +
            "/tmp/scgi;\n  include " + d +
            "/upstream.conf;\n  server {\n    listen 127.0.0.1:" + std::to_string(port) +
            ";\n    location / { proxy_pass http://app; }\n"
            "    location = /ramp-state { return 200 \"$ramp_state_app\"; }\n  }\n}\n");
    router = std::move(*nginx::NginxRouter::create(
        R"({"includePath":")" + d + R"(/upstream.conf","upstream":"app","prefix":")" + d +
            R"(","conf":")" + d + R"(/nginx.conf","errorLog":")" + d +
            R"(/error.log","pidFile":")" + d + R"(/nginx.pid","stateUrl":"http://127.0.0.1:)" +
            std::to_string(port) + R"(/ramp-state"})",
        100, realClock()));
    (void)router->syncEndpoints(revision("s", stable), revision("c", canary),
                                {});  // not running yet
    std::string error;
    nginx =
        Child::spawn({"nginx", "-p", d, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")},
                     dir.file("stdout.log"), &error);
    if (!nginx || !traffic::testing::waitForTcp(port)) std::abort();
  }

  bool waitServing(int weight) {
    for (int i = 0; i < 5000; ++i) {
      auto check = router->verifyWeight(weight, {});
      if (check && *check == WeightCheck::kVerified) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
};

void BM_NginxSetWeight(benchmark::State& state) {
  NginxStack stack;
  int i = 0;
  for (auto _ : state) {
    const int w = 10 + (i++ % 2) * 10;
    if (!stack.router->setWeight(w, {})) state.SkipWithError("setWeight failed");
    state.PauseTiming();
    if (!stack.waitServing(w)) state.SkipWithError("never served");  // one reload at a time
    state.ResumeTiming();
  }
}
BENCHMARK(BM_NginxSetWeight)->Iterations(30)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_NginxUntilServing(benchmark::State& state) {
  NginxStack stack;
  int i = 0;
  for (auto _ : state) {
    const int w = 10 + (i++ % 2) * 10;
    if (!stack.router->setWeight(w, {})) state.SkipWithError("setWeight failed");
    if (!stack.waitServing(w)) state.SkipWithError("never served");
  }
}
BENCHMARK(BM_NginxUntilServing)->Iterations(30)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
