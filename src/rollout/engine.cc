#include "rollout/engine.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "rollout/context.h"
#include "spec/codec.h"
#include "spec/values.h"

namespace ramp::rollout {
namespace internal {

std::string formatTime(Time t) { return spec::formatRfc3339(t); }

// --- Context helpers ---------------------------------------------------------------------------

const spec::PauseCondition* Context::oldPause(const std::string& reason) const {
  for (const auto& p : old.pauseConditions)
    if (p.reason == reason) return &p;
  return nullptr;
}

void Context::event(const std::string& type, const std::string& reason, const std::string& message,
                    std::map<std::string, std::string> evidence) {
  plan.events.push_back(Event{type, reason, message, std::move(evidence)});
}

void Context::requeueAt(Time t) { requeueAfter(t <= now ? Duration(0) : t - now); }

void Context::requeueAfter(Duration d) {
  if (d < Duration(0)) d = Duration(0);
  if (!plan.requeueAfter || d < *plan.requeueAfter) plan.requeueAfter = d;
}

void Context::abort(const std::string& message, std::map<std::string, std::string> evidence) {
  if (addAbort) return;
  addAbort = true;
  abortMessage = message;
  abortEvidence = std::move(evidence);
}

// --- conditions ---------------------------------------------------------------------------------

const spec::RolloutCondition* getCondition(const spec::RolloutStatus& s, const std::string& type) {
  for (const auto& c : s.conditions)
    if (c.type == type) return &c;
  return nullptr;
}

void removeCondition(spec::RolloutStatus& s, const std::string& type) {
  std::erase_if(s.conditions, [&](const spec::RolloutCondition& c) { return c.type == type; });
}

bool setCondition(spec::RolloutStatus& s, spec::RolloutCondition c) {
  const spec::RolloutCondition* cur = getCondition(s, c.type);
  if (cur && cur->status == c.status && cur->reason == c.reason) return false;
  if (cur && cur->status == c.status) c.lastTransitionTime = cur->lastTransitionTime;
  removeCondition(s, c.type);
  s.conditions.push_back(std::move(c));
  return true;
}

spec::RolloutCondition newCondition(const std::string& type, const std::string& status,
                                    const std::string& reason, const std::string& message,
                                    Time now) {
  return spec::RolloutCondition{type, status, now, now, reason, message};
}

namespace {

bool isCompleted(spec::AnalysisPhase p) {
  return p == spec::AnalysisPhase::kSuccessful || p == spec::AnalysisPhase::kFailed ||
         p == spec::AnalysisPhase::kError || p == spec::AnalysisPhase::kInconclusive;
}

std::string formatSelector(const spec::RolloutSpec& s) {
  if (!s.selector) return "";
  std::string out;
  for (const auto& [k, v] : s.selector->matchLabels) {
    if (!out.empty()) out += ",";
    out += k + "=" + v;
  }
  return out;
}

bool isIndefiniteStep(const Context& c) {
  if (!c.spec.strategy.canary) return false;
  const auto& steps = c.spec.strategy.canary->steps;
  const int32_t index = c.old.currentStepIndex.value_or(0);
  if (steps.empty() || index < 0 || index >= static_cast<int32_t>(steps.size())) return false;
  const auto& step = steps[static_cast<size_t>(index)];
  return step.experiment || step.analysis || step.pause;
}

bool rolloutHealthy(const Context& c, const spec::RolloutStatus& s) {
  const int32_t replicas = c.replicas();
  bool completed = true;
  if (c.spec.strategy.blueGreen) {
    const bool active = s.blueGreen.activeSelector == s.currentPodHash;
    const bool preview = c.spec.strategy.blueGreen->previewService.empty() ||
                         s.blueGreen.previewSelector == s.currentPodHash;
    completed = active && preview;
  }
  if (c.spec.strategy.canary) {
    const auto stepCount = static_cast<int32_t>(c.spec.strategy.canary->steps.size());
    bool allSteps = true;
    if (stepCount > 0 && s.currentStepIndex) allSteps = *s.currentStepIndex == stepCount;
    const bool stable = !s.stableRS.empty() && s.stableRS == s.currentPodHash;
    completed = allSteps && stable && s.replicas == replicas;
  }
  return s.updatedReplicas == replicas && s.availableReplicas == replicas &&
         c.old.observedGeneration == std::to_string(c.rollout.metadata.generation) && completed;
}

// Argo's RolloutProgressing, except that readiness and availability gains of a new revision
// whose replicas are crash-looping do not count as progress (Argo issue #3765).
bool rolloutProgressing(const Context& c, const spec::RolloutStatus& s) {
  const auto& o = c.old;
  bool strategy = false;
  if (c.spec.strategy.blueGreen)
    strategy = o.blueGreen.activeSelector != s.blueGreen.activeSelector ||
               o.blueGreen.previewSelector != s.blueGreen.previewSelector;
  if (c.spec.strategy.canary) {
    const bool step =
        s.currentStepIndex && o.currentStepIndex && *s.currentStepIndex != *o.currentStepIndex;
    strategy = s.stableRS != o.stableRS || step || s.currentStepHash != o.currentStepHash;
  }
  const bool flapping = c.newRev && c.newRev->crashLoopingReplicas > 0;
  const bool readiness =
      !flapping && (s.readyReplicas > o.readyReplicas || s.availableReplicas > o.availableReplicas);
  return s.updatedReplicas != o.updatedReplicas ||
         (s.replicas - s.updatedReplicas) < (o.replicas - o.updatedReplicas) || readiness ||
         strategy;
}

}  // namespace

spec::RolloutPhase phaseOf(const spec::RolloutSpec& sp, const spec::RolloutStatus& s,
                           std::string& message) {
  for (const auto& cond : s.conditions) {
    if (cond.type == spec::kConditionInvalidSpec) {
      message = std::string(spec::kConditionInvalidSpec) + ": " + cond.message;
      return spec::RolloutPhase::kDegraded;
    }
    if (cond.reason == kReasonRolloutAborted || cond.reason == kReasonProgressDeadlineExceeded) {
      message = cond.reason + ": " + cond.message;
      return spec::RolloutPhase::kDegraded;
    }
  }
  if (sp.paused) {
    message = "manually paused";
    return spec::RolloutPhase::kPaused;
  }
  if (!s.pauseConditions.empty()) {
    message = s.pauseConditions.front().reason;
    return spec::RolloutPhase::kPaused;
  }
  if (sp.restartAt && (!s.restartedAt || *s.restartedAt != *sp.restartAt)) {
    message = "rollout is restarting";
    return spec::RolloutPhase::kProgressing;
  }
  if (s.updatedReplicas < spec::replicasOrDefault(sp)) {
    message = "more replicas need to be updated";
    return spec::RolloutPhase::kProgressing;
  }
  if (s.availableReplicas < s.updatedReplicas) {
    message = "updated replicas are still becoming available";
    return spec::RolloutPhase::kProgressing;
  }
  const bool promoted = !s.stableRS.empty() && s.stableRS == s.currentPodHash;
  if (sp.strategy.blueGreen) {
    if (s.blueGreen.activeSelector.empty() || s.blueGreen.activeSelector != s.currentPodHash) {
      message = "active service cutover pending";
      return spec::RolloutPhase::kProgressing;
    }
    if (!promoted) {
      const bool waitingPost = sp.strategy.blueGreen->postPromotionAnalysis &&
                               (!s.blueGreen.postPromotionAnalysisRunStatus ||
                                !isCompleted(s.blueGreen.postPromotionAnalysisRunStatus->status));
      message = waitingPost ? "waiting for analysis to complete"
                            : "waiting for post-promotion verification to complete";
      return spec::RolloutPhase::kProgressing;
    }
  } else if (sp.strategy.canary) {
    if (!sp.strategy.canary->trafficRouting && s.replicas > s.updatedReplicas) {
      message = "old replicas are pending termination";
      return spec::RolloutPhase::kProgressing;
    }
    if (!promoted) {
      message = "waiting for all steps to complete";
      return spec::RolloutPhase::kProgressing;
    }
  }
  if (sp.strategy.canary && sp.strategy.canary->trafficRouting && s.canary.weights &&
      s.canary.weights->verified == false) {
    // Never Healthy while a router has not confirmed the traffic split it was given (a proxy
    // that restarted, could not reload, or was changed by hand): the controller's router watch
    // restores it and the next reconcile records it verified.
    message = "waiting for the routers to verify traffic weight " +
              std::to_string(s.canary.weights->canary.weight);
    return spec::RolloutPhase::kProgressing;
  }
  message.clear();
  return spec::RolloutPhase::kHealthy;
}

// --- shared phases ------------------------------------------------------------------------------

void computeBaseStatus(Context& c) {
  auto& next = c.next;
  next.currentPodHash = c.podHash;
  int32_t replicas = 0, ready = 0, available = 0;
  for (const auto& r : c.observed.workload.revisions) {
    replicas += r.currentReplicas;
    ready += r.readyReplicas;
    available += r.availableReplicas;
  }
  next.replicas = replicas;
  next.readyReplicas = ready;
  next.availableReplicas = available;
  next.HPAReplicas = replicas;
  next.updatedReplicas = c.newRev ? c.newRev->currentReplicas : 0;
  next.observedGeneration = std::to_string(c.rollout.metadata.generation);
  next.selector = formatSelector(c.spec);
  next.promoteFull = c.podHash != c.old.stableRS && c.old.promoteFull;
  if (c.spec.strategy.canary) next.currentStepHash = c.stepsHash;
  removeCondition(next, spec::kConditionInvalidSpec);
}

void checkPausedConditions(Context& c) {
  auto& next = c.next;
  const spec::RolloutCondition* prog = getCondition(next, spec::kConditionProgressing);
  const bool progPaused = prog && prog->reason == kReasonRolloutPaused;
  const bool isPaused = !c.old.pauseConditions.empty() || c.spec.paused;
  const bool abortCond = prog && prog->reason == kReasonRolloutAborted;
  if (isPaused != progPaused && !abortCond) {
    setCondition(next, newCondition(spec::kConditionProgressing, "Unknown",
                                    isPaused ? kReasonRolloutPaused : kReasonRolloutResumed,
                                    isPaused ? "Rollout is paused" : "Rollout is resumed", c.now));
  }
  if (!c.old.abort && abortCond) {
    setCondition(next, newCondition(spec::kConditionProgressing, "Unknown", kReasonRolloutRetry,
                                    "Retrying Rollout after abort", c.now));
  }
  const spec::RolloutCondition* paused = getCondition(next, spec::kConditionPaused);
  const bool pausedTrue = paused && paused->status == "True";
  if (isPaused != pausedTrue && !abortCond) {
    setCondition(next, newCondition(spec::kConditionPaused, isPaused ? "True" : "False",
                                    kReasonRolloutPaused, "Rollout is paused", c.now));
  }
}

void calculateConditions(Context& c) {
  auto& next = c.next;
  const bool isPaused = !c.old.pauseConditions.empty() || c.spec.paused;
  const bool aborted = c.isAborted();
  const std::string rsName = c.rsName(c.podHash);

  bool becameUnhealthy = false;
  const bool hadHealthy = getCondition(c.old, spec::kConditionHealthy) != nullptr;
  if (!isPaused && rolloutHealthy(c, next)) {
    setCondition(next, newCondition(spec::kConditionHealthy, "True", kReasonRolloutHealthy,
                                    "Rollout is healthy", c.now));
  } else if (hadHealthy) {
    becameUnhealthy =
        setCondition(next, newCondition(spec::kConditionHealthy, "False", kReasonRolloutHealthy,
                                        "Rollout is not healthy", c.now));
  }

  if (aborted) {
    std::string message = "Rollout aborted update to revision " + std::to_string(c.revision);
    if (!c.abortMessage.empty()) message += ": " + c.abortMessage;
    if (setCondition(next, newCondition(spec::kConditionProgressing, "False", kReasonRolloutAborted,
                                        message, c.now))) {
      auto evidence = c.abortEvidence;
      evidence["revision"] = std::to_string(c.revision);
      c.event("Warning", kReasonRolloutAborted, message, evidence);
    }
  } else {
    const spec::RolloutCondition* current = getCondition(next, spec::kConditionProgressing);
    if (rolloutHealthy(c, next)) {
      setCondition(
          next, newCondition(spec::kConditionProgressing, "True", kReasonNewRsAvailable,
                             "ReplicaSet \"" + rsName + "\" has successfully progressed.", c.now));
    } else if (rolloutProgressing(c, next) || becameUnhealthy) {
      std::string reason = kReasonReplicaSetUpdated;
      std::string message = "ReplicaSet \"" + rsName + "\" is progressing.";
      if (next.stableRS == next.currentPodHash && becameUnhealthy) {
        reason = kReasonReplicaSetNotAvailable;
        message = "Rollout does not have minimum availability";
      }
      auto cond = newCondition(spec::kConditionProgressing, "True", reason, message, c.now);
      if (current && current->status == "True")
        cond.lastTransitionTime = current->lastTransitionTime;
      removeCondition(next, spec::kConditionProgressing);
      next.conditions.push_back(cond);
    } else if (!isIndefiniteStep(c) && !isPaused && current && current->lastUpdateTime &&
               current->reason != kReasonRolloutAborted) {
      const Duration deadline =
          std::chrono::seconds(spec::progressDeadlineSecondsOrDefault(c.spec));
      const bool timedOut = current->reason == kReasonProgressDeadlineExceeded ||
                            *current->lastUpdateTime + deadline < c.now;
      if (timedOut) {
        const std::string message = "ReplicaSet \"" + rsName + "\" has timed out progressing.";
        std::map<std::string, std::string> evidence{
            {"progressDeadlineSeconds",
             std::to_string(spec::progressDeadlineSecondsOrDefault(c.spec))},
            {"lastProgress", formatTime(*current->lastUpdateTime)},
            {"updatedReplicas", std::to_string(next.updatedReplicas)},
            {"availableReplicas", std::to_string(next.availableReplicas)},
            {"crashLoopingReplicas",
             std::to_string(c.newRev ? c.newRev->crashLoopingReplicas : 0)}};
        const bool changed =
            setCondition(next, newCondition(spec::kConditionProgressing, "False",
                                            kReasonProgressDeadlineExceeded, message, c.now));
        if (changed) c.event("Warning", kReasonProgressDeadlineExceeded, message, evidence);
        const bool fullyPromoted = c.old.stableRS == c.podHash;
        if (c.spec.progressDeadlineAbort && !fullyPromoted && !c.isAborted()) {
          c.abort(message, evidence);
        }
      }
    }
    // While the update is in flight, check the deadline again when it would expire.
    const spec::RolloutCondition* prog = getCondition(next, spec::kConditionProgressing);
    if (prog && prog->lastUpdateTime && prog->reason != kReasonProgressDeadlineExceeded &&
        prog->reason != kReasonNewRsAvailable && !isPaused && !isIndefiniteStep(c) &&
        !rolloutHealthy(c, next)) {
      const Duration deadline =
          std::chrono::seconds(spec::progressDeadlineSecondsOrDefault(c.spec));
      c.requeueAt(*prog->lastUpdateTime + deadline + Duration(1000));
    }
  }

  // Available.
  bool available = false;
  if (c.spec.strategy.blueGreen) {
    for (const auto& r : c.observed.workload.revisions)
      if (r.podTemplateHash == next.blueGreen.activeSelector &&
          !next.blueGreen.activeSelector.empty())
        available = r.availableReplicas >= c.replicas() && r.desiredReplicas == c.replicas();
  } else {
    available = next.availableReplicas >= c.replicas();
  }
  setCondition(
      next, newCondition(spec::kConditionAvailable, available ? "True" : "False", kReasonAvailable,
                         available ? "Rollout has minimum availability"
                                   : "Rollout does not have minimum availability",
                         c.now));

  // Completed.
  const bool completed = !next.stableRS.empty() && next.stableRS == next.currentPodHash;
  const bool changed =
      setCondition(next, newCondition(spec::kConditionCompleted, completed ? "True" : "False",
                                      kReasonRolloutCompleted, kReasonRolloutCompleted, c.now));
  if (changed && !completed) {
    c.event("Normal", kReasonRolloutNotCompleted,
            "Rollout not completed, started update to revision " + std::to_string(c.revision) +
                " (" + c.podHash + ")",
            {{"revision", std::to_string(c.revision)}, {"podTemplateHash", c.podHash}});
  }
}

void finalizeStatus(Context& c) {
  auto& next = c.next;
  // Argo's CalculatePauseStatus.
  const std::optional<Time> abortedAt = c.old.abortedAt ? c.old.abortedAt : std::optional(c.now);
  if (c.isAborted()) {
    next.abort = true;
    next.abortedAt = abortedAt;
    next.pauseConditions.clear();
    next.controllerPause = false;
  } else {
    next.abort = false;
    next.abortedAt.reset();
    std::vector<spec::PauseCondition> conds;
    bool controllerPause = c.old.controllerPause;
    if (!c.clearPause) {
      std::map<std::string, bool> exists;
      for (const auto& p : c.old.pauseConditions) {
        exists[p.reason] = true;
        if (std::find(c.removePause.begin(), c.removePause.end(), p.reason) == c.removePause.end())
          conds.push_back(p);
      }
      for (const auto& reason : c.addPause) {
        if (exists[reason]) continue;
        exists[reason] = true;
        conds.push_back(spec::PauseCondition{reason, c.now});
        controllerPause = true;
      }
    }
    next.pauseConditions = conds;
    next.controllerPause = conds.empty() ? false : controllerPause;
  }

  // status.duration.
  auto& d = next.duration;
  if (!d) d = spec::RolloutDuration{};
  if (c.spec.paused && !d->manualPauseStartedAt) d->manualPauseStartedAt = c.now;
  if (!c.spec.paused && d->manualPauseStartedAt) {
    d->totalManualPauseDurationSeconds +=
        std::chrono::duration_cast<std::chrono::seconds>(c.now - *d->manualPauseStartedAt).count();
    d->manualPauseStartedAt.reset();
  }
  if (next.abort && d->completionStatus != "Aborted") {
    d->finishedAt = c.now;
    d->completionStatus = "Aborted";
  } else if (!next.abort && d->completionStatus == "Aborted") {
    d->finishedAt.reset();  // retried: the update is running again
    d->completionStatus.clear();
  }

  // State change events (Argo's sendStateChangeEvents).
  const bool prevPaused = !c.old.pauseConditions.empty();
  const bool curPaused = !next.pauseConditions.empty();
  if (prevPaused != curPaused) {
    if (curPaused) {
      c.event("Normal", kReasonRolloutPaused,
              "Rollout is paused (" + next.pauseConditions.front().reason + ")",
              {{"reason", next.pauseConditions.front().reason},
               {"stepIndex", next.currentStepIndex ? std::to_string(*next.currentStepIndex) : ""}});
    } else if (!next.abortedAt) {
      c.event("Normal", kReasonRolloutResumed, "Rollout is resumed");
    }
  }

  next.phase = phaseOf(c.spec, next, next.message);
}

void scaleRevision(Context& c, const ObservedRevision& rev, int32_t replicas) {
  if (rev.desiredReplicas == replicas) return;
  c.action(ScaleRevision{rev.podTemplateHash, replicas, rev.desiredReplicas});
  const std::string direction = rev.desiredReplicas < replicas ? "up" : "down";
  c.event("Normal", "ScalingReplicaSet",
          "Scaled " + direction + " ReplicaSet " + c.rsName(rev.podTemplateHash) + " (revision " +
              std::to_string(rev.revision) + ") from " + std::to_string(rev.desiredReplicas) +
              " to " + std::to_string(replicas),
          {{"podTemplateHash", rev.podTemplateHash},
           {"revision", std::to_string(rev.revision)},
           {"from", std::to_string(rev.desiredReplicas)},
           {"to", std::to_string(replicas)},
           {"available", std::to_string(rev.availableReplicas)}});
  c.scaledSomething = true;
}

int32_t delayedScaleDownCount(Context& c, const ObservedRevision& rev, int32_t& annotated) {
  if (rev.scaleDownDeadline) {
    ++annotated;
    if (annotated > spec::scaleDownDelayRevisionLimitOrDefault(c.spec)) return 0;
    if (*rev.scaleDownDeadline > c.now) {
      c.requeueAt(*rev.scaleDownDeadline);
      return rev.desiredReplicas;
    }
    return 0;
  }
  return 0;
}

void reconcileRevisionHistory(Context& c) {
  std::vector<const ObservedRevision*> old = c.others;
  std::sort(old.begin(), old.end(), [](const ObservedRevision* a, const ObservedRevision* b) {
    return a->revision < b->revision;
  });
  const int64_t diff =
      static_cast<int64_t>(old.size()) - spec::revisionHistoryLimitOrDefault(c.spec);
  for (int64_t i = 0; i < diff; ++i) {
    const ObservedRevision& r = *old[static_cast<size_t>(i)];
    if (r.desiredReplicas != 0 || r.currentReplicas != 0) continue;
    c.action(RetireRevision{r.podTemplateHash});
    for (const auto& run : c.observed.analysisRuns) {
      auto it = run.metadata.labels.find(kPodTemplateHashLabel);
      if (it != run.metadata.labels.end() && it->second == r.podTemplateHash)
        c.action(DeleteAnalysisRun{run.metadata.name});
    }
  }
}

namespace {

// The desired revision was created before the stable one. Revision numbers order revisions the
// way Argo's creation timestamps do when the driver reports no creation time.
bool olderThanStable(const Context& c) {
  if (!c.hasStable() || c.newRevCreatedNow) return false;
  if (!c.newRev->createdAt || !c.stableRev->createdAt)
    return c.newRev->revision < c.stableRev->revision;
  return *c.newRev->createdAt < *c.stableRev->createdAt;
}

// Argo's isRollback: the desired revision is the stable one, or older than it.
bool isRollback(const Context& c) {
  if (!c.stableRev || !c.newRev || c.newRevCreatedNow) return false;
  return c.old.stableRS == c.podHash || olderThanStable(c);
}

}  // namespace

bool isFastRollback(const Context& c) {
  if (!isRollback(c)) return false;
  const bool withinDelay = c.spec.strategy.blueGreen && c.newRev->scaleDownDeadline &&
                           *c.newRev->scaleDownDeadline > c.now;
  return c.old.stableRS == c.podHash || withinDelay || isRollbackWithinWindow(c);
}

bool isRollbackWithinWindow(const Context& c) {
  if (!c.hasStable() || !c.spec.rollbackWindow || c.spec.rollbackWindow->revisions <= 0)
    return false;
  if (!olderThanStable(c)) return false;
  const int64_t stable = c.stableRev->revision;
  int32_t window = 0;
  for (const auto& r : c.observed.workload.revisions) {
    const bool between =
        (r.createdAt && c.newRev->createdAt && c.stableRev->createdAt)
            ? (*r.createdAt < *c.stableRev->createdAt && *c.newRev->createdAt < *r.createdAt)
            : (r.revision < stable && r.revision > c.newRev->revision);
    if (between) ++window;
  }
  return window < c.spec.rollbackWindow->revisions;
}

void promoteStable(Context& c, const std::string& reason) {
  c.clearPause = true;
  c.removeAbort = true;
  c.next.promoteFull = false;
  c.next.blueGreen.scaleUpPreviewCheckPoint = false;
  c.promotedReason = reason;
  if (c.spec.strategy.canary) {
    const auto steps = static_cast<int32_t>(c.spec.strategy.canary->steps.size());
    c.next.currentStepIndex = steps > 0 ? std::optional<int32_t>(steps) : std::nullopt;
  }
  const std::string previous = c.next.stableRS;
  if (previous == c.podHash) return;
  c.next.stableRS = c.podHash;
  // Traffic-routed canary and blue-green keep the previous stable up for scaleDownDelaySeconds.
  const bool delayed = c.spec.strategy.blueGreen ||
                       (c.spec.strategy.canary && c.spec.strategy.canary->trafficRouting);
  if (delayed && c.hasStable() && c.stableRev->desiredReplicas > 0 &&
      !c.stableRev->scaleDownDeadline) {
    const int32_t delay = spec::scaleDownDelaySecondsOrDefault(c.spec);
    if (delay > 0)
      c.action(
          SetScaleDownDeadline{c.stableRev->podTemplateHash, c.now + std::chrono::seconds(delay)});
  }
  auto& d = c.next.duration;
  if (!d) d = spec::RolloutDuration{};
  d->finishedAt = c.now;
  d->completionStatus = "Promoted";  // an initial deploy too
  if (reason == "Full promotion requested") {
    d->completionStatus = "FastPromoted";
  } else if (reason == "Rollback within window" || reason == "Fast rollback") {
    d->completionStatus = "FastRolledBack";
  } else if (reason != "Initial deploy" && c.newRev && c.hasStable() && c.newRev->revision != 0 &&
             c.newRev->revision < c.stableRev->revision) {
    d->completionStatus = "RolledBack";
  }
  c.event("Normal", kReasonRolloutCompleted,
          "Rollout completed update to revision " + std::to_string(c.revision) + " (" + c.podHash +
              "): " + reason,
          {{"revision", std::to_string(c.revision)},
           {"podTemplateHash", c.podHash},
           {"previousStable", previous},
           {"reason", reason}});
}

namespace {

// Kubernetes' SafeEncodeString alphabet: no vowels, no 0/1/3, so hashes never spell words.
constexpr std::string_view kSafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

std::string safeEncode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char ch : s) out.push_back(kSafeAlphabet[ch % kSafeAlphabet.size()]);
  return out;
}

uint32_t fnv32a(std::string_view data) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : data) {
    h ^= ch;
    h *= 16777619u;
  }
  return h;
}

