// The canary strategy, reconcile by reconcile on fixed times.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::at;
using testing::canaryYaml;
using testing::findEvent;
using testing::phaseOf;
using testing::World;

const char* kSteps =
    "      maxSurge: 1\n"
    "      maxUnavailable: 0\n"
    "      steps:\n"
    "      - setWeight: 20\n"
    "      - pause: {duration: 60s}\n"
    "      - setWeight: 60\n"
    "      - pause: {}\n";

// Deploys v1 to a healthy, fully promoted state.
World deployed(const std::string& strategy, int replicas = 5) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(strategy, replicas));
  w.settle();
  return w;
}

TEST(CanaryInitialDeploy, SkipsStepsAndGoesStraightToFullScale) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps));
  Plan first = w.step();
  auto ensure = actionsOf<EnsureRevision>(first);
  ASSERT_EQ(ensure.size(), 1u);
  EXPECT_EQ(ensure[0].revision, 1);
  EXPECT_NE(findEvent(first, "NewReplicaSetCreated"), nullptr);
  EXPECT_EQ(first.status.currentPodHash, ensure[0].hash);
  EXPECT_EQ(first.status.currentStepIndex, 0);
  EXPECT_EQ(first.requeueAfter, Duration(0));

  Plan second = w.step();
  EXPECT_EQ(second.status.stableRS, ensure[0].hash);  // "Initial deploy": promoted at once
  EXPECT_EQ(second.status.currentStepIndex, 4);       // all steps skipped
  const Event* completed = findEvent(second, "RolloutCompleted");
  ASSERT_NE(completed, nullptr);
  EXPECT_NE(completed->message.find("Initial deploy"), std::string::npos);
  EXPECT_TRUE(actionsOf<CreateAnalysisRun>(second).empty());

  Plan settled = w.settle();
  EXPECT_EQ(phaseOf(settled), "Healthy") << settled.status.message;
  EXPECT_EQ(w.revision(ensure[0].hash)->desiredReplicas, 5);
  EXPECT_EQ(settled.status.duration->completionStatus, "Promoted");
}

// The shell creates a new revision, with 0 replicas, before it persists the status that
// announces it (docs/controller.md, step 2b). Killed between the two, the next reconcile finds
// the empty newest revision under a status that does not name it: the update is announced then,
// once, and goes on from the revision found.
TEST(CanaryUpdate, ARevisionCreatedBeforeItsStatusLandedIsAnnouncedOnce) {
  World w = deployed(kSteps);
  const size_t before = w.history.size();
  testing::setImage(w.rollout, "demo:v2");
  const Plan lost = reconcileRollout(w.rollout, w.observed, w.now);  // its status never lands
  auto ensure = actionsOf<EnsureRevision>(lost);
  ASSERT_EQ(ensure.size(), 1u);
  platform::ObservedRevision created;  // what step 2b left on the platform
  created.podTemplateHash = ensure[0].hash;
  created.revision = ensure[0].revision;
  created.template_ = ensure[0].template_;
  created.createdAt = w.now;
  w.observed.workload.revisions.push_back(created);

  const Plan next = w.step();
  EXPECT_NE(findEvent(next, "NewReplicaSetCreated"), nullptr);
  ASSERT_NE(findEvent(next, "RolloutUpdated"), nullptr);
  EXPECT_EQ(findEvent(next, "RolloutUpdated")->message,
            "Rollout updated to revision " + std::to_string(ensure[0].revision));
  EXPECT_EQ(next.status.currentPodHash, ensure[0].hash);
  w.settle();
  int updated = 0;
  for (size_t i = before; i < w.history.size(); ++i) {
    for (const auto& e : w.history[i].events) updated += e.reason == "RolloutUpdated" ? 1 : 0;
  }
  EXPECT_EQ(updated, 1) << "announced once";
  EXPECT_EQ(w.rollout.status.currentStepIndex, 1) << "then the steps, from the first";
}

