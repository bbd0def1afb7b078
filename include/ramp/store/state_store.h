#pragma once

// StateStore: the durable home of every object ramp manages (Rollouts, AnalysisTemplates,
// AnalysisRuns, …), of the event log and of the leader lease.
//
// Objects are JSON text keyed by (kind, namespace, name). The memory and SQLite stores never
// parse them and give back exactly the text last written. The Kubernetes store keeps each object
// as the custom resource it is, so there the JSON must be the object's manifest as src/spec
// writes it, and what comes back is the API server's copy: the same labels, annotations, spec
// and status, plus the metadata the server owns (uid, resourceVersion, generation,
// creationTimestamp), keys in another order. Every write is compare-and-swap on the object's
// version, so two writers that read the same version cannot both succeed: the loser gets
// kConflict, re-reads and tries again. This is what lets the controller "persist intent, then
// act" safely, and what lets the API reject a stale update.
//
// Revisions. The store keeps one store-wide revision counter. Every put or remove of one object
// takes the next revision, and an object's `version` is the revision of its last write, so
// versions are unique store-wide and increase with time (like a Kubernetes resourceVersion).
// A store starts at revision 0, except the Kubernetes store: it starts at the API server's
// revision when it opened (so its revisions do not go back when a daemon restarts), gives every
// object it found then its resourceVersion as version, and takes the next revision for every
// change after that, its own writes and other clients' alike. Its revision is its own, not the
// server's: one watch per kind cannot order changes of different kinds by resourceVersion, so
// the store orders them as they reach it, one revision each, and keeps each object's
// resourceVersion beside its version for the compare-and-swap (a put sends it; a stale one is
// HTTP 409, kConflict). Two daemons on one cluster number the same changes differently.
// Each write is also recorded in a bounded change log; changesSince() lets a watcher resume
// from the revision it last saw, and subscribe() tells in-process listeners about new changes.
// The change log keeps at least the last `changeLogRetention` revisions; older entries are
// compacted away, and a watcher that asks for them gets kFailedPrecondition ("too old": list
// again and resume from the list's revision), as Kubernetes answers 410 Gone.
//
// Events are an append-only log with their own increasing ids; leases are named, time-bounded
// locks with a holder (leader election). Time is always passed in by the caller: the store never
// reads a clock, so tests are deterministic. (On Kubernetes, events are events.k8s.io/v1 Events
// and leases coordination.k8s.io/v1 Leases; event ids are numbered like revisions.)
//
// Threading: every method is safe to call concurrently from any thread. Each object write is
// atomic (a batch is atomic only on transactional stores: see write()); reads see the latest
// committed state. Listeners registered with subscribe() are
// called after the write commits, outside the store's write lock, one change at a time in
// revision order (see subscribe()). When a write returns, its listeners have run.
//
// Implementations: src/store/memory (tests), src/store/sqlite (the embedded default),
// src/store/kubernetes (Argo's custom resources in the API server). One conformance suite
// (tests/store/) runs against every implementation.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::store {

// Identifies one object. `kind` and `name` are required; `namespace_` is empty for cluster-scoped
// kinds (ClusterAnalysisTemplate).
struct ObjectKey {
  std::string kind;
  std::string namespace_;
  std::string name;

  // "kind/namespace/name" (namespace empty for cluster-scoped kinds: "kind//name"). Used as the
  // work-queue key and in error messages.
  std::string toString() const { return kind + "/" + namespace_ + "/" + name; }

  auto operator<=>(const ObjectKey&) const = default;
  bool operator==(const ObjectKey&) const = default;
};

struct StoredObject {
  ObjectKey key;
  std::string json;     // exactly the text last written
  int64_t version = 0;  // the store revision of the last write of this object; never 0
};

// The objects of one list() call and the store revision they are consistent with: a watcher
// that resumes with changesSince(revision) misses nothing and sees nothing twice.
struct ObjectList {
  std::vector<StoredObject> items;  // sorted by (namespace, name)
  int64_t revision = 0;
};

enum class ChangeType { kPut, kDelete };

// One entry of the change log.
struct Change {
  int64_t revision = 0;
  ChangeType type = ChangeType::kPut;
  ObjectKey key;
  std::string json;  // the object after a put; the last stored text for a delete
};

// One write of a batch (see write()).
struct WriteOp {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  ObjectKey key;
  std::string json;             // kPut only
  int64_t expectedVersion = 0;  // kPut: 0 = must not exist; kDelete: must equal the current one
};

enum class EventType { kNormal, kWarning };

