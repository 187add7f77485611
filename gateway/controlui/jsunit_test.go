package controlui

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/wire/device"
)

// jsUnit runs the pure functions of the UI's modules under Node (the
// browser tests in browsertest cover the DOM): the embedded files are
// copied as an ES-module package and script's default export, an async
// function, returns a JSON-able value.
func jsUnit(t *testing.T, script string) json.RawMessage {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the browser tests still cover these functions")
	}
	dir := t.TempDir()
	err = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(static, p)
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "static", "package.json"), []byte(`{"type":"module"}`), 0o644)
	main := filepath.Join(dir, "static", "unit.mjs")
	os.WriteFile(main, []byte(script+"\nconsole.log(JSON.stringify(await run()));\n"), 0o644)
	out, err := exec.Command(node, main).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return json.RawMessage(strings.TrimSpace(string(out)))
}

func TestJSParseSchedule(t *testing.T) {
	out := jsUnit(t, `import { parseSchedule } from './js/tabs/cron.js';
async function run() {
  return ['every 5m', 'every 90s', 'every 1.5h', 'cron 0 9 * * *', 'cron 0 9 * * * Europe/Berlin', 'at 2026-01-01T09:00:00Z', 'tomorrow', 'every 5 parsecs']
    .map((s) => parseSchedule(s));
}`)
	want := `[{"kind":"every","everyMs":300000},{"kind":"every","everyMs":90000},{"kind":"every","everyMs":5400000},` +
		`{"kind":"cron","expr":"0 9 * * *"},{"kind":"cron","expr":"0 9 * * *","tz":"Europe/Berlin"},{"kind":"at","atMs":1767258000000},null,null]`
	if string(out) != want {
		t.Errorf("parseSchedule:\n got %s\nwant %s", out, want)
	}
}

func TestJSParseLogLine(t *testing.T) {
	out := jsUnit(t, `import { parseLine } from './js/tabs/logs.js';
async function run() {
  return [
    parseLine('{"0":"{\\"subsystem\\":\\"gateway/ws\\"}","1":"client connected","_meta":{"name":"{\\"subsystem\\":\\"gateway/ws\\"}","date":"2026-12-02T02:27:55.000Z","logLevelId":3,"logLevelName":"INFO"},"time":"2026-12-02T02:27:55.000Z","level":"info","msg":"client connected"}'),
    parseLine('2026-12-02T02:27:55Z WARN something odd'),
    parseLine('{broken json'),
  ];
}`)
	var got []map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []map[string]string{
		{"level": "info", "sub": "gateway/ws", "msg": "client connected", "time": "2026-12-02T02:27:55.000Z"},
		{"level": "warn", "sub": "", "msg": "2026-12-02T02:27:55Z WARN something odd", "time": ""},
		{"level": "", "sub": "", "msg": "{broken json", "time": ""},
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("line %d: %s = %q, want %q", i, k, got[i][k], v)
			}
		}
	}
}

// The raw config editor's errors: line and column of the first bad
// character, the message without json5's prefix.
func TestJSParseJSON5(t *testing.T) {
	out := jsUnit(t, `import { parseJSON5, json5Ready } from './js/tabs/config.js';
async function run() {
  await json5Ready();
  return [
    parseJSON5('{\n  // comment\n  gateway: { port: 18789, },\n}\n'),
    parseJSON5('{\n  gateway: {\n    port: 1234,,\n  },\n}\n'),
    parseJSON5('{ a: "unterminated'),
  ];
}`)
	want := `[{"value":{"gateway":{"port":18789}}},{"error":"invalid character ','","line":3,"column":16},{"error":"invalid end of input","line":1,"column":19}]`
	if string(out) != want {
		t.Errorf("parseJSON5:\n got %s\nwant %s", out, want)
	}
}

func TestJSTextOf(t *testing.T) {
	out := jsUnit(t, `import { textOf } from './js/tabs/chat.js';
async function run() {
  return [
    textOf({ role: 'assistant', content: [{ type: 'text', text: 'Hello ' }, { type: 'toolCall', name: 'x' }, { type: 'text', text: 'world' }] }),
    textOf({ role: 'user', content: 'plain' }),
    textOf(null),
    textOf({ content: [{ type: 'thinking', thinking: 'hmm' }] }),
  ];
}`)
	if want := `["Hello world","plain","",""]`; string(out) != want {
		t.Errorf("textOf: got %s, want %s", out, want)
	}
}

// The browser's device block verifies with the gateway's own check (the
// same v2 payload, base64url key and signature), using Node's WebCrypto.
func TestJSDeviceSignatureVerifies(t *testing.T) {
	out := jsUnit(t, `globalThis.isSecureContext = true;
const mem = new Map();
globalThis.localStorage = { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, String(v)), removeItem: (k) => mem.delete(k) };
import { loadIdentity, signConnect } from './js/device.js';
async function run() {
  const id = await loadIdentity();
  const f = { nonce: 'nonce-1', clientId: 'clawdbot-control-ui', mode: 'ui', role: 'operator', scopes: ['operator.admin', 'operator.pairing'], token: 'tok' };
  return { block: await signConnect(id, f), stored: mem.has('clawdbot.controlui.device') };
}`)
	var got struct {
		Block struct {
			ID, PublicKey, Signature, Nonce string
			SignedAt                        int64
		}
		Stored bool
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !got.Stored {
		t.Error("the key pair was not kept in localStorage")
	}
	verifyDeviceBlock(t, got.Block.ID, got.Block.PublicKey, got.Block.Signature, got.Block.Nonce, got.Block.SignedAt)
}

func verifyDeviceBlock(t *testing.T, id, pub, sig, nonce string, signedAt int64) {
	t.Helper()
	if want, err := device.DeviceIDFromPublicKey(pub); err != nil || want != id {
		t.Fatalf("device id %q, want sha256 of the key %q (%v)", id, want, err)
	}
	payload := device.BuildPayload(device.PayloadFields{DeviceID: id, ClientID: "clawdbot-control-ui", ClientMode: "ui",
		Role: "operator", Scopes: []string{"operator.admin", "operator.pairing"}, SignedAtMs: signedAt, Token: "tok", Nonce: nonce})
	if err := device.Verify(pub, payload, sig); err != nil {
		t.Errorf("signature does not verify: %v (payload %q)", err, payload)
	}
	if nonce != "nonce-1" {
		t.Errorf("nonce %q", nonce)
	}
	// A changed field breaks it: the check is not vacuous.
	if err := device.Verify(pub, strings.Replace(payload, "|tok|", "|other|", 1), sig); err == nil {
		t.Error("a payload with another token verified too")
	}
}
