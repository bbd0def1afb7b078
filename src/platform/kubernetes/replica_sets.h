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
#include <set>
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
inline constexpr const char* kRevisionHistoryAnnotation = "rollout.argoproj.io/revision-history";
inline constexpr const char* kDesiredReplicasAnnotation = "rollout.argoproj.io/desired-replicas";
// The ephemeral metadata injected into a ReplicaSet's pod template, as JSON, so that it can be
// taken off again (utils/replicaset's EphemeralMetadataAnnotation).
inline constexpr const char* kEphemeralMetadataAnnotation =
    "rollout.argoproj.io/ephemeral-metadata";
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
//
// Annotated as Argo's SetNewReplicaSetAnnotations does: the revision, desired-replicas (the
// rollout's spec.replicas) and the rollout's own annotations but kubectl's last-applied
// configuration, Argo's revision, revision-history and desired-replicas ones and the
// notifications engine's; the revision's ephemeral metadata injected into the pod template and
// recorded in kEphemeralMetadataAnnotation; and the revision's anti-affinity term (below)
// added to the pod template's affinity.
json replicaSetManifest(const RolloutRef& rollout, const RevisionSpec& revision);

// The ephemeral metadata as Argo records it on a ReplicaSet (Go's encoding of
// PodTemplateMetadata: labels then annotations, empty maps left out).
std::string ephemeralMetadataText(const spec::PodTemplateMetadata& metadata);
// What a ReplicaSet's kEphemeralMetadataAnnotation says was injected (nullopt: nothing, or
// unreadable — not JSON, or a label or annotation that is not a string — as Argo's
// ParseExistingPodMetadata).
std::optional<spec::PodTemplateMetadata> injectedMetadata(const json& rs);
// The ReplicaSet's pod template without the ephemeral metadata it records as injected and
// without an injected anti-affinity term (what the rollout's template was; used to compare and
// to report templates).
json templateWithoutInjected(const json& rs);

// Argo's injected anti-affinity term (utils/replicaset, CreateInjectedAntiAffinityRule): Pods
// labelled kHashLabel In [to.hash] in the namespace, topologyKey kubernetes.io/hostname; added to
// podAntiAffinity's requiredDuringScheduling… list, or to its preferredDuringScheduling… list
// with the rule's weight. `affinity` is a pod spec's affinity (null: none).
json withAntiAffinity(json affinity, const RevisionSpec::AntiAffinityTo& to,
                      const std::string& namespace_);
// `affinity` without the terms a controller injected: those of either podAntiAffinity list whose
// label selector has a matchExpression on kHashLabel (Argo looks only in the list of the
// rollout's rule; no user term selects on a hash a controller computes). Lists, podAntiAffinity
// and the affinity left empty are removed (null when nothing is left).
json withoutInjectedAntiAffinity(json affinity);
// The stable hash the ReplicaSet's injected anti-affinity term keeps away from ("" when it has
// none).
std::string injectedAntiAffinityHash(const json& rs);
// When the ReplicaSet carries an injected term toward another hash than `wanted`'s, the merge
// patch that moves it there (Argo's IfInjectedAntiAffinityRuleNeedsUpdate: a revision brought
// back while another is stable); nullopt otherwise — no term, or no rule wanted (Argo leaves
// the term of a revision that became stable).
std::optional<json> antiAffinityPatch(const json& rs,
                                      const std::optional<RevisionSpec::AntiAffinityTo>& wanted);
// The merge patch that gives the ReplicaSet's pod template `desired` (nullopt: none) and takes
// off what it recorded as injected and `desired` no longer has (Argo's
// SyncReplicaSetEphemeralPodMetadata); nullopt when nothing changes.
std::optional<json> ephemeralMetadataPatch(const json& rs,
                                           const std::optional<spec::PodTemplateMetadata>& desired);
// The merge patch that does the same to a Pod of that ReplicaSet given what the ReplicaSet
// recorded before (`injected`), without reading the Pod (idempotent); nullopt when there is
// nothing to set or take off.
std::optional<json> podMetadataPatch(const std::optional<spec::PodTemplateMetadata>& injected,
                                     const std::optional<spec::PodTemplateMetadata>& desired);

// Whether `key` ("namespace/name") is named as a controller names what it makes for the owner
// `ownerKey` ("namespace/owner"): "namespace/owner-SUFFIX" with no '-' in SUFFIX — Argo's
// ReplicaSet <rollout>-<hash>, the ReplicaSet controller's Pod <replicaset>-<random>. The driver
// finds such objects by name among the keys, and keeps an index only of the others.
bool namedAfter(std::string_view key, std::string_view ownerKey);

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

// The Pods of a ReplicaSet whose ephemeral metadata changed at `changedAt` that may still carry
// the old (created no later than then, with a second's slack: the server's times are whole
// seconds) and are not in `patched`; their names. Pods created later have the new template's.
std::vector<std::string> podsToRelabel(const std::vector<json>& pods, Time changedAt,
                                       const std::set<std::string>& patched);

// Merge patches of a ReplicaSet (scalePatch: of a Deployment too).
json scalePatch(int32_t replicas);
// The ReplicaSet at `replicas` with desired-replicas `rolloutReplicas` (negative: left as it
// is); nullopt when it has both already.
std::optional<json> replicaSetScalePatch(const json& rs, int32_t replicas, int32_t rolloutReplicas);
// Renumbers the ReplicaSet (a rollback to it), keeping its old number in revision-history as
// Argo does ("1,3": the numbers it had, oldest first).
json revisionPatch(const json& rs, int64_t revision);
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
