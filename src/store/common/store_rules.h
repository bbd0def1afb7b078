#pragma once

// The rules every StateStore implementation shares, written once: argument validation, the
// compare-and-swap decision, the lease state machine, and the delivery of changes to listeners.
// An implementation does its own storage and calls these to decide and to notify.
//
// Threading: the free functions are pure. ChangeNotifier is thread-safe (see below).

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ramp/store/state_store.h"

namespace ramp::store {

// kInvalidArgument if kind or name is empty.
Status validateKey(const ObjectKey& key);

// Validates one op of a write batch (key, json non-empty for puts, expectedVersion >= 0, and
// > 0 for deletes).
Status validateOp(const WriteOp& op);

// The CAS decision for `op` given the object's current version (nullopt = absent). Returns ok
// if the op may be applied, otherwise kAlreadyExists / kConflict / kNotFound naming the key.
Status checkVersion(const WriteOp& op, std::optional<int64_t> currentVersion);

// Prefixes an error's message with "op <i>: " (batch errors).
Error opError(size_t index, Error error);

// An event needs an object key with a kind and a name, and a reason (kInvalidArgument naming
// the object otherwise). Its id, count, firstTime and replaces are the store's and not checked.
Status validateEvent(const Event& event);
// Validates every event of a batch; the error message is prefixed "event <i>: ".
Status validateEvents(std::span<const Event> events);
// A query's limit must be positive and its object key, if any, valid (kInvalidArgument).
Status validateEventQuery(const EventQuery& query);

// Whether `next` repeats `newest` (the newest stored event about the same object): the same
// object, type, reason, message, evidence and actor. Time and the store's fields do not count.
bool repeatsEvent(const Event& newest, const Event& next);

// What a store stores for `next` (id left to the store): `next` counted once, or, when it repeats
// `newest`, folded into it (count + 1, newest's firstTime, replaces newest's id).
Event eventToStore(const Event* newest, const Event& next);

// changesSince's arguments: revision >= 0 and limit > 0 (kInvalidArgument otherwise).
Status validateChangesSince(int64_t revision, int64_t limit);

// The audit log's rules. validateAuditQuery: limit > 0, fromIndex >= 0, a valid object key.
Status validateAuditQuery(const AuditQuery& query);
// The compare-and-swap of audit records: the events with an audit entry that is not appended
// already (auditAppended) must name indexes size, size + 1, … in order. kFailedPrecondition
// naming the event otherwise.
Status checkAuditIndexes(std::span<const Event> events, int64_t size);
// Whether `checkpoint` may follow the newest stored one (`lastSize`, 0 if none) over a log of
// `records` records: kInvalidArgument for an empty note or root hash, kFailedPrecondition unless
// lastSize < size <= records.
Status checkAuditCheckpoint(const AuditCheckpoint& checkpoint, int64_t lastSize, int64_t records);

// The "too old" / "ahead of the store" check of changesSince(): `compacted` is the highest
// revision whose change was dropped (0 if none), `current` the store's revision.
Status checkWatchWindow(int64_t revision, int64_t compacted, int64_t current);

// The lease state machine. `current` is the stored lease (nullopt = never existed). On success
// returns the lease to store.
Result<Lease> decideAcquire(const std::optional<Lease>& current, const std::string& name,
                            const std::string& holder, Duration ttl, Time now);
Result<Lease> decideRenew(const std::optional<Lease>& current, const std::string& name,
                          const std::string& holder, Duration ttl, Time now);
Result<Lease> decideRelease(const std::optional<Lease>& current, const std::string& name,
                            const std::string& holder, Time now);

// Fans committed changes out to listeners, in revision order, outside the store's write lock.
//
// A writer calls enqueue() while it still holds its write lock (so the pending queue is in
// revision order), releases the lock, then calls deliver(). deliver() runs under a delivery
// mutex and drains everything pending, so concurrent writers never reorder changes. unsubscribe
// takes the delivery mutex too, so when it returns the listener is not running.
class ChangeNotifier {
 public:
  int64_t subscribe(ChangeListener listener);
  void unsubscribe(int64_t id);

  // True if anyone listens (writers skip copying changes when nobody does).
  bool hasListeners() const;

  // Queues changes for delivery. Call with the store's write lock held.
  void enqueue(std::vector<Change> changes);

  // Delivers all queued changes. Call with no store lock held.
  void deliver();

 private:
  mutable std::mutex pendingMu_;  // guards pending_ and listeners_ membership snapshot
  std::deque<Change> pending_;
  std::mutex deliveryMu_;  // held while listeners run
  std::map<int64_t, ChangeListener> listeners_;
  int64_t nextId_ = 1;
};

}  // namespace ramp::store
