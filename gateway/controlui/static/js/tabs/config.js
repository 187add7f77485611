// Config: a form generated from config.schema (typed leaves only: text,
// numbers, booleans, enums; the rest is edited raw) and the raw JSON5
// editor, parsed in the browser (vendored json5) so a syntax error shows
// at line:column before anything is sent; config.set saves, config.apply
// saves and restarts the gateway; their errors are shown as they come.

import { h, fill, errorText } from '../dom.js';

// json5 loads when the tab is first used, not with the page.
let JSON5 = null;
let loading = null;
export function json5Ready() {
  loading = loading || import('../../vendor/json5.min.mjs').then((m) => {
    JSON5 = m.default;
  });
  return loading;
}

const MAX_DEPTH = 5;

// parseJSON5 returns {value} or {error, line, column} (after json5Ready()).
export function parseJSON5(text) {
  if (!JSON5) return { error: 'the JSON5 parser is still loading', line: 0, column: 0 };
  try {
    return { value: JSON5.parse(text) };
  } catch (e) {
    const line = e.lineNumber || 0;
    const column = e.columnNumber || 0;
    const msg = String(e.message || e).replace(/^JSON5:\s*/, '').replace(/\s+at\s+\d+:\d+$/, '');
    return { error: msg, line, column };
  }
}

function enumOf(s) {
  if (!s || typeof s !== 'object') return null;
  if (Array.isArray(s.enum)) return s.enum;
  const alts = s.anyOf || s.oneOf;
  if (Array.isArray(alts) && alts.length && alts.every((a) => a && a.const !== undefined)) return alts.map((a) => a.const);
  return null;
}

function typeOf(s) {
  if (!s || typeof s !== 'object') return '';
  if (enumOf(s)) return 'enum';
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'object' && s.properties) return 'object';
  if (t === 'string' || t === 'number' || t === 'integer' || t === 'boolean') return t;
  return '';
}

function getPath(obj, path) {
  let o = obj;
  for (const k of path) {
    if (!o || typeof o !== 'object') return undefined;
    o = o[k];
  }
  return o;
}

