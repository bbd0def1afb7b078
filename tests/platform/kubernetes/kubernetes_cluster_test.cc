// platform.kubernetes end to end: the real daemon (`ramp serve --platform platform.kubernetes
// --kubeconfig … --namespace default`) against the real test cluster of scripts/kube-cluster.sh,
// whose ReplicaSet controller, scheduler and kwok turn ramp's ReplicaSets into Running, Ready
// Pods. Driven only through the `ramp` CLI, and checked through the API server: a canary with
// setWeight steps and no trafficRouting scales two ReplicaSets and switches its stable and
// canary Services; a blue-green switches its active Service's selector at promotion.
// Skipped, with the reason, while the cluster's programs are not built (`make kube-build`).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "platform/kubernetes/cluster_helpers.h"
#include "platform/kubernetes/kubernetes_driver.h"

namespace ramp {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;
using rt::adminClient;
using rt::eventually;

constexpr const char* kToken = "admin-token-0123456789abcdef";

constexpr const char* kCanary = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:v1
        ports: [{containerPort: 8080}]
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      steps:
      - setWeight: 50
      - pause: {}
)";

constexpr const char* kBlueGreen = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: shop:v1
        ports: [{containerPort: 8080}]
  strategy:
    blueGreen:
      activeService: shop-active
      previewService: shop-preview
      autoPromotionEnabled: false
)";

json service(const std::string& name, const std::string& app) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"selector", {{"app", app}}},
            {"ports", json::array({{{"port", 80}, {"targetPort", 8080}}})}}}};
}

// The URL `ramp serve` says it listens on, waited for up to a minute ("" if it never says).
std::string listeningUrl(const rt::Process& serve) {
  std::string url;
  eventually(
      [&] {
        std::string log = serve.log();
        size_t at = log.find("listening on ");
        if (at == std::string::npos) return false;
        url = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);
        return true;
      },
      60s);
  return url;
}

class PlatformOnCluster {
 public:
  PlatformOnCluster(const rt::TempDir& dir, kube::Client& client, const std::string& url)
      : dir_(dir), client_(client), url_(url) {}

  // Runs the CLI against the daemon; returns (exit code, output).
  std::pair<int, std::string> cli(const std::vector<std::string>& args) const {
    std::string cmd = "env -u RAMP_CONFIG RAMP_SERVER=" + url_ + " RAMP_TOKEN=" + kToken +
                      " HOME=" + dir_.path() + " " + rt::binaryDir() + "/ramp";
    for (const std::string& a : args) cmd += " '" + a + "'";
    cmd += " >" + dir_.file("cli.out") + " 2>&1";
    int status = std::system(cmd.c_str());
    std::ifstream in(dir_.file("cli.out"));
    std::stringstream s;
    s << in.rdbuf();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str()};
  }

  std::string phase(const std::string& rollout) const {
    json j = json::parse(cli({"get", "rollout", rollout, "-n", "default", "-o", "json"}).second,
                         nullptr, false);
    return j.is_discarded() ? "" : j["status"].value("phase", "");
  }

  // The rollout's ReplicaSets by image: {image -> ReplicaSet}.
  std::map<std::string, json> replicaSets(const std::string& rollout) const {
    kube::ListOptions o;
    o.labelSelector = "ramp.local/rollout=" + rollout;
    std::map<std::string, json> out;
    auto listed = client_.list(kube::replicaSets(), "default", o);
    if (!listed) return out;
    for (const std::string& item : listed->items) {
      json rs = json::parse(item);
      out[rs["spec"]["template"]["spec"]["containers"][0]["image"]] = rs;
    }
    return out;
  }

  // spec.replicas and status.readyReplicas of the rollout's ReplicaSet running `image`
  // ({-1, -1} when there is none).
  std::pair<int, int> counts(const std::string& rollout, const std::string& image) const {
    auto all = replicaSets(rollout);
    auto it = all.find(image);
    if (it == all.end()) return {-1, -1};
    return {it->second["spec"].value("replicas", -1),
            it->second["status"].value("readyReplicas", 0)};
  }

  std::string hashOf(const std::string& rollout, const std::string& image) const {
    auto all = replicaSets(rollout);
    auto it = all.find(image);
    return it == all.end()
               ? ""
               : it->second["metadata"]["labels"].value("rollouts-pod-template-hash", "");
  }

  // The Service's selector hash ("" when none).
  std::string selects(const std::string& name) const {
    auto got = client_.get(kube::services(), "default", name);
    if (!got) return "<" + got.error().message + ">";
    json s = json::parse(*got);
    return s["spec"]["selector"].value("rollouts-pod-template-hash", "");
  }

  std::string managedBy(const std::string& name) const {
    auto got = client_.get(kube::services(), "default", name);
    if (!got) return "";
    json s = json::parse(*got);
    return s["metadata"]
        .value("annotations", json::object())
        .value("argo-rollouts.argoproj.io/managed-by-rollouts", "");
  }

 private:
  const rt::TempDir& dir_;
  kube::Client& client_;
  std::string url_;
};

// Every test here runs on the shared test cluster with an admin client.
class KubernetesPlatformOnACluster : public rt::OnTheSharedCluster {};

