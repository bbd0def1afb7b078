#include "store/common/store_rules.h"

#include <string>

namespace ramp::store {
namespace {

std::string formatTime(Time t) { return std::to_string(t.time_since_epoch().count()) + "ms"; }

}  // namespace

Status validateKey(const ObjectKey& key) {
  if (key.kind.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "object key " + key.toString() + ": empty kind");
  }
  if (key.name.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "object key " + key.toString() + ": empty name");
  }
  return {};
}

Status validateOp(const WriteOp& op) {
  if (auto s = validateKey(op.key); !s) return s;
  if (op.expectedVersion < 0) {
    return makeError(
        ErrorCode::kInvalidArgument,
        op.key.toString() + ": negative expected version " + std::to_string(op.expectedVersion));
  }
  if (op.type == WriteOp::Type::kPut && op.json.empty()) {
    return makeError(ErrorCode::kInvalidArgument, op.key.toString() + ": empty JSON");
  }
  if (op.type == WriteOp::Type::kDelete && op.expectedVersion == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     op.key.toString() + ": delete needs the current version");
  }
  return {};
}

Status checkVersion(const WriteOp& op, std::optional<int64_t> currentVersion) {
  const std::string k = op.key.toString();
  if (op.type == WriteOp::Type::kPut) {
    if (op.expectedVersion == 0) {
      if (currentVersion) {
        return makeError(ErrorCode::kAlreadyExists,
                         k + " already exists (version " + std::to_string(*currentVersion) + ")");
      }
      return {};
    }
    if (!currentVersion) {
      return makeError(ErrorCode::kConflict, k + " expected version " +
                                                 std::to_string(op.expectedVersion) +
                                                 " but the object does not exist");
    }
  } else if (!currentVersion) {
    return makeError(ErrorCode::kNotFound, k + " not found");
  }
  if (*currentVersion != op.expectedVersion) {
    return makeError(ErrorCode::kConflict, k + " is at version " + std::to_string(*currentVersion) +
                                               ", expected " + std::to_string(op.expectedVersion));
  }
  return {};
}

Error opError(size_t index, Error error) {
  error.message = "op " + std::to_string(index) + ": " + error.message;
  return error;
}

Status validateEvent(const Event& event) {
  if (auto s = validateKey(event.object); !s) {
    return makeError(ErrorCode::kInvalidArgument, "event: " + s.error().message);
  }
  if (event.reason.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "event about " + event.object.toString() + ": empty reason");
  }
  if (event.auditEntry.empty() != event.auditLeafHash.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "event about " + event.object.toString() +
                         ": an audit record needs both its entry and its leaf hash");
  }
  return {};
}

Status validateAuditQuery(const AuditQuery& query) {
  if (query.limit <= 0 || query.fromIndex < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "audit query: limit must be > 0 and fromIndex >= 0, got limit " +
                         std::to_string(query.limit) + ", fromIndex " +
                         std::to_string(query.fromIndex));
  }
  if (query.object) {
    if (auto s = validateKey(*query.object); !s) return s;
  }
  return {};
}

Status checkAuditIndexes(std::span<const Event> events, int64_t size) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].auditEntry.empty() || events[i].auditAppended) continue;
    if (events[i].auditIndex != size) {
      return makeError(ErrorCode::kFailedPrecondition,
                       "event " + std::to_string(i) + ": its audit record claims index " +
                           std::to_string(events[i].auditIndex) + " but the audit log has " +
                           std::to_string(size) +
                           " records (another writer appended to it); nothing was written");
    }
    ++size;
  }
  return {};
}

Status checkAuditCheckpoint(const AuditCheckpoint& checkpoint, int64_t lastSize, int64_t records) {
  if (checkpoint.note.empty() || checkpoint.rootHash.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "audit checkpoint of size " +
                                                      std::to_string(checkpoint.size) +
                                                      ": empty note or root hash");
  }
  if (checkpoint.size <= lastSize || checkpoint.size > records) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "audit checkpoint of size " + std::to_string(checkpoint.size) +
                         " must cover more than the newest checkpoint (" +
                         std::to_string(lastSize) + ") and at most the log's " +
                         std::to_string(records) + " records");
  }
  return {};
}

bool repeatsEvent(const Event& newest, const Event& next) {
  return newest.object == next.object && newest.type == next.type && newest.reason == next.reason &&
         newest.message == next.message && newest.evidence == next.evidence &&
         newest.actor == next.actor;
}

Event eventToStore(const Event* newest, const Event& next) {
  Event out = next;
  out.id = 0;
  out.origin.clear();  // write-only: for the audit record only (state_store.h)
  out.change.clear();
  if (newest != nullptr && repeatsEvent(*newest, next)) {
    out.count = newest->count + 1;
    out.firstTime = newest->firstTime;
    out.replaces = newest->id;
  } else {
    out.count = 1;
    out.firstTime = next.time;
    out.replaces = 0;
  }
  return out;
}

Status validateEvents(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (auto s = validateEvent(events[i]); !s) {
      return makeError(s.error().code, "event " + std::to_string(i) + ": " + s.error().message);
    }
  }
  return {};
}

Status validateEventQuery(const EventQuery& query) {
  if (query.limit <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "event query: limit must be > 0, got " + std::to_string(query.limit));
  }
  if (query.object) {
    if (auto s = validateKey(*query.object); !s) return s;
  }
  return {};
}

