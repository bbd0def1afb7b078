#include "gitops/health.h"

#include <array>

namespace ramp::gitops {
namespace {

constexpr std::array<std::string_view, 6> kOrder = {"Healthy", "Suspended", "Progressing",
                                                    "Missing", "Degraded",  "Unknown"};

spec::ApplicationHealth rolloutHealth(const spec::Rollout& r) {
  if (r.status.observedGeneration != std::to_string(r.metadata.generation)) {
    return {"Progressing", "Waiting for rollout spec update to be observed"};
  }
  switch (r.status.phase) {
    case spec::RolloutPhase::kPaused: return {"Suspended", r.status.message};
    case spec::RolloutPhase::kNone:
      return {"Progressing", "Waiting for rollout spec update to be observed"};
    default: return {spec::rolloutPhaseName(r.status.phase), r.status.message};
  }
}

spec::ApplicationHealth runHealth(const spec::AnalysisRun& run) {
  switch (run.status.phase) {
    case spec::AnalysisPhase::kSuccessful: return {"Healthy", run.status.message};
    case spec::AnalysisPhase::kFailed:
    case spec::AnalysisPhase::kError: return {"Degraded", run.status.message};
    case spec::AnalysisPhase::kInconclusive: return {"Suspended", run.status.message};
    default: return {"Progressing", run.status.message};
  }
}

}  // namespace

int healthRank(std::string_view status) {
  for (size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == status) return static_cast<int>(i);
  }
  return static_cast<int>(kOrder.size()) - 1;
}

std::optional<spec::ApplicationHealth> objectHealth(const spec::Object& object) {
  if (const auto* r = std::get_if<spec::Rollout>(&object)) return rolloutHealth(*r);
  if (const auto* run = std::get_if<spec::AnalysisRun>(&object)) return runHealth(*run);
  return std::nullopt;
}

spec::ApplicationHealth worstHealth(const std::vector<spec::ApplicationHealth>& healths) {
  spec::ApplicationHealth worst{"Healthy", ""};
  for (const spec::ApplicationHealth& h : healths) {
    if (healthRank(h.status) > healthRank(worst.status)) worst = h;
  }
  return worst;
}

}  // namespace ramp::gitops
