// A rollout's replicas as the dashboard shows them (GET …/rollouts/NAME/replicas, docs/api.md):
// grouped under their revision, a state with its icon and tone, ready, restarts and last exit,
// as `ramp get rollout` prints them (src/cli/rollout_view.cc replicaStateWithIcon and
// replicaInfo). Pure functions over the API's JSON (no DOM); unit-tested under node.

// Icon and tone per replica state (the CLI's glyphs).
const STATES = {
  Running: { icon: '✔', tone: 'ok' },
  Starting: { icon: '◌', tone: 'busy' },
  CrashLoopBackOff: { icon: '✖', tone: 'bad' },
  Waiting: { icon: '◷', tone: 'unknown' },
  Terminating: { icon: '◌', tone: 'unknown' },
};

export function replicaStateStyle(state) {
  return STATES[state] || { icon: '?', tone: 'unknown' };
}

// The rows of one replica: {name, index, state, icon, tone, ready ("1/1" | "0/1"), restarts,
// lastExit ("–" when it never stopped), message, startedAt}.
export function replicaRow(rep) {
  const style = replicaStateStyle(rep.state);
  return {
    name: rep.name || '',
    index: Number.isInteger(rep.index) ? rep.index : 0,
    state: rep.state || 'Unknown',
    icon: style.icon,
    tone: style.tone,
    ready: rep.ready ? '1/1' : '0/1',
    restarts: Number.isInteger(rep.restarts) ? rep.restarts : 0,
    lastExit: rep.lastExit || '–',
    message: rep.message || '',
    startedAt: rep.startedAt || null,
  };
}

// Map from pod template hash to that revision's replica rows, ordered by index then name (a
// replaced replica and its successor share a slot: the one being stopped comes last).
export function replicasByRevision(items) {
  const out = new Map();
  for (const rep of items || []) {
    const hash = rep.podTemplateHash || '';
    if (!out.has(hash)) out.set(hash, []);
    out.get(hash).push(replicaRow(rep));
  }
  const terminatingLast = (r) => (r.state === 'Terminating' ? 1 : 0);
  for (const rows of out.values()) {
    rows.sort((a, b) => a.index - b.index || terminatingLast(a) - terminatingLast(b) ||
      a.name.localeCompare(b.name));
  }
  return out;
}

// One line for the revision row: "2 replicas: 1 running, 1 crash-looping" style counts by state,
// in a fixed order; "" when none.
export function replicaCounts(rows) {
  if (!rows || !rows.length) return '';
  const order = ['Running', 'Starting', 'CrashLoopBackOff', 'Waiting', 'Terminating'];
  const counts = new Map();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) || 0) + 1);
  const known = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  const other = [...counts.keys()].filter((s) => !order.includes(s)).sort()
    .map((s) => `${counts.get(s)} ${s}`);
  return [...known, ...other].join(', ');
}
