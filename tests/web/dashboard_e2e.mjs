// End-to-end test of ramp's dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser is downloaded) against the demo scenario: real HAProxy, Prometheus,
// `ramp serve` and demo-service replicas started by the `ramp-demo` runner.
//
//   node dashboard_e2e.mjs --demo PATH/ramp-demo --artifacts DIR [--chromium /usr/bin/chromium]
//
// ramp-demo runs --once --fast --pause-step --listen 127.0.0.1:0: v1 is deployed, v2 stops at an
// indefinite pause after its 25% analysis until someone promotes it, v3 (10% errors) fails its
// analysis and is aborted. The test, through the browser only (the API is read from node just to
// cross-check what the page says):
//   1. signs in with the keyboard as a viewer; the list shows the demo canary advance live (its
//      step and weight change on a page left open, without a reload); filters; keyboard
//      navigation; 400-px layout;
//   2. the viewer's rollout page has every action disabled, saying why;
//   3. the API's TCP connections are cut (ss -K, as root): the pages resume their watch with
//      Last-Event-ID and stay live, no event shown twice;
//      an operator's page reaches the pause; the operator's token is downgraded to viewer in the
//      tokens file while the page is open; Promote (through the confirm dialog, by keyboard) is
//      refused with the API's 403 message and the rollout stays paused; the role is restored,
//      Promote is confirmed and the rollout moves on;
//      the rollout page shows each revision's replicas (state, ready, restarts, last exit) and, at
//      1280×800, the head, steps, weights, newest run and the events beside the steps on the
//      first screen (screenshot rollout-1280x800.png), no hash wrapped mid-word; each event shows
//      its signed audit record, the one the API serves for it (the viewer's page shows none);
//   4. v3's abort appears with its evidence (older AnalysisRuns collapsed): the failed measurement's value, the condition, a
//      chart with the failed point — the same as the daemon stored (its SQLite store is read,
//      read-only, after the demo has exited: the demo stops its stack within a second of the
//      abort, too soon to ask the API);
//   5. ramp-demo exits 0 (v1 Deployed, v2 Promoted, v3 Aborted).
// Between 2 and 3 (v2 waits at its pause), Applications (docs/gitops.md): an Application reading a
// file:// repository made with the git CLI; as a viewer the list's sync and health badges, the
// page's diff naming a drifted field, the history (auto-sync), the three actions disabled with
// the reason; as an operator Refresh after a commit and Rollback through the dialog, whose revert
// commit the branch has, authored by the operator, and the page's history shows.
// Screenshots go to the artifacts directory. Every wait is on a condition, with a timeout.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = parseArgs(process.argv.slice(2));
const DEMO = args.demo && path.resolve(args.demo);
const ARTIFACTS = path.resolve(args.artifacts || 'dashboard-e2e-artifacts');
const CHROMIUM = args.chromium || '/usr/bin/chromium';
const ROLLOUT = { namespace: 'default', name: 'demo' };
const started = Date.now();

let passed = 0;
let failed = 0;
const failures = [];

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
}

function check(cond, what, detail = '') {
  if (cond) {
    passed++;
    log(`ok: ${what}`);
  } else {
    failed++;
    failures.push(what);
    log(`FAILED: ${what}${detail ? ` (${detail})` : ''}`);
  }
  return cond;
}

// Polls fn() until it returns a truthy value; throws with `what` after timeoutMs.
async function until(what, fn, { timeoutMs = 60000, everyMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// --- the demo ---------------------------------------------------------------------------------

class DemoRun {
  constructor() {
    this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'ramp-dashboard-e2e-'));
    this.logPath = path.join(ARTIFACTS, 'ramp-demo.log');
    this.out = fs.createWriteStream(this.logPath);
    this.exit = null;
    this.proc = spawn(DEMO, ['--once', '--fast', '--pause-step', '--listen', '127.0.0.1:0', '--data', this.data, '--keep'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.pipe(this.out, { end: false });
    this.proc.stderr.pipe(this.out, { end: false });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on('error', (err) => {
        this.exit = { code: null, signal: null, error: err.message };
        resolve(this.exit);
      });
    });
  }

  async dashboard() {
    const file = path.join(this.data, 'dashboard.json');
    return until('DATA/dashboard.json from ramp-demo', () => {
      if (this.exit) throw new Error(`ramp-demo exited early (${JSON.stringify(this.exit)}); see ${this.logPath}`);
      if (!fs.existsSync(file)) return null;
      const info = JSON.parse(fs.readFileSync(file, 'utf8'));
      return info.url && info.tokens && info.tokens.viewer ? info : null;
    }, { timeoutMs: 120000 });
  }

  stop() {
    if (!this.exit) this.proc.kill('SIGTERM');
  }
}

// --- the API, from node (to cross-check the page and to wait for the tokens file reload) -----

