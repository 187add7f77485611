// The gateway client: one WebSocket to the page's own origin, the connect
// handshake (client id clawdbot-control-ui, mode ui, protocol 3, the
// operator scopes, a signed device block where WebCrypto allows), request
// ids and their promises, events, reconnect with backoff, seq-gap
// detection and the tick watchdog.

import { loadIdentity, signConnect } from './device.js';

export const CLIENT_ID = 'clawdbot-control-ui';
export const CLIENT_MODE = 'ui';
const SCOPES = ['operator.admin', 'operator.approvals', 'operator.pairing'];
const CHALLENGE_WAIT_MS = 750;
const BACKOFF_START_MS = 800;
const BACKOFF_MAX_MS = 15000;
const REQUEST_TIMEOUT_MS = 130000;

const LS = {
  token: 'clawdbot.controlui.token',
  password: 'clawdbot.controlui.password',
  deviceToken: 'clawdbot.controlui.deviceToken',
  instance: 'clawdbot.controlui.instanceId',
};

export function uuid() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function store(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // storage disabled: the secret lasts for this page only
  }
}
function load(key) {
  try {
    return localStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

export class RequestError extends Error {
  constructor(err) {
    super((err && err.message) || 'request failed');
    this.code = (err && err.code) || 'UNAVAILABLE';
    this.details = err && err.details;
  }
}

export class Gateway {
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.state = 'disconnected';
    this.hello = null;
    this.pending = new Map();
    this.listeners = new Map();
    this.lastSeq = null;
    this.backoff = BACKOFF_START_MS;
    this.retryTimer = null;
    this.wantOpen = false;
    this.lastError = '';
    this.lastFrameAt = 0;
    this.watchdog = null;
    this.usedDeviceToken = false;
    this.instanceId = load(LS.instance) || uuid();
    store(LS.instance, this.instanceId);
  }

  get token() { return load(LS.token); }
  get password() { return load(LS.password); }
  setSecrets(token, password) {
    store(LS.token, token);
    store(LS.password, password);
  }

  // on(name, fn) subscribes to an event name, or to the client's own
  // 'state', 'hello' and 'gap' notifications.
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }
  emit(name, ...args) {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of set) {
      try {
        fn(...args);
      } catch (e) {
        console.warn('listener', name, e);
      }
    }
  }

  setState(state, error) {
    if (error !== undefined) this.lastError = error;
    this.state = state;
    this.emit('state', state, this.lastError);
  }

  // hasCredentials: a token, a password or a device token from an
  // earlier hello. Without one a connect can only fail, and each failure
  // takes a slot of the gateway's failed-auth limiter.
  hasCredentials() {
    return Boolean(this.token || this.password || load(LS.deviceToken));
  }

  start() {
    this.wantOpen = true;
    this.backoff = BACKOFF_START_MS;
    this.open();
  }

  stop() {
    this.wantOpen = false;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, 'closed by user');
  }

  // reconnect drops the socket and opens a new one at once (new secrets).
  reconnect() {
    clearTimeout(this.retryTimer);
    this.wantOpen = true;
    this.backoff = BACKOFF_START_MS;
    if (this.ws) {
      const old = this.ws;
      this.ws = null;
      old.close(1000, 'reconnect');
      this.failPending('reconnecting');
    }
    this.open();
  }

  open() {
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.setState('disconnected', String(e.message || e));
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.hello = null;
    let sent = false;
    let challengeTimer = null;
    const sendConnect = (nonce) => {
      if (sent || this.ws !== ws) return;
      sent = true;
      clearTimeout(challengeTimer);
      this.sendConnect(ws, nonce).catch((e) => {
        this.lastError = String(e.message || e);
        ws.close(4008, 'connect failed');
      });
    };
    ws.onopen = () => {
      challengeTimer = setTimeout(() => sendConnect(undefined), CHALLENGE_WAIT_MS);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        return;
      }
      if (frame.type === 'event' && frame.event === 'connect.challenge' && !this.hello) {
        sendConnect(frame.payload && frame.payload.nonce);
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (ev) => {
      clearTimeout(challengeTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.watchdog);
      this.failPending(ev.reason || 'connection closed');
      const wasConnected = !!this.hello;
      this.hello = null;
      if (!this.lastError && !wasConnected) this.lastError = ev.reason || `connection closed (${ev.code})`;
      this.setState('disconnected');
      if (wasConnected) this.backoff = BACKOFF_START_MS;
      this.scheduleRetry();
    };
  }

  scheduleRetry() {
    if (!this.wantOpen) return;
    clearTimeout(this.retryTimer);
    const wait = this.backoff;
    this.backoff = Math.min(BACKOFF_MAX_MS, Math.round(this.backoff * 1.7));
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  async sendConnect(ws, nonce) {
    const shared = this.token;
    const deviceToken = load(LS.deviceToken);
    const auth = {};
    this.usedDeviceToken = false;
    if (shared) auth.token = shared;
    else if (deviceToken) {
      auth.token = deviceToken;
      this.usedDeviceToken = true;
    }
    if (this.password) auth.password = this.password;
    const client = {
      id: CLIENT_ID,
      displayName: 'Control UI',
      version: 'controlui-1',
      platform: (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || 'web',
      mode: CLIENT_MODE,
      instanceId: this.instanceId,
    };
    const params = {
      minProtocol: 3,
      maxProtocol: 3,
      client,
      role: 'operator',
      scopes: SCOPES,
      caps: [],
      userAgent: navigator.userAgent,
      locale: navigator.language || 'en',
    };
    if (Object.keys(auth).length) params.auth = auth;
    const id = await loadIdentity();
    if (id) {
      params.device = await signConnect(id, {
        nonce, clientId: CLIENT_ID, mode: CLIENT_MODE, role: 'operator', scopes: SCOPES, token: auth.token || '',
      });
    }
    if (this.ws !== ws) return;
    const reqId = uuid();
    this.connectId = reqId;
    ws.send(JSON.stringify({ type: 'req', id: reqId, method: 'connect', params }));
  }

  onFrame(frame) {
    if (frame.type === 'res' && frame.id === this.connectId && !this.hello) {
      this.onConnectRes(frame);
      return;
    }
    if (frame.type === 'res') {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.payload);
      else p.reject(new RequestError(frame.error));
      return;
    }
    if (frame.type === 'event') {
      if (typeof frame.seq === 'number') {
        if (this.lastSeq !== null && frame.seq > this.lastSeq + 1) {
          this.emit('gap', this.lastSeq + 1, frame.seq);
        }
        this.lastSeq = frame.seq;
      }
      this.emit(frame.event, frame.payload, frame);
      this.emit('*', frame.event, frame.payload, frame);
    }
  }

  onConnectRes(frame) {
    if (!frame.ok) {
      const err = frame.error || {};
      let msg = err.message || 'connect failed';
      if (err.code === 'NOT_PAIRED' && err.details && err.details.requestId) {
        const id = err.details.requestId;
        msg = `pairing required: approve this browser in the Nodes tab of a Control UI on the gateway's machine, or run: clawdbot gateway call device.pair.approve --params '{"requestId":"${id}"}' (request ${id}); this page retries by itself`;
      }
      if (/secure context/.test(msg)) {
        msg += ': this browser has no WebCrypto device key here. Open the UI on the gateway\'s own machine (127.0.0.1) or over HTTPS, or set gateway.controlUi.allowInsecureAuth';
      }
      this.lastError = msg;
      const unauthorized = /^unauthorized/.test(err.message || '');
      if (unauthorized && this.usedDeviceToken) {
        // A stale device token: forget it and retry with what is left.
        store(LS.deviceToken, '');
        this.backoff = BACKOFF_START_MS;
      } else if (unauthorized || /secure context|device identity mismatch|protocol mismatch/.test(err.message || '')) {
        // Retrying cannot help until the user changes something.
        this.wantOpen = false;
      }
      if (this.ws) this.ws.close(4008, 'connect failed');
      return;
    }
    const hello = frame.payload || {};
    this.hello = hello;
    this.lastError = '';
    this.backoff = BACKOFF_START_MS;
    this.lastSeq = null;
    if (hello.auth && hello.auth.deviceToken) store(LS.deviceToken, hello.auth.deviceToken);
    const tick = (hello.policy && hello.policy.tickIntervalMs) || 30000;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (this.ws && Date.now() - this.lastFrameAt > tick * 2.5) this.ws.close(4000, 'tick timeout');
    }, tick);
    this.setState('connected', '');
    this.emit('hello', hello);
  }

  hasMethod(name) {
    const m = this.hello && this.hello.features && this.hello.features.methods;
    return Array.isArray(m) && m.includes(name);
  }

  request(method, params, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.ws || !this.hello || this.ws.readyState !== WebSocket.OPEN) {
        reject(new RequestError({ code: 'UNAVAILABLE', message: 'not connected to the gateway' }));
        return;
      }
      const id = uuid();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError({ code: 'UNAVAILABLE', message: `${method}: no answer in time` }));
      }, timeoutMs || REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params: params || {} }));
    });
  }

  failPending(reason) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError({ code: 'UNAVAILABLE', message: reason }));
    }
    this.pending.clear();
  }
}
