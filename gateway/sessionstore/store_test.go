package sessionstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

const originalSessionID = "bb7de001-0899-49b8-a0a3-64730768d9f5"

// originalState copies the files the original wrote (captured with the
// peer, testdata/original) into a fresh state dir.
func originalState(t *testing.T) (stateDir, dir string) {
	t.Helper()
	stateDir = t.TempDir()
	dir = filepath.Join(stateDir, "agents", "main", "sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sessions.json", originalSessionID + ".jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", "original", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return stateDir, dir
}

func newStore(stateDir string, now time.Time) *Store {
	return New(Options{StateDir: stateDir, Home: stateDir, Now: func() time.Time { return now }})
}

func TestReadsOriginalStore(t *testing.T) {
	stateDir, _ := originalState(t)
	s := newStore(stateDir, time.UnixMilli(1796168744510+1000))
	e, ok := s.Get("main")
	if !ok {
		t.Fatal("main session of the original's store not found")
	}
	if e.SessionID != originalSessionID || e.UpdatedAt != 1796168744510 || !Flag(e.SystemSent) || Flag(e.AbortedLastRun) {
		t.Errorf("entry = %+v", e)
	}
	if *e.InputTokens != 11 || *e.OutputTokens != 6 || *e.TotalTokens != 11 || e.Model != "fake-model" || e.ModelProvider != "fake" || e.ChatType != "direct" {
		t.Errorf("tokens/model = %v %v %v %q %q", *e.InputTokens, *e.OutputTokens, *e.TotalTokens, e.Model, e.ModelProvider)
	}
	if e.ExtraField("skillsSnapshot") == nil || e.ExtraField("systemPromptReport") == nil {
		t.Errorf("unknown fields not kept: %v", e.Extra)
	}
}

// A round trip through our writer keeps every field the original wrote.
func TestRoundTripKeepsOriginalFields(t *testing.T) {
	stateDir, dir := originalState(t)
	path := filepath.Join(dir, "sessions.json")
	before := readGeneric(t, path)
	s := newStore(stateDir, time.UnixMilli(1796168744510+1000))
	if _, err := s.Update("agent:main:main", func(e *Entry) error { e.Label = "work"; return nil }); err != nil {
		t.Fatal(err)
	}
	after := readGeneric(t, path)
	b, a := before["agent:main:main"], after["agent:main:main"]
	for k, v := range b {
		if !reflect.DeepEqual(a[k], v) {
			t.Errorf("field %s changed: %v → %v", k, v, a[k])
		}
	}
	if a["label"] != "work" {
		t.Errorf("label = %v", a["label"])
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if !bytes.HasPrefix(raw, []byte("{\n  \"agent:main:main\": {\n    \"sessionId\"")) || bytes.Contains(raw, []byte(`\u003c`)) {
		t.Errorf("not JSON.stringify(store, null, 2) form:\n%.200s", raw)
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}

func readGeneric(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReadsOriginalTranscript(t *testing.T) {
	_, dir := originalState(t)
	path := filepath.Join(dir, originalSessionID+".jsonl")
	raw, err := ReadRawMessages(path, 100)
	if err != nil || len(raw) != 4 {
		t.Fatalf("got %d messages, %v; want the 4 of the capture", len(raw), err)
	}
	msgs, _ := ReadMessages(path, 3)
	if len(msgs) != 3 || msgs[0].Role != llm.RoleAssistant || msgs[1].PlainText() != "hello\n[message_id: run-chat-1]" || msgs[2].Usage == nil || msgs[2].Usage.Input != 11 {
		t.Errorf("last 3 = %+v", msgs)
	}
	if id := lastEntryID(path); id != "1afb2f40" {
		t.Errorf("last id = %q", id)
	}
	s := newStore(t.TempDir(), time.Now())
	m := llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text("next")}, Timestamp: 1}
	if _, err := s.AppendTranscript(path, originalSessionID, "/w", Record{Message: &m}); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if got := lines[len(lines)-1]["parentId"]; got != "1afb2f40" {
		t.Errorf("appended parentId = %v, want the original's last id", got)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestAppendWritesPiV3(t *testing.T) {
	stateDir := t.TempDir()
	now := time.Date(2026, 12, 1, 21, 32, 1, 436e6, time.UTC)
	s := New(Options{StateDir: stateDir, Now: func() time.Time { return now }, Workspace: func(string) string { return "/ws" }})
	e, created, err := s.Resolve("main")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	u := llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text("hi")}, Timestamp: now.UnixMilli()}
	a := llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("yo <b>")}, StopReason: llm.StopStop, Timestamp: now.UnixMilli()}
	inj := llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("[x]\n\nnote")}, StopReason: llm.StopInjected, Timestamp: now.UnixMilli()}
	mc := Record{Type: TypeModelChange, Fields: []Field{{"provider", json.RawMessage(`"fake"`)}, {"modelId", json.RawMessage(`"m"`)}}}
	for _, r := range []Record{mc, {Message: &u}, {Message: &a}, {Message: &inj, NoParent: true}, {Message: &u}} {
		if _, err := s.Append("main", e.SessionID, r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(stateDir, "agents", "main", "sessions", e.SessionID+".jsonl")
	lines := readLines(t, path)
	want := map[string]any{"type": "session", "version": float64(3), "id": e.SessionID, "timestamp": "2026-12-01T21:32:01.436Z", "cwd": "/ws"}
	if !reflect.DeepEqual(lines[0], want) {
		t.Errorf("header = %v", lines[0])
	}
	if v, ok := lines[1]["parentId"]; !ok || v != nil {
		t.Errorf("first entry parentId = %v (present %v), want null", v, ok)
	}
	for i := 1; i < len(lines); i++ {
		id, _ := lines[i]["id"].(string)
		if len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Errorf("line %d id %q is not 8 hex", i, id)
		}
	}
	if lines[2]["parentId"] != lines[1]["id"] || lines[3]["parentId"] != lines[2]["id"] {
		t.Error("parentId chain broken")
	}
	if _, has := lines[4]["parentId"]; has {
		t.Error("injected entry has a parentId")
	}
	if lines[5]["parentId"] != lines[4]["id"] {
		t.Error("entry after the injected one does not chain to it")
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(`yo <b>`)) {
		t.Error("HTML escaped in transcript")
	}
}

