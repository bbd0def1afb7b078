#include "fakes/faulty_state_store.h"

#include <gtest/gtest.h>

#include "store/memory/memory_state_store.h"

namespace ramp::store::testing {
namespace {

TEST(FaultyStateStoreTest, InjectedErrorsAreUsedOnceInOrderThenCallsPassThrough) {
  MemoryStateStore real;
  FaultyStateStore store(real);
  const ObjectKey k{"Rollout", "default", "a"};
  store.failNext(FaultyStateStore::Op::kPut, {ErrorCode::kUnavailable, "disk on fire"});
  store.failNext(FaultyStateStore::Op::kPut, {ErrorCode::kConflict, "lost the race"});

  auto first = store.put(k, "{}", 0);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), (Error{ErrorCode::kUnavailable, "disk on fire"}));
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, k, "{}", 0}};
  auto second = store.write(ops);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(real.get(k));  // nothing reached the real store

  ASSERT_TRUE(store.put(k, "{}", 0));
  EXPECT_TRUE(real.get(k));
  EXPECT_EQ(store.calls(FaultyStateStore::Op::kPut), 3);
  EXPECT_TRUE(store.get(k));  // other operations were never affected
}

}  // namespace
}  // namespace ramp::store::testing
