// The Control UI shell: the gateway connection, the access form, the tab
// bar and its client-side routes (/chat, /overview, … under the page's
// <base href>), the restart banner and the live exec-approval prompts.

import { Gateway } from './gateway.js';
import { h, fill } from './dom.js';
import { preloadMarkdown } from './markdown.js';
import { chatTab } from './tabs/chat.js';
import { overviewTab } from './tabs/overview.js';
import { channelsTab } from './tabs/channels.js';
import { instancesTab } from './tabs/instances.js';
import { sessionsTab } from './tabs/sessions.js';
import { nodesTab } from './tabs/nodes.js';
import { logsTab } from './tabs/logs.js';
import { configTab } from './tabs/config.js';
import { cronTab } from './tabs/cron.js';
import { approvalsTab, ApprovalQueue } from './tabs/approvals.js';
import { debugTab } from './tabs/debug.js';

const SESSION_KEY = 'clawdbot.controlui.session';

const baseURL = new URL('.', document.baseURI);
const basePath = baseURL.pathname; // ends with "/"
const wsURL = (baseURL.protocol === 'https:' ? 'wss://' : 'ws://') + baseURL.host + basePath;

const gw = new Gateway(wsURL);

// app is what every tab gets: the client and the shared session choice.
const app = {
  gw,
  sessionKey: '',
  mainSessionKey: 'main',
  defaultAgentId: 'main',
  listeners: new Set(),
  setSession(key) {
    if (!key || key === app.sessionKey) return;
    app.sessionKey = key;
    try {
      localStorage.setItem(SESSION_KEY, key);
    } catch {
      // no storage: the choice lasts for this page
    }
    for (const fn of app.listeners) fn(key);
  },
  onSession(fn) {
    app.listeners.add(fn);
  },
  navigate(name) {
    go(name, true);
  },
};
app.approvals = new ApprovalQueue(app);

try {
  app.sessionKey = localStorage.getItem(SESSION_KEY) || '';
} catch {
  app.sessionKey = '';
}

const tabs = [chatTab, overviewTab, channelsTab, instancesTab, sessionsTab, nodesTab, logsTab, configTab, cronTab, approvalsTab, debugTab];
const byName = new Map(tabs.map((t) => [t.name, t]));
const nav = document.getElementById('tabs');
const panels = document.getElementById('panels');
let current = null;

for (const t of tabs) {
  t.link = h('a', { href: t.name, testid: `tab-${t.name}`, class: 'tab' }, t.title);
  t.link.addEventListener('click', (ev) => {
    if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    go(t.name, true);
    document.body.classList.remove('nav-open');
  });
  t.panel = h('section', { class: `panel panel-${t.name}`, testid: `panel-${t.name}`, hidden: true });
  panels.appendChild(t.panel);
  t.mounted = false;
}

// available: a tab whose backend the gateway does not advertise is not
// shown (before the first hello only ungated tabs are).
function available(t) {
  if (!t.requires) return true;
  return gw.hello ? t.requires.every((m) => gw.hasMethod(m)) : false;
}

function renderNav() {
  fill(nav, tabs.filter(available).map((t) => t.link));
  for (const t of tabs) {
    if (t === current) t.link.setAttribute('aria-current', 'page');
    else t.link.removeAttribute('aria-current');
  }
}

function routeName() {
  let rel = location.pathname.startsWith(basePath) ? location.pathname.slice(basePath.length) : '';
  rel = rel.split('/')[0];
  return byName.has(rel) ? rel : 'chat';
}

function go(name, push) {
  let t = byName.get(name) || chatTab;
  if (!available(t)) t = chatTab;
  if (push) history.pushState(null, '', basePath + t.name + location.search + location.hash);
  if (current === t) return;
  if (current) {
    current.panel.hidden = true;
    if (current.hide) current.hide();
  }
  current = t;
  document.body.dataset.tab = t.name;
  app.approvals.render();
  t.panel.hidden = false;
  if (!t.mounted) {
    t.mounted = true;
    t.mount(t.panel, app);
  }
  renderNav();
  if (t.show) t.show();
  document.title = `${t.title} · Clawdbot Control`;
}

