#pragma once

// Text views of rollouts and analysis runs for `ramp get` and `ramp list`, in the layout of
// `kubectl argo rollouts get rollout`: a summary (status icon, strategy, step i/n, set and actual
// weight, images, replicas), then a tree of revisions (with their replicas: state, ready,
// restarts, last exit) and AnalysisRuns, then the latest events
// with their evidence.
//
// Thread safety: pure functions.

#include <string>
#include <vector>

#include "api/types.h"
#include "ramp/clock.h"
#include "ramp/spec/analysis.h"
#include "ramp/spec/rollout.h"
#include "ramp/store/state_store.h"

namespace ramp::cli {

struct RolloutView {
  spec::Rollout rollout;
  std::vector<spec::AnalysisRun> runs;  // the rollout's AnalysisRuns
  std::vector<store::Event> events;     // newest last
  std::vector<api::RevisionView> revisions;
  bool haveRevisions = false;
  std::vector<api::ReplicaView> replicas;  // shown under their revision
  bool haveReplicas = false;
  Time now;
  bool colour = false;
};

// "Healthy", "Progressing", "Paused", "Degraded" (Progressing when the controller has not yet
// written a phase).
std::string rolloutStatus(const spec::Rollout& rollout);
// "✔ Healthy", "◌ Progressing", "॥ Paused", "✖ Degraded" (coloured on a terminal).
std::string statusWithIcon(const std::string& status, bool colour);
// "2/4" for a canary, "" otherwise.
std::string stepText(const spec::Rollout& rollout);

std::string renderRollout(const RolloutView& view);
// "✔ Running", "◌ Starting", "✖ CrashLoopBackOff", "◷ Waiting", "◌ Terminating" (coloured on a
// terminal), as the tree shows a replica.
std::string replicaStateWithIcon(const std::string& state, bool colour);
// "ready:1/1, restarts:3, last exit: exit 1" (last exit only when it ever stopped).
std::string replicaInfo(const api::ReplicaView& replica);
std::string renderAnalysisRun(const spec::AnalysisRun& run, const std::vector<store::Event>& events,
                              Time now, bool colour);

// The `list rollouts` table (NAMESPACE column when allNamespaces).
std::string renderRolloutTable(const std::vector<spec::Rollout>& rollouts, bool allNamespaces,
                               bool colour);

// Whether `run` belongs to `rollout` (Argo names runs "<rollout>-<hash>-…").
bool runBelongsTo(const spec::AnalysisRun& run, const spec::Rollout& rollout);

}  // namespace ramp::cli