// Argo's hash collision: told that this spec's hash names another object, the core only raises
// status.collisionCount (no action, reconcile again at once); the next plan creates the revision
// under the hash computed with the count. A collision reported for another hash changes nothing.
TEST(CanaryCollision, ACollidedHashRaisesCollisionCountAndTheNextPlanUsesIt) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps));
  const std::string taken = podTemplateHash(*w.rollout.spec.template_, std::nullopt);

  w.observed.collidedHash = "another-hash";
  Plan unrelated = reconcileRollout(w.rollout, w.observed, testing::t0());
  EXPECT_FALSE(unrelated.status.collisionCount.has_value());
  EXPECT_EQ(actionsOf<EnsureRevision>(unrelated).size(), 1u);

  w.observed.collidedHash = taken;
  Plan bumped = w.step();
  EXPECT_EQ(bumped.status.collisionCount, std::optional<int32_t>(1));
  EXPECT_TRUE(bumped.actions.empty());
  EXPECT_TRUE(bumped.events.empty());
  EXPECT_EQ(bumped.requeueAfter, Duration(0));
  EXPECT_EQ(bumped.hashes.collisionCount, std::optional<int32_t>(1));
  EXPECT_EQ(bumped.hashes.podTemplate, podTemplateHash(*w.rollout.spec.template_, 1));

  w.observed.collidedHash.clear();
  Plan created = w.step();
  auto ensure = actionsOf<EnsureRevision>(created);
  ASSERT_EQ(ensure.size(), 1u);
  EXPECT_EQ(ensure[0].hash, podTemplateHash(*w.rollout.spec.template_, 1));
  EXPECT_NE(ensure[0].hash, taken);
  EXPECT_EQ(created.status.currentPodHash, ensure[0].hash);
  EXPECT_EQ(created.status.collisionCount, std::optional<int32_t>(1));
}

TEST(CanarySteps, SetWeightTimedPauseIndefinitePauseAndPromote) {
  World w = deployed(kSteps);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");

  // setWeight 20 of 5 replicas with maxSurge 1: 1 canary + 5 stable (then 4).
  Plan p = w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 1);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 4);
  EXPECT_EQ(p.status.currentStepIndex, 1);
  ASSERT_EQ(p.status.pauseConditions.size(), 1u);
  EXPECT_EQ(p.status.pauseConditions[0].reason, "CanaryPauseStep");
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.message, "CanaryPauseStep");
  EXPECT_TRUE(w.sawEvent("RolloutStepCompleted"));
  EXPECT_TRUE(w.sawEvent("RolloutPaused"));
  // One Service holds both revisions: the routers split by replicas, with no weight of a step.
  auto syncs = actionsOf<SyncEndpoints>(p);
  ASSERT_FALSE(syncs.empty());
  EXPECT_EQ(syncs.back(), (SyncEndpoints{v1, v2, {}, {}, true}));
  EXPECT_TRUE(actionsOf<SetWeight>(p).empty());
  // Timed pause: requeued exactly at expiry.
  EXPECT_EQ(p.requeueAfter, std::chrono::duration_cast<Duration>(std::chrono::seconds(60)));

  // Before expiry nothing moves.
  w.now = at(59);
  Plan before = w.step();
  EXPECT_EQ(before.status.currentStepIndex, 1);
  EXPECT_EQ(before.requeueAfter, Duration(1000));

  // At expiry the pause completes, setWeight 60 runs, then the indefinite pause holds.
  w.now = at(60);
  p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 3);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 2);
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_FALSE(p.requeueAfter.has_value() && *p.requeueAfter < Duration(600000))
      << "an indefinite pause has no timer";

  // An hour later still paused.
  w.now = at(3600);
  EXPECT_EQ(w.step().status.currentStepIndex, 3);

  // promote clears the pause; the last step completes and v2 becomes stable.
  auto promoted = promote(w.rollout);
  ASSERT_TRUE(promoted.has_value()) << promoted.error().message;
  w.rollout = *promoted;
  p = w.settle();
  EXPECT_EQ(p.status.stableRS, v2);
  EXPECT_EQ(p.status.currentStepIndex, 4);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 5);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 0);
  EXPECT_EQ(phaseOf(p), "Healthy") << p.status.message;
  const Event* done = w.lastEvent("RolloutCompleted");
  ASSERT_NE(done, nullptr);
  EXPECT_NE(done->message.find("Completed all 4 canary steps"), std::string::npos);
  EXPECT_TRUE(w.sawEvent("RolloutResumed"));
}

