// Nodes and devices: connected nodes (node.list), node and device pairing
// requests with approve/reject, paired devices; the *.pair.* events keep
// the lists live.

import { h, fill, fmtAgo, errorText } from '../dom.js';

export const nodesTab = {
  name: 'nodes',
  title: 'Nodes',
  mount(panel, app) {
    const gw = app.gw;
    const nodes = h('ul', { class: 'plain', testid: 'nodes-list' });
    const devPending = h('ul', { class: 'plain', testid: 'device-pending-list' });
    const devPaired = h('ul', { class: 'plain', testid: 'device-paired-list' });
    const nodePending = h('ul', { class: 'plain', testid: 'node-pending-list' });
    const err = h('p', { class: 'error', testid: 'nodes-error' });
    const refresh = h('button', { type: 'button', testid: 'nodes-refresh' }, 'Refresh');
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Nodes and devices'), refresh), err,
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('h3', null, 'Device pairing requests'), devPending),
        h('div', { class: 'card' }, h('h3', null, 'Node pairing requests'), nodePending),
        h('div', { class: 'card' }, h('h3', null, 'Nodes'), nodes),
        h('div', { class: 'card' }, h('h3', null, 'Paired devices'), devPaired)));

    function pendingRow(kind, p) {
      const approve = h('button', { type: 'button', testid: 'pairing-approve', class: 'primary' }, 'Approve');
      const reject = h('button', { type: 'button', testid: 'pairing-reject', class: 'danger' }, 'Reject');
      const run = (method) => async () => {
        err.textContent = '';
        try {
          await gw.request(`${kind}.pair.${method}`, { requestId: p.requestId });
        } catch (e) {
          err.textContent = errorText(e);
        }
        load();
      };
      approve.addEventListener('click', run('approve'));
      reject.addEventListener('click', run('reject'));
      const who = p.displayName || p.deviceId || p.nodeId || p.requestId;
      return h('li', { testid: 'pairing-request', 'data-request-id': p.requestId, class: 'row' },
        h('div', { class: 'grow' }, h('strong', null, who), h('div', { class: 'muted small' },
          [p.platform, p.role, (p.scopes || []).join(','), p.remoteIp, p.ts ? fmtAgo(p.ts) : ''].filter(Boolean).join(' · '))),
        approve, reject);
    }

    function none(list, text) {
      if (!list.firstChild) list.appendChild(h('li', { class: 'muted' }, text));
    }

    async function load() {
      if (gw.state !== 'connected') return;
      err.textContent = '';
      const tasks = [
        gw.request('device.pair.list', {}).then((r) => {
          fill(devPending, (r.pending || []).map((p) => pendingRow('device', p)));
          fill(devPaired, (r.paired || []).map((d) => h('li', { testid: 'device-paired', 'data-device-id': d.deviceId },
            h('strong', null, d.displayName || d.deviceId), h('span', { class: 'muted small' },
              ` ${[d.platform, (d.roles || []).join(','), d.approvedAtMs ? `approved ${fmtAgo(d.approvedAtMs)}` : ''].filter(Boolean).join(' · ')}`))));
          none(devPending, 'No pending device requests.');
          none(devPaired, 'No paired devices.');
        }),
        gw.request('node.pair.list', {}).then((r) => {
          fill(nodePending, (r.pending || []).map((p) => pendingRow('node', p)));
          none(nodePending, 'No pending node requests.');
        }),
        gw.request('node.list', {}).then((r) => {
          fill(nodes, (r.nodes || []).map((n) => h('li', { testid: 'node-item', 'data-node-id': n.nodeId },
            h('strong', null, n.displayName || n.nodeId), ' ',
            h('span', { class: n.connected ? 'pill ok' : 'pill' }, n.connected ? 'connected' : 'offline'),
            h('div', { class: 'muted small' }, [n.platform, n.version, (n.caps || []).join(','), (n.commands || []).join(', ')].filter(Boolean).join(' · ')))));
          none(nodes, 'No nodes.');
        }),
      ];
      for (const r of await Promise.allSettled(tasks)) if (r.status === 'rejected') err.textContent = errorText(r.reason);
    }

    for (const ev of ['device.pair.requested', 'device.pair.resolved', 'node.pair.requested', 'node.pair.resolved']) {
      gw.on(ev, () => {
        if (!panel.hidden) load();
      });
    }
    refresh.addEventListener('click', load);
    this.refresh = load;
    this.show = load;
  },
};
