// Argo CD's Applications run by ramp's GitOps agent (docs/gitops.md):
//   - the list (#/applications): every Application of every namespace with its sync and health
//     badges, source and synced commit; live through the watch stream (kind=Application);
//   - an Application (#/applications/NS/NAME): sync and health, the source, the last operation,
//     the conditions, the diff (each object with the fields it differs in), the history
//     (who synced which commit), the events, and the actions the caller's role allows (sync,
//     refresh, rollback to a chosen history entry), each confirmed in the dialog, which shows the
//     API's refusal. Live through the watch stream of the namespace (objects and events).

import { watchUrl } from '../api.js';
import {
  APP_ACTIONS, appActionBlocker, appSource, canOperate, healthStatus, healthStyle, historyRows,
  operationText, resourceRows, rollbackTargets, shortSha, syncStatus, syncStyle,
} from '../apps.js';
import { Cache } from '../cache.js';
import { h, replaceChildrenKeepingFocus } from '../dom.js';
import { Watch } from '../watch.js';
import { ageElement, batched, dl, section, setWatchStatus, watchStatus } from '../ui.js';

export function applicationHref(ns, name) {
  return `#/applications/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}

function badge(kind, status) {
  const style = kind === 'sync' ? syncStyle(status) : healthStyle(status);
  return h('span', { class: ['badge', `tone-${style.tone}`, `${kind}-badge`], dataset: { [kind]: status } },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, style.icon), ' ', status);
}

function watched(view, url) {
  return new Watch({
    url,
    token: view.app.token,
    onFrame: (type, data) => view.onFrame(type, data),
    onReset: () => view.cache.begin(),
    onState: (state, detail) => setWatchStatus(view.status, state, detail),
    onFatal: (err) => view.app.onFatal(err),
  }).start();
}

export class ApplicationsView {
  constructor(app) {
    this.app = app;
    this.cache = new Cache();
    this.schedule = batched(() => this.draw());
  }

  title() {
    return 'Applications';
  }

  render(container) {
    this.status = watchStatus();
    this.count = h('p', { class: 'count', id: 'app-count', 'aria-live': 'polite' });
    this.body = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true });
    container.append(
      h('h1', { tabindex: '-1' }, 'Applications'),
      h('div', { class: 'status-row' }, this.count, this.status),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'applications', 'aria-describedby': 'app-count' },
          h('caption', { class: 'visually-hidden' }, 'Applications, updated live'),
          h('thead', null, h('tr', null,
            ['Name', 'Namespace', 'Sync', 'Health', 'Repository', 'Path', 'Target', 'Commit', 'Last sync']
              .map((t) => h('th', { scope: 'col' }, t)))),
          this.body)),
      this.empty);
    this.cache.subscribe(() => this.schedule());
    this.watch = watched(this, watchUrl({ kind: 'Application', events: false }));
    this.draw();
  }

  onFrame(type, data) {
    this.cache.apply(type, data);
  }

  destroy() {
    if (this.watch) this.watch.stop();
  }

  draw() {
    const apps = this.cache.list('Application').sort((a, b) =>
      a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
    const now = Date.now();
    replaceChildrenKeepingFocus(this.body, apps.map((a) => this.row(a, now)));
    this.count.textContent = !this.cache.synced ? 'Loading…'
      : `${apps.length} application${apps.length === 1 ? '' : 's'}`;
    this.empty.hidden = !this.cache.synced || apps.length > 0;
    this.empty.textContent = 'No Applications yet. Apply one with `ramp apply -f app.yaml` (docs/gitops.md).';
  }

  row(a, now) {
    const ns = a.metadata.namespace;
    const name = a.metadata.name;
    const src = appSource(a);
    const last = historyRows(a)[0];
    const cell = (label, ...content) => h('td', { dataset: { label } }, ...content);
    return h('tr', { dataset: { application: `${ns}/${name}`, sync: syncStatus(a), health: healthStatus(a) } },
      h('th', { scope: 'row', dataset: { label: 'Name' } },
        h('a', { href: applicationHref(ns, name), dataset: { focusKey: `${ns}/${name}` } }, name)),
      cell('Namespace', ns),
      cell('Sync', badge('sync', syncStatus(a))),
      cell('Health', badge('health', healthStatus(a))),
      cell('Repository', h('code', null, src.repoURL)),
      cell('Path', h('code', null, src.path)),
      cell('Target', src.targetRevision),
      cell('Commit', h('code', { class: 'commit' }, shortSha(a.status && a.status.sync && a.status.sync.revision) || '–')),
      cell('Last sync', last && last.deployedAt ? [ageElement(last.deployedAt, now), ` by ${last.who}`] : '–'));
  }
}

export class ApplicationView {
  constructor(app, namespace, name) {
    this.app = app;
    this.namespace = namespace;
    this.name = name;
    this.cache = new Cache();
    this.schedule = batched(() => this.draw());
    this.buttons = new Map();
  }

  title() {
    return `${this.name} (${this.namespace})`;
  }

  application() {
    return this.cache.get('Application', this.namespace, this.name);
  }

  render(container) {
    this.status = watchStatus();
    this.head = h('div', { class: 'rollout-head app-head' });
    this.missing = h('p', { class: 'empty', hidden: true, role: 'status' });
    this.reason = h('p', { id: 'app-actions-reason', class: 'muted' });
    this.result = h('p', { id: 'app-action-result', class: 'action-result', role: 'status' });
    this.source = h('div');
    this.conditions = h('div');
    this.diff = h('div');
    this.history = h('div');
    this.events = h('div');
    const toolbar = h('div', { class: 'toolbar', role: 'group', 'aria-labelledby': 'app-actions-title' },
      APP_ACTIONS.map((a) => {
        const b = h('button', {
          type: 'button', class: a.danger ? 'danger-outline' : 'secondary', 'aria-describedby': 'app-actions-reason',
          dataset: { action: a.id, focusKey: `app-action-${a.id}` }, title: a.what, onclick: () => this.confirm(a, b),
        }, a.label);
        this.buttons.set(a.id, b);
        return b;
      }));
    container.append(
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('a', { href: '#/applications' }, 'Applications'), ' / ', h('span', null, this.namespace), ' / ',
        h('span', { 'aria-current': 'page' }, this.name)),
      h('h1', { tabindex: '-1' }, this.name),
      h('div', { class: 'rollout-top' }, this.head, this.status), this.missing,
      h('section', { class: 'actions', 'aria-labelledby': 'app-actions-title' },
        h('h2', { id: 'app-actions-title' }, 'Actions'), toolbar, this.reason, this.result),
      h('div', { class: 'rollout-grid' },
        h('div', { class: 'col col-state' },
          section('app-source', 'Source', this.source),
          section('app-conditions', 'Conditions', this.conditions)),
        h('div', { class: 'col col-analysis' },
          section('app-diff', 'Diff with Git', this.diff),
          section('app-history', 'History', this.history)),
        h('div', { class: 'col col-events' },
          section('app-events', 'Events', this.events))));
    this.cache.subscribe(() => this.schedule());
    this.watch = watched(this, watchUrl({ namespace: this.namespace, events: true }));
    this.draw();
  }

  destroy() {
    if (this.watch) this.watch.stop();
  }

  roleChanged() {
    this.draw();
  }

  relevant(o) {
    return o.namespace === this.namespace && o.kind === 'Application' && o.name === this.name;
  }

  onFrame(type, data) {
    if ((type === 'PUT' || type === 'DELETE' || type === 'EVENT') && !this.relevant(data)) return;
    this.cache.apply(type, data);
    if (type === 'SYNC' && !this.eventsLoaded) {
      this.eventsLoaded = true;
      this.loadEvents();
    }
  }

  async loadEvents() {
    try {
      const own = await this.app.api.events({ kind: 'Application', namespace: this.namespace, name: this.name }, 300);
      this.cache.addEvents(own.items || []);
    } catch (err) {
      this.eventsError = err.message;
      this.schedule();
    }
  }

  draw() {
    const a = this.application();
    this.missing.hidden = !this.cache.synced || !!a;
    this.missing.textContent = `No Application ${this.name} in namespace ${this.namespace}.`;
    this.drawActions(a);
    if (!a) return;
    const now = Date.now();
    const op = operationText(a);
    replaceChildrenKeepingFocus(this.head, [
      badge('sync', syncStatus(a)), ' ', badge('health', healthStatus(a)),
      a.status && a.status.health && a.status.health.message
        ? h('span', { class: 'muted' }, ` ${a.status.health.message}`) : null,
      op ? h('p', { class: 'operation', id: 'app-operation' }, `Last operation: ${op}`) : null]);
    const src = appSource(a);
    const policy = src.auto ? `automated${src.selfHeal ? ', selfHeal' : ''}${src.prune ? ', prune' : ''}` : 'manual';
    replaceChildrenKeepingFocus(this.source, [dl([
      ['Repository', h('code', null, src.repoURL)], ['Path', h('code', null, src.path)],
      ['Target revision', src.targetRevision],
      ['Synced commit', h('code', { id: 'app-revision' }, (a.status && a.status.sync && a.status.sync.revision) || '–')],
      ['Destination namespace', src.destination || '–'], ['Project', src.project], ['Sync policy', policy]])]);
    const conditions = (a.status && a.status.conditions) || [];
    replaceChildrenKeepingFocus(this.conditions, conditions.length
      ? [h('ul', { class: 'conditions' }, conditions.map((c) => h('li', { dataset: { condition: c.type } },
        h('strong', null, c.type), ': ', c.message)))]
      : [h('p', { class: 'muted' }, 'None.')]);
    const resources = resourceRows(a);
    replaceChildrenKeepingFocus(this.diff, resources.length
      ? [h('table', { class: 'app-resources' },
        h('thead', null, h('tr', null, ['Object', 'Sync', 'Health', 'Difference'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, resources.map((r) => h('tr', { dataset: { object: `${r.kind}/${r.namespace}/${r.name}`, sync: r.status } },
          h('th', { scope: 'row' }, `${r.kind} ${r.namespace ? r.namespace + '/' : ''}${r.name}`),
          h('td', null, badge('sync', r.status)),
          h('td', null, r.health ? badge('health', r.health) : '–'),
          h('td', { class: 'difference' }, r.status === 'Synced' ? '–' : r.message || 'differs')))))]
      : [h('p', { class: 'muted' }, 'No objects compared yet.')]);
    const rows = historyRows(a);
    replaceChildrenKeepingFocus(this.history, rows.length
      ? [h('table', { class: 'app-history' },
        h('thead', null, h('tr', null, ['ID', 'Commit', 'Who', 'Deployed'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, rows.map((r) => h('tr', { dataset: { history: String(r.id) } },
          h('td', null, String(r.id)), h('td', null, h('code', { title: r.revision }, r.short)),
          h('td', { class: 'who' }, r.who || '–'),
          h('td', null, r.deployedAt ? ageElement(r.deployedAt, now) : '–')))))]
      : [h('p', { class: 'muted' }, 'Not synced yet.')]);
    const events = this.cache.eventList();
    const shown = events.filter((e) => this.relevant(e)).sort((x, y) => y.id - x.id).slice(0, 50);
    replaceChildrenKeepingFocus(this.events, shown.length
      ? [h('ul', { class: 'events' }, shown.map((e) => h('li', { class: e.type === 'Warning' ? 'warning' : null },
        h('strong', null, e.reason), ' ', e.message, ' ', h('span', { class: 'muted' }, e.time ? ageElement(e.time, now) : ''))))]
      : [h('p', { class: 'muted' }, this.eventsError ? `Cannot read events: ${this.eventsError}` : 'No events yet.')]);
  }

  drawActions(a) {
    const who = this.app.who;
    for (const act of APP_ACTIONS) {
      const b = this.buttons.get(act.id);
      const blocker = appActionBlocker(act.id, a, who.role);
      b.disabled = !!blocker;
      b.dataset.blocker = blocker;
      b.title = blocker ? `${act.label.replace('…', '')} is not possible: ${blocker}` : act.what;
    }
    this.reason.textContent = canOperate(who.role)
      ? `Signed in as ${who.name} (${who.role}): each action asks for confirmation; a disabled one says why when you point at it.`
      : `Actions need the operator role: you are signed in as ${who.name} (${who.role}).`;
  }

  fieldsFor(act) {
    if (act.id !== 'rollback') return { fields: [], body: () => undefined };
    const targets = rollbackTargets(this.application());
    const select = h('select', { id: 'rollback-id', required: true },
      targets.map((t) => h('option', { value: String(t.id) }, `${t.id} — ${t.short}${t.who ? ` (synced by ${t.who})` : ''}`)));
    const reason = h('input', { id: 'rollback-reason', type: 'text', autocomplete: 'off' });
    return {
      fields: [h('label', { for: 'rollback-id' }, 'History entry to go back to'), select,
        h('label', { for: 'rollback-reason' }, 'Reason (in the revert commit)'), reason],
      body: () => ({ id: Number(select.value), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) }),
    };
  }

  confirm(act, button) {
    const { fields, body } = this.fieldsFor(act);
    const verb = act.label.replace('…', '');
    this.app.dialog.open(button, {
      title: `${verb} ${this.name}?`,
      body: `Application ${this.name} in namespace ${this.namespace}. ${act.what}`,
      fields,
      confirmLabel: verb,
      danger: !!act.danger,
      run: () => this.app.api.post(
        `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/applications/${encodeURIComponent(this.name)}/${act.id}`,
        body()),
      onDone: (res) => {
        this.result.textContent = `${verb}: ${(res && res.message) || 'requested'}`;
        this.result.classList.remove('error');
      },
      onError: (err) => {
        this.result.textContent = `${verb} refused: ${err.message}`;
        this.result.classList.add('error');
        if (err.status === 403) this.app.refreshWho();
      },
    });
  }
}