void invalidSpec(Context& c, const std::string& message) {
  setCondition(c.next, newCondition(spec::kConditionInvalidSpec, "True", kReasonInvalidSpec,
                                    message, c.now));
  c.next.observedGeneration = std::to_string(c.rollout.metadata.generation);
  c.next.phase = phaseOf(c.spec, c.next, c.next.message);
  c.event("Warning", kReasonInvalidSpec, message);
}

}  // namespace
}  // namespace internal

using namespace internal;

Plan rejectSpec(const spec::Rollout& rollout, const std::string& message, Time now) {
  const Observed nothing;
  Context c(rollout, nothing, now);
  c.next = rollout.status;
  if (rollout.spec.template_) {
    // The shell caches these per stored version; a rollout that becomes runnable without a spec
    // change (the owner of its backend was deleted) must not find them empty.
    c.plan.hashes = {podTemplateHash(*rollout.spec.template_, rollout.status.collisionCount),
                     rollout.status.collisionCount, stepHash(rollout)};
  }
  const spec::RolloutCondition* before = getCondition(rollout.status, spec::kConditionInvalidSpec);
  const bool news = before == nullptr || before->message != message || before->status != "True";
  if (!news) {
    // Keep the condition's times: an unchanged problem is not a new transition.
    c.next.observedGeneration = std::to_string(rollout.metadata.generation);
    c.next.phase = phaseOf(c.spec, c.next, c.next.message);
    return std::move(c.plan);
  }
  invalidSpec(c, message);
  return std::move(c.plan);
}

