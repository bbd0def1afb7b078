// The blue-green strategy (Argo's rollout/bluegreen.go, service.go and the blue-green half of
// analysis.go, pause.go and sync.go). On plain hosts the active Service is the router's stable
// destination and the preview Service its canary destination, at weight 0.

#include <algorithm>
#include <string>
#include <variant>

#include "rollout/context.h"

namespace ramp::rollout::internal {
namespace {

const spec::BlueGreenStrategy& bgOf(const Context& c) { return *c.spec.strategy.blueGreen; }

const ObservedRevision* byHash(const Context& c, const std::string& hash) {
  if (hash.empty()) return nullptr;
  for (const auto& r : c.observed.workload.revisions)
    if (r.podTemplateHash == hash) return &r;
  if (c.newRevCreatedNow && hash == c.podHash) return c.newRev;
  return nullptr;
}

bool saturated(const Context& c, const ObservedRevision& r) {
  return r.desiredReplicas == c.replicas() && r.availableReplicas >= c.replicas();
}

// status.blueGreen.scaleUpPreviewCheckPoint as this reconcile sees it: a retry starts the
// preview over (previewReplicaCount, pre-promotion analysis, pause), so it reads false then.
bool checkpointPassed(const Context& c) {
  return c.old.blueGreen.scaleUpPreviewCheckPoint && !c.retrying();
}

// Argo's ReadyForPause: the new revision is at the count it should have before the switch.
bool readyForPause(const Context& c) {
  const auto& bg = bgOf(c);
  int32_t want = c.replicas();
  if (bg.previewReplicaCount && !checkpointPassed(c) && !c.old.blueGreen.activeSelector.empty() &&
      c.old.blueGreen.activeSelector != c.podHash)
    want = *bg.previewReplicaCount;
  return c.newRev->desiredReplicas == want && c.newRev->availableReplicas >= want;
}

bool halted(const Context& c) {
  return c.spec.paused || c.oldPause(spec::kPauseReasonInconclusiveAnalysis) != nullptr;
}

bool needsControllerPause(const Context& c) {
  const auto& bg = bgOf(c);
  if (!spec::autoPromotionEnabledOrDefault(bg)) return true;
  return bg.autoPromotionSeconds > 0;
}

// Argo's isBlueGreenFastTracked: no pause and no pre-promotion analysis.
bool fastTracked(const Context& c, bool fastRollback) {
  const std::string& active = c.old.blueGreen.activeSelector;
  return fastRollback || c.old.promoteFull || active.empty() || active == c.podHash;
}

bool completedPause(const Context& c) {
  if (!c.addPause.empty()) return false;
  if (checkpointPassed(c)) return true;
  if (!needsControllerPause(c)) return true;
  const auto& bg = bgOf(c);
  const spec::PauseCondition* cond = c.oldPause(spec::kPauseReasonBlueGreenPause);
  if (spec::autoPromotionEnabledOrDefault(bg)) {
    if (bg.autoPromotionSeconds == 0) return true;
    return cond && c.now >= cond->startTime + std::chrono::seconds(bg.autoPromotionSeconds);
  }
  return c.old.controllerPause && cond == nullptr;  // a user promoted
}

bool completedPre(const Context& c) {
  if (!bgOf(c).prePromotionAnalysis) return true;
  return passedGate(c, c.next.blueGreen.prePromotionAnalysisRunStatus);
}

spec::RolloutAnalysisRunStatus refreshed(const CurrentRun& run) {
  spec::RolloutAnalysisRunStatus s{run.name(), run.phase(), ""};
  if (run.run)
    s.message = run.run->status.message;
  else if (run.status)
    s.message = run.status->message;
  return s;
}

void reconcileAnalysis(Context& c, bool fastRollback) {
  const auto& bg = bgOf(c);
  // c.next still holds the previous statuses (minus those forgotten on a retry).
  CurrentRun pre = findRun(c, c.next.blueGreen.prePromotionAnalysisRunStatus);
  CurrentRun post = findRun(c, c.next.blueGreen.postPromotionAnalysisRunStatus);
  std::optional<spec::RolloutAnalysisRunStatus> newPre, newPost;
  if (pre.exists()) newPre = refreshed(pre);
  if (post.exists()) newPost = refreshed(post);
  const bool skipAll = c.isAborted() || c.old.promoteFull || fastRollback || c.old.stableRS.empty();
  if (skipAll) {
    terminateRun(c, pre);
    terminateRun(c, post);
  } else {
    const std::string& active = c.old.blueGreen.activeSelector;
    // Pre-promotion: once the preview is at its count, before the switch.
    if (!bg.prePromotionAnalysis) {
      terminateRun(c, pre);
      newPre.reset();
    } else {
      const bool previewReady = bg.previewReplicaCount
                                    ? (c.newRev->desiredReplicas == *bg.previewReplicaCount &&
                                       c.newRev->availableReplicas == *bg.previewReplicaCount)
                                    : saturated(c, *c.newRev);
      // A run already started is not cancelled when the preview loses a replica (Argo): a
      // terminated run ends Successful and must not stand in for a finished one.
      const bool skip = c.old.stableRS == c.podHash || active.empty() || active == c.podHash ||
                        (!pre.exists() && !previewReady);
      if (skip) {
        terminateRun(c, pre);
      } else if (c.oldPause(spec::kPauseReasonInconclusiveAnalysis)) {
        // keep until resolved
      } else if (needsNewAnalysisRun(c, pre)) {
        newPre = createAnalysisRun(c, *bg.prePromotionAnalysis, "pre", kRolloutTypePrePromotion,
                                   std::nullopt);
      } else {
        pauseOrAbortOn(c, pre, kRolloutTypePrePromotion);
      }
    }
    // Post-promotion: after the active switch, before the new revision is marked stable.
    if (!bg.postPromotionAnalysis) {
      terminateRun(c, post);
      newPost.reset();
    } else {
      const bool skip = c.old.stableRS == c.podHash || active != c.podHash ||
                        (!post.exists() && !saturated(c, *c.newRev));
      if (skip) {
        terminateRun(c, post);
      } else if (c.oldPause(spec::kPauseReasonInconclusiveAnalysis)) {
        // keep until resolved
      } else if (needsNewAnalysisRun(c, post)) {
        newPost = createAnalysisRun(c, *bg.postPromotionAnalysis, "post", kRolloutTypePostPromotion,
                                    std::nullopt);
      } else {
        pauseOrAbortOn(c, post, kRolloutTypePostPromotion);
      }
    }
  }
  emitRunStatusChange(c, c.old.blueGreen.prePromotionAnalysisRunStatus, newPre,
                      kRolloutTypePrePromotion);
  emitRunStatusChange(c, c.old.blueGreen.postPromotionAnalysisRunStatus, newPost,
                      kRolloutTypePostPromotion);
  c.next.blueGreen.prePromotionAnalysisRunStatus = newPre;
  c.next.blueGreen.postPromotionAnalysisRunStatus = newPost;
  cancelAndCollectOtherRuns(c, {newPre ? newPre->name : "", newPost ? newPost->name : ""});
}

void reconcileReplicas(Context& c) {
  const auto& bg = bgOf(c);
  const bool aborted = c.isAborted();
  const std::string& active = c.old.blueGreen.activeSelector;
  if (c.newRev->scaleDownDeadline && !aborted && !c.newRevCreatedNow)
    c.action(SetScaleDownDeadline{c.podHash, std::nullopt});
  if (c.hasStable() && c.stableRev->scaleDownDeadline && c.stableRev->podTemplateHash == active)
    c.action(SetScaleDownDeadline{c.stableRev->podTemplateHash, std::nullopt});

  // The active revision runs at full scale.
  const ObservedRevision* activeRev = byHash(c, active);
  if (activeRev && activeRev != c.newRev) scaleRevision(c, *activeRev, c.replicas());

  // The new (preview) revision: previewReplicaCount until the checkpoint, then full.
  if (!c.spec.paused) {
    int32_t target = c.replicas();
    if (bg.previewReplicaCount && !checkpointPassed(c) && !active.empty() && active != c.podHash)
      target = *bg.previewReplicaCount;
    const ObservedRevision& n = *c.newRev;
    if (aborted && c.hasStable() && n.podTemplateHash != c.old.stableRS) {
      const int32_t delay = spec::abortScaleDownDelaySecondsOrDefault(c.spec);
      target = n.desiredReplicas;
      if (delay != 0) {
        if (!n.scaleDownDeadline) {
          const Time deadline = c.now + std::chrono::seconds(delay);
          c.action(SetScaleDownDeadline{c.podHash, deadline});
          c.requeueAt(deadline);
        } else if (*n.scaleDownDeadline > c.now) {
          c.requeueAt(*n.scaleDownDeadline);
        } else {
          target = 0;
        }
      }
    }
    scaleRevision(c, n, target);
  }

  // Older revisions: kept while their scale-down deadline runs, then scaled to 0.
  if (c.oldPause(spec::kPauseReasonInconclusiveAnalysis)) return;
  if (bg.postPromotionAnalysis && !bg.scaleDownDelaySeconds && active == c.podHash &&
      c.old.stableRS != c.podHash) {
    if (!passedGate(c, c.next.blueGreen.postPromotionAnalysisRunStatus)) return;
  }
  int32_t annotated = 0;
  for (const auto* r : c.others) {
    if (r->desiredReplicas == 0 || r->podTemplateHash == active) continue;
    scaleRevision(c, *r, delayedScaleDownCount(c, *r, annotated));
  }
}

void reconcilePause(Context& c, bool fastRollback) {
  if (c.old.abort || !readyForPause(c) || halted(c)) return;
  if (fastTracked(c, fastRollback) || checkpointPassed(c) || !needsControllerPause(c)) {
    c.removePause.push_back(spec::kPauseReasonBlueGreenPause);
    return;
  }
  if (!completedPre(c)) return;
  const spec::PauseCondition* cond = c.oldPause(spec::kPauseReasonBlueGreenPause);
  if (cond) {
    if (!completedPause(c)) {
      const int32_t secs = bgOf(c).autoPromotionSeconds;
      if (secs > 0 && spec::autoPromotionEnabledOrDefault(bgOf(c)))
        c.requeueAt(cond->startTime + std::chrono::seconds(secs));
    } else {
      c.removePause.push_back(spec::kPauseReasonBlueGreenPause);
    }
  } else if (!c.old.controllerPause) {
    c.pause(spec::kPauseReasonBlueGreenPause);
    const int32_t secs = bgOf(c).autoPromotionSeconds;
    if (secs > 0 && spec::autoPromotionEnabledOrDefault(bgOf(c)))
      c.requeueAfter(std::chrono::seconds(secs));
  }
}

std::string activeSwitch(Context& c, bool fastRollback) {
  const std::string& active = c.old.blueGreen.activeSelector;
  if (c.isAborted() && !c.old.stableRS.empty()) return c.old.stableRS;
  if (halted(c)) return active;
  if (!readyForPause(c) || !saturated(c, *c.newRev)) return active;
  std::string next = active;
  if (fastTracked(c, fastRollback)) next = c.podHash;
  if (completedPause(c) && completedPre(c)) next = c.podHash;
  return next;
}

std::string shouldFullPromote(Context& c, const std::string& active, bool fastRollback) {
  if (!c.stableRev) return "Initial deploy";
  if (active.empty()) return "Initial deploy";
  if (active != c.podHash) return "";
  if (c.old.promoteFull) return "Full promotion requested";
  if (fastRollback) return isRollbackWithinWindow(c) ? "Rollback within window" : "Fast rollback";
  if (c.isAborted()) return "";
  if (bgOf(c).postPromotionAnalysis &&
      !passedGate(c, c.next.blueGreen.postPromotionAnalysisRunStatus))
    return "";
  return "Completed blue-green update";
}

void noteSwitch(std::vector<ServiceSwitch>& out, const std::string& service,
                const std::string& from, const std::string& to) {
  if (from == to || service.empty()) return;
  out.push_back({service, from, to});
}

// The desired replicas of `r` once this plan's actions are applied.
int32_t plannedReplicas(const Context& c, const ObservedRevision& r) {
  int32_t n = r.desiredReplicas;
  for (const auto& a : c.plan.actions) {
    if (const auto* s = std::get_if<ScaleRevision>(&a); s && s->hash == r.podTemplateHash) {
      n = s->replicas;
    }
  }
  return n;
}

// Revisions that are neither active nor preview but still run (the previous active until its
// scale-down deadline, an aborted preview until abortScaleDownDelaySeconds): kept in the
// routers with no traffic, newest first.
std::vector<std::string> drainingHashes(const Context& c, const std::string& active,
                                        const std::string& preview) {
  std::vector<std::string> out;
  std::vector<const ObservedRevision*> candidates = c.others;
  if (c.hasStable()) candidates.insert(candidates.begin(), c.stableRev);
  if (c.newRev != nullptr) candidates.insert(candidates.begin(), c.newRev);
  for (const ObservedRevision* r : candidates) {
    const std::string& hash = r->podTemplateHash;
    if (hash == active || hash == preview) continue;
    if (std::find(out.begin(), out.end(), hash) != out.end()) continue;
    if (plannedReplicas(c, *r) > 0) out.push_back(hash);
  }
  return out;
}

}  // namespace

void reconcileBlueGreen(Context& c) {
  const auto& bg = bgOf(c);
  const bool changed = c.old.currentPodHash != c.podHash;
  const bool fastRollback = isFastRollback(c);

  // Preview follows the new revision unless progress is halted.
  std::string preview = c.old.blueGreen.previewSelector;
  if (!bg.previewService.empty() && !halted(c)) preview = c.podHash;

  if (changed) {
    c.clearPause = true;
    c.removeAbort = true;
    c.next.promoteFull = false;
    c.next.blueGreen.prePromotionAnalysisRunStatus.reset();
    c.next.blueGreen.postPromotionAnalysisRunStatus.reset();
    c.next.blueGreen.scaleUpPreviewCheckPoint = false;
    c.next.duration = spec::RolloutDuration{};
    c.next.duration->rolloutStartedAt = c.now;
    cancelRestart(c);
    c.requeueAfter(Duration(0));
  } else {
    forgetRunsBeforeAbort(c);
    reconcileRestart(c);
    reconcileRevisionHistory(c);
    reconcileReplicas(c);
    reconcilePause(c, fastRollback);
    reconcileAnalysis(c, fastRollback);
  }
  const std::string active =
      changed ? c.old.blueGreen.activeSelector : activeSwitch(c, fastRollback);
  if (!active.empty() || !preview.empty()) {
    SyncEndpoints sync{
        active.empty() ? preview : active, preview.empty() ? active : preview, {}, {}};
    sync.drainingHashes = drainingHashes(c, sync.stableHash, sync.canaryHash);
    noteSwitch(sync.switches, bg.previewService, c.old.blueGreen.previewSelector, preview);
    noteSwitch(sync.switches, bg.activeService, c.old.blueGreen.activeSelector, active);
    c.action(std::move(sync));
    c.action(SetWeight{0});
  }
  if (active != c.old.blueGreen.activeSelector) c.requeueAfter(Duration(0));

  if (c.old.promoteFull || isRollbackWithinWindow(c)) {
    c.clearPause = true;
    c.removeAbort = true;
  }
  c.next.blueGreen.previewSelector = preview;
  c.next.blueGreen.activeSelector = active;
  const std::string reason = shouldFullPromote(c, active, fastRollback);
  if (!reason.empty()) {
    promoteStable(c, reason);
  } else if (bg.previewReplicaCount) {
    bool checkpoint = checkpointPassed(c);
    if (!checkpoint && completedPre(c) && completedPause(c))
      checkpoint = c.newRev->availableReplicas == *bg.previewReplicaCount;
    c.next.blueGreen.scaleUpPreviewCheckPoint = checkpoint;
    if (checkpoint && !checkpointPassed(c)) c.requeueAfter(Duration(0));
  }
  if (const ObservedRevision* a = byHash(c, active)) {
    c.next.HPAReplicas = a->currentReplicas;
    c.next.availableReplicas = a->availableReplicas;
    c.next.readyReplicas = a->readyReplicas;
  }
  calculateConditions(c);
  finalizeStatus(c);
}

}  // namespace ramp::rollout::internal
