// Argo's own CLI drives ramp: the real `kubectl argo rollouts` plugin (kubectl-argo-rollouts
// v1.10.2, built from the Go module proxy by scripts/argo-rollouts.sh) against `ramp serve
// --store store.kubernetes --platform platform.kubernetes` on the test cluster of
// scripts/kube-cluster.sh. The plugin only reads and patches the Rollout objects, ReplicaSets
// and Pods; ramp must read its patches (spec.paused, spec.restartAt, spec.template,
// status.pauseConditions, status.currentStepIndex, status.abort, status.promoteFull) as Argo's
// controller does, and write the status the plugin reads (phase, message, currentStepIndex,
// stableRS, currentPodHash, blueGreen selectors, replica counts, observedGeneration). Checked on
// the plugin's output and on the cluster's objects (ReplicaSets' replicas, Services' selectors).
// Skipped, with the reason, while the cluster's programs (`make kube-build`) or the plugin
// (`make argo-build`) are not built.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "platform/kubernetes/cluster_helpers.h"

namespace ramp {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;
using rt::eventually;
using rt::quote;
using rt::shell;

constexpr const char* kNamespace = "argo-plugin";

// The plugin's path, or "" when scripts/argo-rollouts.sh has not built it.
std::string pluginBinary() {
  auto [rc, out] = shell(quote(rt::sourceDir() + "/scripts/argo-rollouts.sh") + " bin");
  if (rc != 0) return "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

constexpr const char* kCanary = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: argo-plugin
spec:
  replicas: 4
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
      - setWeight: 25
      - pause: {}
      - setWeight: 50
      - pause: {}
---
apiVersion: v1
kind: Service
metadata: {name: web-stable, namespace: argo-plugin}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary, namespace: argo-plugin}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
)";

constexpr const char* kBlueGreen = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
  namespace: argo-plugin
spec:
  replicas: 2
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
      scaleDownDelaySeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: shop-active, namespace: argo-plugin}
spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-preview, namespace: argo-plugin}
spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}
)";

// The plugin, the cluster's objects, and the daemon, for one test.
class PluginOnCluster {
 public:
  PluginOnCluster(const rt::TempDir& dir, const rt::KubeCluster& cluster, kube::Client& client,
                  std::string plugin)
      : dir_(dir), cluster_(cluster), client_(client), plugin_(std::move(plugin)) {}

  // `kubectl argo rollouts ARGS -n argo-plugin`: (exit status, output). Stopped after 150 s
  // (exit 124): `get` and `status` wait forever for informers that cannot list.
  std::pair<int, std::string> plugin(const std::string& args) const {
    return shell("HOME=" + quote(dir_.path()) + " timeout 150 " + quote(plugin_) +
                 " --kubeconfig " + quote(cluster_.kubeconfig()) + " -n " + kNamespace + " " +
                 args);
  }

