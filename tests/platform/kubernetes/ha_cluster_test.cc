// High availability on Kubernetes (issue #16), on a test cluster of this binary's own (one test
// restarts its API server): `ramp serve --store store.kubernetes --platform platform.kubernetes
// --leader-elect`, a canary whose analysis step measures a web metric served by this test.
//
//  - The leader is killed with SIGKILL while the analysis runs; the standby takes the lease once
//    it expires (15 s) and finishes the release: one AnalysisRun for the step (not started
//    again), Successful with every measurement it asks for, each step completed once, the new
//    revision stable only after that.
//  - kube-apiserver is killed and started again while the analysis runs: the daemon's watches
//    and writes recover and the release completes the same way.
// Skipped, with the reason, while the cluster's programs are not built (`make kube-build`).

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "harness/test_server.h"
#include "kube/client.h"
#include "platform/kubernetes/cluster_helpers.h"

namespace ramp {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;
using rt::eventually;

constexpr int kMeasurements = 4;

json analysisTemplate(const std::string& name, int port) {
  return {
      {"apiVersion", "argoproj.io/v1alpha1"},
      {"kind", "AnalysisTemplate"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"metrics", json::array({{{"name", "ok"},
                                  {"count", kMeasurements},
                                  {"interval", "2s"},
                                  {"successCondition", "result == 1"},
                                  {"provider",
                                   {{"web",
                                     {{"url", "http://127.0.0.1:" + std::to_string(port) + "/ok"},
                                      {"jsonPath", "{$.ok}"}}}}}}})}}}};
}

json rollout(const std::string& name, const std::string& image, const std::string& tmpl) {
  return {
      {"apiVersion", "argoproj.io/v1alpha1"},
      {"kind", "Rollout"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", name}}}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}},
        {"strategy",
         {{"canary",
           {{"steps",
             json::array({{{"setWeight", 50}},
                          {{"analysis", {{"templates", json::array({{{"templateName", tmpl}}})}}}},
                          {{"pause", {{"duration", "1s"}}}}})}}}}}}}};
}

// The cluster, an admin client, and the metric's server (counting the measurements taken).
class HaOnACluster : public rt::OnTheSharedCluster {
 protected:
  void SetUp() override {
    rt::OnTheSharedCluster::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    metric_.server().Get("/ok", [this](const httplib::Request&, httplib::Response& res) {
      ++measured_;
      res.set_content(R"({"ok":1})", "application/json");
    });
    port_ = metric_.start();
  }

  // `ramp serve … --leader-elect`, its data and log in a directory of its own.
  std::unique_ptr<rt::Process> serve() {
    dirs_.push_back(std::make_unique<rt::TempDir>("ramp-k8s-ha"));
    auto p = rt::startRampOnCluster(*dirs_.back(), cluster_->kubeconfig(), "default", 60s,
                                    {"--leader-elect"});
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  }

  json get(const kube::ResourceType& type, const std::string& name) {
    auto got = client_->get(type, "default", name);
    return got ? json::parse(*got) : json();
  }

  // The AnalysisRuns of `rollout`'s revision `hash`, by name.
  std::map<std::string, json> runsOf(const std::string& rollout, const std::string& hash) {
    std::map<std::string, json> out;
    auto listed = client_->list(kube::analysisRuns(), "default");
    if (!listed) return out;
    for (const std::string& item : listed->items) {
      json run = json::parse(item);
      const std::string name = run["metadata"].value("name", "");
      if (name.starts_with(rollout + "-" + hash + "-")) out[name] = run;
    }
    return out;
  }

  // How many Events about `rollout` have `reason` and a note containing `text`.
  int events(const std::string& rollout, const std::string& reason, const std::string& text) {
    auto listed = client_->list(kube::events(), "default");
    int n = 0;
    if (!listed) return -1;
    for (const std::string& item : listed->items) {
      json e = json::parse(item);
      if (e.value("/regarding/name"_json_pointer, "") == rollout &&
          e.value("reason", "") == reason && e.value("note", "").find(text) != std::string::npos)
        ++n;
    }
    return n;
  }

  bool healthyOn(const std::string& name, const std::string& image) {
    json r = get(kube::rollouts(), name);
    return r.is_object() && r.value("/status/phase"_json_pointer, "") == "Healthy" &&
           r.value("/spec/template/spec/containers/0/image"_json_pointer, "") == image &&
           r.value("/status/stableRS"_json_pointer, "") ==
               r.value("/status/currentPodHash"_json_pointer, "") &&
           r.value("/status/availableReplicas"_json_pointer, 0) == 2;
  }

