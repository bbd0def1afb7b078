#include "fakes/simulated_clock.h"

#include <gtest/gtest.h>

namespace ramp::testing {
namespace {

TEST(SimulatedClockTest, SleepAdvancesTimeWithoutBlocking) {
  SimulatedClock clock;
  Time t0 = clock.now();
  clock.sleepFor(Duration(10'000));
  EXPECT_EQ(clock.now() - t0, Duration(10'000));
  clock.advance(Duration(5));
  EXPECT_EQ(clock.now() - t0, Duration(10'005));
}

TEST(RealClockTest, MovesForward) {
  Time a = realClock().now();
  Time b = realClock().now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace ramp::testing
