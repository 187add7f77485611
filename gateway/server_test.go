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

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
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
			c.Send(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": tc.mk(c.Nonce)})
			if code, msg := errOf(t, c.ReadRes()); code != "INVALID_REQUEST" || msg != tc.msg {
				t.Fatalf("got %s %q, want %q", code, msg, tc.msg)
			}
			c.ExpectClose(1008, tc.msg)
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
	watcher.Connect(connectParams(testToken))
	id := newIdentity(t, 3)
	admin := []string{"operator.admin"}

	c := dial(t, s)
	h := c.Connect(signedParams(id, testToken, c.Nonce, admin, time.Now().UnixMilli()))
	auth, ok := h["auth"].(map[string]any)
	if !ok || len(auth["deviceToken"].(string)) != 32 || auth["role"] != "operator" {
		t.Fatalf("hello-ok.auth = %v", h["auth"])
	}
	ev := watcher.ReadEvent("device.pair.resolved")
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
	h2 := c2.Connect(signedParams(id, tok, c2.Nonce, admin, time.Now().UnixMilli()))
	if h2["auth"].(map[string]any)["deviceToken"] != tok {
		t.Fatalf("token not reused: %v", h2["auth"])
	}
	// A device token is bound to its device: another device cannot use it.
	c3 := dial(t, s)
	c3.Send(map[string]any{"type": "req", "id": "x", "method": "connect", "params": signedParams(newIdentity(t, 4), tok, c3.Nonce, admin, time.Now().UnixMilli())})
	if _, msg := errOf(t, c3.ReadRes()); !strings.HasPrefix(msg, "unauthorized: gateway token mismatch") {
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
	op.Connect(connectParams(testToken))
	id := newIdentity(t, 5)
	admin := []string{"operator.admin"}
	remoteDial := func() *testClient {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+s.Addr().String(), &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Remote": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		c := gatewaytest.Wrap(t, ws)
		c.Nonce = c.Read()["payload"].(map[string]any)["nonce"].(string)
		return c
	}
	// Without a nonce a remote device is refused first.
	r0 := remoteDial()
	r0.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, testToken, "", admin, time.Now().UnixMilli())})
	if _, msg := errOf(t, r0.ReadRes()); msg != "device nonce required" {
		t.Fatalf("got %q", msg)
	}
	r := remoteDial()
	r.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, testToken, r.Nonce, admin, time.Now().UnixMilli())})
	res := r.ReadRes()
	code, msg := errOf(t, res)
	if code != "NOT_PAIRED" || msg != "pairing required" {
		t.Fatalf("got %s %q", code, msg)
	}
	reqID := res["error"].(map[string]any)["details"].(map[string]any)["requestId"].(string)
	r.ExpectClose(1008, "pairing required")
	ev := op.ReadEvent("device.pair.requested")
	if ev["payload"].(map[string]any)["requestId"] != reqID {
		t.Fatalf("requested event = %v", ev)
	}
	if res := op.Call("device.pair.approve", map[string]any{"requestId": reqID}); res["ok"] != true {
		t.Fatalf("approve = %v", res)
	}
	r2 := remoteDial()
	r2.Connect(signedParams(id, testToken, r2.Nonce, admin, time.Now().UnixMilli()))
}

func TestScopes(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	p := connectParams(testToken)
	p["scopes"] = []string{"operator.read"}
	c.Connect(p)
	if res := c.Call("system-presence", nil); res["ok"] != true {
		t.Fatalf("read method refused: %v", res)
	}
	for m, want := range map[string]string{
		"system-event": "missing scope: operator.admin", "config.get": "missing scope: operator.admin",
		"node.invoke": "missing scope: operator.write", "node.pair.list": "missing scope: operator.pairing",
		"no.such.method": "missing scope: operator.admin", "node.event": "unauthorized role: operator",
	} {
		if _, msg := errOf(t, c.Call(m, map[string]any{})); msg != want {
			t.Errorf("%s: %q, want %q", m, msg, want)
		}
	}
	n := dial(t, s)
	np := connectParams(testToken)
	np["role"] = "node"
	delete(np, "scopes")
	n.Connect(np)
	if _, msg := errOf(t, n.Call("system-presence", nil)); msg != "unauthorized role: node" {
		t.Fatalf("node calling read method: %q", msg)
	}
}

func TestOversizeFrame(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	big := `{"type":"req","id":"big","method":"health","params":{"x":"` + strings.Repeat("a", 512*1024) + `"}}`
	c.SendRaw(big)
	c.ExpectClose(websocket.StatusMessageTooBig, "read limited at 524289 bytes")
}

