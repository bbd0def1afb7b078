// The rolling restart for spec.restartAt (Argo's rollout/restart.go), on fixed times.

#include <gtest/gtest.h>

#include "rollout/world.h"
#include "spec/values.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::at;
using testing::canaryYaml;
using testing::findEvent;
using testing::phaseOf;
using testing::World;

// Deploys v1 (started at t0) to a healthy, fully promoted state, then moves to t0 + 100 s.
World deployed(const std::string& yaml) {
  World w;
  w.rollout = testing::parseRollout(yaml);
  w.settle();
  EXPECT_EQ(phaseOf(w.history.back()), "Healthy") << w.history.back().status.message;
  w.now = at(100);
  return w;
}

std::string strategyWith(const std::string& fenceposts) {
  return fenceposts + "      steps:\n      - setWeight: 50\n      - pause: {}\n";
}

TEST(Restart, ReplacesReplicasWithinMaxUnavailableAndWaitsForAvailability) {
  // 4 replicas, maxUnavailable 25% -> 1 replica down at a time.
  World w = deployed(canaryYaml(strategyWith(""), 4));
  const std::string v1 = w.rollout.status.stableRS;
  w.rollout.spec.restartAt = at(50);

  Plan p = w.step();
  auto restarts = actionsOf<RestartReplica>(p);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0], (RestartReplica{v1, at(50)}));
  EXPECT_FALSE(p.status.restartedAt.has_value());
  ASSERT_TRUE(p.requeueAfter.has_value());
  EXPECT_LE(*p.requeueAfter, Duration(30000));
  EXPECT_EQ(phaseOf(p), "Progressing");
  EXPECT_EQ(p.status.message, "rollout is restarting");
  const Event* e = findEvent(p, "RestartingReplica");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->evidence.at("podTemplateHash"), v1);
  EXPECT_EQ(e->evidence.at("startedAt"), spec::formatRfc3339(at(0)));
  EXPECT_EQ(e->evidence.at("restartAt"), spec::formatRfc3339(at(50)));
  EXPECT_EQ(e->evidence.at("maxUnavailable"), "1");

  // The replacement is not available yet: nothing more is restarted.
  w.now = at(110);
  p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_FALSE(p.status.restartedAt.has_value());
  EXPECT_EQ(p.requeueAfter, Duration(30000));

  // Each time the replacement is available, the next one goes.
  for (int i = 2; i <= 4; ++i) {
    w.replicasBecomeAvailable();
    w.now += std::chrono::seconds(10);
    p = w.step();
    EXPECT_EQ(actionsOf<RestartReplica>(p).size(), 1u) << "restart " << i;
  }
  EXPECT_EQ(w.restarts, 4);
  // The last old replica was replaced in this reconcile: Argo sets restartedAt right away.
  EXPECT_EQ(p.status.restartedAt, at(50));
  const Event* done = findEvent(p, "RolloutRestarted");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->evidence.at("restartAt"), spec::formatRfc3339(at(50)));

  // Done: no more restarts, no more events about it.
  w.replicasBecomeAvailable();
  w.now += std::chrono::seconds(10);
  p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_EQ(findEvent(p, "RolloutRestarted"), nullptr);
  EXPECT_EQ(phaseOf(p), "Healthy") << p.status.message;
  for (Time t : w.revision(v1)->replicaStartedAt) EXPECT_GE(t, at(50));
}

struct ConcurrencyCase {
  std::string name;
  int replicas;
  std::string fenceposts;  // YAML under canary:
  size_t restartedAtOnce;
};

class RestartConcurrency : public ::testing::TestWithParam<ConcurrencyCase> {};

TEST_P(RestartConcurrency, RestartsMaxOfMaxUnavailableAndOneAtATime) {
  const ConcurrencyCase& tc = GetParam();
  World w = deployed(canaryYaml(strategyWith(tc.fenceposts), tc.replicas));
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  EXPECT_EQ(actionsOf<RestartReplica>(p).size(), tc.restartedAtOnce);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RestartConcurrency,
    ::testing::Values(ConcurrencyCase{"Default25PercentOf4", 4, "", 1},
                      ConcurrencyCase{"Three", 10, "      maxUnavailable: 3\n", 3},
                      ConcurrencyCase{"ZeroStillRestartsOne", 10,
                                      "      maxSurge: 1\n      maxUnavailable: 0\n", 1},
                      ConcurrencyCase{"SingleReplicaWithDowntime", 1, "", 1},
                      ConcurrencyCase{"ClampedToReplicas", 3, "      maxUnavailable: 10\n", 3},
                      ConcurrencyCase{"PercentRoundsDown", 10, "      maxUnavailable: 39%\n", 3}),
    [](const ::testing::TestParamInfo<ConcurrencyCase>& info) { return info.param.name; });

TEST(Restart, ScheduledInTheFutureWaitsAndRequeuesAtRestartAt) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  w.rollout.spec.restartAt = at(160);  // now is at(100)
  Plan p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_EQ(p.requeueAfter, Duration(60000));
  EXPECT_EQ(p.status.message, "rollout is restarting");

  w.now = at(160);
  p = w.step();
  EXPECT_EQ(actionsOf<RestartReplica>(p).size(), 1u);
}

