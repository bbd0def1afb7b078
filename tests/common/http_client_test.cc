// ramp::http::send against a real HTTP server (cpp-httplib in the test).

#include "common/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "harness/harness.h"
#include "harness/test_server.h"

namespace ramp::http {
namespace {

using ::ramp::testing::TestServer;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& s = server_.server();
    s.set_keep_alive_max_count(100);  // httplib closes a connection after 5 requests by default
    s.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Reply", "yes");
      res.set_content("hello " + req.get_header_value("X-Name"), "text/plain");
    });
    s.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.body, req.get_header_value("Content-Type"));
    });
    s.Get("/auth", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Authorization"), "text/plain");
    });
    s.Get("/500", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    });
    s.Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");  // one per connection
    });
    s.Get("/held", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock lock(heldMu_);
      heldPorts_.push_back(req.remote_port);
      heldCv_.notify_all();
      heldCv_.wait(lock, [&] { return !holding_; });
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
    server_.start();
  }
  // Sends `n` keepAlive requests to /held at once and returns the client ports they came from,
  // once all of them are in the server at the same time.
  std::vector<int> heldAtOnce(size_t n) {
    {
      std::lock_guard lock(heldMu_);
      holding_ = true;
      heldPorts_.clear();
    }
    std::vector<std::thread> clients;
    for (size_t i = 0; i < n; ++i) {
      clients.emplace_back([&] {
        Request req;
        req.url = server_.url("/held");
        req.keepAlive = true;
        auto r = send(req);
        EXPECT_TRUE(r && r->status == 200) << (r ? r->body : r.error().message);
      });
    }
    std::vector<int> ports;
    {
      std::unique_lock lock(heldMu_);
      EXPECT_TRUE(
          heldCv_.wait_for(lock, std::chrono::seconds(30), [&] { return heldPorts_.size() == n; }));
      ports = heldPorts_;
      holding_ = false;
      heldCv_.notify_all();
    }
    for (auto& t : clients) t.join();
    return ports;
  }
  TestServer server_;
  std::mutex heldMu_;
  std::condition_variable heldCv_;
  bool holding_ = false;
  std::vector<int> heldPorts_;
};

TEST_F(HttpClientTest, GetWithHeaders) {
  Request req;
  req.url = server_.url("/hello");
  req.headers = {{"X-Name", "ramp"}};
  auto r = send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->body, "hello ramp");
  EXPECT_EQ(r->header("x-reply"), "yes");
  EXPECT_EQ(r->header("missing"), "");
}

TEST_F(HttpClientTest, PostBody) {
  Request req;
  req.method = "POST";
  req.url = server_.url("/echo");
  req.body = R"({"a":1})";
  req.headers = {{"Content-Type", "application/json"}};
  auto r = send(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"a":1})");
}

TEST_F(HttpClientTest, BasicAuth) {
  Request req;
  req.url = server_.url("/auth");
  req.basicAuth = BasicCredentials{"user", "pass"};
  auto r = send(req);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "Basic dXNlcjpwYXNz");
}

TEST_F(HttpClientTest, ServerErrorIsAResponseNotAnError) {
  Request req;
  req.url = server_.url("/500");
  auto r = send(req);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_FALSE(r->ok());
}

TEST_F(HttpClientTest, TimeoutIsDeadlineExceeded) {
  Request req;
  req.url = server_.url("/slow");
  req.timeout = std::chrono::milliseconds(200);
  auto r = send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(r.error().message.find("/slow"), std::string::npos);
}

TEST_F(HttpClientTest, RefusedIsUnavailableAndCredentialsAreStripped) {
  Request req;
  req.url =
      "http://alice:topsecret@127.0.0.1:" + std::to_string(ramp::testing::pickFreePort()) + "/x";
  auto r = send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.find("topsecret"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("http://127.0.0.1:"), std::string::npos);
}

TEST_F(HttpClientTest, BadUrlsAreInvalidArguments) {
  Request req;
  req.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(send(req).error().code, ErrorCode::kInvalidArgument);
  req.url = server_.url("/hello");
  req.method = "get me";
  EXPECT_EQ(send(req).error().code, ErrorCode::kInvalidArgument);
}

// keepAlive requests share the connections of a pool (the server sees the same client port),
// whatever thread sends them; requests at once take one each; two idle ones are kept, the rest
// closed. Without keepAlive every request has its own connection.
TEST_F(HttpClientTest, KeepAliveRequestsShareAPoolOfConnections) {
  auto port = [&](bool keepAlive) {
    Request req;
    req.url = server_.url("/port");
    req.keepAlive = keepAlive;
    auto r = send(req);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : r.error().message);
    return r ? std::stoi(r->body) : 0;
  };
  const int first = port(true);
  EXPECT_EQ(port(true), first);
  int other = 0;
  std::thread([&] { other = port(true); }).join();
  EXPECT_EQ(other, first) << "another thread takes the idle connection";
  EXPECT_NE(port(false), port(false));
  EXPECT_EQ(port(true), first) << "a request without keepAlive leaves the pool alone";

  auto three = heldAtOnce(3);  // the idle one, and two new ones
  std::set<int> seen(three.begin(), three.end());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen.contains(first));
  auto again = heldAtOnce(3);  // two of those were kept, the third closed: one new
  std::set<int> next(again.begin(), again.end());
  ASSERT_EQ(next.size(), 3u);
  int reused = 0;
  for (int p : next) reused += seen.contains(p) ? 1 : 0;
  EXPECT_EQ(reused, 2);
}

TEST_F(HttpClientTest, ConcurrentRequestsFromManyThreads) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        Request req;
        req.url = server_.url("/hello");
        auto r = send(req);
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace ramp::http
