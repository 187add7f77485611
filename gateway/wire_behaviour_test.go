package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// hello-ok has the capture's keys in the capture's order
// (testdata/wire/frames/handshake-ok.json), down to snapshot.sessionDefaults.
func TestHelloOkKeysMatchCapture(t *testing.T) {
	raw, err := os.ReadFile("../testdata/wire/frames/handshake-ok.json") // the shared protocol fixture
	if err != nil {
		t.Fatal(err)
	}
	var capture struct {
		Frames []struct {
			Data json.RawMessage `json:"data"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(raw, &capture); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, f := range capture.Frames {
		var probe struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(f.Data, &probe) == nil && probe.Type == "res" && strings.Contains(string(probe.Payload), `"hello-ok"`) {
			want = probe.Payload
			break
		}
	}
	if want == nil {
		t.Fatal("no hello-ok in the capture")
	}
	s := startServer(t, nil)
	c := dial(t, s)
	c.Send(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": connectParams(testToken)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.WS.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	// Compare the structure outside the health summary and the method list
	// (their contents are pinned by other tests).
	filter := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			if !strings.HasPrefix(p, ".snapshot.health.") && !strings.HasPrefix(p, ".snapshot.presence[].") {
				out = append(out, p)
			}
		}
		return out
	}
	if w, g := filter(keyPaths(t, want)), filter(keyPaths(t, res.Payload)); !slices.Equal(w, g) {
		t.Fatalf("hello-ok keys differ from the capture\n got: %v\nwant: %v", g, w)
	}
}

// The snapshot's presence includes the connecting client, except a cli.
func TestHelloPresenceIncludesClient(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	p := connectParams(testToken)
	p["client"] = map[string]any{"id": "clawdbot-macos", "mode": "ui", "platform": "macos", "version": "1", "instanceId": "Self-1"}
	h := c.Connect(p)
	list := h["snapshot"].(map[string]any)["presence"].([]any)
	if presenceByKey(t, list, "instanceId", "Self-1") == nil {
		t.Fatalf("connecting client not in its own snapshot: %v", list)
	}
	c2 := dial(t, s)
	h2 := c2.Connect(connectParams(testToken))
	for _, e := range h2["snapshot"].(map[string]any)["presence"].([]any) {
		if e.(map[string]any)["mode"] == "cli" {
			t.Fatalf("cli client in presence: %v", e)
		}
	}
}

// Frames that are JSON but not objects: before the handshake they close
// 1008 "invalid request frame" without a res; after it they get a res with
// id "invalid" and "must be object" (frames-invalid-frames-after-connect).
func TestNonObjectFrames(t *testing.T) {
	s := startServer(t, nil)
	for _, raw := range []string{`[1,2,3]`, `"just a string"`, `null`, `42`} {
		c := dial(t, s)
		c.SendRaw(raw)
		c.ExpectClose(1008, "invalid request frame")
	}
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	for _, raw := range []string{`[1,2,3]`, `"just a string"`, `null`} {
		c.SendRaw(raw)
		res := c.ReadRes()
		if _, msg := errOf(t, res); res["id"] != "invalid" || msg != "invalid request frame: must be object" {
			t.Fatalf("%s: %v", raw, res)
		}
	}
}

// connect after the handshake: a non-admin caller gets the scope error
// first (doc/protocol.md §1.6, §3.1).
func TestReconnectRequestNonAdmin(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	p := connectParams(testToken)
	p["scopes"] = []string{"operator.read"}
	c.Connect(p)
	if _, msg := errOf(t, c.Call("connect", map[string]any{})); msg != "missing scope: operator.admin" {
		t.Fatalf("connect again, non-admin: %q", msg)
	}
}

// Trusted proxies (doc/protocol.md §10.5): only a listed peer's X-Forwarded-For /
// X-Real-IP decide the client address; a forwarded client is not local, so
// a device must carry a nonce.
func TestTrustedProxyLocality(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Runtime.TrustedProxies = []string{"127.0.0.1"} })
	untrusted := startServer(t, nil)
	id := newIdentity(t, 31)
	try := func(srv *Server, h http.Header) (bool, string) {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+srv.Addr().String(), &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		c := gatewaytest.Wrap(t, ws)
		c.Read()
		c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(id, testToken, "", cliScopes, time.Now().UnixMilli())})
		res := c.ReadRes()
		if res["ok"] == true {
			return true, ""
		}
		_, msg := errOf(t, res)
		return false, msg
	}
	cases := []struct {
		srv   *Server
		hdr   http.Header
		local bool
	}{
		{s, http.Header{"X-Forwarded-For": {"203.0.113.5, 127.0.0.1"}}, false},
		{s, http.Header{"X-Real-Ip": {"203.0.113.6"}}, false},
		{s, http.Header{"X-Forwarded-For": {"127.0.0.1"}}, false}, // forwarded: never local
		{s, http.Header{"X-Forwarded-For": {"127.0.0.1, 203.0.113.5"}}, false},
		{s, nil, true},
		{untrusted, http.Header{"X-Forwarded-For": {"127.0.0.1"}}, true}, // 2026.1.24: headers of an untrusted peer are ignored
	}
	for i, tc := range cases {
		ok, msg := try(tc.srv, tc.hdr)
		if tc.local && !ok {
			t.Errorf("case %d: local client refused: %q", i, msg)
		}
		if !tc.local && msg != "device nonce required" {
			t.Errorf("case %d: remote client: ok=%v %q, want device nonce required", i, ok, msg)
		}
	}
}

// A handshake failure longer than 120 bytes: the res carries the whole
// message, the close reason is cut to 120 bytes (doc/protocol.md §2.2).
func TestLongHandshakeErrorTruncatedInClose(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	p := connectParams(testToken)
	p["client"] = map[string]any{"id": "not-a-known-client", "mode": "nope", "platform": "linux", "version": "1", "extraA": 1, "extraB": 2}
	c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": p})
	_, msg := errOf(t, c.ReadRes())
	if len(msg) <= 120 || !strings.HasPrefix(msg, "invalid connect params: ") {
		t.Fatalf("message = %q", msg)
	}
	c.ExpectClose(1008, msg[:120])
}

// Empty operator scopes default to operator.admin after the signature is
// checked over the scopes as sent (an empty field) (doc/protocol.md §1.4, §1.5).
func TestEmptyScopesDefaultToAdmin(t *testing.T) {
	s := startServer(t, nil)
	id := newIdentity(t, 32)
	c := dial(t, s)
	h := c.Connect(signedParams(id, testToken, c.Nonce, []string{}, time.Now().UnixMilli()))
	if sc := h["auth"].(map[string]any)["scopes"].([]any); len(sc) != 1 || sc[0] != "operator.admin" {
		t.Fatalf("hello-ok.auth.scopes = %v", sc)
	}
	if res := c.Call("config.get", map[string]any{}); res["ok"] != true {
		t.Fatalf("admin method refused: %v", res)
	}
}

// A connect without params: the original validates undefined against the
// ConnectParams schema, which fails with "must be object".
func TestConnectWithoutParams(t *testing.T) {
	s := startServer(t, nil)
	for _, raw := range []string{`{"type":"req","id":"a","method":"connect"}`, `{"type":"req","id":"a","method":"connect","params":null}`} {
		c := dial(t, s)
		c.SendRaw(raw)
		want := "invalid connect params: must be object"
		if _, msg := errOf(t, c.ReadRes()); msg != want {
			t.Errorf("%s: %q, want %q", raw, msg, want)
		}
		c.ExpectClose(1008, want)
	}
}
