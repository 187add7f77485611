// Logs: follow logs.tail (cursor polling while the tab is open), a level
// filter, at most MAX_LINES kept.

import { h, fill, errorText } from '../dom.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const MAX_LINES = 2000;
const POLL_MS = 1000;

// parseLine reads a file-log line: JSON ({time, level, msg, _meta}) or text.
export function parseLine(raw) {
  let o = null;
  if (raw.startsWith('{')) {
    try {
      o = JSON.parse(raw);
    } catch {
      o = null;
    }
  }
  if (!o) {
    const m = /\b(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b/i.exec(raw);
    return { level: m ? m[1].toLowerCase() : '', time: '', sub: '', msg: raw };
  }
  const meta = o._meta || {};
  const level = String(o.level || meta.logLevelName || '').toLowerCase();
  let sub = meta.name || '';
  try {
    const n = JSON.parse(sub);
    if (n && n.subsystem) sub = n.subsystem;
  } catch {
    // a plain name
  }
  const msg = o.msg !== undefined ? String(o.msg) : String(o['0'] || '');
  return { level, time: o.time || meta.date || '', sub, msg };
}

export const logsTab = {
  name: 'logs',
  title: 'Logs',
  mount(panel, app) {
    const gw = app.gw;
    const view = h('div', { class: 'log-view', testid: 'log-view', role: 'log' });
    const level = h('select', { testid: 'log-level', 'aria-label': 'Minimum level' },
      h('option', { value: '' }, 'all levels'), LEVELS.slice(0, 5).map((l) => h('option', { value: l }, `${l}+`)));
    const follow = h('input', { type: 'checkbox', testid: 'log-follow', checked: true });
    const clearBtn = h('button', { type: 'button', testid: 'log-clear' }, 'Clear');
    const file = h('span', { class: 'muted small', testid: 'log-file' });
    const err = h('p', { class: 'error', testid: 'log-error' });
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Logs'), level, h('label', null, follow, ' follow'), clearBtn),
      file, err, view);

    let cursor;
    let timer = 0;
    let busy = false;
    let visible = false;

    function shown(l) {
      const min = level.value;
      if (!min) return true;
      return LEVELS.indexOf(l) >= LEVELS.indexOf(min);
    }

    function add(lines) {
      const stick = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
      const frag = document.createDocumentFragment();
      for (const raw of lines) {
        const p = parseLine(raw);
        const el = h('div', { class: `log-line lvl-${p.level || 'none'}`, testid: 'log-line', 'data-level': p.level, hidden: !shown(p.level) },
          h('span', { class: 'log-time' }, p.time ? p.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''), ' ',
          h('span', { class: 'log-lvl' }, p.level || ''), ' ',
          p.sub ? h('span', { class: 'log-sub' }, p.sub) : null, ' ',
          h('span', { class: 'log-msg' }, p.msg));
        frag.appendChild(el);
      }
      view.appendChild(frag);
      while (view.childElementCount > MAX_LINES) view.firstChild.remove();
      if (stick) view.scrollTop = view.scrollHeight;
    }

    async function poll() {
      clearTimeout(timer);
      if (!visible || gw.state !== 'connected' || busy) return;
      busy = true;
      try {
        const params = { limit: 500, maxBytes: 250000 };
        if (cursor !== undefined) params.cursor = cursor;
        const res = await gw.request('logs.tail', params);
        err.textContent = '';
        file.textContent = res.file || '';
        if (res.reset) fill(view);
        add(res.lines || []);
        cursor = res.cursor;
      } catch (e) {
        err.textContent = errorText(e);
      } finally {
        busy = false;
      }
      if (visible && follow.checked) timer = setTimeout(poll, POLL_MS);
    }

    level.addEventListener('change', () => {
      for (const el of view.children) el.hidden = !shown(el.dataset.level);
    });
    follow.addEventListener('change', () => {
      if (follow.checked) poll();
    });
    clearBtn.addEventListener('click', () => fill(view));
    this.connected = () => poll();
    this.show = () => {
      visible = true;
      poll();
    };
    this.hide = () => {
      visible = false;
      clearTimeout(timer);
    };
  },
};
