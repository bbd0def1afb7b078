// The gates table: every user operation (retry, undo, promote, promote --full, abort, resume)
// after every kind of failed analysis (canary step, canary background, blue-green pre- and
// post-promotion), for both variants of each strategy (canary with and without traffic routing,
// blue-green with manual and automatic promotion), applied right after the abort (within
// abortScaleDownDelaySeconds) and after it.
//
// The property, checked after every reconcile of every row: the active selector (blue-green)
// and the stable revision never move to the revision whose analysis failed unless a gating
// analysis created after the abort passed — pre-promotion for the active switch (and, with
// autoPromotionEnabled: false, a pause a user promoted), post-promotion or every step analysis
// for stable — or the operation is the explicit skip, promote --full. A run that was terminated
// ends Successful too and does not count. Rows that retry then let the new analyses pass and
// must reach the new revision, so the property cannot hold by the rollout merely being stuck.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::World;

enum class Failure { kCanaryStep, kCanaryBackground, kBlueGreenPre, kBlueGreenPost };
enum class Op { kRetry, kUndo, kPromote, kPromoteFull, kAbort, kResume };
enum class Outcome {
  kGatesRunAgain,  // new runs of the failed gates; the new revision only after they pass
  kBackToStable,   // the stable revision again, healthy
  kStaysAborted,   // nothing moves
  kFastPromoted,   // the explicit skip: the new revision without analysis
};

struct Expectation {
  const char* rejected;  // nullptr: accepted; else part of the kFailedPrecondition message
  Outcome outcome;
};

// The operation half of the table: what each operation does to an update aborted by a failed
// analysis, whatever the analysis was.
Expectation expectationOf(Op op) {
  switch (op) {
    case Op::kRetry: return {nullptr, Outcome::kGatesRunAgain};
    case Op::kUndo: return {nullptr, Outcome::kBackToStable};
    case Op::kPromote: return {"the update is aborted; use retry", Outcome::kStaysAborted};
    case Op::kPromoteFull: return {nullptr, Outcome::kFastPromoted};
    case Op::kAbort: return {"already aborted", Outcome::kStaysAborted};
    case Op::kResume: return {nullptr, Outcome::kStaysAborted};  // after a pause; see applyOp
  }
  return {};
}

bool isCanary(Failure f) { return f == Failure::kCanaryStep || f == Failure::kCanaryBackground; }

// The rollout type of the runs that must be created again after a retry: the failed one, and
// for a post-promotion failure the pre-promotion run that gates the switch back.
std::string rerunType(Failure f) {
  switch (f) {
    case Failure::kCanaryStep: return kRolloutTypeStep;
    case Failure::kCanaryBackground: return kRolloutTypeBackground;
    case Failure::kBlueGreenPre:
    case Failure::kBlueGreenPost: return kRolloutTypePrePromotion;
  }
  return "";
}

const char* kTemplate =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: AnalysisTemplate\n"
    "metadata: {name: gate}\n"
    "spec:\n"
    "  metrics:\n"
    "  - name: errors\n"
    "    successCondition: result[0] < 1\n"
    "    provider:\n"
    "      prometheus:\n"
    "        address: http://127.0.0.1:9090\n"
    "        query: errors\n";

// `variant`: canary with traffic routing / blue-green with autoPromotionEnabled: false.
std::string manifest(Failure f, bool variant) {
  if (isCanary(f)) {
    return testing::canaryYaml(std::string(variant ? "      trafficRouting:\n"
                                                     "        plugins: {ramp/haproxy: {}}\n"
                                                   : "") +
                               "      analysis:\n"
                               "        startingStep: 1\n"
                               "        templates: [{templateName: gate}]\n"
                               "      steps:\n"
                               "      - setWeight: 20\n"
                               "      - pause: {duration: 10}\n"
                               "      - analysis:\n"
                               "          templates: [{templateName: gate}]\n"
                               "      - setWeight: 60\n"
                               "      - pause: {duration: 10}\n");
  }
  return testing::blueGreenYaml(std::string("      activeService: demo-active\n"
                                            "      previewService: demo-preview\n") +
                                (variant ? "      autoPromotionEnabled: false\n" : "") +
                                "      prePromotionAnalysis:\n"
                                "        templates: [{templateName: gate}]\n"
                                "      postPromotionAnalysis:\n"
                                "        templates: [{templateName: gate}]\n");
}

bool hasPause(const spec::RolloutStatus& s, const std::string& reason) {
  for (const auto& p : s.pauseConditions)
    if (p.reason == reason) return true;
  return false;
}

