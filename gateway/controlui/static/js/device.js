// Device identity: an Ed25519 key pair made with WebCrypto, kept in
// localStorage (pkcs8 + raw public key, base64url), and the connect
// signature the gateway verifies (doc/protocol.md §1.5). Browsers give
// WebCrypto only in a secure context (HTTPS, or loopback over HTTP); with
// no key the UI connects without a device block, which the gateway
// accepts only with gateway.controlUi.allowInsecureAuth.

const KEY = 'clawdbot.controlui.device';

export function b64url(bytes) {
  let s = '';
  const b = new Uint8Array(bytes);
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(s) {
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (x) => x.toString(16).padStart(2, '0')).join('');
}

// supported: WebCrypto is there (secure context) and knows Ed25519.
export function cryptoAvailable() {
  return !!(globalThis.isSecureContext && globalThis.crypto && crypto.subtle);
}

let cached = null;

// loadIdentity returns {deviceId, publicKey, privateKey(CryptoKey)} or
// null when this browser cannot make an Ed25519 key here.
export async function loadIdentity() {
  if (cached) return cached;
  if (!cryptoAvailable()) return null;
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (saved && saved.version === 1 && saved.pkcs8 && saved.publicKey) {
      const privateKey = await crypto.subtle.importKey('pkcs8', fromB64url(saved.pkcs8), { name: 'Ed25519' }, false, ['sign']);
      const raw = fromB64url(saved.publicKey);
      cached = { deviceId: hex(await crypto.subtle.digest('SHA-256', raw)), publicKey: saved.publicKey, privateKey };
      return cached;
    }
  } catch {
    // A damaged or foreign entry: make a new key below.
  }
  try {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', pair.privateKey);
    const publicKey = b64url(raw);
    localStorage.setItem(KEY, JSON.stringify({ version: 1, publicKey, pkcs8: b64url(pkcs8), createdAtMs: Date.now() }));
    cached = { deviceId: hex(await crypto.subtle.digest('SHA-256', raw)), publicKey, privateKey: pair.privateKey };
    return cached;
  } catch {
    return null; // Ed25519 not implemented by this browser
  }
}

// signConnect builds the device block: the v2 payload when the gateway sent
// a nonce, v1 otherwise.
export async function signConnect(id, f) {
  const signedAt = Date.now();
  const parts = [f.nonce ? 'v2' : 'v1', id.deviceId, f.clientId, f.mode, f.role, f.scopes.join(','), String(signedAt), f.token || ''];
  if (f.nonce) parts.push(f.nonce);
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, id.privateKey, new TextEncoder().encode(parts.join('|')));
  const block = { id: id.deviceId, publicKey: id.publicKey, signature: b64url(sig), signedAt };
  if (f.nonce) block.nonce = f.nonce;
  return block;
}
