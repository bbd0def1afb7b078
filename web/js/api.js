// The dashboard's client of ramp's public HTTP API (docs/api.md): bearer token, JSON in and out,
// and the API's own error message on failure. No DOM.

export class ApiError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export class Api {
  // token: the bearer token, '' when the server runs without authentication. onUnauthorized(err)
  // is told when a request is refused with 401 (the token was revoked).
  constructor(token, { fetch: fetchImpl, onUnauthorized } = {}) {
    this.token = token;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this.onUnauthorized = onUnauthorized || (() => {});
  }

  headers(extra) {
    const h = { Accept: 'application/json', ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  async request(method, path, body) {
    let res;
    try {
      res = await this.fetch(path, {
        method,
        headers: this.headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'unavailable', `cannot reach the ramp server: ${err.message || err}`);
    }
    let data = null;
    const text = await res.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const message = (data && data.message) || `${method} ${path}: HTTP ${res.status}`;
      const err = new ApiError(res.status, (data && data.reason) || '', message);
      if (res.status === 401) this.onUnauthorized(err);
      throw err;
    }
    return data;
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body);
  }

  whoami() {
    return this.get('/api/v1/whoami');
  }

  rollout(ns, name) {
    return this.get(`/api/v1/namespaces/${enc(ns)}/rollouts/${enc(name)}`);
  }

  revisions(ns, name) {
    return this.get(`/api/v1/namespaces/${enc(ns)}/rollouts/${enc(name)}/revisions`);
  }

  replicas(ns, name) {
    return this.get(`/api/v1/namespaces/${enc(ns)}/rollouts/${enc(name)}/replicas`);
  }

  // The newest `tail` events matching {kind, namespace, name} ('' = any), oldest first.
  events({ kind = '', namespace = '', name = '' }, tail = 200) {
    const q = new URLSearchParams();
    if (kind) q.set('kind', kind);
    if (namespace) q.set('namespace', namespace);
    if (name) q.set('name', name);
    q.set('tail', String(tail));
    return this.get(`/api/v1/events?${q}`);
  }

  // The audit log's records of one object with index >= from (docs/api.md; role auditor+).
  auditRecords({ kind, namespace, name }, from = 0) {
    const q = new URLSearchParams({ kind, namespace, name, from: String(from), limit: '1000' });
    return this.get(`/api/v1/audit/records?${q}`);
  }

  action(ns, name, action, body) {
    return this.post(`/api/v1/namespaces/${enc(ns)}/rollouts/${enc(name)}/${action}`, body);
  }
}

function enc(s) {
  return encodeURIComponent(s);
}

// The watch URL for a kind and namespace ('' = every namespace), with or without events.
export function watchUrl({ kind = '', namespace = '', events = true } = {}) {
  const q = new URLSearchParams();
  if (kind) q.set('kind', kind);
  if (namespace) q.set('namespace', namespace);
  q.set('events', events ? 'true' : 'false');
  return `/api/v1/watch?${q}`;
}