// Watches every reconcile after the abort and checks the property.
struct Gate {
  std::string v1, v2;
  std::set<std::string> before;  // the runs that existed when the analysis failed
  bool skip = false;             // promote --full
  bool manual = false;           // blue-green with autoPromotionEnabled: false
  bool pausedSinceAbort = false;
  std::string active, stable;  // as of the previous reconcile

  bool isNew(const spec::AnalysisRun& r, const std::string& type) const {
    auto hash = r.metadata.labels.find(kPodTemplateHashLabel);
    auto kind = r.metadata.labels.find(kRolloutTypeLabel);
    return hash != r.metadata.labels.end() && hash->second == v2 &&
           kind != r.metadata.labels.end() && kind->second == type &&
           !before.contains(r.metadata.name);
  }
  bool passedSinceAbort(const World& w, const std::string& type) const {
    for (const auto& r : w.observed.analysisRuns)
      if (isNew(r, type) && r.status.phase == spec::AnalysisPhase::kSuccessful && !r.spec.terminate)
        return true;
    return false;
  }
  int createdSinceAbort(const World& w, const std::string& type = "") const {
    int n = 0;
    for (const auto& r : w.observed.analysisRuns) {
      if (!type.empty() && isNew(r, type)) ++n;
      if (type.empty() &&
          (isNew(r, kRolloutTypeStep) || isNew(r, kRolloutTypeBackground) ||
           isNew(r, kRolloutTypePrePromotion) || isNew(r, kRolloutTypePostPromotion)))
        ++n;
    }
    return n;
  }

  void check(const World& w, const Plan& p) {
    const auto& s = p.status;
    if (hasPause(s, spec::kPauseReasonBlueGreenPause)) pausedSinceAbort = true;
    const bool blueGreen = w.rollout.spec.strategy.blueGreen.has_value();
    if (blueGreen && s.blueGreen.activeSelector == v2 && active != v2 && !skip) {
      EXPECT_TRUE(passedSinceAbort(w, kRolloutTypePrePromotion))
          << "the active selector switched to the failed revision without a pre-promotion "
             "analysis that passed after the abort";
      if (manual)
        EXPECT_TRUE(pausedSinceAbort)
            << "the active selector switched without the BlueGreenPause a user promotes";
    }
    if (s.stableRS == v2 && stable != v2 && !skip) {
      if (blueGreen) {
        EXPECT_TRUE(passedSinceAbort(w, kRolloutTypePostPromotion))
            << "stable moved to the failed revision without a post-promotion analysis that "
               "passed after the abort";
      } else {
        EXPECT_TRUE(passedSinceAbort(w, kRolloutTypeStep))
            << "stable moved to the failed revision without a step analysis that passed after "
               "the abort";
        EXPECT_GE(createdSinceAbort(w, kRolloutTypeBackground), 1)
            << "stable moved while only the failed background analysis was ever run";
      }
    }
    active = s.blueGreen.activeSelector;
    stable = s.stableRS;
  }
};

// Reconciles at the world's current time until nothing changes, checking every plan.
void run(World& w, Gate* gate) {
  for (int i = 0; i < 40; ++i) {
    const spec::RolloutStatus previous = w.rollout.status;
    Plan p = w.step();
    if (gate) gate->check(w, p);
    const bool immediate = p.requeueAfter && *p.requeueAfter == Duration(0);
    if (p.status == previous && p.events.empty() && !immediate) return;
  }
}

void wait(World& w, Gate* gate, int seconds) {
  w.now += std::chrono::seconds(seconds);
  run(w, gate);
}

void finish(World& w, const std::optional<spec::RolloutAnalysisRunStatus>& s,
            spec::AnalysisPhase phase) {
  ASSERT_TRUE(s.has_value());
  spec::AnalysisRun* r = w.run(s->name);
  ASSERT_NE(r, nullptr) << s->name;
  r->status.phase = phase;
  r->status.message = "Metric \"errors\" assessed " + std::string(spec::analysisPhaseName(phase));
}

