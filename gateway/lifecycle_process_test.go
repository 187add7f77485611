//go:build unix

package gateway_test

// Real-process tests of the gateway lifecycle: the clawdbot binary is built
// once and started in a temp HOME on a free port, then driven with real
// signals, real config-file edits, real ports and a real WebSocket client.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// A re-executed test binary with GW_TEST_LISTEN=1 is a plain foreign
// listener for the --force tests: it prints its port and waits.
func init() {
	if os.Getenv("GW_TEST_LISTEN") != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(3)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		c.Close()
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/clawdbot once per test run.
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clawdbot-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "clawdbot")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/clawdbot/clawdbot/cmd/clawdbot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

const procToken = "lifecycle-token-0123456789"

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// gw is one gateway process.
type gw struct {
	tb     testing.TB
	home   string
	cfg    string
	port   int
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // stdout+stderr
	exited chan struct{}
	err    error
}

func (g *gw) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.Write(p)
}

func (g *gw) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// writeConfig writes clawdbot.json (the test's edits go through here too).
func (g *gw) writeConfig(extra map[string]any) {
	g.tb.Helper()
	cfg := map[string]any{
		"gateway": map[string]any{"mode": "local", "auth": map[string]any{"token": procToken},
			"reload": map[string]any{"debounceMs": 50}},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	g.writeRaw(b)
}

func (g *gw) writeRaw(b []byte) {
	g.tb.Helper()
	tmp := g.cfg + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		g.tb.Fatal(err)
	}
	if err := os.Rename(tmp, g.cfg); err != nil {
		g.tb.Fatal(err)
	}
}

type gwOpts struct {
	config map[string]any
	args   []string
	env    []string
	noWait bool
	// wrap prefixes the command (e.g. nsenter into a network namespace;
	// it must exec the gateway, so the pid stays the gateway's).
	wrap []string
}

func startGateway(tb testing.TB, o gwOpts) *gw {
	tb.Helper()
	bin := binary(tb)
	home := tb.TempDir()
	g := &gw{tb: tb, home: home, cfg: filepath.Join(home, ".clawdbot", "clawdbot.json"), exited: make(chan struct{})}
	if err := os.MkdirAll(filepath.Dir(g.cfg), 0o700); err != nil {
		tb.Fatal(err)
	}
	g.writeConfig(o.config)
	g.port = freePort(tb)
	args := append([]string{"gateway", "--port", strconv.Itoa(g.port)}, o.args...)
	g.cmd = exec.Command(bin, args...)
	if len(o.wrap) > 0 {
		g.cmd = exec.Command(o.wrap[0], append(append(o.wrap[1:len(o.wrap):len(o.wrap)], bin), args...)...)
	}
	env := []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "PATH=" + os.Getenv("PATH")}
	g.cmd.Env = append(env, o.env...)
	g.cmd.Stdout, g.cmd.Stderr = g, g
	if err := g.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { g.err = g.cmd.Wait(); close(g.exited) }()
	tb.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.exited
		if tb.Failed() {
			tb.Logf("gateway output:\n%s", g.output())
		}
	})
	if !o.noWait {
		g.waitLog("gateway listening on", 15*time.Second)
	}
	return g
}

func (g *gw) waitLog(s string, d time.Duration) {
	g.tb.Helper()
	// Done when the line is there or the gateway has exited.
	ended := gatewaytest.Poll(d, func() bool {
		if strings.Contains(g.output(), s) {
			return true
		}
		select {
		case <-g.exited:
			return true
		default:
			return false
		}
	})
	switch {
	case strings.Contains(g.output(), s):
	case ended:
		g.tb.Fatalf("gateway exited (%v) before logging %q", g.err, s)
	default:
		g.tb.Fatalf("log line %q not seen within %v", s, d)
	}
}

func (g *gw) signal(s os.Signal) {
	g.tb.Helper()
	if err := g.cmd.Process.Signal(s); err != nil {
		g.tb.Fatal(err)
	}
}

func (g *gw) wait(d time.Duration) int {
	g.tb.Helper()
	select {
	case <-g.exited:
	case <-time.After(d):
		g.tb.Fatalf("gateway did not exit within %v", d)
	}
	return g.cmd.ProcessState.ExitCode()
}

// client is a raw protocol client.
type client struct {
	ws    *websocket.Conn
	hello map[string]any
}

