// platform.kubernetes end to end: the real daemon (`ramp serve --platform platform.kubernetes
// --kubeconfig … --namespace default`) against the real test cluster of scripts/kube-cluster.sh,
// whose ReplicaSet controller, scheduler and kwok turn ramp's ReplicaSets into Running, Ready
// Pods. Driven only through the `ramp` CLI, and checked through the API server: a canary with
// setWeight steps and no trafficRouting scales two ReplicaSets and switches its stable and
// canary Services; a blue-green switches its active Service's selector at promotion.
// Skipped, with the reason, while the cluster's programs are not built (`make kube-build`).

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

namespace ramp {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;

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

// Polls `done` every 200 ms for up to `timeout`.
bool eventually(const std::function<bool()>& done, std::chrono::seconds timeout = 120s) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
    if (done()) return true;
  }
  return done();
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

TEST(KubernetesPlatformOnACluster, CanaryAndBlueGreenDriveReplicaSetsAndServices) {
  rt::TempDir dir("ramp-k8s-platform");
  std::string skip;
  rt::KubeCluster* cluster = rt::KubeCluster::shared(&skip);
  if (cluster == nullptr) {
    if (!skip.empty()) GTEST_SKIP() << skip;
    return;  // a cluster that did not start already failed the test
  }
  auto config = kube::loadKubeconfig(cluster->kubeconfig(), "");
  ASSERT_TRUE(config) << config.error().message;
  auto client = kube::Client::create(*config, realClock());
  ASSERT_TRUE(client) << client.error().message;
  for (const auto& [name, app] :
       std::vector<std::pair<std::string, std::string>>{{"web-stable", "web"},
                                                        {"web-canary", "web"},
                                                        {"shop-active", "shop"},
                                                        {"shop-preview", "shop"}}) {
    auto created = (*client)->create(kube::services(), "default", service(name, app).dump());
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
            cluster->kubeconfig(),
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
  std::string url;
  ASSERT_TRUE(eventually(
      [&] {
        std::string log = (*serve)->log();
        size_t at = log.find("listening on ");
        if (at == std::string::npos) return false;
        url = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);
        return true;
      },
      60s))
      << (*serve)->log();
  PlatformOnCluster p(dir, **client, url);

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

}  // namespace
}  // namespace ramp