TEST_F(KubernetesPlatformOnACluster, CanaryAndBlueGreenDriveReplicaSetsAndServices) {
  rt::TempDir dir("ramp-k8s-platform");
  kube::Client& client = *client_;
  for (const auto& [name, app] :
       std::vector<std::pair<std::string, std::string>>{{"web-stable", "web"},
                                                        {"web-canary", "web"},
                                                        {"shop-active", "shop"},
                                                        {"shop-preview", "shop"}}) {
    auto created = client.create(kube::services(), "default", service(name, app).dump());
    ASSERT_TRUE(created) << created.error().message;
  }

  std::ofstream(dir.file("tokens.csv")) << kToken << ",alice,admin\n";
  rt::ProcessOptions o;
  o.argv = {rt::binaryDir() + "/ramp",
            "serve",
            "--data",
            dir.file("data"),
            "--platform",
            "platform.kubernetes",
            "--kubeconfig",
            cluster_->kubeconfig(),
            "--namespace",
            "default",
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            dir.file("tokens.csv"),
            "--progress-poll-ms",
            "200"};
  o.logFile = dir.file("serve.log");
  auto serve = rt::Process::start(o);
  ASSERT_TRUE(serve) << serve.error().message;
  const std::string url = listeningUrl(**serve);
  ASSERT_FALSE(url.empty()) << (*serve)->log();
  PlatformOnCluster p(dir, client, url);

  // --- canary: setWeight 50 of 2 replicas, then an indefinite pause ---------------------------
  std::ofstream(dir.file("web.yaml")) << kCanary;
  auto applied = p.cli({"apply", "-f", dir.file("web.yaml")});
  ASSERT_EQ(applied.first, 0) << applied.second;
  auto healthy = p.cli({"status", "web", "-n", "default", "--timeout", "120s"});
  ASSERT_EQ(healthy.first, 0) << healthy.second << (*serve)->log();
  EXPECT_EQ(p.counts("web", "web:v1"), std::make_pair(2, 2));
  const std::string v1 = p.hashOf("web", "web:v1");
  ASSERT_FALSE(v1.empty());
  {
    json rs = p.replicaSets("web")["web:v1"];
    EXPECT_EQ(rs["metadata"]["name"], "web-" + v1);
    EXPECT_EQ(rs["metadata"]["annotations"]["rollout.argoproj.io/revision"], "1");
    EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["rollouts-pod-template-hash"], v1);
  }
  EXPECT_TRUE(eventually([&] { return p.selects("web-stable") == v1; })) << p.selects("web-stable");
  EXPECT_EQ(p.selects("web-canary"), v1);
  EXPECT_EQ(p.managedBy("web-stable"), "web");

  // A new image: a second ReplicaSet; at the pause one replica each, the canary Service on it.
  ASSERT_EQ(p.cli({"set", "image", "web", "web=web:v2", "-n", "default"}).first, 0);
  ASSERT_TRUE(eventually([&] { return p.phase("web") == "Paused"; })) << p.phase("web");
  EXPECT_TRUE(eventually([&] {
    return p.counts("web", "web:v2") == std::make_pair(1, 1) &&
           p.counts("web", "web:v1").first == 1;
  })) << p.counts("web", "web:v2").first
      << " " << p.counts("web", "web:v1").first;
  const std::string v2 = p.hashOf("web", "web:v2");
  ASSERT_FALSE(v2.empty());
  EXPECT_NE(v1, v2);
  EXPECT_EQ(
      p.replicaSets("web")["web:v2"]["metadata"]["annotations"]["rollout.argoproj.io/revision"],
      "2");
  EXPECT_TRUE(eventually([&] { return p.selects("web-canary") == v2; })) << p.selects("web-canary");
  EXPECT_EQ(p.selects("web-stable"), v1);

  // Promoted: v2 takes both replicas and both Services; v1 is scaled to 0.
  ASSERT_EQ(p.cli({"promote", "web", "-n", "default"}).first, 0);
  auto done = p.cli({"status", "web", "-n", "default", "--timeout", "120s"});
  ASSERT_EQ(done.first, 0) << done.second;
  EXPECT_TRUE(eventually([&] {
    return p.counts("web", "web:v2") == std::make_pair(2, 2) &&
           p.counts("web", "web:v1").first == 0;
  })) << p.counts("web", "web:v2").first
      << " " << p.counts("web", "web:v1").first;
  EXPECT_TRUE(eventually([&] { return p.selects("web-stable") == v2; })) << p.selects("web-stable");
  EXPECT_EQ(p.selects("web-canary"), v2);
  EXPECT_EQ(p.replicaSets("web").size(), 2u);  // nothing duplicated

  // `ramp get rollout` lists the Pods as replicas.
  auto tree = p.cli({"get", "rollout", "web", "-n", "default"});
  EXPECT_NE(tree.second.find("web-" + v2), std::string::npos) << tree.second;

  // --- blue-green: preview on v2 at once, active switched at promotion --------------------------
  std::ofstream(dir.file("shop.yaml")) << kBlueGreen;
  applied = p.cli({"apply", "-f", dir.file("shop.yaml")});
  ASSERT_EQ(applied.first, 0) << applied.second;
  healthy = p.cli({"status", "shop", "-n", "default", "--timeout", "120s"});
  ASSERT_EQ(healthy.first, 0) << healthy.second << (*serve)->log();
  const std::string s1 = p.hashOf("shop", "shop:v1");
  ASSERT_FALSE(s1.empty());
  EXPECT_TRUE(eventually([&] { return p.selects("shop-active") == s1; }))
      << p.selects("shop-active");
  EXPECT_EQ(p.managedBy("shop-active"), "shop");

  ASSERT_EQ(p.cli({"set", "image", "shop", "shop=shop:v2", "-n", "default"}).first, 0);
  ASSERT_TRUE(eventually([&] { return p.phase("shop") == "Paused"; })) << p.phase("shop");
  const std::string s2 = p.hashOf("shop", "shop:v2");
  ASSERT_FALSE(s2.empty());
  EXPECT_TRUE(eventually([&] { return p.selects("shop-preview") == s2; }))
      << p.selects("shop-preview");
  EXPECT_EQ(p.selects("shop-active"), s1);  // not before promotion

  ASSERT_EQ(p.cli({"promote", "shop", "-n", "default"}).first, 0);
  EXPECT_TRUE(eventually([&] { return p.selects("shop-active") == s2; }))
      << p.selects("shop-active");
  done = p.cli({"status", "shop", "-n", "default", "--timeout", "120s"});
  EXPECT_EQ(done.first, 0) << done.second;
  // The old revision keeps its replicas for scaleDownDelaySeconds (30 s), marked with Argo's
  // scale-down-deadline annotation.
  EXPECT_TRUE(eventually([&] {
    json rs = p.replicaSets("shop")["shop:v1"];
    return rs["metadata"].value("annotations", json::object()).contains("scale-down-deadline");
  })) << p.replicaSets("shop")["shop:v1"].dump();
  auto events = p.cli({"get", "rollout", "shop", "-n", "default"});
  EXPECT_NE(events.second.find("Switched selector for service 'shop-active' from '" + s1 +
                               "' to '" + s2 + "'"),
            std::string::npos)
      << events.second;

  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