TEST(CanarySteps, StepCompletedEventCarriesEvidence) {
  World w = deployed(kSteps);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  const Event* e = nullptr;
  for (const auto& p : w.history)
    for (const auto& ev : p.events)
      if (ev.reason == "RolloutStepCompleted" && !e) e = &ev;
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->message, "Rollout step 1/4 completed (setWeight: 20)");
  EXPECT_EQ(e->evidence.at("stepIndex"), "0");
  EXPECT_EQ(e->evidence.at("canaryAvailable"), "1");
}

TEST(CanaryRollingUpdate, NoStepsIsBoundedBySurgeAndUnavailable) {
  World w = deployed("      maxSurge: 1\n      maxUnavailable: 0\n", 4);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  // Drive one reconcile at a time: total replicas never exceed 5, available never below 4.
  for (int i = 0; i < 40; ++i) {
    w.step();
    int32_t total = 0, available = 0;
    for (const auto& r : w.observed.workload.revisions) {
      total += r.desiredReplicas;
      available += r.availableReplicas;
    }
    EXPECT_LE(total, 5);
    EXPECT_GE(available, 4);
  }
  EXPECT_EQ(w.rollout.status.stableRS, v2);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 4);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 0);
}

TEST(CanaryStepHash, EditingStepsResetsTheIndex) {
  World w = deployed(kSteps);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  ASSERT_EQ(w.rollout.status.currentStepIndex, 1);
  const std::string oldHash = w.rollout.status.currentStepHash;
  w.rollout.spec.strategy.canary->steps[1].pause->duration = spec::IntOrString{int64_t{30}};
  Plan p = w.step();
  EXPECT_NE(p.status.currentStepHash, oldHash);
  EXPECT_EQ(p.status.currentStepIndex, 0);
  EXPECT_TRUE(p.status.pauseConditions.empty());
}

TEST(CanaryRollback, BackToStableSkipsStepsAndAnalysis) {
  World w = deployed(kSteps);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  ASSERT_EQ(w.rollout.status.currentStepIndex, 1);
  testing::setImage(w.rollout, "demo:v1");  // user reverts mid-update
  Plan p = w.step();
  EXPECT_NE(findEvent(p, "SkipSteps"), nullptr);
  EXPECT_EQ(p.status.currentStepIndex, 4);
  p = w.settle();
  EXPECT_EQ(p.status.stableRS, v1);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 5);
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 0);
  EXPECT_EQ(phaseOf(p), "Healthy") << p.status.message;
}

TEST(CanaryRollback, WithinRollbackWindowIsFastTracked) {
  World w = deployed(kSteps);
  w.rollout.spec.rollbackWindow = spec::RollbackWindowSpec{2};
  const std::string v1 = w.rollout.status.stableRS;
  // v2 fully promoted (promote --full to get there quickly). Revisions are ordered by their
  // creation time, so time moves between the updates.
  w.now = at(10);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.rollout = *promoteFull(w.rollout);
  w.settle();
  ASSERT_EQ(w.rollout.status.stableRS, w.hashOf("demo:v2"));
  // Roll back to v1 (older than stable, within the window): no steps.
  w.now = at(20);
  testing::setImage(w.rollout, "demo:v1");
  Plan p = w.settle();
  EXPECT_EQ(p.status.stableRS, v1);
  const Event* done = w.lastEvent("RolloutCompleted");
  ASSERT_NE(done, nullptr);
  EXPECT_NE(done->message.find("Rollback within window"), std::string::npos);
  EXPECT_EQ(p.status.duration->completionStatus, "FastRolledBack");

  // Without a window the same rollback walks the steps (pauses at step 2).
  World v = deployed(kSteps);
  v.now = at(10);
  testing::setImage(v.rollout, "demo:v2");
  v.settle();
  v.rollout = *promoteFull(v.rollout);
  v.settle();
  v.now = at(20);
  testing::setImage(v.rollout, "demo:v1");
  Plan q = v.settle();
  EXPECT_EQ(q.status.currentStepIndex, 1);
  EXPECT_EQ(phaseOf(q), "Paused");
}

