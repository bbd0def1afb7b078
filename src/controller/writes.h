#pragma once

// What the controller persists, as pure functions of what the two engines decided: the one place
// their results become store writes and their events become store events.
//  - rolloutWrites: step 3 of a rollout reconcile. From the core's Plan: the Rollout's new
//    status, the AnalysisRun creates, terminations and deletes, and the events.
//  - runEvents: the analysis engine's phase events of one pass, with their evidence.
// No I/O, no clock: the stored versions and `now` come in. Reentrant.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/runner.h"
#include "ramp/clock.h"
#include "ramp/store/state_store.h"
#include "rollout/engine.h"

namespace ramp::controller {

// What the controller knows of the stored Rollout and its runs when it writes.
struct StoredRollout {
  store::ObjectKey key;          // the Rollout's key
  const spec::Rollout* rollout;  // as decoded from the stored version (never null)
  std::string_view jsonHead;     // spec::rolloutJsonHead(*rollout): the text without its status
  int64_t version = 0;           // the stored version (the compare-and-swap of the status write)
  // The owned AnalysisRuns as observed, and the stored version of each by name.
  const std::vector<spec::AnalysisRun>* runs = nullptr;
  const std::map<std::string, int64_t>* runVersions = nullptr;
};

struct RolloutWrites {
  bool statusChanged = false;
  // The AnalysisRun creates, then the status put (when it changed), then the other AnalysisRun
  // writes in the plan's order: every prefix is safe on a store that writes one object at a time
  // (state_store.h, write()), since a run is written before the status that names it.
  std::vector<store::WriteOp> ops;
  size_t statusOp = 0;               // the index of the status put in `ops` (when statusChanged)
  std::vector<store::Event> events;  // the plan's events, by `actor` at `now`
  std::vector<std::string> createdRuns;  // names of the AnalysisRuns the ops create
};

// The writes that persist `plan` for `stored`. A new AnalysisRun gets the owner label
// (kOwnerLabel = the Rollout's name) and must not exist yet; a terminate is written only for a
// run observed and not already terminating; a delete only for a run observed with its version.
RolloutWrites rolloutWrites(const StoredRollout& stored, const rollout::Plan& plan, Time now,
                            const std::string& actor);

// One event of the core as the store keeps it: the evidence map becomes a JSON object (empty
// map = no evidence).
store::Event toStoreEvent(const rollout::Event& event, const store::ObjectKey& object, Time now,
                          const std::string& actor);

// The events of one analysis pass about run `object`: each phase event with its evidence (the
// metric, the phase, and the value and message of the metric's last measurement of the pass).
std::vector<store::Event> runEvents(const analysis::RunPassOutcome& outcome,
                                    const store::ObjectKey& object, Time now,
                                    const std::string& actor);

}  // namespace ramp::controller