// A Deployment as `kubectl create deployment` makes it: `replicas` Pods labelled app=NAME.
json deployment(const std::string& name, const std::string& image, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec",
               {{"containers",
                 json::array({{{"name", name},
                               {"image", image},
                               {"ports", json::array({{{"containerPort", 8080}}})}}})}}}}}}}};
}

// A Rollout migrating from the Deployment of the same name (Argo's workloadRef), as kubectl
// would apply it to the cluster.
json migratingRollout(const std::string& name, int replicas, const std::string& scaleDown) {
  return {
      {"apiVersion", "argoproj.io/v1alpha1"},
      {"kind", "Rollout"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", replicas},
        {"workloadRef",
         {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"name", name},
          {"scaleDown", scaleDown}}},
        {"strategy",
         {{"canary",
           {{"steps", json::array({{{"setWeight", 50}}, {{"pause", {{"duration", "1s"}}}}})}}}}}}}};
}

// ramp as a drop-in for Argo's controller (`--store store.kubernetes --platform
// platform.kubernetes`): Rollouts created with the cluster's API migrate from Deployments through
// spec.workloadRef (the ReplicaSet runs the Deployment's template, the Deployment is scaled down
// as scaleDown says, a new template in the Deployment is a new revision), and the Events about a
// Rollout carry Argo's reasons where `kubectl describe rollout` and `kubectl get events` show
// them.
TEST_F(KubernetesPlatformOnACluster, WorkloadRefMigratesFromADeploymentWithArgosEvents) {
  rt::TempDir dir("ramp-k8s-workloadref");
  kube::Client& client = *client_;
  const kube::ResourceType& rollouts = kube::rollouts();
  auto get = [&](const kube::ResourceType& type, const std::string& name) {
    auto got = client.get(type, "default", name);
    return got ? json::parse(*got) : json();
  };
  auto deploymentReplicas = [&](const std::string& name) {
    return get(kube::deployments(), name)["spec"].value("replicas", -1);
  };
  // The Deployments run (their Pods Ready) before the Rollouts exist.
  ASSERT_TRUE(
      client.create(kube::deployments(), "default", deployment("legacy", "legacy:v1", 2).dump()));
  ASSERT_TRUE(
      client.create(kube::deployments(), "default", deployment("gradual", "gradual:v1", 3).dump()));
  ASSERT_TRUE(eventually([&] {
    return get(kube::deployments(), "legacy")["status"].value("readyReplicas", 0) == 2 &&
           get(kube::deployments(), "gradual")["status"].value("readyReplicas", 0) == 3;
  }));

  auto serve = rt::startRampOnCluster(dir, cluster_->kubeconfig(), "default");
  ASSERT_TRUE(serve) << serve.error().message;

  ASSERT_TRUE(
      client.create(rollouts, "default", migratingRollout("legacy", 2, "onsuccess").dump()));
  ASSERT_TRUE(
      client.create(rollouts, "default", migratingRollout("gradual", 3, "progressively").dump()));
  auto healthyOn = [&](const std::string& name, const std::string& image) {
    json r = get(rollouts, name);
    const std::string hash = r.value("/status/stableRS"_json_pointer, "");
    if (r.value("/status/phase"_json_pointer, "") != "Healthy" || hash.empty()) return false;
    json rs = get(kube::replicaSets(), name + "-" + hash);
    return rs.value("/spec/template/spec/containers/0/image"_json_pointer, "") == image &&
           rs.value("/status/readyReplicas"_json_pointer, 0) == r["spec"].value("replicas", 0);
  };
  ASSERT_TRUE(eventually([&] { return healthyOn("legacy", "legacy:v1"); }))
      << get(rollouts, "legacy").dump(2) << (*serve)->log();
  json legacy = get(rollouts, "legacy");
  const std::string v1 = legacy["status"]["stableRS"];
  json rs = get(kube::replicaSets(), "legacy-" + v1);
  // The ReplicaSet runs the Deployment's template, owned by the Rollout object.
  EXPECT_EQ(rs["metadata"]["labels"]["app"], "legacy");
  EXPECT_EQ(rs["metadata"]["labels"]["rollouts-pod-template-hash"], v1);
  EXPECT_EQ(rs["metadata"]["ownerReferences"][0]["kind"], "Rollout");
  EXPECT_EQ(rs["metadata"]["ownerReferences"][0]["uid"], legacy["metadata"]["uid"]);
  // onsuccess: the Deployment goes to 0 once the Rollout is Healthy.
  EXPECT_TRUE(eventually([&] { return deploymentReplicas("legacy") == 0; }))
      << get(kube::deployments(), "legacy").dump(2);
  EXPECT_TRUE(eventually([&] {
    return get(rollouts, "legacy").value("/status/workloadObservedGeneration"_json_pointer, "") ==
           std::to_string(get(kube::deployments(), "legacy")["metadata"].value("generation", 0));
  })) << get(rollouts, "legacy").dump(2);

  // progressively: down as the Rollout's replicas become ready, 0 once Healthy.
  ASSERT_TRUE(eventually([&] { return healthyOn("gradual", "gradual:v1"); }))
      << get(rollouts, "gradual").dump(2) << (*serve)->log();
  EXPECT_TRUE(eventually([&] { return deploymentReplicas("gradual") == 0; }))
      << get(kube::deployments(), "gradual").dump(2);

  // A new image in the Deployment is a new revision of the Rollout; the Deployment stays at 0.
  auto patched = client.patch(
      kube::deployments(), "default", "legacy", kube::PatchType::kStrategicMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"legacy","image":"legacy:v2"}]}}}})");
  ASSERT_TRUE(patched) << patched.error().message;
  ASSERT_TRUE(eventually([&] { return healthyOn("legacy", "legacy:v2"); }))
      << get(rollouts, "legacy").dump(2) << (*serve)->log();
  EXPECT_EQ(
      get(kube::replicaSets(),
          "legacy-" +
              get(rollouts, "legacy")["status"]["stableRS"]
                  .get<std::string>())["metadata"]["annotations"]["rollout.argoproj.io/revision"],
      "2");
  EXPECT_EQ(deploymentReplicas("legacy"), 0);

  // Events: on the Rollout (regarding = involvedObject, with its uid) with Argo's reasons.
  std::string out;
  ASSERT_EQ(cluster_->kubectl("get events -n default --field-selector "
                              "involvedObject.kind=Rollout,involvedObject.name=legacy "
                              "-o custom-columns=REASON:.reason,MESSAGE:.message --no-headers",
                              &out),
            0)
      << out;
  for (const char* reason :
       {"NewReplicaSetCreated", "RolloutUpdated", "ScalingReplicaSet", "RolloutStepCompleted",
        "RolloutPaused", "RolloutResumed", "RolloutCompleted", "ScalingWorkloadRef"}) {
    EXPECT_NE(out.find(std::string(reason) + " "), std::string::npos) << reason << "\n" << out;
  }
  EXPECT_NE(out.find("Scaled Deployment legacy from 2 to 0 (workloadRef.scaleDown: onsuccess)"),
            std::string::npos)
      << out;
  std::string described;
  ASSERT_EQ(cluster_->kubectl("describe rollout legacy -n default", &described), 0) << described;
  EXPECT_NE(described.find("RolloutCompleted"), std::string::npos) << described;
  EXPECT_NE(described.find("Rollout completed update to revision 2"), std::string::npos)
      << described;
  ASSERT_EQ(cluster_->kubectl("describe rollout gradual -n default", &described), 0) << described;
  EXPECT_NE(described.find("to 0 (workloadRef.scaleDown: progressively)"), std::string::npos)
      << described;

  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