// A second Store (another process, as far as the file goes) appending to
// the same transcript: ours re-reads the tail instead of trusting its
// cached head.
func TestAppendAfterForeignWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	a, b := newStore(dir, time.Now()), newStore(dir, time.Now())
	m := llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text("x")}}
	id1, _ := a.AppendTranscript(path, "s", "", Record{Message: &m})
	id2, _ := b.AppendTranscript(path, "s", "", Record{Message: &m})
	a.AppendTranscript(path, "s", "", Record{Message: &m})
	lines := readLines(t, path)
	if lines[2]["parentId"] != id1 || lines[3]["parentId"] != id2 {
		t.Errorf("chain = %v %v, want %s %s", lines[2]["parentId"], lines[3]["parentId"], id1, id2)
	}
	if len(lines) != 4 || lines[0]["type"] != "session" {
		t.Errorf("%d lines, header %v", len(lines), lines[0])
	}
}

func TestScanBackBounds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.jsonl")
	var buf bytes.Buffer
	buf.WriteString(`{"type":"session","id":"s"}` + "\n")
	for i := range 3000 {
		fmt.Fprintf(&buf, `{"type":"message","id":"%08x","message":{"role":"user","content":"m%d","timestamp":0}}`+"\n", i, i)
		if i == 1500 {
			buf.WriteString("not json\n\n")
			buf.WriteString(`{"type":"compaction","id":"c","summary":"s"}` + "\n")
		}
	}
	old := lineCap
	lineCap = 1 << 20
	t.Cleanup(func() { lineCap = old })
	long := `{"type":"message","id":"long","message":{"role":"user","content":"` + strings.Repeat("x", 3<<20) + `"}}`
	buf.WriteString(long + "\n")
	buf.WriteString(`{"type":"message","id":"last","message":{"role":"assistant","content":[],"timestamp":0}}`) // no final newline
	os.WriteFile(path, buf.Bytes(), 0o600)
	raw, err := ReadRawMessages(path, 2500)
	if err != nil || len(raw) != 2500 {
		t.Fatalf("%d, %v", len(raw), err)
	}
	msgs, _ := ReadMessages(path, 2)
	if len(msgs) != 2 || msgs[0].PlainText() != "m2999" || msgs[1].Role != "assistant" {
		t.Errorf("tail has %d messages, first %.40q (the over-long line must be skipped)", len(msgs), msgs[0].PlainText())
	}
	all, _ := ReadRawMessages(path, 10000)
	if len(all) != 3001 {
		t.Errorf("all = %d, want 3001", len(all))
	}
	if n, _ := ReadRawMessages(filepath.Join(dir, "missing"), 5); n != nil {
		t.Error("missing file has messages")
	}
}

