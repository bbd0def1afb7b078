// Unit tests of web/js/applicability.js: the dashboard disables exactly the actions the API
// refuses with 422 (src/rollout/operations.cc), with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { actionBlocker } from '../../../web/js/applicability.js';

const inUpdate = { stableRS: 'aaa', currentPodHash: 'bbb' };
const promoted = { stableRS: 'aaa', currentPodHash: 'aaa' };

test('each action is blocked exactly when the server would refuse it', () => {
  const cases = [
    // action, spec, status, blocked reason (substring; '' = allowed)
    ['promote', {}, inUpdate, ''],
    ['promote', {}, { ...inUpdate, abort: true }, 'use Retry'],
    ['promote', {}, promoted, 'already fully promoted'],
    ['promote', { paused: true }, promoted, ''],
    ['promote-full', {}, inUpdate, ''],
    ['promote-full', {}, promoted, 'already fully promoted'],
    ['abort', {}, inUpdate, ''],
    ['abort', {}, { ...inUpdate, abort: true }, 'already aborted'],
    ['abort', {}, promoted, 'no update in progress'],
    ['abort', {}, {}, 'no update in progress'],
    ['retry', {}, { ...inUpdate, abort: true }, ''],
    ['retry', {}, inUpdate, 'not aborted'],
    ['retry', {}, { ...inUpdate, pauseConditions: [{ reason: 'ImageNotVerified' }] }, ''],
    ['retry', {}, { ...inUpdate, pauseConditions: [{ reason: 'CanaryPauseStep' }] }, 'not aborted'],
    ['pause', {}, inUpdate, ''],
    ['pause', { paused: true }, inUpdate, 'already paused'],
    ['resume', { paused: true }, inUpdate, ''],
    ['resume', {}, { ...inUpdate, pauseConditions: [{ reason: 'CanaryPauseStep' }] },
      'paused by the controller (CanaryPauseStep), not by a user: use Promote'],
    ['resume', {}, inUpdate, 'not paused'],
    ['restart', {}, promoted, ''],
    ['undo', {}, promoted, ''],
    ['set-image', {}, promoted, ''],
  ];
  for (const [id, spec, status, want] of cases) {
    const got = actionBlocker(id, { spec, status });
    if (want === '') assert.equal(got, '', `${id} ${JSON.stringify(status)}`);
    else assert.ok(got.includes(want), `${id} ${JSON.stringify(status)}: got "${got}"`);
  }
  assert.ok(actionBlocker('promote', null).length > 0);
});
