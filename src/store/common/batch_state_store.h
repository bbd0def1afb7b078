#pragma once

// BatchStateStore: the base of the stores whose every object write is one batch applied in one
// transaction (src/store/memory, src/store/sqlite). put(), remove(), write() and
// writeWithEvents() are written here once, as calls of the one thing such a store implements:
// apply(ops, events). A store without multi-object transactions (a Kubernetes store) does not
// derive from this; it writes one object at a time with writeSequentially()
// (store/common/sequential_writes.h).
//
// Threading: as the derived store's apply().

#include <span>

#include "ramp/store/state_store.h"

namespace ramp::store {

class BatchStateStore : public StateStore {
 public:
  // Each forwards to apply() with a batch of one op (put, remove) or the caller's batch.
  Result<int64_t> put(const ObjectKey& key, std::string_view json, int64_t expectedVersion) final;
  Result<int64_t> remove(const ObjectKey& key, int64_t expectedVersion) final;
  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) final;
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) final;

 protected:
  // Validates every op and event, then applies all ops and appends all events in one
  // transaction, all or nothing, with the semantics of writeWithEvents(). When `batch` is false
  // (put, remove: one op) errors carry no "op 0: " prefix.
  virtual Result<WriteResult> apply(std::span<const WriteOp> ops, std::span<const Event> events,
                                    bool batch) = 0;
};

}  // namespace ramp::store
