// Cron: cron.status and cron.list, add (a system event into the main
// session, or an isolated agent turn), enable/disable (cron.update), run
// now, remove, and the recent runs (cron.runs); cron events keep it live.

import { h, fill, fmtAgo, fmtTime, fmtDuration, errorText } from '../dom.js';

// parseSchedule reads "every 5m", "cron 0 9 * * * [tz]" or "at <date>".
export function parseSchedule(text) {
  const t = text.trim();
  let m = /^every\s+(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i.exec(t);
  if (m) {
    const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2].toLowerCase()];
    return { kind: 'every', everyMs: Math.round(Number(m[1]) * unit) };
  }
  m = /^cron\s+(.+)$/i.exec(t);
  if (m) {
    const parts = m[1].trim().split(/\s+/);
    const tz = parts.length > 5 && /\//.test(parts[parts.length - 1]) ? parts.pop() : '';
    const s = { kind: 'cron', expr: parts.join(' ') };
    if (tz) s.tz = tz;
    return s;
  }
  m = /^at\s+(.+)$/i.exec(t);
  if (m) {
    const ms = Date.parse(m[1]);
    if (!Number.isNaN(ms)) return { kind: 'at', atMs: ms };
  }
  return null;
}

function describe(s) {
  if (!s) return '';
  if (s.kind === 'every') return `every ${fmtDuration(s.everyMs).replace(/ 0s$/, '')}`;
  if (s.kind === 'cron') return `cron ${s.expr}${s.tz ? ` (${s.tz})` : ''}`;
  if (s.kind === 'at') return `at ${fmtTime(s.atMs)}`;
  return JSON.stringify(s);
}

export const cronTab = {
  name: 'cron',
  title: 'Cron',
  requires: ['cron.list'],
  mount(panel, app) {
    const gw = app.gw;
    const status = h('div', { testid: 'cron-status' });
    const list = h('tbody', { testid: 'cron-list' });
    const runs = h('div', { testid: 'cron-runs' });
    const err = h('p', { class: 'error', testid: 'cron-error' });
    const name = h('input', { type: 'text', testid: 'cron-name', placeholder: 'name' });
    const schedule = h('input', { type: 'text', testid: 'cron-schedule', placeholder: 'every 30m | cron 0 9 * * * | at 2026-01-01T09:00' });
    const kind = h('select', { testid: 'cron-kind' }, h('option', { value: 'main' }, 'system event → main session'), h('option', { value: 'isolated' }, 'isolated agent turn'));
    const message = h('input', { type: 'text', testid: 'cron-message', placeholder: 'text / message' });
    const add = h('button', { type: 'submit', testid: 'cron-add', class: 'primary' }, 'Add job');
    const refresh = h('button', { type: 'button', testid: 'cron-refresh' }, 'Refresh');
    const addForm = h('form', { class: 'inline-form' }, name, schedule, kind, message, add);
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Cron'), refresh),
      err, status, addForm,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', null, h('tr', null, ['Name', 'Schedule', 'Target', 'Next', 'Last', ''].map((t) => h('th', null, t)))), list)),
      runs);

    async function act(fn) {
      err.textContent = '';
      try {
        await fn();
      } catch (e) {
        err.textContent = errorText(e);
      }
      load();
    }

    function row(j) {
      const run = h('button', { type: 'button', testid: 'cron-run' }, 'Run now');
      run.addEventListener('click', () => act(() => gw.request('cron.run', { id: j.id, mode: 'force' })));
      const toggle = h('button', { type: 'button', testid: 'cron-toggle' }, j.enabled ? 'Disable' : 'Enable');
      toggle.addEventListener('click', () => act(() => gw.request('cron.update', { id: j.id, patch: { enabled: !j.enabled } })));
      const history = h('button', { type: 'button', testid: 'cron-history' }, 'Runs');
      history.addEventListener('click', async () => {
        try {
          const r = await gw.request('cron.runs', { id: j.id, limit: 20 });
          fill(runs, h('h3', null, `Runs of ${j.name}`), h('ul', { class: 'plain' }, (r.entries || []).map((e) =>
            h('li', null, `${fmtTime(e.ts)} · ${e.status || e.action}${e.durationMs ? ` · ${e.durationMs} ms` : ''}${e.error ? ` · ${e.error}` : ''}${e.summary ? ` · ${e.summary}` : ''}`))));
        } catch (e) {
          err.textContent = errorText(e);
        }
      });
      const remove = h('button', { type: 'button', testid: 'cron-remove', class: 'danger' }, 'Remove');
      remove.addEventListener('click', () => {
        if (window.confirm(`Remove the job ${j.name}?`)) act(() => gw.request('cron.remove', { id: j.id }));
      });
      const st = j.state || {};
      return h('tr', { testid: 'cron-row', 'data-id': j.id, class: j.enabled ? '' : 'disabled' },
        h('td', null, j.name), h('td', null, describe(j.schedule)), h('td', null, j.sessionTarget),
        h('td', null, st.nextRunAtMs ? fmtAgo(st.nextRunAtMs) : '—'),
        h('td', null, st.lastRunAtMs ? `${st.lastStatus || ''} ${fmtAgo(st.lastRunAtMs)}` : '—', st.lastError ? h('div', { class: 'error small' }, st.lastError) : null),
        h('td', { class: 'actions' }, run, toggle, history, remove));
    }

    async function load() {
      if (gw.state !== 'connected') return;
      try {
        const [s, l] = await Promise.all([gw.request('cron.status', {}), gw.request('cron.list', { includeDisabled: true })]);
        fill(status, h('p', { class: 'muted' }, `${s.enabled ? 'Scheduler on' : 'Scheduler off'} · ${s.jobs} job(s) · next wake ${s.nextWakeAtMs ? fmtAgo(s.nextWakeAtMs) : '—'}`));
        const jobs = l.jobs || [];
        fill(list, jobs.length ? jobs.map(row) : h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'No jobs.')));
      } catch (e) {
        err.textContent = errorText(e);
      }
    }

    addForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const sched = parseSchedule(schedule.value);
      if (!sched) {
        err.textContent = 'Schedule: write "every 30m", "cron 0 9 * * *" or "at 2026-01-01T09:00".';
        return;
      }
      const text = message.value.trim();
      if (!name.value.trim() || !text) {
        err.textContent = 'A job needs a name and a text.';
        return;
      }
      const isolated = kind.value === 'isolated';
      const job = {
        name: name.value.trim(), enabled: true, schedule: sched,
        sessionTarget: isolated ? 'isolated' : 'main', wakeMode: isolated ? 'now' : 'next-heartbeat',
        payload: isolated ? { kind: 'agentTurn', message: text } : { kind: 'systemEvent', text },
      };
      act(async () => {
        await gw.request('cron.add', job);
        name.value = '';
        message.value = '';
      });
    });

    gw.on('cron', () => {
      if (!panel.hidden) load();
    });
    refresh.addEventListener('click', load);
    this.refresh = load;
    this.show = load;
  },
};
