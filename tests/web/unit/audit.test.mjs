// Unit tests of web/js/audit.js: audit records of the API decoded for the rollout page (the
// record beside each event). Table-driven, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { addAuditRecords, auditFields, canAudit, decodeAuditRecord } from '../../../web/js/audit.js';

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');
const DIGEST = 'a'.repeat(64);

// An item as GET /api/v1/audit/records serves it: the DSSE envelope as stored.
function item(index, eventId, { signatures = [{ keyid: 'f00dfeedcafe0123456789', sig: 'MEUC' }], payload } = {}) {
  const statement = payload ?? JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'Rollout/shop/web', digest: { sha256: DIGEST } }, { name: 'reg/shop/web', digest: { sha256: 'b'.repeat(64) } }],
    predicateType: 'https://ramp.dev/attestation/decision/v1',
    predicate: { index, action: 'abort', actor: { id: 'controller', kind: 'controller' }, message: 'analysis failed — 94 %' },
  });
  return {
    index, eventId, leafHash: 'c'.repeat(64),
    envelope: JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: b64(statement), signatures }),
  };
}

test('roles that may read the log', () => {
  const cases = [['viewer', false], ['auditor', true], ['operator', true], ['admin', true], ['', false], [undefined, false]];
  for (const [role, can] of cases) assert.equal(canAudit(role), can, String(role));
});

test('a signed record decodes to what its statement binds', () => {
  const r = decodeAuditRecord(item(7, 41));
  assert.equal(r.index, 7);
  assert.equal(r.eventId, 41);
  assert.equal(r.signed, true);
  assert.deepEqual(r.keyIds, ['f00dfeedcafe0123456789']);
  assert.equal(r.action, 'abort');
  assert.equal(r.actor, 'controller');
  assert.deepEqual(r.subjects.map((s) => s.digest), [`sha256:${DIGEST}`, `sha256:${'b'.repeat(64)}`]);
  const fields = auditFields(r);
  assert.deepEqual(fields.slice(0, 4).map((f) => [f.label, f.value]), [
    ['record', '#7'], ['signed by', 'f00dfeedcafe0123'], ['action', 'abort'], ['actor', 'controller (controller)'],
  ]);
  assert.equal(fields.filter((f) => f.label === 'subject').length, 2);
});

test('an unsigned record says so; a broken one is kept with the reason', () => {
  const unsigned = decodeAuditRecord(item(3, 9, { signatures: [] }));
  assert.equal(unsigned.signed, false);
  assert.match(auditFields(unsigned)[1].value, /nobody/);
  const cases = [
    { ...item(4, 10), envelope: '{not json' },
    item(5, 11, { payload: 'not a statement' }),
  ];
  for (const c of cases) {
    const r = decodeAuditRecord(c);
    assert.equal(r.eventId, c.eventId);
    assert.match(r.error, new RegExp(`^record ${c.index} cannot be read: `));
    assert.deepEqual(auditFields(r).map((f) => f.label), ['record']);
  }
});

test('records are kept by event, and the next read starts after the last index', () => {
  const byEvent = new Map();
  assert.equal(addAuditRecords(byEvent, [item(0, 1), item(2, 5)], 0), 2);
  assert.equal(addAuditRecords(byEvent, [], 3), 2);
  assert.equal(addAuditRecords(byEvent, undefined, 3), 2);
  assert.deepEqual([...byEvent.keys()], [1, 5]);
  assert.equal(byEvent.get(5).index, 2);
});

test('a GitOps apply shows its origin, environment, change and the images it replaced', () => {
  const payload = JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'Rollout/shop/web', digest: { sha256: DIGEST } }],
    predicateType: 'https://ramp.dev/attestation/decision/v1',
    predicate: {
      index: 9, action: 'apply', environment: 'prod',
      actor: { id: 'gitops', kind: 'controller', origin: 'gitops' },
      change: { repo: 'https://git.example/shop.git', revision: '9f1c2d3e4f', path: 'environments/prod', pullRequest: '42', approvers: ['Bob', 'Dana'], author: 'Carol' },
      previous: { images: ['shop:1'] },
    },
  });
  const fields = auditFields(decodeAuditRecord(item(9, 30, { payload })));
  const byLabel = Object.fromEntries(fields.map((f) => [f.label, f.value]));
  assert.equal(byLabel.actor, 'gitops (controller, via gitops)');
  assert.equal(byLabel.environment, 'prod');
  assert.equal(byLabel.change, 'https://git.example/shop.git@9f1c2d3 environments/prod, pull request 42 approved by Bob, Dana; author Carol');
  assert.equal(byLabel.replaced, 'shop:1');
  // A record without them has none of these rows.
  const plain = auditFields(decodeAuditRecord(item(7, 41))).map((f) => f.label);
  for (const label of ['environment', 'change', 'replaced']) assert.ok(!plain.includes(label), label);
});
