#pragma once

// The pure half of platform.kubernetes: what a revision's ReplicaSet looks like (as Argo
// Rollouts writes it: name <rollout>-<hash>, the label rollouts-pod-template-hash on the
// ReplicaSet, its selector and its pod template, the annotation rollout.argoproj.io/revision, a
// controller ownerReference to the Rollout object when the cluster has one, created with 0
// replicas and the Rollout's minReadySeconds), which ReplicaSets belong to a rollout, what a
// ReplicaSet and its Pods say about the revision (ObservedRevision, ObservedReplica), the patches
// that scale it, renumber it and set or clear Argo's scale-down-deadline annotation, and the
// strategic-merge patch that points a Service's selector at a revision (Argo's
// rollout/service.go). No I/O and no clock reads: objects come in as JSON, `now` is an argument.
//
// The pod template hash is the rollout core's (rollout::podTemplateHash: FNV-32a over ramp's
// canonical JSON), not Argo's (FNV-32a over Go's json.Marshal of the template): the two differ
// for the same template. So that a ReplicaSet Argo created is adopted rather than duplicated,
// the driver also matches a rollout's ReplicaSets by template (sameTemplate: equal once the
// hash label and the fields the API server fills in by default are removed, as Argo's own
// FindNewReplicaSet falls back to), and records ramp's hash on the adopted ReplicaSet in the
// annotation kHashAliasAnnotation. Its label, its selector and its Pods keep Argo's hash;
// Services select it by that label value (revisionLabel).
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/rollout.h"

