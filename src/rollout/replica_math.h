#pragma once

// Replica math of the canary strategy (Argo's utils/replicaset/canary.go), as pure functions of
// plain counts so that Argo's own tables can be replayed against them.
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <vector>

namespace ramp::rollout {

// One revision as the replica math sees it: what it was asked to run and what is available.
struct RevisionCounts {
  int32_t desired = 0;  // spec.replicas of the ReplicaSet
  int32_t available = 0;
};

struct CanaryCounts {
  int32_t canary = 0;
  int32_t stable = 0;
  bool operator==(const CanaryCounts&) const = default;
};

// The canary/stable split that best approximates `weight` percent of `replicas` (or of
// replicas + 1 when maxSurge > 0); ties pick the larger canary; for weights 1..99 neither side
// is 0 when at least two pods are involved.
CanaryCounts approximateCanaryStableCounts(int32_t replicas, int32_t weight, int32_t maxSurge);

struct BasicCanaryInput {
  int32_t replicas = 1;  // spec.replicas
  int32_t weight = 0;    // desired canary weight (100 when promoting fully / no stable)
  int32_t maxSurge = 0;  // resolved fence posts
  int32_t maxUnavailable = 0;
  std::optional<RevisionCounts> canary;  // the new revision (nullopt: not created yet)
  std::optional<RevisionCounts> stable;  // nullopt: no stable, or stable == canary
  std::vector<RevisionCounts> others;    // older revisions
};

// Argo's CalculateReplicaCountsForBasicCanary: the counts to scale the canary and stable to on
// this reconcile, bounded by replicas + maxSurge in total and replicas - maxUnavailable
// available; older revisions are drained first.
CanaryCounts basicCanaryCounts(const BasicCanaryInput& in);

struct TrafficRoutedInput {
  int32_t replicas = 1;
  int32_t weight = 0;                     // desired canary weight
  std::optional<int32_t> canaryReplicas;  // setCanaryScale.replicas override
  std::optional<int32_t> minPodsPerReplicaSet;
  bool dynamicStableScale = false;
  bool aborted = false;
  // Weights currently applied by the router (status.canary.weights); nullopt when none yet.
  std::optional<int32_t> appliedCanaryWeight;
  std::optional<int32_t> appliedStableWeight;
};

// Argo's CalculateReplicaCountsForTrafficRoutedCanary: canary = ceil(weight x replicas / 100)
// (or the override), raised to minPodsPerReplicaSet; stable = replicas, or with
// dynamicStableScale the larger of the desired and the currently applied stable share.
CanaryCounts trafficRoutedCanaryCounts(const TrafficRoutedInput& in);

// ceil(weight x replicas / 100).
int32_t weightToReplicas(int32_t replicas, int32_t weight);

}  // namespace ramp::rollout
