// Sessions: sessions.list with preview, label patch, reset and delete.

import { h, fill, fmtAgo, errorText } from '../dom.js';

export const sessionsTab = {
  name: 'sessions',
  title: 'Sessions',
  mount(panel, app) {
    const gw = app.gw;
    const body = h('tbody', { testid: 'sessions-table' });
    const err = h('p', { class: 'error', testid: 'sessions-error' });
    const preview = h('div', { class: 'preview', testid: 'session-preview-view' });
    const refresh = h('button', { type: 'button', testid: 'sessions-refresh' }, 'Refresh');
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Sessions'), refresh),
      err,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', null, h('tr', null, ['Key', 'Label', 'Kind', 'Updated', 'Tokens', 'Model', ''].map((t) => h('th', null, t)))),
        body)),
      preview);

    async function act(fn) {
      err.textContent = '';
      try {
        await fn();
      } catch (e) {
        err.textContent = errorText(e);
      }
      load();
    }

    function row(s) {
      const label = h('input', { type: 'text', testid: 'session-label', value: s.label || '', placeholder: 'label', 'aria-label': 'Label' });
      const thinking = h('select', { testid: 'session-thinking', 'aria-label': 'Thinking' },
        ['', 'off', 'minimal', 'low', 'medium', 'high'].map((v) => h('option', { value: v }, v || 'thinking: default')));
      thinking.value = s.thinkingLevel || '';
      // verbose "on" also streams the turn's tool calls into Chat.
      const verbose = h('select', { testid: 'session-verbose', 'aria-label': 'Verbose' },
        ['', 'off', 'on', 'full'].map((v) => h('option', { value: v }, v ? `verbose: ${v}` : 'verbose: default')));
      verbose.value = s.verboseLevel || '';
      const save = h('button', { type: 'button', testid: 'session-patch' }, 'Save');
      save.addEventListener('click', () => {
        const patch = { key: s.key };
        if (label.value.trim() !== (s.label || '')) patch.label = label.value.trim() || null;
        if (thinking.value !== (s.thinkingLevel || '')) patch.thinkingLevel = thinking.value || null;
        if (verbose.value !== (s.verboseLevel || '')) patch.verboseLevel = verbose.value || null;
        act(() => gw.request('sessions.patch', patch));
      });
      const pv = h('button', { type: 'button', testid: 'session-preview' }, 'Preview');
      pv.addEventListener('click', async () => {
        try {
          const res = await gw.request('sessions.preview', { keys: [s.key], limit: 12, maxChars: 400 });
          const p = (res.previews || [])[0] || {};
          fill(preview, h('h3', null, `Preview: ${s.key}`), h('p', { class: 'muted' }, p.status || ''),
            (p.items || []).map((it) => h('div', { class: `preview-item role-${it.role}` }, h('strong', null, `${it.role}: `), it.text || '')));
        } catch (e) {
          err.textContent = errorText(e);
        }
      });
      const open = h('button', { type: 'button', testid: 'session-open' }, 'Chat');
      open.addEventListener('click', () => {
        app.setSession(s.key);
        app.navigate('chat');
      });
      const reset = h('button', { type: 'button', testid: 'session-reset' }, 'Reset');
      reset.addEventListener('click', () => {
        if (window.confirm(`Reset ${s.key}? It starts a new transcript.`)) act(() => gw.request('sessions.reset', { key: s.key }));
      });
      const del = h('button', { type: 'button', testid: 'session-delete', class: 'danger' }, 'Delete');
      del.addEventListener('click', () => {
        if (window.confirm(`Delete ${s.key} and its transcript?`)) act(() => gw.request('sessions.delete', { key: s.key, deleteTranscript: true }));
      });
      return h('tr', { testid: 'session-row', 'data-key': s.key },
        h('td', { class: 'mono' }, s.key),
        h('td', null, label, thinking, verbose),
        h('td', null, s.kind || ''),
        h('td', null, fmtAgo(s.updatedAt)),
        h('td', null, String(s.totalTokens || 0)),
        h('td', null, [s.modelProvider, s.model].filter(Boolean).join('/')),
        h('td', { class: 'actions' }, save, open, pv, reset, del));
    }

    async function load() {
      if (gw.state !== 'connected') return;
      try {
        const res = await gw.request('sessions.list', { includeGlobal: true, includeUnknown: true, limit: 500, includeDerivedTitles: true });
        const rows = res.sessions || [];
        fill(body, rows.length ? rows.map(row) : h('tr', null, h('td', { colspan: 7, class: 'muted' }, 'No sessions yet.')));
      } catch (e) {
        err.textContent = errorText(e);
      }
    }
    refresh.addEventListener('click', load);
    this.refresh = load;
    this.show = load;
  },
};
