#pragma once

// SequentialStateStore: a StateStore decorator whose write() and writeWithEvents() write one
// object at a time (store/common/sequential_writes.h), as a store without multi-object
// transactions (Kubernetes) does, and which says so (transactional() is false). The conformance
// suite runs the memory and SQLite stores through it, so the contract every store promises is
// tested without a Kubernetes API server. Every other method goes to the wrapped store.
// Thread-safe as the wrapped store.

#include <memory>

#include "fakes/forwarding_state_store.h"
#include "store/common/sequential_writes.h"

namespace ramp::store::testing {

class SequentialStateStore final : public ForwardingStateStore {
 public:
  explicit SequentialStateStore(std::unique_ptr<StateStore> inner)
      : ForwardingStateStore(std::move(inner)) {}

  Result<std::vector<int64_t>> write(std::span<const WriteOp> ops) override {
    auto r = writeSequentially(inner(), ops, {});
    if (!r) return std::unexpected(r.error());
    return std::move(r->versions);
  }
  Result<WriteResult> writeWithEvents(std::span<const WriteOp> ops,
                                      std::span<const Event> events) override {
    return writeSequentially(inner(), ops, events);
  }
  bool transactional() const override { return false; }
};

}  // namespace ramp::store::testing
