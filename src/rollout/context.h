#pragma once

// Internal to src/rollout: the per-reconcile working state shared by the canary and blue-green
// halves of the core (Argo's rolloutContext + pauseContext), and the helpers both use.
//
// Thread safety: a Context belongs to one reconcile on one thread; the helpers are pure.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rollout/engine.h"

namespace ramp::rollout::internal {

using platform::ObservedRevision;

// Argo's condition reasons and messages (utils/conditions).
inline constexpr const char* kReasonNewReplicaSetCreated = "NewReplicaSetCreated";
inline constexpr const char* kReasonFoundNewReplicaSet = "FoundNewReplicaSet";
inline constexpr const char* kReasonReplicaSetUpdated = "ReplicaSetUpdated";
inline constexpr const char* kReasonRolloutUpdated = "RolloutUpdated";
inline constexpr const char* kReasonRolloutPaused = "RolloutPaused";
inline constexpr const char* kReasonRolloutResumed = "RolloutResumed";
inline constexpr const char* kReasonRolloutRetry = "RolloutRetry";
inline constexpr const char* kReasonRolloutAborted = "RolloutAborted";
inline constexpr const char* kReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded";
inline constexpr const char* kReasonNewRsAvailable = "NewReplicaSetAvailable";
inline constexpr const char* kReasonReplicaSetNotAvailable = "ReplicaSetNotAvailable";
inline constexpr const char* kReasonRolloutCompleted = "RolloutCompleted";
inline constexpr const char* kReasonRolloutNotCompleted = "RolloutNotCompleted";
inline constexpr const char* kReasonRolloutHealthy = "RolloutHealthy";
inline constexpr const char* kReasonAvailable = "AvailableReason";
inline constexpr const char* kReasonInvalidSpec = "InvalidSpec";
inline constexpr const char* kPauseReasonUnsupportedStep = "UnsupportedStep";

// One reconcile's working state. `old` is the status as stored, `next` the status this reconcile
// builds (the plan's); the phases read `old` and write `next`.
struct Context {
  Context(const spec::Rollout& r, const Observed& o, Time t)
      : rollout(r), spec(r.spec), old(r.status), observed(o), now(t) {}

  const spec::Rollout& rollout;
  const spec::RolloutSpec& spec;
  const spec::RolloutStatus& old;
  const Observed& observed;
  Time now;
  Plan plan;
  spec::RolloutStatus& next = plan.status;

  std::string podHash;
  std::string stepsHash;
  int64_t revision = 0;
  ObservedRevision synthesized;  // the new revision when it does not exist yet
  const ObservedRevision* newRev = nullptr;
  const ObservedRevision* stableRev = nullptr;  // may equal newRev
  std::vector<const ObservedRevision*> others;  // neither new nor stable, newest first
  bool newRevCreatedNow = false;

  // Argo's pauseContext.
  std::vector<std::string> addPause;
  std::vector<std::string> removePause;
  bool clearPause = false;
  bool addAbort = false;
  bool removeAbort = false;
  std::string abortMessage;
  std::map<std::string, std::string> abortEvidence;

  // Results of this reconcile used by later phases.
  std::optional<bool> weightVerified;
  std::string promotedReason;
  bool scaledSomething = false;

