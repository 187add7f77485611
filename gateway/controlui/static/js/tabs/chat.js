// Chat: the session picker (sessions.list), the history (chat.history),
// send (chat.send with an idempotencyKey), the assistant's text streamed
// from agent and chat events and drawn once per animation frame, abort
// (chat.abort), a new session, tool calls collapsed, Markdown sanitised,
// copy buttons.

import { h, fill, errorText, copyText } from '../dom.js';
import { renderMarkdown } from '../markdown.js';
import { uuid } from '../gateway.js';

const STOP_WORDS = new Set(['/stop', 'stop', 'esc', 'abort', 'wait', 'exit']);
const HISTORY_LIMIT = 200;

// textOf joins the text blocks of a transcript or event message.
export function textOf(msg) {
  if (!msg) return '';
  const c = msg.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return typeof msg.text === 'string' ? msg.text : '';
  return c.filter((b) => b && b.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('');
}

function pretty(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

function resultText(r) {
  if (!r) return '';
  if (typeof r === 'string') return r;
  if (Array.isArray(r.content)) return r.content.map((b) => (b && b.type === 'text' ? b.text : pretty(b))).join('\n');
  return pretty(r);
}

export const chatTab = {
  name: 'chat',
  title: 'Chat',
  mount(panel, app) {
    const gw = app.gw;
    const select = h('select', { testid: 'session-select', 'aria-label': 'Session' });
    const newBtn = h('button', { type: 'button', testid: 'session-new', title: 'Start a new session' }, 'New session');
    const log = h('div', { class: 'chat-log', testid: 'chat-log', role: 'log', 'aria-live': 'polite' });
    const empty = h('p', { class: 'chat-empty muted', testid: 'chat-empty' }, 'No messages yet. Say hello.');
    const input = h('textarea', { testid: 'chat-input', rows: 2, placeholder: 'Message (Enter to send, Shift+Enter for a new line)', 'aria-label': 'Message' });
    const send = h('button', { type: 'submit', testid: 'chat-send', class: 'primary' }, 'Send');
    const abort = h('button', { type: 'button', testid: 'chat-abort', disabled: true }, 'Stop');
    const note = h('div', { class: 'chat-note muted', testid: 'chat-note' });
    const composer = h('form', { class: 'composer' }, input, h('div', { class: 'composer-buttons' }, send, abort));
    fill(panel, h('div', { class: 'chat' },
      h('div', { class: 'chat-toolbar' }, select, newBtn),
      log, note, composer));

    // The agent's name (agent.identity.get) heads its messages.
    let assistantName = 'Assistant';
    async function loadIdentity() {
      try {
        const id = await gw.request('agent.identity.get', { sessionKey: app.sessionKey });
        const name = id && typeof id.name === 'string' ? id.name.trim() : '';
        if (name && name !== assistantName) {
          assistantName = name.slice(0, 64);
          for (const w of log.querySelectorAll('.msg-assistant .who')) w.textContent = assistantName;
        }
      } catch {
        // an older gateway: keep "Assistant"
      }
    }

    // runs: runId → {el, body, segments:[{kind, el, text, id}], done}
    const runs = new Map();
    const dirty = new Set();
    let frame = 0;
    let reloadTimer = 0;
    let historyGen = 0;

    function nearBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }
    function scrollDown(force) {
      if (force || nearBottom()) log.scrollTop = log.scrollHeight;
    }

    function messageEl(role) {
      const body = h('div', { class: 'msg-body' });
      const text = h('div', { class: 'msg-text', testid: 'chat-message-text' });
      body.appendChild(text);
      const copy = h('button', { type: 'button', class: 'copy', testid: 'chat-copy', title: 'Copy', 'aria-label': 'Copy message' }, 'Copy');
      const el = h('article', { class: `msg msg-${role}`, testid: 'chat-message', 'data-role': role },
        h('div', { class: 'msg-head' }, h('span', { class: 'who' }, role === 'user' ? 'You' : assistantName), copy), body);
      copy.addEventListener('click', async () => {
        const ok = await copyText(el._raw ? el._raw() : text.textContent);
        copy.textContent = ok ? 'Copied' : 'Copy failed';
        setTimeout(() => { copy.textContent = 'Copy'; }, 1200);
      });
      return { el, body, text };
    }

    function userMessage(content) {
      const m = messageEl('user');
      m.text.textContent = content;
      m.el._raw = () => content;
      return m.el;
    }

    function toolCard(name, args) {
      const argsEl = h('pre', { class: 'tool-args' }, pretty(args));
      const resEl = h('pre', { class: 'tool-result' });
      const status = h('span', { class: 'tool-status' }, '');
      const el = h('details', { class: 'tool', testid: 'chat-tool' },
        h('summary', null, h('span', { class: 'tool-name' }, `tool: ${name || '?'}`), ' ', status),
        h('div', { class: 'tool-label muted' }, 'arguments'), argsEl,
        h('div', { class: 'tool-label muted' }, 'result'), resEl);
      return { el, resEl, status, argsEl };
    }

    // assistantMessage builds an assistant message from transcript blocks.
    function assistantMessage(blocks, toolIndex) {
      const m = messageEl('assistant');
      const texts = [];
      m.text.remove();
      for (const b of blocks) {
        if (!b) continue;
        if (b.type === 'text' && b.text) {
          const t = h('div', { class: 'msg-text md', testid: 'chat-message-text' });
          renderMarkdown(t, b.text);
          texts.push(b.text);
          m.body.appendChild(t);
        } else if (b.type === 'toolCall' || b.type === 'tool_use' || b.type === 'toolUse') {
          const card = toolCard(b.name, b.arguments || b.input);
          m.body.appendChild(card.el);
          if (b.id) toolIndex.set(b.id, card);
        }
      }
      if (!texts.length && !m.body.firstChild) m.body.appendChild(m.text);
      m.el._raw = () => texts.join('\n\n');
      return m.el;
    }

    async function loadHistory() {
      const key = app.sessionKey;
      const gen = ++historyGen;
      if (!key || gw.state !== 'connected') return;
      let res;
      try {
        res = await gw.request('chat.history', { sessionKey: key, limit: HISTORY_LIMIT });
      } catch (e) {
        if (gen === historyGen) note.textContent = `History: ${errorText(e)}`;
        return;
      }
      if (gen !== historyGen || key !== app.sessionKey) return;
      note.textContent = '';
      const stick = nearBottom() || log.childElementCount === 0;
      const toolIndex = new Map();
      const nodes = [];
      for (const m of res.messages || []) {
        if (!m) continue;
        const role = m.role || (m.message && m.message.role);
        const msg = m.message || m;
        if (role === 'user') {
          const t = textOf(msg);
          if (t) nodes.push(userMessage(t));
        } else if (role === 'assistant') {
          const blocks = typeof msg.content === 'string' ? [{ type: 'text', text: msg.content }] : msg.content || [];
          nodes.push(assistantMessage(blocks, toolIndex));
        } else if (role === 'toolResult' || role === 'tool') {
          const card = toolIndex.get(msg.toolCallId);
          if (card) {
            card.resEl.textContent = resultText(msg);
            card.status.textContent = msg.isError ? 'error' : 'done';
            if (msg.isError) card.el.dataset.error = 'true';
          }
        }
      }
      // Runs still streaming stay at the end.
      for (const r of runs.values()) if (!r.done) nodes.push(r.el);
      fill(log, nodes.length ? nodes : empty);
      scrollDown(stick);
    }

    function scheduleReload() {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(loadHistory, 250);
    }

    function updateAbort() {
      let active = false;
      for (const r of runs.values()) if (!r.done) active = true;
      abort.disabled = !active;
    }

    function ensureRun(runId) {
      let r = runs.get(runId);
      if (r) return r;
      const m = messageEl('assistant');
      m.el.dataset.streaming = 'true';
      m.el.dataset.runId = runId;
      m.text.remove();
      r = { id: runId, el: m.el, body: m.body, segments: [], done: false };
      // The first text segment exists from the start (empty), so the
      // message's text only ever grows while it streams.
      textSegment(r);
      m.el._raw = () => r.segments.filter((s) => s.kind === 'text').map((s) => s.text).join('\n\n');
      runs.set(runId, r);
      if (empty.parentNode) empty.remove();
      log.appendChild(m.el);
      updateAbort();
      scrollDown(true);
      return r;
    }

    function textSegment(r) {
      const last = r.segments[r.segments.length - 1];
      if (last && last.kind === 'text') return last;
      const seg = { kind: 'text', el: h('div', { class: 'msg-text md', testid: 'chat-message-text' }), text: '' };
      r.segments.push(seg);
      r.body.appendChild(seg.el);
      return seg;
    }

    // setText takes the current assistant message's text (agent events
    // restart it after each tool call; chat deltas carry the same buffer).
    function setText(r, text, fromChat) {
      if (r.done || typeof text !== 'string') return;
      const last = r.segments[r.segments.length - 1];
      if (!text && !(last && last.kind === 'text')) return;
      // Text after a tool call starts a new segment below the tool card.
      const seg = textSegment(r);
      // A chat delta never shortens what an agent event already showed.
      if (fromChat && seg.text.length > text.length && seg.text.startsWith(text)) return;
      if (seg.text === text) return;
      seg.text = text;
      dirty.add(seg);
      schedule();
    }

    function schedule() {
      if (frame) return;
      // requestAnimationFrame does not run in a hidden tab; a timer keeps
      // the text current there.
      frame = document.hidden ? setTimeout(flush, 100) : requestAnimationFrame(flush);
    }

    function flush() {
      if (frame) {
        cancelAnimationFrame(frame);
        clearTimeout(frame);
      }
      frame = 0;
      if (!dirty.size) return;
      const stick = nearBottom();
      for (const seg of dirty) renderMarkdown(seg.el, seg.text);
      dirty.clear();
      scrollDown(stick);
    }

    function finishRun(r, how) {
      if (!r || r.done) return;
      flush();
      r.done = true;
      delete r.el.dataset.streaming;
      if (how && how.aborted) {
        r.el.dataset.aborted = 'true';
        r.body.appendChild(h('div', { class: 'msg-flag muted' }, 'stopped'));
      }
      if (how && how.error) {
        r.el.dataset.error = 'true';
        r.body.appendChild(h('div', { class: 'msg-flag error' }, how.error));
      }
      if (!r.segments.some((seg) => seg.kind !== 'text' || seg.text) && !(how && (how.aborted || how.error))) {
        // A final with nothing said: a queued message (its reply comes in
        // a later run) or a silent directive. The history reload shows
        // whatever the transcript holds.
        r.el.remove();
        runs.delete(r.id);
      }
      updateAbort();
    }

    function toolEvent(r, d) {
      if (!d || !d.toolCallId) return;
      let seg = r.segments.find((s) => s.kind === 'tool' && s.id === d.toolCallId);
      if (!seg) {
        const card = toolCard(d.name, d.args);
        seg = { kind: 'tool', id: d.toolCallId, card, el: card.el };
        r.segments.push(seg);
        r.body.appendChild(card.el);
      }
      if (d.phase === 'start') seg.card.status.textContent = 'running…';
      if (d.phase === 'update' && d.partialResult !== undefined) seg.card.resEl.textContent = resultText(d.partialResult);
      if (d.phase === 'result') {
        seg.card.resEl.textContent = resultText(d.result);
        seg.card.status.textContent = d.isError ? 'error' : 'done';
        if (d.isError) seg.card.el.dataset.error = 'true';
      }
    }

    gw.on('agent', (p) => {
      if (!p || !p.runId) return;
      if (p.sessionKey ? p.sessionKey !== app.sessionKey : !runs.has(p.runId)) return;
      const d = p.data || {};
      if (p.stream === 'assistant') setText(ensureRun(p.runId), d.text, false);
      else if (p.stream === 'tool') toolEvent(ensureRun(p.runId), d);
      else if (p.stream === 'lifecycle' && d.phase === 'start') ensureRun(p.runId);
      else if (p.stream === 'error') scheduleReload();
    });

    gw.on('chat', (p) => {
      if (!p || p.sessionKey !== app.sessionKey) return;
      const known = runs.get(p.runId);
      switch (p.state) {
        case 'delta':
          setText(ensureRun(p.runId), textOf(p.message), true);
          break;
        case 'final': {
          const r = known || (p.message ? ensureRun(p.runId) : null);
          if (r && p.message) {
            const t = textOf(p.message);
            if (t) {
              const seg = textSegment(r);
              if (seg.text !== t) {
                seg.text = t;
                dirty.add(seg);
              }
            }
          }
          finishRun(r);
          scheduleReload();
          break;
        }
        case 'aborted':
          finishRun(known || ensureRun(p.runId), { aborted: true });
          break;
        case 'error':
          finishRun(known || ensureRun(p.runId), { error: p.errorMessage || 'the run failed' });
          break;
        default:
      }
    });

    async function doAbort() {
      const active = [...runs.values()].filter((r) => !r.done);
      const params = { sessionKey: app.sessionKey };
      if (active.length === 1) params.runId = active[0].id;
      try {
        const res = await gw.request('chat.abort', params);
        for (const id of (res && res.runIds) || []) finishRun(runs.get(id), { aborted: true });
      } catch (e) {
        note.textContent = `Stop: ${errorText(e)}`;
      }
    }

    async function doSend() {
      const text = input.value.trim();
      if (!text) return;
      if (STOP_WORDS.has(text.toLowerCase())) {
        input.value = '';
        await doAbort();
        return;
      }
      if (gw.state !== 'connected') {
        note.textContent = 'Not connected to the gateway.';
        return;
      }
      input.value = '';
      note.textContent = '';
      if (empty.parentNode) empty.remove();
      log.appendChild(userMessage(text));
      scrollDown(true);
      const key = uuid();
      const r = ensureRun(key);
      try {
        const res = await gw.request('chat.send', { sessionKey: app.sessionKey, message: text, deliver: false, idempotencyKey: key });
        if (res && res.runId && res.runId !== key && !runs.has(res.runId)) {
          runs.delete(key);
          r.id = res.runId;
          r.el.dataset.runId = res.runId;
          runs.set(res.runId, r);
        }
      } catch (e) {
        finishRun(r, { error: errorText(e) });
      }
    }

    composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      doSend();
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        doSend();
      }
    });
    abort.addEventListener('click', doAbort);

    // Sessions in the picker.
    function option(key, label) {
      return h('option', { value: key }, label && label !== key ? `${label} (${key})` : key);
    }
    async function loadSessions() {
      if (gw.state !== 'connected') return;
      let rows = [];
      try {
        const res = await gw.request('sessions.list', { includeGlobal: true, includeUnknown: false, limit: 200 });
        rows = res.sessions || [];
      } catch (e) {
        note.textContent = `Sessions: ${errorText(e)}`;
      }
      const opts = rows.map((s) => option(s.key, s.label || s.displayName || s.derivedTitle));
      if (!rows.some((s) => s.key === app.sessionKey)) opts.unshift(option(app.sessionKey));
      fill(select, opts);
      select.value = app.sessionKey;
    }
    select.addEventListener('change', () => app.setSession(select.value));
    newBtn.addEventListener('click', () => {
      const key = `agent:${app.defaultAgentId}:ui-${Date.now().toString(36)}`;
      select.insertBefore(option(key), select.firstChild);
      app.setSession(key);
      input.focus();
    });

    app.onSession(() => {
      for (const [id, r] of runs) if (r.done) runs.delete(id);
      runs.clear();
      updateAbort();
      fill(log, empty);
      select.value = app.sessionKey;
      loadHistory();
    });

    this.connected = () => {
      // A run that was streaming when the socket dropped may have ended
      // unseen; the history reload shows what it left.
      for (const r of runs.values()) finishRun(r, { error: 'connection lost; reloaded the history' });
      runs.clear();
      loadSessions();
      loadHistory();
      loadIdentity();
    };
    this.refresh = () => {
      loadSessions();
      loadHistory();
    };
    this.show = () => input.focus();
    fill(log, empty);
    if (gw.state === 'connected') this.connected();
  },
};
