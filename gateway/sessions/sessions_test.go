package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

const origID = "bb7de001-0899-49b8-a0a3-64730768d9f5"

// fixture is a registry over a state dir holding the files the original
// wrote (gateway/sessionstore/testdata/original).
type fixture struct {
	reg   *rpc.Registry
	store *sessionstore.Store
	dir   string
	abort *fakeAborter
	// handlers are the registered methods' state (the sessions.list row
	// cache).
	handlers *handlers
}

// fakeAborter stands in for the agent runtime (another package).
type fakeAborter struct {
	calls []string
	busy  bool
}

func (f *fakeAborter) AbortSession(ctx context.Context, key, id string) bool {
	f.calls = append(f.calls, key+"/"+id)
	return !f.busy
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	state := t.TempDir()
	dir := filepath.Join(state, "agents", "main", "sessions")
	os.MkdirAll(dir, 0o700)
	for _, f := range []string{"sessions.json", origID + ".jsonl"} {
		b, err := os.ReadFile(filepath.Join("..", "sessionstore", "testdata", "original", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o600)
	}
	now := time.UnixMilli(1796168744510 + 60_000)
	st := sessionstore.New(sessionstore.Options{StateDir: state, Now: func() time.Time { return now }})
	reg := rpc.NewRegistry()
	ab := &fakeAborter{}
	h := register(reg, Deps{Store: st, Aborter: ab})
	return &fixture{reg: reg, store: st, dir: dir, abort: ab, handlers: h}
}

func (f *fixture) call(t testing.TB, method, params string) (json.RawMessage, *wire.ErrorShape) {
	t.Helper()
	if err := wire.ValidateParams(method, json.RawMessage(params)); err != nil {
		return nil, rpc.AsError(err)
	}
	res, e := f.reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), json.RawMessage(params), &rpc.Client{}, nil))
	if e != nil {
		return nil, e
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}

