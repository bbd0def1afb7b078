// The dashboard's entry point: session (the token in sessionStorage, whoami), the hash router
// (#/ the rollouts list, #/rollouts/NS/NAME a rollout, #/applications and
// #/applications/NS/NAME Argo CD's Applications), the header, and the ticker.

import { Api } from './api.js';
import { ConfirmDialog } from './dialog.js';
import { fill, h } from './dom.js';
import { startTicker } from './ui.js';
import { ApplicationView, ApplicationsView } from './views/apps.js';
import { ListView } from './views/list.js';
import { RolloutView } from './views/rollout.js';
import { SignInView } from './views/signin.js';

const TOKEN_KEY = 'ramp.token';

class App {
  constructor() {
    this.main = document.getElementById('main');
    this.whoEl = document.getElementById('who');
    this.view = null;
    this.token = null;
    this.who = null;
    this.api = null;
    this.dialog = new ConfirmDialog();
    document.getElementById('skip').addEventListener('click', () => this.focusView());
    window.addEventListener('hashchange', () => this.route());
    startTicker();
  }

  async start() {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      const err = await this.signIn(saved);
      if (!err) return;
      sessionStorage.removeItem(TOKEN_KEY);
      this.show(new SignInView(this, err));
      return;
    }
    // A server without a tokens file needs no sign-in.
    try {
      const who = await new Api('').whoami();
      if (who && who.authentication === false) {
        this.begin('', who);
        return;
      }
    } catch {
      // authentication is on
    }
    this.show(new SignInView(this));
  }

  // Returns '' on success, else why the token was not accepted.
  async signIn(token) {
    if (!token) return 'Paste a token first.';
    try {
      const who = await new Api(token).whoami();
      sessionStorage.setItem(TOKEN_KEY, token);
      this.begin(token, who);
      return '';
    } catch (err) {
      if (err.status === 401) return `That token was not accepted: ${err.message}`;
      return err.message;
    }
  }

  begin(token, who) {
    this.token = token;
    this.who = who;
    this.api = new Api(token, { onUnauthorized: (err) => this.onFatal(err) });
    this.drawWho();
    this.route();
  }

  signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    this.token = null;
    this.who = null;
    this.api = null;
    this.drawWho();
    this.show(new SignInView(this, message));
  }

  // A 401 anywhere: the token was revoked or the file changed.
  onFatal(err) {
    if (err.status === 401) this.signOut(`Signed out: the server no longer accepts this token (${err.message}).`);
    else if (err.status === 403) this.refreshWho();
  }

  async refreshWho() {
    if (!this.api) return;
    try {
      this.who = await this.api.whoami();
      this.drawWho();
      if (this.view && this.view.roleChanged) this.view.roleChanged();
    } catch {
      // a 401 signs out through onUnauthorized
    }
  }

  drawWho() {
    if (!this.who) {
      this.whoEl.replaceChildren();
      return;
    }
    const parts = [h('span', { class: 'who-name' }, this.who.name), ' ',
      h('span', { class: ['role', `role-${this.who.role}`], id: 'who-role' }, this.who.role)];
    if (this.who.authentication) {
      parts.push(' ', h('button', { type: 'button', class: 'link', id: 'sign-out', onclick: () => this.signOut('Signed out.') }, 'Sign out'));
    } else {
      parts.push(' ', h('span', { class: 'muted' }, '(no authentication)'));
    }
    fill(this.whoEl, parts);
  }

  route() {
    if (!this.who) return;
    const hash = location.hash || '#/';
    if (!hash.startsWith('#/')) return;
    const [path, query] = hash.slice(1).split('?');
    const params = new URLSearchParams(query || '');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'rollouts' && parts.length === 3) {
      this.show(new RolloutView(this, parts[1], parts[2]));
    } else if (parts[0] === 'applications' && parts.length === 3) {
      this.show(new ApplicationView(this, parts[1], parts[2]));
    } else if (parts[0] === 'applications') {
      this.show(new ApplicationsView(this));
    } else {
      this.show(new ListView(this, params));
    }
  }

  show(view) {
    if (this.view) this.view.destroy();
    this.dialog.close();
    this.view = view;
    this.main.replaceChildren();
    view.render(this.main);
    document.title = `${view.title()} · ramp`;
    this.focusView();
  }

  focusView() {
    const target = (this.view && this.view.focusTarget) || this.main.querySelector('h1') || this.main;
    target.focus();
  }
}

new App().start();