// platform.kubernetes watches what workloadRefs name (as Argo does), so the controller needs
// no poll: the driver tells the listener about the rollout whose last resolveWorkloadRef()
// named the Deployment, when it is created and when its template changes.
TEST_F(KubernetesPlatformOnACluster, TheDriverSaysWhenAWorkloadRefsObjectChanges) {
  kube::Client& client = *client_;
  auto driver = platform::kubernetes::KubernetesDriver::create(client, realClock(),
                                                               {.namespace_ = "default"});
  ASSERT_TRUE(driver) << driver.error().message;
  std::mutex mu;
  std::vector<std::string> told;
  auto toldSoFar = [&] {
    std::lock_guard lock(mu);
    return told;
  };
  ASSERT_TRUE((*driver)->watchWorkloadRefs([&](const std::string& rolloutKey) {
    std::lock_guard lock(mu);
    told.push_back(rolloutKey);
  }));
  const spec::WorkloadRef ref{"apps/v1", "Deployment", "watched", ""};
  auto missing = (*driver)->resolveWorkloadRef("default/watcher", ref);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound) << missing.error().message;

  ASSERT_TRUE(
      client.create(kube::deployments(), "default", deployment("watched", "watched:v1", 0).dump()));
  ASSERT_TRUE(eventually([&] { return !toldSoFar().empty(); }));
  EXPECT_EQ(toldSoFar().front(), "default/watcher");
  const size_t before = toldSoFar().size();
  ASSERT_TRUE(client.patch(
      kube::deployments(), "default", "watched", kube::PatchType::kStrategicMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"watched","image":"watched:v2"}]}}}})"));
  ASSERT_TRUE(eventually([&] { return toldSoFar().size() > before; }));
  for (const std::string& key : toldSoFar()) EXPECT_EQ(key, "default/watcher");
  (*driver)->watchWorkloadRefs(nullptr);
  ASSERT_TRUE(client.remove(kube::deployments(), "default", "watched"));
}

