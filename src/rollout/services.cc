#include "rollout/services.h"

#include <algorithm>
#include <cstdint>

namespace ramp::rollout {

std::vector<platform::ServiceSelection> serviceSelections(const spec::Rollout& rollout,
                                                          const spec::RolloutStatus& next,
                                                          const SyncEndpoints& sync) {
  std::vector<platform::ServiceSelection> out;
  auto add = [&](const std::string& service, const std::string& hash, bool requireAvailable) {
    if (service.empty() || hash.empty()) return;
    out.push_back({service, hash, requireAvailable});
  };
  if (const auto& bg = rollout.spec.strategy.blueGreen) {
    add(bg->activeService, next.blueGreen.activeSelector, false);
    add(bg->previewService, next.blueGreen.previewSelector, false);
  } else if (const auto& canary = rollout.spec.strategy.canary) {
    if (canary->pingPong) return out;
    add(canary->stableService, sync.stableHash, true);
    add(canary->canaryService, sync.canaryHash, true);
  }
  return out;
}

int32_t replicaShareWeight(int readyStable, int readyCanary, int32_t maxWeight) {
  readyStable = std::max(readyStable, 0);
  readyCanary = std::max(readyCanary, 0);
  const int64_t total = int64_t{readyStable} + readyCanary;
  if (total == 0 || readyCanary == 0) return 0;
  if (readyStable == 0) return maxWeight;
  // Nearest integer, halves up: (2 * c * M + total) / (2 * total).
  const int64_t share = (2 * int64_t{readyCanary} * maxWeight + total) / (2 * total);
  return static_cast<int32_t>(std::clamp<int64_t>(share, 1, int64_t{maxWeight} - 1));
}

}  // namespace ramp::rollout
