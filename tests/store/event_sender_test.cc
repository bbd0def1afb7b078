// store.kubernetes's EventSender against an HTTP server on loopback (cpp-httplib) that plays the
// API server's Events endpoint with scripted answers, on a simulated clock (the sender's backoff
// is the clock's advance): retries of what may pass on another try, none of what will not, a
// repeat of an Event that is gone written whole, and the bounded drain when it stops.

#include "store/kubernetes/event_sender.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "fakes/simulated_clock.h"
#include "harness/test_server.h"
#include "kube/client.h"

namespace ramp::store::kubernetes {
namespace {

using ::ramp::testing::SimulatedClock;
using ::ramp::testing::TestServer;

constexpr const char* kCollection = "/apis/events.k8s.io/v1/namespaces/shop/events";

std::string eventObject(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"shop","resourceVersion":")" + rv +
         R"("}})";
}

// The API server's side: each request takes the next scripted HTTP status (201/200 when the
// script is empty) and is recorded as "METHOD path".
class ScriptedEvents {
 public:
  explicit ScriptedEvents(TestServer& server) {
    auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      int status = 0;
      {
        std::unique_lock lock(mu_);
        requests_.push_back(req.method + " " + req.path);
        cv_.notify_all();
        cv_.wait(lock, [&] { return !held_; });
        if (!script_.empty()) {
          status = script_.front();
          script_.pop_front();
        }
      }
      if (status == 0) status = req.method == "POST" ? 201 : 200;
      res.status = status;
      if (status < 300) {
        res.set_content(eventObject("web.1", "7"), "application/json");
      } else {
        res.set_content(R"({"kind":"Status","reason":"Scripted","message":"scripted"})",
                        "application/json");
      }
    };
    server.server().Post(kCollection, answer);
    server.server().Patch(std::string(kCollection) + "/web.1", answer);
  }
  void script(std::vector<int> statuses) {
    std::lock_guard lock(mu_);
    script_.assign(statuses.begin(), statuses.end());
  }
  // While held, requests wait in the handler (after being recorded) until release().
  void hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  void waitForRequests(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return requests_.size() >= n; });
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> script_;
  std::vector<std::string> requests_;
  bool held_ = false;
};

