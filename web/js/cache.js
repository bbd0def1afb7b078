// The objects and events the dashboard has seen, fed by the watch stream (and by GETs), with
// change notification. No DOM.
//
// A (re-)list: begin() marks every object as unconfirmed; PUTs during the list confirm theirs;
// SYNC ends the list and drops the objects the server no longer has.

export function objectKey(kind, namespace, name) {
  return `${kind}/${namespace || ''}/${name}`;
}

export class Cache {
  constructor() {
    this.objects = new Map(); // key -> object JSON
    this.events = new Map(); // id -> event
    this.listeners = new Set();
    this.synced = false;
    this.listing = null; // Set of keys seen since begin(), while a list is in progress
    this.begin();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(change) {
    for (const fn of this.listeners) fn(change);
  }

  begin() {
    this.listing = new Set();
  }

  // type: PUT | DELETE | EVENT | SYNC, with the frame's data (docs/api.md, Watch).
  apply(type, data) {
    if (type === 'PUT' || type === 'DELETE') {
      const key = objectKey(data.kind, data.namespace, data.name);
      const before = this.objects.get(key);
      if (type === 'PUT') {
        this.objects.set(key, data.object);
        if (this.listing) this.listing.add(key);
      } else {
        this.objects.delete(key);
      }
      this.notify({ type, key, kind: data.kind, namespace: data.namespace, name: data.name, before, object: data.object });
    } else if (type === 'EVENT') {
      this.addEvents([data]);
    } else if (type === 'SYNC') {
      if (this.listing) {
        for (const key of [...this.objects.keys()]) {
          if (!this.listing.has(key)) {
            const before = this.objects.get(key);
            this.objects.delete(key);
            const [kind, namespace, name] = key.split('/');
            this.notify({ type: 'DELETE', key, kind, namespace, name, before, object: before });
          }
        }
        this.listing = null;
      }
      this.synced = true;
      this.notify({ type: 'SYNC' });
    }
  }

  addEvents(events) {
    let added = false;
    for (const e of events) {
      if (!this.events.has(e.id)) {
        // A repeat the store folded into an earlier event supersedes that event's row.
        if (e.replaces) this.events.delete(e.replaces);
        this.events.set(e.id, e);
        added = true;
      }
    }
    if (added) this.notify({ type: 'EVENT' });
  }

  get(kind, namespace, name) {
    return this.objects.get(objectKey(kind, namespace, name)) || null;
  }

  list(kind) {
    const out = [];
    for (const [key, obj] of this.objects) if (key.startsWith(kind + '/')) out.push(obj);
    return out;
  }

  // Events oldest first.
  eventList() {
    return [...this.events.values()].sort((a, b) => a.id - b.id);
  }
}
