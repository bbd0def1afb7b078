// gitops/diff.h and gitops/health.h: desired against live, naming fields; Argo CD's health.
#include "gitops/diff.h"

#include <gtest/gtest.h>

#include "gitops/gitops_fixtures.h"
#include "gitops/health.h"

namespace ramp::gitops {
namespace {

using testing::application;
using testing::twoEnvironments;

store::StoredObject stored(const spec::Document& doc, int64_t version) {
  return {keyOf(doc), spec::toJson(doc.object), version};
}

TEST(DiffTest, CreateNoneUpdateAndPrune) {
  RenderOutput out = render(twoEnvironments(), application("environments/prod"));
  ASSERT_EQ(out.documents.size(), 1u);
  // Nothing stored: create.
  auto diffs = diffObjects(out.documents, {});
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, Change::kCreate);
  EXPECT_EQ(describeDiff(diffs[0]), "not in the store");
  // Stored as rendered, with a status and server metadata: no difference.
  spec::Document live = out.documents[0];
  auto& r = std::get<spec::Rollout>(live.object);
  r.status.phase = spec::RolloutPhase::kHealthy;
  r.metadata.uid = "u-1";
  r.metadata.generation = 4;
  diffs = diffObjects(out.documents, {stored(live, 7)});
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, Change::kNone);
  EXPECT_EQ(diffs[0].liveVersion, 7);
  // Changed through the API: the fields are named with both values.
  r.spec.replicas = 5;
  r.spec.template_->spec.containers[0].image = "shop:hotfix";
  diffs = diffObjects(out.documents, {stored(live, 8)});
  ASSERT_EQ(diffs[0].change, Change::kUpdate);
  EXPECT_EQ(diffs[0].fields, (std::vector<FieldDiff>{{"spec.replicas", "3", "5"},
                                                     {"spec.template.spec.containers[0].image",
                                                      "\"shop:1\"", "\"shop:hotfix\""}}));
  EXPECT_EQ(describeDiff(diffs[0]),
            "spec.replicas: 3 in Git, 5 live; spec.template.spec.containers[0].image: \"shop:1\" "
            "in Git, \"shop:hotfix\" live");
  // Every field up to kDescribedFields, then a count.
  ObjectDiff many;
  many.change = Change::kUpdate;
  for (size_t i = 0; i < kDescribedFields + 2; ++i) {
    many.fields.push_back({"spec.f" + std::to_string(i), "1", "2"});
  }
  const std::string described = describeDiff(many);
  EXPECT_NE(described.find("spec.f9: 1 in Git, 2 live (+2 more)"), std::string::npos) << described;
  EXPECT_EQ(described.find("spec.f10"), std::string::npos) << described;
  // A label added live and one removed from Git.
  r = std::get<spec::Rollout>(out.documents[0].object);
  r.metadata.labels["team"] = "web";
  diffs = diffObjects(out.documents, {stored(live, 9)});
  ASSERT_EQ(diffs[0].fields.size(), 1u);
  EXPECT_EQ(describeDiff(diffs[0]), "metadata.labels: unset in Git, {\"team\":\"web\"} live");
  // A tracked object Git no longer has: prune.
  spec::Document gone = out.documents[0];
  std::get<spec::Rollout>(gone.object).metadata.name = "old";
  diffs = diffObjects(out.documents, {stored(out.documents[0], 3), stored(gone, 2)});
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[1].change, Change::kPrune);
  EXPECT_EQ(diffs[1].key.name, "old");
  EXPECT_EQ(describeDiff(diffs[1]), "not in Git (prune)");
}

TEST(HealthTest, RolloutAsArgoCdLuaReadsIt) {
  struct Row {
    spec::RolloutPhase phase;
    std::string observed;
    std::string want;
  };
  const Row rows[] = {
      {spec::RolloutPhase::kHealthy, "2", "Healthy"},
      {spec::RolloutPhase::kPaused, "2", "Suspended"},
      {spec::RolloutPhase::kProgressing, "2", "Progressing"},
      {spec::RolloutPhase::kDegraded, "2", "Degraded"},
      {spec::RolloutPhase::kHealthy, "1", "Progressing"},  // spec not yet observed
      {spec::RolloutPhase::kNone, "2", "Progressing"},
  };
  for (const Row& row : rows) {
    spec::Rollout r;
    r.metadata.generation = 2;
    r.status.phase = row.phase;
    r.status.observedGeneration = row.observed;
    r.status.message = "m";
    auto h = objectHealth(r);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, row.want) << spec::rolloutPhaseName(row.phase) << " " << row.observed;
  }
  EXPECT_FALSE(objectHealth(spec::AnalysisTemplate{}));
  EXPECT_EQ(worstHealth({{"Healthy", ""}, {"Suspended", "paused"}, {"Missing", "gone"}}),
            (spec::ApplicationHealth{"Missing", "gone"}));
  EXPECT_EQ(worstHealth({}).status, "Healthy");
  EXPECT_EQ(healthRank("Bogus"), healthRank("Unknown"));
}

}  // namespace
}  // namespace ramp::gitops