// connect dials and completes the handshake; it returns the dial error
// as is so callers can tell a refused connection from others.
func connect(ctx context.Context, port int, token string) (*client, error) {
	return connectHost(ctx, "127.0.0.1", port, token)
}

// connectHost is connect to host instead of 127.0.0.1.
func connectHost(ctx context.Context, host string, port int, token string) (*client, error) {
	ws, _, err := websocket.Dial(ctx, "ws://"+net.JoinHostPort(host, strconv.Itoa(port))+"/", nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &client{ws: ws}
	if _, err := c.next(ctx, "event"); err != nil { // connect.challenge
		ws.CloseNow()
		return nil, err
	}
	// A long-lived backend client, not a one-shot CLI: its connect is
	// logged at info, which the logging tests count.
	req := map[string]any{"type": "req", "id": "c1", "method": "connect", "params": map[string]any{
		"minProtocol": 3, "maxProtocol": 3,
		"client": map[string]any{"id": "gateway-client", "mode": "backend", "platform": "linux", "version": "lifecycle-test"},
		"role":   "operator", "scopes": []string{"operator.admin"}, "auth": map[string]any{"token": token},
	}}
	b, _ := json.Marshal(req)
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		ws.CloseNow()
		return nil, err
	}
	res, err := c.next(ctx, "res")
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	if res["ok"] != true {
		ws.CloseNow()
		return nil, fmt.Errorf("connect rejected: %v", res)
	}
	c.hello = res["payload"].(map[string]any)
	return c, nil
}

// next reads frames until one of type typ arrives.
func (c *client) next(ctx context.Context, typ string) (map[string]any, error) {
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil && m["type"] == typ {
			return m, nil
		}
	}
}

// call sends one request and returns its response's payload (fails t on
// an error response).
func (c *client) call(tb testing.TB, method string) map[string]any {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := json.Marshal(map[string]any{"type": "req", "id": "call-" + method, "method": method, "params": map[string]any{}})
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("%s: %v", method, err)
	}
	for {
		res, err := c.next(ctx, "res")
		if err != nil {
			tb.Fatalf("%s: %v", method, err)
		}
		if res["id"] != "call-"+method {
			continue
		}
		p, ok := res["payload"].(map[string]any)
		if res["ok"] != true || !ok {
			tb.Fatalf("%s: %v", method, res)
		}
		return p
	}
}

// event reads until event name arrives (or the connection ends).
func (c *client) event(ctx context.Context, name string) (map[string]any, error) {
	for {
		m, err := c.next(ctx, "event")
		if err != nil {
			return nil, err
		}
		if m["event"] == name {
			return m, nil
		}
	}
}

func mustConnect(tb testing.TB, port int, token string) *client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := connect(ctx, port, token)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { c.ws.CloseNow() })
	return c
}

// expectShutdown checks the shutdown event and the 1012 close that follows.
func expectShutdown(t *testing.T, c *client, reason string, restartMs any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := c.event(ctx, "shutdown")
	if err != nil {
		t.Fatalf("no shutdown event: %v", err)
	}
	p := ev["payload"].(map[string]any)
	if v, ok := p["restartExpectedMs"]; p["reason"] != reason || !ok || v != restartMs {
		t.Errorf("shutdown payload %v, want reason %q restartExpectedMs %v", p, reason, restartMs)
	}
	_, err = c.next(ctx, "never")
	if st := websocket.CloseStatus(err); st != websocket.StatusServiceRestart {
		t.Errorf("close = %v (%v), want 1012", st, err)
	}
}

func TestProcessSIGTERMGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{})
	c1 := mustConnect(t, g.port, procToken)
	c2 := mustConnect(t, g.port, procToken)

	// Not authorized: ignored, logged, clients untouched.
	g.signal(syscall.SIGUSR1)
	g.waitLog("SIGUSR1 restart ignored (not authorized; enable commands.restart or use gateway tool)", 5*time.Second)

	g.signal(syscall.SIGTERM)
	expectShutdown(t, c1, "gateway stopping", nil)
	expectShutdown(t, c2, "gateway stopping", nil)
	if code := g.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if strings.Contains(g.output(), "gateway restarted") {
		t.Error("unauthorized SIGUSR1 restarted the gateway")
	}
}