  // `get rollout NAME` as {field -> value} ("Status" -> "✔ Healthy", "Step" -> "1/4", "Images"
  // -> "web:v1 (stable)" …; the tree below is in "tree").
  std::map<std::string, std::string> get(const std::string& name) const {
    auto [rc, out] = plugin("get rollout --no-color " + name);
    std::map<std::string, std::string> fields{{"exit", std::to_string(rc)}, {"tree", ""}};
    std::istringstream lines(out);
    bool tree = false;
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("NAME ")) tree = true;
      if (tree) {
        fields["tree"] += line + "\n";
        continue;
      }
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      key.erase(0, key.find_first_not_of(' '));
      value.erase(0, value.find_first_not_of(' '));
      if (!key.empty() && !fields.contains(key)) fields[key] = value;
    }
    fields["output"] = out;
    return fields;
  }

  // The Rollout object as the API server holds it.
  json rollout(const std::string& name) const { return object(kube::rollouts(), name); }

  json object(const kube::ResourceType& type, const std::string& name) const {
    auto got = client_.get(type, kNamespace, name);
    return got ? json::parse(*got) : json::object();
  }

  // spec.replicas of ReplicaSet NAME-HASH (-1 when there is none).
  int replicas(const std::string& rollout, const std::string& hash) const {
    return object(kube::replicaSets(), rollout + "-" + hash)["spec"].value("replicas", -1);
  }
  int readyReplicas(const std::string& rollout, const std::string& hash) const {
    return object(kube::replicaSets(), rollout + "-" + hash)
        .value("/status/readyReplicas"_json_pointer, 0);
  }

  // The Service's rollouts-pod-template-hash selector ("" when none).
  std::string selects(const std::string& service) const {
    return object(kube::services(), service)
        .value("/spec/selector/rollouts-pod-template-hash"_json_pointer, "");
  }

  // The names of the Pods labelled with the pod template hash, not being deleted.
  std::set<std::string> pods(const std::string& hash) const {
    kube::ListOptions o;
    o.labelSelector = "rollouts-pod-template-hash=" + hash;
    std::set<std::string> names;
    auto listed = client_.list(kube::pods(), kNamespace, o);
    if (!listed) return names;
    for (const std::string& item : listed->items) {
      json pod = json::parse(item);
      if (!pod["metadata"].contains("deletionTimestamp")) names.insert(pod["metadata"]["name"]);
    }
    return names;
  }

  // How many ReplicaSets the Rollout owns.
  size_t replicaSetCount(const std::string& rollout) const {
    const std::string uid = this->rollout(rollout).value("/metadata/uid"_json_pointer, "");
    auto listed = client_.list(kube::replicaSets(), kNamespace, kube::ListOptions{});
    size_t n = 0;
    if (!listed) return n;
    for (const std::string& item : listed->items) {
      json rs = json::parse(item);
      for (const json& owner : rs["metadata"].value("ownerReferences", json::array())) {
        if (owner.value("uid", "") == uid) ++n;
      }
    }
    return n;
  }

  std::string status(const std::string& rollout, const std::string& field) const {
    json s = this->rollout(rollout).value("status", json::object());
    return s.contains(field) && s[field].is_string() ? s[field].get<std::string>() : "";
  }

 private:
  const rt::TempDir& dir_;
  const rt::KubeCluster& cluster_;
  kube::Client& client_;
  std::string plugin_;
};

std::string dump(const std::map<std::string, std::string>& fields) {
  auto it = fields.find("output");
  return it == fields.end() ? "" : it->second;
}