// The driver finds a Rollout's ReplicaSets and a ReplicaSet's Pods by name (ROLLOUT-HASH,
// REPLICASET-RANDOM) and indexes only the others: here a ReplicaSet labelled for Rollout "odd"
// but named otherwise, and a Pod created by hand under another name that the ReplicaSet owns
// (the ReplicaSet controller, satisfied with it, makes none of its own).
TEST_F(KubernetesPlatformOnACluster, TheDriverFindsObjectsNamedOtherwise) {
  kube::Client& client = *client_;
  auto driver = platform::kubernetes::KubernetesDriver::create(client, realClock(),
                                                               {.namespace_ = "default"});
  ASSERT_TRUE(driver) << driver.error().message;
  const json labels = {{"app", "odd"}, {"rollouts-pod-template-hash", "oddhash"}};
  json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata",
       {{"name", "odd-named-otherwise"},
        {"namespace", "default"},
        {"labels",
         {{"app", "odd"},
          {"rollouts-pod-template-hash", "oddhash"},
          {"ramp.local/rollout", "odd"}}},
        {"annotations", {{"rollout.argoproj.io/revision", "1"}}}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", labels}}},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec", {{"containers", json::array({{{"name", "odd"}, {"image", "odd:v1"}}})}}}}}}}};
  // The Pod first, so that the ReplicaSet finds it and creates none.
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "stray"}, {"namespace", "default"}, {"labels", labels}}},
              {"spec", {{"containers", json::array({{{"name", "odd"}, {"image", "odd:v1"}}})}}}};
  ASSERT_TRUE(client.create(kube::pods(), "default", pod.dump()));
  ASSERT_TRUE(client.create(kube::replicaSets(), "default", rs.dump()));
  std::vector<std::string> names;
  int32_t current = -1;
  EXPECT_TRUE(eventually([&] {
    auto observed = (*driver)->observe("default/odd");
    if (!observed || observed->revisions.size() != 1) return false;
    current = observed->revisions[0].currentReplicas;
    auto replicas = (*driver)->observeReplicas("default/odd");
    names.clear();
    if (replicas) {
      for (const auto& r : *replicas) names.push_back(r.name);
    }
    return current == 1 && names == std::vector<std::string>{"stray"};
  })) << "currentReplicas "
      << current << ", replicas " << ::testing::PrintToString(names);
  // Its memory made again (what the controller does once quiet): the same answers, and the
  // index of objects named otherwise still finds them (the delete below).
  auto before = (*driver)->observe("default/odd");
  auto replicasBefore = (*driver)->observeReplicas("default/odd");
  (*driver)->repackMemory();
  EXPECT_EQ((*driver)->observe("default/odd"), before);
  EXPECT_EQ((*driver)->observeReplicas("default/odd"), replicasBefore);
  ASSERT_TRUE(client.remove(kube::replicaSets(), "default", "odd-named-otherwise",
                            /*foreground=*/true));
  EXPECT_TRUE(eventually([&] {
    auto observed = (*driver)->observe("default/odd");
    return observed && observed->revisions.empty();
  }));
}

