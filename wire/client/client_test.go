package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func healthMethod(c *fakeConn, id string, _ json.RawMessage) { c.res(id, map[string]any{"ok": true}) }

func TestHandshakeSignsTheChallengeNonce(t *testing.T) {
	f := newFake(t, &fakeGateway{Token: "shared", Methods: map[string]func(*fakeConn, string, json.RawMessage){"health": healthMethod}})
	state := t.TempDir()
	out, err := CallOnce(ctxT(t), Options{URL: f.URL(), Token: "shared", StateDir: state}, 0, "health", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"ok":true}` {
		t.Errorf("result %s", out)
	}
	p, nonce, sigErr := f.lastConnect()
	if sigErr != nil {
		t.Errorf("signature does not verify: %v", sigErr)
	}
	if p.Device == nil || p.Device.Nonce != nonce || nonce == "" {
		t.Fatalf("device block %+v, want the challenge nonce %q", p.Device, nonce)
	}
	if p.Client.ID != "cli" || p.Client.Mode != "cli" || p.Client.InstanceID == "" || p.Role != "operator" ||
		!reflect.DeepEqual(p.Scopes, CLIScopes) || p.MinProtocol != 3 || p.MaxProtocol != 3 {
		t.Errorf("connect params %+v", p)
	}
	if p.Auth == nil || p.Auth.Token != "shared" {
		t.Errorf("auth %+v, want the shared token", p.Auth)
	}
	// The identity was created under the state dir and reused next time.
	id, err := device.LoadOrCreate(filepath.Join(state, "identity", "device.json"))
	if err != nil || id.DeviceID() != p.Device.ID {
		t.Errorf("identity file: %v, id %s vs sent %s", err, id.DeviceID(), p.Device.ID)
	}
}

func TestNoChallengeConnectsWithV1AfterTheWait(t *testing.T) {
	f := newFake(t, &fakeGateway{NoChallenge: true, Methods: map[string]func(*fakeConn, string, json.RawMessage){"health": healthMethod}})
	start := time.Now()
	c, err := Dial(ctxT(t), Options{URL: f.URL(), StateDir: t.TempDir(), ChallengeWait: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("connected after %v, before the challenge wait ran out", waited)
	}
	p, _, sigErr := f.lastConnect()
	if p.Device == nil || p.Device.Nonce != "" || sigErr != nil {
		t.Errorf("want a v1 signature without nonce: device %+v, verify %v", p.Device, sigErr)
	}
	if c.Hello().Server.Version != "fake" || c.Hello().Policy.TickIntervalMs != 30000 {
		t.Errorf("hello %+v", c.Hello())
	}
}

func TestDeviceTokenStoredPreferredAndDroppedOnFailure(t *testing.T) {
	f := newFake(t, &fakeGateway{Token: "shared", IssueToken: "devtok0123456789abcdef0123456789",
		Methods: map[string]func(*fakeConn, string, json.RawMessage){"health": healthMethod}})
	state := t.TempDir()
	opts := Options{URL: f.URL(), Token: "shared", StateDir: state}
	if _, err := CallOnce(ctxT(t), opts, 0, "health", nil); err != nil {
		t.Fatal(err)
	}
	authPath := filepath.Join(state, "identity", "device-auth.json")
	b, err := os.ReadFile(authPath)
	if err != nil || !strings.Contains(string(b), f.IssueToken) {
		t.Fatalf("device-auth.json = %s (%v), want the issued token", b, err)
	}
	if _, err := CallOnce(ctxT(t), opts, 0, "health", nil); err != nil {
		t.Fatal(err)
	}
	p, _, sigErr := f.lastConnect()
	if p.Auth == nil || p.Auth.Token != f.IssueToken || sigErr != nil {
		t.Errorf("second connect auth %+v (verify %v), want the stored device token", p.Auth, sigErr)
	}

	// The gateway forgets the device token: the connect fails, the client
	// deletes the stored token, and the call after that uses the shared one.
	f.mu.Lock()
	f.IssueToken = ""
	f.mu.Unlock()
	_, err = CallOnce(ctxT(t), opts, 0, "health", nil)
	want := "gateway closed (1008): unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	var shape *wire.ErrorShape
	var ce *CloseError
	if !errors.As(err, &shape) || shape.Code != wire.ErrInvalidRequest || !errors.As(err, &ce) || ce.Code != 1008 {
		t.Errorf("error chain: shape %+v close %+v", shape, ce)
	}
	if b, _ := os.ReadFile(authPath); strings.Contains(string(b), "devtok") {
		t.Errorf("stale device token kept: %s", b)
	}
	if _, err := CallOnce(ctxT(t), opts, 0, "health", nil); err != nil {
		t.Fatalf("call after dropping the token: %v", err)
	}
	if p, _, _ := f.lastConnect(); p.Auth == nil || p.Auth.Token != "shared" {
		t.Errorf("auth %+v, want the shared token again", p.Auth)
	}
}

func TestCallErrorsAndTwoStage(t *testing.T) {
	f := newFake(t, &fakeGateway{Methods: map[string]func(*fakeConn, string, json.RawMessage){
		"agent": func(c *fakeConn, id string, _ json.RawMessage) {
			c.res(id, map[string]any{"runId": "r1", "status": "accepted"})
			time.Sleep(20 * time.Millisecond)
			c.res(id, map[string]any{"runId": "r1", "status": "ok"})
		},
		"echo": func(c *fakeConn, id string, p json.RawMessage) { c.res(id, p) },
	}})
	c, err := Dial(ctxT(t), Options{URL: f.URL(), Token: "x", NoDevice: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	err = c.Call(ctxT(t), "no.such.method", nil, nil)
	var shape *wire.ErrorShape
	if !errors.As(err, &shape) || shape.Message != "unknown method: no.such.method" {
		t.Errorf("err = %v, want the gateway's error shape", err)
	}
	var res struct{ Status string }
	if err := c.Call(ctxT(t), "agent", map[string]any{}, &res, ExpectFinal()); err != nil || res.Status != "ok" {
		t.Errorf("expectFinal: %+v %v, want the final response", res, err)
	}
	if err := c.Call(ctxT(t), "agent", map[string]any{}, &res); err != nil || res.Status != "accepted" {
		t.Errorf("plain call: %+v %v, want the ack", res, err)
	}
	var echo map[string]int
	if err := c.Call(ctxT(t), "echo", map[string]int{"a": 1}, &echo); err != nil || echo["a"] != 1 {
		t.Errorf("echo %v %v", echo, err)
	}
	if p, _, _ := f.lastConnect(); p.Device != nil {
		t.Error("NoDevice still sent a device block")
	}
}

func TestEventsAndSeqGaps(t *testing.T) {
	f := newFake(t, &fakeGateway{AfterHello: func(c *fakeConn) {
		// Sent straight after hello-ok: the client must not drop them
		// while Dial is still returning.
		for _, s := range []int64{5, 6, 8, 9, 12} {
			c.event("tick", s, map[string]any{"ts": s})
		}
	}})
	var mu sync.Mutex
	var seqs []int64
	var gaps [][2]int64
	done := make(chan struct{})
	c, err := Dial(ctxT(t), Options{URL: f.URL(), Token: "x", NoDevice: true,
		OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			seqs = append(seqs, *e.Seq)
			if len(seqs) == 5 {
				close(done)
			}
		},
		OnGap: func(exp, got int64) {
			mu.Lock()
			defer mu.Unlock()
			gaps = append(gaps, [2]int64{exp, got})
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("events not delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(seqs, []int64{5, 6, 8, 9, 12}) || !reflect.DeepEqual(gaps, [][2]int64{{7, 8}, {10, 12}}) {
		t.Errorf("seqs %v gaps %v", seqs, gaps)
	}
}

func TestTimeouts(t *testing.T) {
	f := newFake(t, &fakeGateway{Methods: map[string]func(*fakeConn, string, json.RawMessage){
		"hang": func(*fakeConn, string, json.RawMessage) {},
	}})
	_, err := CallOnce(ctxT(t), Options{URL: f.URL(), Token: "x", NoDevice: true}, 300*time.Millisecond, "hang", nil)
	if err == nil || err.Error() != "gateway timeout after 300ms" {
		t.Errorf("call timeout: %v", err)
	}

	silent := newFake(t, &fakeGateway{SilentConnect: true})
	_, err = CallOnce(ctxT(t), Options{URL: silent.URL(), Token: "x", NoDevice: true}, 300*time.Millisecond, "health", nil)
	if err == nil || err.Error() != "gateway timeout after 300ms" {
		t.Errorf("handshake timeout: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "ws://" + addr
	_, err = CallOnce(ctxT(t), Options{URL: url, NoDevice: true}, 0, "health", nil)
	want := "gateway not reachable at " + url + ": connection refused"
	var ue *UnreachableError
	if err == nil || err.Error() != want || !errors.As(err, &ue) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if _, err := Dial(ctxT(t), Options{URL: "http://x"}); err == nil || !strings.Contains(err.Error(), "invalid gateway URL") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestCloseMidCallIsReadable(t *testing.T) {
	f := newFake(t, &fakeGateway{Methods: map[string]func(*fakeConn, string, json.RawMessage){
		"restart": func(c *fakeConn, _ string, _ json.RawMessage) {
			c.send(map[string]any{"type": "event", "event": "shutdown", "seq": 1, "payload": map[string]any{"reason": "gateway restarting", "restartExpectedMs": 1500}})
			c.ws.Close(wire.CloseServiceRestart, "service restart")
		},
	}})
	c, err := Dial(ctxT(t), Options{URL: f.URL(), Token: "x", NoDevice: true})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(ctxT(t), "restart", nil, nil)
	var ce *CloseError
	if !errors.As(err, &ce) || err.Error() != "gateway closed (1012): service restart" {
		t.Errorf("err = %v", err)
	}
	<-c.Done()
	if err := c.Call(ctxT(t), "restart", nil, nil); !errors.As(err, &ce) {
		t.Errorf("call on a closed connection: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	var b Backoff
	var got []time.Duration
	for range 7 {
		got = append(got, b.Next())
	}
	s := time.Second
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
	b.Reset()
	if d := b.Next(); d != s {
		t.Errorf("after reset %v, want 1s", d)
	}
}

func TestReconnecting(t *testing.T) {
	var n atomic.Int32
	f := newFake(t, &fakeGateway{
		Methods: map[string]func(*fakeConn, string, json.RawMessage){"health": healthMethod},
		AfterHello: func(c *fakeConn) {
			if n.Add(1) < 3 { // drop the first two connections
				c.ws.Close(wire.CloseServiceRestart, "service restart")
			}
		},
	})
	var errs atomic.Int32
	r := &Reconnecting{
		Opts:    Options{URL: f.URL(), Token: "x", NoDevice: true},
		Backoff: Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond},
		OnError: func(error) { errs.Add(1) },
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.connectCount() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f.connectCount() < 3 {
		t.Fatalf("only %d connects", f.connectCount())
	}
	// The third connection stays up: calls go through it.
	var res map[string]bool
	var err error
	for time.Now().Before(deadline) {
		c, werr := r.WaitConnected(ctx)
		if werr != nil {
			t.Fatal(werr)
		}
		if err = c.Call(ctx, "health", nil, &res); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || !res["ok"] {
		t.Errorf("call via Reconnecting: %v %v", res, err)
	}
	if errs.Load() < 2 {
		t.Errorf("OnError saw %d lost connections, want 2", errs.Load())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}