async function apiGet(info, token, p) {
  const res = await fetch(info.url + p, { headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json();
  return { status: res.status, body };
}

async function rollout(info) {
  const r = await apiGet(info, info.tokens.admin, `/api/v1/namespaces/${ROLLOUT.namespace}/rollouts/${ROLLOUT.name}`);
  return r.status === 200 ? r.body : null;
}

// Rewrites the role of the line holding `token` in the tokens file (atomically: new file +
// rename), then waits until the server answers whoami with that role.
async function setRole(info, token, role) {
  const lines = fs.readFileSync(info.tokensFile, 'utf8').split('\n').map((line) => {
    const fields = line.split(',');
    return fields.length === 3 && fields[0].trim() === token ? `${fields[0]},${fields[1]},${role}` : line;
  });
  const tmp = `${info.tokensFile}.new`;
  fs.writeFileSync(tmp, lines.join('\n'), { mode: 0o600 });
  fs.renameSync(tmp, info.tokensFile);
  await until(`whoami to say ${role} after the tokens file changed`,
    async () => (await apiGet(info, token, '/api/v1/whoami')).body.role === role, { timeoutMs: 10000 });
}

// --- the browser --------------------------------------------------------------------------------

const pageErrors = [];
let consoleLog = null;

async function newPage(browser, name, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    const line = `[${((Date.now() - started) / 1000).toFixed(1)} s] ${name}: ${m.type()}: ${m.text()}`;
    consoleLog.write(`${line}\n`);
    // Failed requests are the page's business (a refused action, a dropped watch stream that it
    // resumes); anything else logged as an error is a bug.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(line);
  });
  return page;
}

async function shot(page, name, fullPage = false) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  log(`screenshot ${file}`);
  return file;
}

// Signs in by keyboard only: the token field has the focus on arrival, Enter submits.
async function signIn(page, info, role) {
  await page.goto(info.url + '/');
  await page.locator('#token').waitFor();
  check(await page.evaluate(() => document.activeElement && document.activeElement.id === 'token'),
    `${role}: the token field has the focus on the sign-in page`);
  check(await page.locator('label[for="token"]').isVisible(), `${role}: the token field is labelled`);
  await page.keyboard.type(info.tokens[role]);
  await page.keyboard.press('Enter');
  await page.locator('#who-role').waitFor();
  check((await page.locator('#who-role').textContent()) === role, `${role}: signed in with role ${role}`);
}

async function activeDescription(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return '';
    const tag = el.tagName.toLowerCase();
    if (el.id) return `${tag}#${el.id}`;
    return el.dataset && el.dataset.action ? `${tag}[data-action=${el.dataset.action}]` : tag;
  });
}

function row(page) {
  return page.locator(`tr[data-rollout="${ROLLOUT.namespace}/${ROLLOUT.name}"]`);
}

async function rowState(page) {
  return page.evaluate((key) => {
    const tr = document.querySelector(`tr[data-rollout="${key}"]`);
    if (!tr) return null;
    const text = (sel) => tr.querySelector(sel).textContent.trim();
    return { step: text('.step'), weight: text('.set-weight'), actual: text('.actual-weight'), phase: tr.dataset.phase,
      images: text('td[data-label="Images"]') };
  }, `${ROLLOUT.namespace}/${ROLLOUT.name}`);
}

async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

// The list page, kept open by a viewer for the whole test: every state of the demo row the page
// draws is recorded in the page (a MutationObserver), so the test can tell later that the
// canary's step and weight changed on the open page, whenever they did.
async function watchList(browser, info) {
  const page = await newPage(browser, 'viewer-list');
  await signIn(page, info, 'viewer');
  await page.locator('table.rollouts').waitFor();
  await page.evaluate((key) => {
    window.__states = [];
    window.__notReloaded = true;
    const record = () => {
      const tr = document.querySelector(`tr[data-rollout="${key}"]`);
      if (!tr) return;
      const text = (sel) => tr.querySelector(sel).textContent.trim();
      const state = [text('.step'), text('.set-weight'), text('.actual-weight'), tr.dataset.phase,
        text('td[data-label="Images"]')].join(' | ');
      if (window.__states.at(-1) !== state) window.__states.push(state);
    };
    record();
    new MutationObserver(record).observe(document.querySelector('table.rollouts tbody'),
      { childList: true, subtree: true, characterData: true });
  }, `${ROLLOUT.namespace}/${ROLLOUT.name}`);
  return page;
}

// The canary seen advancing on the open list page: two or more states of v2 with different
// steps or weights, and no reload.
async function listSawCanaryAdvance(page) {
  const v2 = await until('the open list page to show the v2 canary in two different steps', async () => {
    const states = (await page.evaluate(() => window.__states)).filter((x) => x.includes(':v2 ('));
    const steps = new Set(states.map((x) => x.split(' | ').slice(0, 2).join(' | ')));
    return steps.size >= 2 ? states : null;
  }, { timeoutMs: 60000 });
  check(await page.evaluate(() => window.__notReloaded === true), 'list: the page was not reloaded');
  check(true, `list: the canary advanced live on the open page: ${v2.map((x) => x.split(' | ').slice(0, 3).join(' ')).join(' → ')}`);
  check(v2.some((x) => /\| \d+% \|/.test(x) && !x.includes(' | 0% |')), 'list: a non-zero actual weight was shown');
  await shot(page, 'list-live');
}

