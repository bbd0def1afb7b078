// What a revision is created with and the ephemeral metadata of each role
// (rollout/ephemeral_metadata.h), as Argo's sync.go and ephemeralmetadata.go decide them.

#include "rollout/ephemeral_metadata.h"

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

const spec::PodTemplateMetadata kCanary{{{"role", "canary"}}, {}};
const spec::PodTemplateMetadata kStable{{{"role", "stable"}}, {}};

TEST(EphemeralMetadata, ARevisionIsBornAsTheCanaryOnlyWhenAnotherIsStable) {
  const spec::Rollout canary =
      testing::parseRollout(testing::canaryYaml("      canaryMetadata: {labels: {role: canary}}\n"
                                                "      stableMetadata: {labels: {role: stable}}\n"
                                                "      steps: [{setWeight: 50}]\n"));
  const spec::Rollout blueGreen = testing::parseRollout(
      testing::blueGreenYaml("      activeService: web-active\n"
                             "      previewMetadata: {labels: {role: canary}}\n"));
  const spec::Rollout plain =
      testing::parseRollout(testing::canaryYaml("      steps: [{setWeight: 50}]\n"));
  struct Case {
    std::string name;
    const spec::Rollout* rollout;
    std::string stableHash;
    std::optional<spec::PodTemplateMetadata> want;
  } cases[] = {
      {"the first revision: it becomes stable", &canary, "", kStable},
      {"a new revision beside a stable one: the canary", &canary, "v1", kCanary},
      {"the stable revision itself (a rollback)", &canary, "v2", kStable},
      {"blue-green: the preview beside an active one", &blueGreen, "v1", kCanary},
      {"blue-green: activeMetadata not configured", &blueGreen, "", std::nullopt},
      {"no ephemeral metadata", &plain, "v1", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(creationMetadata(*c.rollout, c.stableHash, "v2"), c.want);
  }
  EXPECT_EQ(roleMetadata(canary),
            (platform::RoleMetadata{{"canary", kCanary}, {"stable", kStable}}));
  EXPECT_EQ(roleMetadata(blueGreen), (platform::RoleMetadata{{"preview", kCanary}}));
  EXPECT_TRUE(roleMetadata(plain).empty());
}

TEST(EphemeralMetadata, TheRevisionSpecCarriesWhatTheRolloutSays) {
  spec::Rollout r =
      testing::parseRollout(testing::canaryYaml("      stableMetadata: {labels: {role: stable}}\n"
                                                "      steps: [{setWeight: 50}]\n",
                                                4));
  r.metadata.annotations["team"] = "shop";
  EnsureRevision ensure{"v2", 3, *r.spec.template_, 5};
  platform::RevisionSpec spec = revisionSpec(r, "", ensure);
  EXPECT_EQ(spec.hash, "v2");
  EXPECT_EQ(spec.revision, 3);
  EXPECT_EQ(spec.template_, *r.spec.template_);
  EXPECT_EQ(spec.minReadySeconds, 5);
  EXPECT_EQ(spec.rolloutReplicas, 4);
  EXPECT_EQ(spec.rolloutAnnotations, (std::map<std::string, std::string>{{"team", "shop"}}));
  EXPECT_EQ(spec.ephemeralMetadata, kStable);
  r.spec.replicas.reset();
  EXPECT_EQ(revisionSpec(r, "", ensure).rolloutReplicas, 1) << "Argo's default";
}

}  // namespace
}  // namespace ramp::rollout
