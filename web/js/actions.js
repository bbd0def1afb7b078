// The rollout actions (docs/api.md, Actions): promote, promote full, abort, retry, pause, resume,
// restart, undo to a chosen revision, set image. Shown to everyone, usable from the operator
// role up (whoami); for a viewer they are disabled and say why, and so is an action the rollout's
// state does not allow (applicability.js: the server's own preconditions). Each asks for confirmation in
// the dialog, which shows the API's error when the server refuses (403 after a downgrade, 422 when
// the action does not apply now, …).

import { actionBlocker } from './applicability.js';
import { h } from './dom.js';

export const ACTIONS = [
  { id: 'promote', label: 'Promote', body: () => undefined,
    what: 'Go to the next step: ends a pause, or skips the current step.' },
  { id: 'promote-full', action: 'promote', label: 'Promote full', body: () => ({ full: true }), danger: true,
    what: 'Skip every remaining step, pause and analysis and send all traffic to the new version.' },
  { id: 'abort', label: 'Abort', danger: true, body: () => undefined,
    what: 'Send all traffic back to the stable version and stop the update.' },
  { id: 'retry', label: 'Retry', body: () => undefined,
    what: 'Start the aborted update again, or check images the signature gate refused again.' },
  { id: 'pause', label: 'Pause', body: () => undefined, what: 'Pause the rollout where it is.' },
  { id: 'resume', label: 'Resume', body: () => undefined, what: 'Resume the paused rollout.' },
  { id: 'restart', label: 'Restart', body: () => undefined,
    what: 'Replace the running replicas, one at a time.' },
  { id: 'undo', label: 'Undo…', danger: true, what: 'Roll the pod template back to an earlier revision.' },
  { id: 'set-image', label: 'Set image…', what: 'Change a container image, which starts an update.' },
];

export function canAct(role) {
  return role === 'operator' || role === 'admin';
}

// The toolbar. ctx: {app, dialog, namespace, name, rollout(): object, revisions(): array,
// onResult(text, isError)}.
export class ActionBar {
  constructor(ctx) {
    this.ctx = ctx;
    this.buttons = new Map();
    this.reason = h('p', { id: 'actions-reason', class: 'muted' });
    this.result = h('p', { id: 'action-result', class: 'action-result', role: 'status' });
    this.el = h('section', { class: 'actions', 'aria-labelledby': 'actions-title', tabindex: '-1' },
      h('h2', { id: 'actions-title' }, 'Actions'),
      h('div', { class: 'toolbar', role: 'group', 'aria-labelledby': 'actions-title' },
        ACTIONS.map((a) => {
          const b = h('button', {
            type: 'button', class: a.danger ? 'danger-outline' : 'secondary', 'aria-describedby': 'actions-reason',
            dataset: { action: a.id, focusKey: `action-${a.id}` }, title: a.what, onclick: () => this.confirm(a, b),
          }, a.label);
          this.buttons.set(a.id, b);
          return b;
        })),
      this.reason, this.result);
    this.update();
  }

  update() {
    const who = this.ctx.app.who;
    const allowed = canAct(who.role);
    const r = this.ctx.rollout();
    for (const a of ACTIONS) {
      const b = this.buttons.get(a.id);
      const blocker = allowed ? actionBlocker(a.id, r) : '';
      b.disabled = !allowed || !!blocker;
      b.title = blocker ? `${a.label.replace('…', '')} is not possible now: ${blocker}` : a.what;
      b.dataset.blocker = blocker;
    }
    this.reason.textContent = allowed
      ? `Signed in as ${who.name} (${who.role}): each action asks for confirmation; a disabled one says why when you point at it.`
      : `Actions need the operator role: you are signed in as ${who.name} (${who.role}).`;
  }

  setResult(text, isError) {
    this.result.textContent = text;
    this.result.classList.toggle('error', !!isError);
  }

  fieldsFor(a) {
    if (a.id === 'undo') {
      const revs = this.ctx.revisions() || [];
      if (!revs.length) {
        return { fields: [h('p', { class: 'muted' }, 'No revision history from the platform: the server picks the previous revision.')],
          body: () => undefined };
      }
      const select = h('select', { id: 'undo-revision', required: true },
        revs.map((r) => h('option', { value: String(r.revision) },
          `revision ${r.revision} — ${(r.images || []).join(', ') || r.podTemplateHash}`)));
      if (revs.length > 1) select.value = String(revs[1].revision);
      return { fields: [h('label', { for: 'undo-revision' }, 'Revision to roll back to'), select],
        body: () => ({ toRevision: Number(select.value) }) };
    }
    if (a.id === 'set-image') {
      const r = this.ctx.rollout();
      const containers = (r && r.spec.template && r.spec.template.spec.containers) || [];
      const container = h('select', { id: 'set-image-container' },
        containers.map((c) => h('option', { value: c.name }, `${c.name} (now ${c.image})`)),
        h('option', { value: '*' }, 'every container (*)'));
      const image = h('input', { id: 'set-image-image', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
        value: containers[0] ? containers[0].image : '' });
      return {
        fields: [h('label', { for: 'set-image-container' }, 'Container'), container,
          h('label', { for: 'set-image-image' }, 'New image'), image],
        body: () => ({ container: container.value, image: image.value.trim() }),
      };
    }
    return { fields: [], body: a.body };
  }

  confirm(a, button) {
    const { namespace, name, app, dialog } = this.ctx;
    const { fields, body } = this.fieldsFor(a);
    const verb = a.label.replace('…', '');
    dialog.open(button, {
      title: `${verb} ${name}?`,
      body: `Rollout ${name} in namespace ${namespace}. ${a.what}`,
      fields,
      confirmLabel: verb,
      danger: !!a.danger,
      fallbackFocus: this.el,
      run: () => app.api.action(namespace, name, a.action || a.id, body()),
      onDone: (res) => this.setResult(`${verb}: ${(res && res.message) || 'done'}`, false),
      onError: (err) => {
        this.setResult(`${verb} refused: ${err.message}`, true);
        if (err.status === 403) app.refreshWho();
      },
    });
  }
}
