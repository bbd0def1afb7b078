#include "store/common/batch_state_store.h"

namespace ramp::store {

Result<int64_t> BatchStateStore::put(const ObjectKey& key, std::string_view json,
                                     int64_t expectedVersion) {
  WriteOp op{WriteOp::Type::kPut, key, std::string(json), expectedVersion};
  auto r = apply(std::span<const WriteOp>(&op, 1), {}, /*batch=*/false);
  if (!r) return std::unexpected(r.error());
  return r->versions.front();
}

Result<int64_t> BatchStateStore::remove(const ObjectKey& key, int64_t expectedVersion) {
  WriteOp op{WriteOp::Type::kDelete, key, {}, expectedVersion};
  auto r = apply(std::span<const WriteOp>(&op, 1), {}, /*batch=*/false);
  if (!r) return std::unexpected(r.error());
  return r->versions.front();
}

Result<std::vector<int64_t>> BatchStateStore::write(std::span<const WriteOp> ops) {
  auto r = apply(ops, {}, /*batch=*/true);
  if (!r) return std::unexpected(r.error());
  return std::move(r->versions);
}

Result<WriteResult> BatchStateStore::writeWithEvents(std::span<const WriteOp> ops,
                                                     std::span<const Event> events) {
  return apply(ops, events, /*batch=*/true);
}

}  // namespace ramp::store
