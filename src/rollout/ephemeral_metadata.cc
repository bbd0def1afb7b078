#include "rollout/ephemeral_metadata.h"

namespace ramp::rollout {

platform::RoleMetadata roleMetadata(const spec::Rollout& rollout) {
  platform::RoleMetadata out;
  auto add = [&](const char* role, const std::optional<spec::PodTemplateMetadata>& m) {
    if (m) out.emplace(role, *m);
  };
  if (const auto& canary = rollout.spec.strategy.canary) {
    add("canary", canary->canaryMetadata);
    add("stable", canary->stableMetadata);
  } else if (const auto& bg = rollout.spec.strategy.blueGreen) {
    add("preview", bg->previewMetadata);
    add("active", bg->activeMetadata);
  }
  return out;
}

std::optional<spec::PodTemplateMetadata> creationMetadata(const spec::Rollout& rollout,
                                                          const std::string& stableHash,
                                                          const std::string& hash) {
  const bool aCanary = !stableHash.empty() && stableHash != hash;
  if (const auto& canary = rollout.spec.strategy.canary) {
    return aCanary ? canary->canaryMetadata : canary->stableMetadata;
  }
  if (const auto& bg = rollout.spec.strategy.blueGreen) {
    return aCanary ? bg->previewMetadata : bg->activeMetadata;
  }
  return std::nullopt;
}

platform::RevisionSpec revisionSpec(const spec::Rollout& rollout, const std::string& stableHash,
                                    const EnsureRevision& ensure) {
  platform::RevisionSpec out;
  out.hash = ensure.hash;
  out.revision = ensure.revision;
  out.template_ = ensure.template_;
  out.minReadySeconds = ensure.minReadySeconds;
  out.rolloutReplicas = rollout.spec.replicas.value_or(1);
  out.rolloutAnnotations = rollout.metadata.annotations;
  out.ephemeralMetadata = creationMetadata(rollout, stableHash, ensure.hash);
  // Argo's GetRolloutAffinity: a rule that names neither kind of scheduling is no rule.
  const auto& strategy = rollout.spec.strategy;
  std::optional<spec::AntiAffinity> rule = strategy.canary      ? strategy.canary->antiAffinity
                                           : strategy.blueGreen ? strategy.blueGreen->antiAffinity
                                                                : std::nullopt;
  if (rule &&
      (rule->preferredDuringSchedulingIgnoredDuringExecution ||
       rule->requiredDuringSchedulingIgnoredDuringExecution) &&
      !stableHash.empty() && stableHash != ensure.hash) {
    out.antiAffinity = platform::RevisionSpec::AntiAffinityTo{stableHash, *rule};
  }
  return out;
}

}  // namespace ramp::rollout
