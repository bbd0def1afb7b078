#pragma once

// MemoryStateStore: a StateStore held in process memory. Used by unit tests of other modules
// and as the baseline in bench/store. Same semantics as the SQLite store (the conformance suite
// in tests/store/ runs against both); nothing survives the process.
//
// Threading: all methods are thread-safe; one mutex guards the data. Listeners run outside it.

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ramp/store/state_store.h"
#include "store/common/batch_state_store.h"

namespace ramp::store {

class ChangeNotifier;

struct MemoryStoreOptions {
  int64_t changeLogRetention = kDefaultChangeLogRetention;  // must be > 0
  int64_t eventRetention = kDefaultEventRetention;          // must be > 0
};

class MemoryStateStore final : public BatchStateStore {
 public:
  explicit MemoryStateStore(MemoryStoreOptions options = {});
  ~MemoryStateStore() override;

  Result<StoredObject> get(const ObjectKey& key) override;
  Result<ObjectList> list(const std::string& kind, const std::string& namespace_) override;
  Result<int64_t> currentRevision() override;
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) override;
  int64_t subscribe(ChangeListener listener) override;
  void unsubscribe(int64_t id) override;
  Result<int64_t> appendEvent(const Event& event) override;
  Result<std::vector<Event>> listEvents(const EventQuery& query) override;
  Result<Lease> acquireLease(const std::string& name, const std::string& holder, Duration ttl,
                             Time now) override;
  Result<Lease> renewLease(const std::string& name, const std::string& holder, Duration ttl,
                           Time now) override;
  Status releaseLease(const std::string& name, const std::string& holder, Time now) override;
  Result<std::vector<AuditRecord>> listAuditRecords(const AuditQuery& query) override;
  Result<int64_t> auditSize() override;
  Status appendAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<std::vector<AuditCheckpoint>> listAuditCheckpoints() override;

 private:
  struct Entry {
    std::string json;
    int64_t version = 0;
  };

  Result<WriteResult> apply(std::span<const WriteOp> ops, std::span<const Event> events,
                            bool batch) override;
  Result<Lease> storeLease(Result<Lease> decided);
  int64_t appendEventLocked(const Event& event);  // mu_ held

  const MemoryStoreOptions options_;
  std::unique_ptr<ChangeNotifier> notifier_;
  std::mutex mu_;
  std::map<ObjectKey, Entry> objects_;
  std::deque<Change> changes_;  // revisions (compacted_, revision_]
  int64_t revision_ = 0;
  int64_t compacted_ = 0;
  std::deque<Event> events_;
  int64_t nextEventId_ = 1;
  std::map<std::string, Lease> leases_;
  std::vector<AuditRecord> audit_;  // never pruned
  std::vector<AuditCheckpoint> checkpoints_;
};

}  // namespace ramp::store