// A second SIGINT ends a stalled graceful stop at once. The stall is real: a
// client that stops reading holds up its close handshake for seconds.
func TestProcessSecondSIGINTExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{})
	mustConnect(t, g.port, procToken) // never read again
	g.signal(os.Interrupt)
	g.waitLog("gateway stopping", 5*time.Second)
	start := time.Now()
	g.signal(os.Interrupt)
	if code := g.wait(10 * time.Second); code != 1 {
		t.Errorf("exit code %d after a second SIGINT, want 1", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second SIGINT took %v to exit", d)
	}
	if !strings.Contains(g.output(), "second interrupt: exiting without full cleanup") {
		t.Error("forced exit not logged")
	}
}

// notifySocket binds a unixgram socket standing in for systemd and, like
// systemd, reads it continuously; the datagrams arrive on the channel.
func notifySocket(t *testing.T) (string, chan string) {
	dir, err := os.MkdirTemp("", "gwn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "n.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch := make(chan string, 1000)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return path, ch
}

// readNotify waits for a datagram starting with want, skipping others.
func readNotify(t *testing.T, ch chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("notify socket closed before %q", want)
			}
			if strings.HasPrefix(m, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q from sd_notify", want)
		}
	}
}

func TestProcessSIGUSR1RestartNoRefusedConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	sock, notes := notifySocket(t)
	g := startGateway(t, gwOpts{config: map[string]any{"commands": map[string]any{"restart": true}},
		env: []string{"NOTIFY_SOCKET=" + sock}})
	readNotify(t, notes, "READY=1")
	held := mustConnect(t, g.port, procToken)

	var refused, other, ok atomic.Int64
	var otherErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, err := connect(ctx, g.port, procToken)
				cancel()
				switch {
				case err == nil:
					ok.Add(1)
					c.ws.Close(websocket.StatusNormalClosure, "")
				case errors.Is(err, syscall.ECONNREFUSED):
					refused.Add(1)
				case websocket.CloseStatus(err) == websocket.StatusServiceRestart:
					// Closed by a restart mid-handshake: the client reconnects; not a refusal.
				default:
					other.Add(1)
					otherErr.Store(err.Error())
				}
			}
		}()
	}
	for i := range 10 {
		g.signal(syscall.SIGUSR1)
		if i == 0 {
			readNotify(t, notes, "RELOADING=1\nMONOTONIC_USEC=")
			readNotify(t, notes, "READY=1")
		}
		g.waitLog(fmt.Sprintf("gateway restarted in process (#%d,", i+1), 10*time.Second)
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if refused.Load() != 0 {
		t.Errorf("%d connections refused during 10 restarts", refused.Load())
	}
	if other.Load() != 0 {
		t.Errorf("%d other connect failures, e.g. %v", other.Load(), otherErr.Load())
	}
	if ok.Load() < 10 {
		t.Errorf("only %d successful connects", ok.Load())
	}
	t.Logf("10 restarts: %d connects ok, %d refused", ok.Load(), refused.Load())
	expectShutdown(t, held, "gateway restarting", float64(1500))
	g.signal(syscall.SIGTERM)
	readNotify(t, notes, "STOPPING=1")
	if code := g.wait(10 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestProcessConfigReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{})
	c := mustConnect(t, g.port, procToken)

	// Hot key: applied in place, the client stays.
	g.writeConfig(map[string]any{"hooks": map[string]any{"token": "hook-secret"}})
	g.waitLog("config hot reload applied: hooks", 10*time.Second)

	// Broken file: skipped, still serving with the old config.
	g.writeRaw([]byte(`{"gateway": {"mode": "local",, }`))
	g.waitLog("config reload skipped (invalid config)", 10*time.Second)
	probe := mustConnect(t, g.port, procToken)
	// health and status say the file on disk is not what is being served.
	for _, method := range []string{"health", "status"} {
		ce, _ := probe.call(t, method)["configError"].(map[string]any)
		if msg, _ := ce["message"].(string); !strings.Contains(msg, ":1:") || ce["path"] == "" {
			t.Errorf("%s configError = %v, want the path and the line:column of the syntax error", method, ce)
		}
	}
	probe.ws.CloseNow()

	// gateway.* key: in-process restart with the new token.
	g.writeConfig(map[string]any{"gateway": map[string]any{"mode": "local",
		"auth": map[string]any{"token": "rotated-token-0123456789"}, "reload": map[string]any{"debounceMs": 50}}})
	g.waitLog("config change requires gateway restart: gateway.auth.token", 10*time.Second)
	expectShutdown(t, c, "gateway restarting", float64(1500))
	g.waitLog("gateway restarted in process (#1,", 10*time.Second)
	fixed := mustConnect(t, g.port, "rotated-token-0123456789")
	if ce, ok := fixed.call(t, "health")["configError"]; ok {
		t.Errorf("configError %v still reported after the file was fixed", ce)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := connect(ctx, g.port, procToken); err == nil {
		t.Error("the old token still works after the restart")
	}
}

// startListener re-executes the test binary as a foreign port holder.
func startListener(t *testing.T) (*exec.Cmd, int, chan struct{}) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GW_TEST_LISTEN=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(strings.TrimSpace(line))
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return cmd, port, done
}

func TestProcessForceAndPortInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := exec.LookPath("lsof"); err != nil {
		t.Skip("lsof not installed")
	}
	holder, port, holderDone := startListener(t)

	// Without --force: the error names the holder and the fix.
	run := func(extraEnv []string, args ...string) (int, string) {
		home := t.TempDir()
		os.MkdirAll(filepath.Join(home, ".clawdbot"), 0o700)
		os.WriteFile(filepath.Join(home, ".clawdbot", "clawdbot.json"),
			[]byte(`{"gateway":{"mode":"local","auth":{"token":"`+procToken+`"}}}`), 0o600)
		cmd := exec.Command(binary(t), append([]string{"gateway", "--port", strconv.Itoa(port)}, args...)...)
		cmd.Env = append([]string{"HOME=" + home, "XDG_RUNTIME_DIR=" + filepath.Join(home, "run")}, extraEnv...)
		out := &gw{tb: t}
		cmd.Stdout, cmd.Stderr = out, out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-done:
				return cmd.ProcessState.ExitCode(), out.output()
			case <-deadline:
				cmd.Process.Kill()
				<-done
				t.Fatalf("gateway neither served nor exited:\n%s", out.output())
			case <-time.After(20 * time.Millisecond):
				if strings.Contains(out.output(), "gateway listening on") {
					// Serving: stop it; -1 marks "was serving".
					cmd.Process.Signal(syscall.SIGTERM)
					<-done
					return -1, out.output()
				}
			}
		}
	}
	code, out := run([]string{"PATH=" + os.Getenv("PATH")})
	want := fmt.Sprintf("port %d is held by pid %d (", port, holder.Process.Pid)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("port in use: exit %d, output %q; want 1 and %q", code, out, want)
	}

	// --force without lsof on PATH: where lsof is the only lookup, the
	// exact error, holder untouched. Linux reads /proc instead (below).
	path := os.Getenv("PATH")
	if runtime.GOOS == "linux" {
		path = t.TempDir()
	} else {
		code, out = run([]string{"PATH=" + t.TempDir()}, "--force")
		if code != 1 || !strings.Contains(out, "lsof not found; required for --force") {
			t.Errorf("--force without lsof: exit %d, output %q", code, out)
		}
		select {
		case <-holderDone:
			t.Fatal("holder died without lsof")
		default:
		}
	}

	// --force: the holder is killed and the gateway serves.
	code, out = run([]string{"PATH=" + path}, "--force")
	if code != -1 {
		t.Errorf("--force: exit %d, want it serving\n%s", code, out)
	}
	if !strings.Contains(out, fmt.Sprintf("force: killed pid %d (", holder.Process.Pid)) ||
		!strings.Contains(out, "gateway listening on ws://127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("--force output:\n%s", out)
	}
	select {
	case <-holderDone:
	case <-time.After(5 * time.Second):
		t.Error("holder still running after --force")
	}
}

