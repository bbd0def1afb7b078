#pragma once

// AuditedStateStore: the StateStore the daemon's controller and API write through. It forwards
// every call to the real store, and turns every event of writeWithEvents() and appendEvent()
// into a decision record (audit/statement.h) in a DSSE envelope signed with the daemon's key,
// handed to the store with the event (store::Event::auditEntry) so that the store writes the
// decision, its event and its record in one transaction. checkpoint() appends a signed tree
// head (audit/checkpoint.h) of the records written so far; the daemon calls it periodically and
// when it stops.
//
// Without a key the records and checkpoints are unsigned (docs/audit.md says what that proves).
//
// Records are numbered by the store; the decorator predicts each number (the log's size plus
// the record's place in the batch) so that the signed statement names its own index, and the
// store refuses a record whose number is not its prediction (compare-and-swap: a second writer
// of the same log would be caught, not interleaved). On a transactional store a write with
// events is therefore serialised by the decorator's mutex, records and decision together (the
// store serialises its transactions anyway). On a store that is not transactional (Kubernetes,
// where each append is a request) the records go first, in groups: a writer queues its
// decision, and whichever writer finds no append in flight signs the records of every queued
// decision at consecutive indexes and appends them in one call (appendAuditRecords); then each
// writer writes its own decision, concurrently with the others. The next group forms while an
// append is in flight, so under load many workers' records share one request; during a burst
// of decisions the appending writer may wait a few milliseconds first for more to join
// (GroupCommitOptions).
//
// Threading: every method may be called from any thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "audit/signer.h"
#include "ramp/clock.h"
#include "ramp/store/state_store.h"

namespace ramp::audit {

// The origin line of ramp's checkpoints and the key name of their signatures.
inline constexpr std::string_view kLogOrigin = "ramp.local/audit";

// How the records of several writers' decisions are grouped on a store without transactions.
struct GroupCommitOptions {
  // The writer about to append a group first waits this long, so that the writers busy with
  // their next decisions join it (one request for more records), but only while decisions come
  // in a burst: when the previous group's append ended less than `busyWithin` ago. An isolated
  // decision never waits. 0 = never wait.
  Duration linger{0};
  Duration busyWithin{200};
  Clock* clock = nullptr;  // required when linger > 0: sleepFor() is the wait
};

class AuditedStateStore final : public store::StateStore {
 public:
  // `controllerActor` is the actor name of the controller's events; `environment` the one its
  // records name (ramp serve --environment; "" = none; an object's kEnvironmentAnnotation
  // overrides it). Errors: kUnsupported when `inner` keeps no audit log (the daemon must not run
  // without one) or is not transactional and cannot append records alone; storage errors
  // reading the log's size.
  static Result<std::unique_ptr<AuditedStateStore>> wrap(store::StateStore& inner,
                                                         std::optional<SigningKey> key,
                                                         std::string controllerActor,
                                                         std::string environment = "",
                                                         GroupCommitOptions group = {});

  bool signedRecords() const { return key_.has_value(); }

  // The writes whose records wait for the next group append (0 on a transactional store).
  size_t queuedWrites() const;

  // Appends a checkpoint of every record written so far when there are records no checkpoint
  // covers; does nothing otherwise (without listing the checkpoints when the log has not grown
  // since the last checkpoint this decorator signed or read). Before signing it recomputes the leaf
  // hash of every new record from its envelope: kInternal naming the index when a stored record was
  // altered (the log is not extended over it). On success returns the size of the newest
  // checkpoint.
  Result<int64_t> checkpoint(Time now);

