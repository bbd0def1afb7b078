// writes.h: what the controller persists for a plan and for an analysis pass, as pure functions
// (no store, no clock): the status put with its compare-and-swap version, the AnalysisRun
// writes, and the events with their evidence.

#include "controller/writes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/controller.h"
#include "spec/codec.h"

namespace ramp::controller {
namespace {

const store::ObjectKey kKey{"Rollout", "shop", "web"};

spec::AnalysisRun namedRun(const std::string& name, bool terminating = false) {
  spec::AnalysisRun run;
  run.metadata.name = name;
  run.metadata.namespace_ = "shop";
  run.spec.terminate = terminating;
  return run;
}

struct Fixture {
  spec::Rollout rollout;
  std::vector<spec::AnalysisRun> runs{namedRun("web-1"), namedRun("web-2", true)};
  std::map<std::string, int64_t> versions{{"web-1", 11}, {"web-2", 12}};

  std::string head;

  Fixture() {
    rollout.metadata.name = "web";
    rollout.metadata.namespace_ = "shop";
    head = spec::rolloutJsonHead(rollout);
  }
  StoredRollout stored() const { return StoredRollout{kKey, &rollout, head, 7, &runs, &versions}; }
};

TEST(RolloutWrites, AnUnchangedStatusWritesNothingButTheEvents) {
  Fixture f;
  rollout::Plan plan;
  plan.status = f.rollout.status;
  plan.events.push_back({"Normal", "RolloutPaused", "Rollout is paused", {{"step", "1"}}});
  const RolloutWrites w = rolloutWrites(f.stored(), plan, Time(Duration(42)), "controller");
  EXPECT_FALSE(w.statusChanged);
  EXPECT_TRUE(w.ops.empty());
  ASSERT_EQ(w.events.size(), 1u);
  EXPECT_EQ(w.events[0].object, kKey);
  EXPECT_EQ(w.events[0].time, Time(Duration(42)));
  EXPECT_EQ(w.events[0].type, store::EventType::kNormal);
  EXPECT_EQ(w.events[0].reason, "RolloutPaused");
  EXPECT_EQ(w.events[0].actor, "controller");
  EXPECT_EQ(nlohmann::json::parse(w.events[0].evidence), nlohmann::json({{"step", "1"}}));
}

// Creates first, then the status, then the other run writes in the plan's order: a run is
// written before the status that names it, so every prefix of the batch is safe on a store that
// writes one object at a time (state_store.h, write()).
TEST(RolloutWrites, RunCreatesThenTheStatusThenTheOtherRunWrites) {
  Fixture f;
  rollout::Plan plan;
  plan.status = f.rollout.status;
  plan.status.currentStepIndex = 2;
  plan.actions.push_back(rollout::DeleteAnalysisRun{"web-2"});
  plan.actions.push_back(rollout::CreateAnalysisRun{namedRun("web-3")});
  plan.actions.push_back(rollout::TerminateAnalysisRun{"web-1"});
  // Nothing to write for these: already terminating, not observed, unknown.
  plan.actions.push_back(rollout::TerminateAnalysisRun{"web-2"});
  plan.actions.push_back(rollout::TerminateAnalysisRun{"web-9"});
  plan.actions.push_back(rollout::DeleteAnalysisRun{"web-9"});
  plan.events.push_back({"Warning", "RolloutAborted", "aborted", {}});

  const RolloutWrites w = rolloutWrites(f.stored(), plan, Time(Duration(1)), "alice");
  EXPECT_TRUE(w.statusChanged);
  ASSERT_EQ(w.ops.size(), 4u);
  EXPECT_EQ(w.ops[0].type, store::WriteOp::Type::kPut);
  EXPECT_EQ(w.ops[0].key, (store::ObjectKey{"AnalysisRun", "shop", "web-3"}));
  EXPECT_EQ(w.ops[0].expectedVersion, 0) << "a new run must not exist yet";
  auto created = spec::analysisRunFromJson(w.ops[0].json, "create");
  ASSERT_TRUE(created.value);
  EXPECT_EQ(created.value->metadata.labels.at(kOwnerLabel), "web");
  EXPECT_EQ(w.createdRuns, std::vector<std::string>{"web-3"});

  EXPECT_EQ(w.statusOp, 1u);
  EXPECT_EQ(w.ops[1].type, store::WriteOp::Type::kPut);
  EXPECT_EQ(w.ops[1].key, kKey);
  EXPECT_EQ(w.ops[1].expectedVersion, 7);
  auto written = spec::rolloutFromJson(w.ops[1].json, "put");
  ASSERT_TRUE(written.value);
  EXPECT_EQ(written.value->status.currentStepIndex, 2);

  EXPECT_EQ(w.ops[2].type, store::WriteOp::Type::kDelete);
  EXPECT_EQ(w.ops[2].key, (store::ObjectKey{"AnalysisRun", "shop", "web-2"}));
  EXPECT_EQ(w.ops[2].expectedVersion, 12);

  EXPECT_EQ(w.ops[3].key, (store::ObjectKey{"AnalysisRun", "shop", "web-1"}));
  EXPECT_EQ(w.ops[3].expectedVersion, 11);
  auto terminated = spec::analysisRunFromJson(w.ops[3].json, "terminate");
  ASSERT_TRUE(terminated.value);
  EXPECT_TRUE(terminated.value->spec.terminate);

  ASSERT_EQ(w.events.size(), 1u);
  EXPECT_EQ(w.events[0].type, store::EventType::kWarning);
  EXPECT_EQ(w.events[0].evidence, "") << "no evidence, no JSON";
  EXPECT_EQ(w.events[0].actor, "alice");
}

TEST(RunEvents, EachPhaseEventCarriesItsMetricsLastMeasurement) {
  analysis::RunPassOutcome outcome;
  spec::Measurement first, last, other;
  first.value = "0.5";
  last.value = "0.9";
  last.message = "above threshold";
  other.value = "3";
  outcome.measurements = {
      {"rate", false, {}, first}, {"latency", false, {}, other}, {"rate", false, {}, last}};
  outcome.events.push_back({"MetricFailed", "rate", spec::AnalysisPhase::kFailed,
                            "Metric 'rate' Completed. Result: Failed", true});
  outcome.events.push_back({"AnalysisRunFailed", "", spec::AnalysisPhase::kFailed,
                            "Analysis Completed. Result: Failed", true});
  const store::ObjectKey run{"AnalysisRun", "shop", "web-1"};
  const auto events = runEvents(outcome, run, Time(Duration(9)), "controller");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object, run);
  EXPECT_EQ(events[0].type, store::EventType::kWarning);
  EXPECT_EQ(nlohmann::json::parse(events[0].evidence),
            nlohmann::json({{"metric", "rate"},
                            {"phase", "Failed"},
                            {"value", "0.9"},
                            {"message", "above threshold"}}));
  EXPECT_EQ(nlohmann::json::parse(events[1].evidence), nlohmann::json({{"phase", "Failed"}}))
      << "the run's own event has no metric and so no measurement";
}

}  // namespace
}  // namespace ramp::controller