// 1. The list, as a viewer: filters, keyboard, 400 px.
async function listAsViewer(browser, info) {
  const page = await newPage(browser, 'viewer');
  await signIn(page, info, 'viewer');
  await page.locator('table.rollouts').waitFor();
  await until('the demo rollout on the list page', async () => (await rowState(page)) !== null, { timeoutMs: 120000 });
  const first = await rowState(page);
  log(`list: demo at step ${first.step}, set weight ${first.weight}, actual ${first.actual}, ${first.phase}, ${first.images}`);
  check((await row(page).locator('.badge .icon').count()) === 1, 'list: the phase has an icon');

  // Filters: a phase the demo is not in hides it; all phases shows it; namespaces include
  // "default" next to "All namespaces".
  await page.selectOption('#filter-phase', 'Degraded');
  await until('the Degraded filter to hide the progressing demo', async () => (await row(page).count()) === 0 ||
    (await row(page).getAttribute('data-phase')) === 'Degraded');
  await page.selectOption('#filter-phase', '');
  await row(page).waitFor();
  const namespaces = await page.locator('#filter-namespace option').allTextContents();
  check(namespaces[0] === 'All namespaces' && namespaces.includes('default'),
    `list: namespace filter offers all namespaces and default (${namespaces.join(', ')})`);
  await page.selectOption('#filter-namespace', 'default');
  await row(page).waitFor();
  check(page.url().includes('namespace=default'), 'list: the filter is kept in the URL');
  await page.selectOption('#filter-namespace', '');
  await shot(page, 'list-1280');

  // Keyboard: from the page heading, Tab reaches the filters, then the rollout's link; Enter
  // opens the rollout page with the focus on its heading.
  await page.locator('h1').focus();
  await page.keyboard.press('Tab');
  check((await activeDescription(page)) === 'select#filter-namespace', 'keyboard: Tab from the heading reaches the namespace filter');
  await page.keyboard.press('Tab');
  check((await activeDescription(page)) === 'select#filter-phase', 'keyboard: then the phase filter');
  await page.keyboard.press('Tab');
  const link = await page.evaluate(() => document.activeElement.getAttribute('href'));
  check(link === `#/rollouts/${ROLLOUT.namespace}/${ROLLOUT.name}`, `keyboard: then the rollout link (${link})`);

  // 400 px wide: no horizontal scrolling, the rollout card still readable.
  await page.setViewportSize({ width: 400, height: 800 });
  await row(page).waitFor();
  check(await noHorizontalScroll(page), 'list at 400 px: no horizontal scrolling');
  check(await row(page).locator('.set-weight').isVisible(), 'list at 400 px: the weights are visible');
  await shot(page, 'list-400');
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.locator(`a[href="#/rollouts/${ROLLOUT.namespace}/${ROLLOUT.name}"]`).focus();
  await page.keyboard.press('Enter');
  await page.locator('section.actions').waitFor();
  check(await page.evaluate(() => document.activeElement.tagName === 'H1'), 'keyboard: Enter on the link opens the rollout page, focus on its heading');
  return page;
}

// 2. The viewer's rollout page: every action disabled, saying why.
async function viewerActions(page) {
  const buttons = page.locator('section.actions button[data-action]');
  const n = await buttons.count();
  check(n === 9, `viewer: the nine actions are shown (${n})`);
  let disabled = 0;
  for (let i = 0; i < n; i++) if (await buttons.nth(i).isDisabled()) disabled++;
  check(disabled === n, `viewer: every action is disabled (${disabled}/${n})`);
  const reason = await page.locator('#actions-reason').textContent();
  check(/need the operator role/.test(reason) && /viewer/.test(reason), `viewer: the reason is shown ("${reason}")`);
  check((await buttons.first().getAttribute('aria-describedby')) === 'actions-reason', 'viewer: the buttons point to the reason');
  // The audit log needs the auditor role: the viewer's page does not ask for it at all.
  check((await page.locator('details.audit-record').count()) === 0 &&
    !/Cannot read the audit log/.test(await page.locator('#events').textContent()),
    'viewer: no audit records, and no refused request for them');
}

// --- Applications (docs/gitops.md) -------------------------------------------------------------

// A bare Git repository (file://) with an AnalysisTemplate under apps/, made with the git CLI,
// and an Application reading it applied through the API: the GitOps agent of the demo's ramp
// serve syncs it (no replicas, so the demo's measurements are untouched).
function git(dir, ...args) {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=tester', '-c', 'user.email=tester@example.com', ...args],
    { encoding: 'utf8' }).trim();
}

function commitTemplate(work, count, message) {
  fs.mkdirSync(path.join(work, 'apps'), { recursive: true });
  fs.writeFileSync(path.join(work, 'apps', 'check.yaml'),
    'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: gitops-check}\nspec:\n' +
    `  metrics:\n  - name: up\n    failureLimit: ${count}\n    successCondition: result[0] >= 1\n` +
    '    provider: {prometheus: {address: "http://127.0.0.1:9", query: up}}\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', message);
  git(work, 'push', '-q', 'origin', 'main');
  return git(work, 'rev-parse', 'HEAD');
}

