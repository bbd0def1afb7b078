// kube::Client against an HTTP server on loopback (cpp-httplib) that plays the API server's side
// of a watch, and its client-side rate limit on a simulated clock.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "fakes/simulated_clock.h"
#include "harness/test_server.h"
#include "kube/client.h"
#include "ramp/clock.h"

namespace ramp::kube {
namespace {

using ::ramp::testing::SimulatedClock;
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

// Argo's --qps/--burst hold for each of its two clientsets: argoproj.io's kinds and the rest
// each have their own bucket (rateClass), so a Rollout write never waits behind ReplicaSet or
// Event requests. On a simulated clock the client's waits are the clock's advance.
TEST(KubeClientRateLimit, ArgoprojKindsAndTheRestHaveABucketEach) {
  EXPECT_EQ(rateClass("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web"), 1);
  EXPECT_EQ(rateClass("/apis/argoproj.io/v1alpha1/clusteranalysistemplates"), 1);
  EXPECT_EQ(rateClass("/apis/apps/v1/namespaces/shop/replicasets"), 0);
  EXPECT_EQ(rateClass("/apis/events.k8s.io/v1/namespaces/shop/events"), 0);
  EXPECT_EQ(rateClass("/api/v1/namespaces/shop/pods"), 0);
  EXPECT_EQ(rateClass("/apis/argoproj.io.example.com/v1/things"), 0);

  TestServer server;
  auto object = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"metadata":{"name":"web","namespace":"shop","resourceVersion":"1"}})",
                    "application/json");
  };
  server.server().Get("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web", object);
  server.server().Get("/apis/apps/v1/namespaces/shop/replicasets/web", object);
  server.start();
  ClusterConfig config;
  config.server = server.url();
  ClientOptions options;
  options.qps = 2;  // a token every 500 ms
  options.burst = 1;
  SimulatedClock clock;
  const Time start = clock.now();
  auto client = Client::create(config, clock, options);
  ASSERT_TRUE(client) << client.error().message;
  ASSERT_TRUE((*client)->get(rollouts(), "shop", "web"));
  ASSERT_TRUE((*client)->get(replicaSets(), "shop", "web"));
  EXPECT_EQ(clock.now() - start, Duration(0)) << "one token of each bucket";
  ASSERT_TRUE((*client)->get(rollouts(), "shop", "web"));
  EXPECT_EQ(clock.now() - start, Duration(500)) << "the second Rollout GET waits for a token";
  ASSERT_TRUE((*client)->get(replicaSets(), "shop", "web"));
  EXPECT_EQ(clock.now() - start, Duration(500))
      << "the ReplicaSet bucket refilled meanwhile; nothing waits behind the Rollout GETs";
  ASSERT_TRUE((*client)->get(replicaSets(), "shop", "web"));
  EXPECT_EQ(clock.now() - start, Duration(1000));
}

}  // namespace
}  // namespace ramp::kube
