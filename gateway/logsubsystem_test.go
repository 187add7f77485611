package gateway

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/profiles"
)

// fileLogEntries parses every line of the log file.
func fileLogEntries(t *testing.T, path string) []filelog.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []filelog.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, ok := filelog.ParseLine(sc.Text())
		if !ok {
			t.Fatalf("not a JSON log line: %q", sc.Text())
		}
		out = append(out, e)
	}
	return out
}

// waitLogged waits until a line whose message contains msg is in the file
// and returns it.
func waitLogged(t *testing.T, path, msg string) filelog.Entry {
	t.Helper()
	var found filelog.Entry
	if !gatewaytest.Poll(10*time.Second, func() bool {
		for _, e := range fileLogEntries(t, path) {
			if strings.Contains(e.Message, msg) {
				found = e
				return true
			}
		}
		return false
	}) {
		t.Fatalf("%q not logged", msg)
	}
	return found
}

// Each part of the gateway logs under the original's subsystem, so the file
// carries it in _meta.name and `clawdbot logs` (ParseLine) shows it.
func TestLogLinesCarrySubsystems(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "clawdbot.json")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	canvasPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	writeCfg := func(extra string) {
		b := fmt.Sprintf(`{"gateway":{"mode":"local","reload":{"debounceMs":20}},"canvasHost":{"port":%d}%s}`, canvasPort, extra)
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("")
	getenv := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return filepath.Join(dir, "run")
		}
		return ""
	}
	snap, err := profiles.LoadEnv(cfgPath, getenv)
	if err != nil || !snap.Valid {
		t.Fatalf("config: %v %v", err, snap.Err())
	}

	fh, err := filelog.New(filelog.Options{Dir: filepath.Join(dir, "logs"), Level: slog.LevelDebug})
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rc := RuntimeConfig{Config: snap.Config, Auth: Auth{Mode: AuthToken, Token: testToken}}
	s, err := New(Options{Addr: "127.0.0.1:0", StateDir: filepath.Join(dir, "state"), ConfigPath: cfgPath,
		Logger: slog.New(fh), Runtime: rc})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, LifecycleOptions{
			Getenv: getenv, Home: dir, Workspace: filepath.Join(dir, "workspace"), Initial: snap,
			Signals: make(chan os.Signal),
			Runtime: func(cfg *profiles.Config) (RuntimeConfig, string, error) {
				return RuntimeConfig{Config: cfg, Auth: rc.Auth}, "", nil
			},
		})
	}()
	path := fh.Path()

	waitLogged(t, path, "gateway listening on")
	c := dial(t, s)
	connByID(t, s, c.Connect(connectParams(testToken)))
	writeCfg(`,"hooks":{"token":"hook-secret"}`)
	waitLogged(t, path, "config hot reload applied: hooks")
	cancel()
	expectShutdownThenClose(t, c, "gateway stopping", nil)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	for _, tc := range []struct{ msg, subsystem string }{
		{"gateway listening on ws://", "gateway"},
		{"canvas host: http://", "gateway/canvas"},
		{"ws open", "gateway/ws"},
		{"client connected", "gateway/ws"},
		{"config change detected", "gateway/reload"},
		{"config hot reload applied: hooks", "gateway/reload"},
		{"gateway stopping", "gateway"},
	} {
		e := waitLogged(t, path, tc.msg)
		if e.Subsystem != tc.subsystem {
			t.Errorf("%q logged with subsystem %q, want %q", tc.msg, e.Subsystem, tc.subsystem)
		}
		if !strings.HasPrefix(e.Message, `{"subsystem":"`+tc.subsystem+`"}`) {
			t.Errorf("%q: message %q does not start with the subsystem prefix the original's reader shows", tc.msg, e.Message)
		}
	}
}