std::string podTemplateHash(const spec::PodTemplateSpec& tmpl,
                            std::optional<int32_t> collisionCount) {
  spec::Rollout holder;
  holder.metadata.namespace_.clear();
  holder.spec.template_ = tmpl;
  std::string bytes = spec::toJson(holder);
  if (collisionCount) bytes += "#" + std::to_string(*collisionCount);
  return safeEncode(std::to_string(fnv32a(bytes)));
}

std::string stepHash(const spec::Rollout& rollout) {
  if (rollout.spec.strategy.blueGreen || !rollout.spec.strategy.canary) return "";
  spec::Rollout holder;
  holder.metadata.namespace_.clear();
  spec::CanaryStrategy canary;
  canary.steps = rollout.spec.strategy.canary->steps;
  holder.spec.strategy.canary = canary;
  return safeEncode(std::to_string(fnv32a(spec::toJson(holder))));
}

int32_t currentSetWeight(const spec::Rollout& rollout) {
  if (rollout.status.abort) return 0;
  if (!rollout.spec.strategy.canary) return 100;
  const auto& steps = rollout.spec.strategy.canary->steps;
  if (steps.empty()) return 100;
  const int32_t index = rollout.status.currentStepIndex.value_or(0);
  if (index >= static_cast<int32_t>(steps.size())) return 100;
  for (int32_t i = index; i >= 0; --i)
    if (steps[static_cast<size_t>(i)].setWeight) return *steps[static_cast<size_t>(i)].setWeight;
  return 0;
}

