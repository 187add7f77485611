package wizard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// fileSetup is Setup on a real config file in a temp state dir (the core
// gives the wizard configrpc's store; a feature test cannot import it).
type fileSetup struct {
	dir string
	env map[string]string
	mu  sync.Mutex
}

func (f *fileSetup) path() string                          { return filepath.Join(f.dir, "clawdbot.json") }
func (f *fileSetup) Snapshot() (*profiles.Snapshot, error) { return profiles.Load(f.path()) }
func (f *fileSetup) StateDir() string                      { return f.dir }
func (f *fileSetup) DefaultWorkspace() string              { return filepath.Join(f.dir, "clawd") }
func (f *fileSetup) Getenv(k string) string                { return f.env[k] }
func (f *fileSetup) Patch(patch []byte) *wire.ErrorShape {
	f.mu.Lock()
	defer f.mu.Unlock()
	snap, err := f.Snapshot()
	if err != nil {
		return rpc.Unavailable(err.Error())
	}
	base := snap.Raw
	if !snap.Exists {
		base = []byte("{}")
	}
	out, err := profiles.PatchText(base, patch)
	if err != nil {
		return rpc.Invalid(err.Error())
	}
	if err := profiles.Save(f.path(), out); err != nil {
		return rpc.Unavailable(err.Error())
	}
	return nil
}

type harness struct {
	t   *testing.T
	reg *rpc.Registry
}

func (h harness) call(method string, params any) (map[string]any, *wire.ErrorShape) {
	h.t.Helper()
	p, _ := json.Marshal(params)
	res, e := h.reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), p, &rpc.Client{}, nil))
	if e != nil {
		return nil, e
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m, nil
}

func (h harness) must(method string, params any) map[string]any {
	h.t.Helper()
	m, e := h.call(method, params)
	if e != nil {
		h.t.Fatalf("%s %v: %+v", method, params, e)
	}
	return m
}

func step(t *testing.T, res map[string]any, typ, contains string) string {
	t.Helper()
	s, _ := res["step"].(map[string]any)
	if res["done"] != false || res["status"] != "running" || s == nil || s["type"] != typ || s["executor"] != "client" ||
		!strings.Contains(s["message"].(string)+" "+str(s["title"]), contains) {
		t.Fatalf("want %s step %q, got %v", typ, contains, res)
	}
	return s["id"].(string)
}

func str(v any) string { s, _ := v.(string); return s }