TEST(Restart, NothingToDoOnceRestartedAtMatches) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  w.rollout.spec.restartAt = at(50);
  w.rollout.status.restartedAt = at(50);
  Plan p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_EQ(findEvent(p, "RolloutRestarted"), nullptr);
}

TEST(Restart, ReplicasStartedAtOrAfterRestartAtAreKept) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  w.rollout.spec.restartAt = at(0);  // v1's replicas started exactly then
  Plan p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_EQ(p.status.restartedAt, at(0));
  EXPECT_NE(findEvent(p, "RolloutRestarted"), nullptr);
}

TEST(Restart, WaitsWhileReplicasAreUnavailable) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  const std::string v1 = w.rollout.status.stableRS;
  w.revision(v1)->availableReplicas = 3;  // one replica not available (for another reason)
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_FALSE(p.status.restartedAt.has_value());
  EXPECT_EQ(p.requeueAfter, Duration(30000));
}

TEST(Restart, AManuallyPausedRolloutStillRestarts) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  w.rollout.spec.paused = true;
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  EXPECT_EQ(actionsOf<RestartReplica>(p).size(), 1u);
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.requeueAfter, Duration(30000));  // the pause does not stop the restart's requeue
}

TEST(Restart, StableFirstThenNewDuringAnUpdate) {
  // Paused at setWeight 50 of 4: 2 stable + 2 canary; maxUnavailable 4 restarts all at once.
  World w = deployed(canaryYaml(strategyWith("      maxUnavailable: 4\n"), 4));
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.now = at(200);
  Plan paused = w.settle();
  ASSERT_EQ(paused.status.pauseConditions.size(), 1u);
  ASSERT_EQ(w.revision(v1)->currentReplicas, 2);
  ASSERT_EQ(w.revision(v2)->currentReplicas, 2);

  w.rollout.spec.restartAt = at(300);
  w.now = at(300);
  Plan p = w.step();
  auto restarts = actionsOf<RestartReplica>(p);
  ASSERT_EQ(restarts.size(), 4u);
  EXPECT_EQ(restarts[0].hash, v1);
  EXPECT_EQ(restarts[1].hash, v1);
  EXPECT_EQ(restarts[2].hash, v2);
  EXPECT_EQ(restarts[3].hash, v2);
  EXPECT_EQ(p.status.restartedAt, at(300));
  // The canary pause is untouched by the restart.
  EXPECT_EQ(p.status.pauseConditions, paused.status.pauseConditions);
  EXPECT_EQ(p.status.currentStepIndex, paused.status.currentStepIndex);
}

TEST(Restart, ATemplateChangeCancelsThePendingRestart) {
  World w = deployed(canaryYaml(strategyWith(""), 4));
  w.rollout.spec.restartAt = at(50);
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.step();
  EXPECT_TRUE(actionsOf<RestartReplica>(p).empty());
  EXPECT_EQ(p.status.restartedAt, at(50));  // Argo's SetRestartedAt on a template change
  EXPECT_EQ(findEvent(p, "RolloutRestarted"), nullptr);
}

TEST(Restart, ReplicasWithoutAReportedStartTimeNeverCountAsRestarted) {
  World w = deployed(canaryYaml(strategyWith("      maxUnavailable: 4\n"), 4));
  const std::string v1 = w.rollout.status.stableRS;
  w.revision(v1)->replicaStartedAt.clear();  // a platform that does not report start times
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  EXPECT_EQ(actionsOf<RestartReplica>(p).size(), 4u);
  const Event* e = findEvent(p, "RestartingReplica");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->evidence.at("startedAt"), "");
  EXPECT_NE(e->message.find("unknown time"), std::string::npos);
}

TEST(Restart, BlueGreenRestartsTheActiveRevisionOneAtATime) {
  // Blue-green maxUnavailable defaults to 25% of 3 = 0: still one at a time.
  World w = deployed(testing::blueGreenYaml("      activeService: active\n", 3));
  const std::string v1 = w.rollout.status.stableRS;
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  auto restarts = actionsOf<RestartReplica>(p);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0].hash, v1);
  EXPECT_EQ(findEvent(p, "RestartingReplica")->evidence.at("maxUnavailable"), "0");
  EXPECT_FALSE(p.status.restartedAt.has_value());
}

TEST(Restart, BlueGreenMaxUnavailableIsHonoured) {
  World w =
      deployed(testing::blueGreenYaml("      activeService: active\n      maxUnavailable: 2\n", 3));
  w.rollout.spec.restartAt = at(50);
  Plan p = w.step();
  EXPECT_EQ(actionsOf<RestartReplica>(p).size(), 2u);
}

TEST(Restart, DescribeNamesTheRevisionAndTime) {
  EXPECT_EQ(describe(RestartReplica{"abc", at(50)}),
            "RestartReplica(abc, started before 2026-01-01T00:00:50Z)");
}

}  // namespace
}  // namespace ramp::rollout