  // Deploys v1, then releases v2 and returns once v2's analysis has taken a measurement (its
  // hash in *hash).
  void releaseUntilAnalysing(const std::string& name, rt::Process& leader, std::string* hash) {
    ASSERT_TRUE(client_->create(kube::analysisTemplates(), "default",
                                analysisTemplate(name + "-quality", port_).dump()));
    ASSERT_TRUE(client_->create(kube::rollouts(), "default",
                                rollout(name, name + ":v1", name + "-quality").dump()));
    ASSERT_TRUE(eventually([&] { return healthyOn(name, name + ":v1"); }))
        << get(kube::rollouts(), name).dump() << leader.log();
    ASSERT_TRUE(client_->patch(kube::rollouts(), "default", name, kube::PatchType::kMerge,
                               R"({"spec":{"template":{"spec":{"containers":[{"name":"app",)"
                               R"("image":")" +
                                   name + R"(:v2"}]}}}})"));
    const int before = measured_;
    ASSERT_TRUE(eventually([&] {
      json r = get(kube::rollouts(), name);
      *hash = r.value("/status/currentPodHash"_json_pointer, "");
      return r.value("/status/currentStepIndex"_json_pointer, -1) == 1 && measured_ > before &&
             runsOf(name, *hash).size() == 1;
    })) << get(kube::rollouts(), name).dump()
        << leader.log();
  }

  // What a user sees after the release, whatever happened during it.
  // `logs`: the daemons' logs, shown when it does not hold.
  void expectOneCleanRelease(const std::string& name, const std::string& hash,
                             const std::string& logs) {
    auto runs = runsOf(name, hash);
    std::string all;
    for (const auto& [runName, run] : runs) {
      all += "\n" + runName + ": " + run.value("/status/phase"_json_pointer, "") + " created " +
             run.value("/metadata/creationTimestamp"_json_pointer, "") + " labels " +
             run["metadata"].value("labels", json::object()).dump();
    }
    ASSERT_EQ(runs.size(), 1u) << "the analysis step was started again:" << all << "\n" << logs;
    const json& run = runs.begin()->second;
    EXPECT_EQ(run.value("/status/phase"_json_pointer, ""), "Successful") << run.dump();
    EXPECT_EQ(run.value("/status/metricResults/0/count"_json_pointer, 0), kMeasurements)
        << run.dump();
    EXPECT_EQ(run.value("/status/metricResults/0/successful"_json_pointer, 0), kMeasurements)
        << run.dump();
    for (int step = 1; step <= 3; ++step) {
      const std::string text = "Rollout step " + std::to_string(step) + "/3 completed";
      EXPECT_LE(events(name, "RolloutStepCompleted", text), 1) << text << " repeated";
    }
    // Events are written in the background: the last may follow the status it reports.
    EXPECT_TRUE(
        eventually([&] { return events(name, "RolloutCompleted", "update to revision 2") >= 1; },
                   std::chrono::seconds(10)));
    EXPECT_EQ(events(name, "RolloutCompleted", "update to revision 2"), 1);
    EXPECT_EQ(events(name, "RolloutAborted", ""), 0);
    // The old revision is scaled down; only the new one runs.
    auto listed = client_->list(kube::replicaSets(), "default");
    ASSERT_TRUE(listed);
    for (const std::string& item : listed->items) {
      json rs = json::parse(item);
      if (rs.value("/metadata/ownerReferences/0/name"_json_pointer, "") != name) continue;
      const bool isNew =
          rs.value("/metadata/labels/rollouts-pod-template-hash"_json_pointer, "") == hash;
      EXPECT_EQ(rs.value("/spec/replicas"_json_pointer, -1), isNew ? 2 : 0) << rs.dump();
    }
  }

  std::vector<std::unique_ptr<rt::TempDir>> dirs_;
  rt::TestServer metric_;
  int port_ = 0;
  std::atomic<int> measured_{0};
};

TEST_F(HaOnACluster, TheStandbyFinishesTheReleaseAfterTheLeaderIsKilled) {
  auto a = serve();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(eventually([&] { return a->log().find("leading as") != std::string::npos; }, 60s))
      << a->log();
  auto b = serve();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(
      eventually([&] { return b->log().find("ramp serve: ready") != std::string::npos; }, 60s))
      << b->log();

  std::string hash;
  releaseUntilAnalysing("ha", *a, &hash);
  if (HasFatalFailure()) return;
  EXPECT_EQ(b->log().find("leading as"), std::string::npos) << b->log();
  ::kill(a->pid(), SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return b->log().find("leading as") != std::string::npos; }, 40s))
      << b->log();
  const auto tookOver = std::chrono::steady_clock::now() - killed;
  // The lease lasts 15 s from the leader's last renewal (every 2 s); the standby retries every
  // 2 s: it leads within 15 + 2 s of the kill, plus 3 s of slack for a loaded 2-core machine.
  EXPECT_LT(tookOver, 20s)
      << std::chrono::duration_cast<std::chrono::milliseconds>(tookOver).count() << " ms";

  ASSERT_TRUE(eventually([&] { return healthyOn("ha", "ha:v2"); }))
      << get(kube::rollouts(), "ha").dump() << b->log();
  expectOneCleanRelease("ha", hash,
                        "--- the killed leader:\n" + a->log() + "--- the standby:\n" + b->log());
  EXPECT_EQ(WEXITSTATUS(b->stop()), 0) << b->log();
}

TEST_F(HaOnACluster, TheReleaseCompletesAcrossAnApiServerRestart) {
  auto a = serve();
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(eventually([&] { return a->log().find("leading as") != std::string::npos; }, 60s))
      << a->log();
  std::string hash;
  releaseUntilAnalysing("restart", *a, &hash);
  if (HasFatalFailure()) return;
  std::string out;
  ASSERT_EQ(cluster_->restartApiServer(&out), 0) << out;

  ASSERT_TRUE(eventually([&] { return healthyOn("restart", "restart:v2"); }))
      << get(kube::rollouts(), "restart").dump() << a->log();
  expectOneCleanRelease("restart", hash, a->log());
  EXPECT_TRUE(a->running()) << a->log();
  EXPECT_EQ(WEXITSTATUS(a->stop()), 0) << a->log();
}

}  // namespace
}  // namespace ramp
