#pragma once

// WorkloadDriver: runs the replicas of a rollout's revisions on one platform (local processes on
// a plain host; Kubernetes ReplicaSets) and reports what is running. It hides whether a
// revision is a ReplicaSet or a set of processes: the rollout core only ever sees revisions
// identified by their pod template hash, with replica counts and endpoints.
//
// The controller calls observe() at the start of every reconcile and then applies the actions
// the strategy core decided (ensureRevision, scale, setScaleDownDeadline, retire,
// restartReplica, setRoles, selectServices). Reconcile is
// level-triggered, so every mutating method is idempotent: calling scale(h, 3) twice is the same
// as once, and ensureRevision of a revision that exists only updates its revision number.
// Methods never block on replicas becoming ready; readiness shows up in a later observe().
//
// Thread safety: one rollout (one rolloutKey) is driven by one reconcile at a time; calls for
// different rollouts may come concurrently from several workers, so implementations must be
// safe for that. Calls must be bounded by a timeout.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/spec/rollout.h"
#include "ramp/traffic/traffic_router.h"

namespace ramp::platform {

// One revision of a rollout as the platform runs it (Argo: one ReplicaSet).
struct ObservedRevision {
  std::string podTemplateHash;  // identifies the revision (label rollouts-pod-template-hash)
  int64_t revision = 0;         // rollout.argoproj.io/revision: 1, 2, … (higher = newer)
  spec::PodTemplateSpec template_;
  std::optional<Time> createdAt;

  int32_t desiredReplicas = 0;    // what the driver was last asked to run (spec.replicas)
  int32_t currentReplicas = 0;    // replicas that exist (started processes / pods)
  int32_t readyReplicas = 0;      // passing their readiness check now
  int32_t availableReplicas = 0;  // ready for at least minReadySeconds
  // Replicas that keep failing after start (exited and restarted repeatedly, Kubernetes'
  // CrashLoopBackOff). Used to tell real progress from flapping readiness.
  int32_t crashLoopingReplicas = 0;

  // Endpoints of the replicas, for the traffic router (ready ones receive traffic).
  std::vector<traffic::Endpoint> endpoints;

  // Argo's scale-down-deadline annotation: the revision is kept up until then, then scaled to 0.
  std::optional<Time> scaleDownDeadline;

  // When each of the currentReplicas replicas started (Kubernetes: the pod's creation time),
  // oldest first. Replicas being stopped are not listed. A rolling restart (spec.restartAt)
  // replaces the replicas that started before the restart time.
  std::vector<Time> replicaStartedAt;

