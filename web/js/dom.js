// DOM helpers for the dashboard: element construction without innerHTML (every text goes through
// textContent, so nothing the API returns can inject markup), and focus kept across re-renders.

import { formatAge } from './model.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// h('button', {class: 'x', onclick: f}, 'text', child, …) — an HTML element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s('line', {x1: 0, …}) — an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// Replaces the children of `el` with `children` (nested arrays flattened; null, undefined and
// false skipped).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// Replaces the children of `container` with `children`. When the focused element carried a
// data-focus-key, the element with the same key in the new content gets the focus back, so a
// live update does not throw a keyboard user out of the page. A <details> with a data-open-key
// keeps the open or closed state its twin had (the reader's choice); a new key gets the default
// the new content gives it.
export function replaceChildrenKeepingFocus(container, children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  const open = new Map();
  for (const d of container.querySelectorAll('details[data-open-key]')) {
    open.set(d.dataset.openKey, d.open);
  }
  fill(container, children);
  for (const d of container.querySelectorAll('details[data-open-key]')) {
    if (open.has(d.dataset.openKey)) d.open = open.get(d.dataset.openKey);
  }
  if (key !== undefined) {
    const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// A <time> whose text is kept as an age ("12s ago") by the page's ticker.
export function ageElement(iso, nowMs) {
  if (!iso) return h('span', null, '–');
  const el = h('time', { datetime: iso, title: new Date(iso).toLocaleString(), dataset: { age: iso } });
  el.textContent = formatAge(iso, nowMs);
  return el;
}
