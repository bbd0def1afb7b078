#include "store/common/sequential_writes.h"

#include <string>

#include "store/common/store_rules.h"

namespace ramp::store {

Result<WriteResult> writeSequentially(StateStore& store, std::span<const WriteOp> ops,
                                      std::span<const Event> events) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto s = validateOp(ops[i]); !s) return std::unexpected(opError(i, s.error()));
  }
  if (auto s = validateEvents(events); !s) return std::unexpected(s.error());
  WriteResult result;
  result.versions.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const WriteOp& op = ops[i];
    auto version = op.type == WriteOp::Type::kPut ? store.put(op.key, op.json, op.expectedVersion)
                                                  : store.remove(op.key, op.expectedVersion);
    if (!version) return std::unexpected(opError(i, version.error()));
    result.versions.push_back(*version);
  }
  result.eventIds.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    auto id = store.appendEvent(events[i]);
    if (!id) {
      Error e = id.error();
      e.message = "event " + std::to_string(i) + ": " + e.message;
      return std::unexpected(std::move(e));
    }
    result.eventIds.push_back(*id);
  }
  return result;
}

}  // namespace ramp::store
