#include "rollout/replica_math.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace ramp::rollout {
namespace {

struct Option {
  int32_t canary = 0;
  int32_t total = 0;
};

// True when total x weight / 100 lies exactly halfway between two integers.
bool floorCeilTied(int32_t weight, int32_t total) {
  return (static_cast<int64_t>(total) * weight) % 100 == 50;
}

// |canary/total x 100 - weight| x total, as an exact integer, for comparing options.
// Options with different totals are compared by cross-multiplying.
bool closer(const Option& a, const Option& b, int32_t weight) {
  const int64_t da = std::llabs(int64_t{a.canary} * 100 - int64_t{weight} * a.total);
  const int64_t db = std::llabs(int64_t{b.canary} * 100 - int64_t{weight} * b.total);
  return da * b.total < db * a.total;
}

int32_t replicasForScaleDown(const std::optional<RevisionCounts>& rs, bool ignoreAvailability) {
  if (!rs) return 0;
  // Replicas beyond the desired count are about to go away: never count them as available.
  if (rs->desired < rs->available) return rs->desired;
  return ignoreAvailability ? rs->desired : rs->available;
}

int32_t scaleDownTowards(const std::optional<RevisionCounts>& drain, int32_t desired,
                         int32_t scaleDown, int32_t current) {
  if (drain && drain->desired > desired) return std::max(desired, drain->desired - scaleDown);
  return current;
}

// Keeps drain + adjust within maxSurge without dropping below min available (Argo's
// adjustReplicaWithinLimits). Returns {drainCount, adjustCount}.
std::pair<int32_t, int32_t> keepWithinLimits(const std::optional<RevisionCounts>& drainRs,
                                             const std::optional<RevisionCounts>& adjustRs,
                                             int32_t drainCount, int32_t adjustCount,
                                             int32_t maxAllowed, int32_t minAvailable) {
  int32_t over = std::max(0, adjustCount + drainCount - maxAllowed);
  int32_t totalAvailable = 0;
  if (drainRs) totalAvailable += std::min(drainRs->available, drainCount);
  if (adjustRs) {
    adjustCount -= over;
    totalAvailable += std::min(adjustRs->available, adjustCount);
    const int32_t lostAvailability = std::max(0, adjustRs->available - adjustCount);
    const int32_t stillNeeded = std::max(0, minAvailable - totalAvailable);
    adjustCount += std::min(lostAvailability, stillNeeded);
    over = std::max(0, adjustCount + drainCount - maxAllowed);
    drainCount -= over;
  }
  return {drainCount, adjustCount};
}

}  // namespace

int32_t weightToReplicas(int32_t replicas, int32_t weight) {
  const int64_t product = int64_t{replicas} * weight;
  return static_cast<int32_t>((product + 99) / 100);
}

CanaryCounts approximateCanaryStableCounts(int32_t replicas, int32_t weight, int32_t maxSurge) {
  if (replicas == 0) return {0, 0};
  const int64_t product = int64_t{replicas} * weight;
  const auto ceilCount = static_cast<int32_t>((product + 99) / 100);
  const auto floorCount = static_cast<int32_t>(product / 100);
  const bool zeroAllowed = weight == 100 || weight == 0 || (replicas == 1 && maxSurge == 0);

  std::vector<Option> options;
  if (ceilCount < replicas || zeroAllowed) options.push_back({ceilCount, replicas});
  if (!floorCeilTied(weight, replicas) && (floorCount != 0 || zeroAllowed))
    options.push_back({floorCount, replicas});
  if (maxSurge > 0) {
    options.push_back({ceilCount, replicas + 1});
    if (!floorCeilTied(weight, replicas + 1) && (floorCount != 0 || zeroAllowed))
      options.push_back({floorCount, replicas + 1});
  }
  if (options.empty()) return {0, replicas};
  Option best = options.front();
  for (size_t i = 1; i < options.size(); ++i)
    if (closer(options[i], best, weight)) best = options[i];
  return {best.canary, best.total - best.canary};
}

CanaryCounts basicCanaryCounts(const BasicCanaryInput& in) {
  CanaryCounts desired = approximateCanaryStableCounts(in.replicas, in.weight, in.maxSurge);
  int32_t canaryCount = in.canary ? in.canary->desired : 0;
  int32_t stableCount = 0;
  if (in.stable) {
    stableCount = in.stable->desired;
  } else {
    desired = {in.replicas, 0};  // no stable: the new revision goes straight to 100%
  }
  const int32_t maxAllowed = in.replicas + in.maxSurge;
  const int32_t othersDesired =
      std::accumulate(in.others.begin(), in.others.end(), 0,
                      [](int32_t sum, const RevisionCounts& r) { return sum + r.desired; });
  const int32_t total =
      othersDesired + (in.canary ? in.canary->desired : 0) + (in.stable ? in.stable->desired : 0);
  int32_t scaleUp = maxAllowed - total;

  // Scale up: stable first, then canary, within replicas + maxSurge.
  if (in.stable && in.stable->desired < desired.stable && scaleUp > 0) {
    if (in.stable->desired + scaleUp < desired.stable) {
      stableCount = in.stable->desired + scaleUp;
      scaleUp = 0;
    } else {
      stableCount = desired.stable;
      scaleUp -= desired.stable - in.stable->desired;
    }
  }
  if (in.canary && in.canary->desired < desired.canary && scaleUp > 0)
    canaryCount = std::min(in.canary->desired + scaleUp, desired.canary);

  // Older revisions are drained before the canary or stable is scaled down.
  if (othersDesired > 0) return {canaryCount, stableCount};

  const int32_t minAvailable = in.replicas - in.maxUnavailable;
  const bool increasing = !in.canary || desired.canary >= in.canary->desired;
  const int32_t countable =
      replicasForScaleDown(in.canary, !increasing) + replicasForScaleDown(in.stable, increasing);
  if (countable <= minAvailable) return {canaryCount, stableCount};
  const int32_t scaleDown = countable - minAvailable;
  if (!increasing) {
    canaryCount = scaleDownTowards(in.canary, desired.canary, scaleDown, canaryCount);
    std::tie(canaryCount, stableCount) =
        keepWithinLimits(in.canary, in.stable, canaryCount, stableCount, maxAllowed, minAvailable);
  } else if (in.stable) {
    stableCount = scaleDownTowards(in.stable, desired.stable, scaleDown, stableCount);
    std::tie(stableCount, canaryCount) =
        keepWithinLimits(in.stable, in.canary, stableCount, canaryCount, maxAllowed, minAvailable);
  }
  return {canaryCount, stableCount};
}

CanaryCounts trafficRoutedCanaryCounts(const TrafficRoutedInput& in) {
  auto atLeastMin = [&](int32_t count) {
    if (count == 0 || !in.minPodsPerReplicaSet) return count;
    return std::max(count, *in.minPodsPerReplicaSet);
  };
  int32_t canary =
      in.canaryReplicas ? *in.canaryReplicas : atLeastMin(weightToReplicas(in.replicas, in.weight));
  if (!in.dynamicStableScale) return {canary, in.replicas};
  int32_t stable = weightToReplicas(in.replicas, 100 - in.weight);
  if (in.appliedStableWeight)
    stable = std::max(stable, weightToReplicas(in.replicas, *in.appliedStableWeight));
  if (in.aborted && in.appliedCanaryWeight)
    canary = std::max(canary, weightToReplicas(in.replicas, *in.appliedCanaryWeight));
  return {atLeastMin(canary), atLeastMin(stable)};
}

}  // namespace ramp::rollout
