// The API's watch stream (GET /api/v1/watch, Server-Sent Events) read with fetch, because a
// browser's EventSource cannot send the Authorization header. No DOM: runs under node too.
//
// - SseParser turns text chunks into frames ({id, event, data}) by the text/event-stream rules
//   (fields id/event/data/retry, comments, CR/LF/CRLF, chunks split anywhere).
// - Watch keeps one stream open: after a drop it reconnects with Last-Event-ID = the last frame
//   id, so the server replays what happened meanwhile (nothing missed, nothing twice); when the
//   server answers that the position is too old (ERROR 410 "expired") it starts again without a
//   position, which lists every object again before SYNC (the caller drops what was not listed).
//   A 401 or 403 stops it (the token is no longer good enough); other failures retry with a
//   growing delay (the server's retry: first, at most maxRetryMs).

export class SseParser {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.buffer = '';
    this.lastEventId = '';
    this.retryMs = null;
    this.data = [];
    this.event = '';
  }

  feed(chunk) {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end;
      let next;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr === this.buffer.length - 1) break; // a CR at the end may be half of a CRLF
        end = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf >= 0) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(line) {
    if (line === '') {
      if (this.data.length) {
        this.onFrame({ id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') });
      }
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return; // comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

export class WatchError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  const message = (body && body.message) || `HTTP ${res.status}`;
  return new WatchError(res.status, (body && body.reason) || '', message);
}

export class Watch {
  // options: url (the watch URL with its query), token ('' = none), onFrame(type, data, id),
  // onReset() (a re-list begins: expect PUTs of every object, then SYNC), onState(state, detail)
  // with state 'connecting' | 'live' | 'reconnecting' | 'stopped', onFatal(WatchError);
  // fetch, sleep (for tests), maxRetryMs.
  constructor(options) {
    this.o = options;
    this.fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this.sleep = options.sleep || ((ms, signal) => new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    }));
    this.maxRetryMs = options.maxRetryMs || 10000;
    this.lastEventId = '';
    this.stopped = false;
    this.controller = null;
    this.reconnects = 0;
    this.relists = 0;
    this.done = null;
  }

  start() {
    this.done = this.run();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  state(s, detail) {
    if (this.o.onState) this.o.onState(s, detail);
  }

  async run() {
    let failures = 0;
    let retryMs = 1000;
    while (!this.stopped) {
      this.controller = new AbortController();
      const headers = { Accept: 'text/event-stream' };
      if (this.o.token) headers.Authorization = `Bearer ${this.o.token}`;
      if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
      this.state(this.lastEventId ? 'reconnecting' : 'connecting');
      let expired = false;
      let synced = false;
      try {
        const res = await this.fetch(this.o.url, { headers, signal: this.controller.signal, cache: 'no-store' });
        if (!res.ok) {
          const err = await errorFrom(res);
          if (res.status === 401 || res.status === 403 || res.status === 400) {
            this.stopped = true;
            this.state('stopped', err.message);
            if (this.o.onFatal) this.o.onFatal(err);
            return;
          }
          throw err;
        }
        const parser = new SseParser((frame) => {
          if (frame.event === 'ERROR') {
            let e = {};
            try {
              e = JSON.parse(frame.data);
            } catch {
              // keep {}
            }
            if (e.status === 410 && e.reason === 'expired') expired = true;
            this.state('reconnecting', e.message || 'the server ended the stream');
            return;
          }
          if (frame.id) this.lastEventId = frame.id;
          let data = null;
          try {
            data = JSON.parse(frame.data);
          } catch {
            return; // not ours
          }
          if (frame.event === 'SYNC') {
            synced = true;
            failures = 0;
            this.state('live');
          }
          this.o.onFrame(frame.event, data, frame.id);
        });
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
        if (parser.retryMs !== null) retryMs = parser.retryMs;
      } catch (err) {
        if (this.stopped) break;
        this.state('reconnecting', err && err.message ? err.message : String(err));
      }
      if (this.stopped) break;
      if (expired) {
        // Too old to resume: list again from scratch.
        this.lastEventId = '';
        this.relists++;
        if (this.o.onReset) this.o.onReset();
        continue;
      }
      this.reconnects++;
      if (!synced) failures++;
      const delay = Math.min(this.maxRetryMs, retryMs * 2 ** Math.min(failures, 4));
      await this.sleep(synced ? retryMs : delay, this.controller.signal);
    }
    this.state('stopped');
  }
}
