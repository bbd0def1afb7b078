// The signature gate on Kubernetes: `ramp serve --store store.kubernetes --platform
// platform.kubernetes --image-policy` against the real test cluster (scripts/kube-cluster.sh:
// kube-apiserver, etcd, the ReplicaSet controller, the scheduler, kwok as the kubelet), a real
// registry (docker-registry on loopback) and images signed by the real cosign in its legacy
// `.sig` format. A Rollout created with the cluster's API whose image is signed gets a
// ReplicaSet running the digest that was verified; a new image that is not signed pauses the
// Rollout with ImageVerified=False and an ImageNotVerified Event in the cluster and creates no
// ReplicaSet and no Pod of it; signed and retried, it runs pinned. Skipped, saying so, while the
// cluster's programs or cosign are not built (`make kube-build cosign-build`).

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "harness/ramp_daemon.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "supply/cosign_cli.h"
#include "supply/registry_harness.h"

namespace ramp::supply {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace rt = ramp::testing;

// Polls `done` every 200 ms for up to `timeout`.
bool eventually(const std::function<bool()>& done, std::chrono::seconds timeout = 120s) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
    if (done()) return true;
  }
  return done();
}

json rollout(const std::string& image) {
  return json::parse(R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",
    "metadata":{"name":"gated","namespace":"default"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"gated"}},
      "template":{"metadata":{"labels":{"app":"gated"}},
        "spec":{"containers":[{"name":"web","image":")" +
                     image + R"("}]}},
      "strategy":{"canary":{"steps":[{"setWeight":50}]}}}})");
}

