// The confirmation dialog of the actions: a modal <dialog> (the browser keeps focus inside it and
// makes the page behind inert; Escape cancels), focus on its safe choice when it opens and back
// on the button that opened it when it closes. The action runs from the dialog, which shows the
// API's answer: it closes on success and stays open with the error when the API refused.

import { fill, h } from './dom.js';

export class ConfirmDialog {
  constructor() {
    this.el = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' });
    this.title = h('h2', { id: 'confirm-title' });
    this.body = h('div', { id: 'confirm-body' });
    this.fields = h('div', { class: 'dialog-fields' });
    this.error = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
    this.cancel = h('button', { type: 'button', class: 'secondary', onclick: () => this.close() }, 'Cancel');
    this.ok = h('button', { type: 'submit', class: 'primary' }, 'Confirm');
    this.form = h('form', { method: 'dialog', onsubmit: (e) => this.submit(e) },
      this.title, this.body, this.fields, this.error,
      h('div', { class: 'dialog-buttons' }, this.cancel, this.ok));
    this.el.append(this.form);
    this.el.addEventListener('close', () => this.restoreFocus());
    this.el.addEventListener('cancel', () => { this.busy = false; });
    document.body.append(this.el);
  }

  // Opens the dialog. options: title, body (text), fields (elements to fill in, e.g. a select),
  // confirmLabel, danger (bool), fallbackFocus (where focus goes when the opener is gone or
  // disabled on close), run: async () => result (throws ApiError on refusal),
  // onDone(result), onError(err). Focus goes to the first field, else to Cancel.
  open(opener, options) {
    this.opener = opener;
    this.options = options;
    this.title.textContent = options.title;
    this.body.textContent = options.body || '';
    fill(this.fields, options.fields || []);
    this.error.hidden = true;
    this.error.textContent = '';
    this.ok.textContent = options.confirmLabel || 'Confirm';
    this.ok.className = options.danger ? 'danger' : 'primary';
    this.ok.disabled = false;
    this.busy = false;
    this.el.showModal();
    const first = this.fields.querySelector('input, select, textarea');
    (first || this.cancel).focus();
  }

  async submit(e) {
    e.preventDefault();
    if (this.busy) return;
    this.busy = true;
    this.ok.disabled = true;
    this.error.hidden = true;
    try {
      const result = await this.options.run();
      this.busy = false;
      this.close();
      if (this.options.onDone) this.options.onDone(result);
    } catch (err) {
      this.busy = false;
      this.ok.disabled = false;
      this.error.textContent = err.status ? `Refused (${err.status}): ${err.message}` : err.message;
      this.error.hidden = false;
      if (this.options.onError) this.options.onError(err);
    }
  }

  close() {
    if (this.el.open) this.el.close();
  }

  restoreFocus() {
    if (this.opener && this.opener.isConnected && !this.opener.disabled) this.opener.focus();
    else if (this.options && this.options.fallbackFocus) this.options.fallbackFocus.focus();
  }
}
