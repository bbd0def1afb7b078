// The canary strategy (Argo's rollout/canary.go, trafficrouting.go, the canary half of
// analysis.go and sync.go).

#include <algorithm>
#include <string>

#include "rollout/context.h"
#include "rollout/replica_math.h"
#include "spec/values.h"

namespace ramp::rollout::internal {
namespace {

const spec::CanaryStrategy& canaryOf(const Context& c) { return *c.spec.strategy.canary; }

int32_t stepCount(const Context& c) { return static_cast<int32_t>(canaryOf(c).steps.size()); }

// The index the previous status points at (0 when there are steps but none recorded yet).
int32_t oldIndex(const Context& c) { return c.old.currentStepIndex.value_or(0); }

const spec::CanaryStep* currentStep(const Context& c) {
  const int32_t i = oldIndex(c);
  if (i < 0 || i >= stepCount(c)) return nullptr;
  return &canaryOf(c).steps[static_cast<size_t>(i)];
}

std::optional<int64_t> pauseSeconds(const spec::RolloutPause& p) {
  if (!p.duration) return std::nullopt;
  auto s = spec::pauseDurationSeconds(*p.duration);
  return s ? std::optional<int64_t>(*s) : std::optional<int64_t>(0);
}

std::string stepString(const spec::CanaryStep& s) {
  if (s.setWeight) return "setWeight: " + std::to_string(*s.setWeight);
  if (s.pause) {
    if (!s.pause->duration) return "pause";
    return "pause: " + (s.pause->duration->isInt() ? std::to_string(s.pause->duration->intValue())
                                                   : s.pause->duration->stringValue());
  }
  if (s.experiment) return "experiment";
  if (s.analysis) return "analysis";
  if (s.setCanaryScale) {
    if (s.setCanaryScale->weight)
      return "setCanaryScale{weight: " + std::to_string(*s.setCanaryScale->weight) + "}";
    if (s.setCanaryScale->matchTrafficWeight) return "setCanaryScale{matchTrafficWeight: true}";
    if (s.setCanaryScale->replicas)
      return "setCanaryScale{replicas: " + std::to_string(*s.setCanaryScale->replicas) + "}";
  }
  if (s.setHeaderRoute) return "setHeaderRoute: " + s.setHeaderRoute->name;
  if (s.setMirrorRoute) return "setMirrorRoute: " + s.setMirrorRoute->name;
  if (s.plugin) return "plugin: " + s.plugin->name;
  return "invalid";
}

bool fullyPromotedBefore(const Context& c) { return c.old.stableRS == c.old.currentPodHash; }

// Argo's UseSetCanaryScale.
const spec::SetCanaryScale* useSetCanaryScale(const Context& c) {
  const auto& canary = canaryOf(c);
  if (!canary.trafficRouting) return nullptr;
  if (c.old.abort && spec::abortScaleDownDelaySecondsOrDefault(c.spec) != 0) return nullptr;
  const int32_t i = oldIndex(c);
  if (i >= stepCount(c)) return nullptr;
  for (int32_t k = i; k >= 0; --k) {
    const auto& step = canary.steps[static_cast<size_t>(k)];
    if (!step.setCanaryScale) continue;
    if (step.setCanaryScale->matchTrafficWeight) return nullptr;
    return &*step.setCanaryScale;
  }
  return nullptr;
}

spec::Fenceposts fenceposts(const Context& c) {
  const auto& canary = canaryOf(c);
  auto f = spec::resolveFenceposts(spec::maxSurgeOrDefault(canary),
                                   spec::maxUnavailableOrDefault(canary), c.replicas());
  return f ? *f : spec::Fenceposts{0, 1};
}

RevisionCounts countsOf(const ObservedRevision& r) {
  return RevisionCounts{r.desiredReplicas, r.availableReplicas};
}

// The canary/stable counts to aim for now (Argo's DesiredReplicaCounts via the basic or the
// traffic-routed calculation).
CanaryCounts desiredCounts(const Context& c) {
  const auto& canary = canaryOf(c);
  std::optional<int32_t> canaryReplicas;
  int32_t weight = 100;
  const bool full =
      c.old.promoteFull || c.old.stableRS.empty() || c.old.currentPodHash == c.old.stableRS;
  if (!full) {
    if (const auto* scs = useSetCanaryScale(c)) {
      if (scs->replicas) {
        canaryReplicas = *scs->replicas;
        weight = 0;
      } else if (scs->weight) {
        weight = *scs->weight;
      } else {
        weight = currentSetWeight(c.rollout);
      }
    } else {
      weight = currentSetWeight(c.rollout);
    }
  }
  if (!canary.trafficRouting) {
    BasicCanaryInput in;
    in.replicas = c.replicas();
    in.weight = weight;
    const auto f = fenceposts(c);
    in.maxSurge = f.maxSurge;
    in.maxUnavailable = f.maxUnavailable;
    in.canary = countsOf(*c.newRev);
    if (c.hasStable()) in.stable = countsOf(*c.stableRev);
    for (const auto* r : c.others) in.others.push_back(countsOf(*r));
    return basicCanaryCounts(in);
  }
  TrafficRoutedInput in;
  in.replicas = c.replicas();
  in.weight = weight;
  in.canaryReplicas = canaryReplicas;
  in.minPodsPerReplicaSet = canary.minPodsPerReplicaSet;
  in.dynamicStableScale = canary.dynamicStableScale;
  in.aborted = c.old.abort;
  if (c.old.canary.weights) {
    in.appliedCanaryWeight = c.old.canary.weights->canary.weight;
    in.appliedStableWeight = c.old.canary.weights->stable.weight;
  }
  CanaryCounts out = trafficRoutedCanaryCounts(in);
  if (!c.hasStable()) out = {c.replicas(), 0};
  return out;
}

// Argo's AtDesiredReplicaCountsForCanary.
bool atDesiredCounts(const Context& c) {
  const auto& canary = canaryOf(c);
  const CanaryCounts d = desiredCounts(c);
  const auto& n = *c.newRev;
  if (!(d.canary == n.desiredReplicas && d.canary == n.availableReplicas)) return false;
  if (!canary.trafficRouting || !canary.dynamicStableScale) {
    if (!c.hasStable()) return false;
    const auto& s = *c.stableRev;
    if (!(d.stable == s.desiredReplicas && d.stable == s.currentReplicas)) return false;
  }
  if (!canary.trafficRouting) {
    for (const auto* r : c.others)
      if (r->availableReplicas != 0) return false;
  }
  return true;
}

spec::RolloutAnalysisRunStatus refreshed(const CurrentRun& run) {
  spec::RolloutAnalysisRunStatus s{run.name(), run.phase(), ""};
  if (run.run)
    s.message = run.run->status.message;
  else if (run.status)
    s.message = run.status->message;
  return s;
}

void reconcileAnalysis(Context& c) {
  const auto& canary = canaryOf(c);
  // c.next still holds the previous statuses (minus those forgotten on a retry).
  forgetRunsBeforeAbort(c);
  CurrentRun stepRun = findRun(c, c.next.canary.currentStepAnalysisRunStatus);
  CurrentRun bgRun = findRun(c, c.next.canary.currentBackgroundAnalysisRunStatus);
  std::optional<spec::RolloutAnalysisRunStatus> newStep, newBg;
  if (stepRun.exists()) newStep = refreshed(stepRun);
  if (bgRun.exists()) newBg = refreshed(bgRun);

  // A canary's fast rollback is one within rollbackWindow (a rollback to stable is fully
  // promoted by then). A scale-down deadline on the new revision is not one: an aborted update
  // keeps one while it is retried.
  const bool skip =
      c.isAborted() || c.old.promoteFull || c.old.stableRS.empty() || isRollbackWithinWindow(c);
  if (skip) {
    c.next.canary.currentStepAnalysisRunStatus = newStep;
    c.next.canary.currentBackgroundAnalysisRunStatus = newBg;
    terminateRun(c, stepRun);
    terminateRun(c, bgRun);
    cancelAndCollectOtherRuns(c, {stepRun.name(), bgRun.name()});
    return;
  }

  // Step analysis.
  const spec::CanaryStep* step = currentStep(c);
  if (!c.old.pauseConditions.empty() || c.old.abort) {
    // keep the current run as is until the pause is resolved
  } else if (!step || !step->analysis) {
    terminateRun(c, stepRun);
    newStep.reset();
  } else if (needsNewAnalysisRun(c, stepRun)) {
    newStep = createAnalysisRun(c, *step->analysis, std::to_string(oldIndex(c)), kRolloutTypeStep,
                                oldIndex(c));
  } else {
    pauseOrAbortOn(c, stepRun, kRolloutTypeStep);
  }

  // Background analysis.
  const bool beforeStart = canary.analysis && canary.analysis->startingStep &&
                           oldIndex(c) < *canary.analysis->startingStep && stepCount(c) > 0 &&
                           oldIndex(c) < stepCount(c);
  if (!canary.analysis) {
    terminateRun(c, bgRun);
    newBg.reset();
  } else if (fullyPromotedBefore(c) || c.old.currentPodHash.empty() || beforeStart) {
    newBg.reset();
  } else if (c.oldPause(spec::kPauseReasonInconclusiveAnalysis)) {
    // keep until resolved
  } else if (needsNewAnalysisRun(c, bgRun)) {
    newBg = createAnalysisRun(c, static_cast<const spec::RolloutAnalysis&>(*canary.analysis), "",
                              kRolloutTypeBackground, std::nullopt);
  } else {
    pauseOrAbortOn(c, bgRun, kRolloutTypeBackground);
  }

  emitRunStatusChange(c, c.old.canary.currentStepAnalysisRunStatus, newStep, kRolloutTypeStep);
  emitRunStatusChange(c, c.old.canary.currentBackgroundAnalysisRunStatus, newBg,
                      kRolloutTypeBackground);
  c.next.canary.currentStepAnalysisRunStatus = newStep;
  c.next.canary.currentBackgroundAnalysisRunStatus = newBg;
  cancelAndCollectOtherRuns(c, {newStep ? newStep->name : "", newBg ? newBg->name : ""});
}

// Experiment and plugin steps: ramp runs neither. The rollout pauses with a clear reason; a
// user promotes past the step or aborts.
void reconcileUnsupportedStep(Context& c) {
  const spec::CanaryStep* step = currentStep(c);
  if (!step || !(step->experiment || step->plugin) || c.isAborted() || fullyPromotedBefore(c) ||
      c.old.stableRS.empty())
    return;
  if (c.oldPause(kPauseReasonUnsupportedStep)) return;
  if (c.old.controllerPause) return;  // a user resumed: the step is skipped below
  const std::string kind = step->experiment ? "experiment" : "plugin";
  c.pause(kPauseReasonUnsupportedStep);
  c.event("Warning", "StepNotSupported",
          "Step " + std::to_string(oldIndex(c) + 1) + "/" + std::to_string(stepCount(c)) + " is a" +
              std::string(kind == "experiment" ? "n " : " ") + kind +
              " step, which ramp does not run: promote to skip it or abort",
          {{"stepIndex", std::to_string(oldIndex(c))}, {"step", kind}});
}

// What status.canary.weights.verified records. At a setWeight step it is the step's check
// (Argo's). Anywhere else (paused, promoted, aborted, Healthy) the routers are still checked: a
// proxy that restarted, reloaded or was changed by hand reports kNotYet, recorded as false
// until a later check finds the weight in place again, which clears it (unset, as a settled
// rollout's always was, so a healthy steady state writes nothing new).
std::optional<bool> recordedVerification(const Context& c, bool atSetWeightStep) {
  if (atSetWeightStep) return c.weightVerified;
  if (c.observed.weightVerification == WeightVerification::kNotYet) return false;
  return std::nullopt;
}

// The weight the routers should apply now (Argo's reconcileTrafficRouting).
int32_t desiredWeight(const Context& c) {
  const auto& canary = canaryOf(c);
  const int32_t maxWeight = spec::maxTrafficWeightOrDefault(canary);
  if (fullyPromotedBefore(c) || c.old.stableRS.empty()) return 0;
  if (c.isAborted()) {
    if (!canary.dynamicStableScale || !c.hasStable()) return 0;
    // Walk back through the setWeight steps as the stable becomes able to take traffic.
    const int32_t applied = c.old.canary.weights ? c.old.canary.weights->canary.weight : 0;
    int32_t weight = 0;
    for (const auto& s : canary.steps) {
      if (!s.setWeight || *s.setWeight > applied) continue;
      const int32_t stableShare = weightToReplicas(c.replicas(), maxWeight - *s.setWeight);
      if (stableShare > c.stableRev->availableReplicas) weight = std::max(weight, *s.setWeight);
    }
    return std::min(weight, applied);
  }
  if (c.newRev->availableReplicas == 0) return 0;
  if (c.old.promoteFull) return c.old.canary.weights ? c.old.canary.weights->canary.weight : 0;
  if (stepCount(c) == 0) return 0;
  const int32_t i = oldIndex(c);
  if (!atDesiredCounts(c)) {
    for (int32_t k = i - 1; k >= 0; --k)
      if (canary.steps[static_cast<size_t>(k)].setWeight)
        return *canary.steps[static_cast<size_t>(k)].setWeight;
    return 0;
  }
  if (i != stepCount(c)) return currentSetWeight(c.rollout);
  return maxWeight;
}

void reconcileTraffic(Context& c) {
  const auto& canary = canaryOf(c);
  const std::string stableHash = c.old.stableRS.empty() ? c.podHash : c.old.stableRS;
  if (!canary.trafficRouting) {
    // Basic canary: both Services (on plain hosts, the one backend) hold the pods; on abort the
    // canary Service points back at stable.
    SyncEndpoints sync{stableHash, c.isAborted() ? stableHash : c.podHash};
    sync.byReplicas = true;
    c.action(std::move(sync));
    return;
  }
  c.action(SyncEndpoints{stableHash, c.podHash});
  const int32_t maxWeight = spec::maxTrafficWeightOrDefault(canary);
  const int32_t weight = desiredWeight(c);
  c.action(SetWeight{weight});
  const int32_t previous = c.old.canary.weights ? c.old.canary.weights->canary.weight : -1;
  if (previous != weight) {
    c.event("Normal", "TrafficWeightUpdated",
            "Traffic weight updated from " +
                (previous < 0 ? std::string("none") : std::to_string(previous)) + " to " +
                std::to_string(weight),
            {{"from", previous < 0 ? "" : std::to_string(previous)},
             {"to", std::to_string(weight)},
             {"stepIndex", std::to_string(oldIndex(c))},
             {"canaryHash", c.podHash},
             {"stableHash", stableHash}});
  }
  const spec::CanaryStep* step = currentStep(c);
  const bool verify = !c.old.stableRS.empty() && !fullyPromotedBefore(c) && step && step->setWeight;
  if (verify) {
    switch (c.observed.weightVerification) {
      case WeightVerification::kNotYet:
        c.weightVerified = false;
        c.requeueAfter(std::chrono::seconds(10));
        break;
      case WeightVerification::kVerified: c.weightVerified = true; break;
      default: break;
    }
  }
  spec::TrafficWeights w;
  w.canary = spec::WeightDestination{weight, canary.canaryService, c.podHash};
  w.stable = spec::WeightDestination{maxWeight - weight, canary.stableService, stableHash};
  w.verified = recordedVerification(c, verify);
  c.next.canary.weights = w;

  const bool managed = !canary.trafficRouting->managedRoutes.empty();
  if (managed && c.isAborted()) {
    c.action(RemoveManagedRoutes{});
  } else if (step && !fullyPromotedBefore(c) && !c.old.stableRS.empty()) {
    if (step->setHeaderRoute) c.action(SetHeaderRoute{*step->setHeaderRoute});
    if (step->setMirrorRoute) c.action(SetMirrorRoute{*step->setMirrorRoute});
  }
}

void scaleDownOthers(Context& c) {
  const bool routed = canaryOf(c).trafficRouting.has_value();
  int32_t available = 0;
  for (const auto& r : c.observed.workload.revisions) available += r.availableReplicas;
  const int32_t minAvailable = c.replicas() - fenceposts(c).maxUnavailable;
  int32_t maxScaleDown = available - minAvailable;
  int32_t annotated = 0;
  for (const auto* r : c.others) {
    if (r->desiredReplicas == 0) continue;
    if (routed) {
      // Old revisions are kept only while their scale-down deadline runs.
      const int32_t desired = delayedScaleDownCount(c, *r, annotated);
      if (desired == r->desiredReplicas) continue;
      if (maxScaleDown <= 0) break;
      scaleRevision(c, *r, desired);
      maxScaleDown -= r->desiredReplicas - desired;
      continue;
    }
    if (maxScaleDown <= 0) break;
    const int32_t desired =
        r->desiredReplicas > maxScaleDown ? r->desiredReplicas - maxScaleDown : 0;
    scaleRevision(c, *r, desired);
    maxScaleDown -= r->desiredReplicas - desired;
  }
}

void reconcileReplicas(Context& c) {
  if (c.spec.paused) return;  // spec.paused halts scaling (Argo's haltProgress)
  const auto& canary = canaryOf(c);
  const bool aborted = c.isAborted();
  if (c.newRev->scaleDownDeadline && !aborted && !c.newRevCreatedNow)
    c.action(SetScaleDownDeadline{c.podHash, std::nullopt});
  if (c.hasStable() && c.stableRev->scaleDownDeadline)
    c.action(SetScaleDownDeadline{c.stableRev->podTemplateHash, std::nullopt});

  const CanaryCounts d = desiredCounts(c);
  if (c.hasStable()) {
    scaleRevision(c, *c.stableRev, d.stable);
    if (c.scaledSomething) return;
  }
  int32_t target = c.hasStable() ? d.canary : c.replicas();
  const ObservedRevision& n = *c.newRev;
  if (aborted && canary.trafficRouting && c.hasStable() && n.desiredReplicas > target) {
    const int32_t delay = spec::abortScaleDownDelaySecondsOrDefault(c.spec);
    if (delay == 0) {
      target = n.desiredReplicas;  // 0 = leave the canary up after an abort
    } else if (!n.scaleDownDeadline) {
      if (c.stableRev->availableReplicas >= c.replicas()) {
        const Time deadline = c.now + std::chrono::seconds(delay);
        c.action(SetScaleDownDeadline{c.podHash, deadline});
        c.requeueAt(deadline);
      }
      target = n.desiredReplicas;
    } else if (*n.scaleDownDeadline > c.now) {
      c.requeueAt(*n.scaleDownDeadline);
      target = n.desiredReplicas;
    }
  }
  scaleRevision(c, n, target);
  if (c.scaledSomething) return;
  scaleDownOthers(c);
}

void reconcilePauseStep(Context& c) {
  if (c.spec.paused || c.old.promoteFull || c.isAborted()) return;
  const spec::CanaryStep* step = currentStep(c);
  if (!step || !step->pause) return;
  const spec::PauseCondition* cond = c.oldPause(spec::kPauseReasonCanaryPauseStep);
  const auto seconds = pauseSeconds(*step->pause);
  if (!cond) {
    if (!c.old.controllerPause) {
      c.pause(spec::kPauseReasonCanaryPauseStep);
      if (seconds) c.requeueAfter(std::chrono::seconds(*seconds));
    }
    return;
  }
  if (seconds) c.requeueAt(cond->startTime + std::chrono::seconds(*seconds));
}

bool completedCurrentStep(Context& c) {
  if (c.spec.paused) return false;
  const spec::CanaryStep* step = currentStep(c);
  if (!step) return false;
  if (step->pause) {
    const spec::PauseCondition* cond = c.oldPause(spec::kPauseReasonCanaryPauseStep);
    if (c.old.controllerPause && !cond) return true;  // a user resumed
    const auto seconds = pauseSeconds(*step->pause);
    return seconds && cond && c.now >= cond->startTime + std::chrono::seconds(*seconds);
  }
  if (step->setCanaryScale) return atDesiredCounts(c);
  if (step->setWeight) return atDesiredCounts(c) && c.weightVerified != false;
  if (step->experiment || step->plugin)
    return c.old.controllerPause && !c.oldPause(kPauseReasonUnsupportedStep);
  if (step->analysis) {
    return passedGate(c, c.next.canary.currentStepAnalysisRunStatus);
  }
  return step->setHeaderRoute || step->setMirrorRoute;
}

std::string shouldFullPromote(Context& c) {
  if (!c.stableRev) return "Initial deploy";
  if (c.isAborted()) return "";
  if (c.newRev->availableReplicas != c.replicas()) return "";
  if (c.old.promoteFull) return "Full promotion requested";
  if (isRollbackWithinWindow(c)) return "Rollback within window";
  const int32_t n = stepCount(c);
  if (n == 0 || (c.old.currentStepIndex && *c.old.currentStepIndex == n))
    return "Completed all " + std::to_string(n) + " canary steps";
  return "";
}

void syncStatus(Context& c) {
  const int32_t n = stepCount(c);
  std::optional<int32_t> index = c.old.currentStepIndex;
  if (n > 0 && !index) index = 0;
  if (c.old.promoteFull || isRollbackWithinWindow(c)) {
    // Full promotion, or a rollback within rollbackWindow: every remaining step is skipped.
    c.clearPause = true;
    c.removeAbort = true;
    if (n > 0) index = n;
  }
  c.next.currentStepIndex = index;
  const std::string reason = shouldFullPromote(c);
  if (!reason.empty()) {
    const bool switching = c.next.stableRS != c.podHash;
    promoteStable(c, reason);
    if (switching && canaryOf(c).trafficRouting &&
        !canaryOf(c).trafficRouting->managedRoutes.empty())
      c.action(RemoveManagedRoutes{});
    if (switching) c.requeueAfter(Duration(0));
  } else if (c.isAborted()) {
    if (n > 0) c.next.currentStepIndex = c.next.stableRS == c.podHash ? n : 0;
  } else if (completedCurrentStep(c)) {
    const auto& step = canaryOf(c).steps[static_cast<size_t>(*index)];
    const int32_t next = *index + 1;
    c.event(
        "Normal", "RolloutStepCompleted",
        "Rollout step " + std::to_string(next) + "/" + std::to_string(n) + " completed (" +
            stepString(step) + ")",
        {{"stepIndex", std::to_string(*index)},
         {"step", stepString(step)},
         {"canaryWeight", c.next.canary.weights
                              ? std::to_string(c.next.canary.weights->canary.weight)
                              : std::to_string(currentSetWeight(c.rollout))},
         {"canaryAvailable", std::to_string(c.newRev->availableReplicas)},
         {"stableAvailable", std::to_string(c.hasStable() ? c.stableRev->availableReplicas : 0)}});
    c.next.currentStepIndex = next;
    c.next.canary.currentStepAnalysisRunStatus.reset();
    c.removePause.push_back(spec::kPauseReasonCanaryPauseStep);
    c.removePause.push_back(kPauseReasonUnsupportedStep);
    c.requeueAfter(Duration(0));
  }
  calculateConditions(c);
  finalizeStatus(c);
}

}  // namespace

void reconcileCanary(Context& c) {
  const int32_t n = stepCount(c);
  const bool changed = c.old.currentPodHash != c.podHash || c.old.currentStepHash != c.stepsHash;
  if (changed) {
    // A new template or new steps: the update starts over (Argo's resetRolloutStatus).
    c.clearPause = true;
    c.removeAbort = true;
    c.next.promoteFull = false;
    c.next.canary.currentStepAnalysisRunStatus.reset();
    c.next.canary.currentBackgroundAnalysisRunStatus.reset();
    c.next.currentStepIndex = n > 0 ? std::optional<int32_t>(0) : std::nullopt;
    if (c.old.currentPodHash != c.podHash) {
      c.next.duration = spec::RolloutDuration{};
      c.next.duration->rolloutStartedAt = c.now;
    }
    if (!c.newRevCreatedNow && c.podHash == c.old.stableRS && n > 0) {
      c.event("Normal", "SkipSteps", "Rollback to stable ReplicaSets",
              {{"stableHash", c.old.stableRS}, {"skippedSteps", std::to_string(n)}});
      c.next.currentStepIndex = n;
    }
    cancelRestart(c);
    calculateConditions(c);
    finalizeStatus(c);
    c.requeueAfter(Duration(0));
    return;
  }
  reconcileRestart(c);
  reconcileRevisionHistory(c);
  reconcileAnalysis(c);
  reconcileUnsupportedStep(c);
  reconcileTraffic(c);
  if (c.addPause.empty()) reconcileReplicas(c);
  if (!c.scaledSomething && c.addPause.empty()) reconcilePauseStep(c);
  syncStatus(c);
}

}  // namespace ramp::rollout::internal
