package client

// fakeGateway is a small in-test WebSocket server that follows the
// handshake of doc/protocol.md §1 (challenge, connect, hello-ok, error + close).
// It is a fake on purpose, not our gateway package: it lets each test pin the
// client's behaviour on paths a correct server reaches only by accident or
// timing (no challenge, a connect that never answers, a close mid-call, seq
// gaps, a two-stage ack), independent of how our server evolves. Tests
// against the real server live in the e2e test of cmd/clawdbot.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

type reqFrame struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// fakeConn is the server side of one connection, handed to method handlers.
type fakeConn struct {
	ws *websocket.Conn
	mu sync.Mutex
}

func (c *fakeConn) send(v any) {
	b, _ := json.Marshal(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.Write(context.Background(), websocket.MessageText, b)
}

func (c *fakeConn) res(id string, payload any) {
	c.send(map[string]any{"type": "res", "id": id, "ok": true, "payload": payload})
}

func (c *fakeConn) fail(id, code, msg string) {
	c.send(map[string]any{"type": "res", "id": id, "ok": false, "error": map[string]any{"code": code, "message": msg}})
}

func (c *fakeConn) event(name string, seq int64, payload any) {
	c.send(map[string]any{"type": "event", "event": name, "seq": seq, "payload": payload})
}

type fakeGateway struct {
	t   *testing.T
	srv *httptest.Server
	// NoChallenge skips connect.challenge (an older gateway).
	NoChallenge bool
	// SilentConnect never answers connect (handshake timeout path).
	SilentConnect bool
	// Token is the shared token; "" accepts any auth.
	Token string
	// IssueToken is the device token put in hello-ok.auth when a device
	// block is sent; "" sends no auth block.
	IssueToken string
	// Methods answer requests after the handshake.
	Methods map[string]func(c *fakeConn, id string, params json.RawMessage)
	// AfterHello runs right after hello-ok is sent.
	AfterHello func(c *fakeConn)

	mu       sync.Mutex
	connects []wire.ConnectParams
	nonces   []string
	sigErrs  []error
}

func newFake(t *testing.T, f *fakeGateway) *fakeGateway {
	f.t = t
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGateway) URL() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

func (f *fakeGateway) lastConnect() (wire.ConnectParams, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.connects) - 1
	if n < 0 {
		f.t.Fatal("no connect received")
	}
	return f.connects[n], f.nonces[n], f.sigErrs[n]
}

func (f *fakeGateway) connectCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.connects)
}

func (f *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	c := &fakeConn{ws: ws}
	ctx := context.Background()
	nonce := ""
	if !f.NoChallenge {
		nonce = "nonce-" + wire.NewID()
		c.send(map[string]any{"type": "event", "event": "connect.challenge", "payload": map[string]any{"nonce": nonce, "ts": 1}})
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		return
	}
	var req reqFrame
	if json.Unmarshal(data, &req) != nil || req.Method != "connect" {
		ws.Close(wire.ClosePolicyViolation, "invalid handshake")
		return
	}
	var p wire.ConnectParams
	_ = json.Unmarshal(req.Params, &p)
	var sigErr error
	if p.Device != nil {
		tok := ""
		if p.Auth != nil {
			tok = p.Auth.Token
		}
		payload := device.BuildPayload(device.PayloadFields{
			DeviceID: p.Device.ID, ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: p.Role,
			Scopes: p.Scopes, SignedAtMs: p.Device.SignedAt, Token: tok, Nonce: p.Device.Nonce,
		})
		sigErr = device.Verify(p.Device.PublicKey, payload, p.Device.Signature)
	}
	f.mu.Lock()
	f.connects = append(f.connects, p)
	f.nonces = append(f.nonces, nonce)
	f.sigErrs = append(f.sigErrs, sigErr)
	f.mu.Unlock()
	if f.SilentConnect {
		ws.Read(ctx) // until the client gives up
		return
	}
	if f.Token != "" {
		got := ""
		if p.Auth != nil {
			got = p.Auth.Token
		}
		if got != f.Token && (f.IssueToken == "" || got != f.IssueToken) {
			msg := "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)"
			c.fail(req.ID, wire.ErrInvalidRequest, msg)
			ws.Close(wire.ClosePolicyViolation, msg)
			return
		}
	}
	hello := map[string]any{
		"type": "hello-ok", "protocol": 3,
		"server":   map[string]any{"version": "fake", "connId": "c1"},
		"features": map[string]any{"methods": []string{"health"}, "events": []string{"tick"}},
		"snapshot": map[string]any{"presence": []any{}, "health": map[string]any{}, "stateVersion": map[string]any{"presence": 1, "health": 1}, "uptimeMs": 1},
		"policy":   map[string]any{"maxPayload": 524288, "maxBufferedBytes": 1572864, "tickIntervalMs": 30000},
	}
	if f.IssueToken != "" && p.Device != nil {
		hello["auth"] = map[string]any{"deviceToken": f.IssueToken, "role": "operator", "scopes": p.Scopes, "issuedAtMs": 1}
	}
	c.res(req.ID, hello)
	if f.AfterHello != nil {
		f.AfterHello(c)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var rq reqFrame
		if json.Unmarshal(data, &rq) != nil {
			continue
		}
		if h := f.Methods[rq.Method]; h != nil {
			go h(c, rq.ID, rq.Params)
		} else {
			c.fail(rq.ID, wire.ErrInvalidRequest, "unknown method: "+rq.Method)
		}
	}
}