  bool operator==(const ObservedRevision&) const = default;
};

// The revision ensureRevision() makes sure of: its hash, revision number, template and
// minReadySeconds, and what Argo writes on a ReplicaSet from its Rollout (drivers without such
// objects ignore these): the rollout's spec.replicas (the annotation
// rollout.argoproj.io/desired-replicas), its metadata.annotations (copied to the ReplicaSet but
// kubectl's last-applied configuration and Argo's revision and replica annotations), and the
// ephemeral pod metadata of the role the revision is created for (rollout::creationMetadata),
// injected into the pod template it creates (not part of the hash), and the rollout's
// antiAffinity toward its stable revision (below).
struct RevisionSpec {
  std::string hash;
  int64_t revision = 0;
  spec::PodTemplateSpec template_;
  int32_t minReadySeconds = 0;
  int32_t rolloutReplicas = 1;
  std::map<std::string, std::string> rolloutAnnotations;
  std::optional<spec::PodTemplateMetadata> ephemeralMetadata;
  // Set when the rollout configures antiAffinity (canary or blueGreen) and the revision is not
  // its stable one while there is a stable one (Argo's GenerateReplicaSetAffinity): the
  // revision's replicas are to stay off the hosts that run revision `hash`'s. Kubernetes: a
  // pod anti-affinity term on kubernetes.io/hostname injected into the pod template (not part
  // of the hash). Drivers without hosts to choose ignore it.
  struct AntiAffinityTo {
    std::string hash;  // the stable revision
    spec::AntiAffinity rule;
    bool operator==(const AntiAffinityTo&) const = default;
  };
  std::optional<AntiAffinityTo> antiAffinity;
};

// The ephemeral pod metadata of each role a rollout configures ("canary": canaryMetadata,
// "stable": stableMetadata, "preview": previewMetadata, "active": activeMetadata); a role it
// does not configure is absent.
using RoleMetadata = std::map<std::string, spec::PodTemplateMetadata>;

// One replica of a rollout as the platform runs it (Kubernetes: one Pod of the revision's
// ReplicaSet; platform.process: one process), for people: `ramp get rollout`, the dashboard and
// `ramp logs`. The controller does not decide on these; it reads ObservedRevision's counts.
struct ObservedReplica {
  std::string name;             // unique within the rollout (Kubernetes: the pod name)
  std::string podTemplateHash;  // the revision it belongs to
  int32_t index = 0;            // replica number within the revision (Kubernetes: 0, unused)
  // "Running" (running and has been ready since it last started), "Starting" (running, not
  // ready yet since it last started), "CrashLoopBackOff" (crashed repeatedly, waiting to be
  // started again), "Waiting" (waiting to be started, e.g. after a first crash), or
  // "Terminating" (being stopped: scaled down or replaced).
  std::string state;
  bool ready = false;    // passing its readiness check now
  int32_t restarts = 0;  // times it was started again after it stopped (Kubernetes: restartCount)
  // Why it last stopped: "exit 1", "signal 9", "exited" (status unknown), "" if it never did.
  std::string lastExit;
  // Why it is not ready or cannot start, in words ("" when nothing is wrong); shown, not parsed.
  std::string message;
  std::optional<Time> startedAt;  // when its current run started; nullopt while not running

  bool operator==(const ObservedReplica&) const = default;
};

// A piece of one replica's log (stdout and stderr, as the platform keeps them).
struct LogChunk {
  std::string text;        // bytes [offset, nextOffset) of the log
  int64_t offset = 0;      // where `text` starts
  int64_t nextOffset = 0;  // where the next read continues (= offset + text.size())
  bool operator==(const LogChunk&) const = default;
};

// One Service that must send its traffic to one revision (Argo: the blue-green activeService and
// previewService, the canary stableService and canaryService), by the selector key
// rollouts-pod-template-hash.
struct ServiceSelection {
  std::string service;          // the Service's name, in the rollout's namespace
  std::string podTemplateHash;  // the revision it must select
  // Argo's ensureSVCTargets (canary): switch only once the revision has an available replica,
  // and, for a Service no rollout manages yet, only once every replica is available.
  bool requireAvailable = false;
  bool operator==(const ServiceSelection&) const = default;
};

// The object a Rollout's spec.workloadRef names (Argo's migration path from a Deployment: the
// Rollout takes its pod template from the Deployment, ReplicaSet or PodTemplate), as the platform
// read it.
struct ReferencedWorkload {
  spec::PodTemplateSpec template_;              // spec.template (a PodTemplate's template)
  std::optional<spec::LabelSelector> selector;  // spec.selector (none for a PodTemplate)
  int64_t generation = 0;                       // metadata.generation
  // spec.replicas of a Deployment (Kubernetes' default 1 when absent); nullopt for the kinds
  // workloadRef.scaleDown does not scale (ReplicaSet, PodTemplate).
  std::optional<int32_t> replicas;
  bool operator==(const ReferencedWorkload&) const = default;
};

// Everything the driver runs for one rollout.
struct ObservedWorkload {
  std::vector<ObservedRevision> revisions;  // any order
  bool operator==(const ObservedWorkload&) const = default;
};

class WorkloadDriver {
 public:
  virtual ~WorkloadDriver() = default;

  // Returns the revisions currently known for `rolloutKey` ("namespace/name"), with replica
  // counts as of now. A rollout the driver has never seen has no revisions (not an error).
  // On error (the platform cannot be queried) returns kUnavailable naming the platform.
  virtual Result<ObservedWorkload> observe(const std::string& rolloutKey) = 0;

