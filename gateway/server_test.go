package gateway

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/wire/device"
)

// signedParams builds CLI-like connect params with a device block signed by
// id over the v2 payload (or v1 when nonce is "").
func signedParams(id *device.Identity, token, nonce string, scopes []string, signedAt int64) map[string]any {
	p := connectParams(token)
	p["scopes"] = scopes
	payload := device.BuildPayload(device.PayloadFields{DeviceID: id.DeviceID(), ClientID: "cli", ClientMode: "cli",
		Role: "operator", Scopes: scopes, SignedAtMs: signedAt, Token: token, Nonce: nonce})
	d := map[string]any{"id": id.DeviceID(), "publicKey": id.PublicKeyBase64URL(), "signature": id.Sign(payload), "signedAt": signedAt}
	if nonce != "" {
		d["nonce"] = nonce
	}
	p["device"] = d
	return p
}

func newIdentity(t *testing.T, seed byte) *device.Identity {
	t.Helper()
	id, err := device.FromSeed(bytesOf(seed, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func bytesOf(b byte, n int) []byte { return []byte(strings.Repeat(string([]byte{b}), n)) }

func TestDeviceChecks(t *testing.T) {
	s := startServer(t, nil)
	now := time.Now().UnixMilli()
	id := newIdentity(t, 1)
	other := newIdentity(t, 2)
	admin := []string{"operator.admin"}
	base := func(n string) map[string]any { return signedParams(id, testToken, n, admin, now) }
	cases := []struct {
		name string
		mk   func(nonce string) map[string]any
		msg  string
	}{
		{"identity mismatch", func(n string) map[string]any {
			p := base(n)
			p["device"].(map[string]any)["id"] = other.DeviceID()
			return p
		}, "device identity mismatch"},
		{"expired", func(n string) map[string]any { return signedParams(id, testToken, n, admin, now-11*60*1000) }, "device signature expired"},
		{"nonce mismatch", func(string) map[string]any { return signedParams(id, testToken, "not-the-nonce", admin, now) }, "device nonce mismatch"},
		{"wrong key signature", func(n string) map[string]any {
			p := base(n)
			p["device"].(map[string]any)["signature"] = other.Sign("whatever")
			return p
		}, "device signature invalid"},
		{"scopes differ from signed", func(n string) map[string]any {
			p := base(n)
			p["scopes"] = []string{"operator.read"}
			return p
		}, "device signature invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			c.send(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": tc.mk(c.nonce)})
			if code, msg := errOf(t, c.readRes()); code != "INVALID_REQUEST" || msg != tc.msg {
				t.Fatalf("got %s %q, want %q", code, msg, tc.msg)
			}
			c.expectClose(1008, tc.msg)
		})
	}
}

// The device vector of the capture (frames-device-handshake.json): a real
// Node CLI signature over the v2 payload must verify with our code.
func TestCapturedDeviceSignature(t *testing.T) {
	pub := "hNyxn7dlonYMh5CiuRvS0nIguzlMi_9uu0Rb_kKDdr4"
	sig := "OKEF6QkKOukvbIEuc9MJ3nzH5ut_-fwQyAmVZuE3ZSA2_j7bgbYtmbY5W0x039cSCYj-Phx16aQIhmhTU-HSAQ"
	payload := device.BuildPayload(device.PayloadFields{
		DeviceID: "7142568f1b1bdb29c76e03317c7aa8cb943f33468260b7b347f8a20e3912ce96", ClientID: "cli", ClientMode: "cli",
		Role: "operator", Scopes: []string{"operator.admin"}, SignedAtMs: 1795625155686, Token: testToken,
		Nonce: "ffb53134-78b9-4f87-8920-a51210250368",
	})
	if err := device.Verify(pub, payload, sig); err != nil {
		t.Fatalf("captured signature does not verify: %v", err)
	}
	got, _ := device.DeviceIDFromPublicKey(pub)
	if got != "7142568f1b1bdb29c76e03317c7aa8cb943f33468260b7b347f8a20e3912ce96" {
		t.Fatalf("device id = %s", got)
	}
}