// One entry of the event log: what happened to an object and why, with its evidence.
struct Event {
  int64_t id = 0;  // assigned by the store (increasing); ignored on input
  Time time;
  ObjectKey object;  // the object the event is about
  EventType type = EventType::kNormal;
  std::string reason;    // CamelCase, e.g. "RolloutStepCompleted"
  std::string message;   // human-readable, secrets already redacted
  std::string evidence;  // JSON text (opaque to the store); empty = none
  std::string actor;     // who caused it: "controller", a user name, …
  // Set by the store, ignored on input. An event that repeats the newest event about its object
  // (same type, reason, message, evidence and actor) is folded into it, as Kubernetes counts
  // repeated events: the stored event gets a new id and this time, `count` grows by one,
  // `firstTime` keeps when the first happened, and `replaces` names the id it supersedes (no
  // longer listed), so a watcher replaces that row. A fresh event: count 1, firstTime = time,
  // replaces 0.
  int64_t count = 1;
  Time firstTime;
  int64_t replaces = 0;
  // The audit record of this event (docs/audit.md): when `auditEntry` is non-empty the store
  // appends it to the audit log in the same write as the event (one transaction on
  // transactional stores), so a decision and its record land together or not at all. Opaque to
  // the store. Write-only: listEvents() leaves both empty (listAuditRecords() reads the log).
  std::string auditEntry;     // the record's bytes (a signed DSSE envelope's JSON)
  std::string auditLeafHash;  // the record's leaf hash (hex), as a verifier recomputes it
  // The index the record must take (compare-and-swap, as an object's version: the write fails
  // with kFailedPrecondition, writing nothing on transactional stores, when the log holds
  // another number of records), so a signed record can name its own place in the log.
  int64_t auditIndex = 0;
  // Set by the audit layer on a store that is not transactional when appendAuditRecords() has
  // appended this record already: writeWithEvents() then writes the event (linked to its record
  // by auditIndex) without appending the record again.
  bool auditAppended = false;
  // Where the decision came from and the change it carries out, for its audit record
  // (docs/audit.md, "The decision record"). Write-only and opaque to the store, as auditEntry.
  std::string origin;  // "api", "gitops", "controller"; "" = the controller's, or not said
  std::string change;  // JSON text: the Git change applied ({repo, revision, path, pr, …}), or ""
};

// One record of the audit log: an append-only sequence, never pruned, numbered 0, 1, 2, … in
// the order the store committed them (the leaf indexes of the log's Merkle tree).
struct AuditRecord {
  int64_t index = 0;    // leaf index, assigned by the store
  int64_t eventId = 0;  // the event it was written with
  Time time;            // the event's time
  ObjectKey object;     // the event's object
  std::string leafHash;
  std::string entry;
};

struct AuditQuery {
  std::optional<ObjectKey> object;  // only records about this object; nullopt = all
  int64_t fromIndex = 0;            // only records with index >= fromIndex
  int64_t limit = 1000;             // at most this many, in index order; must be > 0
};

// A signed tree head of the audit log, stored beside it (docs/audit.md).
struct AuditCheckpoint {
  int64_t size = 0;      // the tree's size: records [0, size)
  std::string rootHash;  // hex
  std::string note;      // the signed note (opaque to the store)
  Time time;
};

struct EventQuery {
  std::optional<ObjectKey> object;  // only events about this object; nullopt = all
  int64_t sinceId = 0;              // only events with id > sinceId
  int64_t limit = 1000;             // at most this many, oldest first; must be > 0
};

// A named, time-bounded lock. Held by `holder` until `expiresAt` unless renewed.
struct Lease {
  std::string name;
  std::string holder;  // empty once released
  Time acquiredAt;     // when the current holder took it
  Time renewedAt;      // last acquire or renew
  Time expiresAt;
  int64_t transitions = 0;  // how many times the holder changed

  bool operator==(const Lease&) const = default;
};

// What writeWithEvents() did: one version per op and one id per event, in input order.
struct WriteResult {
  std::vector<int64_t> versions;
  std::vector<int64_t> eventIds;
};

using ChangeListener = std::function<void(const Change&)>;

class StateStore {
 public:
  virtual ~StateStore() = default;

  // --- objects ---

  // On success returns the object. Errors: kNotFound if absent; kInvalidArgument for a key
  // without kind or name; kUnavailable/kInternal if the backing storage fails.
  virtual Result<StoredObject> get(const ObjectKey& key) = 0;

  // Compare-and-swap write. expectedVersion 0 means "create": the object must not exist
  // (kAlreadyExists otherwise). Any other value must equal the object's current version
  // (kConflict otherwise, also when the object no longer exists). On success returns the new
  // version (the revision of this write) and records a kPut change. kInvalidArgument for a key
  // without kind or name, empty json, or a negative expectedVersion (on Kubernetes also for a
  // kind it does not serve, a namespace on a cluster-scoped kind or none on a namespaced one,
  // and json that is not an object). On Kubernetes a put that changes nothing returns the
  // current version and records no change, and a put that changes both the spec and the status
  // of a kind with a status subresource (Rollout) is two requests, the object then /status: if
  // the second fails, the first stays written and the error is returned.
  virtual Result<int64_t> put(const ObjectKey& key, std::string_view json,
                              int64_t expectedVersion) = 0;

