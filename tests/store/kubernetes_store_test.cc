// store.kubernetes against the real test cluster, beyond the conformance suite: what it does on a
// cluster that has Argo Rollouts' CRDs (deploy/crds) but not Argo CD's, which is the test
// cluster's case and the common one for a drop-in controller.

#include <gtest/gtest.h>

#include <algorithm>

#include "harness/harness.h"
#include "harness/kube_cluster.h"
#include "kube/kubeconfig.h"
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

}  // namespace
}  // namespace ramp::store::testing