TEST(CanaryPromoteFull, SkipsRemainingSteps) {
  World w = deployed(kSteps);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.rollout = *promoteFull(w.rollout);
  Plan p = w.settle();
  EXPECT_EQ(p.status.stableRS, w.hashOf("demo:v2"));
  EXPECT_FALSE(p.status.promoteFull);
  EXPECT_EQ(p.status.duration->completionStatus, "FastPromoted");
}

TEST(CanaryAbort, UserAbortReturnsToStable) {
  World w = deployed(kSteps);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.rollout = *abortRollout(w.rollout);
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_EQ(p.status.message.rfind("RolloutAborted: Rollout aborted update to revision 2", 0), 0u)
      << p.status.message;
  EXPECT_EQ(p.status.currentStepIndex, 0);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 5);
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 0);
  EXPECT_TRUE(p.status.abortedAt.has_value());
  EXPECT_EQ(p.status.duration->completionStatus, "Aborted");
  // The aborted canary leaves the Service (the routers' backend).
  auto syncs = actionsOf<SyncEndpoints>(p);
  ASSERT_FALSE(syncs.empty());
  EXPECT_EQ(syncs.back(), (SyncEndpoints{v1, v1, {}, {}, true}));
  // Retry starts over from step 0.
  w.rollout = *retry(w.rollout);
  p = w.settle();
  EXPECT_FALSE(p.status.abort);
  EXPECT_EQ(p.status.currentStepIndex, 1);
  EXPECT_EQ(phaseOf(p), "Paused");
}

// --- traffic routing ---------------------------------------------------------------------------

const char* kRouted =
    "      canaryService: demo-canary\n"
    "      stableService: demo-stable\n"
    "      trafficRouting:\n"
    "        plugins:\n"
    "          ramp/haproxy: {}\n"
    "        managedRoutes:\n"
    "        - name: header\n"
    "      steps:\n"
    "      - setWeight: 10\n"
    "      - setHeaderRoute:\n"
    "          name: header\n"
    "          match:\n"
    "          - headerName: x-canary\n"
    "            headerValue: {exact: 'yes'}\n"
    "      - setWeight: 50\n"
    "      - pause: {}\n";

TEST(CanaryTrafficRouting, WeightsFollowStepsAndStableStaysFull) {
  World w = deployed(kRouted, 10);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 5);   // ceil(50% of 10)
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 10);  // stable stays at 100%
  auto weights = actionsOf<SetWeight>(p);
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0].canaryWeight, 50);
  ASSERT_TRUE(p.status.canary.weights.has_value());
  EXPECT_EQ(p.status.canary.weights->canary.weight, 50);
  EXPECT_EQ(p.status.canary.weights->stable.weight, 50);
  EXPECT_EQ(p.status.canary.weights->canary.podTemplateHash, v2);
  auto endpoints = actionsOf<SyncEndpoints>(p);
  ASSERT_FALSE(endpoints.empty());
  EXPECT_EQ(endpoints[0].stableHash, v1);
  EXPECT_EQ(endpoints[0].canaryHash, v2);
  EXPECT_FALSE(endpoints[0].byReplicas) << "trafficRouting sets the weights of each step";
  // The header route step was applied as an action.
  bool header = false;
  for (const auto& plan : w.history)
    for (const auto& r : actionsOf<SetHeaderRoute>(plan))
      header = header || (r.route.name == "header" && r.route.match.size() == 1);
  EXPECT_TRUE(header);
  // Weight events carry from/to.
  const Event* e = w.lastEvent("TrafficWeightUpdated");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->evidence.at("to"), "50");
  EXPECT_EQ(e->evidence.at("from"), "10");

  // Promotion: weight back to 0 on the (new) stable, managed routes removed, old stable kept
  // for scaleDownDelaySeconds (30 s) then scaled down.
  w.rollout = *promote(w.rollout);
  p = w.settle();
  EXPECT_EQ(p.status.stableRS, v2);
  bool removed = false;
  for (const auto& plan : w.history)
    removed = removed || !actionsOf<RemoveManagedRoutes>(plan).empty();
  EXPECT_TRUE(removed);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 10);
  ASSERT_TRUE(w.revision(v1)->scaleDownDeadline.has_value());
  EXPECT_EQ(*w.revision(v1)->scaleDownDeadline, w.now + std::chrono::seconds(30));
  w.now = w.now + std::chrono::seconds(31);
  w.settle();
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 0);
}