func (f *fixture) ok(t testing.TB, method, params string) map[string]any {
	t.Helper()
	b, e := f.call(t, method, params)
	if e != nil {
		t.Fatalf("%s %s: %s %s", method, params, e.Code, e.Message)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func (f *fixture) fails(t *testing.T, method, params, code, msg string) {
	t.Helper()
	_, e := f.call(t, method, params)
	if e == nil || e.Code != code || e.Message != msg {
		t.Errorf("%s %s = %+v, want %s %q", method, params, e, code, msg)
	}
}

func TestListReadsOriginal(t *testing.T) {
	f := newFixture(t)
	res := f.ok(t, "sessions.list", `{"includeDerivedTitles":true,"includeLastMessage":true}`)
	if res["path"] != "(multiple)" || res["count"] != float64(1) {
		t.Fatalf("res = %v", res)
	}
	d := res["defaults"].(map[string]any)
	if d["model"] != "claude-opus-4-5" || d["modelProvider"] != "anthropic" || d["contextTokens"] != float64(200000) {
		t.Errorf("defaults = %v", d)
	}
	row := res["sessions"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"key": "agent:main:main", "kind": "direct", "sessionId": origID, "totalTokens": float64(11),
		"derivedTitle": "hi there", "lastMessagePreview": "Hello from the fake model.", "chatType": "direct", "lastChannel": "webchat"} {
		if row[k] != want {
			t.Errorf("row[%s] = %v, want %v", k, row[k], want)
		}
	}
	b, _ := f.call(t, "sessions.list", `{}`)
	if !regexp.MustCompile(`^\{"ts":\d+,"path":"\(multiple\)","count":1,"defaults":\{"modelProvider":"anthropic","model":"claude-opus-4-5","contextTokens":200000\},"sessions":\[\{"key":"agent:main:main","kind":"direct",`).Match(b) {
		t.Errorf("key order: %.300s", b)
	}
	if f.ok(t, "sessions.list", `{"search":"nomatch"}`)["count"] != float64(0) || f.ok(t, "sessions.list", `{"activeMinutes":1}`)["count"] != float64(1) {
		t.Error("filters")
	}
	f.fails(t, "sessions.list", `{"limit":0}`, wire.ErrInvalidRequest, "invalid sessions.list params: at /limit: must be >= 1")
}

func TestHistoryReadsOriginal(t *testing.T) {
	f := newFixture(t)
	res := f.ok(t, "chat.history", `{"sessionKey":"main"}`)
	if res["sessionKey"] != "main" || res["sessionId"] != origID || res["thinkingLevel"] != "off" {
		t.Errorf("res = %v", res)
	}
	msgs := res["messages"].([]any)
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	u := msgs[2].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
	if u != "hello" {
		t.Errorf("message_id hint not stripped: %q", u)
	}
	b, _ := f.call(t, "chat.history", `{"sessionKey":"main","limit":1}`)
	if !strings.Contains(string(b), `"messages":[{"role":"assistant","content":[{"type":"text","text":"Hello from the fake model."}],"api":"openai-completions"`) {
		t.Errorf("assistant message not as stored: %s", b)
	}
	none := f.ok(t, "chat.history", `{"sessionKey":"agent:main:nope"}`)
	if _, has := none["sessionId"]; has || len(none["messages"].([]any)) != 0 {
		t.Errorf("unknown session: %v", none)
	}
}

func TestPatchResetResolve(t *testing.T) {
	f := newFixture(t)
	res := f.ok(t, "sessions.patch", `{"key":"other","label":"L1","verboseLevel":"on"}`)
	e := res["entry"].(map[string]any)
	if res["key"] != "agent:main:other" || e["label"] != "L1" || e["verboseLevel"] != "on" || e["sessionId"] == "" || !strings.HasSuffix(res["path"].(string), "sessions.json") {
		t.Errorf("patch create = %v", res)
	}
	f.fails(t, "sessions.patch", `{"key":"main","label":"L1"}`, wire.ErrInvalidRequest, "label already in use: L1")
	f.fails(t, "sessions.patch", `{"key":"main","sendPolicy":"maybe"}`, wire.ErrInvalidRequest, `invalid sendPolicy (use "allow"|"deny")`)
	f.fails(t, "sessions.patch", `{"key":"main","spawnedBy":"x"}`, wire.ErrInvalidRequest, "spawnedBy is only supported for subagent:* sessions")
	f.fails(t, "sessions.patch", `{"key":"main","model":"x/y"}`, wire.ErrUnavailable, "model catalog unavailable")
	f.fails(t, "sessions.patch", `{"key":"main","nope":1}`, wire.ErrInvalidRequest, "invalid sessions.patch params: at root: unexpected property 'nope'")
	if e := f.ok(t, "sessions.patch", `{"key":"main","thinkingLevel":"high","label":"M"}`)["entry"].(map[string]any); e["thinkingLevel"] != "high" || e["skillsSnapshot"] == nil {
		t.Errorf("patch of the original's entry lost fields: %v", e)
	}
	if e := f.ok(t, "sessions.patch", `{"key":"main","thinkingLevel":null}`)["entry"].(map[string]any); e["thinkingLevel"] != nil {
		t.Error("null did not clear")
	}
	r := f.ok(t, "sessions.reset", `{"key":"main"}`)
	e = r["entry"].(map[string]any)
	if r["key"] != "agent:main:main" || e["sessionId"] == origID || e["label"] != "M" || e["inputTokens"] != float64(0) || e["systemSent"] != false || e["skillsSnapshot"] == nil || e["chatType"] != nil {
		t.Errorf("reset = %v", r)
	}
	if _, err := os.Stat(filepath.Join(f.dir, origID+".jsonl")); err != nil {
		t.Error("reset removed the old transcript")
	}
	if got := f.ok(t, "sessions.resolve", `{"key":"main"}`); got["key"] != "agent:main:main" {
		t.Error(got)
	}
	f.fails(t, "sessions.resolve", `{"key":"a","label":"b"}`, wire.ErrInvalidRequest, "Provide either key, sessionId, or label (not multiple)")
	f.fails(t, "sessions.resolve", `{}`, wire.ErrInvalidRequest, "Either key, sessionId, or label is required")
	f.fails(t, "sessions.resolve", `{"key":"ghost"}`, wire.ErrInvalidRequest, "No session found: ghost")
	if got := f.ok(t, "sessions.resolve", `{"label":"L1"}`); got["key"] != "agent:main:other" {
		t.Error(got)
	}
}

func TestDeleteCompactPreview(t *testing.T) {
	f := newFixture(t)
	p := f.ok(t, "sessions.preview", `{"keys":["main","agent:main:main","ghost"],"limit":2,"maxChars":20}`)
	pv := p["previews"].([]any)
	if len(pv) != 3 || pv[0].(map[string]any)["status"] != "ok" || pv[2].(map[string]any)["status"] != "missing" {
		t.Fatalf("previews = %v", pv)
	}
	items := pv[0].(map[string]any)["items"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["text"] != "Hello from the fa..." || items[0].(map[string]any)["role"] != "user" {
		t.Errorf("items = %v", items)
	}
	c := f.ok(t, "sessions.compact", `{"key":"main","maxLines":100}`)
	if c["compacted"] != false || c["kept"] != float64(8) {
		t.Errorf("compact no-op = %v", c)
	}
	c = f.ok(t, "sessions.compact", `{"key":"main","maxLines":3}`)
	if c["compacted"] != true || c["kept"] != float64(3) || !regexp.MustCompile(`\.jsonl\.bak\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$`).MatchString(c["archived"].(string)) {
		t.Errorf("compact = %v", c)
	}
	if e, _ := f.store.Get("main"); e.InputTokens != nil || e.TotalTokens != nil {
		t.Error("compact kept token counts")
	}
	if h := f.ok(t, "chat.history", `{"sessionKey":"main"}`); len(h["messages"].([]any)) != 3 {
		t.Errorf("after compact: %d messages", len(h["messages"].([]any)))
	}
	if c := f.ok(t, "sessions.compact", `{"key":"ghost"}`); c["reason"] != "no sessionId" {
		t.Error(c)
	}
	f.fails(t, "sessions.delete", `{"key":"main"}`, wire.ErrInvalidRequest, "Cannot delete the main session (agent:main:main).")
	// Move the original's session to another key, then delete it.
	f.ok(t, "sessions.patch", `{"key":"other"}`)
	e, _ := f.store.Get("main")
	f.store.Update("other", func(x *sessionstore.Entry) error { x.SessionID = e.SessionID; return nil })
	f.abort.busy = true
	f.fails(t, "sessions.delete", `{"key":"other"}`, wire.ErrUnavailable, "Session other is still active; try again in a moment.")
	f.abort.busy = false
	d := f.ok(t, "sessions.delete", `{"key":"other"}`)
	arch := d["archived"].([]any)
	if d["deleted"] != true || d["key"] != "agent:main:other" || len(arch) != 1 || !strings.Contains(arch[0].(string), origID+".jsonl.deleted.") {
		t.Errorf("delete = %v", d)
	}
	if len(f.abort.calls) != 2 || f.abort.calls[1] != "agent:main:other/"+origID {
		t.Errorf("aborter calls = %v", f.abort.calls)
	}
	if _, ok := f.store.Get("other"); ok {
		t.Error("entry not deleted")
	}
}

// BenchmarkSessionsList1000 is sessions.list over 1,000 sessions (target
// ≤ 5 ms per call): the store index is warm, as in a running gateway, and
// the result is encoded as the gateway's response writer does
// (wire.AppendPayload). "changed" rewrites one entry per call, so one row
// is rebuilt; "cold" drops the row cache first (every row rebuilt).
func BenchmarkSessionsList1000(b *testing.B) {
	f := newFixture(b)
	for i := range 1000 {
		k := fmt.Sprintf("agent:main:telegram:dm:%d", i)
		f.store.Update(k, func(e *sessionstore.Entry) error {
			e.UpdatedAt += int64(i)
			e.Model, e.ModelProvider, e.InputTokens, e.OutputTokens, e.TotalTokens = "fake-model", "fake", sessionstore.Int(11), sessionstore.Int(6), sessionstore.Int(11)
			e.DeliveryContext = json.RawMessage(`{"channel":"telegram","to":"123"}`)
			return nil
		})
	}
	h := f.reg.Lookup("sessions.list").Handler
	var buf []byte
	list := func(b *testing.B) {
		res, e := h(rpc.NewCall("sessions.list", nil, json.RawMessage(`{}`), &rpc.Client{}, nil))
		if e != nil {
			b.Fatal(e)
		}
		var err error
		if buf, err = wire.AppendPayload(buf[:0], res); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("warm", func(b *testing.B) {
		cpu := processCPU()
		for b.Loop() {
			list(b)
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(len(buf)), "bytes/result")
	})
	b.Run("changed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			f.store.Update("agent:main:telegram:dm:7", func(e *sessionstore.Entry) error { e.UpdatedAt += int64(i); return nil })
			b.StartTimer()
			list(b)
		}
	})
	b.Run("cold", func(b *testing.B) {
		cpu := processCPU()
		for b.Loop() {
			f.handlers.cache.rows = nil
			list(b)
		}
		reportCPU(b, cpu)
	})
}

// reportCPU reports the process CPU time per op since start (cpu-ns/op).
func reportCPU(b *testing.B, start time.Duration) {
	if d := processCPU() - start; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkIdleSessionMemoryListed reports the heap an idle session takes
// once sessions.list has run (target ≤ 2 KiB): the store's index plus the
// list's cached row, over 1,000 sessions loaded from a sessions.json.
func BenchmarkIdleSessionMemoryListed(b *testing.B) {
	const n = 1000
	state := b.TempDir()
	dir := filepath.Join(state, "agents", "main", "sessions")
	os.MkdirAll(dir, 0o700)
	var file bytes.Buffer
	file.WriteString("{")
	for i := range n {
		e := sessionstore.Entry{
			SessionID: sessionstore.NewSessionID(), UpdatedAt: 1796168744510 + int64(i), SystemSent: sessionstore.Bool(true), AbortedLastRun: sessionstore.Bool(false),
			ChatType: "direct", ModelProvider: "fake", Model: "fake-model", ContextTokens: sessionstore.Int(200000),
			InputTokens: sessionstore.Int(11), OutputTokens: sessionstore.Int(6), TotalTokens: sessionstore.Int(11), LastChannel: "webchat",
			DeliveryContext: []byte(`{"channel":"webchat"}`), Origin: []byte(`{"provider":"webchat","surface":"webchat","chatType":"direct"}`),
		}
		eb, _ := e.MarshalJSON()
		if i > 0 {
			file.WriteString(",")
		}
		fmt.Fprintf(&file, "%q:%s", fmt.Sprintf("agent:main:telegram:dm:%d", 100000+i), eb)
	}
	file.WriteString("}")
	os.WriteFile(filepath.Join(dir, "sessions.json"), file.Bytes(), 0o600)
	var store, listed float64
	for b.Loop() {
		runtime.GC()
		var before, loaded, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := sessionstore.New(sessionstore.Options{StateDir: state})
		reg := rpc.NewRegistry()
		h := register(reg, Deps{Store: st})
		st.Get("agent:main:telegram:dm:100000")
		runtime.GC()
		runtime.ReadMemStats(&loaded)
		if _, e := reg.Lookup("sessions.list").Handler(rpc.NewCall("sessions.list", nil, json.RawMessage(`{}`), &rpc.Client{}, nil)); e != nil || len(h.cache.rows) != n {
			b.Fatalf("list: %v, %d cached", e, len(h.cache.rows))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		store = float64(loaded.HeapAlloc-before.HeapAlloc) / n
		listed = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(st)
		runtime.KeepAlive(h)
	}
	b.ReportMetric(store, "B/session-store")
	b.ReportMetric(listed, "B/session-listed")
}
