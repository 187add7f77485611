//go:build unix

package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

// waitCount waits until s has appeared at least n times in the output.
func (g *gw) waitCount(s string, n int, d time.Duration) {
	g.tb.Helper()
	if !gatewaytest.Poll(d, func() bool { return strings.Count(g.output(), s) >= n }) {
		g.tb.Fatalf("log line %q not seen %d times within %v", s, n, d)
	}
}

// logTail is what path holds past byte offset from ("" if it is missing).
func logTail(t *testing.T, path string, from int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return ""
		}
		t.Fatal(err)
	}
	if from > len(b) {
		t.Fatalf("%s shrank from %d to %d bytes", path, from, len(b))
	}
	return string(b[from:])
}

// logging is a no-op path of the reload table (doc/protocol.md §9.2: read
// dynamically), so logging.level and logging.file take effect on the next
// line, with no restart: the connected client keeps its connection.
func TestProcessLoggingReloadsWithoutRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.log"), filepath.Join(dir, "second.log")
	logging := func(level, file string) map[string]any {
		return map[string]any{"logging": map[string]any{"level": level, "file": file}}
	}
	g := startGateway(t, gwOpts{config: logging("info", first)})
	held := mustConnect(t, g.port, procToken)
	connects := 1
	// connectOnce connects and disconnects a client and waits until the
	// console (always at info) logged it, so the file has had its chance.
	connectOnce := func() {
		t.Helper()
		c := mustConnect(t, g.port, procToken)
		connects++
		g.waitCount("client connected", connects, 10*time.Second)
		c.ws.CloseNow()
	}
	// The connect is logged after the client has its hello-ok: wait for the
	// console line (the file handler writes before it) before reading.
	g.waitCount("client connected", connects, 10*time.Second)
	if got := logTail(t, first, 0); !strings.Contains(got, "client connected") || strings.Contains(got, "ws open") {
		t.Fatalf("at info the file log should hold the connect but not the debug ws open line:\n%s", got)
	}

	// debug: the debug "ws open" line reaches the file.
	g.writeConfig(logging("debug", first))
	g.waitLog("logging.level is now debug", 10*time.Second)
	mark := len(logTail(t, first, 0))
	connectOnce()
	if got := logTail(t, first, mark); !strings.Contains(got, "ws open") {
		t.Errorf("debug line missing from the file log after logging.level=debug:\n%s", got)
	}

	// warn: info lines stop; warn lines still come.
	g.writeConfig(logging("warn", first))
	g.waitLog("logging.level is now warn", 10*time.Second)
	mark = len(logTail(t, first, 0))
	connectOnce()
	g.signal(syscall.SIGUSR1) // unauthorized: a warn line
	g.waitCount("SIGUSR1 restart ignored", 1, 10*time.Second)
	got := logTail(t, first, mark)
	if strings.Contains(got, "client connected") || strings.Contains(got, "ws open") {
		t.Errorf("info/debug lines still written after logging.level=warn:\n%s", got)
	}
	if !strings.Contains(got, "SIGUSR1 restart ignored") {
		t.Errorf("warn line missing from the file log at logging.level=warn:\n%s", got)
	}

	// logging.file: the next lines go to the new file, none to the old.
	g.writeConfig(logging("warn", second))
	g.waitLog("log file is now "+second, 10*time.Second)
	mark = len(logTail(t, first, 0))
	g.signal(syscall.SIGUSR1)
	g.waitCount("SIGUSR1 restart ignored", 2, 10*time.Second)
	if got := logTail(t, second, 0); !strings.Contains(got, "SIGUSR1 restart ignored") {
		t.Errorf("warn line missing from the new logging.file:\n%s", got)
	}
	if got := logTail(t, first, mark); got != "" {
		t.Errorf("the old logging.file still gets lines:\n%s", got)
	}

	// No restart happened: the first client is still served.
	out := g.output()
	for _, s := range []string{"gateway restarting", "config change requires gateway restart", "gateway stopping"} {
		if strings.Contains(out, s) {
			t.Errorf("a logging change caused %q", s)
		}
	}
	held.call(t, "health") // a restart would have closed it with 1012
}

// gateway.reload is a no-op path (doc/protocol.md §9.2) because the reloader re-reads
// its settings on every change: a new mode governs the very change that set
// it, and a new debounceMs the changes after it.
func TestProcessReloadSettingsReadOnEachChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{})
	gateway := func(token, mode string, debounceMs int) map[string]any {
		return map[string]any{"mode": "local", "auth": map[string]any{"token": token},
			"reload": map[string]any{"mode": mode, "debounceMs": debounceMs}}
	}

	// mode=off: even a change that needs a restart is only logged.
	g.writeConfig(map[string]any{"gateway": gateway(procToken, "off", 50)})
	g.waitLog("config change not applied (gateway.reload.mode=off): gateway.reload.mode", 10*time.Second)
	g.writeConfig(map[string]any{"gateway": gateway("ignored-token-0123456789", "off", 50)})
	g.waitLog("config change not applied (gateway.reload.mode=off): gateway.auth.token", 10*time.Second)
	mustConnect(t, g.port, procToken).ws.CloseNow() // still the old runtime

	// Back to hybrid with a long debounce: this change is applied at once
	// (the old debounce saw it), the next one waits the new debounce.
	const slow = 1500 * time.Millisecond
	g.writeConfig(map[string]any{"gateway": gateway("ignored-token-0123456789", "hybrid", int(slow/time.Millisecond)),
		"hooks": map[string]any{"token": "hook-1"}})
	g.waitCount("config hot reload applied: hooks", 1, 10*time.Second)
	start := time.Now()
	g.writeConfig(map[string]any{"gateway": gateway("ignored-token-0123456789", "hybrid", int(slow/time.Millisecond)),
		"hooks": map[string]any{"token": "hook-2"}})
	g.waitCount("config hot reload applied: hooks", 2, 10*time.Second)
	if d := time.Since(start); d < slow-100*time.Millisecond {
		t.Errorf("change applied after %v, before the new debounce of %v", d, slow)
	}
	if strings.Contains(g.output(), "gateway restarting") {
		t.Error("a reload-settings or hooks change restarted the gateway")
	}
}