namespace ramp::platform::kubernetes {

using nlohmann::json;

// Argo's keys (pkg/apis/rollouts/v1alpha1, utils/annotations).
inline constexpr const char* kHashLabel = "rollouts-pod-template-hash";
inline constexpr const char* kRevisionAnnotation = "rollout.argoproj.io/revision";
inline constexpr const char* kScaleDownDeadlineAnnotation = "scale-down-deadline";
inline constexpr const char* kManagedByAnnotation = "argo-rollouts.argoproj.io/managed-by-rollouts";
// ramp's own: the rollout a ReplicaSet belongs to when the cluster holds no Rollout object to own
// it (ramp's store is not the cluster), and ramp's hash of a ReplicaSet adopted by template.
inline constexpr const char* kRolloutLabel = "ramp.local/rollout";
inline constexpr const char* kHashAliasAnnotation = "ramp.local/pod-template-hash";

// The Rollout a ReplicaSet belongs to.
struct RolloutRef {
  std::string namespace_;
  std::string name;
  std::string uid;  // the Rollout object's metadata.uid; "" = none in the cluster (no owner)
  bool operator==(const RolloutRef&) const = default;
};

// "namespace/name" -> RolloutRef (uid ""). kInvalidArgument for a key without exactly one '/'.
Result<RolloutRef> parseRolloutKey(std::string_view rolloutKey);

// Argo's ReplicaSet name: "<rollout>-<hash>".
std::string replicaSetName(const std::string& rollout, const std::string& hash);

// The pod template as Kubernetes JSON (spec::toJson's spelling, empty fields omitted).
json templateJson(const spec::PodTemplateSpec& tmpl);

// A ReplicaSet's pod template with the hash label and the fields the API server fills in by
// default removed (pod: restartPolicy Always, dnsPolicy ClusterFirst, schedulerName
// default-scheduler, terminationGracePeriodSeconds 30, securityContext {}, serviceAccount =
// serviceAccountName; container: terminationMessagePath /dev/termination-log,
// terminationMessagePolicy File, imagePullPolicy Always for :latest or no tag else IfNotPresent,
// resources {}, ports' protocol TCP, probes' timeoutSeconds 1, periodSeconds 10,
// successThreshold 1, failureThreshold 3, httpGet scheme HTTP; fieldRef apiVersion v1;
// metadata other than labels and annotations), and empty objects and arrays dropped.
json normalizeTemplate(const json& tmpl);

// True when two pod templates are the same once normalised (Argo's PodTemplateEqualIgnoreHash).
bool sameTemplate(const json& live, const json& desired);

// The ReplicaSet's pod template as ramp's type (normalised first, so a template ramp created
// reads back ==). kInvalidArgument naming the field when ramp's decoder refuses it.
Result<spec::PodTemplateSpec> decodeTemplate(const json& tmpl);

// What the object a Rollout's spec.workloadRef names holds for it (`object`: its JSON, of
// `ref.kind`): the pod template at spec.template (a PodTemplate's at template), read as
// decodeTemplate does; spec.selector; metadata.generation; and for a Deployment spec.replicas
// (default 1). Errors: kInvalidArgument naming spec.workloadRef and the object when it holds no
// pod template ramp can read.
Result<ReferencedWorkload> referencedWorkload(const json& object, const spec::WorkloadRef& ref);

// The ReplicaSet ramp creates for revision `hash` of `rollout`, with 0 replicas.
json replicaSetManifest(const RolloutRef& rollout, const std::string& hash, int64_t revision,
                        const spec::PodTemplateSpec& tmpl, int32_t minReadySeconds);

// Whether `rs` belongs to `rollout`: in its namespace, and labelled kRolloutLabel=<name> or
// controlled (ownerReference controller: true) by the argoproj.io Rollout of that name.
bool belongsTo(const json& rs, const RolloutRef& rollout);
// Every "namespace/name" of a Rollout that `rs` may belong to by belongsTo (its kRolloutLabel
// value, the name of its controlling argoproj.io Rollout), without repeats: the keys under which
// the driver indexes it, so that finding a Rollout's ReplicaSets does not scan the namespace's.
std::vector<std::string> rolloutKeysOf(const json& rs);

// The label value rollouts-pod-template-hash of `rs` ("" when absent): what its Pods carry and
// Services select.
std::string revisionLabel(const json& rs);
// The hash the rollout core knows the revision by: kHashAliasAnnotation when set (a ReplicaSet
// adopted by template), else revisionLabel.
std::string revisionHash(const json& rs);

// metadata.annotations[key] of `object` ("" when absent or not a string).
std::string annotationOf(const json& object, const char* key);
// spec.replicas of a ReplicaSet (Kubernetes' default 1 when absent; clamped to int32).
int32_t specReplicas(const json& rs);
// spec.template of a ReplicaSet ({} when absent).
const json& podTemplateOf(const json& rs);

// The uid of the controller in `object`'s ownerReferences ("" when none).
std::string controllerUid(const json& object);
// The uid of `rollout`'s Rollout object as its ReplicaSets name it: the controller
// ownerReference (argoproj.io, kind Rollout, the rollout's name) of one in its namespace that is
// not being deleted; "" when none names it. A new ReplicaSet's owner then needs no GET of the
// Rollout. (A Rollout deleted and made again under its name at once leaves ReplicaSets naming
// the old uid until the garbage collector deletes them; one created meanwhile with that owner
// goes with them and is created again by a later reconcile.)
std::string ownerRolloutUid(const std::vector<json>& replicaSets, const RolloutRef& rollout);

// What `rs` and its Pods (those it controls; terminating ones included) say about the revision
// at `now`. Pods count as current while they are not being deleted and have not ended (phase
// Succeeded or Failed); as ready with the condition Ready=True; as available once ready for the
// ReplicaSet's minReadySeconds; as crash-looping while a container waits in CrashLoopBackOff.
// Endpoints: each current Pod's IP and its first container's first port. A template ramp cannot
// decode leaves template_ empty.
ObservedRevision observeRevision(const json& rs, const std::vector<json>& pods, Time now);

// The Pods of `rs` as replicas, ordered by name.
std::vector<ObservedReplica> observeReplicas(const json& rs, const std::vector<json>& pods);

// A Pod reduced to what observeRevision, observeReplicas, podToRestart and controllerUid read
// of it (its name, namespace, creation and deletion times, controller ownerReference, first
// container's first port, phase, reason, IP, Ready condition and container states), so that a
// Pod kept for them costs a few hundred bytes instead of its few kilobytes. Each of those
// functions gives the same answer for podFacts(pod) as for pod.
json podFacts(const json& pod);

// The oldest current (not terminating) Pod created before `before`; nullopt when none.
std::optional<std::string> podToRestart(const std::vector<json>& pods, Time before);

// Merge patches of a ReplicaSet (scalePatch: of a Deployment too).
json scalePatch(int32_t replicas);
json revisionPatch(int64_t revision);
// Sets the annotation scale-down-deadline to the RFC 3339 time, or removes it (nullopt).
json scaleDownDeadlinePatch(std::optional<Time> deadline);
// Adopts a ReplicaSet found by template: records ramp's hash and the revision number.
json adoptPatch(const std::string& hash, int64_t revision);

// What to do with one Service for one ServiceSelection.
struct ServiceSwitch {
  std::optional<json> patch;  // the strategic-merge patch to send; nullopt = nothing to do
  std::string from;           // the selector's hash before ("" when none)
  std::string waiting;        // why it is not switched yet ("" when switched or nothing to do)
  bool operator==(const ServiceSwitch&) const = default;
};

// Argo's switchServiceSelector and ensureSVCTargets for `service` (the Service's JSON) and the
// revision whose ReplicaSet is `rs`: set spec.selector.rollouts-pod-template-hash to the
// ReplicaSet's label, and the annotation kManagedByAnnotation=<rollout name> when absent.
// Nothing when both are already so. With requireAvailable, no switch while the ReplicaSet has
// no available replica, nor, for a Service no rollout manages yet, while not all of its
// replicas are available (`available` from observeRevision).
ServiceSwitch planServiceSwitch(const json& service, const std::string& rolloutName, const json& rs,
                                int32_t available, bool requireAvailable);

// Compares two resourceVersions as Kubernetes' apimachinery does for ordering: as decimal
// integers (a shorter string is older). Returns <0, 0, >0; malformed ones compare as equal.
int compareResourceVersions(std::string_view a, std::string_view b);

}  // namespace ramp::platform::kubernetes
