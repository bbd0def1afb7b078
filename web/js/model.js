// What the dashboard derives from the API's objects: a rollout's phase, step i/n, set and actual
// weight, images, last change, its AnalysisRuns, pause deadlines; ages and durations. Pure
// functions over the JSON the API returns (no DOM), mirroring the CLI (src/cli/rollout_view.cc)
// so `ramp get rollout` and the dashboard say the same thing. Unit-tested under node.

// The rollout's phase as the API stores it; "Progressing" while the controller has not written one.
export function rolloutPhase(r) {
  return (r.status && r.status.phase) || 'Progressing';
}

// Icon and tone per phase: the CLI's glyphs (‖ for its ॥, which common fonts lack).
const PHASES = {
  Healthy: { icon: '✔', tone: 'ok' },
  Degraded: { icon: '✖', tone: 'bad' },
  Paused: { icon: '‖', tone: 'warn' },
  Progressing: { icon: '◌', tone: 'busy' },
};
export const ROLLOUT_PHASES = Object.keys(PHASES);

export function phaseStyle(phase) {
  return PHASES[phase] || { icon: '?', tone: 'unknown' };
}

// AnalysisRun / metric / measurement phases.
const ANALYSIS = {
  Successful: { icon: '✔', tone: 'ok' },
  Failed: { icon: '✖', tone: 'bad' },
  Error: { icon: '✖', tone: 'bad' },
  Inconclusive: { icon: '⚠', tone: 'warn' },
  Running: { icon: '◌', tone: 'busy' },
  Pending: { icon: '◷', tone: 'unknown' },
};
export function analysisPhaseStyle(phase) {
  return ANALYSIS[phase || 'Pending'] || ANALYSIS.Pending;
}

export function strategyName(r) {
  const s = (r.spec && r.spec.strategy) || {};
  if (s.canary) return 'Canary';
  if (s.blueGreen) return 'BlueGreen';
  return '-';
}

function canarySteps(r) {
  const c = r.spec && r.spec.strategy && r.spec.strategy.canary;
  return c ? c.steps || [] : null;
}

// The current step index; unset means the update has not started a step yet (0).
export function currentStepIndex(r) {
  const i = r.status && r.status.currentStepIndex;
  return Number.isInteger(i) ? i : 0;
}

// "2/4" for a canary, "" otherwise (src/cli/rollout_view.cc stepText).
export function stepText(r) {
  const steps = canarySteps(r);
  if (!steps) return '';
  return `${currentStepIndex(r)}/${steps.length}`;
}

// The weight the current canary step sets (Argo's GetCurrentSetWeight, as the CLI shows it): 0
// once aborted, else the last setWeight at or before the current step, 100 once every step is
// done. null for blue-green.
export function setWeight(r) {
  const steps = canarySteps(r);
  if (!steps) return null;
  if (r.status && r.status.abort) return 0;
  const idx = currentStepIndex(r);
  if (idx >= steps.length) return 100;
  let w = 0;
  for (let i = 0; i <= idx && i < steps.length; i++) {
    if (steps[i] && typeof steps[i].setWeight === 'number') w = steps[i].setWeight;
  }
  return w;
}

// Argo's ActualWeight (src/cli/rollout_view.cc, actualWeightText): {weight, note}. The maximum
// weight once no step remains; 0 while no replica is available; with a router the verified
// weight (note "not yet verified" until the proxy reports it) or the set weight; without one the
// canary revision's share of the available replicas (`revisions` from the platform when the page
// has them, else status.updatedReplicas, noted). null for blue-green.
export function actualWeight(r, revisions) {
  const c = r.spec && r.spec.strategy && r.spec.strategy.canary;
  if (!c) return null;
  const st = r.status || {};
  const steps = c.steps || [];
  const max = (c.trafficRouting && c.trafficRouting.maxTrafficWeight) || 100;
  if (currentStepIndex(r) >= steps.length) return { weight: max, note: '' };
  const available = st.availableReplicas || 0;
  if (available <= 0) return { weight: 0, note: '' };
  if (c.trafficRouting) {
    const weights = st.canary && st.canary.weights;
    if (!weights) return { weight: setWeight(r), note: '' };
    const w = (weights.canary && weights.canary.weight) || 0;
    return { weight: w, note: weights.verified === false ? 'not yet verified' : '' };
  }
  const updating = st.currentPodHash !== st.stableRS;
  if (revisions) {
    const rev = updating ? revisions.find((x) => x.podTemplateHash === st.currentPodHash) : null;
    return { weight: rev ? Math.floor(((rev.availableReplicas || 0) * max) / available) : 0, note: '' };
  }
  if (!updating) return { weight: 0, note: '' };
  const canary = Math.min(st.updatedReplicas || 0, available);
  return { weight: Math.floor((canary * max) / available), note: 'by updated replicas' };
}

