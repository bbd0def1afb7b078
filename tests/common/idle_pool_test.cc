#include "common/idle_pool.h"

#include <gtest/gtest.h>

#include <memory>

namespace ramp {
namespace {

// Counts the objects alive, so a test sees which the pool kept and which it destroyed.
struct Counted {
  explicit Counted(int* alive) : alive(alive) { ++*alive; }
  ~Counted() { --*alive; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  int* alive;
};

TEST(IdlePool, HandsOutTheOneGivenBackLastAndKeepsAtMostMaxIdle) {
  int alive = 0;
  int made = 0;
  IdlePool<Counted> pool(2, [&] {
    ++made;
    return std::make_unique<Counted>(&alive);
  });
  auto a = pool.take();
  auto b = pool.take();
  auto c = pool.take();
  EXPECT_EQ(made, 3);
  Counted* bp = b.get();
  pool.giveBack(std::move(a));
  pool.giveBack(std::move(b));
  pool.giveBack(std::move(c));  // a third idle one: destroyed
  EXPECT_EQ(alive, 2);
  auto again = pool.take();
  EXPECT_EQ(again.get(), bp) << "the one given back last of those kept";
  EXPECT_EQ(made, 3);
  {
    IdlePool<Counted>::Lease lease(pool);  // the other kept one
    EXPECT_EQ(made, 3);
    EXPECT_EQ((*lease).alive, &alive);
  }
  pool.giveBack(std::move(again));
  EXPECT_EQ(alive, 2);
  pool.giveBack(nullptr);  // nothing to keep
  EXPECT_EQ(alive, 2);
}

}  // namespace
}  // namespace ramp
