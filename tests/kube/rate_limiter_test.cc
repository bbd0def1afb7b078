#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace ramp::kube {
namespace {

Time at(int64_t ms) { return Time(Duration(ms)); }

TEST(TokenBucket, BurstThenQps) {
  TokenBucket b(10, 3);  // 10 per second, burst 3
  EXPECT_EQ(b.reserve(at(0)), Duration(0));
  EXPECT_EQ(b.reserve(at(0)), Duration(0));
  EXPECT_EQ(b.reserve(at(0)), Duration(0));
  EXPECT_EQ(b.reserve(at(0)), Duration(100));   // the fourth waits one token's time
  EXPECT_EQ(b.reserve(at(0)), Duration(200));   // and the fifth behind it
  EXPECT_EQ(b.reserve(at(1000)), Duration(0));  // refilled (capped at the burst)
  TokenBucket unlimited(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.reserve(at(0)), Duration(0));
}

TEST(TokenBucket, LongRunRateNeverExceedsQps) {
  TokenBucket b(40, 80);
  Time now = at(0);
  int64_t sent = 0;
  for (int i = 0; i < 1000; ++i) {
    now += b.reserve(now);
    ++sent;
  }
  // 80 at once, then 40 per second: 920 more need at least 23 s.
  EXPECT_GE(now - at(0), Duration(22900));
  EXPECT_LE(now - at(0), Duration(23100));
}

}  // namespace
}  // namespace ramp::kube