// A second gateway for the same config fails on the single-instance lock,
// naming the running gateway's pid, whatever port it asks for: a free one;
// one held by another process (had it bound first it would report "port N
// is held by"). (--force takes over from the running gateway: see
// cmd/clawdbot's TestForceTakeover.)
func TestProcessSecondGatewaySameConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	first := startGateway(t, gwOpts{})
	_, heldPort, holderDone := startListener(t)
	// The first one was started by hand: 'gateway stop' cannot reach it.
	want := fmt.Sprintf("error: gateway already running (pid %d, config %s); it was started by hand: stop it with Ctrl+C where it runs, or 'kill %d'",
		first.cmd.Process.Pid, first.cfg, first.cmd.Process.Pid)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"free port", []string{"--port", strconv.Itoa(freePort(t))}},
		{"port held by another process", []string{"--port", strconv.Itoa(heldPort)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), append([]string{"gateway"}, tc.args...)...)
			cmd.Env = []string{"HOME=" + first.home, "XDG_RUNTIME_DIR=" + filepath.Join(first.home, "run"), "PATH=" + os.Getenv("PATH")}
			out := &gw{tb: t}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("second gateway still running:\n%s", out.output())
			}
			got := out.output()
			if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(got, want) {
				t.Errorf("exit %d, output %q; want 1 and %q", code, got, want)
			}
			for _, bad := range []string{"gateway listening", "is held by", "force:"} {
				if strings.Contains(got, bad) {
					t.Errorf("the second gateway got past the lock (%q):\n%s", bad, got)
				}
			}
		})
	}
	select {
	case <-holderDone:
		t.Error("a second gateway killed the port holder")
	default:
	}
	mustConnect(t, first.port, procToken) // the first one still serves
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func rawStatus(t *testing.T, port int, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProcessCanvas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cport := freePort(t)
	g := startGateway(t, gwOpts{config: map[string]any{"canvasHost": map[string]any{"port": cport}}})
	root := filepath.Join(g.home, "clawd", "canvas")
	os.WriteFile(filepath.Join(g.home, "clawd", "secret.txt"), []byte("TOPSECRET"), 0o600)
	for _, p := range []int{g.port, cport} {
		code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/__clawdbot__/canvas/", p))
		if code != 200 || !strings.Contains(body, "Clawdbot Canvas") || !strings.Contains(body, "/__clawdbot/ws") {
			t.Errorf("port %d: canvas index %d %q", p, code, body)
		}
		for _, target := range []string{"/__clawdbot__/canvas/../secret.txt", "/__clawdbot__/canvas/%2e%2e/secret.txt"} {
			if st := rawStatus(t, p, target); st != 404 {
				t.Errorf("port %d: %s = %d, want 404", p, target, st)
			}
		}
		if code, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/__clawdbot/ws", p)); code != 426 {
			t.Errorf("port %d: plain GET on the live-reload path = %d, want 426", p, code)
		}
	}
	c := mustConnect(t, g.port, procToken)
	if got, want := c.hello["canvasHostUrl"], fmt.Sprintf("http://127.0.0.1:%d", g.port); got != want {
		t.Errorf("canvasHostUrl = %v, want %s", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/__clawdbot/ws", g.port), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// The server registers the socket a moment after the upgrade, and a
	// change before that reloads nobody: change the file until a reload
	// arrives (bounded), instead of sleeping first.
	type read struct {
		msg []byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		_, msg, err := ws.Read(ctx)
		got <- read{msg, err}
	}()
	var r read
	n := 0
	gatewaytest.WaitFor(t, 10*time.Second, func() bool {
		n++
		if err := os.WriteFile(filepath.Join(root, "app.js"), []byte(strconv.Itoa(n)), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case r = <-got:
			return true
		case <-time.After(500 * time.Millisecond):
			// Longer than the canvas debounce: a write every few ms
			// would keep resetting it and no reload would ever come.
			return false
		}
	})
	if r.err != nil || string(r.msg) != "reload" {
		t.Errorf("live reload: %q %v", r.msg, r.err)
	}
}

// BenchmarkRestartDowntime measures SIGUSR1 → a new client gets hello-ok.
func BenchmarkRestartDowntime(b *testing.B) {
	g := startGateway(b, gwOpts{config: map[string]any{"commands": map[string]any{"restart": true}}})
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		g.cmd.Process.Signal(syscall.SIGUSR1)
		// A connect that lands on the old runtime just before the swap is
		// closed with 1012; like a real client, retry at once. The figure
		// is the time until a client holds hello-ok and stays connected
		// past the restart.
		var took time.Duration
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := connect(ctx, g.port, procToken)
			cancel()
			took = time.Since(start)
			if err != nil {
				if websocket.CloseStatus(err) == websocket.StatusServiceRestart {
					continue
				}
				b.Fatalf("connect after SIGUSR1: %v", err)
			}
			g.waitLog(fmt.Sprintf("gateway restarted in process (#%d,", i+1), 10*time.Second)
			// Connected to the old runtime before the swap? Then the 1012 is on its way.
			rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			_, _, rerr := c.ws.Read(rctx)
			rcancel()
			c.ws.CloseNow()
			if websocket.CloseStatus(rerr) == websocket.StatusServiceRestart {
				continue
			}
			break
		}
		total += took
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-hello/op")
}
