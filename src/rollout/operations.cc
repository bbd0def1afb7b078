#include "rollout/operations.h"

#include <algorithm>

#include "rollout/engine.h"

namespace ramp::rollout {
namespace {

std::unexpected<Error> precondition(const spec::Rollout& r, const std::string& what) {
  return makeError(ErrorCode::kFailedPrecondition, "rollout '" + r.metadata.name + "': " + what);
}

bool fullyPromoted(const spec::Rollout& r) {
  return !r.status.stableRS.empty() && r.status.stableRS == r.status.currentPodHash;
}

bool hasReason(const spec::RolloutStatus& s, const std::string& reason) {
  return std::any_of(s.pauseConditions.begin(), s.pauseConditions.end(),
                     [&](const spec::PauseCondition& p) { return p.reason == reason; });
}

}  // namespace

Result<spec::Rollout> promote(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  if (r.status.abort) return precondition(r, "the update is aborted; use retry to start it again");
  if (fullyPromoted(r) && !r.spec.paused && r.status.pauseConditions.empty())
    return precondition(r, "nothing to promote: revision is already fully promoted");
  r.spec.paused = false;
  if (r.spec.strategy.blueGreen) {
    r.status.pauseConditions.clear();
    return r;
  }
  const auto& steps =
      r.spec.strategy.canary ? r.spec.strategy.canary->steps : std::vector<spec::CanaryStep>{};
  const int32_t n = static_cast<int32_t>(steps.size());
  const int32_t index = r.status.currentStepIndex.value_or(0);
  const bool atPauseStep = index < n && steps[static_cast<size_t>(index)].pause &&
                           hasReason(r.status, spec::kPauseReasonCanaryPauseStep);
  if (atPauseStep) {
    r.status.pauseConditions.clear();  // the pause step completes on the next reconcile
    return r;
  }
  const bool stepInconclusive = index < n && steps[static_cast<size_t>(index)].analysis &&
                                hasReason(r.status, spec::kPauseReasonInconclusiveAnalysis);
  if (stepInconclusive) {
    r.status.pauseConditions.clear();
    r.status.controllerPause = false;
    r.status.currentStepIndex = index + 1;
    return r;
  }
  if (!r.status.pauseConditions.empty()) {
    // Background analysis inconclusive, or an unsupported step: clear and let it continue.
    const bool unsupported = hasReason(r.status, "UnsupportedStep");
    r.status.pauseConditions.clear();
    if (unsupported && index < n) {
      r.status.controllerPause = false;
      r.status.currentStepIndex = index + 1;
    }
    return r;
  }
  if (rollout.spec.paused) return r;  // only unpausing
  if (n == 0 || index >= n)
    return precondition(r, "no remaining steps to skip (use promote --full)");
  r.status.currentStepIndex = index + 1;  // skip the current step
  return r;
}

Result<spec::Rollout> promoteFull(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  if (fullyPromoted(r)) return precondition(r, "already fully promoted");
  r.spec.paused = false;
  r.status.promoteFull = true;
  return r;
}

Result<spec::Rollout> abortRollout(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  if (r.status.abort) return precondition(r, "already aborted");
  if (fullyPromoted(r) || r.status.stableRS.empty())
    return precondition(r, "no update in progress to abort");
  r.status.abort = true;
  return r;
}

Result<spec::Rollout> retry(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  if (r.status.abort) {
    r.status.abort = false;
    return r;
  }
  // Paused by the signature gate: the controller asks the image verifier again
  // (imageRecheckRequested) and creates the revision if its images verify now.
  if (!hasReason(r.status, kPauseReasonImageNotVerified)) {
    return precondition(r,
                        "not aborted; retry applies to an aborted update or to an image that was "
                        "not verified (pause ImageNotVerified)");
  }
  std::erase_if(r.status.pauseConditions, [](const spec::PauseCondition& p) {
    return p.reason == kPauseReasonImageNotVerified;
  });
  if (r.status.pauseConditions.empty()) r.status.controllerPause = false;
  return r;
}

Result<spec::Rollout> undo(const spec::Rollout& rollout,
                           const std::vector<platform::ObservedRevision>& revisions,
                           std::optional<int64_t> toRevision) {
  spec::Rollout r = rollout;
  const std::string current =
      r.spec.template_ ? podTemplateHash(*r.spec.template_, r.status.collisionCount) : "";
  int64_t currentRevision = 0;
  for (const auto& rev : revisions)
    if (rev.podTemplateHash == current) currentRevision = rev.revision;
  const platform::ObservedRevision* target = nullptr;
  if (toRevision && *toRevision > 0) {
    for (const auto& rev : revisions)
      if (rev.revision == *toRevision) target = &rev;
    if (!target)
      return makeError(ErrorCode::kNotFound, "rollout '" + r.metadata.name + "': revision " +
                                                 std::to_string(*toRevision) + " not found");
  } else {
    for (const auto& rev : revisions) {
      if (rev.podTemplateHash == current) continue;
      if (currentRevision != 0 && rev.revision > currentRevision) continue;
      if (!target || rev.revision > target->revision) target = &rev;
    }
    if (!target) return precondition(r, "no previous revision to roll back to");
  }
  if (r.spec.template_ && *r.spec.template_ == target->template_)
    return precondition(r, "skipped rollback: the template already matches revision " +
                               std::to_string(target->revision));
  spec::PodTemplateSpec tmpl = target->template_;
  tmpl.metadata.labels.erase("rollouts-pod-template-hash");
  r.spec.template_ = tmpl;
  return r;
}

Result<spec::Rollout> pause(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  r.spec.paused = true;
  return r;
}

Result<spec::Rollout> resume(const spec::Rollout& rollout) {
  spec::Rollout r = rollout;
  if (!r.spec.paused && !r.status.pauseConditions.empty()) {
    return precondition(r, "paused by the controller (" + r.status.pauseConditions.front().reason +
                               "), not by a user: use promote to continue");
  }
  if (!r.spec.paused) return precondition(r, "not paused");
  r.spec.paused = false;
  return r;
}

Result<spec::Rollout> restart(const spec::Rollout& rollout, Time at) {
  spec::Rollout r = rollout;
  if (r.status.restartedAt && at < *r.status.restartedAt)
    return precondition(r, "restart time is before the last restart");
  r.spec.restartAt = at;
  return r;
}

Result<spec::Rollout> setImage(const spec::Rollout& rollout, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == assignment.size())
    return makeError(ErrorCode::kInvalidArgument,
                     "set image: expected CONTAINER=IMAGE or *=IMAGE, got '" + assignment + "'");
  const std::string name = assignment.substr(0, eq);
  const std::string image = assignment.substr(eq + 1);
  spec::Rollout r = rollout;
  if (!r.spec.template_) return precondition(r, "has no spec.template to set an image in");
  bool found = false;
  auto apply = [&](std::vector<spec::Container>& containers) {
    for (auto& c : containers) {
      if (name == "*" || c.name == name) {
        c.image = image;
        found = true;
      }
    }
  };
  apply(r.spec.template_->spec.containers);
  apply(r.spec.template_->spec.initContainers);
  if (!found) return precondition(r, "no container named '" + name + "'");
  return r;
}

}  // namespace ramp::rollout