TEST(ArgoRolloutsPluginOnACluster, DrivesACanaryAndABlueGreen) {
  std::string skip;
  rt::KubeCluster* cluster = rt::KubeCluster::shared(&skip);
  if (cluster == nullptr) {
    if (!skip.empty()) GTEST_SKIP() << skip;
    return;
  }
  const std::string plugin = pluginBinary();
  if (plugin.empty()) GTEST_SKIP() << "kubectl-argo-rollouts is not built (make argo-build)";
  rt::TempDir dir("ramp-argo-plugin");
  auto made = rt::adminClient(*cluster);
  ASSERT_TRUE(made) << made.error().message;
  PluginOnCluster p(dir, *cluster, **made, plugin);
  std::string out;
  ASSERT_EQ(cluster->kubectl(std::string("create namespace ") + kNamespace, &out), 0) << out;

  auto version = p.plugin("version");
  EXPECT_NE(version.second.find("v1.10.2"), std::string::npos) << version.second;

  auto serve = rt::startRampOnCluster(dir, cluster->kubeconfig(), kNamespace);
  ASSERT_TRUE(serve) << serve.error().message;

  // --- canary: 4 replicas, setWeight 25, pause, setWeight 50, pause ---------------------------
  std::ofstream(dir.file("web.yaml")) << kCanary;
  ASSERT_EQ(cluster->kubectl("apply -f " + quote(dir.file("web.yaml")), &out), 0) << out;
  auto watched = p.plugin("status web --watch --timeout 120s");
  ASSERT_EQ(watched.first, 0) << watched.second << (*serve)->log();
  EXPECT_NE(watched.second.find("Healthy"), std::string::npos) << watched.second;
  const std::string v1 = p.status("web", "stableRS");
  ASSERT_FALSE(v1.empty());
  auto g = p.get("web");
  EXPECT_EQ(g["exit"], "0") << dump(g);
  EXPECT_NE(g["Status"].find("Healthy"), std::string::npos) << dump(g);
  EXPECT_EQ(g["Strategy"], "Canary");
  EXPECT_EQ(g["Step"], "4/4") << dump(g);
  EXPECT_EQ(g["SetWeight"], "100") << dump(g);
  EXPECT_EQ(g["ActualWeight"], "100") << dump(g);
  EXPECT_EQ(g["Images"], "web:v1 (stable)") << dump(g);
  EXPECT_EQ(g["Desired"], "4");
  EXPECT_EQ(g["Current"], "4");
  EXPECT_EQ(g["Updated"], "4");
  EXPECT_EQ(g["Ready"], "4");
  EXPECT_EQ(g["Available"], "4");
  EXPECT_NE(g["tree"].find("web-" + v1), std::string::npos) << dump(g);
  EXPECT_NE(g["tree"].find("revision:1"), std::string::npos) << dump(g);
  EXPECT_EQ(p.replicas("web", v1), 4);

  // set image: revision 2 at setWeight 25 = 1 of 4 replicas, then paused.
  auto set = p.plugin("set image web web=web:v2");
  ASSERT_EQ(set.first, 0) << set.second;
  ASSERT_TRUE(eventually([&] {
    return p.get("web")["Status"].find("Paused") != std::string::npos;
  })) << dump(p.get("web"))
      << (*serve)->log();
  const std::string v2 = p.status("web", "currentPodHash");
  ASSERT_FALSE(v2.empty());
  ASSERT_NE(v1, v2);
  EXPECT_TRUE(eventually([&] {
    return p.readyReplicas("web", v2) == 1 && p.replicas("web", v1) == 3 &&
           p.get("web")["ActualWeight"] == "25";
  })) << dump(p.get("web"));
  g = p.get("web");
  EXPECT_EQ(g["Message"], "CanaryPauseStep") << dump(g);
  EXPECT_EQ(g["Step"], "1/4") << dump(g);
  EXPECT_EQ(g["SetWeight"], "25") << dump(g);
  EXPECT_NE(g["output"].find("web:v2 (canary)"), std::string::npos) << dump(g);
  EXPECT_NE(g["tree"].find("revision:2"), std::string::npos) << dump(g);
  EXPECT_EQ(p.selects("web-canary"), v2);
  EXPECT_EQ(p.selects("web-stable"), v1);

  // promote: the pause ends, setWeight 50 = 2 of 4, paused at the second pause.
  auto promoted = p.plugin("promote web");
  ASSERT_EQ(promoted.first, 0) << promoted.second;
  EXPECT_NE(promoted.second.find("rollout 'web' promoted"), std::string::npos) << promoted.second;
  EXPECT_TRUE(eventually([&] {
    auto f = p.get("web");
    return f["Step"] == "3/4" && f["Status"].find("Paused") != std::string::npos &&
           p.readyReplicas("web", v2) == 2 && p.replicas("web", v1) == 2;
  })) << dump(p.get("web"));
  EXPECT_EQ(p.get("web")["SetWeight"], "50");

  // abort: back to the stable ReplicaSet, Degraded; the canary Service on the stable one.
  auto aborted = p.plugin("abort web");
  ASSERT_EQ(aborted.first, 0) << aborted.second;
  EXPECT_TRUE(eventually([&] {
    return p.get("web")["Status"].find("Degraded") != std::string::npos &&
           p.replicas("web", v2) == 0 && p.readyReplicas("web", v1) == 4;
  })) << dump(p.get("web"));
  g = p.get("web");
  EXPECT_NE(g["Message"].find("RolloutAborted"), std::string::npos) << dump(g);
  EXPECT_TRUE(eventually([&] { return p.selects("web-canary") == v1; })) << p.selects("web-canary");
  auto degraded = p.plugin("status web --watch=false");
  EXPECT_NE(degraded.first, 0) << degraded.second;
  EXPECT_NE(degraded.second.find("Degraded"), std::string::npos) << degraded.second;

  // retry: the update starts again from the first step.
  auto retried = p.plugin("retry rollout web");
  ASSERT_EQ(retried.first, 0) << retried.second;
  EXPECT_TRUE(eventually([&] {
    auto f = p.get("web");
    return f["Step"] == "1/4" && f["Status"].find("Paused") != std::string::npos &&
           p.readyReplicas("web", v2) == 1 && p.replicas("web", v1) == 3;
  })) << dump(p.get("web"));

  // promote --full: every step skipped, v2 takes all 4 replicas and both Services.
  auto full = p.plugin("promote web --full");
  ASSERT_EQ(full.first, 0) << full.second;
  watched = p.plugin("status web --timeout 120s");
  ASSERT_EQ(watched.first, 0) << watched.second << dump(p.get("web"));
  EXPECT_TRUE(eventually([&] {
    return p.readyReplicas("web", v2) == 4 && p.replicas("web", v1) == 0 &&
           p.selects("web-stable") == v2 && p.selects("web-canary") == v2;
  })) << dump(p.get("web"));
  g = p.get("web");
  EXPECT_EQ(g["Images"], "web:v2 (stable)") << dump(g);
  EXPECT_EQ(g["Step"], "4/4") << dump(g);

  // pause, then promote (the plugin has no resume: promote unpauses a manual pause).
  ASSERT_EQ(p.plugin("pause web").first, 0);
  EXPECT_TRUE(eventually([&] {
    auto f = p.get("web");
    return f["Status"].find("Paused") != std::string::npos && f["Message"] == "manually paused";
  })) << dump(p.get("web"));
  ASSERT_EQ(p.plugin("promote web").first, 0);
  watched = p.plugin("status web --timeout 60s");
  EXPECT_EQ(watched.first, 0) << watched.second << dump(p.get("web"));

  // restart: every Pod of the stable ReplicaSet is replaced (one at a time), and
  // status.restartedAt records spec.restartAt.
  const std::set<std::string> before = p.pods(v2);
  ASSERT_EQ(before.size(), 4u);
  auto restarted = p.plugin("restart web");
  ASSERT_EQ(restarted.first, 0) << restarted.second;
  EXPECT_TRUE(eventually([&] {
    json r = p.rollout("web");
    const std::string at = r.value("/spec/restartAt"_json_pointer, "");
    std::set<std::string> now = p.pods(v2);
    bool replaced = now.size() == 4u;
    for (const std::string& pod : now) replaced = replaced && !before.contains(pod);
    return !at.empty() && r.value("/status/restartedAt"_json_pointer, "") == at && replaced &&
           p.readyReplicas("web", v2) == 4;
  })) << p.rollout("web").dump(2);
  EXPECT_EQ(p.plugin("status web --timeout 60s").first, 0) << dump(p.get("web"));

  // undo: revision 1's template comes back (as the plugin writes it: the ReplicaSet's template
  // with the server's defaults); its ReplicaSet is found by template equality and reused as
  // revision 3 (no third ReplicaSet), through the steps again.
  auto undone = p.plugin("undo web");
  ASSERT_EQ(undone.first, 0) << undone.second;
  auto revision = [&](const std::string& hash) {
    return p.object(kube::replicaSets(), "web-" + hash)
        .value("/metadata/annotations/rollout.argoproj.io~1revision"_json_pointer, "");
  };
  EXPECT_TRUE(eventually([&] {
    auto f = p.get("web");
    return f["Step"] == "1/4" && f["Status"].find("Paused") != std::string::npos &&
           revision(v1) == "3" && p.readyReplicas("web", v1) == 1 && p.replicas("web", v2) == 3;
  })) << dump(p.get("web"))
      << (*serve)->log();
  EXPECT_EQ(p.replicaSetCount("web"), 2u);
  EXPECT_NE(p.get("web")["tree"].find("revision:3"), std::string::npos);
  ASSERT_EQ(p.plugin("promote web --full").first, 0);
  watched = p.plugin("status web --timeout 120s");
  EXPECT_EQ(watched.first, 0) << watched.second << dump(p.get("web"));
  EXPECT_TRUE(eventually([&] {
    return p.readyReplicas("web", v1) == 4 && p.replicas("web", v2) == 0 &&
           p.selects("web-stable") == v1 && p.selects("web-canary") == v1;
  })) << dump(p.get("web"));
  // Not checked: the plugin's "(canary)"/"(stable)" tags and ActualWeight for the reused
  // ReplicaSet. ramp's status names a revision by ramp's hash of its template, which for the
  // defaulted template differs from the ReplicaSet's label (docs/platforms/kubernetes.md).

  // --- blue-green with a manual promotion ------------------------------------------------------
  std::ofstream(dir.file("shop.yaml")) << kBlueGreen;
  ASSERT_EQ(cluster->kubectl("apply -f " + quote(dir.file("shop.yaml")), &out), 0) << out;
  watched = p.plugin("status shop --timeout 120s");
  ASSERT_EQ(watched.first, 0) << watched.second << (*serve)->log();
  const std::string s1 = p.status("shop", "stableRS");
  ASSERT_FALSE(s1.empty());
  g = p.get("shop");
  EXPECT_EQ(g["Strategy"], "BlueGreen") << dump(g);
  EXPECT_EQ(g["Images"], "shop:v1 (stable, active)") << dump(g);
  EXPECT_TRUE(eventually([&] { return p.selects("shop-active") == s1; }));

  ASSERT_EQ(p.plugin("set image shop shop=shop:v2").first, 0);
  ASSERT_TRUE(eventually([&] {
    auto f = p.get("shop");
    return f["Status"].find("Paused") != std::string::npos && f["Message"] == "BlueGreenPause";
  })) << dump(p.get("shop"));
  const std::string s2 = p.status("shop", "currentPodHash");
  ASSERT_NE(s2, s1);
  EXPECT_TRUE(eventually([&] {
    return p.readyReplicas("shop", s2) == 2 && p.selects("shop-preview") == s2 &&
           p.get("shop")["output"].find("shop:v2 (preview)") != std::string::npos;
  })) << dump(p.get("shop"));
  EXPECT_EQ(p.selects("shop-active"), s1);  // not before the promotion

  ASSERT_EQ(p.plugin("promote shop").first, 0);
  watched = p.plugin("status shop --timeout 120s");
  EXPECT_EQ(watched.first, 0) << watched.second << dump(p.get("shop"));
  EXPECT_EQ(p.selects("shop-active"), s2);
  g = p.get("shop");
  EXPECT_NE(g["output"].find("shop:v2 (stable, active)"), std::string::npos) << dump(g);
  // The old ReplicaSet's scale-down-deadline, as the plugin reads it, until it is scaled down.
  EXPECT_TRUE(g["tree"].find("delay:") != std::string::npos || p.replicas("shop", s1) == 0)
      << dump(g);
  // The old revision goes to 0 after scaleDownDelaySeconds (2 s).
  EXPECT_TRUE(eventually([&] { return p.replicas("shop", s1) == 0; })) << dump(p.get("shop"));

  // list rollouts: one line each, from the Rollouts' status (tabs and padding collapsed); the
  // old blue-green Pods count until they are gone.
  auto list = [&] {
    std::string columns;
    for (char c : p.plugin("list rollouts").second) {
      if (c == '\t' || c == ' ') {
        if (!columns.empty() && columns.back() != ' ' && columns.back() != '\n') columns += ' ';
      } else {
        if (c == '\n' && !columns.empty() && columns.back() == ' ') columns.pop_back();
        columns += c;
      }
    }
    return columns;
  };
  EXPECT_TRUE(eventually([&] {
    const std::string columns = list();
    return columns.find("shop BlueGreen Healthy - - 2/2 2 2 2\n") != std::string::npos &&
           columns.find("web Canary Healthy 4/4 100 4/4 4 4 4\n") != std::string::npos;
  })) << list();

  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

}  // namespace
}  // namespace ramp
