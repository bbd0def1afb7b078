// Canary analysis: step runs, background runs, args, naming, and the reaction to each outcome.

#include <gtest/gtest.h>

#include "rollout/world.h"

namespace ramp::rollout {
namespace {

using testing::actionsOf;
using testing::at;
using testing::canaryYaml;
using testing::phaseOf;
using testing::World;

const char* kTemplate =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: AnalysisTemplate\n"
    "metadata: {name: success-rate}\n"
    "spec:\n"
    "  args:\n"
    "  - name: canary-hash\n"
    "  - name: stable-hash\n"
    "  - name: app\n"
    "  metrics:\n"
    "  - name: success-rate\n"
    "    successCondition: result[0] >= 0.95\n"
    "    provider:\n"
    "      prometheus:\n"
    "        address: http://127.0.0.1:9090\n"
    "        query: rate{hash=\"{{args.canary-hash}}\"}\n";

const char* kStepAnalysis =
    "      steps:\n"
    "      - setWeight: 20\n"
    "      - analysis:\n"
    "          templates: [{templateName: success-rate}]\n"
    "          args:\n"
    "          - name: canary-hash\n"
    "            valueFrom: {podTemplateHashValue: Latest}\n"
    "          - name: stable-hash\n"
    "            valueFrom: {podTemplateHashValue: Stable}\n"
    "          - name: app\n"
    "            valueFrom: {fieldRef: {fieldPath: spec.template.metadata.labels.app}}\n"
    "          - name: ignored\n"
    "            value: x\n"
    "      - setWeight: 60\n"
    "      - pause: {}\n";

World atAnalysisStep(const std::string& strategy = kStepAnalysis) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(strategy));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  return w;
}

void finish(spec::AnalysisRun& run, spec::AnalysisPhase phase, const std::string& value) {
  run.status.phase = phase;
  run.status.message =
      phase == spec::AnalysisPhase::kSuccessful
          ? ""
          : "Metric \"success-rate\" assessed " + std::string(spec::analysisPhaseName(phase));
  spec::MetricResult m;
  m.name = "success-rate";
  m.phase = phase;
  m.failed = phase == spec::AnalysisPhase::kFailed ? 1 : 0;
  spec::Measurement meas;
  meas.value = value;
  meas.phase = phase;
  m.measurements.push_back(meas);
  run.status.metricResults.push_back(m);
}

TEST(CanaryStepAnalysis, CreatesARunNamedAndLabelledAsArgo) {
  World w = atAnalysisStep();
  const auto& s = w.rollout.status;
  ASSERT_EQ(s.currentStepIndex, 1);
  ASSERT_TRUE(s.canary.currentStepAnalysisRunStatus.has_value());
  const std::string v2 = w.hashOf("demo:v2");
  const std::string v1 = s.stableRS;
  const std::string name = "demo-" + v2 + "-2-1";
  EXPECT_EQ(s.canary.currentStepAnalysisRunStatus->name, name);
  const spec::AnalysisRun* run = w.run(name);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->metadata.labels.at("rollouts-pod-template-hash"), v2);
  EXPECT_EQ(run->metadata.labels.at("rollout-type"), "Step");
  EXPECT_EQ(run->metadata.labels.at("step-index"), "1");
  EXPECT_EQ(run->metadata.labels.at("app"), "demo");  // the selector's matchLabels
  EXPECT_EQ(run->metadata.annotations.at("rollout.argoproj.io/revision"), "2");
  ASSERT_EQ(run->spec.metrics.size(), 1u);
  ASSERT_EQ(run->spec.args.size(), 3u);  // "ignored" is not declared by the template
  std::map<std::string, std::string> args;
  for (const auto& a : run->spec.args) args[a.name] = a.value.value_or("");
  EXPECT_EQ(args["canary-hash"], v2);
  EXPECT_EQ(args["stable-hash"], v1);
  EXPECT_EQ(args["app"], "demo");
  EXPECT_EQ(phaseOf(w.history.back()), "Progressing");
  // No controller instance on the Rollout: none on the run.
  EXPECT_EQ(run->metadata.labels.count("argo-rollouts.argoproj.io/controller-instance-id"), 0u);
}

