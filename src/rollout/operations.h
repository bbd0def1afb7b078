#pragma once

// User operations on a Rollout (Argo's kubectl-argo-rollouts promote, abort, retry, undo, pause,
// restart, set image): each returns the Rollout with the intent written into its spec or status,
// exactly as Argo's CLI patches it, for the API to store. The controller then reacts on its next
// reconcile. Nothing here acts on the world.
//
// Every function returns kFailedPrecondition with a message naming the rollout when the
// operation does not apply to the rollout's current state (e.g. retry of a rollout that is not
// aborted), and kInvalidArgument / kNotFound for a bad argument.
//
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"
#include "ramp/platform/workload_driver.h"
#include "ramp/spec/rollout.h"

namespace ramp::rollout {

// promote: canary paused at a step -> clears the pause (the step completes); at any other step
// (analysis, setWeight, an unsupported step) -> skips to the next step; blue-green -> clears the
// BlueGreenPause. Also unsets spec.paused. Fails when the rollout is fully promoted and not
// paused, or aborted (retry first).
Result<spec::Rollout> promote(const spec::Rollout& rollout);

// promote --full: skips every remaining step, pause and analysis (status.promoteFull).
// Fails when the rollout is already fully promoted.
Result<spec::Rollout> promoteFull(const spec::Rollout& rollout);

// abort: status.abort = true. Fails when no update is in progress or already aborted.
Result<spec::Rollout> abortRollout(const spec::Rollout& rollout);

// retry: status.abort = false after an abort; on a rollout paused by the signature gate (pause
// ImageNotVerified), lifts that pause so that the controller asks its image verifier again.
// Fails when the rollout is neither.
Result<spec::Rollout> retry(const spec::Rollout& rollout);

// undo: replaces spec.template with the template of revision `toRevision`, or of the newest
// revision older than the current one when nullopt. Fails with kNotFound when that revision is
// unknown, kFailedPrecondition when the template already matches it.
Result<spec::Rollout> undo(const spec::Rollout& rollout,
                           const std::vector<platform::ObservedRevision>& revisions,
                           std::optional<int64_t> toRevision);

// pause: spec.paused = true. Already paused: the rollout unchanged (Argo's pause is a patch,
// so pausing twice succeeds).
Result<spec::Rollout> pause(const spec::Rollout& rollout);

// resume: spec.paused = false (the rollout continues where it was). Fails when not paused;
// when the controller paused it (a `pause` step, an inconclusive analysis, a blue-green
// promotion waiting), the message says to promote, which is what continues it.
Result<spec::Rollout> resume(const spec::Rollout& rollout);

// restart: spec.restartAt = at (replicas started before it are replaced). Fails when `at` is
// before the last completed restart.
Result<spec::Rollout> restart(const spec::Rollout& rollout, Time at);

// set image: `assignment` is CONTAINER=IMAGE, or *=IMAGE for every container (init containers
// included). kInvalidArgument for a malformed assignment; kFailedPrecondition when no container
// has that name.
Result<spec::Rollout> setImage(const spec::Rollout& rollout, const std::string& assignment);

}  // namespace ramp::rollout
