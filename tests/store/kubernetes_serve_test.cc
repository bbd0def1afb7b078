// `ramp serve --store store.kubernetes`: ramp as a drop-in for the Argo Rollouts controller on the
// real test cluster. Rollouts and an AnalysisTemplate are created with the cluster's API (as
// kubectl would), not through ramp; the daemon (platform.sim, no pods needed) picks them up,
// creates the AnalysisRun in the cluster, and writes each Rollout's status through the /status
// subresource, where a plain GET of the custom resource reads it. A Rollout ramp cannot read does
// not stop the others.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness/harness.h"
#include "kube/client.h"
#include "store/kubernetes/custom_resources.h"
#include "store/store_test_support.h"

namespace ramp::store::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const kube::ResourceType& rollouts() {
  static const kube::ResourceType t = *kubernetes::resourceFor("Rollout");
  return t;
}

json rollout(const std::string& name, const std::string& image) {
  return json::parse(R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": ")" +
                     name + R"(", "namespace": "default"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": ")" +
                     name + R"("}},
      "template": {"metadata": {"labels": {"app": ")" +
                     name + R"("},
                                "annotations": {"sim.ramp.dev/ready-after": "100ms"}},
                   "spec": {"containers": [{"name": "app", "image": ")" +
                     image + R"("}]}},
      "strategy": {"canary": {"trafficRouting": {"plugins": {"ramp/sim": {}}},
        "steps": [{"setWeight": 50},
                  {"analysis": {"templates": [{"templateName": "quality"}]}},
                  {"setWeight": 100}]}}}})");
}

constexpr const char* kTemplate = R"({
  "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
  "metadata": {"name": "quality", "namespace": "default"},
  "spec": {"metrics": [{"name": "ok", "count": 2, "interval": "200ms",
    "successCondition": "result >= 0.95",
    "provider": {"plugin": {"ramp/sim": {"key": "k", "script": {"*": [0.99]}}}}}]}})";

// Polls the Rollout with a plain GET until `done` holds (or the time is up); returns the last copy.
json waitFor(kube::Client& client, const std::string& name,
             const std::function<bool(const json&)>& done, std::chrono::seconds timeout) {
  json last;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = client.get(rollouts(), "default", name);
    if (got) {
      last = json::parse(*got);
      if (done(last)) return last;
    }
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

std::string phase(const json& r) { return r.value("/status/phase"_json_pointer, ""); }

// Every Event ramp wrote about `rollout`, as {reason, instance-id label ("" = none)}.
std::vector<std::pair<std::string, std::string>> eventsAbout(kube::Client& client,
                                                             const std::string& rollout) {
  kube::ListOptions lo;
  lo.labelSelector = std::string(kubernetes::kManagedByLabel) + "=" + kubernetes::kManagedBy;
  std::vector<std::pair<std::string, std::string>> out;
  auto events = client.list(kube::events(), "default", lo);
  EXPECT_TRUE(events) << events.error().message;
  if (!events) return out;
  for (const auto& e : events->items) {
    json j = json::parse(e);
    if (j["regarding"]["name"] != rollout) continue;
    out.emplace_back(j["reason"].get<std::string>(),
                     j["metadata"]["labels"].value(kubernetes::kInstanceIdLabel, ""));
  }
  return out;
}

// The reasons of the Events about `rollout`, once `wanted` is among them (they are written in
// the background: the last ones may follow the status they report), or when `timeout` is up.
std::set<std::string> reasonsAbout(kube::Client& client, const std::string& rollout,
                                   const std::string& wanted, std::chrono::seconds timeout) {
  std::set<std::string> reasons;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    reasons.clear();
    for (const auto& [reason, label] : eventsAbout(client, rollout)) reasons.insert(reason);
    if (reasons.contains(wanted) || std::chrono::steady_clock::now() >= deadline) return reasons;
    std::this_thread::sleep_for(200ms);
  }
}

// Polls the process's log until it holds `text` (true) or the time is up or it exited (false).
bool waitForLog(ramp::testing::Process& p, const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p.log().find(text) != std::string::npos) return true;
    if (!p.running()) return false;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// `ramp serve --store store.kubernetes` on the test cluster (platform.sim), data in `dataDir`.
