// Unit tests of web/js/model.js, conditions.js, evidence.js and chart.js's data model: the same
// derivations as the CLI (src/cli/rollout_view.cc), table-driven, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  actualWeight, describeStep, formatAge, formatDuration, images, lastChange, measurementCounts,
  measurementNumber,
  parseDuration, rolloutPhase, runBelongsTo, setWeight, stepStates, stepText, strategyName,
} from '../../../web/js/model.js';
import { parseCondition, satisfies, substituteArgs } from '../../../web/js/conditions.js';
import { evidenceFields, evidenceSummary } from '../../../web/js/evidence.js';
import { chartModel } from '../../../web/js/chart.js';

const steps = [{ setWeight: 5 }, { analysis: { templates: [{ templateName: 'slo' }] } }, { setWeight: 25 },
  { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }];

function canary(status, extra = {}) {
  return {
    metadata: { name: 'web', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas: 4, strategy: { canary: { steps, ...extra } },
      template: { spec: { containers: [{ name: 'web', image: 'web:v2' }] } } },
    status,
  };
}

test('phase, strategy, step i/n and set weight follow the CLI', () => {
  const cases = [
    // status, phase, step, set weight
    [{}, 'Progressing', '0/6', 5],
    [{ phase: 'Paused', currentStepIndex: 3 }, 'Paused', '3/6', 25],
    [{ phase: 'Progressing', currentStepIndex: 4 }, 'Progressing', '4/6', 50],
    [{ phase: 'Healthy', currentStepIndex: 6 }, 'Healthy', '6/6', 100],
    [{ phase: 'Degraded', currentStepIndex: 0, abort: true }, 'Degraded', '0/6', 0],
    [{ phase: 'Degraded', currentStepIndex: 2, abort: true }, 'Degraded', '2/6', 0],
  ];
  for (const [status, phase, step, weight] of cases) {
    const r = canary(status);
    assert.equal(rolloutPhase(r), phase);
    assert.equal(stepText(r), step);
    assert.equal(setWeight(r), weight);
    assert.equal(strategyName(r), 'Canary');
  }
  const bg = { metadata: {}, spec: { strategy: { blueGreen: {} } }, status: {} };
  assert.equal(stepText(bg), '');
  assert.equal(setWeight(bg), null);
  assert.equal(actualWeight(bg), null);
  assert.equal(strategyName(bg), 'BlueGreen');
});

test('actual weight follows Argo: max when no step remains, 0 unavailable, router, replica share', () => {
  const routed = { trafficRouting: { plugins: { 'ramp/haproxy': {} } } };
  const up = { availableReplicas: 4, currentStepIndex: 2 };
  assert.deepEqual(actualWeight(canary({ ...up, canary: { weights: { canary: { weight: 25 }, verified: true } } }, routed)),
    { weight: 25, note: '' });
  assert.deepEqual(actualWeight(canary({ ...up, canary: { weights: { canary: { weight: 25 }, verified: false } } }, routed)),
    { weight: 25, note: 'not yet verified' });
  assert.deepEqual(actualWeight(canary({ ...up }, routed)), { weight: 25, note: '' }, 'no weights yet: the set weight');
  assert.deepEqual(actualWeight(canary({ currentStepIndex: 6, availableReplicas: 4 }, routed)), { weight: 100, note: '' },
    'Healthy, every step done: 100, not 0');
  assert.deepEqual(actualWeight(canary({ currentStepIndex: 2 }, routed)), { weight: 0, note: '' }, 'nothing available');
  const basic = { ...up, stableRS: 'a', currentPodHash: 'b', updatedReplicas: 1 };
  assert.deepEqual(actualWeight(canary(basic), [
    { podTemplateHash: 'b', availableReplicas: 1 }, { podTemplateHash: 'a', availableReplicas: 3 }]),
  { weight: 25, note: '' }, 'basic canary: the canary revision\'s share of available replicas');
  assert.deepEqual(actualWeight(canary(basic)), { weight: 25, note: 'by updated replicas' });
  assert.deepEqual(actualWeight(canary({ ...up, stableRS: 'a', currentPodHash: 'a' }), []), { weight: 0, note: '' });
});

test('images: from the running revisions with Argo\'s tags, merged and sorted', () => {
  const revs = [
    { podTemplateHash: 'b', images: ['web:v2'], desiredReplicas: 1 },
    { podTemplateHash: 'a', images: ['web:v1'], desiredReplicas: 3 },
    { podTemplateHash: 'z', images: ['web:v0'], desiredReplicas: 0 },
  ];
  assert.deepEqual(images(canary({ stableRS: 'a', currentPodHash: 'b' }), revs),
    [{ image: 'web:v1', tags: ['stable'] }, { image: 'web:v2', tags: ['canary'] }]);
  const bg = { metadata: {}, spec: { strategy: { blueGreen: {} } },
    status: { blueGreen: { activeSelector: 'a', previewSelector: 'b' } } };
  assert.deepEqual(images(bg, revs),
    [{ image: 'web:v1', tags: ['active'] }, { image: 'web:v2', tags: ['preview'] }]);
  assert.deepEqual(images(canary({ stableRS: 'a', currentPodHash: 'b' })), [{ image: 'web:v2', tags: ['canary'] }]);
  assert.deepEqual(images(canary({ stableRS: 'a', currentPodHash: 'a' })), [{ image: 'web:v2', tags: ['stable'] }]);
});