TEST(GateOnACluster, AnUnsignedImageCreatesNoReplicaSetUntilSignedAndRetried) {
  rt::TempDir dir("ramp-gate-cluster");
  std::string skip;
  rt::KubeCluster* cluster = rt::KubeCluster::shared(&skip);
  if (cluster == nullptr) {
    if (!skip.empty()) GTEST_SKIP() << skip;
    return;  // a cluster that did not start already failed the test
  }
  const std::string cosign = testing::cosignBinary();
  if (cosign.empty()) GTEST_SKIP() << "cosign is not built (make cosign-build)";
  auto config = kube::loadKubeconfig(cluster->kubeconfig(), "");
  ASSERT_TRUE(config) << config.error().message;
  auto made = kube::Client::create(*config, realClock());
  ASSERT_TRUE(made) << made.error().message;
  kube::Client& client = **made;

  // The registry, two images, v1 signed by cosign (legacy format) with its own key.
  std::filesystem::create_directories(dir.file("cosign"));
  auto reg = testing::LocalRegistry::start({}, dir.file("registry"));
  ASSERT_TRUE(reg) << reg.error().message;
  const std::string host = (*reg)->host();
  auto d1 = (*reg)->pushImage("gated/web", "v1", "cluster gate v1");
  auto d2 = (*reg)->pushImage("gated/web", "v2", "cluster gate v2");
  ASSERT_TRUE(d1 && d2);
  const std::string v1 = host + "/gated/web:v1", v2 = host + "/gated/web:v2";
  auto key = testing::generateKeyPair(cosign, dir.file("cosign"));
  ASSERT_TRUE(key) << key.error().message;
  const std::string sign = testing::cosignSignCommand(cosign, dir.file("cosign"), true);
  std::string out;
  ASSERT_EQ(testing::runShell(sign + host + "/gated/web@" + *d1, &out), 0) << out;
  std::ofstream(dir.file("policy.yaml"))
      << testing::keyPolicyYaml("gated-images", host + "/gated/**", "legacy", key->pem());

  rt::RampDaemon serve(
      dir, {"--store", "store.kubernetes", "--platform", "platform.kubernetes", "--kubeconfig",
            cluster->kubeconfig(), "--namespace", "default", "--image-policy",
            dir.file("policy.yaml"), "--progress-poll-ms", "200"});
  ASSERT_FALSE(serve.url().empty()) << serve.log();

  auto get = [&] {
    auto got = client.get(kube::rollouts(), "default", "gated");
    return got ? json::parse(*got) : json::object();
  };
  auto imageCondition = [&] {
    for (const json& c : get().value("/status/conditions"_json_pointer, json::array())) {
      if (c.value("type", "") == "ImageVerified") return c;
    }
    return json::object();
  };
  // The images of the rollout's ReplicaSets and of its Pods.
  auto imagesOf = [&](const kube::ResourceType& type) {
    std::vector<std::string> images;
    kube::ListOptions lo;
    lo.labelSelector = "app=gated";
    auto listed = client.list(type, "default", lo);
    if (!listed) return images;
    for (const std::string& item : listed->items) {
      json j = json::parse(item);
      const json& spec = type == kube::pods() ? j["spec"] : j["spec"]["template"]["spec"];
      images.push_back(spec["containers"][0].value("image", ""));
    }
    std::sort(images.begin(), images.end());
    return images;
  };

  // v1, signed: Healthy, its ReplicaSet and Pods run the verified digest.
  ASSERT_TRUE(client.create(kube::rollouts(), "default", rollout(v1).dump()));
  ASSERT_TRUE(eventually([&] {
    json r = get();
    return r.value("/status/phase"_json_pointer, "") == "Healthy" &&
           r.value("/status/availableReplicas"_json_pointer, 0) == 2;
  })) << get().dump()
      << serve.log();
  EXPECT_EQ(imagesOf(kube::replicaSets()), std::vector<std::string>{v1 + "@" + *d1});
  EXPECT_EQ(imagesOf(kube::pods()), (std::vector<std::string>{v1 + "@" + *d1, v1 + "@" + *d1}));
  EXPECT_EQ(imageCondition().value("status", ""), "True") << get().dump();
  EXPECT_EQ(get()["spec"]["template"]["spec"]["containers"][0]["image"], v1);  // spec unchanged

  // v2, unsigned: paused with the condition, an Event, and nothing of v2 in the cluster.
  ASSERT_TRUE(client.patch(
      kube::rollouts(), "default", "gated", kube::PatchType::kMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":")" + v2 + R"("}]}}}})"));
  ASSERT_TRUE(eventually([&] { return get().value("/status/phase"_json_pointer, "") == "Paused"; }))
      << get().dump() << serve.log();
  json cond = imageCondition();
  EXPECT_EQ(cond.value("status", ""), "False");
  EXPECT_EQ(cond.value("reason", ""), "ImageNotVerified");
  EXPECT_NE(cond.value("message", "")
                .find("image " + v2 +
                      " is not verified by "
                      "ClusterImagePolicy gated-images"),
            std::string::npos)
      << cond.dump();
  EXPECT_TRUE(eventually([&] {
    auto events = client.list(kube::events(), "default");
    if (!events) return false;
    for (const std::string& item : events->items) {
      json e = json::parse(item);
      if (e.value("reason", "") == "ImageNotVerified" &&
          e.value("/regarding/name"_json_pointer, "") == "gated" &&
          e.value("note", "").find(v2) != std::string::npos)
        return true;
    }
    return false;
  })) << "no ImageNotVerified Event about "
      << v2;
  // The ReplicaSet controller and kwok act within a second of a ReplicaSet's creation; none of
  // v2 may exist, now or after the controller's next reconciles.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(imagesOf(kube::replicaSets()), std::vector<std::string>{v1 + "@" + *d1});
  EXPECT_EQ(imagesOf(kube::pods()), (std::vector<std::string>{v1 + "@" + *d1, v1 + "@" + *d1}));

  // Signed now, and retried through ramp's CLI: v2 runs, pinned to the digest verified.
  out.clear();
  ASSERT_EQ(testing::runShell(sign + host + "/gated/web@" + *d2, &out), 0) << out;
  auto retried = rt::runRamp(dir, {"retry", "gated", "-n", "default"}, serve.url());
  ASSERT_EQ(retried.code, 0) << retried.out << retried.err;
  ASSERT_TRUE(eventually([&] {
    json r = get();
    return r.value("/status/phase"_json_pointer, "") == "Healthy" &&
           imagesOf(kube::pods()) == std::vector<std::string>{v2 + "@" + *d2, v2 + "@" + *d2};
  })) << get().dump()
      << serve.log();
  EXPECT_EQ(imageCondition().value("status", ""), "True");
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace ramp::supply
