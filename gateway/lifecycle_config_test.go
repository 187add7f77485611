package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/profiles"
)

// lockedEnv is a process environment as a map: the reload applies env.vars
// from the watcher's goroutine, and the real environment is shared by every
// test in the binary.
type lockedEnv struct {
	mu sync.Mutex
	m  map[string]string
}

func (e *lockedEnv) get(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[k]
}

func (e *lockedEnv) set(k, v string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[k] = v
	return nil
}

func (e *lockedEnv) unset(k string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, k)
	return nil
}

func (e *lockedEnv) lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[k]
	return v, ok
}

// healthWarnings calls health on a fresh connection (a reload may restart
// the gateway in process, closing older ones) and returns its
// configWarnings paths and messages.
func healthWarnings(t *testing.T, s *Server, method string) map[string]string {
	t.Helper()
	c := dial(t, s)
	defer c.WS.CloseNow()
	c.Connect(connectParams(testToken))
	res := c.Call(method, map[string]any{"probe": true})
	if res["ok"] != true {
		t.Fatalf("%s = %v", method, res)
	}
	b, _ := json.Marshal(res["payload"])
	var p struct {
		ConfigWarnings []struct{ Path, Message string } `json:"configWarnings"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, w := range p.ConfigWarnings {
		out[w.Path] = w.Message
	}
	return out
}

// The unknown keys of the serving config are in health and status from the
// start and follow every reload, which also logs each one with the
// did-you-mean of 'clawdbot config validate'; the gateway keeps serving.
// env.vars follows reloads too: set and changed entries are exported, a
// removed one is unset, and what the process had before start wins.
func TestReloadReportsUnknownKeysAndAppliesEnv(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "clawdbot.json")
	writeCfg := func(doc string) {
		t.Helper()
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(`{"gateway":{"mode":"local","reload":{"debounceMs":20}},"canvasHost":{"enabled":false},
  "logging":{"levle":"debug"},"env":{"vars":{"CFG_A":"1","PRE":"cfg"}}}`)
	env := &lockedEnv{m: map[string]string{"PRE": "shell", "XDG_RUNTIME_DIR": filepath.Join(dir, "run")}}
	snap, err := profiles.LoadEnv(cfgPath, env.get)
	if err != nil || !snap.Valid {
		t.Fatalf("config: %v %v", err, snap.Err())
	}
	// What the CLI does before New.
	cfgEnv := profiles.NewConfigEnv(env.get, env.set, env.unset)
	if set, _, err := cfgEnv.Apply(snap.Config); err != nil || strings.Join(set, ",") != "CFG_A" {
		t.Fatalf("start env: set %v, %v", set, err)
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
			Getenv: env.get, Home: dir, Workspace: filepath.Join(dir, "workspace"), Initial: snap, Env: cfgEnv,
			Signals: make(chan os.Signal),
			Runtime: func(cfg *profiles.Config) (RuntimeConfig, string, error) {
				return RuntimeConfig{Config: cfg, Auth: rc.Auth}, "", nil
			},
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitLogged(t, fh.Path(), "gateway listening on")

	for _, method := range []string{"health", "status"} {
		if w := healthWarnings(t, s, method); w["logging.levle"] != "unknown key (ignored; did you mean logging.level?)" || len(w) != 1 {
			t.Fatalf("%s configWarnings at start = %v", method, w)
		}
	}

	writeCfg(`{"gateway":{"mode":"local","reload":{"debounceMs":20}},"canvasHost":{"enabled":false},
  "agents":{"defualts":{}},"env":{"vars":{"CFG_B":"2"}}}`)
	line := waitLogged(t, fh.Path(), "agents.defualts: unknown key (ignored; did you mean agents.defaults?)")
	if line.Level != "warn" || !strings.Contains(line.Message, cfgPath+":2:") {
		t.Errorf("unknown key line = %+v", line)
	}
	// env.* restarts the gateway in process (doc/protocol.md §9.2: no rule matches):
	// call it once that is done, so no connection is cut mid-call.
	waitLogged(t, fh.Path(), "gateway restarted in process (#1")
	var w map[string]string
	if !gatewaytest.Poll(10*time.Second, func() bool {
		w = healthWarnings(t, s, "status")
		return len(w) == 1 && w["agents.defualts"] != ""
	}) {
		t.Fatalf("status configWarnings after reload = %v", w)
	}
	if v, ok := env.lookup("CFG_A"); ok {
		t.Errorf("CFG_A = %q after the config dropped it, want unset", v)
	}
	if env.get("CFG_B") != "2" || env.get("PRE") != "shell" {
		t.Errorf("env after reload = %v", env.m)
	}

	// A clean file clears the warnings.
	writeCfg(`{"gateway":{"mode":"local","reload":{"debounceMs":20}},"canvasHost":{"enabled":false},"env":{"vars":{"CFG_B":"2"}}}`)
	if !gatewaytest.Poll(10*time.Second, func() bool { return len(healthWarnings(t, s, "health")) == 0 }) {
		t.Fatalf("health still reports configWarnings for a clean config")
	}
}
