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

// Argo's GenerateReplicaSetAffinity: a revision other than the stable one, while there is one,
// stays away from the stable revision's hosts; the stable revision itself and the first one
// carry no rule.
TEST(EphemeralMetadata, AntiAffinityPointsANewRevisionAwayFromTheStableOne) {
  const spec::Rollout preferred = testing::parseRollout(testing::canaryYaml(
      "      antiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: {weight: 40}}\n"
      "      steps: [{setWeight: 50}]\n"));
  const spec::Rollout required = testing::parseRollout(testing::blueGreenYaml(
      "      activeService: web-active\n"
      "      antiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}\n"));
  const spec::Rollout none =
      testing::parseRollout(testing::canaryYaml("      steps: [{setWeight: 50}]\n"));
  auto ruleFor = [](const spec::Rollout& r, const std::string& stable) {
    return revisionSpec(r, stable, EnsureRevision{"v2", 2, *r.spec.template_, 0}).antiAffinity;
  };
  using AntiAffinityTo = platform::RevisionSpec::AntiAffinityTo;
  spec::AntiAffinity weighted;
  weighted.preferredDuringSchedulingIgnoredDuringExecution = spec::PreferredDuringScheduling{40};
  spec::AntiAffinity hard;
  hard.requiredDuringSchedulingIgnoredDuringExecution = true;
  EXPECT_EQ(ruleFor(preferred, "v1"), (AntiAffinityTo{"v1", weighted}));
  EXPECT_EQ(ruleFor(required, "v1"), (AntiAffinityTo{"v1", hard}));
  EXPECT_EQ(ruleFor(preferred, ""), std::nullopt) << "the first revision: nothing to avoid";
  EXPECT_EQ(ruleFor(preferred, "v2"), std::nullopt) << "the stable revision itself";
  EXPECT_EQ(ruleFor(none, "v1"), std::nullopt);
}

}  // namespace
}  // namespace ramp::rollout
