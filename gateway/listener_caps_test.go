package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/wire"
)

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	return len(ents)
}

// keepAliveGet sends one keep-alive GET on a fresh connection and reads
// its response, leaving the connection open and idle.
func keepAliveGet(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c, br
}

// Idle keep-alive connections are closed after IdleTimeout, and the
// process's descriptors return to their baseline.
func TestIdleKeepAliveClosed(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Limits.IdleTimeout = 200 * time.Millisecond })
	base := openFDs(t)
	const n = 50
	conns := make([]net.Conn, 0, n)
	readers := make([]*bufio.Reader, 0, n)
	for range n {
		c, br := keepAliveGet(t, s.Addr().String())
		conns, readers = append(conns, c), append(readers, br)
	}
	if got := openFDs(t); got < base+n {
		t.Fatalf("%d descriptors with %d connections open, baseline %d", got, n, base)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := readers[i].ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("connection %d: read %v, want EOF (server closed the idle connection)", i, err)
		}
		c.Close()
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return openFDs(t) <= base })
	if _, total := s.preAuth.counts("127.0.0.1"); total != 0 {
		t.Fatalf("%d pre-handshake connections still counted", total)
	}
}

// A plain HTTP request that never completes is cut after ReadTimeout,
// while an upgraded WebSocket outlives it: net/http clears the deadline
// when the connection is hijacked.
func TestReadTimeoutSparesWebSockets(t *testing.T) {
	const rt = 150 * time.Millisecond
	s := startServer(t, func(o *Options) { o.Limits.ReadTimeout, o.Limits.IdleTimeout = rt, rt })
	ws := dial(t, s)
	ws.Connect(connectParams(testToken))
	pending := dial(t, s) // upgraded, handshake not sent yet

	half, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	fmt.Fprintf(half, "GET / HTTP/1.1\r\nHost: x\r\n") // never finished
	half.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(half); err != nil {
		t.Fatalf("half-sent request: %v, want the server to close it", err)
	}
	// The half-sent request has been cut, so ReadTimeout has passed for
	// the sockets upgraded before it; give it a few more periods.
	time.Sleep(3 * rt)
	if res := ws.Call("health", nil); res["ok"] != true {
		t.Fatalf("health after ReadTimeout: %v", res)
	}
	pending.Connect(connectParams(testToken))
}

// Pre-handshake connections over the per-address cap are refused (503,
// closed) with a warning; connected WebSocket clients do not count, and a
// freed slot admits a new connection.
func TestPreAuthConnectionCap(t *testing.T) {
	var logs logBuf
	const perIP = 4
	s := startServer(t, func(o *Options) {
		o.Logger = logs.logger()
		o.Limits.MaxPreAuthPerIP = perIP
	})
	addr := s.Addr().String()
	for range perIP + 2 { // authenticated: released from the count
		dial(t, s).Connect(connectParams(testToken))
	}
	if n, _ := s.preAuth.counts("127.0.0.1"); n != 0 {
		t.Fatalf("%d connected clients counted as pre-handshake", n)
	}
	var idle []net.Conn
	for range perIP {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { n, _ := s.preAuth.counts("127.0.0.1"); return n == perIP })

	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(over)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 503 ") {
		t.Fatalf("connection over the cap read %q, %v; want a 503 and close", got, err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		return strings.Contains(logs.String(), "too many pre-handshake connections")
	})
	if strings.Count(logs.String(), "too many pre-handshake connections") != 1 {
		t.Fatalf("cap warning not rate-limited:\n%s", logs.String())
	}
	// A refused WebSocket client sees the upgrade fail.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil); err == nil {
		t.Fatal("WebSocket dial over the cap succeeded")
	}
	// Freeing a slot admits the next client.
	idle[0].Close()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { n, _ := s.preAuth.counts("127.0.0.1"); return n == perIP-1 })
	dial(t, s).Connect(connectParams(testToken))
}

// The total cap applies across addresses the same way.
func TestPreAuthTotalCap(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Limits.MaxPreAuthTotal = 2 })
	for range 2 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { _, n := s.preAuth.counts(""); return n == 2 })
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, _ := io.ReadAll(c); !strings.HasPrefix(string(got), "HTTP/1.1 503 ") {
		t.Fatalf("over the total cap: %q", got)
	}
}

// Shutdown with a half-sent HTTP request held open: the WebSocket client
// still gets the shutdown event and a 1012 close before the HTTP phase
// uses up the budget, the listener is closed first, and Shutdown returns
// within its budget, the stuck request forced closed.
func TestShutdownWithHTTPInFlight(t *testing.T) {
	opts := Options{Addr: "127.0.0.1:0", StateDir: t.TempDir(),
		Runtime: RuntimeConfig{Auth: Auth{Mode: AuthToken, Token: testToken}}}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	addr := s.Addr().String()
	ws := gatewaytest.Dial(t, addr)
	ws.Connect(connectParams(testToken))

	half, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	fmt.Fprintf(half, "POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc") // body never finished
	// The request is in the handler's hands (StateActive) once net/http
	// read its header; wait until the connection is counted.
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { n, _ := s.preAuth.counts("127.0.0.1"); return n == 1 })

	const budget = 3 * time.Second
	var returned atomic.Bool
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		defer cancel()
		err := s.Shutdown(ctx)
		returned.Store(true)
		done <- err
	}()
	ev := ws.ReadEvent("shutdown")
	if ev["payload"].(map[string]any)["reason"] != "gateway stopping" {
		t.Fatalf("shutdown event: %v", ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	_, _, err = ws.WS.Read(ctx)
	if websocket.CloseStatus(err) != wire.CloseServiceRestart {
		t.Fatalf("close = %v, want 1012", err)
	}
	if returned.Load() {
		t.Fatal("the WebSocket close came only after Shutdown returned: HTTP held it back")
	}
	// No new client slips in: the listener is closed.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("listener still accepting after the shutdown event")
	}
	select {
	case <-done:
	case <-time.After(budget + 2*time.Second):
		t.Fatal("Shutdown did not return within its budget")
	}
	half.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(half); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("stuck HTTP request not closed: %v", err)
	}
}

// errListener fails Accept with errs, then reports itself closed. A fake:
// a real EMFILE would need the whole test process's descriptor limit
// lowered under the other tests running in it.
type errListener struct {
	net.Listener
	errs []error
}

func (l *errListener) Accept() (net.Conn, error) {
	if len(l.errs) == 0 {
		return nil, net.ErrClosed
	}
	err := l.errs[0]
	l.errs = l.errs[1:]
	return nil, err
}

// Accept errors are logged at warn, at most once per period; a closed
// listener is not an error worth a line.
func TestAcceptErrorsLoggedAtWarn(t *testing.T) {
	var logs logBuf
	p := newPreAuth(Limits{}.withDefaults(), logs.logger())
	ln := p.wrap(&errListener{errs: []error{errors.New("accept4: too many open files"), errors.New("accept4: too many open files")}})
	for range 3 {
		ln.Accept()
	}
	out := logs.String()
	if strings.Count(out, "accept failed") != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "too many open files") {
		t.Fatalf("accept error log:\n%s", out)
	}
}
