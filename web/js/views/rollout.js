// The rollout page: summary, the steps (current one highlighted, a timed pause counting down),
// the revisions the platform runs, each AnalysisRun with a chart per metric against its
// thresholds, the event timeline with the evidence behind each decision and, for auditors and
// above, the signed audit record of each (audit.js), and the actions. Live through the watch
// stream of the rollout's namespace (objects and events).

import { watchUrl } from '../api.js';
import { ActionBar } from '../actions.js';
import { addAuditRecords, auditFields, canAudit } from '../audit.js';
import { Cache } from '../cache.js';
import { metricChart } from '../chart.js';
import { parseCondition, substituteArgs } from '../conditions.js';
import { fill, h, replaceChildrenKeepingFocus } from '../dom.js';
import { evidenceFields, evidenceSummary } from '../evidence.js';
import {
  actualWeight, images, lastChange, measurementCounts, rolloutPhase, runBelongsTo, runTime, setWeight,
  statusMessage,
  stepStates, stepText, strategyName,
} from '../model.js';
import { replicaCounts, replicasByRevision } from '../replicas.js';
import { Watch } from '../watch.js';
import {
  ageElement, announce, batched, countdown, dl, phaseBadge, section, setWatchStatus, watchStatus,
} from '../ui.js';

function resolveEvidence(evidence, args) {
  if (!args || !evidence || typeof evidence !== 'object') return evidence;
  const out = { ...evidence };
  for (const k of ['successCondition', 'failureCondition']) {
    if (typeof out[k] === 'string') out[k] = substituteArgs(out[k], args);
  }
  return out;
}

export class RolloutView {
  constructor(app, namespace, name) {
    this.app = app;
    this.namespace = namespace;
    this.name = name;
    this.cache = new Cache();
    this.revisionList = null;
    this.revisionError = '';
    this.revisionsAt = 0;
    this.schedule = batched(() => this.draw());
    this.lastAnnounced = '';
    this.audit = new Map();  // eventId -> decoded audit record
    this.auditNext = new Map();  // "kind/name" -> the next record index to read
    this.auditAt = 0;
    this.auditError = '';
  }

  title() {
    return `${this.name} (${this.namespace})`;
  }

  rollout() {
    return this.cache.get('Rollout', this.namespace, this.name);
  }