// Local devices pair silently and get a device token that works on the next
// connect in place of the shared token; the pairing is persisted 0600.
func TestLocalPairingAndDeviceToken(t *testing.T) {
	s := startServer(t, nil)
	watcher := dial(t, s)
	watcher.connect(connectParams(testToken))
	id := newIdentity(t, 3)
	admin := []string{"operator.admin"}

	c := dial(t, s)
	h := c.connect(signedParams(id, testToken, c.nonce, admin, time.Now().UnixMilli()))
	auth, ok := h["auth"].(map[string]any)
	if !ok || len(auth["deviceToken"].(string)) != 32 || auth["role"] != "operator" {
		t.Fatalf("hello-ok.auth = %v", h["auth"])
	}
	ev := watcher.readEvent("device.pair.resolved")
	if ev["payload"].(map[string]any)["decision"] != "approved" {
		t.Fatalf("resolved = %v", ev)
	}
	st, err := os.Stat(filepath.Join(s.opts.StateDir, "devices", "paired.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("paired.json: %v %v", err, st)
	}
	// Next connect with the device token instead of the shared token.
	c2 := dial(t, s)
	tok := auth["deviceToken"].(string)
	h2 := c2.connect(signedParams(id, tok, c2.nonce, admin, time.Now().UnixMilli()))
	if h2["auth"].(map[string]any)["deviceToken"] != tok {
		t.Fatalf("token not reused: %v", h2["auth"])
	}
	// A device token is bound to its device: another device cannot use it.
	c3 := dial(t, s)
	c3.send(map[string]any{"type": "req", "id": "x", "method": "connect", "params": signedParams(newIdentity(t, 4), tok, c3.nonce, admin, time.Now().UnixMilli())})
	if _, msg := errOf(t, c3.readRes()); !strings.HasPrefix(msg, "unauthorized: gateway token mismatch") {
		t.Fatalf("foreign device token: %q", msg)
	}
}

// A non-local device gets NOT_PAIRED + device.pair.requested; after an
// operator approves it, it connects. Non-local is simulated with the
// Options.IsLocal seam keyed on a test header (the test runs on loopback).
func TestRemotePairing(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.IsLocal = func(r *http.Request) bool { return r.Header.Get("X-Test-Remote") == "" }
	})
	op := dial(t, s)
	op.connect(connectParams(testToken))
	id := newIdentity(t, 5)
	admin := []string{"operator.admin"}
	remoteDial := func() *testClient {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+s.Addr().String(), &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Remote": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		c := &testClient{t: t, ws: ws}
		c.nonce = c.read()["payload"].(map[string]any)["nonce"].(string)
		return c
	}
	// Without a nonce a remote device is refused first.
	r0 := remoteDial()
	r0.send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, testToken, "", admin, time.Now().UnixMilli())})
	if _, msg := errOf(t, r0.readRes()); msg != "device nonce required" {
		t.Fatalf("got %q", msg)
	}
	r := remoteDial()
	r.send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, testToken, r.nonce, admin, time.Now().UnixMilli())})
	res := r.readRes()
	code, msg := errOf(t, res)
	if code != "NOT_PAIRED" || msg != "pairing required" {
		t.Fatalf("got %s %q", code, msg)
	}
	reqID := res["error"].(map[string]any)["details"].(map[string]any)["requestId"].(string)
	r.expectClose(1008, "pairing required")
	ev := op.readEvent("device.pair.requested")
	if ev["payload"].(map[string]any)["requestId"] != reqID {
		t.Fatalf("requested event = %v", ev)
	}
	if res := op.call("device.pair.approve", map[string]any{"requestId": reqID}); res["ok"] != true {
		t.Fatalf("approve = %v", res)
	}
	r2 := remoteDial()
	r2.connect(signedParams(id, testToken, r2.nonce, admin, time.Now().UnixMilli()))
}

func TestScopes(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	p := connectParams(testToken)
	p["scopes"] = []string{"operator.read"}
	c.connect(p)
	if res := c.call("system-presence", nil); res["ok"] != true {
		t.Fatalf("read method refused: %v", res)
	}
	for m, want := range map[string]string{
		"system-event": "missing scope: operator.admin", "config.get": "missing scope: operator.admin",
		"node.invoke": "missing scope: operator.write", "node.pair.list": "missing scope: operator.pairing",
		"no.such.method": "missing scope: operator.admin", "node.event": "unauthorized role: operator",
	} {
		if _, msg := errOf(t, c.call(m, map[string]any{})); msg != want {
			t.Errorf("%s: %q, want %q", m, msg, want)
		}
	}
	n := dial(t, s)
	np := connectParams(testToken)
	np["role"] = "node"
	delete(np, "scopes")
	n.connect(np)
	if _, msg := errOf(t, n.call("system-presence", nil)); msg != "unauthorized role: node" {
		t.Fatalf("node calling read method: %q", msg)
	}
}

