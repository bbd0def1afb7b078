#include "rollout/services.h"

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

}  // namespace ramp::rollout