  // --- helpers ---
  bool isAborted() const { return !removeAbort && (addAbort || old.abort); }
  // The first reconcile after `retry` lifted an abort: abort is cleared, abortedAt still set
  // (this reconcile clears it). Every AnalysisRun recorded before the abort is forgotten then.
  bool retrying() const { return !old.abort && old.abortedAt.has_value(); }
  bool hasStable() const { return stableRev != nullptr && stableRev != newRev; }
  int32_t replicas() const { return spec::replicasOrDefault(spec); }
  std::string rsName(const std::string& hash) const { return rollout.metadata.name + "-" + hash; }
  const spec::PauseCondition* oldPause(const std::string& reason) const;
  void event(const std::string& type, const std::string& reason, const std::string& message,
             std::map<std::string, std::string> evidence = {});
  void action(Action a) { plan.actions.push_back(std::move(a)); }
  void requeueAt(Time t);
  void requeueAfter(Duration d);
  void pause(const std::string& reason) { addPause.push_back(reason); }
  void abort(const std::string& message, std::map<std::string, std::string> evidence = {});
};

// Conditions (Argo's SetRolloutCondition: a condition with the same status and reason is not
// replaced; lastTransitionTime is kept while the status does not change).
const spec::RolloutCondition* getCondition(const spec::RolloutStatus& s, const std::string& type);
bool setCondition(spec::RolloutStatus& s, spec::RolloutCondition c);
void removeCondition(spec::RolloutStatus& s, const std::string& type);
spec::RolloutCondition newCondition(const std::string& type, const std::string& status,
                                    const std::string& reason, const std::string& message,
                                    Time now);

// Argo's phase and status.message of status `s` under spec `sp` (CalculateRolloutPhase).
spec::RolloutPhase phaseOf(const spec::RolloutSpec& sp, const spec::RolloutStatus& s,
                           std::string& message);

// Shared phases of a reconcile.
void computeBaseStatus(Context& c);
void checkPausedConditions(Context& c);
void calculateConditions(Context& c);
void finalizeStatus(Context& c);  // pause status, duration, phase, state-change events
void reconcileRevisionHistory(Context& c);
void scaleRevision(Context& c, const ObservedRevision& rev, int32_t replicas);
// Argo's scaleDownDelayHelper: the count an old revision should have given its deadline.
int32_t delayedScaleDownCount(Context& c, const ObservedRevision& rev, int32_t& annotated);
void promoteStable(Context& c, const std::string& reason);
bool isRollbackWithinWindow(const Context& c);
// Argo's isFastRollback: a rollback to the stable revision, within rollbackWindow, or (blue-green)
// to a revision whose scale-down deadline has not passed yet. Steps, pauses and analysis are
// skipped. A retried update is never one: its revision is newer than the stable one.
bool isFastRollback(const Context& c);

// Analysis hook-up.
struct CurrentRun {
  const spec::AnalysisRun* run = nullptr;  // observed run, if listed
  std::optional<spec::RolloutAnalysisRunStatus> status;
  spec::AnalysisPhase phase() const;
  std::string name() const;
  bool exists() const { return run != nullptr || status.has_value(); }
};
CurrentRun findRun(const Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& s);
// On the reconcile that retries an aborted update (Context::retrying), drops the run statuses
// recorded before the abort from the next status: the step, background, pre- and post-promotion
// runs are created again when the update reaches them, and a run that passed before the abort
// does not open a gate after it. No-op otherwise.
void forgetRunsBeforeAbort(Context& c);
// True when the run `s` names ran to Successful. A run that was terminated ends Successful too
// (as in Argo) but proves nothing, so it never opens a gate (active switch, stable, next step).
bool passedGate(const Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& s);
bool needsNewAnalysisRun(const Context& c, const CurrentRun& current);
// Creates the run (action) and returns its status entry, or a condition + nullopt on error.
std::optional<spec::RolloutAnalysisRunStatus> createAnalysisRun(
    Context& c, const spec::RolloutAnalysis& analysis, const std::string& infix,
    const std::string& type, std::optional<int32_t> stepIndex);
void terminateRun(Context& c, const CurrentRun& run);
// Pause on Inconclusive, abort on Failed/Error (Argo's setPauseOrAbort).
void pauseOrAbortOn(Context& c, const CurrentRun& run, const std::string& type);
void emitRunStatusChange(Context& c, const std::optional<spec::RolloutAnalysisRunStatus>& prev,
                         const std::optional<spec::RolloutAnalysisRunStatus>& cur,
                         const std::string& type);
void cancelAndCollectOtherRuns(Context& c, const std::vector<std::string>& currentNames);
std::map<std::string, std::string> runEvidence(const spec::AnalysisRun& run);

// The signature gate (image_gate.cc, docs/supply-chain.md) for the revision this reconcile would
// create (c.podHash, `creates`: an EnsureRevision follows). Refused (an enforce-mode policy, or
// no verdict about this revision although a verifier is configured): fills c.plan as the
// refused plan — the status as it was plus the pause ImageNotVerified, the condition
// ImageVerified=False naming image, policy and reason, one Warning event per refused image only
// when that is news — and returns false: the caller returns c.plan, with no action. Otherwise
// sets (or, without a check, drops) the ImageVerified condition, records one event per verdict
// when `announce` (the update is new), sets `pinned` to the template to create the revision with
// (images pinned to their verified digests; unset = the spec's) and returns true.
bool gateRevision(Context& c, bool creates, bool announce,
                  std::optional<spec::PodTemplateSpec>& pinned);
// True when `s` carries the pause ImageNotVerified.
bool imagePaused(const spec::RolloutStatus& s);
// Removes the pause ImageNotVerified and the condition ImageVerified=False from `s` (the gate no
// longer refuses: a verified or unchecked revision, or a spec that needs no new revision).
void liftImagePause(spec::RolloutStatus& s);

// Rolling restart (Argo's RolloutPodRestarter, rollout/restart.go): replaces replicas that
// started before spec.restartAt, within maxUnavailable, and sets status.restartedAt when none is
// left. Runs in both strategies, paused or not, after the template-change check.
void reconcileRestart(Context& c);
// A template (or steps) change cancels a pending restart: the new revision's replicas are new.
inline void cancelRestart(Context& c) { c.next.restartedAt = c.spec.restartAt; }

// Strategies.
void reconcileCanary(Context& c);
void reconcileBlueGreen(Context& c);

std::string formatTime(Time t);

}  // namespace ramp::rollout::internal
