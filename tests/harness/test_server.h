#pragma once

// A cpp-httplib server on 127.0.0.1 (port chosen by the kernel) running in a thread, for tests
// of HTTP clients: the test registers handlers, start()s it and it stops in the destructor.

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

namespace ramp::testing {

class TestServer {
 public:
  // A client that gives up (timeout tests) closes its socket before the handler writes; the
  // write must not kill the test binary with SIGPIPE.
  TestServer() { ::signal(SIGPIPE, SIG_IGN); }
  httplib::Server& server() { return server_; }
  // Binds and starts serving; returns the port.
  int start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the listen loop runs, so wait for it (bounded).
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return port_;
  }
  ~TestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ramp::testing
