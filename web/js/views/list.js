// The rollouts list: every rollout of every namespace (or one namespace) with its strategy, phase,
// step, set and actual weight, images and last change; filters by phase and namespace; kept
// live by the watch stream (kind=Rollout, every namespace, without events).

import { watchUrl } from '../api.js';
import { Cache } from '../cache.js';
import { fill, h, replaceChildrenKeepingFocus } from '../dom.js';
import {
  ROLLOUT_PHASES, actualWeight, images, lastChange, rolloutPhase, setWeight, stepText, strategyName,
} from '../model.js';
import { Watch } from '../watch.js';
import { ageElement, announce, batched, phaseBadge, setWatchStatus, watchStatus } from '../ui.js';

export function rolloutHref(ns, name) {
  return `#/rollouts/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}

function weightText(r) {
  const w = setWeight(r);
  return w === null ? '–' : `${w}%`;
}

function actualText(r) {
  const a = actualWeight(r);
  if (!a || a.weight === null) return '–';
  return `${a.weight}%${a.note ? ` (${a.note})` : ''}`;
}

export class ListView {
  constructor(app, params) {
    this.app = app;
    this.filters = { namespace: params.get('namespace') || '', phase: params.get('phase') || '' };
    this.cache = new Cache();
    this.phases = new Map(); // key -> last phase, for announcements
    this.schedule = batched(() => this.draw());
  }

  title() {
    return 'Rollouts';
  }

  render(container) {
    this.nsSelect = h('select', { id: 'filter-namespace', onchange: () => this.setFilter('namespace', this.nsSelect.value) });
    this.phaseSelect = h('select', { id: 'filter-phase', onchange: () => this.setFilter('phase', this.phaseSelect.value) },
      h('option', { value: '' }, 'All phases'),
      ROLLOUT_PHASES.map((p) => h('option', { value: p }, p)));
    this.phaseSelect.value = this.filters.phase;
    this.status = watchStatus();
    this.count = h('p', { class: 'count', id: 'rollout-count', 'aria-live': 'polite' });
    this.body = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true });
    container.append(
      h('h1', { tabindex: '-1' }, 'Rollouts'),
      h('form', { class: 'filters', 'aria-label': 'Filters', onsubmit: (e) => e.preventDefault() },
        h('div', { class: 'field' }, h('label', { for: 'filter-namespace' }, 'Namespace'), this.nsSelect),
        h('div', { class: 'field' }, h('label', { for: 'filter-phase' }, 'Phase'), this.phaseSelect)),
      h('div', { class: 'status-row' }, this.count, this.status),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'rollouts', 'aria-describedby': 'rollout-count' },
          h('caption', { class: 'visually-hidden' }, 'Rollouts, updated live'),
          h('thead', null, h('tr', null,
            ['Name', 'Namespace', 'Strategy', 'Phase', 'Step', 'Set weight', 'Actual weight', 'Images', 'Last change']
              .map((t) => h('th', { scope: 'col' }, t)))),
          this.body)),
      this.empty);
    this.updateNamespaces();
    this.cache.subscribe((change) => this.onChange(change));
    this.watch = new Watch({
      url: watchUrl({ kind: 'Rollout', events: false }),
      token: this.app.token,
      onFrame: (type, data) => this.cache.apply(type, data),
      onReset: () => this.cache.begin(),
      onState: (state, detail) => setWatchStatus(this.status, state, detail),
      onFatal: (err) => this.app.onFatal(err),
    }).start();
  }

  destroy() {
    if (this.watch) this.watch.stop();
  }

  setFilter(name, value) {
    this.filters[name] = value;
    const q = new URLSearchParams();
    if (this.filters.namespace) q.set('namespace', this.filters.namespace);
    if (this.filters.phase) q.set('phase', this.filters.phase);
    const hash = `#/${q.toString() ? '?' + q : ''}`;
    history.replaceState(null, '', hash);
    this.draw();
  }

  onChange(change) {
    if (change.type === 'PUT' && change.kind === 'Rollout' && this.cache.synced) {
      const phase = rolloutPhase(change.object);
      const before = this.phases.get(change.key);
      if (before && before !== phase) announce(`${change.name} in ${change.namespace}: ${phase}`);
    }
    if (change.type === 'PUT') this.phases.set(change.key, rolloutPhase(change.object));
    this.schedule();
  }

  updateNamespaces() {
    const seen = new Set(this.cache.list('Rollout').map((r) => r.metadata.namespace));
    if (this.filters.namespace) seen.add(this.filters.namespace);
    const names = [...seen].sort();
    const current = [...this.nsSelect.options].map((o) => o.value).join('\n');
    const wanted = ['', ...names].join('\n');
    if (current !== wanted) {
      fill(this.nsSelect, h('option', { value: '' }, 'All namespaces'),
        names.map((n) => h('option', { value: n }, n)));
    }
    this.nsSelect.value = this.filters.namespace;
  }

  draw() {
    this.updateNamespaces();
    const all = this.cache.list('Rollout');
    const shown = all
      .filter((r) => !this.filters.namespace || r.metadata.namespace === this.filters.namespace)
      .filter((r) => !this.filters.phase || rolloutPhase(r) === this.filters.phase)
      .sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) ||
        a.metadata.name.localeCompare(b.metadata.name));
    const now = Date.now();
    replaceChildrenKeepingFocus(this.body, shown.map((r) => this.row(r, now)));
    const n = all.length;
    this.count.textContent = !this.cache.synced ? 'Loading…'
      : shown.length === n ? `${n} rollout${n === 1 ? '' : 's'}`
        : `${shown.length} of ${n} rollouts shown`;
    this.empty.hidden = !this.cache.synced || shown.length > 0;
    this.empty.textContent = n === 0 ? 'No rollouts yet. Apply one with `ramp apply -f FILE`.'
      : 'No rollout matches these filters.';
  }

  row(r, now) {
    const ns = r.metadata.namespace;
    const name = r.metadata.name;
    const key = `${ns}/${name}`;
    const phase = rolloutPhase(r);
    const imgs = images(r);
    const changed = lastChange(r);
    const cell = (label, ...content) => h('td', { dataset: { label } }, ...content);
    return h('tr', { dataset: { rollout: key, phase } },
      h('th', { scope: 'row', dataset: { label: 'Name' } },
        h('a', { href: rolloutHref(ns, name), dataset: { focusKey: key } }, name)),
      cell('Namespace', ns),
      cell('Strategy', strategyName(r)),
      cell('Phase', phaseBadge(phase)),
      cell('Step', h('span', { class: 'step' }, stepText(r) || '–')),
      cell('Set weight', h('span', { class: 'set-weight' }, weightText(r))),
      cell('Actual weight', h('span', { class: 'actual-weight' }, actualText(r))),
      cell('Images', imgs.length ? h('ul', { class: 'images' },
        imgs.map((i) => h('li', null, h('code', null, i.image), i.tags.length ? ' ' : '',
          i.tags.length ? h('span', { class: 'muted' }, `(${i.tags.join(', ')})`) : null))) : '–'),
      cell('Last change', changed ? ageElement(changed, now) : '–'));
  }
}