  render(container) {
    this.heading = h('h1', { tabindex: '-1' }, this.name);
    this.headerInfo = h('div', { class: 'rollout-head' });
    this.status = watchStatus();
    this.actionBar = new ActionBar({
      app: this.app,
      dialog: this.app.dialog,
      namespace: this.namespace,
      name: this.name,
      rollout: () => this.rollout(),
      revisions: () => this.revisionList,
    });
    this.summary = h('div');
    this.steps = h('div');
    this.revisions = h('div');
    this.analysis = h('div');
    this.events = h('div');
    this.missing = h('p', { class: 'empty', hidden: true, role: 'status' });
    container.append(
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('a', { href: '#/' }, 'Rollouts'), ' / ', h('span', null, this.namespace), ' / ',
        h('span', { 'aria-current': 'page' }, this.name)),
      // The phase line and the watch's state share a row: one line less above the panels.
      this.heading, h('div', { class: 'rollout-top' }, this.headerInfo, this.status), this.missing,
      // Wide screens: the current state (steps, summary, revisions), the analysis runs (newest
      // first) and the events side by side, so the first screen needs no scrolling (style.css).
      this.body = h('div', null, this.actionBar.el, h('div', { class: 'rollout-grid' },
        h('div', { class: 'col col-state' },
          section('steps', 'Steps', this.steps),
          section('summary', 'Summary', this.summary),
          section('revisions', 'Revisions', this.revisions)),
        h('div', { class: 'col col-analysis' },
          section('analysis', 'Analysis runs', this.analysis)),
        h('div', { class: 'col col-events' },
          section('events', 'Events', this.events)))));
    this.cache.subscribe((change) => this.onChange(change));
    this.watch = new Watch({
      url: watchUrl({ namespace: this.namespace, events: true }),
      token: this.app.token,
      onFrame: (type, data) => this.onFrame(type, data),
      onReset: () => {
        this.cache.begin();
        this.eventsLoaded = false;
      },
      onState: (state, detail) => setWatchStatus(this.status, state, detail),
      onFatal: (err) => this.app.onFatal(err),
    }).start();
    // Replicas restart and become ready without the rollout changing: read them again every few
    // seconds too.
    this.replicaTicker = setInterval(() => this.refreshRevisions(), 5000);
    this.draw();
  }

  destroy() {
    if (this.watch) this.watch.stop();
    clearTimeout(this.revisionTimer);
    clearInterval(this.replicaTicker);
    clearTimeout(this.auditTimer);
  }

  roleChanged() {
    this.actionBar.update();
  }

  onFrame(type, data) {
    // Only what this page shows: the rollout, its AnalysisRuns, and their events.
    if ((type === 'PUT' || type === 'DELETE' || type === 'EVENT') && !this.relevant(data)) return;
    this.cache.apply(type, data);
    if (type === 'SYNC' && !this.eventsLoaded) {
      this.eventsLoaded = true;
      this.loadEvents();
    }
  }

  // Whether an object or event (kind, namespace, name) is this rollout or one of its runs.
  relevant(o) {
    if (o.namespace !== this.namespace) return false;
    if (o.kind === 'Rollout') return o.name === this.name;
    if (o.kind === 'AnalysisRun') return o.name.startsWith(this.name + '-');
    return false;
  }

  // The events from before the page opened (the watch brings those after): the rollout's own,
  // and those of the namespace's AnalysisRuns that are its runs. Merged by id with what the
  // watch delivers, so nothing shows twice. Read again after a re-list.
  async loadEvents() {
    const ns = this.namespace;
    try {
      const [own, runs] = await Promise.all([
        this.app.api.events({ kind: 'Rollout', namespace: ns, name: this.name }, 300),
        this.app.api.events({ kind: 'AnalysisRun', namespace: ns }, 500),
      ]);
      this.cache.addEvents([...(own.items || []), ...(runs.items || [])].filter((e) => this.relevant(e)));
      this.eventsError = '';
    } catch (err) {
      this.eventsError = err.message;
      this.schedule();
    }
  }

  async loadRevisions() {
    this.revisionsAt = Date.now();
    const [revisions, replicas] = await Promise.allSettled([
      this.app.api.revisions(this.namespace, this.name),
      this.app.api.replicas(this.namespace, this.name),
    ]);
    if (revisions.status === 'fulfilled') {
      this.revisionList = (revisions.value && revisions.value.items) || [];
      this.revisionError = '';
    } else {
      const err = revisions.reason;
      this.revisionError = err.status === 501 ? 'The server has no platform attached: no revisions to show.' : err.message;
    }
    // Replicas: a platform that lists none (501) shows the revisions alone.
    if (replicas.status === 'fulfilled') {
      this.replicaMap = replicasByRevision(replicas.value && replicas.value.items);
      this.replicaError = '';
    } else {
      this.replicaMap = null;
      this.replicaError = replicas.reason.status === 501 ? '' : `Cannot read replicas: ${replicas.reason.message}`;
    }
    this.schedule();
  }

  // Revisions are not in the store: read them again when the rollout changed, at most once a
  // second.
  refreshRevisions() {
    if (this.revisionTimer) return;
    const wait = Math.max(0, 1000 - (Date.now() - this.revisionsAt));
    this.revisionTimer = setTimeout(() => {
      this.revisionTimer = null;
      this.loadRevisions();
    }, wait);
  }

  // The audit records of the rollout and of its runs whose events are shown, read from where the
  // last read ended; at most once a second (an event's record is written with it, so a new event
  // means a new record). Only for roles that may read the log.
  refreshAudit() {
    if (!this.app.who || !canAudit(this.app.who.role) || this.auditTimer) return;
    const wait = Math.max(0, 1000 - (Date.now() - this.auditAt));
    this.auditTimer = setTimeout(async () => {
      this.auditTimer = null;
      this.auditAt = Date.now();
      const objects = new Map([[`Rollout/${this.name}`, { kind: 'Rollout', name: this.name }]]);
      for (const e of this.cache.eventList()) {
        if (e.kind === 'AnalysisRun' && !this.audit.has(e.id)) objects.set(`AnalysisRun/${e.name}`, { kind: 'AnalysisRun', name: e.name });
      }
      try {
        for (const [key, o] of objects) {
          const from = this.auditNext.get(key) || 0;
          const page = await this.app.api.auditRecords({ ...o, namespace: this.namespace }, from);
          this.auditNext.set(key, addAuditRecords(this.audit, page && page.items, from) + 1);
        }
        this.auditError = '';
      } catch (err) {
        this.auditError = err.message;
      }
      this.schedule();
    }, wait);
  }

  onChange(change) {
    if (change.type === 'EVENT' || change.type === 'SYNC') this.refreshAudit();
    if (change.kind === 'Rollout' && (change.type === 'PUT' || change.type === 'SYNC')) this.refreshRevisions();
    if (change.type === 'SYNC') this.refreshRevisions();
    if (change.kind === 'Rollout' && change.type === 'PUT' && this.cache.synced) {
      const r = change.object;
      const text = `${this.name}: ${rolloutPhase(r)}, step ${stepText(r) || '–'}, weight ${setWeight(r) ?? '–'}%`;
      if (text !== this.lastAnnounced) {
        this.lastAnnounced = text;
        announce(text);
      }
    }
    this.schedule();
  }

  runs() {
    const r = this.rollout();
    if (!r) return [];
    return this.cache.list('AnalysisRun').filter((run) => runBelongsTo(run, r))
      .sort((a, b) => runTime(b) - runTime(a) || b.metadata.name.localeCompare(a.metadata.name));
  }

  draw() {
    const r = this.rollout();
    const now = Date.now();
    this.body.hidden = !r;
    if (!r) {
      this.missing.hidden = !this.cache.synced;
      this.missing.textContent = `No rollout ${this.name} in namespace ${this.namespace}.`;
      return;
    }
    this.missing.hidden = true;
    this.actionBar.update();
    this.drawHead(r);
    replaceChildrenKeepingFocus(this.summary, this.summaryContent(r, now));
    replaceChildrenKeepingFocus(this.steps, this.stepsContent(r, now));
    replaceChildrenKeepingFocus(this.revisions, this.revisionsContent(r));
    replaceChildrenKeepingFocus(this.analysis, this.analysisContent());
    replaceChildrenKeepingFocus(this.events, this.eventsContent(now));
  }

  drawHead(r) {
    const phase = rolloutPhase(r);
    const message = statusMessage(r);
    const step = stepText(r);
    const sw = setWeight(r);
    const aw = actualWeight(r, this.revisionList || undefined);
    fill(this.headerInfo,
      h('span', { class: 'rollout-phase', id: 'rollout-phase' }, phaseBadge(phase)),
      step ? h('span', { class: 'head-fact' }, 'step ', h('strong', null, step)) : null,
      sw !== null ? h('span', { class: 'head-fact' }, 'weight ', h('strong', null, `${sw}%`),
        aw && aw.weight !== null ? ` set, ${aw.weight}% actual` : ' set') : null,
      message ? h('span', { class: 'rollout-message', id: 'rollout-message' }, message) : null);
  }

  summaryContent(r, now) {
    const st = r.status || {};
    const sw = setWeight(r);
    const aw = actualWeight(r, this.revisionList || undefined);
    const imgs = images(r, this.revisionList || undefined);
    const changed = lastChange(r);
    return dl([
      ['Namespace', r.metadata.namespace],
      ['Strategy', strategyName(r)],
      stepText(r) ? ['Step', h('span', { id: 'summary-step' }, stepText(r))] : null,
      sw !== null ? ['Set weight', h('span', { id: 'summary-set-weight' }, `${sw}%`)] : null,
      aw ? ['Actual weight', h('span', { id: 'summary-actual-weight' },
        aw.weight === null ? '–' : `${aw.weight}%${aw.note ? ` (${aw.note})` : ''}`)] : null,
      ['Images', imgs.length ? h('ul', { class: 'images' }, imgs.map((i) =>
        h('li', null, h('code', null, i.image), i.tags.length ? ` (${i.tags.join(', ')})` : ''))) : '–'],
      ['Replicas', `${st.readyReplicas || 0} ready / ${st.replicas || 0} current / ${st.updatedReplicas || 0} updated / ${r.spec.replicas ?? 1} desired`],
      st.stableRS ? ['Stable', h('code', { class: 'hash' }, st.stableRS)] : null,
      st.currentPodHash && st.currentPodHash !== st.stableRS ? ['Canary', h('code', { class: 'hash' }, st.currentPodHash)] : null,
      ['Last change', changed ? ageElement(changed, now) : '–'],
    ]);
  }

  stepsContent(r, now) {
    const states = stepStates(r);
    if (!states.length) {
      return h('p', { class: 'muted' }, strategyName(r) === 'Canary' ? 'No steps: straight to 100%.' : 'Blue-green: no steps.');
    }
    return h('ol', { class: 'steps' }, states.map((s) =>
      h('li', {
        class: ['step', `step-${s.state}`, `kind-${s.kind}`],
        'aria-current': s.state === 'current' ? 'step' : null,
        dataset: { stepIndex: String(s.index), state: s.state },
      },
      h('span', { class: 'step-marker', 'aria-hidden': 'true' }, s.state === 'done' ? '✔' : s.state === 'current' ? '▶' : '○'),
      h('span', { class: 'step-text' }, s.text),
      s.state === 'current' ? h('span', { class: 'visually-hidden' }, ' (current step)') : null,
      s.deadlineMs !== null ? h('span', { class: 'step-extra' }, ' — ', countdown(s.deadlineMs, now)) : null)));
  }

  revisionsContent(r) {
    if (this.revisionError) return h('p', { class: 'muted' }, this.revisionError);
    if (!this.revisionList) return h('p', { class: 'muted' }, 'Loading…');
    if (!this.revisionList.length) return h('p', { class: 'muted' }, 'No revisions running.');
    const st = r.status || {};
    return [h('div', { class: 'table-wrap' }, h('table', { class: 'revisions' },
      h('thead', null, h('tr', null, ['Revision', 'Role', 'Images', 'Replicas', 'Ready', 'Available']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, this.revisionList.map((rev) => {
        let role = '';
        if (rev.podTemplateHash === st.stableRS) role = 'stable';
        if (rev.podTemplateHash === st.currentPodHash && st.currentPodHash !== st.stableRS) role = 'canary';
        const healthy = rev.desiredReplicas > 0 && rev.availableReplicas >= rev.desiredReplicas;
        return [h('tr', { dataset: { revision: String(rev.revision) } },
          h('th', { scope: 'row', dataset: { label: 'Revision' } }, `${rev.revision} `, h('code', { class: 'muted hash' }, rev.podTemplateHash)),
          h('td', { dataset: { label: 'Role' } }, role || '–'),
          h('td', { dataset: { label: 'Images' } }, (rev.images || []).map((i) => h('code', { class: 'block' }, i))),
          h('td', { dataset: { label: 'Replicas' } }, String(rev.desiredReplicas)),
          h('td', { dataset: { label: 'Ready' } }, `${rev.readyReplicas}/${rev.desiredReplicas}`),
          h('td', { dataset: { label: 'Available' } },
            rev.desiredReplicas === 0 ? 'scaled down' : `${rev.availableReplicas}/${rev.desiredReplicas}${healthy ? ' ✔' : ''}`)),
        this.replicaRows(rev)];
      })))),
    this.replicaError ? h('p', { class: 'muted' }, this.replicaError) : null];
  }

  // The revision's replicas as a row under it: state, ready, restarts, last exit, age (as `ramp
  // get rollout` shows them under each revision). Nothing when the platform lists no replicas.
  replicaRows(rev) {
    const rows = this.replicaMap && this.replicaMap.get(rev.podTemplateHash);
    if (!rows || !rows.length) return null;
    const now = Date.now();
    return h('tr', { class: 'replica-row', dataset: { replicasOf: rev.podTemplateHash } },
      h('td', { class: 'replica-cell', colspan: '6' },
        h('table', { class: 'replicas', 'aria-label': `Replicas of revision ${rev.revision}: ${replicaCounts(rows)}` },
          h('thead', null, h('tr', null, ['Replica', 'State', 'Ready', 'Restarts', 'Last exit', 'Started']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, rows.map((rep) => h('tr', { dataset: { replica: rep.name, state: rep.state } },
            h('th', { scope: 'row', dataset: { label: 'Replica' } }, h('code', { class: 'hash ellipsis', title: rep.name }, rep.name)),
            h('td', { class: 'replica-state', dataset: { label: 'State' } },
              h('span', { class: ['badge', `tone-${rep.tone}`], title: rep.message || null },
                h('span', { class: 'icon', 'aria-hidden': 'true' }, rep.icon), ' ', rep.state)),
            h('td', { class: 'replica-ready', dataset: { label: 'Ready' } }, rep.ready),
            h('td', { class: 'replica-restarts', dataset: { label: 'Restarts' } }, String(rep.restarts)),
            h('td', { class: 'replica-last-exit', title: rep.message || null, dataset: { label: 'Last exit' } }, rep.lastExit),
            h('td', { dataset: { label: 'Started' } }, rep.startedAt ? ageElement(rep.startedAt, now) : '–')))))));
  }

  analysisContent() {
    const runs = this.runs();
    if (!runs.length) return h('p', { class: 'muted' }, 'No AnalysisRuns for this rollout yet.');
    return runs.map((run, i) => this.runContent(run, i === 0));
  }

  runContent(run, newest) {
    const st = run.status || {};
    const sum = measurementCounts(run);
    const results = new Map((st.metricResults || []).map((m) => [m.name, m]));
    const metrics = (run.spec && run.spec.metrics) || [];
    const failedRun = st.phase === 'Failed' || st.phase === 'Error';
    return h('details', {
      class: ['run', failedRun ? 'run-failed' : null],
      open: newest || failedRun,
      // The key names the run's place and failure too: when a newer run arrives this one becomes
      // "older" and takes its default (collapsed unless failed), a run that fails opens, and a
      // run the reader opened or closed keeps that choice across redraws.
      dataset: { run: run.metadata.name, openKey: `${run.metadata.name}:${newest ? 'newest' : 'older'}${failedRun ? ':failed' : ''}`, phase: st.phase || 'Pending' },
    },
    h('summary', null,
      h('span', { class: 'run-name ellipsis', title: run.metadata.name }, run.metadata.name), ' ',
      phaseBadge(st.phase, { analysis: true }), ' ',
      h('span', { class: 'muted' }, `measurements ✔ ${sum.successful} ✖ ${sum.failed}${sum.inconclusive ? ` ⚠ ${sum.inconclusive}` : ''}`)),
    st.message ? h('p', { class: 'run-message' }, st.message) : null,
    metrics.map((m) => this.metricContent(run, m, results.get(m.name))));
  }

  metricContent(run, metric, result) {
    const args = run.spec.args || [];
    const success = substituteArgs(metric.successCondition || '', args);
    const failure = substituteArgs(metric.failureCondition || '', args);
    const ps = parseCondition(success);
    const pf = parseCondition(failure);
    const thresholds = ps.thresholds.map((t) => ({ ...t, kind: 'success' }))
      .concat(pf.thresholds.map((t) => ({ ...t, kind: 'failure' })));
    const errors = [ps.error, pf.error].filter(Boolean);
    const measurements = (result && result.measurements) || [];
    const last = measurements[measurements.length - 1];
    const failed = measurements.filter((m) => m.phase === 'Failed' || m.phase === 'Error');
    const label = `${metric.name}: ${measurements.length} measurement${measurements.length === 1 ? '' : 's'}` +
      (thresholds.length ? `, threshold ${thresholds.map((t) => `${t.kind} ${t.op} ${t.value}`).join(', ')}` : '');
    return h('div', { class: 'metric', dataset: { metric: metric.name, phase: (result && result.phase) || 'Pending' } },
      h('h3', null, metric.name, ' ', phaseBadge(result && result.phase, { analysis: true })),
      dl([
        success ? ['Success when', h('code', null, success)] : null,
        failure ? ['Fails when', h('code', null, failure)] : null,
        last ? ['Last value', h('span', { class: 'last-value' }, last.value || last.message || '–')] : null,
        failed.length ? ['Failed measurement', h('span', { class: 'failed-value' },
          `${failed[failed.length - 1].value || '–'}${failed[failed.length - 1].message ? ` (${failed[failed.length - 1].message})` : ''}`), 'bad'] : null,
        result ? ['Counts', `✔ ${result.successful || 0}  ✖ ${result.failed || 0}  errors ${result.error || 0}${result.inconclusive ? `  ⚠ ${result.inconclusive}` : ''}`] : null,
      ]),
      measurements.length ? metricChart(measurements, thresholds, label) : h('p', { class: 'muted' }, 'No measurement yet.'),
      errors.length ? h('p', { class: 'muted chart-note' }, `No threshold line: ${errors.join('; ')}.`) : null,
      measurements.length ? h('details', { class: 'measurements', dataset: { openKey: `${run.metadata.name}/${metric.name}` } },
        h('summary', null, `Measurements (${measurements.length})`),
        h('div', { class: 'table-wrap' }, h('table', null,
          h('thead', null, h('tr', null, ['#', 'Value', 'Phase', 'Finished', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, measurements.map((m, i) => h('tr', null,
            h('td', null, String(i + 1)), h('td', null, h('code', null, m.value || '–')),
            h('td', null, m.phase || ''), h('td', null, m.finishedAt ? new Date(m.finishedAt).toLocaleTimeString() : '–'),
            h('td', null, m.message || ''))))))) : null);
  }

  eventsContent(now) {
    const events = this.cache.eventList().reverse();
    if (!events.length) {
      return h('p', { class: 'muted' }, this.eventsError ? `Cannot read events: ${this.eventsError}` : 'No events yet.');
    }
    const runArgs = new Map(this.runs().map((run) => [run.metadata.name, run.spec.args || []]));
    return h('ol', { class: 'timeline', 'aria-label': 'Events, newest first' }, events.slice(0, 200).map((e) => {
      // Conditions in evidence are as the template wrote them: fill in the run's arguments.
      const runName = (e.evidence && e.evidence.analysisRun) || (e.kind === 'AnalysisRun' ? e.name : '');
      const evidence = resolveEvidence(e.evidence, runArgs.get(runName));
      const fields = evidenceFields(evidence);
      const summary = evidenceSummary(evidence);
      return h('li', { class: ['event', e.type === 'Warning' ? 'warning' : 'normal'], dataset: { reason: e.reason, eventId: String(e.id) } },
        h('div', { class: 'event-head' },
          h('span', { class: 'event-type' }, h('span', { 'aria-hidden': 'true' }, e.type === 'Warning' ? '⚠ ' : '• '), e.type),
          ' ', h('strong', { class: 'event-reason' }, e.reason), ' ',
          h('span', { class: 'muted' }, e.kind === 'AnalysisRun' ? `AnalysisRun ${e.name}` : ''), ' ',
          ageElement(e.time, now),
          e.count > 1 ? h('span', { class: 'muted event-count', title: `first at ${e.firstTime}` }, ` ×${e.count}`) : null,
          e.actor ? h('span', { class: 'muted' }, ` by ${e.actor}`) : null),
        h('p', { class: 'event-message' }, e.message),
        summary ? h('p', { class: 'evidence-summary' }, h('span', { class: 'label' }, 'Evidence: '), summary) : null,
        fields.length ? h('details', { class: 'evidence', dataset: { openKey: `ev-${e.id}` } },
          h('summary', null, `Evidence (${fields.length} field${fields.length === 1 ? '' : 's'})`),
          h('dl', { class: 'facts' }, fields.map((f) => h('div', null, h('dt', null, f.label), h('dd', null, h('code', null, f.value)))))) : null,
        this.auditRecord(e));
    }),
    this.auditError ? h('li', { class: 'muted' }, `Cannot read the audit log: ${this.auditError}`) : null);
  }

  // The event's audit record: "Signed record #N" and its facts (null when none was read).
  auditRecord(e) {
    const record = this.audit.get(e.id);
    if (!record) return null;
    const title = record.error ? 'Audit record unreadable' : `${record.signed ? 'Signed' : 'Unsigned'} audit record #${record.index}`;
    return h('details', { class: 'audit-record', dataset: { openKey: `audit-${e.id}`, auditIndex: String(record.index) } },
      h('summary', null, title),
      h('dl', { class: 'facts' }, auditFields(record).map((f) => h('div', null, h('dt', null, f.label), h('dd', null, h('code', null, f.value))))));
  }
}
