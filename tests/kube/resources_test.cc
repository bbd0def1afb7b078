#include "kube/resources.h"

#include <gtest/gtest.h>

namespace ramp::kube {
namespace {

TEST(Resources, Paths) {
  EXPECT_EQ(collectionPath(rollouts(), "shop"),
            "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts");
  EXPECT_EQ(collectionPath(rollouts(), ""), "/apis/argoproj.io/v1alpha1/rollouts");
  EXPECT_EQ(collectionPath(pods(), "default"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(collectionPath(clusterAnalysisTemplates(), "ignored"),
            "/apis/argoproj.io/v1alpha1/clusteranalysistemplates");
  EXPECT_EQ(objectPath(rollouts(), "shop", "web", "status"),
            "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status");
  EXPECT_EQ(objectPath(leases(), "kube-system", "argo-rollouts-controller-lock"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
            "argo-rollouts-controller-lock");
  EXPECT_EQ(apiVersion(replicaSets()), "apps/v1");
  EXPECT_EQ(apiVersion(services()), "v1");
  EXPECT_EQ(describe(rollouts(), "shop", "web"), "rollouts.argoproj.io shop/web");
  EXPECT_EQ(describe(pods(), "shop", ""), "pods in shop");
}

TEST(Resources, SelectorsFollowKubernetesGrammar) {
  using Op = Requirement::Op;
  auto s =
      encodeSelector({{"app", Op::kEquals, {"web"}},
                      {"tier", Op::kIn, {"a", "b"}},
                      {"argo-rollouts.argoproj.io/controller-instance-id", Op::kDoesNotExist, {}},
                      {"rollouts-pod-template-hash", Op::kExists, {}},
                      {"env", Op::kNotIn, {"dev"}},
                      {"x", Op::kNotEquals, {""}}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s,
            "app=web,tier in (a,b),!argo-rollouts.argoproj.io/controller-instance-id,"
            "rollouts-pod-template-hash,env notin (dev),x!=");
  EXPECT_FALSE(encodeSelector({{"bad key", Op::kExists, {}}}));
  EXPECT_FALSE(encodeSelector({{"UPPER.example.com/x", Op::kExists, {}}}));
  EXPECT_FALSE(encodeSelector({{std::string(64, 'a'), Op::kExists, {}}}));
  EXPECT_FALSE(encodeSelector({{"app", Op::kEquals, {"-web"}}}));
  EXPECT_FALSE(encodeSelector({{"app", Op::kEquals, {}}}));
  EXPECT_FALSE(encodeSelector({{"app", Op::kIn, {}}}));
  EXPECT_FALSE(encodeSelector({{"app", Op::kExists, {"v"}}}));
  EXPECT_TRUE(checkLabelKey("example.com/My_Key.1"));
}

TEST(Resources, Queries) {
  ListOptions l;
  EXPECT_EQ(listQuery(l), "?limit=500");
  l.labelSelector = "app=web,!x";
  l.continueToken = "abc";
  l.limit = 0;
  EXPECT_EQ(listQuery(l), "?labelSelector=app%3Dweb%2C%21x&continue=abc");
  WatchOptions w;
  w.resourceVersion = "42";
  EXPECT_EQ(watchQuery(w),
            "?watch=1&resourceVersion=42&allowWatchBookmarks=true&timeoutSeconds=300");
}

}  // namespace
}  // namespace ramp::kube
