#pragma once

// ForwardingStateStore: a StateStore that sends every call to the store it owns (LevelDB's
// EnvWrapper), so a test decorator overrides only what it changes (SequentialStateStore,
// the Kubernetes suite's CustomResourcePayloads). Thread-safe as the wrapped store.

#include <memory>

#include "ramp/store/state_store.h"

namespace ramp::store::testing {

class ForwardingStateStore : public StateStore {
 public:
  explicit ForwardingStateStore(std::unique_ptr<StateStore> inner) : inner_(std::move(inner)) {}

  Result<StoredObject> get(const ObjectKey& key) override { return inner_->get(key); }
  Result<int64_t> put(const ObjectKey& key, std::string_view json,
                      int64_t expectedVersion) override {
    return inner_->put(key, json, expectedVersion);
  }
  Result<int64_t> remove(const ObjectKey& key, int64_t expectedVersion) override {
    return inner_->remove(key, expectedVersion);
  }
  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) override {
    return inner_->write(ops);
  }
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) override {
    return inner_->writeWithEvents(ops, events);
  }
  bool transactional() const override { return inner_->transactional(); }
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override {
    return inner_->list(kind, namespace_);
  }
  Result<int64_t> currentRevision() override { return inner_->currentRevision(); }
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override {
    return inner_->changesSince(revision, limit);
  }
  int64_t subscribe(ChangeListener listener) override {
    return inner_->subscribe(std::move(listener));
  }
  void unsubscribe(int64_t id) override { inner_->unsubscribe(id); }
  Result<int64_t> appendEvent(const Event& event) override { return inner_->appendEvent(event); }
  Result<std::vector<Event>> listEvents(const EventQuery& query) override {
    return inner_->listEvents(query);
  }
  Result<Lease> acquireLease(const std::string& name, const std::string& holder, Duration ttl,
                             Time now) override {
    return inner_->acquireLease(name, holder, ttl, now);
  }
  Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                           Time now) override {
    return inner_->renewLease(name, holder, ttl, now);
  }
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override {
    return inner_->releaseLease(name, holder, now);
  }
  Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query) override {
    return inner_->listAuditRecords(query);
  }
  Result<int64_t> auditSize() override { return inner_->auditSize(); }
  Status appendAuditRecords(std::span<const Event> events) override {
    return inner_->appendAuditRecords(events);
  }
  Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint) override {
    return inner_->appendAuditCheckpoint(checkpoint);
  }
  Result<std::vector<AuditCheckpoint>> listAuditCheckpoints() override {
    return inner_->listAuditCheckpoints();
  }

 protected:
  StateStore& inner() { return *inner_; }

 private:
  std::unique_ptr<StateStore> inner_;
};

}  // namespace ramp::store::testing