std::string describe(const Action& action) {
  struct Visitor {
    std::string operator()(const EnsureRevision& a) const {
      return "EnsureRevision(" + a.hash + ", revision " + std::to_string(a.revision) + ")";
    }
    std::string operator()(const ScaleRevision& a) const {
      return "ScaleRevision(" + a.hash + ", " + std::to_string(a.from) + " -> " +
             std::to_string(a.replicas) + ")";
    }
    std::string operator()(const SetScaleDownDeadline& a) const {
      return "SetScaleDownDeadline(" + a.hash + ", " +
             (a.deadline ? formatTime(*a.deadline) : std::string("none")) + ")";
    }
    std::string operator()(const RetireRevision& a) const {
      return "RetireRevision(" + a.hash + ")";
    }
    std::string operator()(const SyncEndpoints& a) const {
      std::string out = "SyncEndpoints(stable=" + a.stableHash + ", canary=" + a.canaryHash;
      for (const auto& h : a.drainingHashes) out += ", draining=" + h;
      return out + (a.byReplicas ? ", by replicas)" : ")");
    }
    std::string operator()(const SetWeight& a) const {
      return "SetWeight(" + std::to_string(a.canaryWeight) + ")";
    }
    std::string operator()(const SetHeaderRoute& a) const {
      return "SetHeaderRoute(" + a.route.name + ")";
    }
    std::string operator()(const SetMirrorRoute& a) const {
      return "SetMirrorRoute(" + a.route.name + ")";
    }
    std::string operator()(const RemoveManagedRoutes&) const { return "RemoveManagedRoutes"; }
    std::string operator()(const CreateAnalysisRun& a) const {
      return "CreateAnalysisRun(" + a.run.metadata.name + ")";
    }
    std::string operator()(const TerminateAnalysisRun& a) const {
      return "TerminateAnalysisRun(" + a.name + ")";
    }
    std::string operator()(const DeleteAnalysisRun& a) const {
      return "DeleteAnalysisRun(" + a.name + ")";
    }
    std::string operator()(const ScaleWorkloadRef& a) const {
      return "ScaleWorkloadRef(" + std::to_string(a.from) + " -> " + std::to_string(a.replicas) +
             ")";
    }
    std::string operator()(const RestartReplica& a) const {
      return "RestartReplica(" + a.hash + ", started before " + formatTime(a.before) + ")";
    }
  };
  return std::visit(Visitor{}, action);
}

