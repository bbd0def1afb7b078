// writeSequentially (store/common/sequential_writes.h): what conformance_test.cc cannot reach
// through a healthy store, a failing append after the ops.

#include "store/common/sequential_writes.h"

#include <gtest/gtest.h>

#include "fakes/faulty_state_store.h"
#include "store/memory/memory_state_store.h"

namespace ramp::store::testing {
namespace {

const ObjectKey kA{"Rollout", "default", "a"};
const ObjectKey kB{"Rollout", "default", "b"};

Event event(const std::string& reason) {
  Event e;
  e.time = Time(Duration(1000));
  e.object = kA;
  e.reason = reason;
  return e;
}

TEST(SequentialWritesTest, FailingAppendKeepsTheOps) {
  MemoryStateStore memory;
  FaultyStateStore store(memory);
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kA, "{}", 0},
                              {WriteOp::Type::kPut, kB, "{}", 0}};
  std::vector<Event> events = {event("First"), event("Second")};
  store.failNext(FaultyStateStore::Op::kAppendEvent, {ErrorCode::kUnavailable, "api down"});
  auto r = writeSequentially(store, ops, events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "event 0: api down");
  // The ops were applied before the events: they stay; the second event was not tried.
  EXPECT_EQ(memory.get(kA)->version, 1);
  EXPECT_EQ(memory.get(kB)->version, 2);
  EXPECT_TRUE(memory.listEvents({})->empty());
  EXPECT_EQ(store.calls(FaultyStateStore::Op::kAppendEvent), 1);

  auto ok = writeSequentially(store, {}, events);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->eventIds.size(), 2u);
  EXPECT_EQ((*memory.listEvents({}))[1].reason, "Second");
}

TEST(SequentialWritesTest, InvalidInputWritesNothing) {
  MemoryStateStore memory;
  std::vector<WriteOp> ops = {{WriteOp::Type::kPut, kA, "{}", 0},
                              {WriteOp::Type::kPut, {"", "x", "y"}, "{}", 0}};
  auto badOp = writeSequentially(memory, ops, {});
  ASSERT_FALSE(badOp);
  EXPECT_EQ(badOp.error().message.rfind("op 1: ", 0), 0u) << badOp.error().message;
  ops.pop_back();
  std::vector<Event> events = {event("Fine"), event("")};
  auto badEvent = writeSequentially(memory, ops, events);
  ASSERT_FALSE(badEvent);
  EXPECT_EQ(badEvent.error().message.rfind("event 1: ", 0), 0u) << badEvent.error().message;
  EXPECT_FALSE(memory.get(kA));
  EXPECT_TRUE(memory.listEvents({})->empty());
}

}  // namespace
}  // namespace ramp::store::testing