func TestStoreJSON5AndBadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agents", "main", "sessions", "sessions.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("// hand edited\n{\n  'agent:main:main': {sessionId: 'abc', updatedAt: 5, provider: 'telegram',},\n  x: 1,\n}\n"), 0o600)
	s := newStore(dir, time.UnixMilli(10))
	e, ok := s.Get("main")
	if !ok || e.SessionID != "abc" || e.Channel != "telegram" {
		t.Fatalf("JSON5 store: %+v %v (legacy provider → channel)", e, ok)
	}
	bad := []byte("{ not json")
	os.WriteFile(path, bad, 0o600)
	if _, err := s.Update("main", func(*Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "not valid JSON5") {
		t.Errorf("update of a bad store: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, bad) {
		t.Error("bad store was overwritten")
	}
}

func TestLockFileProtocol(t *testing.T) {
	old := lockTimings
	t.Cleanup(func() { lockTimings = old })
	lockTimings.timeout, lockTimings.stale = 300*time.Millisecond, time.Hour
	dir := t.TempDir()
	s := newStore(dir, time.UnixMilli(10))
	lock := s.StatePath("main") + ".lock"
	os.MkdirAll(filepath.Dir(lock), 0o700)
	os.WriteFile(lock, []byte(`{"pid":1,"startedAt":1}`), 0o644)
	if _, err := s.Update("main", func(*Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "timeout acquiring session store lock") {
		t.Fatalf("held lock: %v", err)
	}
	// A lock whose owner is gone for longer than the stale period is taken over.
	lockTimings.stale = 50 * time.Millisecond
	os.Chtimes(lock, time.Now().Add(-time.Second), time.Now().Add(-time.Second))
	if _, err := s.Update("main", func(*Entry) error { return nil }); err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Error("lock not released")
	}
	// A live lock released during the wait: the writer goes on.
	lockTimings.stale, lockTimings.timeout = time.Hour, 5*time.Second
	os.WriteFile(lock, []byte(`{}`), 0o644)
	go func() { time.Sleep(60 * time.Millisecond); os.Remove(lock) }()
	if _, err := s.Update("x", func(e *Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("x"); !ok {
		t.Error("update after the lock was released is missing")
	}
}

// Two stores on one directory (two processes sharing it) lose no update.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	a, b := newStore(dir, time.UnixMilli(10)), newStore(dir, time.UnixMilli(10))
	var wg sync.WaitGroup
	for w, s := range []*Store{a, b} {
		wg.Go(func() {
			for i := range 25 {
				if _, err := s.Update(fmt.Sprintf("w%d-%d", w, i), func(*Entry) error { return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rows, _ := newStore(dir, time.UnixMilli(10)).List(nil)
	if len(rows) != 50 {
		t.Errorf("%d sessions, want 50", len(rows))
	}
}

func TestResolveCreatesAndRotates(t *testing.T) {
	dir := t.TempDir()
	loc := time.FixedZone("X", 3600)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, loc)
	s := New(Options{StateDir: dir, Now: func() time.Time { return now }})
	e1, created, _ := s.Resolve("main")
	if !created || e1.SessionID == "" {
		t.Fatal("not created")
	}
	s.Update("main", func(e *Entry) error { e.ThinkingLevel, e.InputTokens = "high", Int(5); return nil })
	e2, created, _ := s.Resolve("agent:main:main")
	if created || e2.SessionID != e1.SessionID {
		t.Fatal("fresh session rotated")
	}
	now = time.Date(2026, 3, 3, 4, 0, 1, 0, loc) // past the next 04:00
	e3, created, _ := s.Resolve("main")
	if !created || e3.SessionID == e1.SessionID || e3.ThinkingLevel != "high" || *e3.InputTokens != 0 {
		t.Errorf("stale session: created=%v %+v", created, e3)
	}
}

// TestResolveFreshTakesNoLock: resolving a fresh session only reads, so
// it neither waits for nor takes the lock file a writer holds.
func TestResolveFreshTakesNoLock(t *testing.T) {
	old := lockTimings
	t.Cleanup(func() { lockTimings = old })
	lockTimings.timeout, lockTimings.stale = 100*time.Millisecond, time.Hour
	s := New(Options{StateDir: t.TempDir()})
	first, created, err := s.Resolve("main")
	if err != nil || !created {
		t.Fatalf("first resolve: %v %v", created, err)
	}
	lock := s.StatePath("main") + ".lock"
	os.WriteFile(lock, []byte(`{"pid":1,"startedAt":1}`), 0o644)
	got, created, err := s.Resolve("main")
	if err != nil || created || got.SessionID != first.SessionID {
		t.Fatalf("resolve under a held lock: %+v %v %v", got, created, err)
	}
	if b, _ := os.ReadFile(lock); string(b) != `{"pid":1,"startedAt":1}` {
		t.Error("the lock was touched")
	}
}