async function apiSend(info, token, method, p, body, type = 'application/json') {
  const res = await fetch(info.url + p, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function makeApplication(info) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ramp-dashboard-git-'));
  const bare = path.join(root, 'deploy.git');
  const work = path.join(root, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git(work, 'remote', 'add', 'origin', bare);
  const first = commitTemplate(work, 1, 'first');
  const yaml = 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: checks, namespace: argocd}\n' +
    `spec:\n  source: {repoURL: "file://${bare}", path: apps, targetRevision: main}\n` +
    '  destination: {namespace: gitops-e2e}\n  syncPolicy: {automated: {}}\n';
  const applied = await apiSend(info, info.tokens.admin, 'POST', '/api/v1/apply', yaml, 'application/yaml');
  check(applied.status === 201, `applications: the Application is applied (${applied.status})`, JSON.stringify(applied.body));
  return { root, bare, work, first };
}

async function application(info) {
  const r = await apiGet(info, info.tokens.admin, '/api/v1/namespaces/argocd/applications/checks');
  return r.status === 200 ? r.body : null;
}

// The list and the page as a viewer (badges, the diff naming the drifted field, the history,
// every action disabled with the reason), then an operator's Refresh and Rollback through the
// dialog: the rollback's revert commit is on the repository's branch, authored by the operator,
// and the page's history shows it with the operator's name.
async function applications(browser, info) {
  const repo = await makeApplication(info);
  await until('the Application synced and healthy', async () => {
    const a = await application(info);
    return a && a.status && a.status.sync && a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy';
  }, { timeoutMs: 60000 });
  const page = await newPage(browser, 'viewer-apps');
  await signIn(page, info, 'viewer');
  await page.locator('nav a[href="#/applications"]').click();
  const appRow = page.locator('tr[data-application="argocd/checks"]');
  await appRow.waitFor();
  check((await appRow.getAttribute('data-sync')) === 'Synced' && (await appRow.getAttribute('data-health')) === 'Healthy',
    'applications: the list shows checks Synced and Healthy');
  check((await appRow.locator('.sync-badge .icon').textContent()) === '✔', 'applications: the sync badge has its icon');
  check((await appRow.locator('code.commit').textContent()) === repo.first.slice(0, 7),
    'applications: the list shows the synced commit');
  await shot(page, 'applications');

  // A drift: the stored template changed behind Git's back (no selfHeal): OutOfSync, and the
  // page names the field.
  const drifted = 'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: gitops-check\n' +
    '  namespace: gitops-e2e\n  annotations: {argocd.argoproj.io/tracking-id: "checks:argoproj.io/AnalysisTemplate:gitops-e2e/gitops-check"}\n' +
    'spec:\n  metrics:\n  - name: up\n    failureLimit: 7\n    successCondition: result[0] >= 1\n' +
    '    provider: {prometheus: {address: "http://127.0.0.1:9", query: up}}\n';
  const put = await apiSend(info, info.tokens.admin, 'POST', '/api/v1/apply', drifted, 'application/yaml');
  check(put.status === 200, `applications: the drift is applied (${put.status})`, JSON.stringify(put.body));
  await appRow.locator('a').click();
  await page.locator('#app-diff table').waitFor();
  const diffRow = page.locator('#app-diff tr[data-object="AnalysisTemplate/gitops-e2e/gitops-check"]');
  await until('the page to show the drift', async () => (await diffRow.getAttribute('data-sync')) === 'OutOfSync');
  const difference = await diffRow.locator('.difference').textContent();
  check(/spec\.metrics.*failureLimit: 1 in Git, 7 live/.test(difference), `applications: the diff names the field ("${difference}")`);
  check((await page.locator('.app-head .sync-badge').getAttribute('data-sync')) === 'OutOfSync',
    'applications: the head shows OutOfSync');
  const history = page.locator('#app-history tbody tr');
  check((await history.count()) === 1 && (await history.first().locator('.who').textContent()) === 'auto-sync',
    'applications: the history shows the first sync by auto-sync');
  const buttons = page.locator('section.actions button[data-action]');
  let disabled = 0;
  for (let i = 0; i < (await buttons.count()); i++) if (await buttons.nth(i).isDisabled()) disabled++;
  check((await buttons.count()) === 3 && disabled === 3, `applications: the viewer's three actions are disabled (${disabled})`);
  check(/operator role/.test(await page.locator('#app-actions-reason').textContent()), 'applications: the viewer is told why');
  await shot(page, 'application-viewer');

  // An operator: a new commit, Refresh (the agent syncs it), then Rollback to history 1.
  const op = await newPage(browser, 'operator-apps');
  await signIn(op, info, 'operator');
  const who = (await apiGet(info, info.tokens.operator, '/api/v1/whoami')).body.name;
  await op.evaluate(() => { location.hash = '#/applications/argocd/checks'; });
  await op.locator('#app-history table').waitFor();
  const second = commitTemplate(repo.work, 2, 'second');  // failureLimit 2
  const dialog = op.locator('dialog.confirm');
  await op.locator('button[data-action="refresh"]').click();
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('button[type="submit"]').click();
  await dialog.waitFor({ state: 'hidden' });
  await until('the second commit in the page\'s history', async () =>
    (await op.locator('#app-history tbody tr').first().locator('code').textContent()) === second.slice(0, 7));
  const rollback = op.locator('button[data-action="rollback"]');
  await until('Rollback to be enabled', async () => !(await rollback.isDisabled()));
  await rollback.click();
  await dialog.waitFor({ state: 'visible' });
  await op.selectOption('#rollback-id', '1');
  await op.fill('#rollback-reason', 'failureLimit 2 is too lax');
  await dialog.locator('button[type="submit"]').click();
  await dialog.waitFor({ state: 'hidden' });
  check(/Rollback: /.test(await op.locator('#app-action-result').textContent()), 'applications: the rollback is requested');
  const head = await until('the revert commit on the branch', () => {
    const h = execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%H %an %P'], { encoding: 'utf8' }).trim();
    return h.endsWith(second) ? h : null;
  });
  const [revert, author] = head.split(' ');
  check(author === who, `applications: the revert commit is authored by the operator (${head})`);
  await until('the revert in the page\'s history, by the operator', async () => {
    const top = op.locator('#app-history tbody tr').first();
    return (await top.locator('code').textContent()) === revert.slice(0, 7) && (await top.locator('.who').textContent()) === who;
  });
  check(true, `applications: the history shows ${revert.slice(0, 7)} by ${who}`);
  await shot(op, 'application-rolled-back');
  await page.context().close();
  await op.context().close();
  fs.rmSync(repo.root, { recursive: true, force: true });
}

// Cuts every TCP connection to the API (`ss -K`, root only): the open pages' watch streams drop
// as they would when a proxy or the network fails. Returns false when this machine does not let
// us (not root, or a kernel without socket destroy), and says so.
function dropConnections(info) {
  if (process.getuid && process.getuid() !== 0) return false;
  const port = new URL(info.url).port;
  try {
    execFileSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${port}`], { stdio: 'pipe' });
  } catch (err) {
    if (err.code === 'ENOENT') return false; // no ss
    // Otherwise ss exits non-zero when some socket could not be destroyed; the caller's wait
    // for the reconnect tells whether the streams dropped.
  }
  return true;
}

// A dropped watch stream: the page reconnects with Last-Event-ID (the server replays what it
// missed), says so while it does, and is live again; no event is shown twice.
async function resumesAfterDrop(page, info) {
  const resumed = [];
  const onRequest = (req) => {
    if (req.url().includes('/api/v1/watch')) resumed.push(req.headers()['last-event-id'] || '');
  };
  page.on('request', onRequest);
  await page.locator('.watch-state[data-state="live"]').waitFor();
  if (!dropConnections(info)) {
    log('skipped: cannot cut TCP connections here (ss -K needs root); the resume is unit-tested');
    page.off('request', onRequest);
    return;
  }
  await until('the page to reconnect its watch with Last-Event-ID', async () => resumed.some((id) => /^\d+\.\d+$/.test(id)),
    { timeoutMs: 20000 });
  await page.locator('.watch-state[data-state="live"]').waitFor({ timeout: 20000 });
  page.off('request', onRequest);
  check(true, `watch: after the connection was cut the page resumed with Last-Event-ID ${resumed.find((id) => id)} and is live again`);
}

async function noDuplicateEvents(page) {
  const ids = await page.locator('ol.timeline li[data-event-id]').evaluateAll((els) => els.map((e) => e.dataset.eventId));
  check(ids.length > 0 && new Set(ids).size === ids.length, `timeline: ${ids.length} events, none twice`);
}

// The highlighted step and the phase, read in one go (the page may redraw between two reads).
async function currentStep(page) {
  return page.evaluate(() => {
    const li = document.querySelector('ol.steps li[aria-current="step"]');
    const badge = document.querySelector('#rollout-phase .badge');
    if (!li) return null;
    return { index: Number(li.dataset.stepIndex), text: li.querySelector('.step-text').textContent.trim(),
      phase: badge ? badge.dataset.phase : '' };
  });
}

// The operator (the audit log is for auditors and above) sees each decision's signed audit record
// beside its event: the very record the API serves for that event id.
async function auditRecordsShown(page, info) {
  const q = `kind=Rollout&namespace=${ROLLOUT.namespace}&name=${ROLLOUT.name}`;
  const api = await apiGet(info, info.tokens.admin, `/api/v1/audit/records?${q}`);
  check(api.status === 200 && api.body.items.length > 0, `audit: the API serves the rollout's records (HTTP ${api.status})`);
  const byEvent = new Map((api.body.items || []).map((r) => [String(r.eventId), String(r.index)]));
  const shown = await until('signed audit records beside the events', async () => {
    const rows = await page.locator('ol.timeline li.event').evaluateAll((lis) => lis.map((li) => {
      const d = li.querySelector('details.audit-record');
      return { eventId: li.dataset.eventId, index: d ? d.dataset.auditIndex : null, title: d ? d.querySelector('summary').textContent : '' };
    }));
    const known = rows.filter((r) => r.index !== null && byEvent.has(r.eventId));
    return known.length >= 3 ? known : null;
  });
  check(shown.every((r) => byEvent.get(r.eventId) === r.index),
    `audit: ${shown.length} events show the record the API has for them`);
  check(shown.every((r) => /^Signed audit record #\d+$/.test(r.title)), `audit: signed ("${shown[0].title}")`);
}

// 3. The operator: refused after a downgrade, then promotes.
async function operatorPromotes(browser, info) {
  const page = await newPage(browser, 'operator');
  await signIn(page, info, 'operator');
  await page.evaluate((r) => { location.hash = `#/rollouts/${r.namespace}/${r.name}`; }, ROLLOUT);
  await page.locator('section.actions').waitFor();
  await resumesAfterDrop(page, info);
  const pause = await until('the v2 pause step on the rollout page', async () => {
    const s = await currentStep(page);
    return s && s.text === 'Pause until promoted' && s.phase === 'Paused' ? s : null;
  }, { timeoutMs: 150000 });
  check(true, `operator: the page shows the pause at step ${pause.index + 1}, highlighted as the current step`);
  check(await page.locator('#summary-step').isVisible(), 'operator: summary shows the step');
  await page.locator('table.revisions tbody tr').first().waitFor();
  check((await page.locator('table.revisions tbody tr').count()) >= 2, 'operator: revisions listed (stable and canary)');
  check((await page.locator('details.run svg.chart').count()) >= 1, 'operator: analysis charts shown');
  await auditRecordsShown(page, info);
  await shot(page, 'rollout-paused');
  await replicaRowsShown(page);
  await firstScreenShowsCurrentState(page);

  // Keyboard on the dialog: Enter on Promote opens it with the focus inside; Escape cancels and
  // gives the focus back to Promote.
  const promote = page.locator('button[data-action="promote"]');
  check(!(await promote.isDisabled()), 'operator: Promote is enabled');
  // What the state does not allow is disabled, saying why (the server's own preconditions).
  const retry = page.locator('button[data-action="retry"]');
  const resume = page.locator('button[data-action="resume"]');
  check(await retry.isDisabled() && /not aborted/.test(await retry.getAttribute('title')),
    'operator at a pause: Retry is disabled, saying the update is not aborted');
  check(await resume.isDisabled() && /use Promote/.test(await resume.getAttribute('title')),
    'operator at a pause step: Resume is disabled, saying to promote');
  await promote.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('dialog.confirm');
  await dialog.waitFor({ state: 'visible' });
  check(await page.evaluate(() => document.querySelector('dialog.confirm').contains(document.activeElement)),
    'keyboard: the confirm dialog takes the focus');
  check((await dialog.getAttribute('aria-labelledby')) === 'confirm-title', 'the dialog is labelled by its title');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  check((await activeDescription(page)) === 'button[data-action=promote]', 'keyboard: Escape closes the dialog, focus back on Promote');
  check((await currentStep(page)).index === pause.index, 'cancel sent nothing: still at the pause');

  // Downgrade the operator's token while the page is open: the page still offers Promote, the
  // API refuses it with 403 and says why; nothing changes.
  await setRole(info, info.tokens.operator, 'viewer');
  log('tokens file: operator downgraded to viewer; the server says so');
  await promote.focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'visible' });
  await page.keyboard.press('Tab'); // Cancel → the Promote (confirm) button
  check((await page.evaluate(() => document.activeElement.textContent)) === 'Promote', 'keyboard: Tab reaches the confirm button');
  await page.keyboard.press('Enter');
  const error = page.locator('dialog.confirm .dialog-error');
  await error.waitFor({ state: 'visible' });
  const refusal = await error.textContent();
  check(/403/.test(refusal) && /promote needs role operator/.test(refusal) && /has role viewer/.test(refusal),
    `downgraded operator: the API's 403 message is shown ("${refusal}")`);
  await shot(page, 'rollout-403');
  const after = await rollout(info);
  check(after.status.phase === 'Paused' && after.status.currentStepIndex === pause.index,
    'downgraded operator: the rollout is still paused at the same step');
  await page.locator('dialog.confirm button', { hasText: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await until('the page to take the new role', async () => promote.isDisabled(), { timeoutMs: 10000 });
  check((await page.locator('#who-role').textContent()) === 'viewer', 'after the 403 the page shows the role the server now gives');

  // Restore the role; a reload keeps the session (sessionStorage); Promote is confirmed.
  await setRole(info, info.tokens.operator, 'operator');
  await page.reload();
  await page.locator('section.actions').waitFor();
  check((await page.locator('#who-role').textContent()) === 'operator', 'reload keeps the session, role operator again');
  await until('Promote to be enabled again', async () => !(await promote.isDisabled()), { timeoutMs: 10000 });
  await promote.click();
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('button[type="submit"]').click();
  await dialog.waitFor({ state: 'hidden' });
  const result = await page.locator('#action-result').textContent();
  check(/^Promote: /.test(result), `promote accepted: "${result}"`);
  const moved = await until('the rollout to move on past the pause', async () => {
    const s = await currentStep(page);
    return s && s.index > pause.index ? s : null;
  }, { timeoutMs: 30000 });
  check(true, `promoted: the page shows step ${moved.index + 1} (${moved.text})`);
  const events = await page.locator('ol.timeline li[data-reason="RolloutPromoted"]').count();
  check(events >= 1, 'the timeline shows the RolloutPromoted event');
  await noDuplicateEvents(page);

  // 400 px: the rollout page too.
  const narrow = await newPage(browser, 'narrow', { width: 400, height: 800 });
  await signIn(narrow, info, 'operator');
  await narrow.evaluate((r) => { location.hash = `#/rollouts/${r.namespace}/${r.name}`; }, ROLLOUT);
  await narrow.locator('ol.steps li').first().waitFor();
  await narrow.locator('details.run svg.chart').first().waitFor();
  check(await noHorizontalScroll(narrow), 'rollout page at 400 px: no horizontal scrolling');
  check(await narrow.locator('button[data-action="promote"]').isVisible(), 'rollout page at 400 px: actions visible');
  await shot(narrow, 'rollout-400');
  await shot(narrow, 'rollout-400-full', true);
  await narrow.context().close();
  return page;
}

// The platform's replicas under their revisions: the canary's and the stable's, each with its
// state, ready, restarts and last exit (GET …/replicas, as `ramp get rollout` shows them).
async function replicaRowsShown(page) {
  const rows = page.locator('table.replicas tbody tr[data-replica]');
  await rows.first().waitFor({ timeout: 15000 });
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => ({
    name: tr.dataset.replica,
    state: tr.dataset.state,
    of: tr.closest('tr.replica-row').dataset.replicasOf,
    ready: tr.querySelector('.replica-ready').textContent.trim(),
    restarts: tr.querySelector('.replica-restarts').textContent.trim(),
    lastExit: tr.querySelector('.replica-last-exit').textContent.trim(),
  })));
  log(`replicas: ${shown.map((r) => `${r.name} ${r.state} ${r.ready} restarts ${r.restarts} last exit ${r.lastExit}`).join('; ')}`);
  check(new Set(shown.map((r) => r.of)).size >= 2, `replicas: rows under the stable and the canary revision (${shown.length} rows)`);
  check(shown.every((r) => r.name.includes(r.of)), 'replicas: each row is under its own revision');
  check(shown.some((r) => r.state === 'Running' && r.ready === '1/1'), 'replicas: running replicas are shown ready 1/1');
  check(shown.every((r) => /^\d+$/.test(r.restarts) && r.lastExit !== ''), 'replicas: every row shows restarts and last exit');
  check(await rows.first().isVisible(), 'replicas: the rows are visible');
}

// At 1280×800, without scrolling: the head (phase, step, weights), the steps with the current
// one, the actual weight, the newest AnalysisRun and the events beside the steps; no hash or
// replica name is broken across lines.
async function firstScreenShowsCurrentState(page) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const boxes = await page.evaluate(() => {
    const box = (sel) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right) };
    };
    return {
      height: window.innerHeight,
      phase: box('#rollout-phase'),
      current: box('ol.steps li[aria-current="step"]'),
      lastStep: box('ol.steps li:last-child'),
      actual: box('#summary-actual-weight'),
      newestRun: box('details.run > summary'),
      newestMetric: box('details.run .metric h3'),
      events: box('section#events'),
      steps: box('section#steps'),
      wrapped: [...document.querySelectorAll('.hash, .run-name, .ellipsis')]
        .filter((el) => el.getClientRects().length > 1).map((el) => el.textContent),
    };
  });
  const inView = (b) => !!b && b.top >= 0 && b.bottom <= boxes.height;
  const shotFile = await shot(page, 'rollout-1280x800');
  for (const [what, b] of [['the phase', boxes.phase], ['the current step', boxes.current], ['every step', boxes.lastStep],
    ['the actual weight', boxes.actual], ['the newest AnalysisRun', boxes.newestRun], ['its first metric', boxes.newestMetric]]) {
    check(inView(b), `1280×800: ${what} is on the first screen without scrolling`, JSON.stringify(b));
  }
  check(!!boxes.events && !!boxes.steps && boxes.events.left > boxes.steps.right && boxes.events.top < boxes.steps.bottom,
    '1280×800: the events are beside the steps', JSON.stringify({ events: boxes.events, steps: boxes.steps }));
  check(boxes.wrapped.length === 0, `1280×800: no hash or name is wrapped mid-word (${boxes.wrapped.join(', ')})`);
  log(`first screen: ${shotFile}`);
}

