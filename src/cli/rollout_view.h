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

// Argo's ActualWeight (its kubectl plugin's rollout info), for a canary: the maximum traffic
// weight (100) once no step remains (Healthy); 0 while no replica is available; with a
// router, the weight the controller verified (status.canary.weights, "(not yet verified)" while
// the proxy does not report it) or else the set weight; without one, the canary revision's share
// of the available replicas (from `revisions` when the platform gave them, else from
// status.updatedReplicas, said so). "" for blue-green.
std::string actualWeightText(const spec::Rollout& rollout,
                             const std::vector<api::RevisionView>* revisions);

// One image a rollout runs, with Argo's tags: canary, stable, active, preview.
struct ImageTags {
  std::string image;
  std::vector<std::string> tags;
  bool operator==(const ImageTags&) const = default;
};
// The images running now, as Argo lists them: from every revision with replicas, tagged by the
// revision's role, merged by image and sorted. Without `revisions`, the template's images tagged
// canary while an update is in progress, else stable (active for blue-green).
std::vector<ImageTags> runningImages(const spec::Rollout& rollout,
                                     const std::vector<api::RevisionView>* revisions);

// The `list rollouts` table (NAMESPACE column when allNamespaces).
std::string renderRolloutTable(const std::vector<spec::Rollout>& rollouts, bool allNamespaces,
                               bool colour);

// The `list` table of other kinds from their API JSON: NAMESPACE (when allNamespaces), NAME and,
// when withStatus (AnalysisRuns), STATUS (the phase; "-" before the first reconcile).
// Unparsable items are skipped.
std::string renderObjectTable(const std::vector<std::string>& itemsJson, bool withStatus,
                              bool allNamespaces);

// kubectl's line for an empty list: "No resources found in NS namespace." ("" = every namespace,
// or a cluster-scoped kind: "No resources found").
std::string noResourcesMessage(const std::string& ns);

// Whether `run` belongs to `rollout` (Argo names runs "<rollout>-<hash>-…").
bool runBelongsTo(const spec::AnalysisRun& run, const spec::Rollout& rollout);

}  // namespace ramp::cli