// The whole onboarding over RPC: the step shapes of the original, then the
// config (merged into the user's file, comments kept), the auth profile in
// the original's format and the directories.
func TestOnboarding(t *testing.T) {
	dir := t.TempDir()
	st := &fileSetup{dir: dir, env: map[string]string{}}
	if err := os.WriteFile(st.path(), []byte("// mine\n{ logging: { level: \"info\" } }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := rpc.NewRegistry()
	Register(reg, Deps{Sessions: NewSessions(), Setup: st})
	h := harness{t, reg}

	res := h.must("wizard.start", map[string]any{})
	sid := res["sessionId"].(string)
	id := step(t, res, "note", "Clawdbot setup")
	if _, e := h.call("wizard.start", map[string]any{}); e == nil || e.Code != wire.ErrUnavailable || e.Message != "wizard already running" {
		t.Fatalf("second start: %+v", e)
	}
	next := func(id string, v any) map[string]any {
		return h.must("wizard.next", map[string]any{"sessionId": sid, "answer": map[string]any{"stepId": id, "value": v}})
	}
	res = next(id, nil)
	id = step(t, res, "text", "workspace")
	ws := filepath.Join(dir, "ws")
	res = next(id, ws)
	id = step(t, res, "select", "Model provider")
	if opts := res["step"].(map[string]any)["options"].([]any); len(opts) != 5 {
		t.Fatalf("options = %v", opts)
	}
	res = next(id, "openai")
	id = step(t, res, "text", "OpenAI API key")
	if res["step"].(map[string]any)["sensitive"] != true {
		t.Fatal("key step is not sensitive")
	}
	res = next(id, "")
	id = step(t, res, "text", "An API key is required")
	res = next(id, "sk-wizard")
	id = step(t, res, "text", "Default model")
	res = next(id, "openai/gpt-4o-mini")
	id = step(t, res, "multiselect", "Channels")
	res = next(id, []any{"telegram"})
	id = step(t, res, "text", "Telegram bot token")
	if _, e := h.call("wizard.next", map[string]any{"sessionId": sid, "answer": map[string]any{"stepId": "stale", "value": 1}}); e == nil || e.Message != "wizard: no pending step" {
		t.Fatalf("stale answer: %+v", e)
	}
	res = next(id, "123:abc")
	id = step(t, res, "note", "Done")
	if st := h.must("wizard.status", map[string]any{"sessionId": sid}); st["status"] != "running" {
		t.Fatalf("status = %v", st)
	}
	res = next(id, nil)
	if res["done"] != true || res["status"] != "done" {
		t.Fatalf("end = %v", res)
	}
	if _, e := h.call("wizard.status", map[string]any{"sessionId": sid}); e == nil || e.Message != "wizard not found" {
		t.Fatalf("finished session still tracked: %+v", e)
	}

	b, _ := os.ReadFile(st.path())
	if !strings.HasPrefix(string(b), "// mine") {
		t.Fatalf("comments lost:\n%s", b)
	}
	snap, err := profiles.Load(st.path())
	if err != nil || !snap.Valid {
		t.Fatalf("config: %v %v", err, snap.Issues)
	}
	var doc map[string]any
	_ = json.Unmarshal(snap.ConfigJSON(), &doc)
	g := doc["gateway"].(map[string]any)
	a := g["auth"].(map[string]any)
	agents := doc["agents"].(map[string]any)["defaults"].(map[string]any)
	tg := doc["channels"].(map[string]any)["telegram"].(map[string]any)
	if g["mode"] != "local" || a["mode"] != "token" || len(str(a["token"])) < 32 || agents["workspace"] != ws ||
		agents["model"].(map[string]any)["primary"] != "openai/gpt-4o-mini" || tg["botToken"] != "123:abc" || tg["enabled"] != true ||
		doc["logging"].(map[string]any)["level"] != "info" {
		t.Fatalf("config = %s", snap.ConfigJSON())
	}
	ap, err := os.ReadFile(filepath.Join(dir, "agents", "main", "agent", "auth-profiles.json"))
	if err != nil || !strings.Contains(string(ap), `"openai:default"`) || !strings.Contains(string(ap), `"key": "sk-wizard"`) || !strings.Contains(string(ap), `"type": "api_key"`) {
		t.Fatalf("auth profiles = %s (%v)", ap, err)
	}
	for _, d := range []string{ws, filepath.Join(dir, "agents", "main", "sessions")} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("%s not created: %v", d, err)
		}
	}
}

// Cancel ends a session mid-step without writing anything; unknown
// sessions and a cancelled one get the original's errors.
func TestCancel(t *testing.T) {
	dir := t.TempDir()
	st := &fileSetup{dir: dir, env: map[string]string{"OPENAI_API_KEY": "x"}}
	reg := rpc.NewRegistry()
	Register(reg, Deps{Sessions: NewSessions(), Setup: st})
	h := harness{t, reg}
	res := h.must("wizard.start", map[string]any{"mode": "local"})
	sid := res["sessionId"].(string)
	got := h.must("wizard.cancel", map[string]any{"sessionId": sid})
	if got["status"] != "cancelled" || got["error"] != "cancelled" {
		t.Fatalf("cancel = %v", got)
	}
	if _, err := os.Stat(st.path()); !os.IsNotExist(err) {
		t.Fatalf("a cancelled wizard wrote the config: %v", err)
	}
	for _, m := range []string{"wizard.next", "wizard.status", "wizard.cancel"} {
		if _, e := h.call(m, map[string]any{"sessionId": sid}); e == nil || e.Code != wire.ErrInvalidRequest || e.Message != "wizard not found" {
			t.Errorf("%s after cancel: %+v", m, e)
		}
	}
	if _, e := h.call("wizard.start", map[string]any{"mode": "bogus"}); e == nil || e.Code != wire.ErrInvalidRequest {
		t.Fatalf("bad mode: %+v", e)
	}
	// A new wizard may start once the old one is gone.
	h.must("wizard.start", map[string]any{})
}

// A flow that fails ends the session with status error and its message.
func TestFlowError(t *testing.T) {
	dir := t.TempDir()
	st := &fileSetup{dir: dir}
	if err := os.WriteFile(st.path(), []byte("{ gateway: { port: \"nope\" } }"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := rpc.NewRegistry()
	Register(reg, Deps{Sessions: NewSessions(), Setup: st})
	res := harness{t, reg}.must("wizard.start", map[string]any{})
	if res["done"] != true || res["status"] != "error" || !strings.Contains(str(res["error"]), "is invalid") {
		t.Fatalf("start on an invalid config = %v", res)
	}
}