// Older AnalysisRuns are collapsed: the newest is open, a failed one stays open, the rest closed.
async function olderRunsCollapsed(page) {
  const runs = await page.locator('details.run').evaluateAll((ds) => ds.map((d) => ({ name: d.dataset.run, phase: d.dataset.phase, open: d.open })));
  log(`runs: ${runs.map((r) => `${r.name} ${r.phase} ${r.open ? 'open' : 'closed'}`).join('; ')}`);
  check(runs.length >= 2 && runs[0].open, `runs: the newest (${runs[0] && runs[0].name}) is open`);
  const older = runs.slice(1);
  check(older.every((r) => r.open === (r.phase === 'Failed' || r.phase === 'Error')),
    'runs: older runs are collapsed unless they failed');
}

// 4. v3: aborted after the failed analysis, with the evidence. What the page shows is read now;
// it is compared with what the daemon stored (storeWitness) once ramp-demo has exited, because
// the demo stops its stack within a second of v3's abort.
async function abortWithEvidence(page) {
  await until('v3 to be aborted (Degraded) on the rollout page', async () => {
    const phase = await page.locator('#rollout-phase .badge').getAttribute('data-phase').catch(() => null);
    const images = await page.locator('#summary ul.images').textContent().catch(() => '');
    return phase === 'Degraded' && images.includes(':v3');
  }, { timeoutMs: 150000 });
  check(true, 'v3: the page shows the rollout Degraded (aborted)');
  const aborted = page.locator('ol.timeline li[data-reason="RolloutAborted"]').first();
  await aborted.waitFor();
  await shot(page, 'rollout-aborted');
  await olderRunsCollapsed(page);
  // The README's picture (docs/img/dashboard-rollout.png is a copy of one of these).
  const readme = path.join(ARTIFACTS, 'dashboard-rollout.png');
  await page.screenshot({ path: readme, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1000 } });
  log(`screenshot ${readme}`);
  const shown = await page.evaluate(() => {
    const runs = [...document.querySelectorAll('details.run')].map((run) => ({
      name: run.dataset.run,
      phase: run.dataset.phase,
      metrics: [...run.querySelectorAll('.metric')].map((m) => ({
        name: m.dataset.metric,
        failedValue: (m.querySelector('.failed-value') || { textContent: '' }).textContent.trim(),
        charts: m.querySelectorAll('svg.chart').length,
        failedPoints: m.querySelectorAll('svg.chart circle.phase-Failed, svg.chart circle.phase-Error').length,
        thresholds: m.querySelectorAll('svg.chart line.threshold').length,
      })),
    }));
    const ev = document.querySelector('ol.timeline li[data-reason="RolloutAborted"] .evidence-summary');
    return { runs, summary: ev ? ev.textContent.trim() : '' };
  });
  check(/measured/.test(shown.summary) && /(needs|fails when)/.test(shown.summary),
    `v3: the abort event shows its evidence, value and condition ("${shown.summary}")`);
  await shot(page, 'rollout-aborted-full', true);
  return shown;
}