// Deploys v1, updates to v2 and fails the analysis of kind `f`; the update is aborted.
void failAnalysis(World& w, Failure f, bool manual) {
  w.rollout = testing::parseRollout(manifest(f, manual || isCanary(f)));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  run(w, nullptr);
  testing::setImage(w.rollout, "demo:v2");
  run(w, nullptr);
  const auto& s = w.rollout.status;
  switch (f) {
    case Failure::kCanaryStep:
      for (int i = 0; i < 5 && !s.canary.currentStepAnalysisRunStatus; ++i) wait(w, nullptr, 11);
      finish(w, s.canary.currentStepAnalysisRunStatus, spec::AnalysisPhase::kFailed);
      break;
    case Failure::kCanaryBackground:
      for (int i = 0; i < 5 && !s.canary.currentBackgroundAnalysisRunStatus; ++i)
        wait(w, nullptr, 1);
      finish(w, s.canary.currentBackgroundAnalysisRunStatus, spec::AnalysisPhase::kError);
      break;
    case Failure::kBlueGreenPre:
      finish(w, s.blueGreen.prePromotionAnalysisRunStatus, spec::AnalysisPhase::kFailed);
      break;
    case Failure::kBlueGreenPost:
      finish(w, s.blueGreen.prePromotionAnalysisRunStatus, spec::AnalysisPhase::kSuccessful);
      run(w, nullptr);
      if (manual) {
        ASSERT_TRUE(hasPause(s, spec::kPauseReasonBlueGreenPause));
        w.rollout = *promote(w.rollout);
        run(w, nullptr);
      }
      ASSERT_EQ(s.blueGreen.activeSelector, w.hashOf("demo:v2")) << "switched before post";
      finish(w, s.blueGreen.postPromotionAnalysisRunStatus, spec::AnalysisPhase::kError);
      break;
  }
  run(w, nullptr);
  ASSERT_TRUE(s.abort) << s.message;
}

// Applies `op`; returns the error message, or "" when accepted.
std::string applyOp(World& w, Op op) {
  Result<spec::Rollout> next = makeError(ErrorCode::kInternal, "no operation");
  switch (op) {
    case Op::kRetry: next = retry(w.rollout); break;
    case Op::kUndo:
      next = undo(w.rollout, w.observed.workload.revisions, std::nullopt);
      if (next) next->metadata.generation++;
      break;
    case Op::kPromote: next = promote(w.rollout); break;
    case Op::kPromoteFull: next = promoteFull(w.rollout); break;
    case Op::kAbort: next = abortRollout(w.rollout); break;
    case Op::kResume: {
      // resume applies to a paused rollout: a user pauses the aborted update, then resumes it.
      auto notPaused = resume(w.rollout);
      EXPECT_FALSE(notPaused.has_value());
      auto paused = pause(w.rollout);
      EXPECT_TRUE(paused.has_value());
      if (paused) w.rollout = *paused;
      run(w, nullptr);
      next = resume(w.rollout);
      break;
    }
  }
  if (!next) {
    EXPECT_EQ(next.error().code, ErrorCode::kFailedPrecondition);
    return next.error().message;
  }
  w.rollout = *next;
  return "";
}

using Row = std::tuple<Failure, bool, Op, bool>;  // failure, variant, operation, late

class GatesTable : public ::testing::TestWithParam<Row> {};

