// Unit tests of web/js/watch.js and cache.js: the SSE parser over arbitrary chunk boundaries,
// resume with Last-Event-ID after a drop, a fresh list after a 410, and a stop on 401/403;
// driven by a fake fetch that serves scripted streams (no network, no timers).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SseParser, Watch } from '../../../web/js/watch.js';
import { Cache } from '../../../web/js/cache.js';

const STREAM = 'retry: 1000\n\nid: 41.17\nevent: PUT\ndata: {"type":"PUT","kind":"Rollout","namespace":"a","name":"x","object":{"v":1}}\n\n' +
  ': heartbeat\n\nid: 41.17\nevent: SYNC\ndata: {"resourceVersion":"41"}\n\nevent: multi\ndata: one\ndata: two\n\n';

function parseAll(chunks) {
  const frames = [];
  const p = new SseParser((f) => frames.push(f));
  for (const c of chunks) p.feed(c);
  return { frames, parser: p };
}

test('SSE parser: same frames however the text is split, with LF, CRLF or CR', () => {
  const whole = parseAll([STREAM]).frames;
  assert.equal(whole.length, 3);
  assert.deepEqual(whole[0].id, '41.17');
  assert.equal(whole[0].event, 'PUT');
  assert.equal(JSON.parse(whole[0].data).object.v, 1);
  assert.equal(whole[1].event, 'SYNC');
  assert.equal(whole[2].data, 'one\ntwo');
  for (let size = 1; size <= 7; size++) {
    const chunks = [];
    for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
    assert.deepEqual(parseAll(chunks).frames, whole, `chunks of ${size}`);
  }
  for (const eol of ['\r\n', '\r']) {
    // A CR at the very end may be half of a CRLF: a comment after it settles that.
    const text = STREAM.replaceAll('\n', eol) + ': end\n';
    assert.deepEqual(parseAll([text]).frames, whole, JSON.stringify(eol));
    assert.deepEqual(parseAll(text.split('')).frames, whole, `${JSON.stringify(eol)} one char at a time`);
  }
  assert.equal(parseAll([STREAM]).parser.retryMs, 1000);
});

