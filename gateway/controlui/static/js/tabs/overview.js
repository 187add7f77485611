// Overview: gateway version, uptime, health (the health event keeps it
// live), the channels summary and the last heartbeat.

import { h, fill, kv, fmtDuration, fmtAgo, errorText } from '../dom.js';

export const overviewTab = {
  name: 'overview',
  title: 'Overview',
  mount(panel, app) {
    const gw = app.gw;
    const version = h('dd', { testid: 'overview-version' }, '—');
    const host = h('dd', { testid: 'overview-host' }, '—');
    const uptime = h('dd', { testid: 'overview-uptime' }, '—');
    const health = h('div', { testid: 'overview-health' });
    const channels = h('div', { testid: 'overview-channels' });
    const heartbeat = h('div', { testid: 'overview-heartbeat' });
    const status = h('div', { testid: 'overview-status' });
    const err = h('p', { class: 'error', testid: 'overview-error' });
    const refresh = h('button', { type: 'button', testid: 'overview-refresh' }, 'Refresh');
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Overview'), refresh),
      err,
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('h3', null, 'Gateway'),
          h('dl', { class: 'kv' }, h('dt', null, 'version'), version, h('dt', null, 'host'), host, h('dt', null, 'uptime'), uptime)),
        h('div', { class: 'card' }, h('h3', null, 'Health'), health),
        h('div', { class: 'card' }, h('h3', null, 'Channels'), channels),
        h('div', { class: 'card' }, h('h3', null, 'Heartbeat'), heartbeat),
        h('div', { class: 'card' }, h('h3', null, 'Status'), status)));

    let uptimeBase = 0;
    let uptimeAt = 0;
    let ticker = 0;

    function showHealth(hs) {
      if (!hs || typeof hs !== 'object') return;
      fill(health, kv({ ok: hs.ok, checked: hs.ts ? fmtAgo(hs.ts) : '—', durationMs: hs.durationMs, heartbeatSeconds: hs.heartbeatSeconds, defaultAgentId: hs.defaultAgentId,
        sessions: hs.sessions ? hs.sessions.count : '—' }));
      const order = hs.channelOrder || Object.keys(hs.channels || {});
      if (!order.length) fill(channels, h('p', { class: 'muted' }, 'No channels configured.'));
      else {
        fill(channels, h('ul', { class: 'plain' }, order.map((id) => {
          const c = (hs.channels || {})[id] || {};
          const label = (hs.channelLabels || {})[id] || id;
          const bits = [];
          if (c.configured !== undefined) bits.push(c.configured ? 'configured' : 'not configured');
          if (c.linked !== undefined) bits.push(c.linked ? 'linked' : 'not linked');
          if (c.running !== undefined) bits.push(c.running ? 'running' : 'stopped');
          if (c.lastError) bits.push(`error: ${c.lastError}`);
          return h('li', null, h('strong', null, label), ' ', bits.join(' · '));
        })));
      }
    }

    function tickUptime() {
      if (!uptimeAt) return;
      uptime.textContent = fmtDuration(uptimeBase + (Date.now() - uptimeAt));
    }

    async function load() {
      if (gw.state !== 'connected') return;
      err.textContent = '';
      const hello = gw.hello || {};
      version.textContent = (hello.server && hello.server.version) || '—';
      host.textContent = (hello.server && hello.server.host) || '—';
      try {
        showHealth(await gw.request('health', {}));
      } catch (e) {
        err.textContent = `health: ${errorText(e)}`;
      }
      try {
        const st = await gw.request('status', {});
        const lines = [...(st.channelSummary || [])];
        if (st.queuedSystemEvents && st.queuedSystemEvents.length) lines.push(`${st.queuedSystemEvents.length} queued system event(s)`);
        if (st.sessions) lines.push(`${st.sessions.count} session(s)${st.sessions.defaults && st.sessions.defaults.model ? ` · default model ${st.sessions.defaults.model}` : ''}`);
        fill(status, lines.length ? h('ul', { class: 'plain' }, lines.map((l) => h('li', null, l))) : h('p', { class: 'muted' }, '—'));
      } catch (e) {
        fill(status, h('p', { class: 'muted' }, errorText(e)));
      }
      try {
        const hb = await gw.request('last-heartbeat', {});
        fill(heartbeat, hb ? kv({ status: hb.status, when: hb.ts ? fmtAgo(hb.ts) : '—', reason: hb.reason || '', preview: hb.preview || '' }) : h('p', { class: 'muted' }, 'No heartbeat yet.'));
      } catch (e) {
        fill(heartbeat, h('p', { class: 'muted' }, errorText(e)));
      }
    }

    gw.on('hello', (hello) => {
      uptimeBase = (hello.snapshot && hello.snapshot.uptimeMs) || 0;
      uptimeAt = Date.now();
      tickUptime();
      if (hello.snapshot && hello.snapshot.health) showHealth(hello.snapshot.health);
    });
    gw.on('health', showHealth);
    gw.on('heartbeat', (p) => {
      if (p) fill(heartbeat, kv({ status: p.status, when: p.ts ? fmtAgo(p.ts) : 'now', reason: p.reason || '', preview: p.preview || '' }));
    });
    refresh.addEventListener('click', load);
    if (gw.hello) {
      uptimeBase = (gw.hello.snapshot && gw.hello.snapshot.uptimeMs) || 0;
      uptimeAt = Date.now();
    }
    this.connected = load;
    this.refresh = load;
    this.show = () => {
      load();
      tickUptime();
      clearInterval(ticker);
      ticker = setInterval(tickUptime, 1000);
    };
    this.hide = () => clearInterval(ticker);
  },
};
