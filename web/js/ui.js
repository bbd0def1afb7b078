// Shared pieces of the dashboard's views: phase badges, the live-region announcer, the watch
// status line, and the page-wide ticker that keeps ages and countdowns current.

import { h, ageElement } from './dom.js';
import { analysisPhaseStyle, formatAge, formatDuration, phaseStyle } from './model.js';

// A phase with its icon; the icon is decoration, the word is what a screen reader reads.
export function phaseBadge(phase, { analysis = false } = {}) {
  const style = analysis ? analysisPhaseStyle(phase) : phaseStyle(phase);
  return h('span', { class: ['badge', `tone-${style.tone}`], dataset: { phase: phase || 'Pending' } },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, style.icon), ' ', phase || 'Pending');
}

// A page's panel: a section titled by its h2.
export function section(id, title, ...content) {
  return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title), ...content);
}

// Facts as a definition list: rows of [term, value, class]; falsy rows are skipped.
export function dl(rows) {
  return h('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v, cls]) =>
    h('div', { class: cls || null }, h('dt', null, k), h('dd', null, v))));
}

// Polite announcements of live changes (one region per page, in index.html).
let lastAnnouncement = '';
export function announce(text) {
  const region = document.getElementById('live');
  if (!region || !text || text === lastAnnouncement) return;
  lastAnnouncement = text;
  region.textContent = text;
}

// "live", "reconnecting…": what the watch stream is doing, for the status line of a view.
export function watchStateText(state, detail) {
  switch (state) {
    case 'live': return 'Live: updates as they happen';
    case 'connecting': return 'Connecting to the watch stream…';
    case 'reconnecting': return `Reconnecting to the watch stream…${detail ? ` (${detail})` : ''}`;
    case 'stopped': return detail ? `Not updating: ${detail}` : 'Not updating';
    default: return '';
  }
}

export function watchStatus() {
  return h('p', { class: 'watch-state', dataset: { state: 'connecting' } }, watchStateText('connecting'));
}

export function setWatchStatus(el, state, detail) {
  if (!el) return;
  el.dataset.state = state;
  el.textContent = watchStateText(state, detail);
}

// Returns a function that runs `fn` once, `ms` after the first of any number of calls: live
// updates that arrive together are drawn together.
export function batched(fn, ms = 30) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      fn();
    }, ms);
  };
}

// A countdown to deadlineMs, kept current by the ticker.
export function countdown(deadlineMs, nowMs) {
  const el = h('span', { class: 'countdown', dataset: { deadline: String(deadlineMs) } });
  el.textContent = countdownText(deadlineMs, nowMs);
  return el;
}

function countdownText(deadlineMs, nowMs) {
  const left = deadlineMs - nowMs;
  return left > 0 ? `${formatDuration(left)} left` : 'ending…';
}

export { ageElement };

// Updates every age and countdown on the page once a second.
export function startTicker() {
  return setInterval(() => {
    const now = Date.now();
    for (const el of document.querySelectorAll('time[data-age]')) {
      el.textContent = formatAge(el.dataset.age, now);
    }
    for (const el of document.querySelectorAll('[data-deadline]')) {
      el.textContent = countdownText(Number(el.dataset.deadline), now);
    }
  }, 1000);
}