// A fetch that answers each call with the next scripted response: {status, body (JSON)} or
// {stream: [chunks]} (the stream ends after them, like a dropped connection) or {throws}.
function fakeFetch(script) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, headers: { ...init.headers } });
    const next = script.shift();
    if (!next) {
      // Nothing more scripted: hang until aborted.
      return new Promise((resolve, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    if (next.throws) throw new Error(next.throws);
    if (next.stream) {
      const enc = new TextEncoder();
      const body = new ReadableStream({
        start(c) {
          for (const chunk of next.stream) c.enqueue(enc.encode(chunk));
          c.close();
        },
      });
      return { ok: true, status: 200, body };
    }
    return { ok: next.status < 300, status: next.status, json: async () => next.body };
  };
  return { fetch, calls };
}

function frame(id, event, data) {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
const put = (name, v) => ({ type: 'PUT', kind: 'Rollout', namespace: 'a', name, object: { metadata: { name }, v } });

async function runWatch(script, { onFatal } = {}) {
  const { fetch, calls } = fakeFetch(script);
  const cache = new Cache();
  const states = [];
  let resets = 0;
  let watch;
  const sleeps = [];
  watch = new Watch({
    url: '/api/v1/watch?events=true',
    token: 'tok-0123456789abcdef',
    fetch,
    sleep: async (ms) => { sleeps.push(ms); },
    onFrame: (type, data) => cache.apply(type, data),
    onReset: () => { resets++; cache.begin(); },
    onState: (s) => states.push(s),
    onFatal: (e) => { if (onFatal) onFatal(e); },
  });
  watch.start();
  // Let the scripted responses play out: the fake fetch hangs once the script is used up.
  for (let i = 0; i < 50 && script.length; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  watch.stop();
  await watch.done;
  return { calls, cache, states, resets: () => resets, sleeps, watch };
}

test('a dropped stream resumes with Last-Event-ID and keeps what it had', async () => {
  const script = [
    { stream: ['retry: 500\n\n', frame('10.1', 'PUT', put('x', 1)), frame('10.1', 'SYNC', { resourceVersion: '10' }), frame('11.1', 'PUT', put('x', 2))] },
    { throws: 'connection refused' },
    { stream: [frame('12.1', 'PUT', put('y', 1)), frame('12.1', 'SYNC', { resourceVersion: '12' })] },
  ];
  const r = await runWatch(script);
  assert.equal(r.calls.length, 4); // 3 scripted + the one left hanging
  assert.equal(r.calls[0].headers['Last-Event-ID'], undefined);
  assert.equal(r.calls[0].headers.Authorization, 'Bearer tok-0123456789abcdef');
  assert.equal(r.calls[1].headers['Last-Event-ID'], '11.1');
  assert.equal(r.calls[2].headers['Last-Event-ID'], '11.1');
  assert.equal(r.calls[3].headers['Last-Event-ID'], '12.1');
  assert.equal(r.cache.get('Rollout', 'a', 'x').v, 2);
  assert.equal(r.cache.get('Rollout', 'a', 'y').v, 1);
  assert.equal(r.resets(), 0);
  assert.equal(r.sleeps[0], 500); // the server's retry: after a drop of a live stream
  assert.ok(r.sleeps[1] > 500); // backs off after a failed connect
  assert.ok(r.states.includes('live') && r.states.includes('reconnecting'));
});

test('410 expired: list again from scratch and drop what the list no longer has', async () => {
  const script = [
    { stream: [frame('5.1', 'PUT', put('gone', 1)), frame('5.1', 'PUT', put('kept', 1)), frame('5.1', 'SYNC', { resourceVersion: '5' })] },
    { stream: ['event: ERROR\ndata: {"status":410,"reason":"expired","message":"too old"}\n\n'] },
    { stream: [frame('9000.3', 'PUT', put('kept', 2)), frame('9000.3', 'SYNC', { resourceVersion: '9000' })] },
  ];
  const r = await runWatch(script);
  assert.equal(r.calls[1].headers['Last-Event-ID'], '5.1');
  assert.equal(r.calls[2].headers['Last-Event-ID'], undefined); // fresh list
  assert.equal(r.resets(), 1);
  assert.equal(r.cache.get('Rollout', 'a', 'gone'), null);
  assert.equal(r.cache.get('Rollout', 'a', 'kept').v, 2);
  assert.equal(r.watch.relists, 1);
});

test('a slow-client cut-off (410 too_slow) resumes from the last id instead of listing', async () => {
  const script = [
    { stream: [frame('5.1', 'SYNC', { resourceVersion: '5' }), 'event: ERROR\ndata: {"status":410,"reason":"too_slow","message":"cut off"}\n\n'] },
  ];
  const r = await runWatch(script);
  assert.equal(r.calls[1].headers['Last-Event-ID'], '5.1');
  assert.equal(r.resets(), 0);
});

test('401 and 403 stop the watch and report why', async () => {
  for (const status of [401, 403]) {
    let fatal = null;
    const r = await runWatch([{ status, body: { status, reason: 'x', message: `refused ${status}` } }], { onFatal: (e) => { fatal = e; } });
    assert.equal(r.calls.length, 1);
    assert.equal(fatal.status, status);
    assert.equal(fatal.message, `refused ${status}`);
    assert.equal(r.states.at(-1), 'stopped');
  }
});

test('cache: events are kept once by id and listed oldest first', () => {
  const c = new Cache();
  let notes = 0;
  c.subscribe(() => notes++);
  c.apply('EVENT', { id: 3, reason: 'b' });
  c.addEvents([{ id: 1, reason: 'a' }, { id: 3, reason: 'b' }]);
  c.addEvents([{ id: 3, reason: 'b' }]);
  assert.deepEqual(c.eventList().map((e) => e.id), [1, 3]);
  assert.equal(notes, 2);
  c.apply('PUT', put('x', 1));
  c.apply('DELETE', put('x', 1));
  assert.equal(c.get('Rollout', 'a', 'x'), null);
});
