// User operations: the intent each writes, and their preconditions.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::canaryYaml;

const char* kSteps =
    "      steps:\n"
    "      - setWeight: 20\n"
    "      - pause: {}\n"
    "      - analysis:\n"
    "          templates: [{templateName: t}]\n"
    "      - setWeight: 50\n";

spec::Rollout midUpdate(int32_t index) {
  spec::Rollout r = testing::parseRollout(canaryYaml(kSteps));
  r.status.stableRS = "stable1";
  r.status.currentPodHash = "new2";
  r.status.currentStepIndex = index;
  return r;
}

spec::Rollout promotedRollout() {
  spec::Rollout r = testing::parseRollout(canaryYaml(kSteps));
  r.status.stableRS = r.status.currentPodHash = "h1";
  r.status.currentStepIndex = 4;
  return r;
}

void expectPrecondition(const Result<spec::Rollout>& r, const std::string& fragment) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("rollout 'demo'"), std::string::npos);
}

TEST(Promote, AtAPauseStepClearsThePause) {
  spec::Rollout r = midUpdate(1);
  r.status.pauseConditions.push_back({"CanaryPauseStep", testing::at(0)});
  r.status.controllerPause = true;
  auto out = promote(r);
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.pauseConditions.empty());
  EXPECT_EQ(out->status.currentStepIndex, 1);  // the controller completes the step
  EXPECT_TRUE(out->status.controllerPause);    // so it can tell a human resumed
}

TEST(Promote, ElsewhereSkipsTheCurrentStep) {
  auto out = promote(midUpdate(2));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.currentStepIndex, 3);
}

TEST(Promote, InconclusiveStepAnalysisMovesPastTheStep) {
  spec::Rollout r = midUpdate(2);
  r.status.pauseConditions.push_back({"InconclusiveAnalysisRun", testing::at(0)});
  r.status.controllerPause = true;
  auto out = promote(r);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.currentStepIndex, 3);
  EXPECT_FALSE(out->status.controllerPause);
  EXPECT_TRUE(out->status.pauseConditions.empty());
}

TEST(Promote, UnpausesAManualPause) {
  spec::Rollout r = promotedRollout();
  r.spec.paused = true;
  auto out = promote(r);
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->spec.paused);
}

TEST(Promote, Preconditions) {
  expectPrecondition(promote(promotedRollout()), "already fully promoted");
  spec::Rollout aborted = midUpdate(1);
  aborted.status.abort = true;
  expectPrecondition(promote(aborted), "use retry");
  expectPrecondition(promoteFull(promotedRollout()), "already fully promoted");
}

TEST(PromoteFull, SetsTheIntent) {
  auto out = promoteFull(midUpdate(0));
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->status.promoteFull);
}

TEST(AbortAndRetry, WriteAbortAndCheckState) {
  auto aborted = abortRollout(midUpdate(0));
  ASSERT_TRUE(aborted.has_value());
  EXPECT_TRUE(aborted->status.abort);
  expectPrecondition(abortRollout(*aborted), "already aborted");
  expectPrecondition(abortRollout(promotedRollout()), "no update in progress");
  auto retried = retry(*aborted);
  ASSERT_TRUE(retried.has_value());
  EXPECT_FALSE(retried->status.abort);
  expectPrecondition(retry(*retried), "not aborted");
}

TEST(PauseResume, Preconditions) {
  auto paused = pause(promotedRollout());
  ASSERT_TRUE(paused.has_value());
  EXPECT_TRUE(paused->spec.paused);
  auto again = pause(*paused);  // idempotent, as Argo's patch
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *paused);
  auto resumed = resume(*paused);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_FALSE(resumed->spec.paused);
  expectPrecondition(resume(*resumed), "not paused");
}

TEST(PauseResume, ResumeAtAControllerPauseSaysToPromote) {
  spec::Rollout r = promotedRollout();
  r.status.pauseConditions.push_back(
      spec::PauseCondition{spec::kPauseReasonCanaryPauseStep, testing::at(5)});
  expectPrecondition(resume(r),
                     "paused by the controller (CanaryPauseStep), not by a user: use "
                     "promote to continue");
}

TEST(Restart, SetsRestartAt) {
  auto out = restart(promotedRollout(), testing::at(100));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->spec.restartAt, testing::at(100));
  spec::Rollout r = promotedRollout();
  r.status.restartedAt = testing::at(200);
  expectPrecondition(restart(r, testing::at(100)), "before the last restart");
}

TEST(SetImage, OneContainerOrAll) {
  spec::Rollout r = promotedRollout();
  spec::Container init;
  init.name = "init";
  init.image = "i:1";
  r.spec.template_->spec.initContainers.push_back(init);
  auto one = setImage(r, "app=demo:v9");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->spec.template_->spec.containers[0].image, "demo:v9");
  EXPECT_EQ(one->spec.template_->spec.initContainers[0].image, "i:1");
  auto all = setImage(r, "*=x:2");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->spec.template_->spec.containers[0].image, "x:2");
  EXPECT_EQ(all->spec.template_->spec.initContainers[0].image, "x:2");
  expectPrecondition(setImage(r, "nope=x:1"), "no container named 'nope'");
  auto bad = setImage(r, "app");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(Undo, RestoresThePreviousRevisionTemplate) {
  spec::Rollout r = promotedRollout();
  spec::PodTemplateSpec v1 = *r.spec.template_;
  spec::PodTemplateSpec v2 = v1;
  v2.spec.containers[0].image = "demo:v2";
  spec::PodTemplateSpec v3 = v1;
  v3.spec.containers[0].image = "demo:v3";
  r.spec.template_ = v3;
  std::vector<platform::ObservedRevision> revs(3);
  revs[0].podTemplateHash = podTemplateHash(v1, std::nullopt);
  revs[0].revision = 1;
  revs[0].template_ = v1;
  revs[1].podTemplateHash = podTemplateHash(v2, std::nullopt);
  revs[1].revision = 2;
  revs[1].template_ = v2;
  revs[2].podTemplateHash = podTemplateHash(v3, std::nullopt);
  revs[2].revision = 3;
  revs[2].template_ = v3;
  auto prev = undo(r, revs, std::nullopt);
  ASSERT_TRUE(prev.has_value());
  EXPECT_EQ(prev->spec.template_->spec.containers[0].image, "demo:v2");
  auto to1 = undo(r, revs, 1);
  ASSERT_TRUE(to1.has_value());
  EXPECT_EQ(to1->spec.template_->spec.containers[0].image, "demo:v1");
  auto missing = undo(r, revs, 7);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  expectPrecondition(undo(r, revs, 3), "skipped rollback");
}

}  // namespace
}  // namespace ramp::rollout
