package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const testToken = "peer-token-0123456789"

// startServer runs a real gateway on 127.0.0.1:0 with a temp state dir.
func startServer(t testing.TB, mod func(*Options)) *Server {
	t.Helper()
	opts := Options{
		Addr:     "127.0.0.1:0",
		StateDir: t.TempDir(),
		Runtime:  RuntimeConfig{Auth: Auth{Mode: AuthToken, Token: testToken}},
	}
	opts.ConfigPath = opts.StateDir + "/clawdbot.json"
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// testClient is a raw protocol client over coder/websocket.
type testClient struct {
	t     testing.TB
	ws    *websocket.Conn
	nonce string
	ids   atomic.Int64
	// skipped events the test did not ask for (health, tick...)
}

func dial(t testing.TB, s *Server) *testClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.Addr().String()+"/", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(64 << 20)
	c := &testClient{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	ch := c.read()
	if ch["event"] != "connect.challenge" {
		t.Fatalf("first frame = %v, want connect.challenge", ch)
	}
	if _, has := ch["seq"]; has {
		t.Fatalf("challenge carries seq: %v", ch)
	}
	c.nonce = ch["payload"].(map[string]any)["nonce"].(string)
	return c
}

// read returns the next frame as a generic map.
func (c *testClient) read() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("bad frame %s: %v", data, err)
	}
	return m
}

// readRes returns the next res frame, skipping events.
func (c *testClient) readRes() map[string]any {
	c.t.Helper()
	for {
		m := c.read()
		if m["type"] == "res" {
			return m
		}
	}
}

// readEvent returns the next event named ev, skipping others.
func (c *testClient) readEvent(ev string) map[string]any {
	c.t.Helper()
	for {
		m := c.read()
		if m["type"] == "event" && m["event"] == ev {
			return m
		}
	}
}

func (c *testClient) sendRaw(s string) {
	c.t.Helper()
	if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *testClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	c.sendRaw(string(b))
}

// call sends a request and returns its response.
func (c *testClient) call(method string, params any) map[string]any {
	c.t.Helper()
	id := fmt.Sprintf("r%d", c.ids.Add(1))
	f := map[string]any{"type": "req", "id": id, "method": method}
	if params != nil {
		f["params"] = params
	}
	c.send(f)
	for {
		m := c.readRes()
		if m["id"] == id {
			return m
		}
	}
}

// connectParams are the CLI-like connect params of the captures.
func connectParams(token string) map[string]any {
	p := map[string]any{
		"minProtocol": 3, "maxProtocol": 3,
		"client": map[string]any{"id": "cli", "mode": "cli", "platform": "linux", "version": "peerbench-1"},
		"caps":   []string{}, "role": "operator", "scopes": []string{"operator.admin"},
	}
	if token != "" {
		p["auth"] = map[string]any{"token": token}
	}
	return p
}

// connect completes the handshake and returns hello-ok's payload.
func (c *testClient) connect(params map[string]any) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": params})
	res := c.readRes()
	if res["ok"] != true {
		c.t.Fatalf("connect failed: %v", res)
	}
	return res["payload"].(map[string]any)
}

// expectClose reads until the connection closes and checks code and reason.
func (c *testClient) expectClose(code websocket.StatusCode, reason string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err == nil {
			if strings.Contains(string(data), `"type":"res"`) {
				c.t.Fatalf("unexpected res before close: %s", data)
			}
			continue
		}
		var ce websocket.CloseError
		if !asCloseError(err, &ce) {
			c.t.Fatalf("read error %v, want close %d %q", err, code, reason)
		}
		if ce.Code != code || ce.Reason != reason {
			c.t.Fatalf("close = %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

func errOf(t testing.TB, res map[string]any) (code, msg string) {
	t.Helper()
	if res["ok"] != false {
		t.Fatalf("want ok:false, got %v", res)
	}
	e := res["error"].(map[string]any)
	return e["code"].(string), e["message"].(string)
}