// The daemon's own record of the abort, read from its SQLite store (read-only) after ramp-demo
// has exited: the RolloutAborted event's evidence and the AnalysisRun it names. An independent
// witness for what the page showed.
function storeWitness(dataDir) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
ev = db.execute("select evidence from events where kind='Rollout' and namespace=? and name=? and reason='RolloutAborted' order by id desc limit 1", (sys.argv[2], sys.argv[3])).fetchone()
out = {'evidence': json.loads(ev[0]) if ev else None, 'run': None}
if ev:
    name = out['evidence'].get('analysisRun', '')
    run = db.execute("select json from objects where kind='AnalysisRun' and namespace=? and name=?", (sys.argv[2], name)).fetchone()
    out['run'] = json.loads(run[0]) if run else None
print(json.dumps(out))
`;
  const text = execFileSync('python3', ['-c', script, path.join(dataDir, 'ramp', 'ramp.db'), ROLLOUT.namespace, ROLLOUT.name]);
  return JSON.parse(text);
}

function compareWithStore(shown, witness) {
  const ev = witness.evidence;
  if (!check(!!ev && ev.measuredValue !== undefined, 'v3: the daemon recorded the abort with the measured value as evidence',
    JSON.stringify(witness))) return;
  log(`store: RolloutAborted evidence: run ${ev.analysisRun}, metric ${ev.metric} (${ev.metricPhase}), measured ${ev.measuredValue}`);
  check(shown.summary.includes(`${ev.metric} measured ${ev.measuredValue}`),
    `v3: the page's evidence is the daemon's: ${ev.metric} measured ${ev.measuredValue}`);
  const run = witness.run;
  if (!check(!!run, `v3: the store has the AnalysisRun ${ev.analysisRun}`)) return;
  const result = run.status.metricResults.find((m) => m.name === ev.metric);
  const bad = result.measurements.filter((m) => m.phase === 'Failed' || m.phase === 'Error').at(-1);
  check(!!bad && bad.value === ev.measuredValue, `v3: the evidence is the run's failed measurement (${bad && bad.value})`);
  const pageRun = shown.runs.find((r) => r.name === ev.analysisRun);
  if (!check(!!pageRun, `v3: the page shows the AnalysisRun ${ev.analysisRun}`)) return;
  check(pageRun.phase === run.status.phase && /Failed|Error/.test(run.status.phase),
    `v3: the AnalysisRun is shown ${run.status.phase} (${pageRun.phase})`);
  const m = pageRun.metrics.find((x) => x.name === ev.metric);
  check(!!m && m.failedValue.startsWith(ev.measuredValue),
    `v3: the metric shows the failed measurement ${ev.measuredValue} ("${m && m.failedValue}")`);
  check(!!m && m.charts === 1, 'v3: the metric has its chart');
  check(!!m && m.failedPoints >= 1, 'v3: the chart marks the failed measurement');
  check(!!m && m.thresholds >= 1, 'v3: the chart draws the threshold');
}

