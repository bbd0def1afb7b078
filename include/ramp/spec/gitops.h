#pragma once

// Argo CD's Application and AppProject kinds (argoproj.io/v1alpha1), the subset ramp's GitOps
// agent reads (docs/gitops.md): an Application names a Git source (repoURL, path,
// targetRevision, directory.recurse, kustomize.images), a destination namespace and a sync
// policy; its status is Argo CD's (sync, health, history, operationState, conditions). An
// AppProject limits the repositories and namespaces of its Applications and carries sync
// windows. Every other Argo CD field is accepted and reported as ignored by src/spec.
//
// Field names follow Argo CD's YAML (pkg/apis/application/v1alpha1/types.go). Plain value types:
// no I/O, no validation (src/spec does both). Thread safety: none needed.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/spec/meta.h"

namespace ramp::spec {

// --- Application spec ---------------------------------------------------------------------------

struct ApplicationSourceDirectory {
  bool recurse = false;  // also read the YAML of sub-directories of `path`
  bool operator==(const ApplicationSourceDirectory&) const = default;
};

struct ApplicationSourceKustomize {
  // Image overrides, as kustomize's `images:` in Argo CD's short form: "old=new:tag",
  // "name:tag", "name@sha256:…", "old=new". Applied by ramp to Rollouts' containers.
  std::vector<std::string> images;
  bool operator==(const ApplicationSourceKustomize&) const = default;
};

struct ApplicationSource {
  std::string repoURL;         // https://, ssh://, git@host:path, file://
  std::string path;            // directory in the repository ("" or "." = its root)
  std::string targetRevision;  // branch, tag or commit; "" or "HEAD" = the default branch
  std::optional<ApplicationSourceDirectory> directory;
  std::optional<ApplicationSourceKustomize> kustomize;
  bool operator==(const ApplicationSource&) const = default;
};

struct ApplicationDestination {
  std::string server;      // accepted; ramp deploys into its own store
  std::string name;        // idem
  std::string namespace_;  // "namespace" in YAML: objects without a namespace land here
  bool operator==(const ApplicationDestination&) const = default;
};

struct SyncPolicyAutomated {
  bool prune = false;     // delete objects that left Git
  bool selfHeal = false;  // restore objects changed outside Git
  bool operator==(const SyncPolicyAutomated&) const = default;
};

struct SyncPolicy {
  std::optional<SyncPolicyAutomated> automated;  // absent = manual sync only
  std::vector<std::string> syncOptions;          // "Key=Value"
  bool operator==(const SyncPolicy&) const = default;
};

struct ApplicationSpec {
  ApplicationSource source;
  ApplicationDestination destination;
  std::string project;  // AppProject name; "" means "default"
  std::optional<SyncPolicy> syncPolicy;
  bool operator==(const ApplicationSpec&) const = default;
};

// --- Operation (the top-level `operation` field: a requested sync) ------------------------------

struct OperationInitiator {
  std::string username;    // who asked
  bool automated = false;  // the agent's auto-sync
  bool operator==(const OperationInitiator&) const = default;
};

struct SyncOperation {
  std::string revision;  // "" = the application's targetRevision
  bool prune = false;
  bool operator==(const SyncOperation&) const = default;
};

struct OperationInfo {
  std::string name;
  std::string value;
  bool operator==(const OperationInfo&) const = default;
};

// ramp's API writes info {name: overrideSyncWindows, value: "true"} when the caller's role may
// sync through a closed sync window (the agent records the override).
inline constexpr const char* kOverrideSyncWindows = "overrideSyncWindows";
// A rollback (ramp app rollback) is a sync of an older revision whose info says so: rollback =
// the history id, rollbackRevision = its commit, rollbackMode = "revert" (the agent first pushes
// a revert commit, adds revertCommit = its id and syncs that) or "no-git" (the old revision is
// synced as it is and auto-sync is suspended), reason = the caller's words. docs/gitops.md.
inline constexpr const char* kRollbackInfo = "rollback";
inline constexpr const char* kRollbackRevisionInfo = "rollbackRevision";
inline constexpr const char* kRollbackModeInfo = "rollbackMode";
inline constexpr const char* kRevertCommitInfo = "revertCommit";
inline constexpr const char* kReasonInfo = "reason";

struct Operation {
  std::optional<SyncOperation> sync;
  OperationInitiator initiatedBy;
  std::vector<OperationInfo> info;
  bool operator==(const Operation&) const = default;
};

// --- Application status -------------------------------------------------------------------------

struct ApplicationHealth {
  std::string status;  // Healthy, Suspended, Progressing, Missing, Degraded, Unknown
  std::string message;
  bool operator==(const ApplicationHealth&) const = default;
};

struct ApplicationSyncStatus {
  std::string status;    // Synced, OutOfSync, Unknown
  std::string revision;  // the Git commit compared with
  bool operator==(const ApplicationSyncStatus&) const = default;
};

struct ResourceStatus {
  std::string group;
  std::string version;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string status;  // Synced, OutOfSync
  std::optional<ApplicationHealth> health;
  std::string message;  // ramp: the first differing field, e.g. "spec.replicas: 3 in Git, 5 live"
  bool operator==(const ResourceStatus&) const = default;
};

struct RevisionHistory {
  int64_t id = 0;
  std::string revision;
  std::optional<Time> deployedAt;
  std::optional<Time> deployStartedAt;
  OperationInitiator initiatedBy;
  bool operator==(const RevisionHistory&) const = default;
};

struct SyncOperationResult {
  std::string revision;
  bool operator==(const SyncOperationResult&) const = default;
};

struct OperationState {
  Operation operation;
  std::string phase;  // Running, Succeeded, Failed, Error
  std::string message;
  std::optional<SyncOperationResult> syncResult;
  std::optional<Time> startedAt;
  std::optional<Time> finishedAt;
  bool operator==(const OperationState&) const = default;
};

struct ApplicationCondition {
  // Argo CD's types: ComparisonError, InvalidSpecError, SyncError, SharedResourceWarning,
  // RepeatedResourceWarning, OrphanedResourceWarning; ramp adds RepositoryError (the repository
  // could not be read), ManifestError (a file of the revision is invalid, with file:line:column)
  // and AutoSyncSuspended (a rollback --no-git turned auto-sync off).
  std::string type;
  std::string message;
  std::optional<Time> lastTransitionTime;
  bool operator==(const ApplicationCondition&) const = default;
};

struct ApplicationStatus {
  std::vector<ResourceStatus> resources;
  ApplicationSyncStatus sync;
  ApplicationHealth health;
  std::vector<RevisionHistory> history;
  std::vector<ApplicationCondition> conditions;
  std::optional<Time> reconciledAt;
  std::optional<OperationState> operationState;
  bool operator==(const ApplicationStatus&) const = default;
};

struct Application {
  ObjectMeta metadata;
  ApplicationSpec spec;
  std::optional<Operation> operation;
  ApplicationStatus status;
  bool operator==(const Application&) const = default;
};

// --- AppProject ---------------------------------------------------------------------------------

struct SyncWindow {
  std::string kind;      // allow | deny
  std::string schedule;  // five-field cron: minute hour day-of-month month day-of-week
  std::string duration;  // Go duration, e.g. "1h"
  std::vector<std::string> applications;  // globs of Application names
  std::vector<std::string> namespaces;    // globs of destination namespaces
  std::vector<std::string> clusters;      // accepted; ramp has one "cluster"
  bool manualSync = false;                // a person may sync while the window blocks
  std::string timeZone;                   // IANA name; "" = UTC
  bool andOperator = false;               // applications AND namespaces must match
  std::string description;
  bool operator==(const SyncWindow&) const = default;
};

struct AppProjectSpec {
  std::string description;
  std::vector<std::string> sourceRepos;  // globs; a leading '!' denies
  std::vector<ApplicationDestination> destinations;
  std::vector<SyncWindow> syncWindows;
  bool operator==(const AppProjectSpec&) const = default;
};

struct AppProject {
  ObjectMeta metadata;
  AppProjectSpec spec;
  bool operator==(const AppProject&) const = default;
};

}  // namespace ramp::spec