TEST(CanaryTrafficRouting, WeightWaitsForVerification) {
  World w = deployed(kRouted, 10);
  testing::setImage(w.rollout, "demo:v2");
  w.observed.weightVerification = WeightVerification::kNotYet;
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 0);  // setWeight 10 not complete until verified
  EXPECT_EQ(p.status.canary.weights->verified, false);
  EXPECT_EQ(p.requeueAfter, Duration(10000));
  w.observed.weightVerification = WeightVerification::kVerified;
  p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
}

// Outside a setWeight step (Healthy, paused, aborted) the routers are still checked: a proxy that
// lost the weight is recorded (weights.verified false) and the rollout is not Healthy until a
// check finds it back, which clears the mark (a settled status is as before: unset).
TEST(CanaryTrafficRouting, AProxyThatLostTheWeightIsRecordedInEveryPhase) {
  World w = deployed(kRouted, 10);
  Plan p = w.settle();
  ASSERT_EQ(phaseOf(p), "Healthy");
  EXPECT_EQ(p.status.canary.weights->verified, std::nullopt);
  w.observed.weightVerification = WeightVerification::kNotYet;
  p = w.settle();
  EXPECT_EQ(p.status.canary.weights->verified, false);
  EXPECT_EQ(phaseOf(p), "Progressing");
  EXPECT_NE(p.status.message.find("verify traffic weight 0"), std::string::npos)
      << p.status.message;
  EXPECT_EQ(actionsOf<SetWeight>(p).at(0).canaryWeight, 0) << "the repair is still planned";
  w.observed.weightVerification = WeightVerification::kVerified;
  p = w.settle();
  EXPECT_EQ(p.status.canary.weights->verified, std::nullopt);
  EXPECT_EQ(phaseOf(p), "Healthy");

  // Aborted (Degraded) and paused rollouts keep their phase but record the mismatch too.
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  ASSERT_EQ(phaseOf(w.settle()), "Paused");
  w.observed.weightVerification = WeightVerification::kNotYet;
  p = w.settle();
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.canary.weights->verified, false);
  w.observed.weightVerification = WeightVerification::kVerified;
  w.rollout = *abortRollout(w.rollout);
  w.settle();
  w.observed.weightVerification = WeightVerification::kNotYet;
  p = w.settle();
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_EQ(p.status.canary.weights->verified, false);
}

TEST(CanaryTrafficRouting, MinPodsPerReplicaSetAndSetCanaryScale) {
  World w = deployed(
      "      trafficRouting:\n"
      "        plugins: {ramp/nginx: {}}\n"
      "      minPodsPerReplicaSet: 2\n"
      "      steps:\n"
      "      - setWeight: 5\n"
      "      - pause: {}\n"
      "      - setCanaryScale: {replicas: 4}\n"
      "      - pause: {}\n",
      10);
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 2);  // ceil(5% of 10) = 1, raised to 2
  w.rollout = *promote(w.rollout);
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 4);             // setCanaryScale overrides
  EXPECT_EQ(actionsOf<SetWeight>(p).at(0).canaryWeight, 5);  // weight unchanged
}

TEST(CanaryTrafficRouting, DynamicStableScaleShrinksStable) {
  World w = deployed(
      "      trafficRouting:\n"
      "        plugins: {ramp/haproxy: {}}\n"
      "      dynamicStableScale: true\n"
      "      steps:\n"
      "      - setWeight: 40\n"
      "      - pause: {}\n",
      10);
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 4);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 6);  // follows the applied stable weight (60)
}

