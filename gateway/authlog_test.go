package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// syncBuf is a console that tests read while the server writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuf) lines(sub string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range strings.Split(w.b.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// authLogServer is a gateway logging as the CLI does: the JSON file log
// and the console, with a clock the test moves.
func authLogServer(t *testing.T, clock *atomic.Int64) (*Server, *syncBuf, string) {
	t.Helper()
	dir := t.TempDir()
	fh, err := filelog.New(filelog.Options{Dir: filepath.Join(dir, "logs"), Level: slog.LevelInfo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	console := &syncBuf{}
	log := slog.New(slog.NewMultiHandler(fh, filelog.NewText(console, slog.LevelInfo)))
	s := startServer(t, func(o *Options) {
		o.Logger = log
		if clock != nil {
			o.Now = func() time.Time { return time.UnixMilli(clock.Load()) }
		}
	})
	return s, console, fh.Path()
}

// fileLines are the file-log lines whose message contains sub, as raw
// JSON objects.
func fileLines(t *testing.T, path, sub string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(string(b), "\n") {
		if e, ok := filelog.ParseLine(l); ok && strings.Contains(e.Message, sub) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// A wrong token leaves one warn line, in the console and in the file,
// naming the remote address, the client id and mode, and the reason.
func TestFailedLoginIsLogged(t *testing.T) {
	s, console, path := authLogServer(t, nil)
	c := dial(t, s)
	c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
	c.ReadRes()

	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(console.lines("auth failed")) > 0 })
	lines := console.lines("auth failed")
	if len(lines) != 1 {
		t.Fatalf("console: %d auth lines, want 1: %q", len(lines), lines)
	}
	for _, want := range []string{"warn", "gateway/ws", "gateway token mismatch", "remote=127.0.0.1", "client=cli", "mode=cli", "role=operator"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("console line %q lacks %q", lines[0], want)
		}
	}
	var fl []map[string]any
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { fl = fileLines(t, path, "auth failed"); return len(fl) > 0 })
	if len(fl) != 1 {
		t.Fatalf("file: %d auth lines, want 1", len(fl))
	}
	raw, _ := json.Marshal(fl[0])
	meta, _ := fl[0]["_meta"].(map[string]any)
	if meta["logLevelName"] != "WARN" {
		t.Errorf("file line level: %s", raw)
	}
	for _, want := range []string{`"remote":"127.0.0.1"`, `"client":"cli"`, `"mode":"cli"`, `"reason":"gateway token mismatch"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("file line %s lacks %s", raw, want)
		}
	}
}

// 1,000 wrong connects cannot fill the disk: the burst is logged, the
// rest is counted, and one "suppressed N" line reports it once the bucket
// refills. The clock stands still during the flood, so the bound is exact.
func TestFailedLoginFloodIsBounded(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli())
	s, console, path := authLogServer(t, &clock)
	const n = 1000
	var wg sync.WaitGroup
	var next, fails atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				if !wrongConnect(s.Addr().String()) {
					fails.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if fails.Load() > 0 {
		t.Fatalf("%d of %d wrong connects did not get their error response", fails.Load(), n)
	}
	if got := len(console.lines("auth failed: gateway token mismatch")); got != authLogBurst {
		t.Fatalf("console: %d failed-login lines for %d failures, want the burst (%d)", got, n, authLogBurst)
	}
	clock.Add(int64(2 * time.Second / time.Millisecond))
	want := fmt.Sprintf("suppressed %d more failed-login lines", n-authLogBurst)
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(console.lines(want)) == 1 })
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(fileLines(t, path, "auth failed")) == authLogBurst+1 })
	if got := console.lines("auth failed"); len(got) != authLogBurst+1 {
		t.Fatalf("console: %d lines in all, want %d", len(got), authLogBurst+1)
	}
}

// wrongConnect runs one connect with a wrong token and reports whether
// the error response came.
func wrongConnect(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		return false
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // challenge
		return false
	}
	b, _ := json.Marshal(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
	if ws.Write(ctx, websocket.MessageText, b) != nil {
		return false
	}
	_, res, err := ws.Read(ctx)
	return err == nil && bytes.Contains(res, []byte("token mismatch"))
}