  Result<store::StoredObject> get(const store::ObjectKey& key) override;
  Result<int64_t> put(const store::ObjectKey& key, std::string_view json,
                      int64_t expectedVersion) override;
  Result<int64_t> remove(const store::ObjectKey& key, int64_t expectedVersion) override;
  Result<std::vector<int64_t>> write(std::span<const store::WriteOp> ops) override;
  Result<store::WriteResult> writeWithEvents(std::span<const store::WriteOp> ops,
                                             std::span<const store::Event> events) override;
  Result<store::ObjectList> list(const std::string& kind, const std::string& namespace_) override;
  Result<int64_t> currentRevision() override;
  Result<std::vector<store::Change>> changesSince(int64_t revision, int64_t limit) override;
  int64_t subscribe(store::ChangeListener listener) override;
  void unsubscribe(int64_t id) override;
  Result<int64_t> appendEvent(const store::Event& event) override;
  Result<std::vector<store::Event>> listEvents(const store::EventQuery& query) override;
  Result<store::Lease> acquireLease(const std::string& name, const std::string& holder,
                                    Duration ttl, Time now) override;
  Result<store::Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                                  Time now) override;
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override;
  Result<std::vector<store::AuditRecord>> listAuditRecords(const store::AuditQuery& query) override;
  Result<int64_t> auditSize() override;
  Status appendAuditRecords(std::span<const store::Event> events) override;
  Status appendAuditCheckpoint(const store::AuditCheckpoint& checkpoint) override;
  Result<std::vector<store::AuditCheckpoint>> listAuditCheckpoints() override;
  void repackMemory() override { inner_.repackMemory(); }

 private:
  AuditedStateStore(store::StateStore& inner, std::optional<SigningKey> key,
                    std::string controllerActor, std::string environment, int64_t size,
                    GroupCommitOptions group);
  // One writeWithEvents() call on a store that is not transactional, waiting for its records.
  struct QueuedWrite {
    std::span<const store::WriteOp> ops;
    std::span<const store::Event> events;
    Result<std::vector<store::Event>> recorded;  // its events with their records, or the error
    bool done = false;                           // guarded by queueMu_
  };

  // Signs the records of `events` (numbered from `first`), with the objects' text from `ops`
  // or the store, and for a decision that may change what runs (an apply, a set image, an
  // undo) the object's stored text before it.
  Result<std::vector<store::Event>> recordEvents(std::span<const store::WriteOp> ops,
                                                 std::span<const store::Event> events,
                                                 int64_t first);
  // The transactional path: records and decision in one write, under writeMu_.
  Result<store::WriteResult> writeTogether(std::span<const store::WriteOp> ops,
                                           std::span<const store::Event> events);
  // The path for a store that is not transactional: queue, records first (in a group), then
  // the decision alone.
  Result<store::WriteResult> writeRecordsFirst(std::span<const store::WriteOp> ops,
                                               std::span<const store::Event> events);
  // Appends the records of `group` in one call (appendSigned), and when the store refuses an
  // event as invalid, write by write so that only that write fails.
  void appendGroup(std::span<QueuedWrite* const> group);
  // Signs the records of `writes` at consecutive indexes from next_ and appends them in one
  // call, signing again once when the log grew behind this decorator's back. Sets each write's
  // `recorded`: its events marked auditAppended, or the error (a write whose records cannot be
  // signed fails alone; a failed append fails them all and is returned). Needs writeMu_.
  Status appendSigned(std::span<QueuedWrite* const> writes);

  store::StateStore& inner_;
  const std::optional<SigningKey> key_;
  const std::string controllerActor_;
  const std::string environment_;
  std::mutex writeMu_;               // serialises appends of records (and guards next_)
  int64_t next_;                     // the index the next record takes
  mutable std::mutex queueMu_;       // guards queue_, appending_ and QueuedWrite::done
  std::condition_variable queueCv_;  // signalled when a group append ends
  std::vector<QueuedWrite*> queue_;  // writes waiting for the next group append
  bool appending_ = false;           // a writer is appending a group
  const GroupCommitOptions group_;
  std::optional<Time> lastGroupEnd_;  // guarded by queueMu_: when the last group append ended
  std::mutex checkpointMu_;           // guards frontier_ and covered_
  // The tree of the records checkpointed or read, from their recomputed leaf hashes (a frontier:
  // 32 bytes kept for each record grew without bound).
  TreeFrontier frontier_;
  int64_t covered_ = 0;  // the size of the newest checkpoint signed or read here
};

// The envelope of an unsigned record or a signed one, as the decorator writes it. Exposed for
// tests and for `ramp audit` verification.
Result<std::string> sealRecord(const std::string& statement, const std::optional<SigningKey>& key);

// The note of a checkpoint: signed by `key` under kLogOrigin, or the bare note text without one.
Result<std::string> sealCheckpoint(int64_t size, const Hash& root,
                                   const std::optional<SigningKey>& key);

}  // namespace ramp::audit