  // Makes sure a revision with this hash exists (created with 0 replicas if absent) and carries
  // `revision` as its revision number; the template is what its replicas run, and a replica
  // counts as available after `minReadySeconds` of readiness. On error returns kUnavailable,
  // kInvalidArgument (a template the platform cannot run, with the field named) or
  // kAlreadyExists (the name this hash gives is held by an object that is not this revision: a
  // hash collision, after which the controller raises status.collisionCount, as Argo does).
  virtual Status ensureRevision(const std::string& rolloutKey, const RevisionSpec& revision) = 0;

  // Sets how many replicas of revision `hash` should run; the driver starts or stops replicas
  // to get there (stopping the newest / not-ready ones first). `rolloutReplicas` is the
  // rollout's spec.replicas (Argo's desired-replicas annotation on Kubernetes; others ignore
  // it), negative for a rollout being deleted (the annotation is left as it is). On error
  // returns kNotFound for an unknown revision or kUnavailable.
  virtual Status scale(const std::string& rolloutKey, const std::string& hash, int32_t replicas,
                       int32_t rolloutReplicas) = 0;

  // Records (or with nullopt clears) the time after which the revision may be scaled down;
  // reported back by observe(). On error returns kNotFound or kUnavailable.
  virtual Status setScaleDownDeadline(const std::string& rolloutKey, const std::string& hash,
                                      std::optional<Time> deadline) = 0;

  // Removes a revision that is scaled to 0 for good (revision history limit). Removing an
  // unknown revision succeeds. On error returns kFailedPrecondition if replicas still run.
  virtual Status retire(const std::string& rolloutKey, const std::string& hash) = 0;

  // Replaces ONE running replica of revision `hash` that started before `startedBefore` (the
  // oldest such replica): the driver stops it (platform.process: SIGTERM, SIGKILL after the
  // template's termination grace period) and starts a replacement at once, so the revision
  // keeps its replica count; the replacement shows up in observe() with a start time of now,
  // not ready yet. Used for Argo's rolling restart (spec.restartAt); the caller limits how many
  // replicas are down at a time. Succeeds without doing anything when no replica of the
  // revision started before `startedBefore`. On error returns kNotFound for an unknown
  // revision, kUnavailable, or kUnsupported from a driver that cannot restart replicas (the
  // default).
  virtual Status restartReplica(const std::string& rolloutKey, const std::string& hash,
                                Time startedBefore) {
    return makeError(ErrorCode::kUnsupported,
                     type() +
                         ": restarting replicas (spec.restartAt) is not supported by this "
                         "platform");
  }

  // Tells the driver which role each revision of `rolloutKey` plays now: hash -> "stable" or
  // "canary" (canary strategy), "active" or "preview" (blue-green); revisions not named have no
  // role. The controller calls it after syncing the routers' endpoints. Drivers that expose
  // replicas to monitoring use it as a label (platform.process: `role` in its Prometheus file_sd
  // file); platform.kubernetes gives each revision's pod template and Pods the ephemeral
  // `metadata` of its role and takes off what it gave for a role the revision no longer plays
  // (Argo's canaryMetadata/stableMetadata); the default does nothing. Replaces the previous
  // roles of the rollout. On error returns kInvalidArgument for an unknown role or
  // kUnavailable.
  virtual Status setRoles(const std::string& rolloutKey,
                          const std::map<std::string, std::string>& roles,
                          const RoleMetadata& metadata) {
    return {};
  }

  // Points each Service in `selections` at its revision, as Argo switches a Service's selector
  // (and marks the Service as managed by the rollout). Idempotent: a Service that already
  // selects its revision is left alone; one whose revision is not available yet while
  // requireAvailable is set is left as it is (a later call switches it). The controller calls
  // it with every SyncEndpoints. Platforms without Services (platform.process, platform.sim:
  // the routers carry the traffic) succeed without doing anything (the default). On error
  // returns kNotFound for a Service or revision that does not exist, or kUnavailable.
  virtual Status selectServices(const std::string& rolloutKey,
                                const std::vector<ServiceSelection>& selections) {
    return {};
  }

