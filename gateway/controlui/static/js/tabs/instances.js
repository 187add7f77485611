// Instances: the presence list (hello-ok snapshot, then presence events).
// The gateway broadcasts presence on disconnects and system events but
// not on connects (doc/protocol.md §6), so the open tab also polls
// system-presence every POLL_MS.

import { h, fill, fmtAgo, errorText } from '../dom.js';

const POLL_MS = 2000;

export const instancesTab = {
  name: 'instances',
  title: 'Instances',
  mount(panel, app) {
    const gw = app.gw;
    const list = h('ul', { class: 'presence', testid: 'presence-list' });
    const err = h('p', { class: 'error' });
    const refresh = h('button', { type: 'button', testid: 'presence-refresh' }, 'Refresh');
    fill(panel, h('div', { class: 'panel-head' }, h('h2', null, 'Instances'), refresh), err, list);

    function render(entries) {
      if (!Array.isArray(entries)) return;
      fill(list, entries.map((p) => h('li', {
        class: 'presence-item', testid: 'presence-item',
        'data-instance-id': p.instanceId || '', 'data-mode': p.mode || '', 'data-host': p.host || '', 'data-reason': p.reason || '',
      },
      h('div', { class: 'row' }, h('strong', null, p.host || p.ip || 'unknown'), h('span', { class: 'pill' }, p.mode || '?'),
        p.reason ? h('span', { class: 'muted' }, p.reason) : null),
      h('div', { class: 'muted small' }, [p.platform, p.version, p.ip, p.deviceFamily, p.modelIdentifier].filter(Boolean).join(' · ')),
      p.text ? h('div', { class: 'small' }, p.text) : null,
      h('div', { class: 'muted small' }, `seen ${fmtAgo(p.ts)}`, p.roles && p.roles.length ? ` · roles ${p.roles.join(', ')}` : '',
        p.instanceId ? ` · ${p.instanceId}` : ''))));
      if (!entries.length) fill(list, h('li', { class: 'muted' }, 'No instances.'));
    }

    async function load() {
      if (gw.state !== 'connected') return;
      err.textContent = '';
      try {
        render(await gw.request('system-presence', {}));
      } catch (e) {
        err.textContent = errorText(e);
      }
    }

    gw.on('hello', (hello) => render(hello.snapshot && hello.snapshot.presence));
    gw.on('presence', (p) => render(p && (p.presence || p)));
    refresh.addEventListener('click', load);
    if (gw.hello) render(gw.hello.snapshot && gw.hello.snapshot.presence);
    let timer = 0;
    this.refresh = load;
    this.show = () => {
      load();
      clearInterval(timer);
      timer = setInterval(load, POLL_MS);
    };
    this.hide = () => clearInterval(timer);
  },
};
