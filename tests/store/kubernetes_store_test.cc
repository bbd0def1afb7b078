// store.kubernetes against the real test cluster, beyond the conformance suite: what it does on a
// cluster that has Argo Rollouts' CRDs (deploy/crds) but not Argo CD's, which is the test
// cluster's case and the common one for a drop-in controller.

#include <gtest/gtest.h>

#include <algorithm>

#include "harness/harness.h"
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

}  // namespace
}  // namespace ramp::store::testing