// A controller that stopped between creating the step's run and writing the Rollout (a leader
// killed, a stale read) leaves a running run the Rollout's status does not name. The next
// reconcile adopts it — the same name, no second run — as Argo's CreateWithCollisionCounter
// does; a run of that name that already ended, or runs another spec, is not this one, and a
// new run (".1") starts. The run goes through the store's JSON first, as it would.
TEST(CanaryStepAnalysis, ARunAlreadyCreatedButNotRecordedIsAdoptedNotStartedAgain) {
  struct Case {
    const char* name;
    spec::AnalysisPhase phase;
    bool otherSpec;
    bool adopted;
  };
  const Case cases[] = {
      {"running", spec::AnalysisPhase::kRunning, false, true},
      {"pending", spec::AnalysisPhase::kPending, false, true},
      {"failed", spec::AnalysisPhase::kFailed, false, false},
      {"another spec", spec::AnalysisPhase::kRunning, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    World w = atAnalysisStep();
    const std::string name = w.rollout.status.canary.currentStepAnalysisRunStatus->name;
    spec::AnalysisRun* run = w.run(name);
    ASSERT_NE(run, nullptr);
    run->status.phase = c.phase;
    if (c.otherSpec) run->spec.args.front().value = "someone-else";
    auto stored = spec::analysisRunFromJson(spec::toJson(*run), "AnalysisRun/default/" + name);
    ASSERT_TRUE(stored.value);
    *run = *stored.value;
    w.rollout.status.canary.currentStepAnalysisRunStatus.reset();  // the lost write

    Plan p = w.step();
    auto created = actionsOf<CreateAnalysisRun>(p);
    ASSERT_TRUE(p.status.canary.currentStepAnalysisRunStatus.has_value());
    if (c.adopted) {
      EXPECT_TRUE(created.empty());
      EXPECT_EQ(p.status.canary.currentStepAnalysisRunStatus->name, name);
    } else {
      ASSERT_EQ(created.size(), 1u);
      EXPECT_EQ(created[0].run.metadata.name, name + ".1");
      EXPECT_EQ(p.status.canary.currentStepAnalysisRunStatus->name, name + ".1");
    }
  }
}

TEST(CanaryStepAnalysis, TheRunCarriesTheRolloutsControllerInstance) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kStepAnalysis));
  w.rollout.metadata.labels["argo-rollouts.argoproj.io/controller-instance-id"] = "shard-a";
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  testing::setImage(w.rollout, "demo:v2");
  w.settle();
  const spec::AnalysisRun* run = w.run("demo-" + w.hashOf("demo:v2") + "-2-1");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->metadata.labels.at("argo-rollouts.argoproj.io/controller-instance-id"), "shard-a");
}

TEST(CanaryStepAnalysis, SuccessCompletesTheStep) {
  World w = atAnalysisStep();
  finish(*w.run(w.rollout.status.canary.currentStepAnalysisRunStatus->name),
         spec::AnalysisPhase::kSuccessful, "[0.99]");
  Plan p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_TRUE(w.sawEvent("AnalysisRunSuccessful"));
}

TEST(CanaryStepAnalysis, FailureAbortsWithEvidence) {
  World w = atAnalysisStep();
  const std::string name = w.rollout.status.canary.currentStepAnalysisRunStatus->name;
  finish(*w.run(name), spec::AnalysisPhase::kFailed, "[0.42]");
  Plan p = w.settle();
  EXPECT_TRUE(p.status.abort);
  EXPECT_EQ(p.status.currentStepIndex, 0);
  EXPECT_EQ(phaseOf(p), "Degraded");
  EXPECT_NE(p.status.message.find("Rollout aborted update to revision 2: Metric \"success-rate\" "
                                  "assessed Failed"),
            std::string::npos)
      << p.status.message;
  EXPECT_EQ(w.revision(w.hashOf("demo:v2"))->desiredReplicas, 0);
  const Event* aborted = w.lastEvent("RolloutAborted");
  ASSERT_NE(aborted, nullptr);
  EXPECT_EQ(aborted->type, "Warning");
  EXPECT_EQ(aborted->evidence.at("analysisRun"), name);
  EXPECT_EQ(aborted->evidence.at("metric"), "success-rate");
  EXPECT_EQ(aborted->evidence.at("measuredValue"), "[0.42]");
  EXPECT_EQ(aborted->evidence.at("successCondition"), "result[0] >= 0.95");
  const Event* failed = w.lastEvent("AnalysisRunFailed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->type, "Warning");
}

TEST(CanaryStepAnalysis, InconclusivePausesUntilPromoted) {
  World w = atAnalysisStep();
  finish(*w.run(w.rollout.status.canary.currentStepAnalysisRunStatus->name),
         spec::AnalysisPhase::kInconclusive, "[0.9]");
  Plan p = w.settle();
  EXPECT_FALSE(p.status.abort);
  EXPECT_EQ(p.status.currentStepIndex, 1);
  EXPECT_EQ(phaseOf(p), "Paused");
  EXPECT_EQ(p.status.message, "InconclusiveAnalysisRun");
  w.rollout = *promote(w.rollout);
  p = w.settle();
  EXPECT_EQ(p.status.currentStepIndex, 3);
}

TEST(CanaryStepAnalysis, RetryAfterFailureCreatesANewRun) {
  World w = atAnalysisStep();
  const std::string first = w.rollout.status.canary.currentStepAnalysisRunStatus->name;
  finish(*w.run(first), spec::AnalysisPhase::kFailed, "[0.1]");
  w.settle();
  w.rollout = *retry(w.rollout);
  Plan p = w.settle();
  ASSERT_TRUE(p.status.canary.currentStepAnalysisRunStatus.has_value());
  EXPECT_EQ(p.status.canary.currentStepAnalysisRunStatus->name, first + ".1");
}

TEST(CanaryStepAnalysis, SkippedOnInitialDeploy) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kStepAnalysis));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  EXPECT_TRUE(w.observed.analysisRuns.empty());
}

