package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/canvas"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/profiles"
)

// haveIPv6Loopback reports whether ::1 can be bound here.
func haveIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// reachable reports whether a TCP dial to host:port succeeds.
func reachable(host string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func portOf(t *testing.T, a net.Addr) int {
	t.Helper()
	return a.(*net.TCPAddr).Port
}

// --bind lan (0.0.0.0) is IPv4 only, like the original: no dual-stack
// [::] socket, so [::1]:port does not answer.
func TestLanBindIsIPv4Only(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Addr = "0.0.0.0:0" })
	if got := s.Addr().String(); got != "0.0.0.0:"+strconv.Itoa(portOf(t, s.Addr())) {
		t.Fatalf("Addr = %s, want 0.0.0.0:port", got)
	}
	port := portOf(t, s.Addr())
	if !reachable("127.0.0.1", port) {
		t.Fatal("a lan gateway does not answer on 127.0.0.1")
	}
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback on this machine: cannot check that [::1] is not served")
	}
	if reachable("::1", port) {
		t.Fatalf("a lan gateway answers on [::1]:%d: it listens dual-stack", port)
	}
}

// A loopback bind serves 127.0.0.1 and ::1 on one port, so a client that
// resolves localhost to ::1 gets the gateway too; Addr is the IPv4 one.
func TestLoopbackBindServesBothFamilies(t *testing.T) {
	s := startServer(t, nil)
	port := portOf(t, s.Addr())
	if h, _, _ := net.SplitHostPort(s.Addr().String()); h != "127.0.0.1" {
		t.Fatalf("Addr = %s, want 127.0.0.1 primary", s.Addr())
	}
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback on this machine: the gateway serves 127.0.0.1 only")
	}
	c := dialAddr(t, net.JoinHostPort("::1", strconv.Itoa(port)))
	c.Connect(connectParams(testToken))
	if res := c.Call("health", map[string]any{}); res["ok"] != true {
		t.Fatalf("health over [::1]: %v", res)
	}
	// Both listeners stop with the server.
	c.WS.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if reachable("::1", port) || reachable("127.0.0.1", port) {
		t.Fatal("a listener survived Shutdown")
	}
}

// The canvas host's own port follows the gateway's rule.
func TestCanvasPortFollowsBindRule(t *testing.T) {
	for _, tc := range []struct {
		host  string
		want6 bool
	}{{"0.0.0.0", false}, {"127.0.0.1", true}} {
		h, err := canvas.New(canvas.Options{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		m := &canvasMount{h: h, addr: net.JoinHostPort(tc.host, "0"), log: slog.New(slog.DiscardHandler)}
		m.Start()
		if len(m.lns) == 0 {
			t.Fatalf("%s: canvas port not bound", tc.host)
		}
		port := portOf(t, m.lns[0].Addr())
		if !reachable("127.0.0.1", port) {
			t.Errorf("%s: canvas port not reachable on 127.0.0.1", tc.host)
		}
		if haveIPv6Loopback() {
			if got := reachable("::1", port); got != tc.want6 {
				t.Errorf("%s: canvas on [::1] reachable = %v, want %v", tc.host, got, tc.want6)
			}
		}
		m.Stop()
		if reachable("127.0.0.1", port) {
			t.Errorf("%s: canvas port open after Stop", tc.host)
		}
	}
}

// The gateway itself refuses auth none on a listener that is not
// loopback, whatever the caller checked: in New (bound or handed over)
// and in Restart, on the address that really serves.
func TestNoAuthRefusedOnNonLoopbackListener(t *testing.T) {
	none := RuntimeConfig{Auth: Auth{Mode: AuthNone}}
	_, err := New(Options{Addr: "0.0.0.0:0", StateDir: t.TempDir(), Runtime: none})
	var se *profiles.StartError
	if !errors.As(err, &se) || se.Reason != profiles.StartBindWithoutAuth || !errors.Is(err, profiles.ErrNotStartable) {
		t.Fatalf("New on 0.0.0.0 without auth: %v, want a bind-without-auth StartError", err)
	}
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Listener: ln, StateDir: t.TempDir(), Runtime: none}); !errors.Is(err, profiles.ErrNotStartable) {
		t.Fatalf("New with a handed-over 0.0.0.0 listener without auth: %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("the refused listener was left open")
	}
	if s, err := New(Options{Addr: "127.0.0.1:0", StateDir: t.TempDir(), Runtime: none}); err != nil {
		t.Fatalf("loopback without auth refused: %v", err)
	} else {
		closeAll(s.lns)
	}

	s := startServer(t, func(o *Options) { o.Addr = "0.0.0.0:0" })
	port := strconv.Itoa(portOf(t, s.Addr()))
	if err := s.Restart(context.Background(), none); !errors.Is(err, profiles.ErrNotStartable) {
		t.Fatalf("Restart to auth none on 0.0.0.0: %v", err)
	}
	c := dialAddr(t, "127.0.0.1:"+port)
	c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
	if res := c.ReadRes(); res["ok"] != false {
		t.Fatalf("a wrong token connected after the refused restart: %v", res)
	}
	ok := dialAddr(t, "127.0.0.1:"+port)
	ok.Connect(connectParams(testToken))
	if res := ok.Call("config.get", map[string]any{}); res["ok"] != true {
		t.Fatalf("config.get with the right token: %v", res)
	}
}

func dialAddr(t *testing.T, addr string) *testClient {
	t.Helper()
	return gatewaytest.Dial(t, addr)
}
