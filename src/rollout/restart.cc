// Rolling restart of a rollout's replicas for spec.restartAt (Argo's RolloutPodRestarter in
// rollout/restart.go, NeedsRestart and MaxUnavailable in utils/replicaset).

#include <algorithm>
#include <string>
#include <vector>

#include "rollout/context.h"
#include "spec/values.h"

namespace ramp::rollout::internal {
namespace {

// Argo requeues every 30 s while replicas still wait for their restart (restartPodCheckTime).
constexpr Duration kRestartCheck = std::chrono::seconds(30);

inline constexpr const char* kReasonRestartingReplica = "RestartingReplica";
inline constexpr const char* kReasonRolloutRestarted = "RolloutRestarted";

// Argo's MaxUnavailable(rollout): the canary's resolved fencepost, or blue-green's
// maxUnavailable (default 25%, rounded down); never more than spec.replicas.
int32_t maxUnavailable(const Context& c) {
  const int32_t replicas = c.replicas();
  if (replicas <= 0) return 0;
  int32_t value = 0;
  if (c.spec.strategy.canary) {
    const auto& canary = *c.spec.strategy.canary;
    auto f = spec::resolveFenceposts(spec::maxSurgeOrDefault(canary),
                                     spec::maxUnavailableOrDefault(canary), replicas);
    value = f ? f->maxUnavailable : 0;
  } else if (c.spec.strategy.blueGreen) {
    const auto& bg = *c.spec.strategy.blueGreen;
    const spec::IntOrString v =
        bg.maxUnavailable
            ? *bg.maxUnavailable
            : spec::IntOrString{std::to_string(spec::kDefaultMaxUnavailablePercent) + "%"};
    auto resolved = spec::resolveIntOrPercent(v, replicas, false);
    value = resolved ? *resolved : 0;
  }
  return std::min(value, replicas);
}

// Argo's SortReplicaSetsByPriority: stable, then new, then the others oldest first.
std::vector<const ObservedRevision*> restartOrder(const Context& c) {
  std::vector<const ObservedRevision*> out;
  if (c.stableRev) out.push_back(c.stableRev);
  if (c.newRev && c.newRev != c.stableRev && !c.newRevCreatedNow) out.push_back(c.newRev);
  std::vector<const ObservedRevision*> rest = c.others;
  std::sort(rest.begin(), rest.end(), [](const ObservedRevision* a, const ObservedRevision* b) {
    if (a->createdAt && b->createdAt && *a->createdAt != *b->createdAt)
      return *a->createdAt < *b->createdAt;
    return a->revision < b->revision;
  });
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// The start times of the revision's replicas that started before `restartAt`. A replica whose
// start time the platform does not report counts as one to restart: missing data must not
// complete a restart.
std::vector<std::optional<Time>> replicasToRestart(const ObservedRevision& r, Time restartAt) {
  std::vector<std::optional<Time>> out;
  for (const Time t : r.replicaStartedAt)
    if (t < restartAt) out.emplace_back(t);
  const auto reported = static_cast<int32_t>(r.replicaStartedAt.size());
  for (int32_t i = reported; i < r.currentReplicas; ++i) out.emplace_back(std::nullopt);
  return out;
}

}  // namespace

void reconcileRestart(Context& c) {
  if (!c.spec.restartAt) return;
  const Time restartAt = *c.spec.restartAt;
  if (c.old.restartedAt && *c.old.restartedAt == restartAt) return;  // done (Argo's NeedsRestart)
  if (c.now < restartAt) {
    c.requeueAt(restartAt);  // a scheduled restart (Argo's checkEnqueueRollout)
    return;
  }

  const std::vector<const ObservedRevision*> order = restartOrder(c);
  int32_t total = 0, available = 0;
  for (const auto& r : c.observed.workload.revisions) {
    total += r.desiredReplicas;
    available += r.availableReplicas;
  }
  const int32_t replicas = c.replicas();
  const int32_t maxDown = maxUnavailable(c);
  // Restart at least one replica at a time even when maxUnavailable is 0 (a single replica
  // restarts with downtime, as in Argo). With more replicas running than spec.replicas (a canary
  // weight that does not divide evenly), the larger count sets the floor.
  const int32_t concurrent = std::max(maxDown, 1);
  const int32_t minAvailable = std::max(replicas, total) - concurrent;
  int32_t canRestart = available - minAvailable;

  int32_t needed = 0, restarted = 0;
  for (const ObservedRevision* r : order) {
    const auto old = replicasToRestart(*r, restartAt);
    needed += static_cast<int32_t>(old.size());
    for (const auto& startedAt : old) {
      if (canRestart <= 0) break;
      c.action(RestartReplica{r->podTemplateHash, restartAt});
      c.event("Normal", kReasonRestartingReplica,
              "Restarting a replica of ReplicaSet " + c.rsName(r->podTemplateHash) + " (revision " +
                  std::to_string(r->revision) + ") started " +
                  (startedAt ? "at " + formatTime(*startedAt) : std::string("at an unknown time")) +
                  ", before restartAt " + formatTime(restartAt),
              {{"podTemplateHash", r->podTemplateHash},
               {"revision", std::to_string(r->revision)},
               {"startedAt", startedAt ? formatTime(*startedAt) : ""},
               {"restartAt", formatTime(restartAt)},
               {"available", std::to_string(available)},
               {"minAvailable", std::to_string(minAvailable)},
               {"maxUnavailable", std::to_string(maxDown)}});
      --canRestart;
      ++restarted;
    }
  }

  if (needed != restarted) {
    c.requeueAfter(kRestartCheck);
    return;
  }
  // Every replica is newer than restartAt, or is being replaced by this reconcile (Argo sets
  // restartedAt as soon as the last old pod is evicted).
  c.next.restartedAt = restartAt;
  c.event("Normal", kReasonRolloutRestarted,
          "Rollout restarted: every replica started at or after " + formatTime(restartAt),
          {{"restartAt", formatTime(restartAt)},
           {"restartedThisReconcile", std::to_string(restarted)}});
}

}  // namespace ramp::rollout::internal