TEST(CanaryTrafficRouting, AbortKeepsCanaryForAbortScaleDownDelay) {
  World w = deployed(kRouted, 10);
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.settle();
  w.rollout = *abortRollout(w.rollout);
  Plan p = w.settle();
  EXPECT_EQ(actionsOf<SetWeight>(p).at(0).canaryWeight, 0);
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 5);  // kept for 30 s
  ASSERT_TRUE(w.revision(v2)->scaleDownDeadline.has_value());
  bool removed = false;
  for (const auto& plan : w.history)
    removed = removed || !actionsOf<RemoveManagedRoutes>(plan).empty();
  EXPECT_TRUE(removed);
  w.now = w.now + std::chrono::seconds(30);
  w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 0);
}

TEST(CanaryTrafficRouting, AbortScaleDownDelayZeroLeavesCanaryUp) {
  std::string strategy = std::string(kRouted) + "      abortScaleDownDelaySeconds: 0\n";
  World w = deployed(strategy, 10);
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.settle();
  w.rollout = *abortRollout(w.rollout);
  w.settle();
  w.now = w.now + std::chrono::seconds(3600);
  w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 5);
}

// --- unsupported steps ---------------------------------------------------------------------------

TEST(CanaryExperimentStep, PausesWithAClearReasonAndPromoteSkipsIt) {
  World w = deployed(
      "      steps:\n"
      "      - setWeight: 20\n"
      "      - experiment:\n"
      "          templates:\n"
      "          - name: baseline\n"
      "            specRef: stable\n"
      "      - setWeight: 40\n"
      "      - pause: {}\n");
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 1);
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.message, "UnsupportedStep");
  const Event* e = w.lastEvent("StepNotSupported");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("experiment step, which ramp does not run"), std::string::npos);
  w.rollout = *promote(w.rollout);
  p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
}

// --- progress deadline -----------------------------------------------------------------------

TEST(CanaryProgressDeadline, NeverReadyTimesOutAndAbortsWhenAsked) {
  for (bool abortOnTimeout : {false, true}) {
    SCOPED_TRACE(abortOnTimeout);
    World w = deployed(kSteps);
    w.rollout.spec.progressDeadlineSeconds = 600;
    w.rollout.spec.progressDeadlineAbort = abortOnTimeout;
    testing::setImage(w.rollout, "demo:v2");
    w.brokenHashes.push_back(w.hashOf("demo:v2"));
    Plan p = w.settle();
    EXPECT_EQ(phaseOf(p), "Progressing");
    ASSERT_TRUE(p.requeueAfter.has_value());  // progress check scheduled
    w.now = at(599);
    p = w.settle();
    EXPECT_EQ(phaseOf(p), "Progressing");
    w.now = at(602);
    p = w.settle();
    EXPECT_EQ(phaseOf(p), "Degraded");
    EXPECT_TRUE(w.sawEvent("ProgressDeadlineExceeded"));
    EXPECT_EQ(p.status.abort, abortOnTimeout);
    if (abortOnTimeout) {
      EXPECT_NE(p.status.message.find("RolloutAborted"), std::string::npos) << p.status.message;
      EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 0);
    } else {
      EXPECT_NE(p.status.message.find("ProgressDeadlineExceeded"), std::string::npos);
    }
  }
}

// Argo issue #3765: replicas that crash-loop flap between ready and not ready; each flap looks
// like progress to Argo, so the deadline never fires. ramp does not count readiness gains of
// crash-looping replicas as progress.
TEST(CanaryProgressDeadline, CrashLoopingReplicasDoNotResetTheDeadline) {
  for (bool crashLoopReported : {true, false}) {
    SCOPED_TRACE(crashLoopReported);
    World w = deployed(
        "      trafficRouting:\n"
        "        plugins: {ramp/haproxy: {}}\n"
        "      steps:\n"
        "      - setWeight: 60\n"
        "      - pause: {}\n");
    w.rollout.spec.progressDeadlineAbort = true;
    testing::setImage(w.rollout, "demo:v2");
    const std::string v2 = w.hashOf("demo:v2");
    w.brokenHashes.push_back(v2);
    if (crashLoopReported) w.crashLooping.push_back(v2);
    w.settle();
    ASSERT_EQ(w.revision(v2)->desiredReplicas, 3);
    // Every 100 s one canary replica briefly turns ready, then crashes again.
    for (int t = 100; t <= 700; t += 100) {
      w.now = at(t);
      auto* r = w.revision(v2);
      r->readyReplicas = r->availableReplicas = (t / 100) % 2;
      w.step();
    }
    w.now = at(800);
    Plan p = w.settle();
    if (crashLoopReported) {
      EXPECT_TRUE(p.status.abort) << "a crash-looping canary must not run forever";
      EXPECT_EQ(phaseOf(p), "Degraded");
      EXPECT_EQ(w.lastEvent("ProgressDeadlineExceeded")->evidence.at("crashLoopingReplicas"), "3");
    } else {
      EXPECT_FALSE(p.status.abort);  // Argo's rule: readiness gains count as progress
    }
  }
}

