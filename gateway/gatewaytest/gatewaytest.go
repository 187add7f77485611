// Package gatewaytest is the gateway's test scaffolding in one place: a
// served gateway with cleanup, a raw protocol client over coder/websocket,
// the CLI-like connect params of the captures, and WaitFor, the one bounded
// poll with backoff that replaces sleeps as assertions.
//
// It does not import package gateway, so that gateway's own in-package
// tests can use it (Go forbids the cycle gateway → gatewaytest → gateway
// in a package's internal tests); Serve takes any server with the
// gateway's Serve/Shutdown/Addr methods, and the caller builds it with
// gateway.New. It is a test helper package: it imports testing, which the
// dependency test allows for it by name.
package gatewaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WaitFor polls cond until it is true, with backoff from 1 ms up to 50 ms
// between tries, and fails t when timeout passes first.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("condition not met within %v", timeout)
	}
}

// Poll is WaitFor's loop for callers that handle the timeout themselves
// (a benchmark's setup, a condition tried in several places); it reports
// whether cond became true in time.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// Server is what Serve needs from a gateway (*gateway.Server has it).
type Server interface {
	Serve() error
	Shutdown(ctx context.Context) error
	Addr() net.Addr
}

// Serve serves s in the background and shuts it down (bounded by 5 s)
// when the test ends.
func Serve[S Server](t testing.TB, s S) S {
	t.Helper()
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// Client is a raw protocol client: it reads and writes frames as generic
// maps, so a test sees exactly what is on the wire.
type Client struct {
	T  testing.TB
	WS *websocket.Conn
	// Nonce is the connect.challenge nonce (set by Dial).
	Nonce string
	ids   atomic.Int64
}

// Wrap makes a Client of an already dialled socket (no challenge read).
func Wrap(t testing.TB, ws *websocket.Conn) *Client { return &Client{T: t, WS: ws} }

// Dial opens a WebSocket to addr (host:port), reads connect.challenge
// (which must carry no seq) and keeps its nonce.
func Dial(t testing.TB, addr string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(64 << 20)
	c := &Client{T: t, WS: ws}
	t.Cleanup(func() { ws.CloseNow() })
	ch := c.Read()
	if ch["event"] != "connect.challenge" {
		t.Fatalf("first frame = %v, want connect.challenge", ch)
	}
	if _, has := ch["seq"]; has {
		t.Fatalf("challenge carries seq: %v", ch)
	}
	c.Nonce = ch["payload"].(map[string]any)["nonce"].(string)
	return c
}

// Read returns the next frame as a generic map.
func (c *Client) Read() map[string]any {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.WS.Read(ctx)
	if err != nil {
		c.T.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.T.Fatalf("bad frame %s: %v", data, err)
	}
	return m
}

// ReadRes returns the next res frame, skipping events.
func (c *Client) ReadRes() map[string]any {
	c.T.Helper()
	for {
		m := c.Read()
		if m["type"] == "res" {
			return m
		}
	}
}

// ReadEvent returns the next event named ev, skipping others.
func (c *Client) ReadEvent(ev string) map[string]any {
	c.T.Helper()
	for {
		m := c.Read()
		if m["type"] == "event" && m["event"] == ev {
			return m
		}
	}
}

// SendRaw writes one text frame as is.
func (c *Client) SendRaw(s string) {
	c.T.Helper()
	if err := c.WS.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// Send writes v as JSON.
func (c *Client) Send(v any) {
	c.T.Helper()
	b, _ := json.Marshal(v)
	c.SendRaw(string(b))
}

// Call sends a request and returns its response (params nil: none sent).
func (c *Client) Call(method string, params any) map[string]any {
	c.T.Helper()
	id := fmt.Sprintf("r%d", c.ids.Add(1))
	f := map[string]any{"type": "req", "id": id, "method": method}
	if params != nil {
		f["params"] = params
	}
	c.Send(f)
	for {
		m := c.ReadRes()
		if m["id"] == id {
			return m
		}
	}
}

// ConnectParams are the CLI-like connect params of the captures (no auth
// block when token is "").
func ConnectParams(token string) map[string]any {
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

// Connect completes the handshake and returns hello-ok's payload.
func (c *Client) Connect(params map[string]any) map[string]any {
	c.T.Helper()
	c.Send(map[string]any{"type": "req", "id": "pb-1", "method": "connect", "params": params})
	res := c.ReadRes()
	if res["ok"] != true {
		c.T.Fatalf("connect failed: %v", res)
	}
	return res["payload"].(map[string]any)
}

// ExpectClose reads until the connection closes and checks code and
// reason; a res frame before the close fails the test.
func (c *Client) ExpectClose(code websocket.StatusCode, reason string) {
	c.T.Helper()
	c.expectClose(code, reason, 15*time.Second, false)
}

// ExpectCloseAllowingFrames is ExpectClose that skips any frame first (a
// slow consumer drains its backlog before the close).
func (c *Client) ExpectCloseAllowingFrames(code websocket.StatusCode, reason string) {
	c.T.Helper()
	c.expectClose(code, reason, 20*time.Second, true)
}

func (c *Client) expectClose(code websocket.StatusCode, reason string, within time.Duration, anyFrame bool) {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, data, err := c.WS.Read(ctx)
		if err == nil {
			if !anyFrame && strings.Contains(string(data), `"type":"res"`) {
				c.T.Fatalf("unexpected res before close: %s", data)
			}
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.T.Fatalf("read error %v, want close %d %q", err, code, reason)
		}
		if ce.Code != code || ce.Reason != reason {
			c.T.Fatalf("close = %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

// ErrOf returns the code and message of a failed response.
func ErrOf(t testing.TB, res map[string]any) (code, msg string) {
	t.Helper()
	if res["ok"] != false {
		t.Fatalf("want ok:false, got %v", res)
	}
	e := res["error"].(map[string]any)
	return e["code"].(string), e["message"].(string)
}