func TestOversizeFrame(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.connect(connectParams(testToken))
	big := `{"type":"req","id":"big","method":"health","params":{"x":"` + strings.Repeat("a", 512*1024) + `"}}`
	c.sendRaw(big)
	c.expectClose(websocket.StatusMessageTooBig, "read limited at 524289 bytes")
}

func TestSlowConsumer(t *testing.T) {
	s := startServer(t, nil)
	slow := dial(t, s)
	slow.connect(connectParams(testToken))
	fast := dial(t, s)
	fast.connect(connectParams(testToken))
	// The slow client never reads; broadcast big non-dropIfSlow events until
	// its backlog passes 1.5 MiB. The fast client keeps reading meanwhile.
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if _, _, err := fast.ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	blob := strings.Repeat("x", 64*1024)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.broadcast("health", map[string]string{"blob": blob}, nil, nil, false)
		cut := findConn(s, func(c *conn) bool { c.qmu.Lock(); defer c.qmu.Unlock(); return c.closed })
		if cut > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Now drain the slow client: after its queued frames it must see 1008.
	slow.expectCloseAllowingFrames(1008, "slow consumer")
	time.Sleep(50 * time.Millisecond)
	if countConns(s) != 1 {
		t.Fatalf("fast client was dropped too (conns=%d)", countConns(s))
	}
	cancel()
	wg.Wait()
}

func countConns(s *Server) int {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return len(s.conns)
}

func findConn(s *Server, f func(*conn) bool) int {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	n := 0
	for c := range s.conns {
		if f(c) {
			n++
		}
	}
	return n
}

func (c *testClient) expectCloseAllowingFrames(code websocket.StatusCode, reason string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := c.ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !asCloseError(err, &ce) || ce.Code != code || ce.Reason != reason {
			c.t.Fatalf("got %v, want close %d %q", err, code, reason)
		}
		return
	}
}

func TestTickCadence(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Runtime.TickInterval = 40 * time.Millisecond })
	c := dial(t, s)
	h := c.connect(connectParams(testToken))
	if h["policy"].(map[string]any)["tickIntervalMs"] != float64(40) {
		t.Fatalf("policy = %v", h["policy"])
	}
	var last float64
	for i := 0; i < 3; i++ {
		ev := c.readEvent("tick")
		seq := ev["seq"].(float64)
		if seq <= last {
			t.Fatalf("seq not increasing: %v after %v", seq, last)
		}
		last = seq
		if _, ok := ev["payload"].(map[string]any)["ts"].(float64); !ok {
			t.Fatalf("tick = %v", ev)
		}
	}
}