// ReplicaSets annotated and labelled as Argo's (rollout/sync.go, rollout/ephemeralmetadata.go): the
// Rollout's replicas in desired-replicas and its own annotations copied; the canary's
// canaryMetadata on the new revision's pod template and Pods while it is the canary, the
// stableMetadata once it is stable, and the old revision's taken off when it has no role.
TEST_F(KubernetesPlatformOnACluster, EphemeralMetadataFollowsTheRoles) {
  rt::TempDir dir("ramp-k8s-ephemeral");
  kube::Client& client = *client_;
  auto serve = rt::startRampOnCluster(dir, cluster_->kubeconfig(), "default");
  ASSERT_TRUE(serve) << serve.error().message;

  json rollout = json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "tagged", "namespace": "default", "annotations": {"team": "shop"}},
    "spec": {
      "replicas": 2,
      "selector": {"matchLabels": {"app": "tagged"}},
      "template": {"metadata": {"labels": {"app": "tagged"}},
                   "spec": {"containers": [{"name": "tagged", "image": "tagged:v1"}]}},
      "strategy": {"canary": {
        "canaryMetadata": {"labels": {"role": "canary"}, "annotations": {"note": "new"}},
        "stableMetadata": {"labels": {"role": "stable"}},
        "steps": [{"setWeight": 50}, {"pause": {"duration": "20s"}}]}}}})");
  ASSERT_TRUE(client.create(kube::rollouts(), "default", rollout.dump()));
  auto get = [&](const kube::ResourceType& type, const std::string& name) {
    auto got = client.get(type, "default", name);
    return got ? json::parse(*got) : json::object();
  };
  auto stableHash = [&] {
    return get(kube::rollouts(), "tagged").value("/status/stableRS"_json_pointer, "");
  };
  // The value of label `key` on every Pod of revision `hash` ("" for a Pod without it), sorted.
  auto podLabels = [&](const std::string& hash, const std::string& key) {
    kube::ListOptions o;
    o.labelSelector = "rollouts-pod-template-hash=" + hash;
    std::vector<std::string> out;
    if (auto listed = client.list(kube::pods(), "default", o)) {
      for (const std::string& item : listed->items) {
        json pod = json::parse(item);
        if (pod["metadata"].contains("deletionTimestamp")) continue;
        out.push_back(pod["metadata"].value("labels", json::object()).value(key, ""));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  using Labels = std::vector<std::string>;
  auto healthyOn = [&](const std::string& image) {
    json r = get(kube::rollouts(), "tagged");
    json rs = get(kube::replicaSets(), "tagged-" + stableHash());
    return r.value("/status/phase"_json_pointer, "") == "Healthy" &&
           rs.value("/spec/template/spec/containers/0/image"_json_pointer, "") == image &&
           rs.value("/status/readyReplicas"_json_pointer, 0) == 2;
  };
  ASSERT_TRUE(eventually([&] { return healthyOn("tagged:v1"); }))
      << get(kube::rollouts(), "tagged").dump(2) << (*serve)->log();
  const std::string v1 = stableHash();
  json rs1 = get(kube::replicaSets(), "tagged-" + v1);
  EXPECT_EQ(rs1["metadata"]["annotations"]["rollout.argoproj.io/desired-replicas"], "2");
  EXPECT_EQ(rs1["metadata"]["annotations"]["team"], "shop");
  EXPECT_EQ(rs1["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"],
            R"({"labels":{"role":"stable"}})");
  EXPECT_EQ(rs1["spec"]["template"]["metadata"]["labels"]["role"], "stable");
  EXPECT_EQ(podLabels(v1, "role"), (Labels{"stable", "stable"}));

  // A new image: the canary revision is born with the canary's metadata.
  ASSERT_TRUE(client.patch(
      kube::rollouts(), "default", "tagged", kube::PatchType::kMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"tagged","image":"tagged:v2"}]}}}})"));
  std::string v2;
  ASSERT_TRUE(eventually([&] {
    json r = get(kube::rollouts(), "tagged");
    v2 = r.value("/status/currentPodHash"_json_pointer, "");
    return v2 != v1 && !v2.empty() &&
           get(kube::replicaSets(), "tagged-" + v2)
                   .value("/status/readyReplicas"_json_pointer, 0) == 1;
  })) << get(kube::rollouts(), "tagged").dump(2);
  json rs2 = get(kube::replicaSets(), "tagged-" + v2);
  EXPECT_EQ(rs2["spec"]["template"]["metadata"]["labels"]["role"], "canary");
  EXPECT_EQ(rs2["spec"]["template"]["metadata"]["annotations"]["note"], "new");
  EXPECT_EQ(podLabels(v2, "role"), (Labels{"canary"}));
  EXPECT_TRUE(eventually([&] { return podLabels(v1, "role") == Labels{"stable"}; }))
      << "the stable revision scales down to 1 and keeps its metadata: "
      << ::testing::PrintToString(podLabels(v1, "role"));

  // Promoted after the pause: v2 is stable, in its template and on its Pods (patched in place,
  // not replaced), and v1, scaled down, carries nothing injected any more.
  ASSERT_TRUE(eventually([&] { return healthyOn("tagged:v2"); }, std::chrono::seconds(90)))
      << get(kube::rollouts(), "tagged").dump(2) << (*serve)->log();
  EXPECT_TRUE(eventually([&] {
    return podLabels(v2, "role") == Labels{"stable", "stable"};
  })) << ::testing::PrintToString(podLabels(v2, "role"));
  rs2 = get(kube::replicaSets(), "tagged-" + v2);
  EXPECT_EQ(rs2["spec"]["template"]["metadata"]["labels"]["role"], "stable");
  EXPECT_FALSE(
      rs2["spec"]["template"]["metadata"].value("annotations", json::object()).contains("note"));
  EXPECT_TRUE(eventually([&] {
    json old = get(kube::replicaSets(), "tagged-" + v1);
    return !old["metadata"]["annotations"].contains("rollout.argoproj.io/ephemeral-metadata") &&
           !old["spec"]["template"]["metadata"]["labels"].contains("role");
  })) << get(kube::replicaSets(), "tagged-" + v1).dump(2);
  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();

  // Every decision has its record in the audit log's ConfigMaps, numbered without a gap (the
  // records of several workers' decisions are appended in groups: docs/audit.md).
  kube::ListOptions o;
  o.labelSelector = "store.ramp.dev/audit=records";
  auto chunks = client.list(kube::configMaps(), "", o);
  ASSERT_TRUE(chunks) << chunks.error().message;
  std::vector<int64_t> indexes;
  int aboutTagged = 0;
  for (const std::string& item : chunks->items) {
    const json data = json::parse(item).value("data", json::object());
    for (const auto& [key, value] : data.items()) {
      indexes.push_back(std::stoll(key));
      aboutTagged += json::parse(value.get<std::string>()).value("name", "") == "tagged";
    }
  }
  std::sort(indexes.begin(), indexes.end());
  for (size_t i = 0; i < indexes.size(); ++i) ASSERT_EQ(indexes[i], static_cast<int64_t>(i));
  EXPECT_GE(aboutTagged, 8) << "a release's decisions: created, scaled, stepped, promoted, …";
}

