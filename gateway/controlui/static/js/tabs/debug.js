// Debug: call any gateway method with JSON params and see the answer, and
// the last events as they arrive.

import { h, fill, errorText } from '../dom.js';

const MAX_EVENTS = 50;

export const debugTab = {
  name: 'debug',
  title: 'Debug',
  mount(panel, app) {
    const gw = app.gw;
    const method = h('input', { type: 'text', testid: 'debug-method', list: 'debug-methods', placeholder: 'method, e.g. status', spellcheck: 'false' });
    const methods = h('datalist', { id: 'debug-methods' });
    const params = h('textarea', { class: 'mono', testid: 'debug-params', rows: 6, spellcheck: 'false', 'aria-label': 'Params (JSON)' });
    params.value = '{}';
    const call = h('button', { type: 'submit', testid: 'debug-call', class: 'primary' }, 'Call');
    const result = h('pre', { class: 'mono debug-result', testid: 'debug-result' });
    const events = h('pre', { class: 'mono debug-result', testid: 'debug-events' });
    const form = h('form', { class: 'debug-form' }, h('div', { class: 'row' }, method, call), params);
    fill(panel, h('div', { class: 'panel-head' }, h('h2', null, 'Debug')), form, methods,
      h('h3', null, 'Answer'), result, h('h3', null, 'Recent events'), events);

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let p;
      try {
        p = params.value.trim() ? JSON.parse(params.value) : {};
      } catch (e) {
        result.textContent = `Params are not JSON: ${errorText(e)}`;
        return;
      }
      const name = method.value.trim();
      if (!name) return;
      result.textContent = '…';
      const t0 = performance.now();
      try {
        const res = await gw.request(name, p);
        result.textContent = `ok in ${Math.round(performance.now() - t0)} ms\n${JSON.stringify(res, null, 2)}`;
      } catch (e) {
        result.textContent = `${e.code || 'error'}: ${errorText(e)}${e.details ? `\n${JSON.stringify(e.details, null, 2)}` : ''}`;
      }
    });

    const recent = [];
    gw.on('*', (name, payload, frame) => {
      if (name === 'tick') return;
      recent.unshift(`${new Date().toLocaleTimeString()} ${name}${typeof frame.seq === 'number' ? ` #${frame.seq}` : ''} ${JSON.stringify(payload).slice(0, 300)}`);
      recent.length = Math.min(recent.length, MAX_EVENTS);
      if (!panel.hidden) events.textContent = recent.join('\n');
    });
    this.connected = () => {
      const m = (gw.hello && gw.hello.features && gw.hello.features.methods) || [];
      fill(methods, m.map((n) => h('option', { value: n })));
    };
    this.show = () => {
      this.connected();
      events.textContent = recent.join('\n');
    };
  },
};
