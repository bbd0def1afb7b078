#pragma once

// The rollout strategy core: one pure function that decides, from a Rollout (spec + last
// status), what the platform runs, what the routers report and which AnalysisRuns exist, the
// Rollout's next status and the ordered actions that move the world toward it. It reproduces
// Argo Rollouts' canary and blue-green semantics (rollout/canary.go, bluegreen.go, sync.go,
// analysis.go, pause.go; utils/replicaset, utils/conditions, utils/rollout); the few places
// where ramp deviates on purpose are listed in docs/rollout-engine.md.
//
// The core never reads a clock, a store or the network: `now` and every observation come in,
// so each rule is tested on fixed inputs. The controller (the shell) persists the returned
// status first, then applies the actions in order, records the events and requeues after
// `requeueAfter`.
//
// Thread safety: pure functions; safe to call concurrently.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ramp/clock.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/analysis.h"
#include "ramp/spec/rollout.h"
#include "ramp/supply/image_verifier.h"

namespace ramp::rollout {

// Label and annotation keys shared with Argo.
inline constexpr const char* kPodTemplateHashLabel = "rollouts-pod-template-hash";
inline constexpr const char* kRolloutTypeLabel = "rollout-type";
inline constexpr const char* kStepIndexLabel = "step-index";
inline constexpr const char* kRevisionAnnotation = "rollout.argoproj.io/revision";
// Argo's controller sharding label (--instance-id): an AnalysisRun carries its Rollout's value.
inline constexpr const char* kControllerInstanceIdLabel =
    "argo-rollouts.argoproj.io/controller-instance-id";
inline constexpr const char* kRolloutTypeStep = "Step";
inline constexpr const char* kRolloutTypeBackground = "Background";
inline constexpr const char* kRolloutTypePrePromotion = "PrePromotion";
inline constexpr const char* kRolloutTypePostPromotion = "PostPromotion";
// The signature gate's pause reason and condition type (docs/supply-chain.md; ramp's own, Argo
// has no signature gate).
inline constexpr const char* kPauseReasonImageNotVerified = "ImageNotVerified";
inline constexpr const char* kConditionImageVerified = "ImageVerified";

// What the routers said about the weight applied on the previous reconcile.
enum class WeightVerification {
  kNotChecked,   // nothing to verify (no router, or not at a setWeight step)
  kVerified,     // every router reports the desired weight
  kNotYet,       // some router does not (yet): the step waits, requeue in 10 s
  kUnsupported,  // the routers cannot read weights back: treated as verified (Argo's nil)
};

// The signature gate's verdicts on the images of one revision (docs/supply-chain.md): one per
// image of templateImages(), in that order, as the shell's ImageVerifier answered.
struct ImageCheck {
  std::string podTemplateHash;  // the revision the verdicts are about
  std::vector<supply::ImageVerdict> verdicts;
};

// The world as observed by the shell at the start of one reconcile.
struct Observed {
  platform::ObservedWorkload workload;
  // Every AnalysisRun owned by the rollout (listed by owner), with spec and status.
  std::vector<spec::AnalysisRun> analysisRuns;
  // The AnalysisTemplates and ClusterAnalysisTemplates the rollout references (and those they
  // reference), already fetched. Missing ones are reported as a condition, not guessed.
  std::vector<spec::AnalysisTemplate> templates;
  WeightVerification weightVerification = WeightVerification::kNotChecked;
  // The object spec.workloadRef names, as the platform read it (nullopt without a workloadRef,
  // or when it could not be read: the Rollout is then InvalidSpec).
  std::optional<platform::ReferencedWorkload> referencedWorkload;
  // The signature gate, for the revision the core would create (revisionToCreate): nullopt when
  // the shell has no image verifier (every image may run). Set, the core creates that revision
  // only when every verdict allows it, and with each image pinned to its verified digest; a
  // check about another revision counts as a refusal (missing data is never a pass).
  std::optional<ImageCheck> imageCheck;
  // A pod template hash whose revision the platform could not create because its name is held
  // by another object (WorkloadDriver::ensureRevision's kAlreadyExists): when it is this spec's
  // hash, the core only raises status.collisionCount (Argo's hash collision), so the next
  // reconcile's hash, and name, differ. "" = none.
  std::string collidedHash;
};

// --- actions, in the order the shell must apply them -------------------------------------------

struct EnsureRevision {
  std::string hash;
  int64_t revision = 0;
  spec::PodTemplateSpec template_;
  int32_t minReadySeconds = 0;
  bool operator==(const EnsureRevision&) const = default;
};
struct ScaleRevision {
  std::string hash;
  int32_t replicas = 0;
  int32_t from = 0;  // the desired count before (for logs and the event)
  bool operator==(const ScaleRevision&) const = default;
};
struct SetScaleDownDeadline {
  std::string hash;
  std::optional<Time> deadline;  // nullopt clears it
  bool operator==(const SetScaleDownDeadline&) const = default;
};
struct RetireRevision {
  std::string hash;
  bool operator==(const RetireRevision&) const = default;
};
// Replaces one replica of revision `hash` that started before `before` (Argo's pod eviction
// for spec.restartAt); the platform starts a replacement at once.
struct RestartReplica {
  std::string hash;
  Time before{};
  bool operator==(const RestartReplica&) const = default;
};
// A Service whose selector this SyncEndpoints moves (blue-green's active and preview). On plain
// hosts the routers' backends play the Services' role, so the switch happens only when the
// routers apply it: the shell records the SwitchService event then, and says so when no router
// serves the rollout (nothing switches any traffic), never before.
struct ServiceSwitch {
  std::string service;
  std::string from;  // pod template hash ("" = none)
  std::string to;
  bool operator==(const ServiceSwitch&) const = default;
};
// Points the router's stable and canary destinations at these revisions (Argo's UpdateHash and
// the stable/canary Service selectors). Blue-green: stable = active, canary = preview.
struct SyncEndpoints {
  std::string stableHash;
  std::string canaryHash;
  // Revisions out of traffic that still run until their scale-down deadline (blue-green's
  // previous active during scaleDownDelaySeconds): the routers keep them with no traffic.
  std::vector<std::string> drainingHashes;
  std::vector<ServiceSwitch> switches;  // the Service selectors this sync moves
  // A basic canary (no trafficRouting): one Service selects the replicas of both revisions
  // alike, so the routers (canary.serviceRouting) split traffic by ready replica counts, with no
  // SetWeight of their own.
  bool byReplicas = false;
  bool operator==(const SyncEndpoints&) const = default;
};
struct SetWeight {
  int32_t canaryWeight = 0;  // out of maxTrafficWeight
  bool operator==(const SetWeight&) const = default;
};
struct SetHeaderRoute {
  spec::SetHeaderRoute route;  // no matches = remove the route
  bool operator==(const SetHeaderRoute&) const = default;
};
struct SetMirrorRoute {
  spec::SetMirrorRoute route;  // no matches = remove the route
  bool operator==(const SetMirrorRoute&) const = default;
};
struct RemoveManagedRoutes {
  bool operator==(const RemoveManagedRoutes&) const = default;
};
struct CreateAnalysisRun {
  spec::AnalysisRun run;
  bool operator==(const CreateAnalysisRun&) const = default;
};
struct TerminateAnalysisRun {
  std::string name;  // set spec.terminate = true
  bool operator==(const TerminateAnalysisRun&) const = default;
};
struct DeleteAnalysisRun {
  std::string name;
  bool operator==(const DeleteAnalysisRun&) const = default;
};
// Sets the replicas of the Deployment spec.workloadRef names (workloadRef.scaleDown).
struct ScaleWorkloadRef {
  int32_t replicas = 0;
  int32_t from = 0;  // its replicas as observed
  bool operator==(const ScaleWorkloadRef&) const = default;
};

using Action =
    std::variant<EnsureRevision, ScaleRevision, SetScaleDownDeadline, RetireRevision, SyncEndpoints,
                 SetWeight, SetHeaderRoute, SetMirrorRoute, RemoveManagedRoutes, CreateAnalysisRun,
                 TerminateAnalysisRun, DeleteAnalysisRun, RestartReplica, ScaleWorkloadRef>;

// A short human-readable rendering, e.g. "ScaleRevision(abc, 2 -> 3)".
std::string describe(const Action& action);

// An event with Argo's reason, and the evidence behind the decision (step index, weights,
// replica counts, the failing AnalysisRun with its metric, measured value and condition).
struct Event {
  std::string type;  // "Normal" or "Warning"
  std::string reason;
  std::string message;
  std::map<std::string, std::string> evidence;
  bool operator==(const Event&) const = default;
};

// The two hashes the core derives from the spec: the pod template's (with the status's
// collisionCount) and the steps'. Computing them serialises the template and the steps, so a
// shell that reconciles the same spec again may hand back the ones a Plan returned.
struct SpecHashes {
  std::string podTemplate;
  std::optional<int32_t> collisionCount;  // the collisionCount podTemplate was computed with
  std::string steps;
  bool operator==(const SpecHashes&) const = default;
};

struct Plan {
  spec::RolloutStatus status;   // the next status (persist before acting)
  std::vector<Action> actions;  // apply in order
  std::vector<Event> events;
  // Reconcile again after this long at the latest (timed pause expiry, auto-promotion,
  // scale-down deadlines, progress deadline, weight verification, a pending restart). 0 = right
  // away (the status moved on and the next step can start). nullopt = only on change or resync.
  std::optional<Duration> requeueAfter;
  int64_t revision = 0;  // the revision number of the current pod template
  // The hashes of this spec (empty when the spec is invalid before they are computed).
  SpecHashes hashes;
};

// Decides the next status and actions for `rollout` given what is observed at `now`.
// Never fails: problems (unknown template, missing AnalysisTemplate, unsupported step) become
// conditions, events and a halted rollout, as in Argo.
// With spec.workloadRef, the pod template (and, when the Rollout has none, the selector) is
// observed.referencedWorkload's, as Argo resolves it (rollout/templateref.go);
// status.workloadObservedGeneration records its generation, and on revision 1 the referenced
// Deployment is scaled down as workloadRef.scaleDown says (ScaleWorkloadRef, see
// workloadScaleDown). `known` is not used then (the template is not the stored spec's).
// `known`: the hashes a previous Plan returned for this same spec, or nullptr. They are used
// only when computed with the same collisionCount; the caller vouches that spec.template and
// the steps are unchanged (the controller keys them by the stored object's version).
Plan reconcileRollout(const spec::Rollout& rollout, const Observed& observed, Time now,
                      const SpecHashes* known = nullptr);

// Argo's workloadRef.scaleDown for the Deployment a Rollout migrates from, on revision 1 only
// (the migration): `onsuccess` scales it to 0 once the Rollout is Healthy (as last persisted:
// `rollout.status`) and the revision is stable (promoteStable in rollout/sync.go);
// `progressively` to 0 once Healthy and before that to spec.replicas - status.readyReplicas
// (at least 0) once the Rollout has ready replicas or the new revision is being scaled down
// (`newScaledDown`; reconcileNewReplicaSet in rollout/replicaset.go); `never` or unset: never.
// Returns the replicas to set, or nullopt when nothing is to change (`deploymentReplicas` is what
// the Deployment has). Pure.
std::optional<int32_t> workloadScaleDown(const spec::Rollout& rollout, int64_t revision,
                                         const spec::RolloutStatus& next, bool newScaledDown,
                                         int32_t deploymentReplicas);

// The plan for a Rollout the shell will not run although its spec is valid on its own: the
// platform or a router cannot serve it, or another Rollout owns its backend (the shell's checks,
// Registry::checkRollout and claimConflicts). Sets the InvalidSpec condition with `message`
// (phase Degraded, status.message "InvalidSpec: <message>"), keeps everything else of the
// status, and has no actions and no requeue (a spec change or a resync comes back). The Warning
// event InvalidSpec is emitted only when the condition is new or its message changed, so a
// rollout that stays invalid does not repeat it. The next reconcile of a runnable spec clears the
// condition as usual.
Plan rejectSpec(const spec::Rollout& rollout, const std::string& message, Time now);

// --- helpers exposed for the shell and tests ------------------------------------------------

// The pod template hash ramp uses: FNV-32a over the canonical JSON of the template (as written
// by spec::toJson), plus the collision count when set, as a decimal number passed through
// Kubernetes' SafeEncodeString. Differs from Argo's bytes (Go's json.Marshal), see the docs.
std::string podTemplateHash(const spec::PodTemplateSpec& tmpl,
                            std::optional<int32_t> collisionCount);

// The step hash (Argo's ComputeStepHash over our canonical JSON); "" for blue-green.
std::string stepHash(const spec::Rollout& rollout);

// The revision reconcileRollout would start (or, moving back to an older revision, renumber) with
// an EnsureRevision for `rollout` as `observed`: its pod template hash and template (the spec's,
// or with spec.workloadRef the referenced workload's). nullopt when it would create none (the
// revision is already the newest) or the spec has no template. `known` as for reconcileRollout.
// The shell asks its ImageVerifier about this revision's images before the core decides.
struct RevisionToCreate {
  std::string hash;
  const spec::PodTemplateSpec* template_ = nullptr;  // points into `rollout` or `observed`
};
std::optional<RevisionToCreate> revisionToCreate(const spec::Rollout& rollout,
                                                 const Observed& observed,
                                                 const SpecHashes* known = nullptr);

// Every distinct image of `tmpl`, init containers first, each once, in the order written.
std::vector<std::string> templateImages(const spec::PodTemplateSpec& tmpl);

// `tmpl` with each container and init container image that an allowed verdict pinned replaced by
// the verdict's pinnedImage (`nginx:1.25` -> `nginx:1.25@sha256:…`); other images as written.
spec::PodTemplateSpec pinImages(const spec::PodTemplateSpec& tmpl,
                                const std::vector<supply::ImageVerdict>& verdicts);

// True when a refusal of the signature gate should be checked again: the status still carries
// the condition ImageVerified=False but no longer the pause ImageNotVerified (`ramp retry`, or a
// promote, lifted it). The shell then asks its verifier again instead of using a cached refusal.
bool imageRecheckRequested(const spec::RolloutStatus& status);

// The canary weight of the current step (Argo's GetCurrentSetWeight): the last setWeight at or
// before the current step, 0 if none or aborted, 100 past the last step.
int32_t currentSetWeight(const spec::Rollout& rollout);

}  // namespace ramp::rollout