function setPath(obj, path, value) {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (!o[path[i]] || typeof o[path[i]] !== 'object') o[path[i]] = {};
    o = o[path[i]];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

export const configTab = {
  name: 'config',
  title: 'Config',
  mount(panel, app) {
    const gw = app.gw;
    const form = h('div', { class: 'config-form', testid: 'config-form' });
    const raw = h('textarea', { class: 'config-raw mono', testid: 'config-raw', spellcheck: 'false', rows: 24, 'aria-label': 'Raw config (JSON5)' });
    const error = h('pre', { class: 'error config-error', testid: 'config-error', hidden: true });
    const notice = h('p', { class: 'notice', testid: 'config-notice' });
    const issues = h('ul', { class: 'issues', testid: 'config-issues' });
    const path = h('span', { class: 'muted small', testid: 'config-path' });
    const reload = h('button', { type: 'button', testid: 'config-reload' }, 'Reload');
    const save = h('button', { type: 'button', testid: 'config-save' }, 'Save');
    const apply = h('button', { type: 'button', testid: 'config-apply', class: 'primary' }, 'Apply & restart');
    fill(panel,
      h('div', { class: 'panel-head' }, h('h2', null, 'Config'), path, reload, save, apply),
      notice, error, issues,
      h('div', { class: 'config-cols' },
        h('div', { class: 'config-col' }, h('h3', null, 'Settings'), form),
        h('div', { class: 'config-col' }, h('h3', null, 'Raw (JSON5)'), raw,
          h('p', { class: 'muted small' }, 'Editing in the form rewrites the raw text as JSON (comments are dropped).'))));

    let schema = null;
    let hints = {};
    let hash = '';
    let draft = {};
    let formStale = true;
    let dirty = false; // unsaved edits: a tab switch does not reload over them

    function showError(text, line, column) {
      if (!text) {
        error.hidden = true;
        error.textContent = '';
        delete error.dataset.line;
        delete error.dataset.column;
        return;
      }
      error.hidden = false;
      if (line) {
        error.dataset.line = String(line);
        error.dataset.column = String(column);
        error.textContent = `Line ${line}, column ${column}: ${text}`;
      } else {
        delete error.dataset.line;
        delete error.dataset.column;
        error.textContent = text;
      }
    }

    function validate() {
      const r = parseJSON5(raw.value);
      if (r.error) {
        showError(r.error, r.line, r.column);
        return null;
      }
      showError('');
      if (!r.value || typeof r.value !== 'object' || Array.isArray(r.value)) {
        showError('The config must be an object ({ … }).');
        return null;
      }
      return r.value;
    }

    let validateTimer = 0;
    raw.addEventListener('input', () => {
      dirty = true;
      clearTimeout(validateTimer);
      validateTimer = setTimeout(async () => {
        await json5Ready();
        const v = validate();
        if (v) {
          draft = v;
          formStale = true;
          renderForm();
        }
      }, 150);
    });

    function field(sch, p, label) {
      const key = p.join('.');
      const hint = hints[key] || {};
      const t = typeOf(sch);
      const cur = getPath(draft, p);
      const title = hint.label || label;
      const help = hint.help ? h('div', { class: 'muted small' }, hint.help) : null;
      const commit = (v) => {
        setPath(draft, p, v);
        dirty = true;
        raw.value = `${JSON.stringify(draft, null, 2)}\n`;
        showError('');
      };
      let input;
      if (t === 'boolean') {
        input = h('select', { 'data-path': key }, h('option', { value: '' }, '(default)'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
        input.value = cur === true ? 'true' : cur === false ? 'false' : '';
        input.addEventListener('change', () => commit(input.value === '' ? undefined : input.value === 'true'));
      } else if (t === 'enum') {
        const values = enumOf(sch);
        input = h('select', { 'data-path': key }, h('option', { value: '' }, '(default)'), values.map((v) => h('option', { value: String(v) }, String(v))));
        input.value = cur === undefined ? '' : String(cur);
        input.addEventListener('change', () => {
          const v = values.find((x) => String(x) === input.value);
          commit(input.value === '' ? undefined : v);
        });
      } else if (t === 'number' || t === 'integer') {
        input = h('input', { type: 'number', 'data-path': key, step: t === 'integer' ? '1' : 'any', value: cur === undefined ? '' : String(cur), placeholder: hint.placeholder || '' });
        input.addEventListener('change', () => commit(input.value === '' ? undefined : Number(input.value)));
      } else {
        input = h('input', { type: hint.sensitive ? 'password' : 'text', 'data-path': key, value: cur === undefined ? '' : String(cur), placeholder: hint.placeholder || '', autocomplete: 'off' });
        input.addEventListener('change', () => commit(input.value === '' ? undefined : input.value));
      }
      return h('label', { class: 'field' }, h('span', { class: 'field-label' }, title, h('code', { class: 'muted small' }, ` ${key}`)), input, help);
    }

    function section(sch, p, depth) {
      const out = [];
      const props = Object.entries(sch.properties || {});
      props.sort((a, b) => ((hints[[...p, a[0]].join('.')] || {}).order || 0) - ((hints[[...p, b[0]].join('.')] || {}).order || 0));
      for (const [k, sub] of props) {
        const t = typeOf(sub);
        const pp = [...p, k];
        if (t === 'object' && depth < MAX_DEPTH) {
          const inner = section(sub, pp, depth + 1);
          if (inner.length) {
            const label = (hints[pp.join('.')] || {}).label || k;
            out.push(h('details', { class: 'config-section', 'data-path': pp.join('.') }, h('summary', null, label), inner));
          }
        } else if (t && t !== 'object') {
          out.push(field(sub, pp, k));
        }
      }
      return out;
    }

    function renderForm() {
      if (!schema || !formStale || panel.hidden) return;
      formStale = false;
      // Keep the open sections open across a re-render.
      const open = new Set([...form.querySelectorAll('details[open]')].map((d) => d.dataset.path));
      fill(form, section(schema, [], 0));
      for (const d of form.querySelectorAll('details')) if (open.has(d.dataset.path)) d.open = true;
    }

    let applied = false; // a config.apply whose restart is still to come back

    async function load() {
      if (gw.state !== 'connected') return;
      try {
        await json5Ready();
        const [snap, sch] = await Promise.all([
          gw.request('config.get', {}),
          schema ? Promise.resolve(null) : gw.request('config.schema', {}),
        ]);
        if (sch) {
          schema = sch.schema || {};
          hints = sch.uiHints || {};
        }
        dirty = false;
        hash = snap.hash || '';
        path.textContent = snap.path || '';
        raw.value = snap.raw === null || snap.raw === undefined ? '{\n}\n' : snap.raw;
        const r = parseJSON5(raw.value);
        draft = r.value && typeof r.value === 'object' ? r.value : {};
        showError(r.error ? r.error : '', r.line, r.column);
        fill(issues, (snap.issues || []).map((i) => h('li', { class: 'error' }, `${i.path || '(root)'}: ${i.message}`)));
        formStale = true;
        renderForm();
      } catch (e) {
        showError(errorText(e));
      }
    }

    async function write(method) {
      await json5Ready();
      const v = validate();
      if (!v) return;
      notice.textContent = '';
      const params = { raw: raw.value };
      if (hash) params.baseHash = hash;
      if (method === 'config.apply' && app.sessionKey) params.sessionKey = app.sessionKey;
      try {
        const res = await gw.request(method, params);
        if (method === 'config.apply') {
          const ms = res && res.restart ? res.restart.delayMs : 0;
          notice.textContent = `Applied. The gateway restarts${ms ? ` in ${ms} ms` : ''}; this page reconnects by itself.`;
          applied = true;
        } else {
          notice.textContent = `Saved to ${(res && res.path) || 'the config file'}.`;
        }
        if (method === 'config.set') await load();
      } catch (e) {
        let msg = errorText(e);
        const d = e.details;
        if (d && Array.isArray(d.issues) && d.issues.length) msg += `\n${d.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('\n')}`;
        showError(msg);
      }
    }

    reload.addEventListener('click', () => {
      notice.textContent = '';
      load();
    });
    save.addEventListener('click', () => write('config.set'));
    apply.addEventListener('click', () => write('config.apply'));
    this.connected = async () => {
      if (applied) {
        applied = false;
        dirty = false;
        await load();
        notice.textContent = 'Applied: the gateway restarted with this config.';
        return;
      }
      if (!panel.hidden && !dirty) load();
    };
    this.refresh = load;
    this.show = () => {
      if (!dirty) load();
    };
  },
};
