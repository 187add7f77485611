package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
)

// syncBuffer is a bytes.Buffer safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// At start the gateway removes stale temp files of interrupted writes,
// exports the config's env entries (without overriding what is set), and
// logs each unknown key with its did-you-mean, then serves.
func TestGatewayStartSweepsAppliesEnvAndWarnsUnknownKeys(t *testing.T) {
	home := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	state := filepath.Join(home, ".clawdbot")
	os.MkdirAll(filepath.Join(state, "identity"), 0o700)
	cfg := `{
  gateway: {mode: 'local', prot: 1, auth: {token: 'tok'}},
  env: {vars: {CB_TEST_FROM_VARS: 'v', CB_TEST_ALREADY: 'config'}},
}`
	os.WriteFile(filepath.Join(state, "clawdbot.json"), []byte(cfg), 0o600)
	stale := filepath.Join(state, "identity", ".device-auth.json"+profiles.TempInfix+"42")
	os.WriteFile(stale, []byte(`{"token":"old"}`), 0o600)
	past := time.Now().Add(-time.Minute)
	os.Chtimes(stale, past, past)

	var out, errb syncBuffer
	vars := map[string]string{"HOME": home, "CB_TEST_ALREADY": "shell"}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := &Env{Stdout: &out, Stderr: &errb, Home: home, Context: ctx,
		Getenv: func(k string) string { mu.Lock(); defer mu.Unlock(); return vars[k] },
		Setenv: func(k, v string) error { mu.Lock(); defer mu.Unlock(); vars[k] = v; return nil },
	}
	done := make(chan int, 1)
	go func() { done <- Main([]string{"gateway", "--port", strconv.Itoa(port)}, env) }()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "listening") {
		select {
		case code := <-done:
			t.Fatalf("gateway exited %d:\n%s\n%s", code, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 'listening' line:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not stop")
	}
	o := out.String()
	if !strings.Contains(o, "gateway.prot: unknown key (ignored; did you mean gateway.port?)") {
		t.Errorf("no unknown-key warning:\n%s", o)
	}
	if _, err := os.Stat(stale); err == nil || !strings.Contains(o, "removed a temp file") {
		t.Errorf("stale temp not swept (stat err %v):\n%s", err, o)
	}
	mu.Lock()
	defer mu.Unlock()
	if vars["CB_TEST_FROM_VARS"] != "v" || vars["CB_TEST_ALREADY"] != "shell" {
		t.Errorf("env after start: %v (want env.vars applied, the shell's value kept)", vars)
	}
}

// An empty or comment-only config is refused at start with exit 78, as is a
// password mode without a password (it used to exit 1 from the listener).
func TestGatewayRefusesEmptyConfigAndMissingSecret(t *testing.T) {
	for _, tc := range []struct{ name, cfg, want string }{
		{"empty", "", "JSON5 parse failed"},
		{"comments only", "// gateway: {mode: 'local'}\n", "JSON5 parse failed"},
		{"password mode without password", "{gateway: {mode: 'local', auth: {mode: 'password'}}}", "no password is set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			state := filepath.Join(home, ".clawdbot")
			os.MkdirAll(state, 0o700)
			os.WriteFile(filepath.Join(state, "clawdbot.json"), []byte(tc.cfg), 0o600)
			env, _, errb := testEnv(home, nil)
			if code := Main([]string{"gateway", "--port", "1"}, env); code != ExitConfig || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q: want 78 and %q", code, errb, tc.want)
			}
		})
	}
}
