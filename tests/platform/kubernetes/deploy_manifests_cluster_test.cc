// deploy/ on the test cluster of scripts/kube-cluster.sh: the CRDs, the namespace, the RBAC and
// the Deployment apply with `kubectl apply --server-side` (after a `--dry-run=server` of each),
// the Deployment's Pods become Ready (kwok), and `ramp serve --store store.kubernetes --platform
// platform.kubernetes` authenticated as the manifests' ServiceAccount (a token of
// `kubectl create token`) runs a Rollout through an update and a restart: so the ClusterRole
// grants what ramp does. Skipped, with the reason, while the cluster's programs are not built.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

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

constexpr const char* kRollout = R"(apiVersion: v1
kind: Namespace
metadata: {name: sa-ramp}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: sa-ramp}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api, namespace: sa-ramp}
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: api:v1
        ports: [{containerPort: 8080}]
  strategy:
    canary:
      stableService: api
      steps:
      - setWeight: 50
      - pause: {duration: 1s}
)";

TEST(DeployManifestsOnACluster, ApplyServerSideAndRampRunsUnderTheirRbac) {
  std::string skip;
  rt::KubeCluster* cluster = rt::KubeCluster::shared(&skip);
  if (cluster == nullptr) {
    if (!skip.empty()) GTEST_SKIP() << skip;
    return;
  }
  rt::TempDir dir("ramp-deploy");
  const std::string deploy = rt::sourceDir() + "/deploy";
  std::string out;
  // The CRDs are already there (the harness applies them client-side); server-side apply takes
  // them over. The namespace must exist before a server dry run of what lives in it.
  for (const std::string& files :
       {"-f " + quote(deploy + "/crds"), "-f " + quote(deploy + "/namespace.yaml"),
        "-f " + quote(deploy + "/rbac.yaml") + " -f " + quote(deploy + "/deployment.yaml")}) {
    EXPECT_EQ(cluster->kubectl("apply --server-side --dry-run=server " + files, &out), 0) << out;
    ASSERT_EQ(cluster->kubectl("apply --server-side " + files, &out), 0) << out;
  }
  ASSERT_EQ(cluster->kubectl("rollout status deployment/ramp -n ramp --timeout=120s", &out), 0)
      << out;

  // A kubeconfig of the ServiceAccount (a token).
  auto written =
      cluster->writeServiceAccountKubeconfig("ramp", "ramp", dir.file("ramp.kubeconfig"));
  ASSERT_TRUE(written) << written.error().message;

  std::ofstream(dir.file("api.yaml")) << kRollout;
  ASSERT_EQ(cluster->kubectl("apply -f " + quote(dir.file("api.yaml")), &out), 0) << out;
  // Without list and watch on Events the store's first lists never finish (the daemon gives up
  // after 60 s), so wait a little longer than that.
  auto serve = rt::startRampOnCluster(dir, dir.file("ramp.kubeconfig"), "sa-ramp", 75s);
  ASSERT_TRUE(serve) << serve.error().message;

  auto made = rt::adminClient(*cluster);
  ASSERT_TRUE(made) << made.error().message;
  kube::Client& client = **made;
  auto rollout = [&] {
    auto got = client.get(kube::rollouts(), "sa-ramp", "api");
    return got ? json::parse(*got) : json::object();
  };
  auto healthyWith = [&](const std::string& image) {
    json r = rollout();
    const std::string hash = r.value("/status/stableRS"_json_pointer, "");
    if (r.value("/status/phase"_json_pointer, "") != "Healthy" || hash.empty()) return false;
    auto rs = client.get(kube::replicaSets(), "sa-ramp", "api-" + hash);
    auto svc = client.get(kube::services(), "sa-ramp", "api");
    return rs && svc &&
           json::parse(*rs).value("/spec/template/spec/containers/0/image"_json_pointer, "") ==
               image &&
           json::parse(*rs).value("/status/readyReplicas"_json_pointer, 0) == 2 &&
           json::parse(*svc).value("/spec/selector/rollouts-pod-template-hash"_json_pointer, "") ==
               hash;
  };
  ASSERT_TRUE(eventually([&] { return healthyWith("api:v1"); }))
      << rollout().dump(2) << (*serve)->log();

  // An update: a second ReplicaSet through the steps, the old one deleted from the Service.
  ASSERT_EQ(cluster->kubectl("patch rollout api -n sa-ramp --type json -p "
                             "'[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/"
                             "image\",\"value\":\"api:v2\"}]'",
                             &out),
            0)
      << out;
  ASSERT_TRUE(eventually([&] { return healthyWith("api:v2"); }))
      << rollout().dump(2) << (*serve)->log();

  // A restart deletes each Pod in turn (pods: delete).
  const std::string hash = rollout()["status"]["stableRS"];
  auto pods = [&] {
    kube::ListOptions lo;
    lo.labelSelector = "rollouts-pod-template-hash=" + hash;
    std::set<std::string> names;
    auto listed = client.list(kube::pods(), "sa-ramp", lo);
    if (!listed) return names;
    for (const std::string& item : listed->items) {
      json pod = json::parse(item);
      if (!pod["metadata"].contains("deletionTimestamp")) names.insert(pod["metadata"]["name"]);
    }
    return names;
  };
  const std::set<std::string> before = pods();
  ASSERT_EQ(before.size(), 2u);
  // restartAt has whole seconds and a Pod created in that very second counts as restarted
  // (Argo compares creationTimestamp < restartAt): v2's Pods may be that young, so the restart
  // is asked for two seconds ahead, after every one of them.
  ASSERT_EQ(cluster->kubectl("patch rollout api -n sa-ramp --type merge -p "
                             "\"{\\\"spec\\\":{\\\"restartAt\\\":\\\"$(date -u -d '+2 seconds' "
                             "+%FT%TZ)\\\"}}\"",
                             &out),
            0)
      << out;
  EXPECT_TRUE(eventually([&] {
    json r = rollout();
    std::set<std::string> now = pods();
    bool replaced = now.size() == 2u;
    for (const std::string& pod : now) replaced = replaced && !before.contains(pod);
    return replaced && !r.value("/status/restartedAt"_json_pointer, "").empty() &&
           r.value("/status/restartedAt"_json_pointer, "") ==
               r.value("/spec/restartAt"_json_pointer, "-");
  })) << rollout().dump(2)
      << (*serve)->log();

  // The Events ramp wrote as the ServiceAccount.
  ASSERT_EQ(cluster->kubectl("get events -n sa-ramp --field-selector "
                             "involvedObject.kind=Rollout,involvedObject.name=api "
                             "-o custom-columns=REASON:.reason --no-headers",
                             &out),
            0)
      << out;
  EXPECT_NE(out.find("RolloutCompleted"), std::string::npos) << out;
  EXPECT_EQ((*serve)->log().find("403"), std::string::npos) << (*serve)->log();

  EXPECT_EQ((*serve)->stop(), 0) << (*serve)->log();
}

}  // namespace
}  // namespace ramp
