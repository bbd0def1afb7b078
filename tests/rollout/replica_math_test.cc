// Replica math replayed against the tables of Argo Rollouts' own tests
// (utils/replicaset/canary_test.go): same inputs, same expected counts.

#include "rollout/replica_math.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace ramp::rollout {
namespace {

struct ApproxRow {
  int32_t replicas, weight, maxSurge, canary, stable;
};

TEST(ApproximateCanaryStableCounts, MatchesArgoTable) {
  const std::vector<ApproxRow> rows = {
      {0, 0, 0, 0, 0},   {0, 50, 0, 0, 0},  {0, 100, 0, 0, 0},   {0, 0, 1, 0, 0},
      {0, 50, 1, 0, 0},  {0, 100, 1, 0, 0}, {1, 0, 0, 0, 1},     {1, 1, 0, 0, 1},
      {1, 49, 0, 0, 1},  {1, 50, 0, 1, 0},  {1, 99, 0, 1, 0},    {1, 100, 0, 1, 0},
      {1, 0, 1, 0, 1},   {1, 1, 1, 1, 1},   {1, 49, 1, 1, 1},    {1, 50, 1, 1, 1},
      {1, 99, 1, 1, 1},  {1, 100, 1, 1, 0}, {2, 0, 0, 0, 2},     {2, 1, 0, 1, 1},
      {2, 50, 0, 1, 1},  {2, 99, 0, 1, 1},  {2, 100, 0, 2, 0},   {2, 0, 1, 0, 2},
      {2, 1, 1, 1, 2},   {2, 50, 1, 1, 1},  {2, 99, 1, 2, 1},    {2, 100, 1, 2, 0},
      {3, 10, 0, 1, 2},  {3, 25, 0, 1, 2},  {3, 33, 0, 1, 2},    {3, 34, 0, 1, 2},
      {3, 49, 0, 1, 2},  {3, 50, 0, 2, 1},  {3, 10, 1, 1, 3},    {3, 25, 1, 1, 3},
      {3, 33, 1, 1, 2},  {3, 34, 1, 1, 2},  {3, 49, 1, 2, 2},    {3, 50, 1, 2, 2},
      {10, 0, 1, 0, 10}, {10, 1, 0, 1, 9},  {10, 14, 0, 1, 9},   {10, 15, 0, 2, 8},
      {10, 16, 0, 2, 8}, {10, 99, 0, 9, 1}, {10, 100, 1, 10, 0}, {10, 1, 1, 1, 10},
      {10, 18, 1, 2, 9}, {10, 19, 1, 2, 9}, {10, 20, 1, 2, 8},   {10, 23, 1, 2, 8},
      {10, 24, 1, 3, 8}, {10, 25, 1, 3, 8}, {10, 99, 1, 10, 1},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(testing::Message()
                 << "replicas=" << r.replicas << " weight=" << r.weight << " surge=" << r.maxSurge);
    EXPECT_EQ(approximateCanaryStableCounts(r.replicas, r.weight, r.maxSurge),
              (CanaryCounts{r.canary, r.stable}));
  }
}

struct BasicRow {
  const char* name;
  int32_t replicas, weight, maxSurge, maxUnavailable;
  int32_t stableDesired, stableAvailable, canaryDesired, canaryAvailable;
  int32_t expStable, expCanary;
  std::optional<RevisionCounts> older;
};

// Rows of Argo's TestCalculateReplicaCountsForCanary (basic canary), with percentages already
// resolved to counts (20% of 10 = 2; "0%"/"0%" -> maxUnavailable forced to 1).
TEST(BasicCanaryCounts, MatchesArgoTable) {
  const std::vector<BasicRow> rows = {
      {"no extra RSs counted when spec < available", 10, 100, 3, 0, 7, 8, 6, 3, 7, 6, {}},
      {"max surge int scales up canary", 10, 20, 2, 0, 10, 10, 0, 0, 10, 2, {}},
      {"scale down extra stable replicas", 10, 20, 2, 0, 10, 10, 2, 2, 8, 2, {}},
      {"do not go past max surge", 10, 30, 2, 0, 10, 10, 0, 0, 10, 2, {}},
      {"max unavailable scales down stable", 10, 20, 0, 2, 10, 10, 0, 0, 8, 0, {}},
      {"do not go past max unavailable", 10, 30, 0, 2, 10, 10, 0, 0, 8, 0, {}},
      {"max surge and max unavailable", 10, 50, 2, 1, 10, 10, 0, 0, 9, 2, {}},
      {"canary to zero at weight 0", 10, 0, 1, 1, 10, 10, 1, 1, 10, 0, {}},
      {"stable to zero at weight 100", 10, 100, 1, 1, 1, 1, 10, 10, 0, 10, {}},
      {"new RS not zero on non-zero weight", 1, 20, 1, 0, 1, 1, 0, 0, 1, 1, {}},
      {"canary not zero on non-100 weight", 1, 90, 1, 0, 1, 1, 0, 0, 1, 1, {}},
      {"scale up stable before new RS", 10, 30, 1, 0, 1, 1, 0, 0, 7, 1, RevisionCounts{3, 3}},
      {"scale down new RS and stable", 10, 30, 0, 3, 8, 5, 4, 4, 7, 3, {}},
      {"scale down stable and canary available", 10, 100, 1, 0, 10, 2, 10, 8, 2, 9, {}},
      {"older RS drained first", 10, 30, 0, 1, 8, 6, 4, 2, 8, 4, RevisionCounts{3, 3}},
      {"no rounding past max surge", 10, 5, 0, 1, 10, 10, 0, 0, 9, 0, {}},
      {"no rounding past max surge part 2", 10, 5, 0, 1, 9, 9, 0, 0, 9, 1, {}},
      {"0%/0% forces maxUnavailable 1", 10, 10, 0, 1, 10, 10, 0, 0, 9, 0, {}},
      {"honor maxSurge when stable unavailable", 4, 100, 1, 0, 4, 1, 0, 0, 4, 1, {}},
      {"scale down to maxUnavailable within maxSurge", 3, 99, 0, 2, 3, 3, 0, 0, 1, 0, {}},
      {"scale down to maxUnavailable part 2", 3, 99, 0, 2, 1, 1, 0, 0, 1, 2, {}},
      {"honor maxUnavailable, stable unavailable", 4, 100, 1, 0, 4, 1, 1, 1, 3, 1, {}},
      {"abort part 1: surge stable first", 4, 0, 1, 0, 0, 0, 4, 4, 1, 4, {}},
      {"abort part 2: wait for stable", 4, 0, 1, 0, 1, 0, 4, 4, 1, 4, {}},
      {"abort part 3: reduce canary by 1", 4, 0, 1, 0, 1, 1, 4, 4, 1, 3, {}},
      {"promote full ignores weight", 4, 100, 4, 4, 4, 4, 0, 0, 0, 4, {}},
      {"promote full honors surge", 4, 100, 3, 0, 4, 4, 0, 0, 4, 3, {}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    BasicCanaryInput in;
    in.replicas = r.replicas;
    in.weight = r.weight;
    in.maxSurge = r.maxSurge;
    in.maxUnavailable = r.maxUnavailable;
    in.stable = RevisionCounts{r.stableDesired, r.stableAvailable};
    in.canary = RevisionCounts{r.canaryDesired, r.canaryAvailable};
    if (r.older) in.others.push_back(*r.older);
    EXPECT_EQ(basicCanaryCounts(in), (CanaryCounts{r.expCanary, r.expStable}));
  }
}

TEST(BasicCanaryCounts, NoStableGoesStraightToFullScale) {
  BasicCanaryInput in;
  in.replicas = 10;
  in.weight = 10;
  in.maxSurge = 0;
  in.maxUnavailable = 1;
  in.canary = RevisionCounts{9, 9};
  EXPECT_EQ(basicCanaryCounts(in), (CanaryCounts{10, 0}));
}

TEST(TrafficRoutedCanaryCounts, MatchesArgoCases) {
  TrafficRoutedInput in;
  in.replicas = 10;
  in.weight = 10;
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{1, 10}));  // stable stays at 100%