window.addEventListener('popstate', () => go(routeName(), false));

// Access form: token or password entered once, kept in localStorage.
const tokenInput = document.getElementById('token-input');
const passwordInput = document.getElementById('password-input');
const form = document.getElementById('auth-form');
const hint = document.getElementById('auth-hint');

const params = new URLSearchParams(location.search);
if (params.has('token')) {
  gw.setSecrets(params.get('token') || '', gw.password);
  params.delete('token');
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
}
tokenInput.value = gw.token;
passwordInput.value = gw.password;

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  gw.setSecrets(tokenInput.value.trim(), passwordInput.value);
  gw.reconnect();
});

// Connection status, errors and the restart banner.
const statusEl = document.querySelector('[data-testid="connection-status"]');
const errorEl = document.querySelector('[data-testid="connection-error"]');
const banner = document.querySelector('[data-testid="gateway-banner"]');
statusEl.title = 'Gateway access';
statusEl.addEventListener('click', () => document.body.classList.toggle('show-auth'));
const STATE_TEXT = { connected: 'Connected', connecting: 'Connecting…', disconnected: 'Disconnected' };

gw.on('state', (state, err) => {
  statusEl.dataset.state = state;
  statusEl.textContent = STATE_TEXT[state] || state;
  errorEl.textContent = state === 'connected' ? '' : err || '';
  document.body.dataset.connection = state;
  if (state !== 'connected' && !gw.wantOpen && err) hint.textContent = 'Enter the gateway token or password, then Connect.';
  else hint.textContent = '';
});

gw.on('shutdown', (p) => {
  banner.hidden = false;
  banner.textContent = p && p.restartExpectedMs === null ? 'Gateway stopping…' : 'Gateway restarting…';
});

gw.on('hello', (hello) => {
  banner.hidden = true;
  const d = (hello.snapshot && hello.snapshot.sessionDefaults) || {};
  app.mainSessionKey = d.mainSessionKey || 'main';
  app.defaultAgentId = d.defaultAgentId || 'main';
  const aliases = new Set(['main', d.mainKey, `agent:${app.defaultAgentId}:main`, `agent:${app.defaultAgentId}:${d.mainKey}`]);
  if (!app.sessionKey || aliases.has(app.sessionKey)) {
    app.sessionKey = '';
    app.setSession(app.mainSessionKey);
  }
  renderNav();
  // A gated tab in the address bar waits for the first hello.
  const want = routeName();
  if (current && current.name !== want) go(want, false);
  for (const t of tabs) if (t.mounted && t.connected) t.connected(hello);
});

// A gap in the event seq means events were lost (a slow consumer, a
// reconnect): every mounted tab reloads what it shows.
gw.on('gap', () => {
  for (const t of tabs) if (t.mounted && t.refresh) t.refresh();
});

// Phone width: the tab bar is a drawer.
const toggle = document.getElementById('menu-toggle');
toggle.addEventListener('click', () => {
  const open = document.body.classList.toggle('nav-open');
  toggle.setAttribute('aria-expanded', String(open));
});

go(routeName(), false);
// A first visit has nothing to connect with: ask for the token first
// instead of spending a failed login on the gateway, unless the gateway
// says it needs none (auth mode "none", loopback only).
const openAccess = document.querySelector('meta[name="clawdbot-auth"]')?.content === 'none';
if (openAccess || gw.hasCredentials()) gw.start();
else {
  document.body.classList.add('show-auth');
  hint.textContent = 'Enter the gateway token or password, then Connect.';
}
// The Markdown libraries load once the page has painted.
requestAnimationFrame(() => setTimeout(preloadMarkdown, 0));
