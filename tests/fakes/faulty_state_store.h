#pragma once

// FaultyStateStore: a StateStore decorator for tests that makes chosen calls fail, so a module
// can be tested against store errors (kUnavailable, kConflict, …) without a broken database.
//
//   MemoryStateStore real;
//   FaultyStateStore store(real);
//   store.failNext(FaultyStateStore::Op::kPut, {ErrorCode::kConflict, "injected"});
//
// Each injected error is used once, in the order injected, by the next call of that operation;
// every other call goes to the wrapped store. write() and writeWithEvents() fail as a put would
// (kPut faults).
// Thread-safe.

#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "ramp/store/state_store.h"

namespace ramp::store::testing {

class FaultyStateStore final : public StateStore {
 public:
  enum class Op { kGet, kPut, kRemove, kList, kChangesSince, kAppendEvent, kListEvents, kLease };

  explicit FaultyStateStore(StateStore& inner) : inner_(inner) {}

  void failNext(Op op, Error error) {
    std::lock_guard lock(mu_);
    faults_[op].push_back(std::move(error));
  }
  // How many calls of `op` reached this decorator (failed or not).
  int calls(Op op) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }

  Result<StoredObject> get(const ObjectKey& key) override {
    if (auto e = take(Op::kGet)) return std::unexpected(*e);
    return inner_.get(key);
  }
  Result<int64_t> put(const ObjectKey& key, std::string_view json,
                      int64_t expectedVersion) override {
    if (auto e = take(Op::kPut)) return std::unexpected(*e);
    return inner_.put(key, json, expectedVersion);
  }
  Result<int64_t> remove(const ObjectKey& key, int64_t expectedVersion) override {
    if (auto e = take(Op::kRemove)) return std::unexpected(*e);
    return inner_.remove(key, expectedVersion);
  }
  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) override {
    if (auto e = take(Op::kPut)) return std::unexpected(*e);
    return inner_.write(ops);
  }
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) override {
    if (auto e = take(Op::kPut)) return std::unexpected(*e);
    return inner_.writeWithEvents(ops, events);
  }
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override {
    if (auto e = take(Op::kList)) return std::unexpected(*e);
    return inner_.list(kind, namespace_);
  }
  Result<int64_t> currentRevision() override { return inner_.currentRevision(); }
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override {
    if (auto e = take(Op::kChangesSince)) return std::unexpected(*e);
    return inner_.changesSince(revision, limit);
  }
  int64_t subscribe(ChangeListener listener) override {
    return inner_.subscribe(std::move(listener));
  }
  void unsubscribe(int64_t id) override { inner_.unsubscribe(id); }
  Result<int64_t> appendEvent(const Event& event) override {
    if (auto e = take(Op::kAppendEvent)) return std::unexpected(*e);
    return inner_.appendEvent(event);
  }
  Result<std::vector<Event>> listEvents(const EventQuery& query) override {
    if (auto e = take(Op::kListEvents)) return std::unexpected(*e);
    return inner_.listEvents(query);
  }
  Result<Lease> acquireLease(const std::string& name, const std::string& holder, Duration ttl,
                             Time now) override {
    if (auto e = take(Op::kLease)) return std::unexpected(*e);
    return inner_.acquireLease(name, holder, ttl, now);
  }
  Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                           Time now) override {
    if (auto e = take(Op::kLease)) return std::unexpected(*e);
    return inner_.renewLease(name, holder, ttl, now);
  }
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override {
    if (auto e = take(Op::kLease)) return std::unexpected(*e);
    return inner_.releaseLease(name, holder, now);
  }
  Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query) override {
    return inner_.listAuditRecords(query);
  }
  Result<int64_t> auditSize() override { return inner_.auditSize(); }
  Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint) override {
    return inner_.appendAuditCheckpoint(checkpoint);
  }
  Result<std::vector<AuditCheckpoint>> listAuditCheckpoints() override {
    return inner_.listAuditCheckpoints();
  }

 private:
  std::optional<Error> take(Op op) {
    std::lock_guard lock(mu_);
    ++calls_[op];
    auto it = faults_.find(op);
    if (it == faults_.end() || it->second.empty()) return std::nullopt;
    Error e = std::move(it->second.front());
    it->second.pop_front();
    return e;
  }

  StateStore& inner_;
  mutable std::mutex mu_;
  std::map<Op, std::deque<Error>> faults_;
  std::map<Op, int> calls_;
};

}  // namespace ramp::store::testing