async function main() {
  if (!DEMO) throw new Error('usage: dashboard_e2e.mjs --demo PATH/ramp-demo --artifacts DIR');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  consoleLog = fs.createWriteStream(path.join(ARTIFACTS, 'console.log'));
  const demo = new DemoRun();
  let browser;
  try {
    const info = await demo.dashboard();
    log(`dashboard at ${info.url}`);
    // launch() gives Chromium a fresh temporary profile (user-data-dir) and removes it at close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const list = await watchList(browser, info);
    const viewer = await listAsViewer(browser, info);
    await viewerActions(viewer);
    await shot(viewer, 'rollout-viewer');
    await applications(browser, info);
    const operator = await operatorPromotes(browser, info);
    await listSawCanaryAdvance(list);
    const shown = await abortWithEvidence(operator);
    await browser.close();
    browser = null;
    const exit = await Promise.race([demo.exited,
      new Promise((r) => setTimeout(() => r(null), 90000))]);
    check(exit && exit.code === 0, `ramp-demo exited 0 (v1 Deployed, v2 Promoted, v3 Aborted): ${JSON.stringify(exit)}`);
    compareWithStore(shown, storeWitness(demo.data));
  } catch (err) {
    failed++;
    failures.push(err.message.split('\n')[0]);
    log(`FAILED: ${err.stack || err.message}`);
    if (browser) {
      for (const ctx of browser.contexts()) {
        for (const p of ctx.pages()) {
          const name = `failure-${Date.now()}`;
          await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true }).catch(() => {});
          fs.writeFileSync(path.join(ARTIFACTS, `${name}.html`), await p.content().catch(() => ''));
        }
      }
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    demo.stop();
    await Promise.race([demo.exited, new Promise((r) => setTimeout(r, 20000))]);
    if (failed === 0) fs.rmSync(demo.data, { recursive: true, force: true });
    else log(`kept the demo's data directory ${demo.data}; ramp-demo's output is in ${demo.logPath}`);
  }
  check(pageErrors.length === 0, 'no script errors in the pages', pageErrors.join('; '));
  for (const f of failures) log(`failed: ${f}`);
  log(`${passed} passed, ${failed} failed`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
