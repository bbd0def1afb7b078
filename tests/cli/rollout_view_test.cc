#include "cli/rollout_view.h"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

namespace ramp::cli {
namespace {

spec::Rollout canaryAtStep(int32_t step) {
  spec::Rollout r;
  r.metadata.name = "web";
  r.metadata.namespace_ = "default";
  spec::CanaryStrategy canary;
  for (int32_t w : {20, 50}) {
    spec::CanaryStep s;
    s.setWeight = w;
    canary.steps.push_back(s);
    spec::CanaryStep pause;
    pause.pause = spec::RolloutPause{};
    canary.steps.push_back(pause);
  }
  r.spec.strategy.canary = canary;
  r.status.currentStepIndex = step;
  return r;
}

// The SET-WEIGHT cell of a one-rollout table: the row's sixth word (NAME, STRATEGY, the status
// icon and word, STEP, SET-WEIGHT).
std::string setWeightColumn(const spec::Rollout& r) {
  std::string table = renderRolloutTable({r}, false, false);
  std::istringstream row(table.substr(table.find('\n') + 1));
  std::string word;
  for (int i = 0; i < 6; ++i) row >> word;
  return word;
}

TEST(RolloutViewTest, SetWeightFollowsArgoGetCurrentSetWeight) {
  EXPECT_EQ(setWeightColumn(canaryAtStep(0)), "20");
  EXPECT_EQ(setWeightColumn(canaryAtStep(3)), "50");
  EXPECT_EQ(setWeightColumn(canaryAtStep(4)), "100");  // every step done
  spec::Rollout aborted = canaryAtStep(3);
  aborted.status.abort = true;
  EXPECT_EQ(setWeightColumn(aborted), "0");  // traffic is back on stable
  RolloutView view;
  view.rollout = aborted;
  EXPECT_NE(renderRollout(view).find("SetWeight:     0\n"), std::string::npos)
      << renderRollout(view);
}

spec::TrafficRouting routed() {
  spec::TrafficRouting t;
  t.plugins["ramp/haproxy"] = {};
  return t;
}

// Argo's ActualWeight (its plugin's rollout info), row by row.
TEST(RolloutViewTest, ActualWeightFollowsArgo) {
  struct Case {
    const char* name;
    spec::Rollout rollout;
    std::optional<std::vector<api::RevisionView>> revisions;
    std::string want;
  };
  auto with = [](spec::Rollout r, auto f) {
    f(r);
    return r;
  };
  auto available = [](spec::Rollout& r) { r.status.availableReplicas = 4; };
  std::vector<Case> cases = {
      {"healthy, every step done: the maximum, not 0",
       with(canaryAtStep(4),
            [&](spec::Rollout& r) { r.spec.strategy.canary->trafficRouting = routed(); }),
       std::nullopt, "100"},
      {"nothing available",
       with(canaryAtStep(1),
            [&](spec::Rollout& r) { r.spec.strategy.canary->trafficRouting = routed(); }),
       std::nullopt, "0"},
      {"router, no weights yet: the set weight",
       with(canaryAtStep(1),
            [&](spec::Rollout& r) {
              r.spec.strategy.canary->trafficRouting = routed();
              available(r);
            }),
       std::nullopt, "20"},
      {"router, verified weights",
       with(canaryAtStep(1),
            [&](spec::Rollout& r) {
              r.spec.strategy.canary->trafficRouting = routed();
              available(r);
              r.status.canary.weights = spec::TrafficWeights{};
              r.status.canary.weights->canary.weight = 15;
              r.status.canary.weights->verified = false;
            }),
       std::nullopt, "15 (not yet verified)"},
      {"basic canary: the canary revision's share of the available replicas",
       with(canaryAtStep(1),
            [&](spec::Rollout& r) {
              available(r);
              r.status.stableRS = "a";
              r.status.currentPodHash = "b";
            }),
       std::vector<api::RevisionView>{{2, "b", {"web:v2"}, 1, 1, 1}, {1, "a", {"web:v1"}, 3, 3, 3}},
       "25"},
      {"basic canary without the platform's revisions",
       with(canaryAtStep(1),
            [&](spec::Rollout& r) {
              available(r);
              r.status.stableRS = "a";
              r.status.currentPodHash = "b";
              r.status.updatedReplicas = 2;
            }),
       std::nullopt, "50 (by updated replicas)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(actualWeightText(c.rollout, c.revisions ? &*c.revisions : nullptr), c.want) << c.name;
  }
}

TEST(RolloutViewTest, ImagesAreTheRunningRevisionsWithArgosTags) {
  spec::Rollout r = canaryAtStep(1);
  r.status.stableRS = "a";
  r.status.currentPodHash = "b";
  std::vector<api::RevisionView> revs = {{2, "b", {"web:v2"}, 1, 1, 1},
                                         {1, "a", {"web:v1", "side:v1"}, 3, 3, 3},
                                         {0, "z", {"web:v0"}, 0, 0, 0}};
  std::vector<ImageTags> want = {
      {"side:v1", {"stable"}}, {"web:v1", {"stable"}}, {"web:v2", {"canary"}}};
  EXPECT_EQ(runningImages(r, &revs), want);
  spec::Rollout bg;
  bg.spec.strategy.blueGreen = spec::BlueGreenStrategy{};
  bg.status.blueGreen.activeSelector = "a";
  bg.status.blueGreen.previewSelector = "b";
  want = {{"side:v1", {"active"}}, {"web:v1", {"active"}}, {"web:v2", {"preview"}}};
  EXPECT_EQ(runningImages(bg, &revs), want);
}

// A repeat the store counted is shown once, with kubectl's "(xN over AGE)".
TEST(RolloutViewTest, CountedEventsShowHowManyAndSinceWhen) {
  RolloutView view;
  view.rollout = canaryAtStep(1);
  view.now = Time(std::chrono::minutes(10));
  store::Event once;
  once.time = Time(std::chrono::minutes(9));
  once.object = {"Rollout", "default", "web"};
  once.reason = "RolloutPaused";
  once.message = "Rollout is paused";
  once.firstTime = once.time;
  store::Event counted = once;
  counted.reason = "ScalingReplicaSet";
  counted.message = "Scaled up revision abc to 3";
  counted.count = 4;
  counted.firstTime = Time(std::chrono::minutes(5));
  view.events = {once, counted};
  const std::string out = renderRollout(view);
  EXPECT_NE(out.find("Scaled up revision abc to 3 (x4 over 5m)"), std::string::npos) << out;
  EXPECT_NE(out.find("Rollout is paused\n"), std::string::npos) << "no count when counted once\n"
                                                                << out;
}

}  // namespace
}  // namespace ramp::cli