test('an AnalysisRun counts measurements, not metrics', () => {
  const run = { status: { runSummary: { successful: 1, failed: 1 }, metricResults: [
    { successful: 5, failed: 1, error: 1 }, { successful: 2, inconclusive: 1 }] } };
  assert.deepEqual(measurementCounts(run), { successful: 7, failed: 2, inconclusive: 1 });
});

test('last change is the newest time in the status', () => {
  const r = canary({
    conditions: [{ lastUpdateTime: '2026-01-01T00:09:00Z', lastTransitionTime: '2026-01-01T00:00:30Z' }],
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:02:00Z' }],
  });
  assert.equal(lastChange(r), '2026-01-01T00:02:00Z'); // a refreshed lastUpdateTime is no change
  assert.equal(lastChange(canary({ conditions: [{ lastTransitionTime: '2026-01-01T00:03:00Z' }] })),
    '2026-01-01T00:03:00Z');
  assert.equal(lastChange(canary({})), '2026-01-01T00:00:00Z');
});

test('durations: Go syntax and integer seconds', () => {
  const cases = [['1m', 60000], ['1h30m', 5400000], ['2.5s', 2500], ['300ms', 300], ['30', 30000], [45, 45000],
    ['', null], ['soon', null], ['1x', null], ['1m soon', null]];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  assert.equal(formatDuration(59_000), '59s');
  assert.equal(formatDuration(61_000), '1m 01s');
  assert.equal(formatDuration(3_723_000), '1h 02m 03s');
  assert.equal(formatDuration(1), '1s'); // rounds up: never "0s" while time is left
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(formatAge('2026-01-01T00:00:00Z', t0 + 5_000), '5s ago');
  assert.equal(formatAge('2026-01-01T00:00:00Z', t0 + 125_000), '2m 5s ago');
  assert.equal(formatAge('2026-01-01T00:00:00Z', t0 + 7_500_000), '2h 5m ago');
  assert.equal(formatAge('nonsense', t0), '–');
});

