// What the dashboard shows of Argo CD's Applications that ramp's GitOps agent runs
// (docs/gitops.md): sync and health with their badges, the source, the objects with the first
// field each differs in (the agent's comparison), the history (who synced which commit), the
// conditions, and which actions the caller's role and the Application's state allow — the
// server's own rules (src/api, docs/api.md: operator and up; 422 while a sync is pending or with
// no earlier revision). Pure: no DOM, no fetch.

const SYNC = {
  Synced: { icon: '✔', tone: 'ok' },
  OutOfSync: { icon: '⚠', tone: 'warn' },
  Unknown: { icon: '?', tone: 'unknown' },
};

// Argo CD's health order (src/gitops/health.h).
const HEALTH = {
  Healthy: { icon: '✔', tone: 'ok' },
  Suspended: { icon: '‖', tone: 'warn' },
  Progressing: { icon: '◌', tone: 'busy' },
  Missing: { icon: '◷', tone: 'warn' },
  Degraded: { icon: '✖', tone: 'bad' },
  Unknown: { icon: '?', tone: 'unknown' },
};

export const SYNC_STATUSES = Object.keys(SYNC);
export const HEALTH_STATUSES = Object.keys(HEALTH);

// The sync status ("Unknown" until the agent compared).
export function syncStatus(app) {
  return (app && app.status && app.status.sync && app.status.sync.status) || 'Unknown';
}

export function healthStatus(app) {
  return (app && app.status && app.status.health && app.status.health.status) || 'Unknown';
}

export function syncStyle(status) {
  return SYNC[status] || SYNC.Unknown;
}

export function healthStyle(status) {
  return HEALTH[status] || HEALTH.Unknown;
}

export function shortSha(sha) {
  return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 7) : sha || '';
}

// {repoURL, path, targetRevision, destination, project} with Argo CD's defaults spelled out.
export function appSource(app) {
  const spec = (app && app.spec) || {};
  const src = spec.source || {};
  return {
    repoURL: src.repoURL || '',
    path: src.path || '.',
    targetRevision: src.targetRevision || 'HEAD',
    destination: (spec.destination && spec.destination.namespace) || '',
    project: spec.project || 'default',
    auto: !!(spec.syncPolicy && spec.syncPolicy.automated),
    selfHeal: !!(spec.syncPolicy && spec.syncPolicy.automated && spec.syncPolicy.automated.selfHeal),
    prune: !!(spec.syncPolicy && spec.syncPolicy.automated && spec.syncPolicy.automated.prune),
  };
}

// Who started a sync: the user, or "auto-sync" for the agent.
export function initiator(initiatedBy) {
  if (!initiatedBy) return '';
  if (initiatedBy.username) return initiatedBy.username;
  return initiatedBy.automated ? 'auto-sync' : '';
}

// The history, newest first: {id, revision (full), short, deployedAt, who}.
export function historyRows(app) {
  const history = (app && app.status && app.status.history) || [];
  return history
    .map((h) => ({
      id: h.id,
      revision: h.revision || '',
      short: shortSha(h.revision),
      deployedAt: h.deployedAt || '',
      who: initiator(h.initiatedBy),
    }))
    .sort((a, b) => b.id - a.id);
}

// Each object the Application manages: {kind, namespace, name, status, health, message}, the
// out-of-sync ones first (the diff).
export function resourceRows(app) {
  const resources = (app && app.status && app.status.resources) || [];
  return resources
    .map((r) => ({
      kind: r.kind || '',
      namespace: r.namespace || '',
      name: r.name || '',
      status: r.status || 'Unknown',
      health: (r.health && r.health.status) || '',
      message: r.message || (r.health && r.health.message) || '',
    }))
    .sort((a, b) => (a.status === 'Synced') - (b.status === 'Synced') ||
      a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name));
}

// The last sync operation in words, or '' when there was none.
export function operationText(app) {
  const op = app && app.status && app.status.operationState;
  if (!op) return '';
  const rev = op.syncResult && op.syncResult.revision;
  const who = op.operation && initiator(op.operation.initiatedBy);
  return [op.phase || 'Running', rev ? `at ${shortSha(rev)}` : '', who ? `by ${who}` : '',
    op.message ? `— ${op.message}` : ''].filter(Boolean).join(' ');
}

export const APP_ACTIONS = [
  { id: 'sync', label: 'Sync', what: 'Apply what Git says now (a closed sync window refuses it unless you are admin).' },
  { id: 'refresh', label: 'Refresh', what: 'Read the repository now and compare.' },
  { id: 'rollback', label: 'Rollback…', danger: true,
    what: 'Go back to an earlier history entry: a revert commit is pushed to the branch, so auto-sync keeps it.' },
];

export function canOperate(role) {
  return role === 'operator' || role === 'admin';
}

// Why action `id` cannot be done now by a caller with `role` ('' = it can): the role first, then
// the API's 422s.
export function appActionBlocker(id, app, role) {
  if (!canOperate(role)) return `needs the operator role (you are ${role || 'signed out'})`;
  if (!app) return 'the Application is not loaded';
  const pending = !!(app.operation && app.operation.sync);
  if ((id === 'sync' || id === 'rollback') && pending) return 'a sync is already pending';
  if (id === 'rollback' && historyRows(app).length < 2) return 'no earlier revision in the history';
  return '';
}

// The history entries a rollback can go to (every one but the newest), newest first.
export function rollbackTargets(app) {
  return historyRows(app).slice(1);
}