// fakeClock is an injectable clock for presence expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestPresenceLifecycle(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	s := startServer(t, func(o *Options) { o.Now = clk.Now })
	obs := dial(t, s)
	obs.connect(connectParams(testToken))
	// A ui client is tracked (the cli observer is not).
	ui := dial(t, s)
	p := connectParams(testToken)
	p["client"] = map[string]any{"id": "gateway-client", "mode": "ui", "platform": "linux", "version": "1", "instanceId": "Inst-1"}
	ui.connect(p)
	list := obs.call("system-presence", nil)["payload"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["instanceId"] != "Inst-1" {
		t.Fatalf("presence = %v", list)
	}
	ui.ws.Close(websocket.StatusNormalClosure, "")
	ev := obs.readEvent("presence")
	entries := ev["payload"].(map[string]any)["presence"].([]any)
	found := false
	for _, e := range entries {
		if e.(map[string]any)["reason"] == "disconnect" {
			found = true
		}
	}
	if !found || ev["stateVersion"] == nil {
		t.Fatalf("disconnect presence = %v", ev)
	}
	// system-event upserts and broadcasts.
	if res := obs.call("system-event", map[string]any{"text": "Node: lab (10.0.0.9) · app 1.2 · mode ui · reason launch"}); res["ok"] != true {
		t.Fatalf("system-event = %v", res)
	}
	clk.Add(presence.TTL + time.Second)
	list = obs.call("system-presence", nil)["payload"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["reason"] != "self" {
		t.Fatalf("after TTL, presence = %v", list)
	}
}

func TestLogsTail(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "gateway.log")
	s := startServer(t, func(o *Options) { o.LogFile = func() string { return logPath } })
	c := dial(t, s)
	c.connect(connectParams(testToken))
	if err := os.WriteFile(logPath, []byte("one\ntwo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.call("logs.tail", map[string]any{})["payload"].(map[string]any)
	if r["cursor"] != float64(8) || len(r["lines"].([]any)) != 2 {
		t.Fatalf("tail = %v", r)
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("three\n")
	f.Close()
	r = c.call("logs.tail", map[string]any{"cursor": 8})["payload"].(map[string]any)
	if lines := r["lines"].([]any); len(lines) != 1 || lines[0] != "three" || r["reset"] != false {
		t.Fatalf("tail from cursor = %v", r)
	}
	os.WriteFile(logPath, []byte("new\n"), 0o600) // rotated: cursor past the end
	r = c.call("logs.tail", map[string]any{"cursor": 14})["payload"].(map[string]any)
	if r["reset"] != true {
		t.Fatalf("tail after rotation = %v", r)
	}
	if _, msg := errOf(t, c.call("logs.tail", map[string]any{"limit": 0})); !strings.HasPrefix(msg, "invalid logs.tail params") {
		t.Fatalf("limit 0: %q", msg)
	}
}

func TestNodeInvoke(t *testing.T) {
	s := startServer(t, nil)
	op := dial(t, s)
	op.connect(connectParams(testToken))
	node := dial(t, s)
	np := connectParams(testToken)
	np["role"] = "node"
	np["client"] = map[string]any{"id": "node-host", "mode": "node", "platform": "linux", "version": "1"}
	np["commands"] = []string{"system.run", "camera.snap"}
	delete(np, "scopes")
	node.connect(np)
	// camera.snap was filtered out at connect (linux allowlist).
	done := make(chan map[string]any, 1)
	go func() {
		done <- op.call("node.invoke", map[string]any{"nodeId": "node-host", "command": "system.run", "params": map[string]any{"cmd": "ls"}, "idempotencyKey": "k1"})
	}()
	req := node.readEvent("node.invoke.request")
	if _, has := req["seq"]; has {
		t.Fatalf("node.invoke.request carries seq: %v", req)
	}
	pl := req["payload"].(map[string]any)
	if pl["paramsJSON"] != `{"cmd":"ls"}` {
		t.Fatalf("request = %v", pl)
	}
	node.call("node.invoke.result", map[string]any{"id": pl["id"], "nodeId": "node-host", "ok": true, "payloadJSON": `{"out":"x"}`})
	res := <-done
	if res["ok"] != true || res["payload"].(map[string]any)["payload"].(map[string]any)["out"] != "x" {
		t.Fatalf("invoke = %v", res)
	}
	_, msg := errOf(t, op.call("node.invoke", map[string]any{"nodeId": "node-host", "command": "camera.snap", "idempotencyKey": "k2"}))
	if msg != "node command not allowed" {
		t.Fatalf("camera.snap on linux: %q", msg)
	}
	_, msg = errOf(t, op.call("node.invoke", map[string]any{"nodeId": "nope", "command": "system.run", "idempotencyKey": "k3"}))
	if msg != "node not connected" {
		t.Fatalf("unknown node: %q", msg)
	}
	_ = base64.RawURLEncoding
}

func TestConfigMethods(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.connect(connectParams(testToken))
	g := c.call("config.get", nil)["payload"].(map[string]any)
	if g["exists"] != false {
		t.Fatalf("get = %v", g)
	}
	res := c.call("config.set", map[string]any{"raw": `{gateway: {mode: "local"}}`})
	if res["ok"] != true {
		t.Fatalf("set = %v", res)
	}
	g = c.call("config.get", nil)["payload"].(map[string]any)
	if _, msg := errOf(t, c.call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`})); msg != "config base hash required; re-run config.get and retry" {
		t.Fatalf("patch without hash: %q", msg)
	}
	if _, msg := errOf(t, c.call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`, "baseHash": "00"})); msg != "config changed since last load; re-run config.get and retry" {
		t.Fatalf("patch stale hash: %q", msg)
	}
	res = c.call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`, "baseHash": g["hash"]})
	if res["ok"] != true {
		t.Fatalf("patch = %v", res)
	}
	p := res["payload"].(map[string]any)
	if p["restart"].(map[string]any)["delayMs"] != float64(2000) {
		t.Fatalf("restart = %v", p["restart"])
	}
	b, _ := os.ReadFile(s.opts.ConfigPath)
	if !strings.Contains(string(b), "20000") || !strings.Contains(string(b), "local") {
		t.Fatalf("config after patch: %s", b)
	}
}
