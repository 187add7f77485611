// Channels (shown only when the gateway has channels.status): each
// channel's state, WhatsApp QR login (web.login.start, then web.login.wait)
// when the gateway has it, logout.

import { h, fill, kv, errorText } from '../dom.js';

export const channelsTab = {
  name: 'channels',
  title: 'Channels',
  requires: ['channels.status'],
  mount(panel, app) {
    const gw = app.gw;
    const list = h('div', { class: 'cards', testid: 'channels-list' });
    const err = h('p', { class: 'error', testid: 'channels-error' });
    const refresh = h('button', { type: 'button', testid: 'channels-refresh' }, 'Refresh');
    const probe = h('button', { type: 'button', testid: 'channels-probe' }, 'Probe');
    const wa = h('div', { class: 'card', testid: 'whatsapp-card' });
    fill(panel, h('div', { class: 'panel-head' }, h('h2', null, 'Channels'), refresh, probe), err, wa, list);

    const waStatus = h('p', { testid: 'whatsapp-status' });
    const qr = h('img', { testid: 'whatsapp-qr', alt: 'WhatsApp login QR code', class: 'qr', hidden: true });
    const login = h('button', { type: 'button', testid: 'whatsapp-login', class: 'primary' }, 'Link WhatsApp (QR)');
    const relink = h('button', { type: 'button', testid: 'whatsapp-relink' }, 'Re-link');
    const logout = h('button', { type: 'button', testid: 'whatsapp-logout', class: 'danger' }, 'Log out');

    async function startLogin(force) {
      err.textContent = '';
      waStatus.textContent = 'Starting login…';
      try {
        const r = await gw.request('web.login.start', { force, timeoutMs: 30000 }, 40000);
        waStatus.textContent = r.message || '';
        if (r.qrDataUrl && /^data:image\//.test(r.qrDataUrl)) {
          qr.src = r.qrDataUrl;
          qr.hidden = false;
        }
        const w = await gw.request('web.login.wait', { timeoutMs: 120000 }, 130000);
        qr.hidden = true;
        waStatus.textContent = w.message || (w.connected ? 'Linked.' : 'Not linked.');
        load();
      } catch (e) {
        qr.hidden = true;
        waStatus.textContent = '';
        err.textContent = errorText(e);
      }
    }
    login.addEventListener('click', () => startLogin(false));
    relink.addEventListener('click', () => startLogin(true));
    logout.addEventListener('click', async () => {
      if (!window.confirm('Log WhatsApp out? You need to scan a new QR code to link it again.')) return;
      try {
        await gw.request('channels.logout', { channel: 'whatsapp' });
        load();
      } catch (e) {
        err.textContent = errorText(e);
      }
    });

    function renderWA() {
      if (!gw.hasMethod('web.login.start')) {
        wa.hidden = true;
        return;
      }
      wa.hidden = false;
      fill(wa, h('h3', null, 'WhatsApp login'), waStatus, qr, h('div', { class: 'row' }, login, relink,
        gw.hasMethod('channels.logout') ? logout : null));
    }

    async function load(withProbe) {
      if (gw.state !== 'connected') return;
      err.textContent = '';
      renderWA();
      try {
        const r = await gw.request('channels.status', { probe: !!withProbe, timeoutMs: 8000 }, 15000);
        const channels = r.channels || {};
        const order = r.channelOrder || Object.keys(channels);
        const labels = r.channelLabels || {};
        fill(list, order.length ? order.map((id) => h('div', { class: 'card', testid: 'channel-card', 'data-channel': id },
          h('h3', null, labels[id] || id), kv(channels[id] || {}),
          (r.channelAccounts && r.channelAccounts[id] && r.channelAccounts[id].length)
            ? h('details', null, h('summary', null, `${r.channelAccounts[id].length} account(s)`), r.channelAccounts[id].map((a) => kv(a)))
            : null)) : h('p', { class: 'muted' }, 'No channels configured.'));
      } catch (e) {
        err.textContent = errorText(e);
      }
    }
    refresh.addEventListener('click', () => load(false));
    probe.addEventListener('click', () => load(true));
    this.refresh = () => load(false);
    this.show = () => load(false);
  },
};