const char* kBackground =
    "      analysis:\n"
    "        startingStep: 1\n"
    "        templates: [{templateName: success-rate}]\n"
    "        args:\n"
    "        - {name: canary-hash, value: a}\n"
    "        - {name: stable-hash, value: b}\n"
    "        - {name: app, value: c}\n"
    "      steps:\n"
    "      - setWeight: 20\n"
    "      - pause: {duration: 30}\n"
    "      - setWeight: 60\n"
    "      - pause: {}\n";

TEST(CanaryBackgroundAnalysis, StartsAtStartingStepAndEndsWithTheUpdate) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kBackground));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  testing::setImage(w.rollout, "demo:v2");
  const std::string v2 = w.hashOf("demo:v2");
  // The first reconciles run step 0 (before startingStep): no run yet.
  w.step();
  w.step();
  EXPECT_TRUE(w.observed.analysisRuns.empty());
  Plan p = w.settle();
  ASSERT_TRUE(p.status.canary.currentBackgroundAnalysisRunStatus.has_value());
  const std::string name = "demo-" + v2 + "-2";
  EXPECT_EQ(p.status.canary.currentBackgroundAnalysisRunStatus->name, name);
  EXPECT_EQ(w.run(name)->metadata.labels.at("rollout-type"), "Background");
  EXPECT_EQ(w.run(name)->metadata.labels.count("step-index"), 0u);
  // Fully promoted: the background run is terminated.
  w.rollout = *promoteFull(w.rollout);
  w.settle();
  EXPECT_TRUE(w.run(name)->spec.terminate);
  EXPECT_EQ(w.rollout.status.stableRS, v2);
}

TEST(CanaryBackgroundAnalysis, FailureAborts) {
  World w;
  w.rollout = testing::parseRollout(canaryYaml(kBackground));
  w.observed.templates.push_back(testing::parseTemplate(kTemplate));
  w.settle();
  testing::setImage(w.rollout, "demo:v2");
  Plan p = w.settle();
  const std::string name = p.status.canary.currentBackgroundAnalysisRunStatus->name;
  finish(*w.run(name), spec::AnalysisPhase::kError, "");
  p = w.settle();
  EXPECT_TRUE(p.status.abort);
  EXPECT_EQ(w.lastEvent("RolloutAborted")->evidence.at("rolloutType"), "Background");
}

TEST(CanaryAnalysisHistory, OldRunsBeyondTheLimitsAreDeleted) {
  World w = atAnalysisStep();
  w.rollout.spec.analysis = spec::AnalysisRunStrategy{1, 1};
  for (int i = 0; i < 3; ++i) {
    spec::AnalysisRun old;
    old.metadata.name = "old-ok-" + std::to_string(i);
    old.metadata.creationTimestamp = at(-1000 + i);
    old.status.phase = spec::AnalysisPhase::kSuccessful;
    w.observed.analysisRuns.push_back(old);
    old.metadata.name = "old-bad-" + std::to_string(i);
    old.status.phase = spec::AnalysisPhase::kFailed;
    w.observed.analysisRuns.push_back(old);
  }
  Plan p = w.step();
  std::vector<std::string> deleted;
  for (const auto& d : actionsOf<DeleteAnalysisRun>(p)) deleted.push_back(d.name);
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"old-bad-0", "old-bad-1", "old-ok-0", "old-ok-1"}));
}

}  // namespace
}  // namespace ramp::rollout
