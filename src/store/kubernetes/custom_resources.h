#pragma once

// How the Kubernetes store's records look in the API server, as pure functions: which resource
// serves a store kind (argoproj.io/v1alpha1, named by the kind table in spec/kinds.h), the
// custom resource sent for an object (apiVersion, kind, name and namespace from the key, the
// server's own metadata left out, the resourceVersion as the compare-and-swap), which requests a
// write needs when the kind has a status subresource, and the events.k8s.io/v1 Event and
// coordination.k8s.io/v1 Lease that hold the store's events and leases. Nothing here trusts what
// the server sends: a malformed object is an error naming it, never a crash.
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kube/resources.h"
#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::store::kubernetes {

// The label on every Event and Lease the store writes (its informers select on it).
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "ramp";
// Annotations carrying what the Kubernetes objects have no field for.
inline constexpr const char* kEvidenceAnnotation = "store.ramp.dev/evidence";
inline constexpr const char* kActorAnnotation = "store.ramp.dev/actor";
inline constexpr const char* kMessageAnnotation = "store.ramp.dev/message";       // note over 1 KiB
inline constexpr const char* kExpiresAtAnnotation = "store.ramp.dev/expires-at";  // ms, exact
// On an Event whose decision has an audit record (audit_log.h): the record's index.
inline constexpr const char* kAuditIndexAnnotation = "store.ramp.dev/audit-index";
// On every Event the store writes: its id in the store's event log, "ID@BASE", BASE the number
// the store's ids began after (EventMirror::base()); another run of the store has another base,
// so an id is read back only by the run that gave it (eventIdOf).
inline constexpr const char* kEventIdAnnotation = "store.ramp.dev/event-id";
// Argo's controller sharding label (LabelKeyControllerInstanceID, --instance-id): a controller
// with an instance id handles only the objects carrying that value; one without, only the
// objects without the label.
inline constexpr const char* kInstanceIdLabel = "argo-rollouts.argoproj.io/controller-instance-id";
// events.k8s.io/v1 limits (the API server refuses longer values).
inline constexpr size_t kNoteLimit = 1024;
inline constexpr size_t kReasonLimit = 128;

// The resource that holds `kind` ("Rollout" -> rollouts.argoproj.io), or nullopt for a kind
// that is not in spec/kinds.h.
std::optional<kube::ResourceType> resourceFor(std::string_view kind);

// kInvalidArgument unless `key`'s kind is served and its namespace fits the kind's scope
// (empty for cluster-scoped kinds, set for namespaced ones).
Status checkKey(const ObjectKey& key);

// The label selector of an instance's informers (Argo's InstanceIDRequirement):
// "argo-rollouts.argoproj.io/controller-instance-id=ID", or for no id (""),
// "!argo-rollouts.argoproj.io/controller-instance-id". Errors: kInvalidArgument naming
// --instance-id when `instanceId` is not a valid label value.
Result<std::string> instanceSelector(std::string_view instanceId);

// `json` (an object the store is asked to write at `key`) as instance `instanceId` keeps it: with
// an id, labelled kInstanceIdLabel=ID (the label added when absent, so the object stays in this
// store's informers); without one, unchanged. Errors: kInvalidArgument naming the key when the
// object carries the label with another value, or carries it at all while `instanceId` is empty
// (it belongs to another controller instance: written, it would vanish from this store). Text
// that is not a JSON object is returned as it is (customResourceBody refuses it).
Result<std::string> labelForInstance(const ObjectKey& key, std::string_view json,
                                     std::string_view instanceId);

// The custom resource to send for `json` stored at `key`: apiVersion and kind set, metadata.name
// and metadata.namespace from the key, the metadata the server owns (uid, generation,
// creationTimestamp, managedFields, selfLink, deletion fields) left out, and
// metadata.resourceVersion = `resourceVersion` ("" = none, for a create). An update replaces
// the whole object, so what ramp's model does not hold (metadata.finalizers and
// ownerReferences, which src/spec drops) is carried over from `current` (the stored object; ""
// for a create) when `json` has none. Errors: kInvalidArgument naming the key when `json` is
// not a JSON object.
Result<std::string> customResourceBody(const ObjectKey& key, std::string_view json,
                                       std::string_view resourceVersion,
                                       std::string_view current = "");

// What a write of `desired` over the stored `current` sends when the kind has a status
// subresource: `main` (PUT of the object: labels, annotations, spec, any field but status) when
// anything but the status differs, `status` (PUT of /status) when the status differs. Both false:
// nothing changes. Values compare as Kubernetes' omitempty writes them (absent = null = false =
// 0 = "" = {} = []), and of the metadata only labels and annotations count (finalizers and
// ownerReferences are carried over, see customResourceBody). Malformed JSON on either side counts
// as a difference.
struct WritePlan {
  bool main = false;
  bool status = false;
  bool operator==(const WritePlan&) const = default;
};
WritePlan planWrite(std::string_view current, std::string_view desired);