TEST_P(GatesTable, NoSwitchToAFailedRevisionWithoutANewPassedAnalysis) {
  const auto [failure, variant, op, late] = GetParam();
  World w;
  failAnalysis(w, failure, variant);
  if (HasFatalFailure()) return;
  const bool blueGreen = !isCanary(failure);
  Gate gate;
  gate.v1 = w.rollout.status.stableRS;
  gate.v2 = w.hashOf("demo:v2");
  gate.manual = blueGreen && variant;
  gate.skip = op == Op::kPromoteFull;
  gate.active = w.rollout.status.blueGreen.activeSelector;
  gate.stable = w.rollout.status.stableRS;
  for (const auto& r : w.observed.analysisRuns) gate.before.insert(r.metadata.name);
  ASSERT_EQ(gate.stable, gate.v1);
  if (blueGreen) ASSERT_EQ(gate.active, gate.v1);

  // Right after the abort the new revision still runs (abortScaleDownDelaySeconds: 30).
  wait(w, &gate, late ? 40 : 1);
  const Expectation want = expectationOf(op);
  const std::string error = applyOp(w, op);
  if (want.rejected) {
    EXPECT_NE(error.find(want.rejected), std::string::npos) << error;
  } else {
    EXPECT_EQ(error, "");
  }

  // The analyses that run now never finish: nothing may reach the failed revision.
  run(w, &gate);
  for (int seconds : {1, 10, 20, 30, 60}) wait(w, &gate, seconds);
  const auto& s = w.rollout.status;
  switch (want.outcome) {
    case Outcome::kGatesRunAgain:
      EXPECT_FALSE(s.abort) << s.message;
      EXPECT_EQ(s.stableRS, gate.v1);
      if (blueGreen) EXPECT_EQ(s.blueGreen.activeSelector, gate.v1);
      EXPECT_GE(gate.createdSinceAbort(w, rerunType(failure)), 1)
          << "retry creates a new " << rerunType(failure) << " AnalysisRun";
      if (failure == Failure::kBlueGreenPost)
        EXPECT_FALSE(s.blueGreen.postPromotionAnalysisRunStatus.has_value())
            << "the failed post-promotion run is not the current one after a retry";
      if (gate.manual)
        EXPECT_FALSE(gate.pausedSinceAbort) << "the pause comes after the new analysis passes";
      break;
    case Outcome::kBackToStable:
      EXPECT_FALSE(s.abort) << s.message;
      EXPECT_EQ(s.stableRS, gate.v1);
      EXPECT_EQ(s.currentPodHash, gate.v1);
      if (blueGreen) EXPECT_EQ(s.blueGreen.activeSelector, gate.v1);
      EXPECT_EQ(spec::rolloutPhaseName(s.phase), std::string("Healthy")) << s.message;
      EXPECT_EQ(gate.createdSinceAbort(w), 0);
      break;
    case Outcome::kStaysAborted:
      EXPECT_TRUE(s.abort);
      EXPECT_EQ(spec::rolloutPhaseName(s.phase), std::string("Degraded")) << s.message;
      EXPECT_EQ(s.stableRS, gate.v1);
      if (blueGreen) EXPECT_EQ(s.blueGreen.activeSelector, gate.v1);
      EXPECT_EQ(gate.createdSinceAbort(w), 0);
      break;
    case Outcome::kFastPromoted:
      EXPECT_FALSE(s.abort) << s.message;
      EXPECT_EQ(s.stableRS, gate.v2);
      if (blueGreen) EXPECT_EQ(s.blueGreen.activeSelector, gate.v2);
      ASSERT_TRUE(s.duration.has_value());
      EXPECT_EQ(s.duration->completionStatus, "FastPromoted");
      EXPECT_EQ(gate.createdSinceAbort(w), 0) << "promote --full skips analysis";
      break;
  }
  if (want.outcome != Outcome::kGatesRunAgain) return;

  // Now the new analyses pass (a user promotes the blue-green pause): the update completes.
  for (int round = 0; round < 20 && s.stableRS != gate.v2; ++round) {
    for (auto& r : w.observed.analysisRuns) {
      const bool gating = gate.isNew(r, kRolloutTypeStep) ||
                          gate.isNew(r, kRolloutTypePrePromotion) ||
                          gate.isNew(r, kRolloutTypePostPromotion);
      if (gating && r.status.phase == spec::AnalysisPhase::kRunning)
        r.status.phase = spec::AnalysisPhase::kSuccessful;
    }
    if (hasPause(s, spec::kPauseReasonBlueGreenPause)) w.rollout = *promote(w.rollout);
    wait(w, &gate, 11);
  }
  EXPECT_EQ(s.stableRS, gate.v2);
  if (blueGreen) EXPECT_EQ(s.blueGreen.activeSelector, gate.v2);
  if (gate.manual) EXPECT_TRUE(gate.pausedSinceAbort) << "a retried manual update pauses again";
  ASSERT_TRUE(s.duration.has_value());
  EXPECT_EQ(s.duration->completionStatus, "Promoted");
}

std::string rowName(const ::testing::TestParamInfo<Row>& info) {
  const auto [failure, variant, op, late] = info.param;
  static const char* kFailures[] = {"CanaryStep", "CanaryBackground", "BlueGreenPre",
                                    "BlueGreenPost"};
  static const char* kOps[] = {"Retry", "Undo", "Promote", "PromoteFull", "Abort", "Resume"};
  const bool canary = isCanary(failure);
  return std::string(kFailures[static_cast<int>(failure)]) +
         (canary ? (variant ? "Routed" : "Basic") : (variant ? "Manual" : "Auto")) + "_" +
         kOps[static_cast<int>(op)] + (late ? "_AfterTheAbortDelay" : "_RightAfterTheAbort");
}

INSTANTIATE_TEST_SUITE_P(
    EveryOperationAfterEveryFailedAnalysis, GatesTable,
    ::testing::Combine(::testing::Values(Failure::kCanaryStep, Failure::kCanaryBackground,
                                         Failure::kBlueGreenPre, Failure::kBlueGreenPost),
                       ::testing::Bool(),
                       ::testing::Values(Op::kRetry, Op::kUndo, Op::kPromote, Op::kPromoteFull,
                                         Op::kAbort, Op::kResume),
                       ::testing::Bool()),
    rowName);

}  // namespace
}  // namespace ramp::rollout