  in.replicas = 1;
  in.canaryReplicas = 9;  // setCanaryScale.replicas
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{9, 1}));

  TrafficRoutedInput scaleWeight;
  scaleWeight.replicas = 4;
  scaleWeight.weight = 200;  // setCanaryScale.weight may exceed 100
  EXPECT_EQ(trafficRoutedCanaryCounts(scaleWeight), (CanaryCounts{8, 4}));

  TrafficRoutedInput minPods;
  minPods.replicas = 10;
  minPods.weight = 5;
  minPods.minPodsPerReplicaSet = 2;
  EXPECT_EQ(trafficRoutedCanaryCounts(minPods), (CanaryCounts{2, 10}));
  minPods.weight = 0;
  EXPECT_EQ(trafficRoutedCanaryCounts(minPods), (CanaryCounts{0, 10}));  // 0 stays 0
}

TEST(TrafficRoutedCanaryCounts, DynamicStableScale) {
  TrafficRoutedInput in;
  in.replicas = 10;
  in.dynamicStableScale = true;
  in.weight = 10;
  in.appliedCanaryWeight = 10;
  in.appliedStableWeight = 90;
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{1, 9}));  // stable scaled down
  in.weight = 20;  // desired canary 20 > applied 10: stable follows the applied weight
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{2, 9}));
  in.aborted = true;
  in.weight = 0;
  in.appliedCanaryWeight = 20;
  in.appliedStableWeight = 80;
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{2, 10}));  // keep canary while it serves
  in.appliedCanaryWeight = 10;
  in.appliedStableWeight = 90;
  EXPECT_EQ(trafficRoutedCanaryCounts(in), (CanaryCounts{1, 10}));
}

TEST(WeightToReplicas, RoundsUp) {
  EXPECT_EQ(weightToReplicas(10, 0), 0);
  EXPECT_EQ(weightToReplicas(10, 20), 2);
  EXPECT_EQ(weightToReplicas(10, 25), 3);
  EXPECT_EQ(weightToReplicas(10, 33), 4);
  EXPECT_EQ(weightToReplicas(10, 99), 10);
  EXPECT_EQ(weightToReplicas(10, 100), 10);
}

}  // namespace
}  // namespace ramp::rollout
