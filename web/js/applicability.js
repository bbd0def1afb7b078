// Whether a rollout action can apply to the rollout's current state, with the reason when it
// cannot: the same preconditions the server checks (src/rollout/operations.cc), so the dashboard
// disables what the API would refuse with 422 and says why, as Argo's UI does. Pure: no DOM.

function fullyPromoted(r) {
  const s = r.status || {};
  return !!s.stableRS && s.stableRS === s.currentPodHash;
}

// Returns '' when action `id` (actions.js's ids) applies to rollout `r` (API JSON), else the
// reason it does not, in words a person can act on.
export function actionBlocker(id, r) {
  if (!r) return 'the rollout is not loaded yet';
  const spec = r.spec || {};
  const s = r.status || {};
  const paused = !!spec.paused;
  const pauseConditions = s.pauseConditions || [];
  const aborted = !!s.abort;
  switch (id) {
    case 'promote':
      if (aborted) return 'the update is aborted: use Retry to start it again';
      if (fullyPromoted(r) && !paused && !pauseConditions.length) return 'nothing to promote: the revision is already fully promoted';
      return '';
    case 'promote-full':
      return fullyPromoted(r) ? 'already fully promoted' : '';
    case 'abort':
      if (aborted) return 'already aborted';
      if (fullyPromoted(r) || !s.stableRS) return 'no update in progress to abort';
      return '';
    case 'retry':
      // Also after the signature gate refused an image: the images are checked again.
      if (aborted || pauseConditions.some((p) => p.reason === 'ImageNotVerified')) return '';
      return 'not aborted: retry starts an aborted update again, or checks refused images again';
    case 'pause':
      return paused ? 'already paused' : '';
    case 'resume':
      if (paused) return '';
      if (pauseConditions.length) {
        return `paused by the controller (${pauseConditions[0].reason}), not by a user: use Promote to continue`;
      }
      return 'not paused';
    default:
      return '';
  }
}
