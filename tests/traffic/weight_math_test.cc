#include "traffic/haproxy/weight_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace ramp::traffic::haproxy {
namespace {

// Every integer percentage is exact with the default scale, for any replica counts, and no
// server goes above HAProxy's 256.
TEST(WeightMathTest, EveryPercentIsExactAndInRange) {
  for (int ns = 1; ns <= 6; ++ns) {
    for (int nc = 1; nc <= 6; ++nc) {
      for (int w = 0; w <= 100; ++w) {
        auto split = computeSplit(ns, nc, w, 100, 256);
        ASSERT_TRUE(split) << split.error().message;
        EXPECT_TRUE(split->satisfied);
        // canary / (canary + stable) == w / 100, cross-multiplied to stay in integers.
        EXPECT_EQ(split->canary * 100, w * (split->canary + split->stable))
            << "ns=" << ns << " nc=" << nc << " w=" << w;
        for (int v : spreadWeight(split->stable, ns)) EXPECT_LE(v, 256);
        for (int v : spreadWeight(split->canary, nc)) EXPECT_LE(v, 256);
        if (w > 0 && w < 100) {
          EXPECT_GT(split->canary, 0);
          EXPECT_GT(split->stable, 0);
        }
      }
    }
  }
}

TEST(WeightMathTest, SmallerServerScaleStaysExact) {
  for (int w = 0; w <= 100; ++w) {
    auto split = computeSplit(1, 1, w, 100, 100);
    ASSERT_TRUE(split);
    EXPECT_EQ(split->canary * 100, w * (split->canary + split->stable)) << w;
    EXPECT_LE(split->canary, 100);
    EXPECT_LE(split->stable, 100);
  }
}

TEST(WeightMathTest, KnownValues) {
  EXPECT_EQ(computeSplit(1, 1, 10, 100, 256).value(), (SplitTotals{252, 28, true}));
  EXPECT_EQ(computeSplit(2, 1, 50, 100, 256).value(), (SplitTotals{256, 256, true}));
  EXPECT_EQ(computeSplit(3, 2, 0, 100, 256).value(), (SplitTotals{768, 0, true}));
  EXPECT_EQ(computeSplit(3, 2, 100, 100, 256).value(), (SplitTotals{0, 512, true}));
}

// With a large maxTrafficWeight the exact ratio may not fit in 0..256; the closest one is used
// and stays within half a percentage point.
TEST(WeightMathTest, LargeTrafficScaleIsClosestWithinHalfAPercent) {
  for (int w = 0; w <= 1000; ++w) {
    auto split = computeSplit(1, 1, w, 1000, 256);
    ASSERT_TRUE(split);
    double got = static_cast<double>(split->canary) / (split->canary + split->stable);
    EXPECT_LE(std::abs(got - w / 1000.0), 0.005) << w;
    EXPECT_LE(split->canary, 256);
    EXPECT_LE(split->stable, 256);
  }
}

// The revision that should get traffic has no ready server: the other takes all of it (never
// traffic pointing at nothing), and the plan says the weight is not met.
TEST(WeightMathTest, MissingRevisionFallsBackToTheOther) {
  EXPECT_EQ(computeSplit(2, 0, 30, 100, 256).value(), (SplitTotals{512, 0, false}));
  EXPECT_EQ(computeSplit(0, 2, 30, 100, 256).value(), (SplitTotals{0, 512, false}));
  EXPECT_EQ(computeSplit(2, 0, 0, 100, 256).value(), (SplitTotals{512, 0, true}));
  EXPECT_EQ(computeSplit(0, 1, 100, 100, 256).value(), (SplitTotals{0, 256, true}));
}

TEST(WeightMathTest, RejectsBadInput) {
  EXPECT_EQ(computeSplit(1, 1, 101, 100, 256).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(computeSplit(1, 1, -1, 100, 256).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(computeSplit(1, 1, 1, 100, 257).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(computeSplit(1, 1, 1, 100, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(computeSplit(1, 1, 0, 0, 256).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(computeSplit(0, 0, 10, 100, 256).error().code, ErrorCode::kFailedPrecondition);
}

TEST(WeightMathTest, SpreadIsEvenAndKeepsTheTotal) {
  EXPECT_EQ(spreadWeight(10, 3), (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(spreadWeight(0, 2), (std::vector<int>{0, 0}));
  EXPECT_TRUE(spreadWeight(5, 0).empty());
  for (int64_t total = 0; total <= 1000; total += 7) {
    for (int n = 1; n <= 5; ++n) {
      auto v = spreadWeight(total, n);
      EXPECT_EQ(std::accumulate(v.begin(), v.end(), int64_t{0}), total);
      EXPECT_LE(*std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()), 1);
    }
  }
}

}  // namespace
}  // namespace ramp::traffic::haproxy