// Argo's anti-affinity (utils/replicaset, GenerateReplicaSetAffinity): with
// requiredDuringScheduling, the canary revision's Pods may not share a node with the stable
// revision's. The cluster's real scheduler places them: with a second kwok node, each release's
// canary Pod lands on the node the stable Pod is not on. The term stays on a revision that
// became stable (as Argo leaves it), and the next revision's points at it.
TEST_F(KubernetesPlatformOnACluster, AntiAffinityKeepsTheCanaryOffTheStableNode) {
  rt::TempDir dir("ramp-k8s-anti-affinity");
  kube::Client& client = *client_;
  // A second node for kwok to play (the cluster starts with kwok-node-0).
  const kube::ResourceType nodes{"", "v1", "nodes", "Node", /*namespaced=*/false};
  const json node = json::parse(R"({
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "kwok-node-1",
                 "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
                 "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-node-1",
                            "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
    "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
               "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}})");
  if (auto created = client.create(nodes, "", node.dump()); !created) {
    ASSERT_EQ(created.error().code, ErrorCode::kAlreadyExists) << created.error().message;
  }
  auto get = [&](const kube::ResourceType& type, const std::string& name) {
    auto got = client.get(type, "default", name);
    return got ? json::parse(*got) : json::object();
  };
  ASSERT_TRUE(eventually([&] {
    auto got = client.get(nodes, "", "kwok-node-1");
    if (!got) return false;
    for (const json& c :
         json::parse(*got).value("/status/conditions"_json_pointer, json::array())) {
      if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
    }
    return false;
  })) << "kwok did not make kwok-node-1 Ready";
  std::ofstream(dir.file("tokens.csv")) << kToken << ",alice,admin\n";
  auto serve = rt::startRampOnCluster(dir, cluster_->kubeconfig(), "default", 60s,
                                      {"--tokens", dir.file("tokens.csv")});
  ASSERT_TRUE(serve) << serve.error().message;
  PlatformOnCluster p(dir, client, listeningUrl(**serve));

  json rollout = json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "apart", "namespace": "default"},
    "spec": {
      "replicas": 1,
      "selector": {"matchLabels": {"app": "apart"}},
      "template": {"metadata": {"labels": {"app": "apart"}},
                   "spec": {"containers": [{"name": "apart", "image": "apart:v1"}]}},
      "strategy": {"canary": {
        "antiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}},
        "steps": [{"setWeight": 50}, {"pause": {}}]}}}})");
  ASSERT_TRUE(client.create(kube::rollouts(), "default", rollout.dump()));
  // The node of each running Pod of revision `hash` (a Pod not bound yet: "").
  auto nodesOf = [&](const std::string& hash) {
    kube::ListOptions o;
    o.labelSelector = "rollouts-pod-template-hash=" + hash;
    std::vector<std::string> out;
    if (auto listed = client.list(kube::pods(), "default", o)) {
      for (const std::string& item : listed->items) {
        json pod = json::parse(item);
        if (pod["metadata"].contains("deletionTimestamp")) continue;
        out.push_back(pod.value("/spec/nodeName"_json_pointer, ""));
      }
    }
    return out;
  };
  auto status = [&](const char* field) {
    return get(kube::rollouts(), "apart")
        .value("/status"_json_pointer, json::object())
        .value(field, "");
  };
  auto release = [&](const std::string& image) {
    ASSERT_TRUE(
        client.patch(kube::rollouts(), "default", "apart", kube::PatchType::kMerge,
                     R"({"spec":{"template":{"spec":{"containers":[{"name":"apart","image":")" +
                         image + R"("}]}}}})"));
  };
  ASSERT_TRUE(eventually([&] { return status("phase") == "Healthy"; }))
      << get(kube::rollouts(), "apart").dump(2) << (*serve)->log();
  const std::string v1 = status("stableRS");
  EXPECT_FALSE(get(kube::replicaSets(), "apart-" + v1)
                   .value("/spec/template/spec"_json_pointer, json::object())
                   .contains("affinity"))
      << "the first revision has no stable revision to keep away from";

  std::string stable = v1;
  for (const std::string image : {"apart:v2", "apart:v3"}) {
    SCOPED_TRACE(image);
    release(image);
    std::string canary;
    ASSERT_TRUE(eventually([&] {
      canary = status("currentPodHash");
      return canary != stable && status("phase") == "Paused";
    })) << get(kube::rollouts(), "apart").dump(2);
    json rs = get(kube::replicaSets(), "apart-" + canary);
    EXPECT_EQ(rs.value("/spec/template/spec/affinity"_json_pointer, json()),
              json::parse(R"({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                  [{"labelSelector": {"matchExpressions": [{"key": "rollouts-pod-template-hash",
                                                            "operator": "In",
                                                            "values": [")" +
                          stable + R"("]}]},
                    "namespaces": ["default"], "topologyKey": "kubernetes.io/hostname"}]}})"))
        << rs.dump(2);
    std::vector<std::string> stableNodes, canaryNodes;
    ASSERT_TRUE(eventually([&] {
      stableNodes = nodesOf(stable);
      canaryNodes = nodesOf(canary);
      return stableNodes.size() == 1 && canaryNodes.size() == 1 && !stableNodes[0].empty() &&
             !canaryNodes[0].empty();
    })) << ::testing::PrintToString(stableNodes)
        << " " << ::testing::PrintToString(canaryNodes);
    EXPECT_NE(canaryNodes[0], stableNodes[0]) << "the scheduler put them on one node";
    auto [code, out] = p.cli({"promote", "apart", "-n", "default"});
    ASSERT_EQ(code, 0) << out;
    ASSERT_TRUE(eventually([&] {
      return status("phase") == "Healthy" && status("stableRS") == canary;
    })) << get(kube::rollouts(), "apart").dump(2);
    EXPECT_TRUE(get(kube::replicaSets(), "apart-" + canary)
                    .value("/spec/template/spec"_json_pointer, json::object())
                    .contains("affinity"))
        << "a revision that became stable keeps its term (as Argo leaves it)";
    stable = canary;
  }
  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

