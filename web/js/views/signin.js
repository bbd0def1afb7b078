// Sign-in: the user pastes an API token (docs/api.md, tokens file); the dashboard checks it with
// GET /api/v1/whoami and keeps it in sessionStorage for this browser session only.

import { h } from '../dom.js';

export class SignInView {
  constructor(app, message) {
    this.app = app;
    this.message = message || '';
  }

  title() {
    return 'Sign in';
  }

  render(container) {
    const input = h('input', {
      id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': 'token-help signin-error',
    });
    const error = h('p', { id: 'signin-error', class: 'form-error', role: 'alert' }, this.message);
    const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = h('form', {
      class: 'signin',
      'aria-labelledby': 'signin-title',
      onsubmit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        error.textContent = '';
        const err = await this.app.signIn(input.value.trim());
        button.disabled = false;
        if (err) {
          error.textContent = err;
          input.focus();
          input.select();
        }
      },
    },
    h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in to ramp'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'muted' },
      'A token from the server\'s tokens file (TOKEN,NAME,ROLE). It is kept for this browser session only and sent to this server alone.'),
    error,
    button);
    container.append(form);
    this.focusTarget = input;
  }

  destroy() {}
}
