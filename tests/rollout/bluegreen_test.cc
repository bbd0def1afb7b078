// The blue-green strategy, reconcile by reconcile on fixed times.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::at;
using testing::blueGreenYaml;
using testing::findEvent;
using testing::phaseOf;
using testing::World;

const char* kTemplate =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: AnalysisTemplate\n"
    "metadata: {name: smoke}\n"
    "spec:\n"
    "  args:\n"
    "  - name: hash\n"
    "  metrics:\n"
    "  - name: errors\n"
    "    successCondition: result[0] < 1\n"
    "    provider:\n"
    "      prometheus:\n"
    "        address: http://127.0.0.1:9090\n"
    "        query: errors{hash=\"{{args.hash}}\"}\n";

World deployed(const std::string& strategy) {
  World w;
  w.rollout = testing::parseRollout(blueGreenYaml(strategy));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  return w;
}

TEST(BlueGreenInitialDeploy, ActivePointsAtTheFirstRevision) {
  World w = deployed("      activeService: demo-active\n      previewService: demo-preview\n");
  const auto& s = w.rollout.status;
  EXPECT_FALSE(s.stableRS.empty());
  EXPECT_EQ(s.blueGreen.activeSelector, s.stableRS);
  EXPECT_EQ(s.blueGreen.previewSelector, s.stableRS);
  EXPECT_EQ(spec::rolloutPhaseName(s.phase), std::string("Healthy")) << s.message;
  EXPECT_TRUE(s.pauseConditions.empty());
}

TEST(BlueGreenAutoPromotion, SwitchesOnceThePreviewIsSaturated) {
  World w = deployed("      activeService: demo-active\n      previewService: demo-preview\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.brokenHashes.push_back(v2);  // not ready yet
  Plan p = w.settle();
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);
  EXPECT_EQ(p.status.blueGreen.previewSelector, v2);
  EXPECT_EQ(phaseOf(p), "Progressing");
  // Now the preview becomes ready: active switches, v2 becomes stable, v1 kept 30 s.
  w.brokenHashes.clear();
  w.revision(v2)->availableReplicas = w.revision(v2)->readyReplicas = 3;
  p = w.settle();
  EXPECT_EQ(p.status.blueGreen.activeSelector, v2);
  EXPECT_EQ(p.status.stableRS, v2);
  ASSERT_TRUE(w.revision(v1)->scaleDownDeadline.has_value());
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 3);
  w.now = at(31);
  w.settle();
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 0);
  EXPECT_EQ(phaseOf(w.history.back()), "Healthy");
}

// The switch rides on SyncEndpoints, so the shell records it only once the routers applied it
// (an event before the switch would claim what has not happened). While v1 runs out its
// scaleDownDelaySeconds it is draining: kept in the routers with no traffic, then dropped.
TEST(BlueGreenAutoPromotion, TheSwitchAndTheDrainingRevisionRideOnSyncEndpoints) {
  World w = deployed("      activeService: demo-active\n      previewService: demo-preview\n");
  const std::string v1 = w.rollout.status.stableRS;
  w.history.clear();  // the first release's switches ("" to v1) are not this test's
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  w.settle();
  std::vector<SyncEndpoints> syncs;
  for (const Plan& p : w.history) {
    EXPECT_EQ(findEvent(p, "SwitchService"), nullptr) << "an event claims a switch in the plan";
    for (const auto& s : actionsOf<SyncEndpoints>(p)) syncs.push_back(s);
  }
  // The preview moved to v2, then the active (in a later reconcile), each exactly once.
  std::vector<ServiceSwitch> switches;
  for (const auto& s : syncs) switches.insert(switches.end(), s.switches.begin(), s.switches.end());
  const std::vector<ServiceSwitch> want = {{"demo-preview", v1, v2}, {"demo-active", v1, v2}};
  EXPECT_EQ(switches, want);
  // After the switch: active = preview = v2, v1 draining until its deadline.
  ASSERT_FALSE(syncs.empty());
  EXPECT_EQ(syncs.back(), (SyncEndpoints{v2, v2, {v1}, {}}));
  w.now = at(31);
  w.history.clear();
  w.settle();
  ASSERT_FALSE(w.history.empty());
  auto last = actionsOf<SyncEndpoints>(w.history.back());
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0], (SyncEndpoints{v2, v2, {}, {}})) << "v1 left the routers with its replicas";
}

TEST(BlueGreenManualPromotion, PausesUntilPromoted) {
  World w = deployed(
      "      activeService: demo-active\n"
      "      autoPromotionEnabled: false\n"
      "      previewReplicaCount: 1\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 1);  // previewReplicaCount
  ASSERT_EQ(p.status.pauseConditions.size(), 1u);
  EXPECT_EQ(p.status.pauseConditions[0].reason, "BlueGreenPause");
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);
  w.now = at(10000);
  EXPECT_EQ(w.step().status.blueGreen.activeSelector, v1);  // no auto-promotion

  w.rollout = *promote(w.rollout);
  p = w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 3);  // scaled to full before the switch
  EXPECT_EQ(p.status.blueGreen.activeSelector, v2);
  EXPECT_EQ(p.status.stableRS, v2);
}

