#include "audit/audited_store.h"

#include <map>

#include "audit/checkpoint.h"
#include "audit/dsse.h"
#include "audit/statement.h"

namespace ramp::audit {

using store::Event;
using store::WriteOp;

Result<std::string> sealRecord(const std::string& statement, const std::optional<SigningKey>& key) {
  if (!key) return encodeEnvelope(Envelope{std::string(kInTotoPayloadType), statement, {}});
  auto envelope = signEnvelope(kInTotoPayloadType, statement, *key);
  if (!envelope) return std::unexpected(envelope.error());
  return encodeEnvelope(*envelope);
}

Result<std::string> sealCheckpoint(int64_t size, const Hash& root,
                                   const std::optional<SigningKey>& key) {
  Checkpoint c{std::string(kLogOrigin), static_cast<uint64_t>(size), root};
  if (!key) return checkpointText(c);
  return signCheckpoint(c, kLogOrigin, *key);
}

Result<std::unique_ptr<AuditedStateStore>> AuditedStateStore::wrap(store::StateStore& inner,
                                                                   std::optional<SigningKey> key,
                                                                   std::string controllerActor,
                                                                   std::string environment,
                                                                   GroupCommitOptions group) {
  if (group.linger.count() > 0 && group.clock == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, "audit log: a group linger needs a clock");
  }
  auto size = inner.auditSize();
  if (!size) {
    return makeError(size.error().code, "audit log: " + size.error().message);
  }
  if (!inner.transactional()) {
    if (auto s = inner.appendAuditRecords({}); !s) {
      return makeError(s.error().code, "audit log: " + s.error().message);
    }
  }
  return std::unique_ptr<AuditedStateStore>(new AuditedStateStore(
      inner, std::move(key), std::move(controllerActor), std::move(environment), *size, group));
}

AuditedStateStore::AuditedStateStore(store::StateStore& inner, std::optional<SigningKey> key,
                                     std::string controllerActor, std::string environment,
                                     int64_t size, GroupCommitOptions group)
    : inner_(inner),
      key_(std::move(key)),
      controllerActor_(std::move(controllerActor)),
      environment_(std::move(environment)),
      next_(size),
      group_(group) {}