// What the sender reported, in order: the HTTP outcome's error code name, or "ok".
class Outcomes {
 public:
  EventSender::Written sink() {
    return [this](const EventWrite& w, const Result<std::string>& reply) {
      std::lock_guard lock(mu_);
      seen_.push_back(w.name + ":" +
                      (reply ? std::string("ok") : std::string(errorCodeName(reply.error().code))));
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

EventWrite create(const std::string& name) {
  EventWrite w;
  w.namespace_ = "shop";
  w.name = name;
  w.body = eventObject(name, "");
  w.about = "Rollout/shop/web RolloutUpdated";
  return w;
}

struct Fixture {
  TestServer server;
  ScriptedEvents events{server};
  SimulatedClock clock;
  std::unique_ptr<kube::Client> client;
  Fixture() {
    server.start();
    kube::ClusterConfig config;
    config.server = server.url();
    kube::ClientOptions options;
    options.qps = 0;  // no client-side limit: the clock moves only by the sender's backoff
    client = std::move(*kube::Client::create(config, clock, options));
  }
};

TEST(EventSender, RetriesWhatMayPassOnAnotherTryAndNothingElse) {
  Fixture f;
  Outcomes outcomes;
  EventSender sender(*f.client, f.clock, outcomes.sink());
  const Time start = f.clock.now();
  f.events.script({503, 429, 201, 422});
  sender.send(create("web.1"));  // 503, 429, then written
  sender.send(create("web.2"));  // 422: the request is wrong; no second try
  ASSERT_TRUE(sender.flush(Duration(10'000)));
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:ok", "web.2:invalid_argument"}));
  EXPECT_EQ(f.events.requests().size(), 4u);
  EXPECT_EQ(f.clock.now() - start, Duration(500 + 1000)) << "two backoffs, doubled";
}

TEST(EventSender, GivesUpAfterItsTries) {
  Fixture f;
  Outcomes outcomes;
  EventSenderOptions options;
  options.maxTries = 3;
  EventSender sender(*f.client, f.clock, outcomes.sink(), options);
  f.events.script({500, 500, 500});
  sender.send(create("web.1"));
  ASSERT_TRUE(sender.flush(Duration(10'000)));
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:unavailable"}));
  EXPECT_EQ(f.events.requests().size(), 3u);
}

// A repeat folded into an Event the server no longer has (expired, or its create was given up)
// creates it whole, from the write's body.
TEST(EventSender, ARepeatOfAnEventThatIsGoneCreatesIt) {
  Fixture f;
  Outcomes outcomes;
  EventSender sender(*f.client, f.clock, outcomes.sink());
  f.events.script({404});
  EventWrite repeat = create("web.1");
  repeat.patch = R"({"series":{"count":2,"lastObservedTime":"2026-01-01T00:00:00.000000Z"}})";
  repeat.count = 2;
  sender.send(repeat);
  ASSERT_TRUE(sender.flush(Duration(10'000)));
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:ok"}));
  EXPECT_EQ(f.events.requests(),
            (std::vector<std::string>{std::string("PATCH ") + kCollection + "/web.1",
                                      std::string("POST ") + kCollection}));
}

// Stopping (stop(), then the destructor): what is queued is tried once each, and after the first
// failure the rest are given up (kCancelled) instead of holding up the daemon's exit.
TEST(EventSender, StoppingTriesTheQueueOnceAndGivesUpAfterAFailure) {
  Fixture f;
  Outcomes outcomes;
  auto sender = std::make_unique<EventSender>(*f.client, f.clock, outcomes.sink());
  f.events.script({503, 503});
  f.events.hold();
  sender->send(create("web.1"));
  f.events.waitForRequests(1);  // web.1's first try is at the server, held
  sender->send(create("web.2"));
  sender->send(create("web.3"));
  sender->stop();
  f.events.release();  // web.1's try answers 503; stopping, it is not tried again
  sender.reset();
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:unavailable", "web.2:unavailable",
                                                       "web.3:cancelled"}));
  EXPECT_EQ(f.events.requests().size(), 2u) << "web.1 once (no retry while stopping), web.2 once";
}

// Stopping with a backlog: past the drain timeout the rest are given up.
TEST(EventSender, StoppingGivesUpWhatIsLeftAfterTheDrainTimeout) {
  Fixture f;
  Outcomes outcomes;
  EventSenderOptions options;
  options.drainTimeout = Duration(0);
  auto sender = std::make_unique<EventSender>(*f.client, f.clock, outcomes.sink(), options);
  f.events.hold();
  sender->send(create("web.1"));
  f.events.waitForRequests(1);
  sender->send(create("web.2"));
  sender->stop();
  f.events.release();  // web.1 is written; web.2 comes after the (zero) drain time
  sender.reset();
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:ok", "web.2:cancelled"}));
}

TEST(EventSender, TheQueueIsBounded) {
  Fixture f;
  Outcomes outcomes;
  EventSenderOptions options;
  options.maxQueued = 1;
  EventSender sender(*f.client, f.clock, outcomes.sink(), options);
  f.events.hold();
  EXPECT_TRUE(sender.send(create("web.1")));
  f.events.waitForRequests(1);  // taken off the queue: being written
  EXPECT_TRUE(sender.send(create("web.2")));
  EXPECT_FALSE(sender.send(create("web.3"))) << "one waits already";
  f.events.release();
  ASSERT_TRUE(sender.flush(Duration(10'000)));
  EXPECT_EQ(outcomes.seen(), (std::vector<std::string>{"web.1:ok", "web.2:ok"}));
}

}  // namespace
}  // namespace ramp::store::kubernetes
