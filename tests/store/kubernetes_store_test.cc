// store.kubernetes against the real test cluster, beyond the conformance suite: what it does on a
// cluster that has Argo Rollouts' CRDs (deploy/crds) but not Argo CD's, which is the test
// cluster's case and the common one for a drop-in controller.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/kubeconfig.h"
#include "kube/resources.h"
#include "store/kubernetes/kubernetes_state_store.h"
#include "store/store_test_support.h"

namespace ramp::store::testing {
namespace {

TEST(KubernetesStoreTest, WithoutArgoCdCrdsApplicationsAreRefusedAndRolloutsStillWork) {
  std::string skip;
  kube::Client* client = kubeTestClient(&skip);
  if (client == nullptr) GTEST_SKIP() << skip;
  emptyKubeStore(*client);
  auto store = kubernetes::KubernetesStateStore::open(*client, realClock());
  ASSERT_TRUE(store) << store.error().message;
  auto missing = (*store)->missingCustomResources();
  ASSERT_NE(std::find(missing.begin(), missing.end(), "applications.argoproj.io"), missing.end())
      << "the test cluster installs deploy/crds only; if Argo CD's CRDs are now installed, this "
         "test needs a cluster without them";

  const ObjectKey app{"Application", "default", "guestbook"};
  auto put = (*store)->put(app, R"({"spec":{}})", 0);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(put.error().message.find("applications.argoproj.io is not installed"),
            std::string::npos)
      << put.error().message;
  EXPECT_EQ((*store)->get(app).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE((*store)->list("Application", ""));
  EXPECT_TRUE((*store)->list("Application", "")->items.empty());

  const ObjectKey rollout{"Rollout", "default", "still-works"};
  auto version = (*store)->put(rollout, R"({"spec":{"replicas":1}})", 0);
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ((*store)->get(rollout)->version, *version);
  emptyKubeStore(*client);
}

// A client whose RBAC grants nothing (a fresh ServiceAccount's token): the informers' lists are
// refused, and open() says why instead of only that they did not finish.
TEST(KubernetesStoreTest, WithoutRbacOpenNamesTheRefusedList) {
  std::string skip;
  if (kubeTestClient(&skip) == nullptr) GTEST_SKIP() << skip;
  ramp::testing::KubeCluster* cluster = ramp::testing::KubeCluster::shared(&skip);
  ASSERT_NE(cluster, nullptr) << skip;
  ramp::testing::TempDir dir("ramp-kube-norbac");
  std::string out;
  ASSERT_EQ(cluster->kubectl("create serviceaccount no-rights -n default", &out), 0) << out;
  auto written =
      cluster->writeServiceAccountKubeconfig("default", "no-rights", dir.file("kubeconfig"));
  ASSERT_TRUE(written) << written.error().message;
  auto config = kube::loadKubeconfig(dir.file("kubeconfig"), "");
  ASSERT_TRUE(config) << config.error().message;
  auto client = kube::Client::create(*config, realClock());
  ASSERT_TRUE(client) << client.error().message;
  kubernetes::KubernetesStoreOptions o;
  o.syncTimeout = Duration(3000);
  auto store = kubernetes::KubernetesStateStore::open(**client, realClock(), o);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(store.error().message.find("did not finish within 3 s: list "), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("403"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("system:serviceaccount:default:no-rights"),
            std::string::npos)
      << store.error().message;
}

// The lines a store reports to its log (KubernetesStoreOptions::log), from any thread.
class LogLines {
 public:
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// Events are listed as soon as they are appended and written to the API server in the
// background (event_sender.h): a new Event named "<object>.<hex>", a repeat folded into it, a
// repeat of an Event that is gone made again with its series, and one the server refuses given
// up, reported to the log and no longer listed.
TEST(KubernetesStoreTest, EventsAreWrittenInTheBackground) {
  std::string skip;
  kube::Client* client = kubeTestClient(&skip);
  if (client == nullptr) GTEST_SKIP() << skip;
  emptyKubeStore(*client);
  LogLines logged;
  kubernetes::KubernetesStoreOptions o;
  o.log = logged.sink();
  o.eventSender.maxTries = 2;
  o.eventSender.firstBackoff = Duration(10);
  auto store = kubernetes::KubernetesStateStore::open(*client, realClock(), o);
  ASSERT_TRUE(store) << store.error().message;
  auto& s = **store;

  Event e;
  e.time = realClock().now();
  e.object = ObjectKey{"Rollout", "default", "evented"};
  e.reason = "ScalingReplicaSet";
  e.message = "Scaled up ReplicaSet evented-abc to 1";
  auto first = s.appendEvent(e);
  ASSERT_TRUE(first) << first.error().message;
  auto listed = s.listEvents({.object = e.object, .sinceId = 0, .limit = 10});
  ASSERT_TRUE(listed && listed->size() == 1u) << "listed before the server has it";
  ASSERT_TRUE(s.flushEvents(Duration(10'000)));
  // The one Event about the object on the server, as JSON.
  auto onServer = [&]() -> nlohmann::json {
    auto all = client->list(kube::events(), "default");
    EXPECT_TRUE(all) << all.error().message;
    nlohmann::json found;
    for (const std::string& item : all ? all->items : std::vector<std::string>{}) {
      auto j = nlohmann::json::parse(item);
      if (j.value("/regarding/name"_json_pointer, "") != "evented") continue;
      EXPECT_TRUE(found.is_null()) << "a second Event about the object: " << item;
      found = j;
    }
    return found;
  };
  nlohmann::json made = onServer();
  ASSERT_FALSE(made.is_null());
  const std::string name = made["metadata"]["name"];
  EXPECT_EQ(name.rfind("evented.", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string("evented.").size() + 16) << name;
  EXPECT_EQ(made["note"], e.message);
  EXPECT_FALSE(made.contains("series"));

  ASSERT_TRUE(s.appendEvent(e));  // a repeat: folded into the Event
  ASSERT_TRUE(s.flushEvents(Duration(10'000)));
  nlohmann::json folded = onServer();
  EXPECT_EQ(folded["metadata"]["name"], name);
  EXPECT_EQ(folded.value("/series/count"_json_pointer, 0), 2) << folded.dump();

  // The Event goes (as after the server's --event-ttl): no longer listed once the watch says so,
  // and the next repeat is a new Event. (A repeat folded into an Event that went before the
  // watch said so is written whole, with its series: EventSender, a patch answered 404.)
  ASSERT_TRUE(client->remove(kube::events(), "default", name));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!s.listEvents({.object = e.object, .sinceId = 0, .limit = 10})->empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(s.listEvents({.object = e.object, .sinceId = 0, .limit = 10})->empty());
  ASSERT_TRUE(s.appendEvent(e));
  ASSERT_TRUE(s.flushEvents(Duration(10'000)));
  nlohmann::json again = onServer();
  EXPECT_NE(again["metadata"]["name"], name);
  EXPECT_FALSE(again.contains("series")) << again.dump();
  listed = s.listEvents({.object = e.object, .sinceId = 0, .limit = 10});
  ASSERT_TRUE(listed && listed->size() == 1u);
  EXPECT_EQ(listed->front().count, 1);

  // An Event the server refuses (its namespace does not exist): given up, reported, and no
  // longer listed; the store goes on.
  Event lost = e;
  lost.object.namespace_ = "no-such-namespace";
  ASSERT_TRUE(s.appendEvent(lost));
  ASSERT_TRUE(s.flushEvents(Duration(10'000)));
  EXPECT_TRUE(s.listEvents({.object = lost.object, .sinceId = 0, .limit = 10})->empty());
  {
    const std::vector<std::string> log = logged.lines();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("Event about Rollout/no-such-namespace/evented ScalingReplicaSet"),
              std::string::npos)
        << log[0];
    EXPECT_NE(log[0].find("was not written: create "), std::string::npos) << log[0];
    EXPECT_NE(log[0].find("404"), std::string::npos) << log[0];
  }
  EXPECT_EQ(s.listEvents({.object = e.object, .sinceId = 0, .limit = 10})->size(), 1u);
  store->reset();
  emptyKubeStore(*client);
}

// The sender's queue is bounded (EventSenderOptions::maxQueued; client-go's broadcaster drops
// too): an Event that finds it full is dropped, not listed, and the log says so at the 1st,
// 10th, 100th, … drop rather than at each. Here the bound is 0, so every Event is dropped.
TEST(KubernetesStoreTest, EventsBeyondTheQueuesBoundAreDroppedAndSaidSo) {
  std::string skip;
  kube::Client* client = kubeTestClient(&skip);
  if (client == nullptr) GTEST_SKIP() << skip;
  emptyKubeStore(*client);
  LogLines logged;
  kubernetes::KubernetesStoreOptions o;
  o.log = logged.sink();
  o.eventSender.maxQueued = 0;
  auto store = kubernetes::KubernetesStateStore::open(*client, realClock(), o);
  ASSERT_TRUE(store) << store.error().message;
  Event e;
  e.time = realClock().now();
  e.object = ObjectKey{"Rollout", "default", "dropped"};
  for (int i = 0; i < 12; ++i) {
    e.reason = "Reason" + std::to_string(i);  // not repeats: each a new Event
    ASSERT_TRUE((*store)->appendEvent(e));
  }
  ASSERT_TRUE((*store)->flushEvents(Duration(10'000)));
  EXPECT_TRUE((*store)->listEvents({.object = e.object, .sinceId = 0, .limit = 100})->empty());
  const std::vector<std::string> log = logged.lines();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(log[0].find("Events dropped: 1 so far (the latest about Rollout/default/dropped "
                        "Reason0): 0 were waiting"),
            std::string::npos)
      << log[0];
  EXPECT_NE(log[1].find("Events dropped: 10 so far"), std::string::npos) << log[1];
}

}  // namespace
}  // namespace ramp::store::testing