// The images running now, as Argo lists them: [{image, tags}] from every revision with replicas,
// tagged canary/stable (or active/preview for blue-green), merged by image and sorted. Without
// `revisions`, the template's images tagged canary (preview) during an update, else stable
// (active).
export function images(r, revisions) {
  const st = r.status || {};
  const blueGreen = !!(r.spec && r.spec.strategy && r.spec.strategy.blueGreen);
  const bg = st.blueGreen || {};
  const out = [];
  const add = (image, tags) => {
    let e = out.find((x) => x.image === image);
    if (!e) out.push(e = { image, tags: [] });
    for (const t of tags) if (!e.tags.includes(t)) e.tags.push(t);
  };
  if (revisions) {
    for (const rev of revisions) {
      if (!(rev.desiredReplicas > 0)) continue;
      const tags = [];
      if (blueGreen) {
        if (rev.podTemplateHash === bg.activeSelector) tags.push('active');
        if (rev.podTemplateHash === bg.previewSelector) tags.push('preview');
      } else {
        if (rev.podTemplateHash === st.currentPodHash && st.currentPodHash !== st.stableRS) tags.push('canary');
        if (rev.podTemplateHash === st.stableRS) tags.push('stable');
      }
      for (const image of rev.images || []) add(image, tags);
    }
  } else {
    const updating = !!st.stableRS && st.currentPodHash !== st.stableRS;
    const tag = blueGreen ? (updating ? 'preview' : 'active') : (updating ? 'canary' : 'stable');
    const containers = (r.spec && r.spec.template && r.spec.template.spec &&
      r.spec.template.spec.containers) || [];
    for (const c of containers) add(c.image, [tag]);
  }
  for (const e of out) e.tags.sort();
  out.sort((x, y) => (x.image < y.image ? -1 : x.image > y.image ? 1 : 0));
  return out;
}

// Measurements of an AnalysisRun, summed over its metrics (as Argo's tree counts ✔/✖):
// {successful, failed (failed + error), inconclusive}.
export function measurementCounts(run) {
  const out = { successful: 0, failed: 0, inconclusive: 0 };
  for (const m of (run.status && run.status.metricResults) || []) {
    out.successful += m.successful || 0;
    out.failed += (m.failed || 0) + (m.error || 0);
    out.inconclusive += m.inconclusive || 0;
  }
  return out;
}

// The newest time the rollout's status records a change (a condition's transition, a pause, the
// abort, the start or end of the update), or its creation; ISO string or null. A condition's
// lastUpdateTime is not used: the controller refreshes it while nothing changes.
export function lastChange(r) {
  const st = r.status || {};
  const times = [];
  for (const c of st.conditions || []) times.push(c.lastTransitionTime);
  for (const p of st.pauseConditions || []) times.push(p.startTime);
  times.push(st.abortedAt, st.restartedAt);
  if (st.duration) times.push(st.duration.rolloutStartedAt, st.duration.finishedAt);
  times.push(r.metadata && r.metadata.creationTimestamp);
  let best = null;
  let bestMs = -Infinity;
  for (const t of times) {
    const ms = t ? Date.parse(t) : NaN;
    if (Number.isFinite(ms) && ms > bestMs) {
      best = t;
      bestMs = ms;
    }
  }
  return best;
}

// The message to show: status.message, else the first pause reason, else "aborted".
export function statusMessage(r) {
  const st = r.status || {};
  if (st.message) return st.message;
  if (st.pauseConditions && st.pauseConditions.length) return st.pauseConditions[0].reason;
  if (st.abort) return 'aborted';
  return '';
}

// Whether an AnalysisRun belongs to a rollout: Argo (and ramp) name runs "<rollout>-<hash>-…"
// in the rollout's namespace (src/cli/rollout_view.cc runBelongsTo).
export function runBelongsTo(run, rollout) {
  if (run.metadata.namespace !== rollout.metadata.namespace) return false;
  return run.metadata.name.startsWith(rollout.metadata.name + '-');
}

