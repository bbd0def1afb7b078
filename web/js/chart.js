// A chart of one metric's measurements (inline SVG, no library): each measurement's value over
// time, coloured by its phase, against the thresholds of the metric's success and failure
// conditions (conditions.js). The data preparation (chartModel) is pure and unit-tested.

import { s } from './dom.js';
import { measurementNumber } from './model.js';

const W = 560;
const H = 180;
const PAD = { left: 52, right: 16, top: 14, bottom: 30 };

// {points: [{x, y, value, phase, raw}], lines: [{y, value, op, kind}], yMin, yMax, tMin, tMax}
// x/y are in the SVG's coordinates. `thresholds`: [{op, value, kind: 'success'|'failure'}].
export function chartModel(measurements, thresholds) {
  const pts = [];
  measurements.forEach((m, i) => {
    const v = measurementNumber(m.value);
    const t = Date.parse(m.finishedAt || m.startedAt || '');
    pts.push({ value: v, t: Number.isFinite(t) ? t : null, i, phase: m.phase || 'Pending', raw: m.value || '' });
  });
  const values = pts.filter((p) => p.value !== null).map((p) => p.value)
    .concat(thresholds.map((t) => t.value));
  let yMin = values.length ? Math.min(...values) : 0;
  let yMax = values.length ? Math.max(...values) : 1;
  if (yMin === yMax) {
    const d = Math.abs(yMin) * 0.1 || 1;
    yMin -= d;
    yMax += d;
  }
  const span = yMax - yMin;
  yMin -= span * 0.08;
  yMax += span * 0.08;
  const times = pts.filter((p) => p.t !== null).map((p) => p.t);
  const useTime = times.length === pts.length && times.length > 1 && Math.max(...times) > Math.min(...times);
  const tMin = useTime ? Math.min(...times) : 0;
  const tMax = useTime ? Math.max(...times) : Math.max(1, pts.length - 1);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const xOf = (p) => PAD.left + (((useTime ? p.t : p.i) - tMin) / (tMax - tMin || 1)) * innerW;
  const yOf = (v) => PAD.top + (1 - (v - yMin) / (yMax - yMin)) * innerH;
  return {
    points: pts.map((p) => ({ ...p, x: pts.length === 1 ? PAD.left + innerW / 2 : xOf(p), y: p.value === null ? null : yOf(p.value) })),
    lines: thresholds.map((t) => ({ ...t, y: yOf(t.value) })),
    yMin,
    yMax,
    tMin,
    tMax,
    useTime,
  };
}

function fmt(v) {
  if (v === null || v === undefined) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

// The SVG for one metric. `label` names it for assistive technology.
export function metricChart(measurements, thresholds, label) {
  const m = chartModel(measurements, thresholds);
  const children = [s('title', null, label)];
  // Axes and the y range.
  children.push(
    s('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }),
    s('line', { class: 'axis', x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }),
    s('text', { class: 'tick', x: PAD.left - 6, y: PAD.top + 4, 'text-anchor': 'end' }, fmt(m.yMax)),
    s('text', { class: 'tick', x: PAD.left - 6, y: H - PAD.bottom, 'text-anchor': 'end' }, fmt(m.yMin)),
    s('text', { class: 'tick', x: PAD.left, y: H - 8 }, m.useTime ? 'first' : '#1'),
    measurements.length > 1 ? s('text', { class: 'tick', x: W - PAD.right, y: H - 8, 'text-anchor': 'end' },
      m.useTime ? `+${Math.round((m.tMax - m.tMin) / 1000)}s` : `#${measurements.length}`) : null,
  );
  for (const l of m.lines) {
    children.push(
      s('line', { class: ['threshold', `threshold-${l.kind}`], x1: PAD.left, x2: W - PAD.right, y1: l.y, y2: l.y }),
      s('text', { class: ['threshold-label', `threshold-${l.kind}`], x: W - PAD.right - 2, y: l.y - 4, 'text-anchor': 'end' },
        `${l.kind} ${l.op} ${fmt(l.value)}`),
    );
  }
  const drawn = m.points.filter((p) => p.y !== null);
  if (drawn.length > 1) {
    children.push(s('polyline', { class: 'series', points: drawn.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ') }));
  }
  for (const p of drawn) {
    children.push(s('circle', { class: ['point', `phase-${p.phase}`], cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 4 },
      s('title', null, `#${p.i + 1}: ${p.raw} (${p.phase})`)));
  }
  return s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet',
  }, children);
}