Status validateChangesSince(int64_t revision, int64_t limit) {
  if (revision < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "changesSince: negative revision " + std::to_string(revision));
  }
  if (limit <= 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "changesSince: limit must be > 0, got " + std::to_string(limit));
  }
  return {};
}

Status checkWatchWindow(int64_t revision, int64_t compacted, int64_t current) {
  if (revision < compacted) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "too old: revision " + std::to_string(revision) +
                         " has been compacted (oldest resumable revision is " +
                         std::to_string(compacted) + "); list again");
  }
  if (revision > current) {
    return makeError(ErrorCode::kFailedPrecondition, "revision " + std::to_string(revision) +
                                                         " is ahead of the store (at " +
                                                         std::to_string(current) + "); list again");
  }
  return {};
}

namespace {

Status validateLeaseArgs(const std::string& name, const std::string& holder,
                         std::optional<Duration> ttl) {
  if (name.empty()) return makeError(ErrorCode::kInvalidArgument, "lease: empty name");
  if (holder.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "lease " + name + ": empty holder");
  }
  if (ttl && ttl->count() <= 0) {
    return makeError(ErrorCode::kInvalidArgument, "lease " + name + ": ttl must be > 0, got " +
                                                      std::to_string(ttl->count()) + "ms");
  }
  return {};
}

bool heldBySomeoneValid(const Lease& l, Time now) { return !l.holder.empty() && now < l.expiresAt; }

}  // namespace

Result<Lease> decideAcquire(const std::optional<Lease>& current, const std::string& name,
                            const std::string& holder, Duration ttl, Time now) {
  if (auto s = validateLeaseArgs(name, holder, ttl); !s) return std::unexpected(s.error());
  if (current && current->holder == holder && now < current->expiresAt) {
    Lease l = *current;  // already ours: renew
    l.renewedAt = now;
    l.expiresAt = now + ttl;
    return l;
  }
  if (current && heldBySomeoneValid(*current, now)) {
    return makeError(ErrorCode::kConflict, "lease " + name + " is held by " + current->holder +
                                               " until " + formatTime(current->expiresAt));
  }
  Lease l;
  l.name = name;
  l.holder = holder;
  l.acquiredAt = now;
  l.renewedAt = now;
  l.expiresAt = now + ttl;
  l.transitions = current ? current->transitions + (current->holder != holder ? 1 : 0) : 0;
  return l;
}

Result<Lease> decideRenew(const std::optional<Lease>& current, const std::string& name,
                          const std::string& holder, Duration ttl, Time now) {
  if (auto s = validateLeaseArgs(name, holder, ttl); !s) return std::unexpected(s.error());
  if (!current) return makeError(ErrorCode::kNotFound, "lease " + name + " does not exist");
  if (current->holder != holder && heldBySomeoneValid(*current, now)) {
    return makeError(ErrorCode::kConflict, "lease " + name + " is held by " + current->holder);
  }
  if (current->holder != holder || now >= current->expiresAt) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "lease " + name + " held by " + holder + " expired at " +
                         formatTime(current->expiresAt) + " or was released; acquire it again");
  }
  Lease l = *current;
  l.renewedAt = now;
  l.expiresAt = now + ttl;
  return l;
}

Result<Lease> decideRelease(const std::optional<Lease>& current, const std::string& name,
                            const std::string& holder, Time now) {
  if (auto s = validateLeaseArgs(name, holder, std::nullopt); !s) {
    return std::unexpected(s.error());
  }
  if (!current) return makeError(ErrorCode::kNotFound, "lease " + name + " does not exist");
  if (current->holder.empty()) return *current;  // already released
  if (current->holder != holder) {
    if (heldBySomeoneValid(*current, now)) {
      return makeError(ErrorCode::kConflict, "lease " + name + " is held by " + current->holder);
    }
    return *current;  // someone else's expired lease: nothing of ours to release
  }
  Lease l = *current;
  l.holder.clear();
  l.expiresAt = now;
  return l;
}

int64_t ChangeNotifier::subscribe(ChangeListener listener) {
  std::lock_guard delivery(deliveryMu_);
  std::lock_guard lock(pendingMu_);
  int64_t id = nextId_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ChangeNotifier::unsubscribe(int64_t id) {
  std::lock_guard delivery(deliveryMu_);
  std::lock_guard lock(pendingMu_);
  listeners_.erase(id);
}

bool ChangeNotifier::hasListeners() const {
  std::lock_guard lock(pendingMu_);
  return !listeners_.empty();
}

void ChangeNotifier::enqueue(std::vector<Change> changes) {
  std::lock_guard lock(pendingMu_);
  if (listeners_.empty()) return;
  for (auto& c : changes) pending_.push_back(std::move(c));
}

void ChangeNotifier::deliver() {
  std::lock_guard delivery(deliveryMu_);
  std::deque<Change> batch;
  {
    std::lock_guard lock(pendingMu_);
    batch.swap(pending_);
  }
  // listeners_ changes only under deliveryMu_, which we hold, so iterating it is safe.
  for (const Change& c : batch) {
    for (auto& [id, listener] : listeners_) listener(c);
  }
}

}  // namespace ramp::store