// Go durations ("1h30m", "2.5s", "300ms") and Argo's integer seconds (30 or "30") to
// milliseconds; null when unreadable.
export function parseDuration(d) {
  if (typeof d === 'number') return Number.isFinite(d) ? d * 1000 : null;
  if (typeof d !== 'string' || d === '') return null;
  if (/^\d+$/.test(d)) return Number(d) * 1000;
  const units = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m;
  while ((m = re.exec(d)) !== null) {
    total += Number(m[1]) * units[m[2]];
    matched = re.lastIndex;
  }
  return matched === d.length ? total : null;
}

// "1h 02m 03s", "2m 05s", "9s".
export function formatDuration(ms) {
  const sec = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(sec / 3600);
  const mm = Math.floor((sec % 3600) / 60);
  const ss = sec % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (hh) return `${hh}h ${two(mm)}m ${two(ss)}s`;
  if (mm) return `${mm}m ${two(ss)}s`;
  return `${ss}s`;
}

// "12s ago", "3m 4s ago", "2h 5m ago", "3d ago".
export function formatAge(iso, nowMs) {
  const ms = nowMs - Date.parse(iso);
  if (!Number.isFinite(ms)) return '–';
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec}s ago`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${sec % 60}s ago`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h ${Math.floor((sec % 3600) / 60)}m ago`;
  return `${Math.floor(sec / 86400)}d ago`;
}

// One canary step as words: {kind, text, durationMs}.
export function describeStep(step) {
  if (!step) return { kind: 'unknown', text: 'step' };
  if (typeof step.setWeight === 'number') return { kind: 'weight', text: `Set weight ${step.setWeight}%` };
  if (step.pause) {
    const d = step.pause.duration;
    const ms = d === undefined || d === null ? null : parseDuration(d);
    return {
      kind: 'pause',
      text: ms === null ? 'Pause until promoted' : `Pause ${formatDuration(ms)}`,
      durationMs: ms,
    };
  }
  if (step.analysis) {
    const names = (step.analysis.templates || []).map((t) => t.templateName).join(', ');
    return { kind: 'analysis', text: `Analysis${names ? ': ' + names : ''}` };
  }
  if (step.setCanaryScale) return { kind: 'scale', text: 'Set canary scale' };
  if (step.experiment) return { kind: 'experiment', text: 'Experiment' };
  if (step.setHeaderRoute) return { kind: 'route', text: `Header route ${step.setHeaderRoute.name || ''}`.trim() };
  if (step.setMirrorRoute) return { kind: 'route', text: `Mirror route ${step.setMirrorRoute.name || ''}`.trim() };
  if (step.plugin) return { kind: 'plugin', text: `Plugin ${step.plugin.name || ''}`.trim() };
  return { kind: 'unknown', text: Object.keys(step)[0] || 'step' };
}

// The steps with their state: [{index, text, kind, state: done|current|pending, deadlineMs}].
// A timed pause that is running has deadlineMs = its pause condition's startTime + duration.
export function stepStates(r) {
  const steps = canarySteps(r) || [];
  const idx = currentStepIndex(r);
  const st = r.status || {};
  const pause = (st.pauseConditions || []).find((p) => p.reason === 'CanaryPauseStep');
  const done = st.phase === 'Healthy' && idx >= steps.length;
  return steps.map((step, i) => {
    const d = describeStep(step);
    const state = done || i < idx ? 'done' : i === idx ? 'current' : 'pending';
    let deadlineMs = null;
    if (state === 'current' && d.kind === 'pause' && d.durationMs !== null && pause) {
      const start = Date.parse(pause.startTime);
      if (Number.isFinite(start)) deadlineMs = start + d.durationMs;
    }
    return { index: i, text: d.text, kind: d.kind, state, deadlineMs };
  });
}

// The first number in a measurement's value: "0.97", "[0.97]", "[0.97 0.5]", "{…: 3}" → 0.97 /
// 3; null when there is none.
export function measurementNumber(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(value);
  if (!m) return null;
  const n = Number(m[0]);
  return Number.isFinite(n) ? n : null;
}

// The newest time an AnalysisRun records, for ordering runs newest first.
export function runTime(run) {
  const t = run.metadata && run.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}
