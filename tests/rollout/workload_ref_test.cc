// spec.workloadRef (Argo's migration from a Deployment): the pod template comes from the object
// the platform read (Observed::referencedWorkload), its generation is recorded, and on revision 1
// the Deployment is scaled down as workloadRef.scaleDown says.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::canaryYaml;
using testing::phaseOf;
using testing::World;

const char* kSteps =
    "      steps:\n"
    "      - setWeight: 50\n"
    "      - pause: {duration: 10s}\n";

// A canary of 4 replicas whose template lives in the Deployment "demo" (2 replicas, generation
// 3), with `scaleDown`.
World migrating(const std::string& scaleDown) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps, 4));
  platform::ReferencedWorkload d;
  d.template_ = *w.rollout.spec.template_;
  d.selector = w.rollout.spec.selector;
  d.generation = 3;
  d.replicas = 2;
  w.observed.referencedWorkload = d;
  w.rollout.spec.template_.reset();
  w.rollout.spec.selector.reset();  // taken from the Deployment, as Argo does
  w.rollout.spec.workloadRef = spec::WorkloadRef{"apps/v1", "Deployment", "demo", scaleDown};
  return w;
}

std::vector<int32_t> deploymentScales(const World& w) {
  std::vector<int32_t> out;
  for (const Plan& p : w.history)
    for (const auto& a : actionsOf<ScaleWorkloadRef>(p)) out.push_back(a.replicas);
  return out;
}

TEST(WorkloadRef, RunsTheReferencedTemplateAndRecordsItsGeneration) {
  World w = migrating("never");
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Healthy") << p.status.message;
  auto ensures = actionsOf<EnsureRevision>(w.history.front());
  ASSERT_EQ(ensures.size(), 1u);
  EXPECT_EQ(ensures[0].template_, w.observed.referencedWorkload->template_);
  EXPECT_EQ(ensures[0].hash, podTemplateHash(w.observed.referencedWorkload->template_, {}));
  EXPECT_EQ(p.status.workloadObservedGeneration, "3");
  EXPECT_EQ(p.status.selector, "app=demo");  // the Deployment's selector
  EXPECT_TRUE(deploymentScales(w).empty());  // never

  // A new image in the Deployment is a new revision, run through the steps like any update.
  w.observed.referencedWorkload->template_.spec.containers.at(0).image = "demo:v2";
  w.observed.referencedWorkload->generation = 4;
  p = w.step();
  auto next = actionsOf<EnsureRevision>(p);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].revision, 2);
  EXPECT_EQ(next[0].template_.spec.containers.at(0).image, "demo:v2");
  EXPECT_EQ(p.status.workloadObservedGeneration, "4");
}

TEST(WorkloadRef, OnSuccessScalesTheDeploymentToZeroOnceHealthy) {
  World w = migrating("onsuccess");
  Plan p = w.settle();
  ASSERT_EQ(phaseOf(p), "Healthy");
  EXPECT_EQ(deploymentScales(w), std::vector<int32_t>{0});
  EXPECT_EQ(w.observed.referencedWorkload->replicas, 0);
  const Event* e = w.lastEvent("ScalingWorkloadRef");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->message, "Scaled Deployment demo from 2 to 0 (workloadRef.scaleDown: onsuccess)");
  // Not again, and never for a later revision.
  w.observed.referencedWorkload->replicas = 2;  // someone scales it up again
  w.observed.referencedWorkload->template_.spec.containers.at(0).image = "demo:v2";
  w.settle();
  EXPECT_EQ(deploymentScales(w), std::vector<int32_t>{0});
}

TEST(WorkloadRef, WithoutTheReferencedObjectTheRolloutIsInvalid) {
  World w = migrating("onsuccess");
  w.observed.referencedWorkload.reset();
  Plan p = w.step();
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_TRUE(p.actions.empty());
}

// Argo's scaleDown rules, one decision at a time.
TEST(WorkloadRef, ScaleDownTable) {
  struct Row {
    const char* what;
    const char* scaleDown;
    int64_t revision;
    spec::RolloutPhase lastPhase;
    int32_t readyReplicas;  // status.readyReplicas as last persisted
    bool stable;            // the revision is stable in the next status
    bool newScaledDown;
    int32_t deployment;  // its replicas now
    std::optional<int32_t> want;
  };
  using P = spec::RolloutPhase;
  const Row rows[] = {
      {"never", "never", 1, P::kHealthy, 4, true, false, 2, std::nullopt},
      {"unset", "", 1, P::kHealthy, 4, true, false, 2, std::nullopt},
      {"onsuccess, healthy and stable", "onsuccess", 1, P::kHealthy, 4, true, false, 2, 0},
      {"onsuccess, already 0", "onsuccess", 1, P::kHealthy, 4, true, false, 0, std::nullopt},
      {"onsuccess, progressing", "onsuccess", 1, P::kProgressing, 2, false, false, 2, std::nullopt},
      {"onsuccess, revision 2", "onsuccess", 2, P::kHealthy, 4, true, false, 2, std::nullopt},
      {"progressively, nothing ready", "progressively", 1, P::kProgressing, 0, false, false, 2,
       std::nullopt},
      {"progressively, 1 of 4 ready", "progressively", 1, P::kProgressing, 1, false, false, 4, 3},
      {"progressively, 3 of 4 ready", "progressively", 1, P::kProgressing, 3, false, false, 3, 1},
      {"progressively, more ready than wanted", "progressively", 1, P::kProgressing, 6, false,
       false, 1, 0},
      {"progressively, new revision scaled down with none ready", "progressively", 1, P::kDegraded,
       0, false, true, 1, 4},
      {"progressively, healthy", "progressively", 1, P::kHealthy, 4, true, false, 1, 0},
      {"progressively, revision 2", "progressively", 2, P::kProgressing, 2, false, false, 4,
       std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    spec::Rollout r = testing::parseRollout(canaryYaml(kSteps, 4));
    r.spec.workloadRef = spec::WorkloadRef{"apps/v1", "Deployment", "demo", row.scaleDown};
    r.status.phase = row.lastPhase;
    r.status.readyReplicas = row.readyReplicas;
    spec::RolloutStatus next;
    next.currentPodHash = "h1";
    next.stableRS = row.stable ? "h1" : "h0";
    EXPECT_EQ(workloadScaleDown(r, row.revision, next, row.newScaledDown, row.deployment),
              row.want);
  }
}

}  // namespace
}  // namespace ramp::rollout
