package client_test

// Tests of the client against our real gateway server (package gateway),
// in process on 127.0.0.1:0: the device identity, token and event paths
// the fake cannot prove interoperate.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

func startGateway(t *testing.T, token string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	srv, err := gateway.New(gateway.Options{
		Listener: ln, StateDir: state, ConfigPath: filepath.Join(state, "clawdbot.json"), Version: "test",
		Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: token}},
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws://" + ln.Addr().String()
}

func TestRealGatewayDeviceTokenRoundTrip(t *testing.T) {
	url := startGateway(t, "real-token")
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := client.Options{URL: url, Token: "real-token", StateDir: state}

	out, err := client.CallOnce(ctx, opts, 0, "health", nil)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ OK bool }
	if json.Unmarshal(out, &h) != nil || !h.OK {
		t.Errorf("health %s", out)
	}
	b, err := os.ReadFile(filepath.Join(state, "identity", "device-auth.json"))
	if err != nil || !strings.Contains(string(b), `"token"`) {
		t.Fatalf("device token not stored: %s %v", b, err)
	}
	// Next time the stored device token replaces the shared one: a call
	// with no shared token at all must still be let in.
	opts.Token = ""
	if _, err := client.CallOnce(ctx, opts, 0, "health", nil); err != nil {
		t.Fatalf("connect with the stored device token: %v", err)
	}

	// A fresh device with a wrong token is refused with a readable close.
	_, err = client.CallOnce(ctx, client.Options{URL: url, Token: "nope", StateDir: t.TempDir()}, 0, "health", nil)
	var ce *client.CloseError
	if !errors.As(err, &ce) || ce.Code != wire.ClosePolicyViolation ||
		!strings.HasPrefix(err.Error(), "gateway closed (1008): unauthorized: gateway token mismatch") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestRealGatewayEventsAndErrors(t *testing.T) {
	url := startGateway(t, "real-token")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := make(chan client.Event, 16)
	c, err := client.Dial(ctx, client.Options{URL: url, Token: "real-token", StateDir: t.TempDir(),
		Scopes: client.CLIScopes, OnEvent: func(e client.Event) {
			select {
			case events <- e:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Hello().Protocol != wire.ProtocolVersion || c.Hello().Policy.TickIntervalMs != wire.DefaultTickIntervalMs {
		t.Errorf("hello %+v", c.Hello())
	}
	// The gateway broadcasts health after every connect (doc/protocol.md §1.6).
	select {
	case e := <-events:
		if e.Event != "health" || e.Seq == nil {
			t.Errorf("first event %s seq %v, want health with a seq", e.Event, e.Seq)
		}
	case <-time.After(5 * time.Second):
		t.Error("no health event after connect")
	}
	err = c.Call(ctx, "no.such.method", nil, nil)
	var shape *wire.ErrorShape
	if !errors.As(err, &shape) || shape.Code != wire.ErrInvalidRequest || shape.Message != "unknown method: no.such.method" {
		t.Errorf("unknown method: %v", err)
	}
	var tail struct {
		File  string   `json:"file"`
		Lines []string `json:"lines"`
	}
	if err := c.Call(ctx, "logs.tail", map[string]any{"limit": 5}, &tail); err != nil || tail.File == "" || tail.Lines == nil {
		t.Errorf("logs.tail: %+v %v", tail, err)
	}
}

// BenchmarkCallOnceHealth is one CLI invocation's RPC cost against our
// gateway: dial, challenge, signed connect (device token after the first),
// health, close.
func BenchmarkCallOnceHealth(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	state := b.TempDir()
	srv, err := gateway.New(gateway.Options{Listener: ln, StateDir: state, ConfigPath: filepath.Join(state, "c.json"),
		Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: "t"}}})
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	opts := client.Options{URL: "ws://" + ln.Addr().String(), Token: "t", StateDir: b.TempDir()}
	ctx := context.Background()
	for b.Loop() {
		if _, err := client.CallOnce(ctx, opts, 0, "health", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallHealth is one request on an open connection.
func BenchmarkCallHealth(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	state := b.TempDir()
	srv, err := gateway.New(gateway.Options{Listener: ln, StateDir: state, ConfigPath: filepath.Join(state, "c.json"),
		Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: "t"}}})
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	ctx := context.Background()
	c, err := client.Dial(ctx, client.Options{URL: "ws://" + ln.Addr().String(), Token: "t", NoDevice: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if err := c.Call(ctx, "health", nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealGatewayExplicitAuthIsChecked: with a device token cached, an
// explicit (ExplicitAuth) shared token is sent as given, so a wrong one is
// refused; the cached device token is kept, since this connect never used it.
func TestRealGatewayExplicitAuthIsChecked(t *testing.T) {
	url := startGateway(t, "real-token")
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := client.CallOnce(ctx, client.Options{URL: url, Token: "real-token", StateDir: state}, 0, "health", nil); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(state, "identity", "device-auth.json")
	before, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}

	// Without ExplicitAuth the stored device token masks a wrong shared one.
	if _, err := client.CallOnce(ctx, client.Options{URL: url, Token: "nope", StateDir: state}, 0, "health", nil); err != nil {
		t.Fatalf("ambient wrong token with a stored device token: %v", err)
	}
	_, err = client.CallOnce(ctx, client.Options{URL: url, Token: "nope", ExplicitAuth: true, StateDir: state}, 0, "health", nil)
	var ce *client.CloseError
	if !errors.As(err, &ce) || ce.Code != wire.ClosePolicyViolation ||
		!strings.HasPrefix(err.Error(), "gateway closed (1008): unauthorized: gateway token mismatch") {
		t.Errorf("explicit wrong token: %v", err)
	}
	if _, err := client.CallOnce(ctx, client.Options{URL: url, Token: "real-token", ExplicitAuth: true, StateDir: state}, 0, "health", nil); err != nil {
		t.Errorf("explicit right token: %v", err)
	}
	after, err := os.ReadFile(cache)
	if err != nil || string(after) != string(before) {
		t.Errorf("device token cache changed by explicit-auth calls:\n%s\nwant\n%s (%v)", after, before, err)
	}
}