namespace {

// The new revision c.revision (ReplicaSet `rsName`) was created: the Progressing condition says
// so, and with `announce` the events NewReplicaSetCreated and RolloutUpdated tell it.
void newReplicaSetCreated(Context& c, const std::string& rsName, bool announce) {
  if (announce) {
    c.event("Normal", kReasonNewReplicaSetCreated,
            "Created ReplicaSet " + rsName + " (revision " + std::to_string(c.revision) + ")",
            {{"podTemplateHash", c.podHash}, {"revision", std::to_string(c.revision)}});
    c.event("Normal", kReasonRolloutUpdated,
            "Rollout updated to revision " + std::to_string(c.revision),
            {{"revision", std::to_string(c.revision)}});
  }
  setCondition(c.next,
               newCondition(spec::kConditionProgressing, "True", kReasonNewReplicaSetCreated,
                            "Created new replica set \"" + rsName + "\"", c.now));
}

Plan reconcileTemplate(const spec::Rollout& rollout, const Observed& observed, Time now,
                       const SpecHashes* known) {
  Context c(rollout, observed, now);
  c.next = rollout.status;
  const auto& strategy = rollout.spec.strategy;
  if (!rollout.spec.template_) {
    const auto& ref = rollout.spec.workloadRef;
    invalidSpec(c, ref ? "spec.workloadRef: the " + ref->kind + " " + ref->name +
                             " was not read by the platform"
                       : std::string("Rollout has missing field 'spec.template'"));
    return std::move(c.plan);
  }
  if (strategy.canary.has_value() == strategy.blueGreen.has_value()) {
    invalidSpec(c, strategy.canary ? "Multiple Strategies can not be listed"
                                   : "Rollout has missing field 'spec.strategy'");
    return std::move(c.plan);
  }

  if (known != nullptr && known->collisionCount == rollout.status.collisionCount) {
    c.plan.hashes = *known;
  } else {
    c.plan.hashes = {podTemplateHash(*rollout.spec.template_, rollout.status.collisionCount),
                     rollout.status.collisionCount, stepHash(rollout)};
  }
  c.podHash = c.plan.hashes.podTemplate;
  c.stepsHash = c.plan.hashes.steps;
  if (!observed.collidedHash.empty() && observed.collidedHash == c.podHash) {
    // Argo's hash collision (rollout/sync.go): the name this hash gives is another object's.
    // Only the count moves; the next reconcile computes the hash with it and creates the
    // revision under the new name.
    c.next.collisionCount = c.next.collisionCount.value_or(0) + 1;
    c.plan.hashes = {podTemplateHash(*rollout.spec.template_, c.next.collisionCount),
                     c.next.collisionCount, c.stepsHash};
    c.plan.requeueAfter = Duration(0);
    return std::move(c.plan);
  }

  // Sort the observed revisions into new, stable and the others (newest first).
  int64_t maxOther = 0;
  for (const auto& r : observed.workload.revisions) {
    if (r.podTemplateHash == c.podHash) {
      c.newRev = &r;
    } else {
      maxOther = std::max(maxOther, r.revision);
    }
  }
  for (const auto& r : observed.workload.revisions) {
    if (!rollout.status.stableRS.empty() && r.podTemplateHash == rollout.status.stableRS)
      c.stableRev = &r;
    else if (&r != c.newRev)
      c.others.push_back(&r);
  }
  std::sort(c.others.begin(), c.others.end(),
            [](const ObservedRevision* a, const ObservedRevision* b) {
              return a->revision > b->revision;
            });

  const std::string rsName = c.rsName(c.podHash);
  // The status is persisted before the actions run, so a reconcile cut short by a crash can
  // find the status already naming this template while the revision does not exist (or still
  // has its old number). The update was announced then; the retry only re-applies the action.
  const bool announced = rollout.status.currentPodHash == c.podHash;
  // The signature gate (image_gate.cc): a revision about to be created runs only images the
  // shell's verifier allowed, pinned to their verified digests; refused, nothing is created.
  std::optional<spec::PodTemplateSpec> pinned;
  if (!gateRevision(c, !c.newRev || c.newRev->revision <= maxOther, !announced, pinned)) {
    return std::move(c.plan);
  }
  if (imagePaused(rollout.status)) {
    // The gate no longer refuses (the images verify now, the spec needs no new revision, or
    // there is no verifier any more): reconcile as if it had never paused.
    spec::Rollout lifted = rollout;
    liftImagePause(lifted.status);
    return reconcileTemplate(lifted, observed, now, &c.plan.hashes);
  }
  const spec::PodTemplateSpec& runTemplate = pinned ? *pinned : *rollout.spec.template_;
  if (!c.newRev) {
    c.revision = maxOther + 1;
    c.synthesized.podTemplateHash = c.podHash;
    c.synthesized.revision = c.revision;
    c.synthesized.template_ = runTemplate;
    c.synthesized.createdAt = now;
    c.newRev = &c.synthesized;
    c.newRevCreatedNow = true;
    c.action(EnsureRevision{c.podHash, c.revision, runTemplate, rollout.spec.minReadySeconds});
    newReplicaSetCreated(c, rsName, !announced);
  } else if (c.newRev->revision <= maxOther) {
    // Moving back to an older revision: it becomes the newest (Argo's syncReplicaSetRevision).
    c.revision = maxOther + 1;
    c.action(EnsureRevision{c.podHash, c.revision, runTemplate, rollout.spec.minReadySeconds});
    if (!announced) {
      c.event("Normal", kReasonRolloutUpdated,
              "Rollout updated to revision " + std::to_string(c.revision),
              {{"revision", std::to_string(c.revision)},
               {"previousRevision", std::to_string(c.newRev->revision)}});
    }
  } else {
    c.revision = c.newRev->revision;
    if (!announced && c.newRev->revision == maxOther + 1 && c.newRev->desiredReplicas == 0 &&
        c.newRev->currentReplicas == 0) {
      // The shell creates a new revision (0 replicas) before it persists the status that
      // announces it (docs/controller.md, step 2b); a crash between the two leaves this: the
      // newest revision, empty, and a status that does not name it. Announced now, once.
      newReplicaSetCreated(c, rsName, true);
    } else if (!getCondition(c.next, spec::kConditionProgressing)) {
      setCondition(c.next,
                   newCondition(spec::kConditionProgressing, "True", kReasonFoundNewReplicaSet,
                                "Found new replica set \"" + rsName + "\"", now));
    }
  }
  c.plan.revision = c.revision;

  computeBaseStatus(c);
  checkPausedConditions(c);
  if (strategy.canary) {
    reconcileCanary(c);
  } else {
    reconcileBlueGreen(c);
  }
  return std::move(c.plan);
}

}  // namespace

