// kube::Client::watch against an HTTP server on loopback (cpp-httplib) that plays the API
// server's side of a watch.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness/test_server.h"
#include "kube/client.h"
#include "ramp/clock.h"

namespace ramp::kube {
namespace {

using ::ramp::testing::TestServer;

// A watch of a kind where nothing happens stays silent until the server's timeoutSeconds: the
// client must not give up after its per-request timeout (it restarted every idle watch twice a
// minute). Here the server says nothing for 2.5 s, three times the client's 0.8 s timeout, then
// sends an event and ends the watch, as the API server does at timeoutSeconds.
TEST(KubeClientWatch, ASilenceShorterThanTheWatchsTimeoutIsNotAnError) {
  TestServer server;
  server.server().Get(
      "/api/v1/namespaces/shop/services", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2500));
          const std::string line =
              R"({"type":"ADDED","object":{"metadata":{"name":"web","namespace":"shop",)"
              R"("resourceVersion":"7"}}})"
              "\n";
          sink.write(line.data(), line.size());
          sink.done();
          return true;
        });
      });
  server.start();
  ClusterConfig config;
  config.server = server.url();
  ClientOptions options;
  options.timeout = Duration(800);
  auto client = Client::create(config, realClock(), options);
  ASSERT_TRUE(client) << client.error().message;
  WatchOptions watch;
  watch.resourceVersion = "5";
  watch.timeoutSeconds = 5;
  int events = 0;
  std::string rv;
  auto done = (*client)->watch(services(), "shop", watch, [&](const WatchEvent& e) {
    ++events;
    rv = e.resourceVersion;
    return true;
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(events, 1);
  EXPECT_EQ(rv, "7");
}

}  // namespace
}  // namespace ramp::kube