// Argo's hash collision (rollout/sync.go): a ReplicaSet that is not the Rollout's holds the name
// of its new revision (here: left from an earlier Rollout of that name, then replaced by another
// template). ramp raises status.collisionCount, creates the revision under the hash computed
// with it, and leaves the other ReplicaSet alone.
TEST_F(KubernetesPlatformOnACluster, AHashCollisionRaisesCollisionCount) {
  rt::TempDir dir("ramp-k8s-collision");
  kube::Client& client = *client_;
  auto get = [&](const kube::ResourceType& type, const std::string& name) {
    auto got = client.get(type, "default", name);
    return got ? json::parse(*got) : json();
  };
  auto serve = rt::startRampOnCluster(dir, cluster_->kubeconfig(), "default");
  ASSERT_TRUE(serve) << serve.error().message;

  const json rollout = {
      {"apiVersion", "argoproj.io/v1alpha1"},
      {"kind", "Rollout"},
      {"metadata", {{"name", "clash"}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "clash"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "clash"}}}}},
          {"spec", {{"containers", json::array({{{"name", "clash"}, {"image", "clash:v1"}}})}}}}},
        {"strategy", {{"canary", {{"steps", json::array({{{"setWeight", 50}}})}}}}}}}};
  auto healthy = [&] {
    json r = get(kube::rollouts(), "clash");
    return r.is_object() && r.value("/status/phase"_json_pointer, "") == "Healthy" &&
           r.value("/status/availableReplicas"_json_pointer, 0) == 1;
  };
  // The first Rollout of that name makes ReplicaSet clash-<hash>; then it goes, and its
  // ReplicaSet with it.
  ASSERT_TRUE(client.create(kube::rollouts(), "default", rollout.dump()));
  ASSERT_TRUE(eventually(healthy)) << get(kube::rollouts(), "clash").dump() << (*serve)->log();
  const std::string hash = get(kube::rollouts(), "clash")["status"].value("currentPodHash", "");
  ASSERT_FALSE(hash.empty());
  ASSERT_TRUE(client.remove(kube::rollouts(), "default", "clash", /*foreground=*/true));
  ASSERT_TRUE(eventually([&] {
    return get(kube::rollouts(), "clash").is_null() &&
           get(kube::replicaSets(), "clash-" + hash).is_null();
  })) << "the first Rollout and its ReplicaSet were not deleted";

  // Someone else's ReplicaSet under that name, with another template.
  json other = {{"apiVersion", "apps/v1"},
                {"kind", "ReplicaSet"},
                {"metadata", {{"name", "clash-" + hash}, {"namespace", "default"}}},
                {"spec",
                 {{"replicas", 0},
                  {"selector", {{"matchLabels", {{"app", "bystander"}}}}},
                  {"template",
                   {{"metadata", {{"labels", {{"app", "bystander"}}}}},
                    {"spec",
                     {{"containers",
                       json::array({{{"name", "bystander"}, {"image", "bystander:v1"}}})}}}}}}}};
  ASSERT_TRUE(client.create(kube::replicaSets(), "default", other.dump()));

  // The same Rollout again: its hash names the bystander, so the count goes up and the revision
  // is created under the next hash.
  ASSERT_TRUE(client.create(kube::rollouts(), "default", rollout.dump()));
  ASSERT_TRUE(eventually(healthy)) << get(kube::rollouts(), "clash").dump() << (*serve)->log();
  json r = get(kube::rollouts(), "clash");
  EXPECT_EQ(r.value("/status/collisionCount"_json_pointer, -1), 1) << r.dump();
  const std::string next = r["status"].value("currentPodHash", "");
  EXPECT_NE(next, hash);
  json mine = get(kube::replicaSets(), "clash-" + next);
  ASSERT_TRUE(mine.is_object()) << "no ReplicaSet clash-" << next;
  EXPECT_EQ(mine.value("/metadata/ownerReferences/0/name"_json_pointer, ""), "clash");
  EXPECT_EQ(mine.value("/spec/template/spec/containers/0/image"_json_pointer, ""), "clash:v1");
  json bystander = get(kube::replicaSets(), "clash-" + hash);
  EXPECT_FALSE(bystander["metadata"].contains("ownerReferences")) << bystander.dump();
  EXPECT_EQ(bystander.value("/spec/template/spec/containers/0/image"_json_pointer, ""),
            "bystander:v1");
  EXPECT_NE((*serve)->log().find("found a hash collision: default/clash"), std::string::npos)
      << (*serve)->log();
  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

}  // namespace
}  // namespace ramp