func TestSlowConsumer(t *testing.T) {
	s := startServer(t, nil)
	slow := dial(t, s)
	slow.Connect(connectParams(testToken))
	fast := dial(t, s)
	fast.Connect(connectParams(testToken))
	// The slow client never reads; broadcast big non-dropIfSlow events until
	// its backlog passes 1.5 MiB. The fast client keeps reading meanwhile.
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if _, _, err := fast.WS.Read(ctx); err != nil {
				return
			}
		}
	}()
	blob := strings.Repeat("x", 64*1024)
	// Broadcast until the slow client is cut off (bounded: the drain
	// below fails if it never is).
	gatewaytest.Poll(10*time.Second, func() bool {
		s.broadcast("health", map[string]string{"blob": blob}, nil, nil, false)
		return findConn(s, func(c *conn) bool { c.qmu.Lock(); defer c.qmu.Unlock(); return c.closed }) > 0
	})
	// Now drain the slow client: after its queued frames it must see 1008.
	slow.ExpectCloseAllowingFrames(1008, "slow consumer")
	// The slow client's drop reaches the table a moment after its close;
	// the fast one must still be there once it has.
	if !gatewaytest.Poll(5*time.Second, func() bool { return countConns(s) <= 1 }) || countConns(s) != 1 {
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

func TestTickCadence(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Runtime.TickInterval = 40 * time.Millisecond })
	c := dial(t, s)
	h := c.Connect(connectParams(testToken))
	if h["policy"].(map[string]any)["tickIntervalMs"] != float64(40) {
		t.Fatalf("policy = %v", h["policy"])
	}
	var last float64
	for i := 0; i < 3; i++ {
		ev := c.ReadEvent("tick")
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
	obs.Connect(connectParams(testToken))
	// A ui client is tracked (the cli observer is not).
	ui := dial(t, s)
	p := connectParams(testToken)
	p["client"] = map[string]any{"id": "gateway-client", "mode": "ui", "platform": "linux", "version": "1", "instanceId": "Inst-1"}
	ui.Connect(p)
	list := obs.Call("system-presence", nil)["payload"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["instanceId"] != "Inst-1" {
		t.Fatalf("presence = %v", list)
	}
	ui.WS.Close(websocket.StatusNormalClosure, "")
	ev := obs.ReadEvent("presence")
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
	if res := obs.Call("system-event", map[string]any{"text": "Node: lab (10.0.0.9) · app 1.2 · mode ui · reason launch"}); res["ok"] != true {
		t.Fatalf("system-event = %v", res)
	}
	clk.Add(presence.TTL + time.Second)
	list = obs.Call("system-presence", nil)["payload"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["reason"] != "self" {
		t.Fatalf("after TTL, presence = %v", list)
	}
}

func TestLogsTail(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "gateway.log")
	s := startServer(t, func(o *Options) { o.LogFile = func() string { return logPath } })
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	if err := os.WriteFile(logPath, []byte("one\ntwo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.Call("logs.tail", map[string]any{})["payload"].(map[string]any)
	if r["cursor"] != float64(8) || len(r["lines"].([]any)) != 2 {
		t.Fatalf("tail = %v", r)
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("three\n")
	f.Close()
	r = c.Call("logs.tail", map[string]any{"cursor": 8})["payload"].(map[string]any)
	if lines := r["lines"].([]any); len(lines) != 1 || lines[0] != "three" || r["reset"] != false {
		t.Fatalf("tail from cursor = %v", r)
	}
	os.WriteFile(logPath, []byte("new\n"), 0o600) // rotated: cursor past the end
	r = c.Call("logs.tail", map[string]any{"cursor": 14})["payload"].(map[string]any)
	if r["reset"] != true {
		t.Fatalf("tail after rotation = %v", r)
	}
	if _, msg := errOf(t, c.Call("logs.tail", map[string]any{"limit": 0})); !strings.HasPrefix(msg, "invalid logs.tail params") {
		t.Fatalf("limit 0: %q", msg)
	}
}

func TestNodeInvoke(t *testing.T) {
	s := startServer(t, nil)
	op := dial(t, s)
	op.Connect(connectParams(testToken))
	node := dial(t, s)
	np := connectParams(testToken)
	np["role"] = "node"
	np["client"] = map[string]any{"id": "node-host", "mode": "node", "platform": "linux", "version": "1"}
	np["commands"] = []string{"system.run", "camera.snap"}
	delete(np, "scopes")
	node.Connect(np)
	// camera.snap was filtered out at connect (linux allowlist).
	done := make(chan map[string]any, 1)
	go func() {
		done <- op.Call("node.invoke", map[string]any{"nodeId": "node-host", "command": "system.run", "params": map[string]any{"cmd": "ls"}, "idempotencyKey": "k1"})
	}()
	req := node.ReadEvent("node.invoke.request")
	if _, has := req["seq"]; has {
		t.Fatalf("node.invoke.request carries seq: %v", req)
	}
	pl := req["payload"].(map[string]any)
	if pl["paramsJSON"] != `{"cmd":"ls"}` {
		t.Fatalf("request = %v", pl)
	}
	node.Call("node.invoke.result", map[string]any{"id": pl["id"], "nodeId": "node-host", "ok": true, "payloadJSON": `{"out":"x"}`})
	res := <-done
	if res["ok"] != true || res["payload"].(map[string]any)["payload"].(map[string]any)["out"] != "x" {
		t.Fatalf("invoke = %v", res)
	}
	_, msg := errOf(t, op.Call("node.invoke", map[string]any{"nodeId": "node-host", "command": "camera.snap", "idempotencyKey": "k2"}))
	if msg != "node command not allowed" {
		t.Fatalf("camera.snap on linux: %q", msg)
	}
	_, msg = errOf(t, op.Call("node.invoke", map[string]any{"nodeId": "nope", "command": "system.run", "idempotencyKey": "k3"}))
	if msg != "node not connected" {
		t.Fatalf("unknown node: %q", msg)
	}
	_ = base64.RawURLEncoding
}

func TestConfigMethods(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	g := c.Call("config.get", nil)["payload"].(map[string]any)
	if g["exists"] != false {
		t.Fatalf("get = %v", g)
	}
	res := c.Call("config.set", map[string]any{"raw": `{gateway: {mode: "local"}}`})
	if res["ok"] != true {
		t.Fatalf("set = %v", res)
	}
	g = c.Call("config.get", nil)["payload"].(map[string]any)
	if _, msg := errOf(t, c.Call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`})); msg != "config base hash required; re-run config.get and retry" {
		t.Fatalf("patch without hash: %q", msg)
	}
	if _, msg := errOf(t, c.Call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`, "baseHash": "00"})); msg != "config changed since last load; re-run config.get and retry" {
		t.Fatalf("patch stale hash: %q", msg)
	}
	res = c.Call("config.patch", map[string]any{"raw": `{"gateway":{"port":20000}}`, "baseHash": g["hash"]})
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
