#include "cli/rollout_view.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ramp::cli
