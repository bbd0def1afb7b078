// spec/kinds.h: the one table of kind names, and what reads it.
#include "spec/kinds.h"

#include <gtest/gtest.h>

#include "spec/codec.h"

namespace ramp::spec {
namespace {

TEST(KindsTest, EveryKindHasOneRowInEnumOrder) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(kKinds[i].kind), i) << kKinds[i].name;
    EXPECT_EQ(&kindInfo(kKinds[i].kind), &kKinds[i]);
    EXPECT_EQ(kindNamed(kKinds[i].name), kKinds[i].kind);
  }
  EXPECT_EQ(kindName(Kind::kClusterAnalysisTemplate), std::string("ClusterAnalysisTemplate"));
  EXPECT_TRUE(kindInfo(Kind::kClusterAnalysisTemplate).clusterScoped);
  EXPECT_EQ(kindNamed("rollout"), std::nullopt) << "manifest kinds are case-sensitive";
  EXPECT_EQ(kindNamed("Deployment"), std::nullopt);
}

TEST(KindsTest, ChoicesForHelp) {
  EXPECT_EQ(kindChoices(" | ", false, true),
            "rollout | analysistemplate | clusteranalysistemplate | analysisrun | application | "
            "appproject (or ro, at, cat, ar, app, appproj)");
  EXPECT_EQ(kindChoices(", ", true, false),
            "rollouts, analysistemplates, clusteranalysistemplates, analysisruns, applications, "
            "appprojects");
}

// The codec decodes and encodes every kind under the table's name.
TEST(KindsTest, TheCodecUsesTheTable) {
  for (const KindInfo& k : kKinds) {
    const std::string yaml = std::string("apiVersion: argoproj.io/v1alpha1\nkind: ") + k.name +
                             "\nmetadata: {name: x}\nspec: {}\n";
    ParseOutput parsed = parseDocuments(yaml, "x.yaml");
    ASSERT_EQ(parsed.documents.size(), 1u) << k.name;
    EXPECT_EQ(kindOf(parsed.documents[0].object), k.kind) << k.name;
    const std::string json = toJson(parsed.documents[0].object);
    EXPECT_NE(json.find(std::string("\"kind\":\"") + k.name + "\""), std::string::npos) << json;
  }
}

}  // namespace
}  // namespace ramp::spec
