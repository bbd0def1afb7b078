// Leader election (src/controller/leader_election.h): the pure decision as a table, and two
// electors sharing one store on a simulated clock — one leads, the other takes over only after
// the leader stops renewing and its lease expires; a leader whose renewals fail steps down
// before anyone else can take the lease.

#include "controller/leader_election.h"

#include <gtest/gtest.h>

#include "fakes/faulty_state_store.h"
#include "fakes/simulated_clock.h"
#include "store/memory/memory_state_store.h"

namespace ramp::controller {
namespace {

using std::chrono::seconds;

Time at(int64_t s) { return Time(Duration(1'767'225'600'000 + s * 1000)); }

TEST(DecideLeadershipTest, Table) {
  const LeaderTimings t;  // 15 s lease, 10 s renew deadline, 2 s retry
  struct Row {
    const char* what;
    LeaderState state;
    Time now;
    LeaderDecision want;
  };
  const std::vector<Row> rows = {
      {"a follower tries to take the lease",
       {false, std::nullopt},
       at(0),
       {LeaderAction::kAcquire, at(2)}},
      {"a leader renews", {true, at(0)}, at(2), {LeaderAction::kRenew, at(4)}},
      {"a leader whose renewals failed for 9.999 s still tries",
       {true, at(0)},
       at(0) + Duration(9'999),
       {LeaderAction::kRenew, at(0) + Duration(11'999)}},
      {"at the renew deadline it steps down",
       {true, at(0)},
       at(10),
       {LeaderAction::kStepDown, at(10)}},
      {"a leader that never renewed steps down",
       {true, std::nullopt},
       at(0),
       {LeaderAction::kStepDown, at(0)}},
  };
  for (const Row& r : rows) EXPECT_EQ(decideLeadership(r.state, r.now, t), r.want) << r.what;
}

struct Counts {
  int started = 0;
  int stopped = 0;
};

std::unique_ptr<LeaderElector> elector(store::StateStore& s, Clock& clock, const std::string& id,
                                       Counts& counts) {
  return std::make_unique<LeaderElector>(
      s, clock, "ramp-controller", id, LeaderTimings{}, [&counts] { ++counts.started; },
      [&counts] { ++counts.stopped; });
}

TEST(LeaderElectorTest, OneLeadsAndAnotherTakesOverOnlyAfterTheLeaseExpires) {
  store::MemoryStateStore memory;
  testing::SimulatedClock clock(at(0));
  Counts ca, cb;
  auto a = elector(memory, clock, "a", ca);
  auto b = elector(memory, clock, "b", cb);
  a->step();
  b->step();
  EXPECT_TRUE(a->leading());
  EXPECT_FALSE(b->leading());
  for (int i = 0; i < 10; ++i) {  // 20 s of renewals: b never gets in
    clock.advance(seconds(2));
    a->step();
    b->step();
  }
  EXPECT_TRUE(a->leading());
  EXPECT_FALSE(b->leading());
  EXPECT_EQ(ca.started, 1);
  EXPECT_EQ(cb.started, 0);

  // a stops (killed): b takes the lease once it expires, 15 s after a's last renewal.
  clock.advance(seconds(14));
  b->step();
  EXPECT_FALSE(b->leading());
  clock.advance(seconds(1));
  b->step();
  EXPECT_TRUE(b->leading());
  EXPECT_EQ(memory.acquireLease("ramp-controller", "x", seconds(1), clock.now()).error().code,
            ErrorCode::kConflict);

  // a comes back: its last renewal is 15 s old, so it steps down; then it is a follower.
  a->step();
  EXPECT_FALSE(a->leading());
  EXPECT_EQ(ca.stopped, 1);
  a->step();
  EXPECT_FALSE(a->leading());
}

TEST(LeaderElectorTest, ALeaderWhoseRenewalsFailStepsDownBeforeTheLeaseExpires) {
  store::MemoryStateStore memory;
  store::testing::FaultyStateStore faulty(memory);
  testing::SimulatedClock clock(at(0));
  Counts ca;
  auto a = elector(faulty, clock, "a", ca);
  a->step();
  ASSERT_TRUE(a->leading());
  // The store is unreachable: renewals fail, a keeps leading until the renew deadline.
  for (int i = 0; i < 5; ++i) {
    if (i < 4) {  // the fifth step steps down without asking the store
      faulty.failNext(store::testing::FaultyStateStore::Op::kLease,
                      {ErrorCode::kUnavailable, "api down"});
    }
    clock.advance(seconds(2));
    a->step();
    EXPECT_EQ(a->leading(), i < 4) << "after " << (i + 1) * 2 << " s";
  }
  EXPECT_EQ(ca.stopped, 1);
  EXPECT_LT(clock.now(), at(15));  // before its lease expired: nobody led twice
  a->step();                       // the store is back: a is a candidate again
  EXPECT_TRUE(a->leading());
  EXPECT_EQ(ca.started, 2);
}

}  // namespace
}  // namespace ramp::controller