namespace {

// The stored text of `key`; nullopt when it does not exist.
Result<std::optional<std::string>> storedText(store::StateStore& store,
                                              const store::ObjectKey& key) {
  auto stored = store.get(key);
  if (stored) return std::optional(std::move(stored->json));
  if (stored.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
  return std::unexpected(stored.error());
}

// Whether a decision of this action may change what the object runs.
bool changesWhatRuns(const std::string& action) {
  return action == "apply" || action == "set-image" || action == "rollback";
}

}  // namespace

Result<std::vector<Event>> AuditedStateStore::recordEvents(std::span<const WriteOp> ops,
                                                           std::span<const Event> events,
                                                           int64_t first) {
  // The object text each event explains: the batch's last write of it, else the stored text.
  std::map<store::ObjectKey, std::optional<std::string>> after;
  for (const WriteOp& op : ops) {
    after[op.key] = op.type == WriteOp::Type::kPut ? std::optional(op.json) : std::nullopt;
  }
  std::map<store::ObjectKey, std::optional<std::string>> before;  // read once per object
  std::vector<Event> out(events.begin(), events.end());
  int64_t index = first;
  for (Event& e : out) {
    DecisionContext context;
    context.environment = environment_;
    context.controllerActor = controllerActor_;
    auto it = after.find(e.object);
    if (it == after.end()) {
      auto text = storedText(inner_, e.object);
      if (!text) return std::unexpected(text.error());
      it = after.emplace(e.object, std::move(*text)).first;
    } else if (changesWhatRuns(decisionAction(e.reason))) {
      auto b = before.find(e.object);
      if (b == before.end()) {
        auto text = storedText(inner_, e.object);
        if (!text) return std::unexpected(text.error());
        b = before.emplace(e.object, std::move(*text)).first;
      }
      context.previous = b->second;
    }
    context.object = it->second;
    auto sealed = sealRecord(decisionStatement(e, index, context), key_);
    if (!sealed) return std::unexpected(sealed.error());
    e.auditLeafHash = toHex(leafHash(*sealed));
    e.auditEntry = std::move(*sealed);
    e.auditIndex = index++;
  }
  return out;
}

Result<store::WriteResult> AuditedStateStore::writeWithEvents(std::span<const WriteOp> ops,
                                                              std::span<const Event> events) {
  if (events.empty()) return inner_.writeWithEvents(ops, events);
  return inner_.transactional() ? writeTogether(ops, events) : writeRecordsFirst(ops, events);
}

Result<store::WriteResult> AuditedStateStore::writeTogether(std::span<const WriteOp> ops,
                                                            std::span<const Event> events) {
  std::lock_guard lock(writeMu_);
  // A failed compare-and-swap of the records means the log grew behind this decorator's back:
  // read its size and sign again, once.
  for (int attempt = 0;; ++attempt) {
    auto recorded = recordEvents(ops, events, next_);
    if (!recorded) return std::unexpected(recorded.error());
    auto written = inner_.writeWithEvents(ops, *recorded);
    if (written) {
      next_ += static_cast<int64_t>(events.size());
      return written;
    }
    auto size = inner_.auditSize();
    if (!size) return std::unexpected(written.error());
    const bool moved = *size != next_;
    next_ = *size;
    if (!moved || attempt > 0 || written.error().code != ErrorCode::kFailedPrecondition) {
      return written;
    }
  }
}

Result<store::WriteResult> AuditedStateStore::writeRecordsFirst(std::span<const WriteOp> ops,
                                                                std::span<const Event> events) {
  QueuedWrite mine{ops, events, std::vector<Event>{}};
  {
    std::unique_lock lock(queueMu_);
    queue_.push_back(&mine);
    while (!mine.done) {
      if (appending_) {
        queueCv_.wait(lock);
        continue;
      }
      // No append in flight: this writer appends everything queued, its own write included.
      appending_ = true;
      if (group_.linger.count() > 0 && lastGroupEnd_ &&
          group_.clock->now() - *lastGroupEnd_ < group_.busyWithin) {
        // A burst: the other workers' next decisions are a few milliseconds away.
        lock.unlock();
        group_.clock->sleepFor(group_.linger);
        lock.lock();
      }
      std::vector<QueuedWrite*> group;
      group.swap(queue_);
      lock.unlock();
      appendGroup(group);
      lock.lock();
      for (QueuedWrite* w : group) w->done = true;
      appending_ = false;
      if (group_.clock != nullptr) lastGroupEnd_ = group_.clock->now();
      queueCv_.notify_all();
    }
  }
  if (!mine.recorded) return std::unexpected(mine.recorded.error());
  return inner_.writeWithEvents(ops, *mine.recorded);
}

void AuditedStateStore::appendGroup(std::span<QueuedWrite* const> group) {
  std::lock_guard lock(writeMu_);
  Status appended = appendSigned(group);
  if (!appended && appended.error().code == ErrorCode::kInvalidArgument && group.size() > 1) {
    // The store refused some write's events: append write by write, so that one fails alone.
    for (QueuedWrite* w : group) (void)appendSigned(std::span(&w, 1));
  }
}

Status AuditedStateStore::appendSigned(std::span<QueuedWrite* const> writes) {
  for (int attempt = 0;; ++attempt) {
    std::vector<Event> records;
    std::vector<QueuedWrite*> signedWrites;
    int64_t index = next_;
    for (QueuedWrite* w : writes) {
      auto recorded = recordEvents(w->ops, w->events, index);
      if (!recorded) {
        w->recorded = std::unexpected(recorded.error());
        continue;
      }
      index += static_cast<int64_t>(recorded->size());
      records.insert(records.end(), recorded->begin(), recorded->end());
      // Its decision's write then links the events to their records without appending again.
      for (Event& e : *recorded) e.auditAppended = true;
      w->recorded = std::move(*recorded);
      signedWrites.push_back(w);
    }
    if (signedWrites.empty()) return {};
    Status appended = inner_.appendAuditRecords(records);
    if (appended) {
      next_ = index;
      return {};
    }
    // As writeTogether: a lost compare-and-swap with a grown log is signed again, once.
    auto size = inner_.auditSize();
    const bool moved = size && *size != next_;
    if (size) next_ = *size;
    if (!moved || attempt > 0 || appended.error().code != ErrorCode::kFailedPrecondition) {
      for (QueuedWrite* w : signedWrites) w->recorded = std::unexpected(appended.error());
      return appended;
    }
  }
}

size_t AuditedStateStore::queuedWrites() const {
  std::lock_guard lock(queueMu_);
  return queue_.size();
}

Result<int64_t> AuditedStateStore::appendEvent(const Event& event) {
  auto r = writeWithEvents({}, std::span(&event, 1));
  if (!r) return std::unexpected(r.error());
  return r->eventIds.front();
}

Result<int64_t> AuditedStateStore::checkpoint(Time now) {
  std::lock_guard lock(checkpointMu_);
  // Idle: no record since the last checkpoint this decorator saw (its own, or one read below),
  // so nothing to list or sign (on store.kubernetes a list request saved every period).
  if (covered_ > 0) {
    auto size = inner_.auditSize();
    if (!size) return std::unexpected(size.error());
    if (*size <= covered_ && *size >= static_cast<int64_t>(frontier_.size())) return covered_;
  }
  // The newest checkpoint: the last one this decorator signed or read (the store refuses one
  // that does not grow past the newest stored; then the next call lists them), else the store's.
  int64_t last = covered_;
  if (last == 0) {
    auto checkpoints = inner_.listAuditCheckpoints();
    if (!checkpoints) return std::unexpected(checkpoints.error());
    last = checkpoints->empty() ? 0 : checkpoints->back().size;
  }
  auto size = inner_.auditSize();
  if (!size) return std::unexpected(size.error());
  if (static_cast<int64_t>(frontier_.size()) > *size) {
    return makeError(ErrorCode::kInternal,
                     "audit log: it holds " + std::to_string(*size) + " records, fewer than the " +
                         std::to_string(frontier_.size()) +
                         " read before; no checkpoint is signed over it (run ramp audit verify)");
  }
  while (static_cast<int64_t>(frontier_.size()) < *size) {
    store::AuditQuery q;
    q.fromIndex = static_cast<int64_t>(frontier_.size());
    q.limit = 1000;
    auto records = inner_.listAuditRecords(q);
    if (!records) return std::unexpected(records.error());
    if (records->empty()) break;
    for (const store::AuditRecord& r : *records) {
      const int64_t want = static_cast<int64_t>(frontier_.size());
      Hash h = leafHash(r.entry);
      if (r.index != want || toHex(h) != r.leafHash) {
        return makeError(ErrorCode::kInternal,
                         "audit log: record " + std::to_string(want) +
                             (r.index != want ? " is missing" : " was altered") +
                             "; no checkpoint is signed over it (run ramp audit verify)");
      }
      frontier_.append(h);
    }
  }
  const auto covered = static_cast<int64_t>(frontier_.size());
  if (covered <= last) {
    covered_ = last;
    return last;
  }
  const Hash root = frontier_.head();
  auto note = sealCheckpoint(covered, root, key_);
  if (!note) return std::unexpected(note.error());
  if (auto s = inner_.appendAuditCheckpoint({covered, toHex(root), *note, now}); !s) {
    covered_ = 0;  // another writer's checkpoint may be newer: list them next time
    return std::unexpected(s.error());
  }
  covered_ = covered;
  return covered;
}

// --- forwarded ---

Result<store::StoredObject> AuditedStateStore::get(const store::ObjectKey& key) {
  return inner_.get(key);
}
Result<int64_t> AuditedStateStore::put(const store::ObjectKey& key, std::string_view json,
                                       int64_t expectedVersion) {
  return inner_.put(key, json, expectedVersion);
}
Result<int64_t> AuditedStateStore::remove(const store::ObjectKey& key, int64_t expectedVersion) {
  return inner_.remove(key, expectedVersion);
}
Result<std::vector<int64_t>> AuditedStateStore::write(std::span<const WriteOp> ops) {
  return inner_.write(ops);
}
Result<store::ObjectList> AuditedStateStore::list(const std::string& kind,
                                                  const std::string& namespace_) {
  return inner_.list(kind, namespace_);
}
Result<int64_t> AuditedStateStore::currentRevision() { return inner_.currentRevision(); }
Result<std::vector<store::Change>> AuditedStateStore::changesSince(int64_t revision,
                                                                   int64_t limit) {
  return inner_.changesSince(revision, limit);
}
int64_t AuditedStateStore::subscribe(store::ChangeListener listener) {
  return inner_.subscribe(std::move(listener));
}
void AuditedStateStore::unsubscribe(int64_t id) { inner_.unsubscribe(id); }
Result<std::vector<Event>> AuditedStateStore::listEvents(const store::EventQuery& query) {
  return inner_.listEvents(query);
}
Result<store::Lease> AuditedStateStore::acquireLease(const std::string& name,
                                                     const std::string& holder, Duration ttl,
                                                     Time now) {
  return inner_.acquireLease(name, holder, ttl, now);
}
Result<store::Lease> AuditedStateStore::renewLease(const std::string& name,
                                                   const std::string& holder, Duration ttl,
                                                   Time now) {
  return inner_.renewLease(name, holder, ttl, now);
}
Status AuditedStateStore::releaseLease(const std::string& name, const std::string& holder,
                                       Time now) {
  return inner_.releaseLease(name, holder, now);
}
Result<std::vector<store::AuditRecord>> AuditedStateStore::listAuditRecords(
    const store::AuditQuery& query) {
  return inner_.listAuditRecords(query);
}
Result<int64_t> AuditedStateStore::auditSize() { return inner_.auditSize(); }
Status AuditedStateStore::appendAuditRecords(std::span<const Event> events) {
  return inner_.appendAuditRecords(events);
}
Status AuditedStateStore::appendAuditCheckpoint(const store::AuditCheckpoint& checkpoint) {
  return inner_.appendAuditCheckpoint(checkpoint);
}
Result<std::vector<store::AuditCheckpoint>> AuditedStateStore::listAuditCheckpoints() {
  return inner_.listAuditCheckpoints();
}

}  // namespace ramp::audit