TEST(BlueGreenAutoPromotionSeconds, PromotesAfterTheDelay) {
  World w = deployed("      activeService: demo-active\n      autoPromotionSeconds: 120\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);
  EXPECT_EQ(p.requeueAfter, std::chrono::duration_cast<Duration>(std::chrono::seconds(120)));
  w.now = at(119);
  EXPECT_EQ(w.settle().status.blueGreen.activeSelector, v1);
  w.now = at(120);
  p = w.settle();
  EXPECT_EQ(p.status.blueGreen.activeSelector, w.hashOf("demo:v2"));
  EXPECT_EQ(p.status.stableRS, w.hashOf("demo:v2"));
}

TEST(BlueGreenAnalysis, PrePromotionGatesTheSwitchAndFailureAborts) {
  World w = deployed(
      "      activeService: demo-active\n"
      "      prePromotionAnalysis:\n"
      "        templates: [{templateName: smoke}]\n"
      "        args:\n"
      "        - name: hash\n"
      "          valueFrom: {podTemplateHashValue: Latest}\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  Plan p = w.settle();
  ASSERT_TRUE(p.status.blueGreen.prePromotionAnalysisRunStatus.has_value());
  const std::string name = p.status.blueGreen.prePromotionAnalysisRunStatus->name;
  EXPECT_EQ(name, "demo-" + v2 + "-2-pre");
  auto* run = w.run(name);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->metadata.labels.at("rollout-type"), "PrePromotion");
  EXPECT_EQ(run->spec.args.at(0).value, v2);
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);  // waits for the analysis

  run->status.phase = spec::AnalysisPhase::kFailed;
  run->status.message = "Metric \"errors\" assessed Failed";
  spec::MetricResult mr;
  mr.name = "errors";
  mr.phase = spec::AnalysisPhase::kFailed;
  mr.failed = 1;
  spec::Measurement m;
  m.value = "[3]";
  mr.measurements.push_back(m);
  run->status.metricResults.push_back(mr);
  p = w.settle();
  EXPECT_TRUE(p.status.abort);
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);
  const Event* aborted = w.lastEvent("RolloutAborted");
  ASSERT_NE(aborted, nullptr);
  EXPECT_EQ(aborted->evidence.at("metric"), "errors");
  EXPECT_EQ(aborted->evidence.at("measuredValue"), "[3]");
  EXPECT_EQ(aborted->evidence.at("successCondition"), "result[0] < 1");
  // The preview is scaled down after abortScaleDownDelaySeconds (30).
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 3);
  w.now = at(31);
  w.settle();
  EXPECT_EQ(w.revision(v2)->desiredReplicas, 0);
}

TEST(BlueGreenAnalysis, PostPromotionFailureSwitchesActiveBack) {
  World w = deployed(
      "      activeService: demo-active\n"
      "      postPromotionAnalysis:\n"
      "        templates: [{templateName: smoke}]\n"
      "        args:\n"
      "        - name: hash\n"
      "          value: x\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(p.status.blueGreen.activeSelector, v2);  // switched
  EXPECT_EQ(p.status.stableRS, v1);                  // not stable until post analysis passes
  EXPECT_EQ(p.status.message, "waiting for analysis to complete");
  ASSERT_TRUE(p.status.blueGreen.postPromotionAnalysisRunStatus.has_value());
  auto* run = w.run(p.status.blueGreen.postPromotionAnalysisRunStatus->name);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(w.revision(v1)->desiredReplicas, 3);  // old kept while analysis runs
  run->status.phase = spec::AnalysisPhase::kError;
  p = w.settle();
  EXPECT_TRUE(p.status.abort);
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);  // switched back
}

TEST(BlueGreenAnalysis, PostPromotionSuccessMarksStable) {
  World w = deployed(
      "      activeService: demo-active\n"
      "      postPromotionAnalysis:\n"
      "        templates: [{templateName: smoke}]\n"
      "        args: [{name: hash, value: x}]\n");
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  auto* run = w.run(p.status.blueGreen.postPromotionAnalysisRunStatus->name);
  ASSERT_NE(run, nullptr);
  run->status.phase = spec::AnalysisPhase::kSuccessful;
  p = w.settle();
  EXPECT_EQ(p.status.stableRS, w.hashOf("demo:v2"));
  EXPECT_TRUE(w.sawEvent("AnalysisRunSuccessful"));
}

TEST(BlueGreenAnalysis, MissingTemplateIsReportedNotGuessed) {
  World w = deployed(
      "      activeService: demo-active\n"
      "      prePromotionAnalysis:\n"
      "        templates: [{templateName: nope}]\n");
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_NE(p.status.message.find("AnalysisTemplate 'nope' not found"), std::string::npos)
      << p.status.message;
  EXPECT_EQ(p.status.blueGreen.activeSelector, w.rollout.status.stableRS);
}

TEST(BlueGreenAbort, UserAbortKeepsActiveOnStable) {
  World w = deployed("      activeService: demo-active\n      autoPromotionEnabled: false\n");
  const std::string v1 = w.rollout.status.stableRS;
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  w.rollout = *abortRollout(w.rollout);
  Plan p = w.settle();
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_EQ(p.status.blueGreen.activeSelector, v1);
  EXPECT_TRUE(p.status.pauseConditions.empty());
}

}  // namespace
}  // namespace ramp::rollout