std::unique_ptr<ramp::testing::Process> startServe(const std::string& dataDir,
                                                   std::vector<std::string> extra = {}) {
  ramp::testing::ProcessOptions o;
  o.argv = {ramp::testing::binaryDir() + "/ramp",
            "serve",
            "--data",
            dataDir,
            "--store",
            "store.kubernetes",
            "--kubeconfig",
            kubeTestKubeconfig(),
            "--platform",
            "platform.sim",
            "--progress-poll-ms",
            "100"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.logFile = dataDir + ".log";
  auto p = ramp::testing::Process::start(o);
  EXPECT_TRUE(p) << p.error().message;
  if (!p) return nullptr;
  EXPECT_TRUE(waitForLog(**p, "ramp serve: ready", 30s)) << (*p)->log();
  return std::move(*p);
}

TEST(KubernetesServeTest, PicksUpRolloutsFromTheClusterAndWritesTheirStatusBack) {
  std::string reason;
  kube::Client* client = kubeTestClient(&reason);
  if (client == nullptr) GTEST_SKIP() << reason;
  emptyKubeStore(*client);
  ramp::testing::TempDir dir("ramp-kube-serve");

  // Before the daemon starts: a Rollout ramp cannot read (a field Argo's Rollout does not have).
  json bad = rollout("bad", "demo:v1");
  bad["spec"]["replicaz"] = 3;
  ASSERT_TRUE(client->create(rollouts(), "default", bad.dump()));
  ASSERT_TRUE(client->create(*kubernetes::resourceFor("AnalysisTemplate"), "default", kTemplate));

  auto serve = startServe(dir.file("serve"));
  ASSERT_NE(serve, nullptr);

  // Created with the cluster's API while the daemon runs: the informers pick it up.
  ASSERT_TRUE(client->create(rollouts(), "default", rollout("web", "demo:v1").dump()));
  json web = waitFor(
      *client, "web", [](const json& r) { return phase(r) == "Healthy"; }, 60s);
  ASSERT_EQ(phase(web), "Healthy") << web.dump(2) << "\n" << serve->log();
  EXPECT_EQ(web["status"]["observedGeneration"],
            std::to_string(web["metadata"]["generation"].get<int64_t>()));

  // An update with the cluster's API (a new image): the canary runs its steps, with the
  // AnalysisRun created in the cluster, and ends Healthy on the new revision.
  web["spec"]["template"]["spec"]["containers"][0]["image"] = "demo:v2";
  web.erase("status");
  auto updated = client->update(rollouts(), "default", "web", web.dump());
  ASSERT_TRUE(updated) << updated.error().message;
  json done = waitFor(
      *client, "web",
      [](const json& r) {
        return phase(r) == "Healthy" &&
               r.value("/status/observedGeneration"_json_pointer, "") ==
                   std::to_string(r["metadata"]["generation"].get<int64_t>()) &&
               r.value("/status/stableRS"_json_pointer, "") ==
                   r.value("/status/currentPodHash"_json_pointer, "x");
      },
      90s);
  ASSERT_EQ(phase(done), "Healthy") << done.dump(2) << "\n" << serve->log();
  EXPECT_EQ(done["metadata"]["generation"], 2);

  auto runs = client->list(*kubernetes::resourceFor("AnalysisRun"), "default");
  ASSERT_TRUE(runs) << runs.error().message;
  ASSERT_EQ(runs->items.size(), 1u);
  json run = json::parse(runs->items[0]);
  EXPECT_EQ(run.value("/status/phase"_json_pointer, ""), "Successful") << run.dump(2);

  // Its events are events.k8s.io Events about the Rollout, with Argo's reasons.
  const std::set<std::string> reasons = reasonsAbout(*client, "web", "RolloutCompleted", 10s);
  EXPECT_TRUE(reasons.contains("RolloutCompleted")) << json(reasons).dump();

  // The unreadable Rollout got no status and stopped nothing; the daemon is still up.
  auto badNow = client->get(rollouts(), "default", "bad");
  ASSERT_TRUE(badNow);
  EXPECT_FALSE(json::parse(*badNow).contains("status")) << *badNow;
  EXPECT_TRUE(serve->running());
  EXPECT_EQ(WEXITSTATUS(serve->stop()), 0) << serve->log();
}

// Two daemons on one store with --leader-elect: one runs the controller; when it stops, it
// hands the lease over and the other takes over the Rollouts.
TEST(KubernetesServeTest, TwoDaemonsOnOneClusterOneLeads) {
  std::string reason;
  kube::Client* client = kubeTestClient(&reason);
  if (client == nullptr) GTEST_SKIP() << reason;
  emptyKubeStore(*client);
  ramp::testing::TempDir dir("ramp-kube-leader");

  auto a = startServe(dir.file("a"), {"--leader-elect"});
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(waitForLog(*a, "leading as", 30s)) << a->log();
  auto b = startServe(dir.file("b"), {"--leader-elect"});
  ASSERT_NE(b, nullptr);

  ASSERT_TRUE(client->create(rollouts(), "default", rollout("one", "demo:v1").dump()));
  json one = waitFor(
      *client, "one", [](const json& r) { return phase(r) == "Healthy"; }, 60s);
  ASSERT_EQ(phase(one), "Healthy") << one.dump(2) << "\n" << a->log();
  EXPECT_EQ(b->log().find("leading as"), std::string::npos) << b->log();

  // The leader stops (and releases the lease): the other takes over within a retry period.
  EXPECT_EQ(WEXITSTATUS(a->stop()), 0) << a->log();
  ASSERT_TRUE(waitForLog(*b, "leading as", 20s)) << b->log();
  ASSERT_TRUE(client->create(rollouts(), "default", rollout("two", "demo:v1").dump()));
  json two = waitFor(
      *client, "two", [](const json& r) { return phase(r) == "Healthy"; }, 60s);
  ASSERT_EQ(phase(two), "Healthy") << two.dump(2) << "\n" << b->log();
  EXPECT_EQ(WEXITSTATUS(b->stop()), 0) << b->log();
}

// Argo's --instance-id: two daemons with different ids on one cluster each run only the Rollouts
// labelled with their own id (and label what they write so); a Rollout without the label is
// left to a daemon without an id. Each leads under its own lease.
TEST(KubernetesServeTest, InstanceIdsSplitTheRolloutsBetweenDaemons) {
  std::string reason;
  kube::Client* client = kubeTestClient(&reason);
  if (client == nullptr) GTEST_SKIP() << reason;
  emptyKubeStore(*client);
  ramp::testing::TempDir dir("ramp-kube-instances");
  json quality = json::parse(kTemplate);
  quality["metadata"]["labels"][kubernetes::kInstanceIdLabel] = "shard-a";
  ASSERT_TRUE(
      client->create(*kubernetes::resourceFor("AnalysisTemplate"), "default", quality.dump()));
  for (const auto& [name, instance] : std::vector<std::pair<std::string, std::string>>{
           {"for-a", "shard-a"}, {"for-b", "shard-b"}, {"for-none", ""}}) {
    json r = rollout(name, "demo:v1");
    if (!instance.empty()) r["metadata"]["labels"][kubernetes::kInstanceIdLabel] = instance;
    ASSERT_TRUE(client->create(rollouts(), "default", r.dump()));
  }

  auto a = startServe(dir.file("a"), {"--instance-id", "shard-a", "--leader-elect"});
  ASSERT_NE(a, nullptr);
  auto b = startServe(dir.file("b"), {"--instance-id", "shard-b", "--leader-elect"});
  ASSERT_NE(b, nullptr);
  // Different instances, different leases (Argo's leaseLockName): both lead.
  EXPECT_TRUE(waitForLog(*a, "(lease argo-rollouts-controller-lock-shard-a)", 30s)) << a->log();
  EXPECT_TRUE(waitForLog(*b, "(lease argo-rollouts-controller-lock-shard-b)", 30s)) << b->log();

  for (const char* name : {"for-a", "for-b"}) {
    json r = waitFor(
        *client, name, [](const json& r) { return phase(r) == "Healthy"; }, 60s);
    ASSERT_EQ(phase(r), "Healthy") << name << r.dump(2) << "\n" << a->log() << b->log();
  }
  // A new image for shard-a's Rollout: its step analysis reads shard-a's AnalysisTemplate (b's
  // store does not hold it), and the AnalysisRun carries the Rollout's instance.
  json forA = waitFor(
      *client, "for-a", [](const json&) { return true; }, 5s);
  forA["spec"]["template"]["spec"]["containers"][0]["image"] = "demo:v2";
  forA.erase("status");
  ASSERT_TRUE(client->update(rollouts(), "default", "for-a", forA.dump()));
  json done = waitFor(
      *client, "for-a",
      [](const json& r) {
        return phase(r) == "Healthy" && r.value("/metadata/generation"_json_pointer, 0) == 2 &&
               r.value("/status/observedGeneration"_json_pointer, "") == "2" &&
               r.value("/status/stableRS"_json_pointer, "") ==
                   r.value("/status/currentPodHash"_json_pointer, "x");
      },
      90s);
  ASSERT_EQ(phase(done), "Healthy") << done.dump(2) << "\n" << a->log();
  auto runs = client->list(*kubernetes::resourceFor("AnalysisRun"), "default");
  ASSERT_TRUE(runs) << runs.error().message;
  ASSERT_EQ(runs->items.size(), 1u);
  json run = json::parse(runs->items[0]);
  EXPECT_EQ(run["metadata"]["labels"].value(kubernetes::kInstanceIdLabel, ""), "shard-a");
  EXPECT_EQ(run.value("/status/phase"_json_pointer, ""), "Successful") << run.dump(2);
  // The Rollout's events carry Argo's reasons, the analysis's among them (rollout/analysis.go).
  const std::set<std::string> aReasons = reasonsAbout(*client, "for-a", "RolloutCompleted", 10s);
  for (const char* r : {"RolloutUpdated", "ScalingReplicaSet", "RolloutStepCompleted",
                        "AnalysisRunRunning", "AnalysisRunSuccessful", "RolloutCompleted"}) {
    EXPECT_TRUE(aReasons.contains(r)) << r << " " << json(aReasons).dump();
  }

  // Neither touched the unlabelled Rollout; each wrote events only about its own, labelled with
  // its instance.
  auto none = client->get(rollouts(), "default", "for-none");
  ASSERT_TRUE(none);
  EXPECT_FALSE(json::parse(*none).contains("status")) << *none;
  EXPECT_TRUE(eventsAbout(*client, "for-none").empty());
  for (const auto& [name, instance] : std::vector<std::pair<std::string, std::string>>{
           {"for-a", "shard-a"}, {"for-b", "shard-b"}}) {
    auto events = eventsAbout(*client, name);
    EXPECT_FALSE(events.empty()) << name;
    for (const auto& [reason, label] : events) EXPECT_EQ(label, instance) << name << " " << reason;
  }
  EXPECT_EQ(WEXITSTATUS(a->stop()), 0) << a->log();
  EXPECT_EQ(WEXITSTATUS(b->stop()), 0) << b->log();

  // A daemon without an instance id runs only the unlabelled Rollout: shard-a's is left as it is.
  const size_t aEvents = eventsAbout(*client, "for-a").size();
  const std::string aVersion = waitFor(
      *client, "for-a", [](const json&) { return true; }, 5s)["metadata"]["resourceVersion"];
  auto c = startServe(dir.file("c"), {"--leader-elect"});
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(waitForLog(*c, "(lease argo-rollouts-controller-lock)", 30s)) << c->log();
  json forNone = waitFor(
      *client, "for-none", [](const json& r) { return phase(r) == "Healthy"; }, 60s);
  EXPECT_EQ(phase(forNone), "Healthy") << forNone.dump(2) << "\n" << c->log();
  for (const auto& [reason, label] : eventsAbout(*client, "for-none")) EXPECT_EQ(label, "");
  EXPECT_EQ(eventsAbout(*client, "for-a").size(), aEvents);
  EXPECT_EQ(
      waitFor(
          *client, "for-a", [](const json&) { return true; }, 5s)["metadata"]["resourceVersion"],
      aVersion);
  EXPECT_EQ(WEXITSTATUS(c->stop()), 0) << c->log();
}

}  // namespace
}  // namespace ramp::store::testing