  // Compare-and-swap delete: expectedVersion must equal the current version. On success returns
  // the revision of the delete and records a kDelete change carrying the last stored JSON.
  // Errors: kNotFound if absent, kConflict if the version differs, kInvalidArgument as put().
  virtual Result<int64_t> remove(const ObjectKey& key, int64_t expectedVersion) = 0;

  // Applies ops in order. What every store guarantees (a store without multi-object
  // transactions, such as one on the Kubernetes API, gives no more; see
  // store/common/sequential_writes.h):
  //   - every op is validated before any is applied: kInvalidArgument writes nothing;
  //   - each op is one compare-and-swap put() or remove() of one object, applied in op order;
  //     an op may build on an earlier op of the same batch (put v0, then put with the version
  //     it returned);
  //   - the first failing op stops the batch: it and every later op are not applied, and its
  //     error is returned with the message prefixed "op <i>: ". The ops before it MAY have been
  //     applied: on error the caller re-reads before deciding again;
  //   - on success returns each op's new version, increasing in op order.
  // Transactional stores (memory, SQLite; they derive from store/common/batch_state_store.h)
  // also apply the batch atomically: on error nothing is written, and op i takes revision
  // (first + i). Only throughput may rely on that (one commit for many writes), never
  // correctness.
  //
  // What the controller relies on, so that it stays correct one object at a time: every
  // prefix of its batch is a state the next reconcile handles. It reads back after any error;
  // its follow-ups are idempotent (AnalysisRun names are deterministic and creates are put v0;
  // a run the status does not name is terminated and collected); and an object another op
  // refers to must come before it in the batch (an AnalysisRun create before the Rollout status
  // that names it: a status naming a run that was never written waits on it forever). The
  // controller's batches create AnalysisRuns first, then write the Rollout status, then
  // terminate and delete runs; under a backlog it groups several Rollouts' batches into one
  // write only on a transactional store (transactional()).
  virtual Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) = 0;

  // write() plus appendEvent() of every event, after the ops: an event is never stored for an
  // op that was not applied. On success returns the versions and the event ids. Errors: as
  // write() (no event is stored), an invalid event is kInvalidArgument with the message
  // prefixed "event <i>: " (nothing is written), and a failing append after every op applied
  // returns its error prefixed "event <i>: " (the ops and earlier events stay). Transactional
  // stores write the ops and the events in one transaction, together or not at all.
  virtual Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                              std::span<const Event> events) = 0;

  // True when write() and writeWithEvents() apply a batch in one transaction (memory, SQLite);
  // false for a store that writes one object at a time (Kubernetes).
  virtual bool transactional() const { return true; }

  // Lists every object of `kind` in `namespace_` ("" = every namespace), sorted by (namespace,
  // name), with the revision the list is consistent with. Errors: kInvalidArgument for an empty
  // kind; storage errors as get().
  virtual Result<ObjectList> list(const std::string& kind, const std::string& namespace_) = 0;

  // --- revisions and watch ---

  // On success returns the revision of the latest write (0 for an empty store; on Kubernetes
  // the revision the store started at, until something changes).
  virtual Result<int64_t> currentRevision() = 0;

  // Returns the changes with revision > `revision`, oldest first, at most `limit` (> 0) of them.
  // An empty vector means the caller is up to date. Errors: kFailedPrecondition ("too old") if
  // some change after `revision` has been compacted away, or if `revision` is ahead of the store
  // (the store was replaced): the caller must list again. kInvalidArgument for limit <= 0 or a
  // negative revision. On Kubernetes the changes are those the store saw through its watches
  // (one per kind) and its own writes, in the order they reached it; revisions before the one
  // it started at are "too old", and a watch that the API server ends with 410 Gone is listed
  // again, its differences recorded as changes (deletes for objects that vanished).
  virtual Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) = 0;

  // Registers a listener for every change committed after this call (by this process; writes by
  // another process sharing a SQLite file are seen only through changesSince()). The listener
  // runs on the writing thread right after the commit, with no store lock held, one change at a
  // time in revision order. It must be quick and must not block: hand the change to a queue
  // (e.g. the controller's work queue). It may read the store but must not write to it or call
  // subscribe/unsubscribe (that would deadlock). Returns an id for unsubscribe().
  virtual int64_t subscribe(ChangeListener listener) = 0;

  // Removes a listener. When this returns, the listener is not running and will not run again,
  // so the caller may destroy what it captures. Unknown ids are ignored.
  virtual void unsubscribe(int64_t id) = 0;

  // --- events ---

  // Appends `event` (its id, count, firstTime and replaces are ignored), folding it into the
  // newest event about the same object when it repeats it (see Event). On success returns the
  // assigned id (greater than every earlier id). The log keeps at least the most recent
  // `eventRetention` events; older ones may be dropped (store.kubernetes keeps what the API
  // server keeps). Errors: kInvalidArgument if the object key has
  // no kind or name or reason is empty.
  virtual Result<int64_t> appendEvent(const Event& event) = 0;

  // Returns events matching `query`, oldest first. Errors: kInvalidArgument for limit <= 0.
  virtual Result<std::vector<Event>> listEvents(const EventQuery& query) = 0;

  // --- leases ---

  // Takes lease `name` for `holder` until now + ttl if it is free, expired (now >= expiresAt),
  // or already held by `holder` (which then renews it). On success returns the lease.
  // Errors: kConflict if another holder's lease is still valid (the message names the holder
  // and the expiry); kInvalidArgument for an empty name or holder or ttl <= 0.
  virtual Result<Lease> acquireLease(const std::string& name, const std::string& holder,
                                     Duration ttl, Time now) = 0;

  // Extends a valid lease held by `holder` to now + ttl. On success returns the lease.
  // Errors: kNotFound if the lease never existed; kConflict if another holder has it;
  // kFailedPrecondition if holder's lease has expired or was released (it must stop acting as
  // leader and acquire again); kInvalidArgument as acquireLease().
  virtual Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                                   Time now) = 0;

  // Gives up a lease held by `holder` so another can take it at once. Idempotent for a lease
  // already released. Errors: kNotFound if it never existed; kConflict if another holder
  // has it.
  virtual Status releaseLease(const std::string& name, const std::string& holder, Time now) = 0;

  // --- the audit log (records are appended by writeWithEvents/appendEvent: see Event) ---
  //
  // A store that keeps no audit log (the defaults) answers kUnsupported to each of these; the
  // audit layer (src/audit/audited_store.h) refuses to start on such a store rather than drop
  // records.

  // Returns the records matching `query`, in index order. Errors: kInvalidArgument for
  // limit <= 0 or a negative fromIndex.
  virtual Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query);

  // The number of records (the next record's index).
  virtual Result<int64_t> auditSize();

  // Appends the records of `events` (those with an auditEntry, not marked auditAppended), at the
  // indexes they name, ahead of their decisions: on a store that is not transactional the audit
  // layer appends the records of several writers' decisions in one call, then writes each
  // decision with writeWithEvents(), its events marked auditAppended. A record whose decision then
  // fails to land stays (the log may name a decision that was attempted, never miss one that
  // landed). An empty `events` writes nothing and tells whether the store supports this. Errors:
  // kFailedPrecondition as writeWithEvents() when the indexes do not follow the log's size;
  // kInvalidArgument for an invalid event; storage errors. Transactional stores need not support it
  // (kUnsupported).
  virtual Status appendAuditRecords(std::span<const Event> events);

  // Appends a checkpoint. Errors: kInvalidArgument for an empty note or root hash;
  // kFailedPrecondition unless size is greater than the newest checkpoint's and at most
  // auditSize() (a checkpoint never shrinks the log nor covers records that do not exist).
  virtual Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint);

  // Every checkpoint, oldest (smallest) first.
  virtual Result<std::vector<AuditCheckpoint>> listAuditCheckpoints();

  // --- memory ---

  // Makes the store's in-memory caches again, each object allocated anew in a row, so that the
  // memory a burst of writes left partly used can be given back (common/repack_buffer.h). The
  // controller calls it once it has been quiet for a while after much work
  // (ControllerOptions::repackAfter); what the store holds and answers is the same after it.
  // Costs about a copy of the caches, under the store's lock. A store without such caches does
  // nothing (the default); a store that wraps another passes it on.
  virtual void repackMemory() {}
};

inline Result<std::vector<AuditRecord>> StateStore::listAuditRecords(const AuditQuery&) {
  return makeError(ErrorCode::kUnsupported, "this state store keeps no audit log");
}
inline Result<int64_t> StateStore::auditSize() {
  return makeError(ErrorCode::kUnsupported, "this state store keeps no audit log");
}
inline Status StateStore::appendAuditRecords(std::span<const Event>) {
  return makeError(ErrorCode::kUnsupported, "this state store does not append audit records alone");
}
inline Status StateStore::appendAuditCheckpoint(const AuditCheckpoint&) {
  return makeError(ErrorCode::kUnsupported, "this state store keeps no audit log");
}
inline Result<std::vector<AuditCheckpoint>> StateStore::listAuditCheckpoints() {
  return makeError(ErrorCode::kUnsupported, "this state store keeps no audit log");
}

// Retention defaults shared by the implementations.
inline constexpr int64_t kDefaultChangeLogRetention = 10'000;
inline constexpr int64_t kDefaultEventRetention = 100'000;

}  // namespace ramp::store
