#include "store/memory/memory_state_store.h"

#include <algorithm>

#include "store/common/store_rules.h"

namespace ramp::store {

MemoryStateStore::MemoryStateStore(MemoryStoreOptions options)
    : options_(options), notifier_(std::make_unique<ChangeNotifier>()) {}

MemoryStateStore::~MemoryStateStore() = default;

Result<StoredObject> MemoryStateStore::get(const ObjectKey& key) {
  if (auto s = validateKey(key); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return makeError(ErrorCode::kNotFound, key.toString() + " not found");
  return StoredObject{key, it->second.json, it->second.version};
}

Result<WriteResult> MemoryStateStore::apply(std::span<const WriteOp> ops,
                                            std::span<const Event> events, bool batch) {
  auto fail = [batch](size_t i, Error e) {
    return std::unexpected(batch ? opError(i, std::move(e)) : std::move(e));
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto s = validateOp(ops[i]); !s) return fail(i, s.error());
  }
  if (auto s = validateEvents(events); !s) return std::unexpected(s.error());
  WriteResult result;
  std::vector<int64_t>& versions = result.versions;
  versions.reserve(ops.size());
  {
    std::lock_guard lock(mu_);
    if (auto s = checkAuditIndexes(events, static_cast<int64_t>(audit_.size())); !s) {
      return std::unexpected(s.error());
    }
    // Check the whole batch against an overlay before touching anything: all or nothing.
    std::map<ObjectKey, std::optional<int64_t>> overlay;
    int64_t rev = revision_;
    for (size_t i = 0; i < ops.size(); ++i) {
      const WriteOp& op = ops[i];
      std::optional<int64_t> current;
      if (auto o = overlay.find(op.key); o != overlay.end()) {
        current = o->second;
      } else if (auto it = objects_.find(op.key); it != objects_.end()) {
        current = it->second.version;
      }
      if (auto s = checkVersion(op, current); !s) return fail(i, s.error());
      ++rev;
      overlay[op.key] = op.type == WriteOp::Type::kPut ? std::optional<int64_t>(rev) : std::nullopt;
      versions.push_back(rev);
    }
    const bool notify = notifier_->hasListeners();
    std::vector<Change> fresh;
    for (const WriteOp& op : ops) {
      Change c{++revision_, ChangeType::kPut, op.key, op.json};
      if (op.type == WriteOp::Type::kPut) {
        objects_[op.key] = Entry{op.json, revision_};
      } else {
        auto it = objects_.find(op.key);
        c.type = ChangeType::kDelete;
        c.json = std::move(it->second.json);
        objects_.erase(it);
      }
      if (notify) fresh.push_back(c);
      changes_.push_back(std::move(c));
    }
    while (static_cast<int64_t>(changes_.size()) > options_.changeLogRetention) {
      compacted_ = changes_.front().revision;
      changes_.pop_front();
    }
    for (const Event& event : events) result.eventIds.push_back(appendEventLocked(event));
    if (notify) notifier_->enqueue(std::move(fresh));
  }
  notifier_->deliver();
  return result;
}

Result<ObjectList> MemoryStateStore::list(const std::string& kind, const std::string& namespace_) {
  if (kind.empty()) return makeError(ErrorCode::kInvalidArgument, "list: empty kind");
  ObjectList out;
  std::lock_guard lock(mu_);
  out.revision = revision_;
  auto it = objects_.lower_bound(ObjectKey{kind, namespace_, ""});
  for (; it != objects_.end() && it->first.kind == kind; ++it) {
    if (!namespace_.empty() && it->first.namespace_ != namespace_) break;
    out.items.push_back(StoredObject{it->first, it->second.json, it->second.version});
  }
  return out;
}

Result<int64_t> MemoryStateStore::currentRevision() {
  std::lock_guard lock(mu_);
  return revision_;
}

Result<std::vector<Change>> MemoryStateStore::changesSince(int64_t revision, int64_t limit) {
  if (auto s = validateChangesSince(revision, limit); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  if (auto s = checkWatchWindow(revision, compacted_, revision_); !s) {
    return std::unexpected(s.error());
  }
  std::vector<Change> out;
  // changes_ holds consecutive revisions compacted_+1 .. revision_.
  size_t start = static_cast<size_t>(revision - compacted_);
  for (size_t i = start; i < changes_.size() && static_cast<int64_t>(out.size()) < limit; ++i) {
    out.push_back(changes_[i]);
  }
  return out;
}

int64_t MemoryStateStore::subscribe(ChangeListener listener) {
  return notifier_->subscribe(std::move(listener));
}

void MemoryStateStore::unsubscribe(int64_t id) { notifier_->unsubscribe(id); }

Result<int64_t> MemoryStateStore::appendEvent(const Event& event) {
  if (auto s = validateEvent(event); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  if (auto s = checkAuditIndexes(std::span(&event, 1), static_cast<int64_t>(audit_.size())); !s) {
    return std::unexpected(s.error());
  }
  return appendEventLocked(event);
}

int64_t MemoryStateStore::appendEventLocked(const Event& event) {
  // The newest event about the object, which a repeat folds into (and so removes).
  auto newest = std::find_if(events_.rbegin(), events_.rend(),
                             [&](const Event& e) { return e.object == event.object; });
  Event e = eventToStore(newest == events_.rend() ? nullptr : &*newest, event);
  e.id = nextEventId_++;
  if (!e.auditEntry.empty()) {
    audit_.push_back(AuditRecord{static_cast<int64_t>(audit_.size()), e.id, e.time, e.object,
                                 std::move(e.auditLeafHash), std::move(e.auditEntry)});
    e.auditEntry.clear();
    e.auditLeafHash.clear();
  }
  if (e.replaces != 0) events_.erase(std::next(newest).base());
  events_.push_back(std::move(e));
  while (static_cast<int64_t>(events_.size()) > options_.eventRetention) events_.pop_front();
  return events_.back().id;
}

Result<std::vector<Event>> MemoryStateStore::listEvents(const EventQuery& query) {
  if (auto s = validateEventQuery(query); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  std::vector<Event> out;
  auto it = std::upper_bound(events_.begin(), events_.end(), query.sinceId,
                             [](int64_t id, const Event& e) { return id < e.id; });
  for (; it != events_.end() && static_cast<int64_t>(out.size()) < query.limit; ++it) {
    if (query.object && it->object != *query.object) continue;
    out.push_back(*it);
  }
  return out;
}

Result<std::vector<AuditRecord>> MemoryStateStore::listAuditRecords(const AuditQuery& query) {
  if (auto s = validateAuditQuery(query); !s) return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  std::vector<AuditRecord> out;
  for (size_t i = static_cast<size_t>(std::min<int64_t>(query.fromIndex, audit_.size()));
       i < audit_.size() && static_cast<int64_t>(out.size()) < query.limit; ++i) {
    if (query.object && audit_[i].object != *query.object) continue;
    out.push_back(audit_[i]);
  }
  return out;
}

Result<int64_t> MemoryStateStore::auditSize() {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(audit_.size());
}

Status MemoryStateStore::appendAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  std::lock_guard lock(mu_);
  const int64_t last = checkpoints_.empty() ? 0 : checkpoints_.back().size;
  if (auto s = checkAuditCheckpoint(checkpoint, last, static_cast<int64_t>(audit_.size())); !s) {
    return s;
  }
  checkpoints_.push_back(checkpoint);
  return {};
}

Result<std::vector<AuditCheckpoint>> MemoryStateStore::listAuditCheckpoints() {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

Result<Lease> MemoryStateStore::storeLease(Result<Lease> decided) {
  if (decided) leases_[decided->name] = *decided;
  return decided;
}

Result<Lease> MemoryStateStore::acquireLease(const std::string& name, const std::string& holder,
                                             Duration ttl, Time now) {
  std::lock_guard lock(mu_);
  std::optional<Lease> current;
  if (auto it = leases_.find(name); it != leases_.end()) current = it->second;
  return storeLease(decideAcquire(current, name, holder, ttl, now));
}

Result<Lease> MemoryStateStore::renewLease(const std::string& name, const std::string& holder,
                                           Duration ttl, Time now) {
  std::lock_guard lock(mu_);
  std::optional<Lease> current;
  if (auto it = leases_.find(name); it != leases_.end()) current = it->second;
  return storeLease(decideRenew(current, name, holder, ttl, now));
}

Status MemoryStateStore::releaseLease(const std::string& name, const std::string& holder,
                                      Time now) {
  std::lock_guard lock(mu_);
  std::optional<Lease> current;
  if (auto it = leases_.find(name); it != leases_.end()) current = it->second;
  auto r = storeLease(decideRelease(current, name, holder, now));
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace ramp::store
