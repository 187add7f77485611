// Exec approvals: exec.approval.requested prompts, live on every tab (a
// toast) and in the Approvals tab, answered with exec.approval.resolve;
// the policy file through exec.approvals.get/set.

import { h, fill, fmtAgo, errorText } from '../dom.js';

// ApprovalQueue holds the pending requests and draws their prompts into
// every container registered with attach().
export class ApprovalQueue {
  constructor(app) {
    this.app = app;
    this.items = new Map();
    this.containers = new Set();
    this.timer = 0;
    const gw = app.gw;
    gw.on('exec.approval.requested', (p) => {
      if (!p || !p.id) return;
      this.items.set(p.id, p);
      this.render();
    });
    gw.on('exec.approval.resolved', (p) => {
      if (!p || !p.id) return;
      this.items.delete(p.id);
      this.render();
    });
    gw.on('hello', () => {
      this.items.clear();
      this.render();
    });
    this.attach(document.getElementById('approvals-toast'));
  }

  attach(el) {
    if (!el) return;
    this.containers.add(el);
    this.render();
  }

  async resolve(id, decision) {
    try {
      await this.app.gw.request('exec.approval.resolve', { id, decision });
      this.items.delete(id);
    } catch (e) {
      const item = this.items.get(id);
      if (item) item.error = errorText(e);
    }
    this.render();
  }

  prompt(p) {
    const r = p.request || {};
    const btn = (decision, label, cls) => {
      const b = h('button', { type: 'button', testid: `approval-${decision}`, class: cls }, label);
      b.addEventListener('click', () => this.resolve(p.id, decision));
      return b;
    };
    return h('div', { class: 'approval', testid: 'approval-prompt', 'data-id': p.id },
      h('div', { class: 'approval-title' }, 'Run this command?'),
      h('pre', { class: 'mono approval-cmd' }, r.command || ''),
      h('div', { class: 'muted small' }, [r.cwd && `in ${r.cwd}`, r.agentId && `agent ${r.agentId}`, r.host && `host ${r.host}`,
        r.sessionKey && `session ${r.sessionKey}`, p.expiresAtMs && `expires ${fmtAgo(p.expiresAtMs)}`].filter(Boolean).join(' · ')),
      p.error ? h('div', { class: 'error small' }, p.error) : null,
      h('div', { class: 'row' }, btn('allow-once', 'Allow once', 'primary'), btn('allow-always', 'Always allow'), btn('deny', 'Deny', 'danger')));
  }

  render() {
    const now = Date.now();
    for (const [id, p] of this.items) if (p.expiresAtMs && p.expiresAtMs < now) this.items.delete(id);
    for (const el of this.containers) {
      const toast = el.id === 'approvals-toast';
      // The Approvals tab shows the prompts itself; no second copy above it.
      const list = toast && document.body.dataset.tab === 'approvals' ? [] : [...this.items.values()].map((p) => this.prompt(p));
      fill(el, list);
      if (toast) el.hidden = list.length === 0;
    }
    clearTimeout(this.timer);
    if (this.items.size) this.timer = setTimeout(() => this.render(), 5000);
  }
}

export const approvalsTab = {
  name: 'approvals',
  title: 'Approvals',
  requires: ['exec.approvals.get'],
  mount(panel, app) {
    const gw = app.gw;
    const pending = h('div', { class: 'approvals-list', testid: 'approvals-pending' });
    const raw = h('textarea', { class: 'mono', testid: 'approvals-raw', rows: 16, spellcheck: 'false', 'aria-label': 'Exec approvals policy (JSON)' });
    const err = h('p', { class: 'error', testid: 'approvals-error' });
    const notice = h('p', { class: 'notice', testid: 'approvals-notice' });
    const save = h('button', { type: 'button', testid: 'approvals-save', class: 'primary' }, 'Save policy');
    const reload = h('button', { type: 'button', testid: 'approvals-reload' }, 'Reload');
    const path = h('span', { class: 'muted small' });
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Exec approvals'), reload),
      h('h3', null, 'Pending'), pending,
      h('h3', null, 'Policy ', path), err, notice, raw, h('div', { class: 'row' }, save));
    app.approvals.attach(pending);
    const none = h('p', { class: 'muted' }, 'No command is waiting for approval.');
    const obs = new MutationObserver(() => {
      if (!pending.firstChild) pending.appendChild(none);
    });
    obs.observe(pending, { childList: true });
    if (!pending.firstChild) pending.appendChild(none);

    let hash = '';
    async function load() {
      if (gw.state !== 'connected') return;
      err.textContent = '';
      try {
        const r = await gw.request('exec.approvals.get', {});
        hash = r.hash || '';
        path.textContent = r.path || '';
        raw.value = `${JSON.stringify(r.file || {}, null, 2)}\n`;
      } catch (e) {
        err.textContent = errorText(e);
      }
    }
    save.addEventListener('click', async () => {
      err.textContent = '';
      notice.textContent = '';
      let file;
      try {
        file = JSON.parse(raw.value);
      } catch (e) {
        err.textContent = `Policy JSON: ${errorText(e)}`;
        return;
      }
      try {
        const params = { file };
        if (hash) params.baseHash = hash;
        await gw.request('exec.approvals.set', params);
        notice.textContent = 'Saved.';
        load();
      } catch (e) {
        err.textContent = errorText(e);
      }
    });
    reload.addEventListener('click', load);
    this.refresh = load;
    this.show = load;
  },
};
