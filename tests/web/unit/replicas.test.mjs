// Unit tests of web/js/replicas.js: replica rows as `ramp get rollout` shows them, grouped by
// revision. Table-driven, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { replicaCounts, replicaRow, replicasByRevision, replicaStateStyle } from '../../../web/js/replicas.js';

test('each state has the CLI icon and a tone', () => {
  const cases = [
    ['Running', '✔', 'ok'],
    ['Starting', '◌', 'busy'],
    ['CrashLoopBackOff', '✖', 'bad'],
    ['Waiting', '◷', 'unknown'],
    ['Terminating', '◌', 'unknown'],
    ['Evicted', '?', 'unknown'],
    [undefined, '?', 'unknown'],
  ];
  for (const [state, icon, tone] of cases) {
    assert.deepEqual(replicaStateStyle(state), { icon, tone }, String(state));
  }
});

test('a replica row: ready, restarts, last exit, message', () => {
  const cases = [
    [{ name: 'web-a-0', index: 0, state: 'Running', ready: true, restarts: 0, lastExit: '', startedAt: '2026-01-01T00:00:00Z' },
      { name: 'web-a-0', index: 0, state: 'Running', icon: '✔', tone: 'ok', ready: '1/1', restarts: 0, lastExit: '–', message: '', startedAt: '2026-01-01T00:00:00Z' }],
    [{ name: 'web-a-1', index: 1, state: 'CrashLoopBackOff', ready: false, restarts: 4, lastExit: 'exit 3', message: 'pid 9 exited with status 3' },
      { name: 'web-a-1', index: 1, state: 'CrashLoopBackOff', icon: '✖', tone: 'bad', ready: '0/1', restarts: 4, lastExit: 'exit 3', message: 'pid 9 exited with status 3', startedAt: null }],
    // Missing fields: safe defaults, nothing undefined shown.
    [{}, { name: '', index: 0, state: 'Unknown', icon: '?', tone: 'unknown', ready: '0/1', restarts: 0, lastExit: '–', message: '', startedAt: null }],
  ];
  for (const [input, want] of cases) assert.deepEqual(replicaRow(input), want);
});

test('replicas are grouped by revision and ordered by index, a stopping one after its successor', () => {
  const grouped = replicasByRevision([
    { name: 'web-b-1', podTemplateHash: 'b', index: 1, state: 'Starting' },
    { name: 'web-a-0', podTemplateHash: 'a', index: 0, state: 'Running' },
    { name: 'web-b-0', podTemplateHash: 'b', index: 0, state: 'Terminating' },
    { name: 'web-b-0', podTemplateHash: 'b', index: 0, state: 'Starting' },
  ]);
  assert.deepEqual([...grouped.keys()], ['b', 'a']);
  assert.deepEqual(grouped.get('b').map((r) => `${r.name} ${r.state}`),
    ['web-b-0 Starting', 'web-b-0 Terminating', 'web-b-1 Starting']);
  assert.deepEqual(grouped.get('a').map((r) => r.name), ['web-a-0']);
  assert.equal(replicasByRevision(undefined).size, 0);
});

test('counts by state, in a fixed order', () => {
  const rows = (states) => states.map((state) => replicaRow({ state }));
  assert.equal(replicaCounts(rows(['Running', 'CrashLoopBackOff', 'Running'])), '2 Running, 1 CrashLoopBackOff');
  assert.equal(replicaCounts(rows(['Terminating', 'Starting', 'Evicted'])), '1 Starting, 1 Terminating, 1 Evicted');
  assert.equal(replicaCounts([]), '');
  assert.equal(replicaCounts(undefined), '');
});
