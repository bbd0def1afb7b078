// Unit tests of web/js/apps.js: what the dashboard shows of an Application (badges, the diff, the
// history with who synced which commit) and which actions a role may use, as the API decides
// (docs/api.md: operator and up; 422 while a sync is pending or with no earlier revision).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  appActionBlocker, appSource, healthStatus, healthStyle, historyRows, initiator, operationText,
  resourceRows, rollbackTargets, shortSha, syncStatus, syncStyle,
} from '../../../web/js/apps.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function app(status = {}, extra = {}) {
  return {
    metadata: { name: 'shop-prod', namespace: 'argocd' },
    spec: { source: { repoURL: 'https://git.example.com/shop.git', path: 'environments/prod' },
      destination: { namespace: 'shop' }, syncPolicy: { automated: { selfHeal: true } } },
    status,
    ...extra,
  };
}

const history = [
  { id: 1, revision: A, deployedAt: '2026-12-06T10:00:00Z', initiatedBy: { automated: true } },
  { id: 3, revision: C, deployedAt: '2026-12-06T12:00:00Z', initiatedBy: { username: 'bob' } },
  { id: 2, revision: B, deployedAt: '2026-12-06T11:00:00Z', initiatedBy: { username: 'alice' } },
];

test('sync and health badges: the status, Unknown before the first comparison', () => {
  const cases = [
    // status, sync, health, sync tone, health tone
    [{}, 'Unknown', 'Unknown', 'unknown', 'unknown'],
    [{ sync: { status: 'Synced' }, health: { status: 'Healthy' } }, 'Synced', 'Healthy', 'ok', 'ok'],
    [{ sync: { status: 'OutOfSync' }, health: { status: 'Progressing' } }, 'OutOfSync', 'Progressing', 'warn', 'busy'],
    [{ sync: { status: 'Synced' }, health: { status: 'Degraded' } }, 'Synced', 'Degraded', 'ok', 'bad'],
    [{ sync: { status: 'Synced' }, health: { status: 'Suspended' } }, 'Synced', 'Suspended', 'ok', 'warn'],
    [{ sync: { status: 'OutOfSync' }, health: { status: 'Missing' } }, 'OutOfSync', 'Missing', 'warn', 'warn'],
  ];
  for (const [status, sync, health, syncTone, healthTone] of cases) {
    const a = app(status);
    assert.equal(syncStatus(a), sync);
    assert.equal(healthStatus(a), health);
    assert.equal(syncStyle(sync).tone, syncTone, sync);
    assert.equal(healthStyle(health).tone, healthTone, health);
  }
  assert.equal(syncStyle('Whatever').tone, 'unknown');
});

test('the source with Argo CD defaults', () => {
  assert.deepEqual(appSource(app()), {
    repoURL: 'https://git.example.com/shop.git', path: 'environments/prod', targetRevision: 'HEAD',
    destination: 'shop', project: 'default', auto: true, selfHeal: true, prune: false,
  });
  assert.equal(appSource({ spec: { source: { repoURL: 'x' } } }).path, '.');
  assert.equal(appSource({}).auto, false);
});

test('history newest first: who (a user or auto-sync) and which commit', () => {
  const rows = historyRows(app({ history }));
  assert.deepEqual(rows.map((r) => [r.id, r.short, r.who]), [[3, 'ccccccc', 'bob'], [2, 'bbbbbbb', 'alice'],
    [1, 'aaaaaaa', 'auto-sync']]);
  assert.equal(rows[0].revision, C);
  assert.deepEqual(rollbackTargets(app({ history })).map((r) => r.id), [2, 1]);
  assert.deepEqual(historyRows(app()), []);
  assert.equal(initiator(undefined), '');
  assert.equal(shortSha('v1.2'), 'v1.2', 'not a commit id: as it is');
});

test('the diff: out-of-sync objects first, each with the field it differs in', () => {
  const rows = resourceRows(app({ resources: [
    { kind: 'Rollout', namespace: 'shop', name: 'web', status: 'Synced', health: { status: 'Healthy' } },
    { kind: 'Rollout', namespace: 'shop', name: 'cart', status: 'OutOfSync', health: { status: 'Healthy' },
      message: 'spec.replicas: 3 in Git, 5 live' },
    { kind: 'AnalysisTemplate', namespace: 'shop', name: 'slo', status: 'OutOfSync', health: { status: 'Missing' } },
  ] }));
  assert.deepEqual(rows.map((r) => [r.kind, r.name, r.status, r.health, r.message]), [
    ['AnalysisTemplate', 'slo', 'OutOfSync', 'Missing', ''],
    ['Rollout', 'cart', 'OutOfSync', 'Healthy', 'spec.replicas: 3 in Git, 5 live'],
    ['Rollout', 'web', 'Synced', 'Healthy', ''],
  ]);
});

test('the last operation in words', () => {
  assert.equal(operationText(app()), '');
  assert.equal(operationText(app({ operationState: { phase: 'Failed', message: 'blocked by sync window: deny',
    operation: { initiatedBy: { username: 'bob' } } } })), 'Failed by bob — blocked by sync window: deny');
  assert.equal(operationText(app({ operationState: { phase: 'Succeeded', syncResult: { revision: B },
    operation: { initiatedBy: { automated: true } } } })), 'Succeeded at bbbbbbb by auto-sync');
});

test('actions: operator and up; sync and rollback wait for a pending sync; rollback needs an earlier entry', () => {
  const synced = app({ history });
  const pending = app({ history }, { operation: { sync: { revision: C } } });
  const once = app({ history: history.slice(0, 1) });
  const cases = [
    // action, app, role, blocked reason (substring; '' = allowed)
    ['sync', synced, 'viewer', 'needs the operator role (you are viewer)'],
    ['refresh', synced, 'viewer', 'needs the operator role'],
    ['rollback', synced, 'viewer', 'needs the operator role'],
    ['sync', synced, 'operator', ''],
    ['refresh', synced, 'operator', ''],
    ['rollback', synced, 'operator', ''],
    ['sync', synced, 'admin', ''],
    ['sync', pending, 'operator', 'a sync is already pending'],
    ['rollback', pending, 'admin', 'a sync is already pending'],
    ['refresh', pending, 'operator', ''],
    ['rollback', once, 'operator', 'no earlier revision in the history'],
    ['sync', null, 'operator', 'not loaded'],
  ];
  for (const [id, a, role, want] of cases) {
    const got = appActionBlocker(id, a, role);
    if (want === '') assert.equal(got, '', `${id} ${role}`);
    else assert.ok(got.includes(want), `${id} ${role}: got "${got}"`);
  }
});