test('steps: done, current, pending; a timed pause has a deadline from its pause condition', () => {
  const r = canary({ phase: 'Paused', currentStepIndex: 3,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:05:00Z' }] });
  const s = stepStates(r);
  assert.deepEqual(s.map((x) => x.state), ['done', 'done', 'done', 'current', 'pending', 'pending']);
  assert.equal(s[3].text, 'Pause 1m 00s');
  assert.equal(s[3].deadlineMs, Date.parse('2026-01-01T00:06:00Z'));
  assert.equal(s[5].text, 'Pause until promoted');
  assert.equal(s[1].text, 'Analysis: slo');
  // An indefinite pause has no deadline; nor has a timed one before its pause condition exists.
  assert.equal(stepStates(canary({ currentStepIndex: 5, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:05:00Z' }] }))[5].deadlineMs, null);
  assert.equal(stepStates(canary({ currentStepIndex: 3 }))[3].deadlineMs, null);
  assert.deepEqual(stepStates(canary({ phase: 'Healthy', currentStepIndex: 6 })).map((x) => x.state),
    ['done', 'done', 'done', 'done', 'done', 'done']);
  assert.equal(describeStep({ setCanaryScale: { weight: 5 } }).kind, 'scale');
});

test('AnalysisRuns belong to a rollout by name prefix and namespace', () => {
  const r = canary({});
  assert.ok(runBelongsTo({ metadata: { name: 'web-abc-2-1', namespace: 'shop' } }, r));
  assert.ok(!runBelongsTo({ metadata: { name: 'web-abc-2-1', namespace: 'other' } }, r));
  assert.ok(!runBelongsTo({ metadata: { name: 'webshop-abc-2-1', namespace: 'shop' } }, r));
});

test('measurement values: the first number of a provider\'s result', () => {
  const cases = [['0.97', 0.97], ['[0.9712]', 0.9712], ['[0.5 0.7]', 0.5], ['1e-3', 0.001], ['[]', null],
    ['', null], [undefined, null], ['{"p99": 0.21}', 99]];
  for (const [v, n] of cases) assert.equal(measurementNumber(v), n, String(v));
});

test('conditions: thresholds of simple comparisons, an error for anything else', () => {
  const cases = [
    ['result[0] >= 0.95', [{ op: '>=', value: 0.95 }]],
    ['len(result) > 0 && result[0] >= 0.95', [{ op: '>=', value: 0.95 }]],
    ['result <= 0.25', [{ op: '<=', value: 0.25 }]],
    ['asFloat(result) > 1e3', [{ op: '>', value: 1000 }]],
    ['0.95 <= result[0]', [{ op: '>=', value: 0.95 }]],
    ['(result[0] > 0.1) && (result[0] < 0.5)', [{ op: '>', value: 0.1 }, { op: '<', value: 0.5 }]],
    ['', []],
  ];
  for (const [c, thresholds] of cases) {
    const p = parseCondition(c);
    assert.equal(p.error, '', c);
    assert.deepEqual(p.thresholds, thresholds, c);
  }
  for (const c of ['result[0] >= 0.95 || result[0] < 0', 'result.p99 < 1', 'isNaN(result[0])', '!(result[0] > 1)',
    'result[1] > 2', 'result[0] >= {{args.min}}']) {
    const p = parseCondition(c);
    assert.notEqual(p.error, '', c);
    assert.deepEqual(p.thresholds, [], c);
  }
  assert.equal(substituteArgs('len(result) > 0 && result[0] >= {{args.min-rate}}', [{ name: 'min-rate', value: '0.95' }]),
    'len(result) > 0 && result[0] >= 0.95');
  assert.equal(substituteArgs('{{ args.x }} {{args.y}}', [{ name: 'x', value: '1' }]), '1 {{args.y}}');
  assert.equal(satisfies(0.9, [{ op: '>=', value: 0.95 }]), false);
  assert.equal(satisfies(0.97, [{ op: '>=', value: 0.95 }]), true);
  assert.equal(satisfies(0.97, []), null);
});

test('evidence: a summary of the deciding measurement and every field labelled', () => {
  const ev = { analysisRun: 'demo-abc-3-1', metric: 'success-rate', measuredValue: '[0.8812]',
    successCondition: 'len(result) > 0 && result[0] >= 0.95', failed: '1', rolloutType: 'step' };
  assert.equal(evidenceSummary(ev),
    'success-rate measured [0.8812]; success needs len(result) > 0 && result[0] >= 0.95');
  assert.equal(evidenceSummary({ metric: 'm', phase: 'Failed', value: '3', failureCondition: 'result > 2' }),
    'm measured 3 (Failed); fails when result > 2');
  assert.equal(evidenceSummary({ analysisRun: 'x' }), '');
  const f = evidenceFields(ev);
  assert.deepEqual(f.find((x) => x.key === 'measuredValue'), { key: 'measuredValue', label: 'measured value', value: '[0.8812]' });
  assert.equal(f.length, 6);
  assert.deepEqual(evidenceFields('raw text'), [{ key: 'evidence', label: 'evidence', value: 'raw text' }]);
  assert.deepEqual(evidenceFields(undefined), []);
  // A signature check (docs/supply-chain.md).
  const gate = evidenceFields({ image: 'reg/shop/web:1.3', pinnedImage: 'reg/shop/web:1.3@sha256:ab',
    policy: 'shop-images', allowed: 'true' });
  assert.deepEqual(gate.map((x) => x.label), ['image', 'runs as', 'ClusterImagePolicy', 'allowed']);
});

test('chart model: points by time, thresholds inside the y range', () => {
  const ms = [
    { value: '[0.99]', phase: 'Successful', finishedAt: '2026-01-01T00:00:00Z' },
    { value: '[0.97]', phase: 'Successful', finishedAt: '2026-01-01T00:00:01Z' },
    { value: '[0.88]', phase: 'Failed', finishedAt: '2026-01-01T00:00:03Z' },
    { value: '', phase: 'Error', finishedAt: '2026-01-01T00:00:04Z' },
  ];
  const m = chartModel(ms, [{ op: '>=', value: 0.95, kind: 'success' }]);
  assert.equal(m.points.length, 4);
  assert.equal(m.points[3].y, null); // no value, not drawn
  assert.ok(m.useTime);
  assert.ok(m.yMin < 0.88 && m.yMax > 0.99);
  // Higher values are higher on the chart (smaller y); the threshold lies between.
  assert.ok(m.points[0].y < m.points[2].y);
  assert.ok(m.lines[0].y > m.points[0].y && m.lines[0].y < m.points[2].y);
  // Time spacing: 1 s then 2 s.
  const dx1 = m.points[1].x - m.points[0].x;
  const dx2 = m.points[2].x - m.points[1].x;
  assert.ok(Math.abs(dx2 - 2 * dx1) < 1e-6);
  const one = chartModel([{ value: '5', phase: 'Successful' }], []);
  assert.equal(one.points.length, 1);
  assert.ok(one.yMin < 5 && one.yMax > 5);
});
