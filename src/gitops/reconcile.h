#pragma once

// reconcileApplication: Argo CD's application controller as a pure function, like
// rollout/engine.h's reconcileRollout. The shell (agent.h) observes (the AppProject, the Git
// revision's files through GitSource, the stored objects the Application owns), calls this, then
// persists: it applies the plan's objects in one store transaction and writes the returned status.
//
//   observed = {project, revision {sha, files} | repository error, live objects, …}
//   plan = reconcileApplication(app, observed, now, options)
//   if plan.sync: apply(plan.apply, plan.prune) in one transaction  // failure -> failSync(plan)
//   write app.status = plan.status (and drop app.operation when plan.clearOperation)
//
// The core never reads a clock, a store or the network. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gitops/diff.h"
#include "gitops/project.h"
#include "gitops/render.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/gitops/git_source.h"
#include "ramp/spec/gitops.h"
#include "ramp/store/state_store.h"

namespace ramp::gitops {

// One revision of the source: the commit and the files under the Application's path.
struct GitRevision {
  std::string sha;
  FileTree files;
  GitCommitInfo commit;  // its author and message (only the sha when they could not be read)
};

struct Observed {
  // The AppProject spec.project names; nullopt when not stored (then only "default" is allowed,
  // with no restriction, as Argo CD's implicit default project).
  std::optional<spec::AppProject> project;
  // The revision to compare with: operation.sync.revision when an operation asks for one, else
  // targetRevision. kUnavailable = the repository cannot be read; kNotFound = no such revision
  // or path.
  Result<GitRevision> revision = makeError(ErrorCode::kUnavailable, "not observed");
  // Stored objects that carry this Application's tracking annotation or share a key with one of
  // the revision's objects.
  std::vector<store::StoredObject> live;
  // Consecutive failed reads of the repository before this one (for the backoff).
  int failures = 0;
  // A pending rollback by revert whose revert commit could not be pushed: why.
  std::optional<Error> revertError;
};

struct ReconcileOptions {
  Duration pollInterval = std::chrono::minutes(3);  // Argo CD's timeout.reconciliation
  Duration minBackoff = std::chrono::seconds(5);
  int historyLimit = 10;  // Argo CD's default revisionHistoryLimit
};

struct Plan {
  spec::ApplicationStatus status;
  bool clearOperation = false;  // the pending operation was carried out or refused
  bool sync = false;            // apply `apply` and delete `prune`, all in one transaction
  std::vector<spec::Document> apply;
  std::vector<ObjectDiff> prune;
  std::string initiatedBy;          // who the sync is for ("gitops" for auto-sync)
  std::string windowOverride;       // the sync runs through a closed window: who, which window
  std::vector<std::string> events;  // what happened, one line each ("sync to 1a2b3c4 started…")
  Duration requeueAfter{0};
  // Set the kAutoSyncSuspendedAnnotation to this (a rollback --no-git synced), or remove it (a
  // manual sync that is not a rollback synced).
  std::optional<std::string> suspendAutoSync;
  bool resumeAutoSync = false;
};

// A pending operation whose info has overrideSyncWindows "true" (written by ramp's API when the
// caller's role may override) syncs through a closed window; the override is recorded in the
// operation's message and the event. A rollback (operations.h) is a manual sync whose message
// and event say so; one without Git suspends auto-sync. While the Application carries
// kAutoSyncSuspendedAnnotation, auto-sync does nothing and condition AutoSyncSuspended says why.
Plan reconcileApplication(const spec::Application& app, const Observed& observed, Time now,
                          const ReconcileOptions& options = {});

// Marks the plan's sync as failed with `message` (the store refused the transaction): the
// operation state says Failed, nothing is added to history and the sync status is OutOfSync.
void failSync(Plan& plan, const spec::Application& app, const std::string& message);

}  // namespace ramp::gitops