std::optional<RevisionToCreate> revisionToCreate(const spec::Rollout& rollout,
                                                 const Observed& observed,
                                                 const SpecHashes* known) {
  const spec::PodTemplateSpec* tmpl = rollout.spec.template_ ? &*rollout.spec.template_ : nullptr;
  if (rollout.spec.workloadRef && observed.referencedWorkload) {
    tmpl = &observed.referencedWorkload->template_;
    known = nullptr;  // the hashes of the stored spec, not of the referenced template
  }
  if (tmpl == nullptr) return std::nullopt;
  const std::string hash =
      known != nullptr && known->collisionCount == rollout.status.collisionCount
          ? known->podTemplate
          : podTemplateHash(*tmpl, rollout.status.collisionCount);
  // As reconcileTemplate: a new revision, or an older one moved back to the newest.
  int64_t maxOther = 0;
  const platform::ObservedRevision* existing = nullptr;
  for (const auto& r : observed.workload.revisions) {
    if (r.podTemplateHash == hash) {
      existing = &r;
    } else {
      maxOther = std::max(maxOther, r.revision);
    }
  }
  if (existing != nullptr && existing->revision > maxOther) return std::nullopt;
  return RevisionToCreate{hash, tmpl};
}

std::optional<int32_t> workloadScaleDown(const spec::Rollout& rollout, int64_t revision,
                                         const spec::RolloutStatus& next, bool newScaledDown,
                                         int32_t deploymentReplicas) {
  const auto& ref = rollout.spec.workloadRef;
  if (!ref || revision != 1) return std::nullopt;
  const spec::RolloutStatus& last = rollout.status;
  const bool healthy = last.phase == spec::RolloutPhase::kHealthy;
  std::optional<int32_t> target;
  if (ref->scaleDown == "onsuccess") {
    if (healthy && !next.stableRS.empty() && next.stableRS == next.currentPodHash) target = 0;
  } else if (ref->scaleDown == "progressively") {
    if (healthy) {
      target = 0;
    } else if (rollout.spec.replicas && (last.readyReplicas > 0 || newScaledDown)) {
      target = std::max(0, *rollout.spec.replicas - last.readyReplicas);
    }
  }
  if (!target || *target == deploymentReplicas) return std::nullopt;
  return target;
}