TEST(CanaryProgressDeadline, NotCountedDuringPauseSteps) {
  World w = deployed(kSteps);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.now = at(60);
  w.settle();  // at the indefinite pause
  w.now = at(5000);
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Paused");
}

// --- revision history --------------------------------------------------------------------------

TEST(CanaryRevisionHistory, OldRevisionsBeyondTheLimitAreRetired) {
  World w = deployed("      maxSurge: 1\n      maxUnavailable: 0\n", 2);
  w.rollout.spec.revisionHistoryLimit = 1;
  for (const char* image : {"demo:v2", "demo:v3", "demo:v4"}) {
    testing::setImage(w.rollout, image);
    w.settle(60);
  }
  // v4 current/stable, v3 kept (limit 1), v1 and v2 retired.
  EXPECT_EQ(w.observed.workload.revisions.size(), 2u);
  EXPECT_NE(w.revision(w.hashOf("demo:v3")), nullptr);
  EXPECT_EQ(w.revision(w.hashOf("demo:v1")), nullptr);
}

TEST(CanaryManualPause, HaltsScalingAndRecordsThePauseDuration) {
  World w = deployed(kSteps);
  w.rollout = *pause(w.rollout);
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.now = at(5);
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.message, "manually paused");
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 0);  // nothing scaled
  w.now = at(95);
  w.rollout = *resume(w.rollout);
  p = w.settle();
  EXPECT_EQ(p.status.duration->totalManualPauseDurationSeconds, 95);
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 1);
}

TEST(CanaryMirrorRoute, StepBecomesARouterAction) {
  World w = deployed(
      "      trafficRouting:\n"
      "        plugins: {ramp/haproxy: {}}\n"
      "        managedRoutes: [{name: mirror}]\n"
      "      steps:\n"
      "      - setMirrorRoute:\n"
      "          name: mirror\n"
      "          percentage: 35\n"
      "          match:\n"
      "          - method: {exact: GET}\n"
      "      - pause: {}\n");
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 1);  // completes at once
  bool mirrored = false;
  for (const auto& plan : w.history)
    for (const auto& m : actionsOf<SetMirrorRoute>(plan))
      mirrored = mirrored || (m.route.name == "mirror" && m.route.percentage == 35);
  EXPECT_TRUE(mirrored);
}

TEST(CanaryInvalidSpec, WorkloadRefIsReportedAsInvalidSpec) {
  spec::Rollout r = testing::parseRollout(canaryYaml(kSteps));
  r.spec.template_.reset();
  r.spec.workloadRef = spec::WorkloadRef{"apps/v1", "Deployment", "demo", ""};
  Plan p = reconcileRollout(r, Observed{}, at(0));
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_NE(
      p.status.message.find("InvalidSpec: spec.workloadRef: the Deployment demo was not read"),
      std::string::npos)
      << p.status.message;
  EXPECT_TRUE(p.actions.empty());
}

TEST(CanaryHashes, PodTemplateHashIsStableAndSafeEncoded) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kSteps));
  const std::string h1 = podTemplateHash(*w.rollout.spec.template_, std::nullopt);
  EXPECT_EQ(h1, podTemplateHash(*w.rollout.spec.template_, std::nullopt));
  EXPECT_NE(h1, podTemplateHash(*w.rollout.spec.template_, 1));
  EXPECT_EQ(h1.find_first_of("aeiou013"), std::string::npos);
  EXPECT_NE(h1, w.hashOf("demo:v2"));
}

}  // namespace
}  // namespace ramp::rollout