  // Reads the object `ref` names in the rollout's namespace (spec.workloadRef: apps/v1 Deployment
  // or ReplicaSet, v1 PodTemplate). On error returns kNotFound naming the object when it does
  // not exist, kInvalidArgument when it holds no pod template ramp can read, kFailedPrecondition
  // when the platform cannot run it safely, kUnavailable, or kUnsupported from a platform that
  // has no such objects (the default: only platform.kubernetes has).
  virtual Result<ReferencedWorkload> resolveWorkloadRef(const std::string& rolloutKey,
                                                        const spec::WorkloadRef& ref) {
    return makeError(ErrorCode::kUnsupported,
                     type() +
                         " cannot read spec.workloadRef (a pod template kept in a Kubernetes "
                         "Deployment, ReplicaSet or PodTemplate): it needs platform.kubernetes");
  }

  // Asks the platform to call `listener` with a rollout's key whenever the object its last
  // resolveWorkloadRef() named changes (is created, edited, deleted), so the controller
  // reconciles that rollout at once instead of polling it. Returns true when the platform will
  // (platform.kubernetes: its informer of that kind sees the change); false when it cannot tell
  // (the default), and the controller then reconciles rollouts with a workloadRef every
  // ControllerOptions::workloadRefPoll. A later call replaces the listener; a null one stops
  // the calls (once it returns, none is running). The listener runs on a platform thread, must
  // be quick and must not call the driver.
  virtual bool watchWorkloadRefs(std::function<void(const std::string& rolloutKey)> listener) {
    return false;
  }

  // Sets spec.replicas of the Deployment `ref` names (workloadRef.scaleDown: Argo scales the
  // Deployment a Rollout migrates from down as the Rollout takes over). Idempotent. On error
  // returns kNotFound, kInvalidArgument for a kind other than Deployment, kUnavailable, or
  // kUnsupported (the default).
  virtual Status scaleWorkloadRef(const std::string& rolloutKey, const spec::WorkloadRef& ref,
                                  int32_t replicas) {
    return makeError(ErrorCode::kUnsupported,
                     type() + " cannot scale spec.workloadRef: it needs platform.kubernetes");
  }

  // True when the platform's Services carry the traffic, so selectServices switches it
  // (platform.kubernetes); false when only routers move traffic (the default).
  virtual bool servicesRouteTraffic() const { return false; }

  // Returns every replica of `rolloutKey` ("namespace/name"), terminating ones included,
  // ordered by pod template hash and index. A rollout the driver has never seen has none (not an
  // error). On error returns kUnavailable, or kUnsupported from a driver that cannot list
  // replicas (the default).
  virtual Result<std::vector<ObservedReplica>> observeReplicas(const std::string& rolloutKey) {
    return makeError(ErrorCode::kUnsupported,
                     type() + ": listing replicas is not supported by this platform");
  }

  // Reads at most `maxBytes` of the log of replica `replicaName` (a name observeReplicas lists
  // for `rolloutKey`; never a path) starting at byte `offset`. A negative offset counts from the
  // end (-N: the last N bytes, or the whole log when shorter). An offset past the end returns no
  // text with nextOffset = the log's size, so a follower polling with nextOffset sees new lines
  // as they come. On error returns kNotFound for a replica the rollout does not have (the
  // message lists no paths), kInvalidArgument for maxBytes < 1, kUnavailable when the log
  // cannot be read, or kUnsupported from a driver that keeps no logs (the default).
  virtual Result<LogChunk> readLog(const std::string& rolloutKey, const std::string& replicaName,
                                   int64_t offset, int64_t maxBytes) {
    return makeError(ErrorCode::kUnsupported,
                     type() + ": replica logs are not supported by this platform");
  }

  // Makes the driver's caches of the platform's objects again, each object allocated anew in a
  // row, so that the memory a burst of changes left partly used can be given back
  // (common/repack_buffer.h). The controller calls it once it has been quiet for a while after
  // much work (ControllerOptions::repackAfter); what the driver holds is the same after it. Costs
  // about a copy of the caches, under the driver's lock. A driver without such caches does
  // nothing (the default).
  virtual void repackMemory() {}

  // The name it is registered under, e.g. "platform.process".
  virtual std::string type() const = 0;
};

}  // namespace ramp::platform