Plan reconcileRollout(const spec::Rollout& rollout, const Observed& observed, Time now,
                      const SpecHashes* known) {
  if (!rollout.spec.workloadRef || !observed.referencedWorkload) {
    Plan plan = reconcileTemplate(rollout, observed, now, known);
    if (!rollout.spec.workloadRef) plan.status.workloadObservedGeneration.clear();
    return plan;
  }
  const platform::ReferencedWorkload& workload = *observed.referencedWorkload;
  spec::Rollout resolved = rollout;
  resolved.spec.template_ = workload.template_;
  if (!resolved.spec.selector) resolved.spec.selector = workload.selector;
  Plan plan = reconcileTemplate(resolved, observed, now, nullptr);
  if (!plan.hashes.podTemplate.empty()) {
    plan.status.workloadObservedGeneration = std::to_string(workload.generation);
  }
  if (!workload.replicas) return plan;
  bool newScaledDown = false;
  for (const Action& a : plan.actions) {
    const auto* s = std::get_if<ScaleRevision>(&a);
    if (s && s->hash == plan.hashes.podTemplate && s->from > s->replicas) newScaledDown = true;
  }
  auto target =
      workloadScaleDown(rollout, plan.revision, plan.status, newScaledDown, *workload.replicas);
  if (!target) return plan;
  const auto& ref = *rollout.spec.workloadRef;
  plan.actions.push_back(ScaleWorkloadRef{*target, *workload.replicas});
  plan.events.push_back({"Normal",
                         "ScalingWorkloadRef",
                         "Scaled " + ref.kind + " " + ref.name + " from " +
                             std::to_string(*workload.replicas) + " to " + std::to_string(*target) +
                             " (workloadRef.scaleDown: " + ref.scaleDown + ")",
                         {{"workload", ref.kind + "/" + ref.name},
                          {"scaleDown", ref.scaleDown},
                          {"from", std::to_string(*workload.replicas)},
                          {"to", std::to_string(*target)},
                          {"readyReplicas", std::to_string(rollout.status.readyReplicas)},
                          {"phase", spec::rolloutPhaseName(rollout.status.phase)}}});
  return plan;
}

}  // namespace ramp::rollout