// An object as the API server sent it, as the store keeps it: `json` without
// metadata.managedFields (bulky, and of no use to ramp), and its resourceVersion as a number.
struct ApiObject {
  std::string json;
  int64_t resourceVersion = 0;
  std::string namespace_;
  std::string name;
  bool deleting = false;  // metadata.deletionTimestamp is set (finalizers hold it)
};
// Errors: kParse naming `what` when the text is not an object with metadata.name and a numeric
// metadata.resourceVersion.
Result<ApiObject> decodeApiObject(std::string_view json, std::string_view what);
// A resourceVersion as the number it is. kParse when it is not a non-negative decimal number.
Result<int64_t> parseResourceVersion(std::string_view text);

// An RFC 3339 time with exactly six fractional digits, as a Kubernetes MicroTime must be
// ("2026-01-01T00:00:00.005000Z").
std::string microTime(Time t);

// The name of a new Event about `event.object`, as client-go names one: "<object name>.<16 hex
// digits of `unique`>" (the object's name cut to 200 bytes and to a letter or digit).
std::string eventName(const Event& event, uint64_t unique);
// The events.k8s.io/v1 Event recording `event`, named `name` (eventName), in the object's
// namespace ("default" for a cluster-scoped object), regarding the object, reason (cut to 128
// bytes), note = message (the whole message in an annotation when over 1 KiB), type, eventTime,
// action = reason, reportingController "ramp" and `reportingInstance`, the managed-by label (and
// kInstanceIdLabel=`instanceId` when set), and the evidence and actor in annotations.
// `regardingUid` is the regarding object's metadata.uid ("" = unknown): kubectl describe finds an
// object's events by name, namespace, kind and uid, so an Event without it is not shown there.
// A repeat (count > 1) has eventTime its first time and the series of eventSeriesPatch.
// `event.id` and `idBase`, when id is not 0, go in kEventIdAnnotation.
std::string eventBody(const Event& event, std::string_view name, std::string_view reportingInstance,
                      std::string_view instanceId = "", std::string_view regardingUid = "",
                      int64_t idBase = 0);
// The id an Event's kEventIdAnnotation gives when it was numbered after `idBase` (this run's);
// nullopt when it has none, another base, or a malformed one.
std::optional<int64_t> eventIdOf(std::string_view json, int64_t idBase);
// What the store's own annotations on an Event say, each nullopt when absent or malformed: the
// audit record index (kAuditIndexAnnotation), and the id and the base it was numbered after
// (kEventIdAnnotation). One parse of the Event's text for both.
struct EventStamps {
  std::optional<int64_t> auditIndex;
  std::optional<int64_t> id;
  std::optional<int64_t> idBase;
};
EventStamps eventStampsOf(std::string_view json);
// eventStampsOf(json).auditIndex.
std::optional<int64_t> auditIndexOfEvent(std::string_view json);
// A repeat folded into an existing Event (state_store.h, Event): the merge patch that records it,
// as Kubernetes counts events: series.count = event.count and series.lastObservedTime =
// event.time (the Event's eventTime stays the first time), and the repeat's new id (event.id,
// numbered after `idBase`) in kEventIdAnnotation when event.id is not 0.
std::string eventSeriesPatch(const Event& event, int64_t idBase = 0);
// The namespace eventBody() puts the event in.
std::string eventNamespace(const Event& event);
// The store event an Event object records (id 0, replaces 0): firstTime its eventTime; time and
// count its series' lastObservedTime and count when it has a series (a folded repeat), else
// eventTime and 1. Errors: kParse naming the Event when it lacks regarding.kind/name, reason or a
// readable eventTime.
Result<Event> eventFromApi(std::string_view json);
// StateStore::listEvents answered from the API server's Events (`serverEvents`, their JSON
// texts) and the events the store holds in memory (`held`, by "namespace/name" of their Event
// objects; EventMirror::held): a held event stands for its Event object (it may be newer than the
// server's, or not written yet); any other is numbered by eventIdOf(…, idBase) when this run
// wrote it, else by its resourceVersion (as the events loaded at start are). The events about
// query.object (when set) with ids above query.sinceId, oldest first, at most query.limit. An
// Event that is not readable is left out.
std::vector<Event> mergeEvents(const EventQuery& query,
                               const std::vector<std::string>& serverEvents,
                               std::vector<std::pair<std::string, Event>> held, int64_t idBase);

// The Lease object holding `lease` in `ns` (holderIdentity, acquireTime, renewTime,
// leaseDurationSeconds rounded up to whole seconds, leaseTransitions, the exact expiry in an
// annotation), with metadata.resourceVersion = `resourceVersion` ("" = create).
std::string leaseBody(const Lease& lease, std::string_view ns, std::string_view resourceVersion);
// The store lease a Lease object holds. A Lease another program wrote (client-go's leader
// election: no expiry annotation) expires at renewTime + leaseDurationSeconds. Errors: kParse.
Result<Lease> leaseFromApi(std::string_view json);

}  // namespace ramp::store::kubernetes
