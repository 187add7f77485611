package sessionstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

func TestCanonicalKey(t *testing.T) {
	def := Config{}
	work := Config{MainKeyName: "Work"}
	global := Config{Scope: ScopeGlobal}
	ops := ParseConfig([]byte(`{agents:{list:[{id:"ops"},{id:"Dev",default:true}]}}`))
	for _, tc := range []struct {
		c        Config
		in, want string
	}{
		{def, "main", "agent:main:main"},
		{def, " agent:main:main ", "agent:main:main"},
		{def, "foo", "agent:main:foo"},
		{def, "global", "global"},
		{def, "unknown", "unknown"},
		{def, "agent:ops:telegram:dm:1", "agent:ops:telegram:dm:1"},
		{work, "main", "agent:main:work"},
		{work, "work", "agent:main:work"},
		{work, "agent:main:main", "agent:main:work"},
		{work, "agent:x:main", "agent:x:work"},
		{global, "main", "global"},
		{global, "agent:main:main", "global"},
		{ops, "main", "agent:dev:main"},
		{ops, "bar", "agent:dev:bar"},
	} {
		if got := tc.c.CanonicalKey(tc.in); got != tc.want {
			t.Errorf("%+v CanonicalKey(%q) = %q, want %q", tc.c, tc.in, got, tc.want)
		}
	}
}

func TestPeerKeyAndHelpers(t *testing.T) {
	links := ParseConfig([]byte(`{"session":{"dmScope":"per-peer","identityLinks":{"alice":["telegram:111","+1555"]}}}`))
	for _, tc := range []struct {
		c    Config
		p    Peer
		want string
	}{
		{Config{}, Peer{AgentID: "main", Channel: "telegram", PeerID: "111"}, "agent:main:main"},
		{Config{MainKeyName: "work"}, Peer{Channel: "telegram", PeerID: "111"}, "agent:main:main"},
		{Config{DMScope: DMScopePerPeer}, Peer{Channel: "telegram", PeerID: "ABC"}, "agent:main:dm:abc"},
		{Config{DMScope: DMScopePerChannelPeer}, Peer{Channel: "Telegram", PeerID: "111"}, "agent:main:telegram:dm:111"},
		{links, Peer{Channel: "telegram", PeerID: "111"}, "agent:main:dm:alice"},
		{links, Peer{Channel: "whatsapp", PeerID: "+1555"}, "agent:main:dm:alice"},
		{Config{}, Peer{AgentID: "Ops", Kind: "group", Channel: "whatsapp", PeerID: "123-456@g.us"}, "agent:ops:whatsapp:group:123-456@g.us"},
	} {
		if got := tc.c.PeerKey(tc.p); got != tc.want {
			t.Errorf("PeerKey(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
	if k := ThreadKey("agent:main:telegram:group:-100", "7A"); k != "agent:main:telegram:group:-100:thread:7a" {
		t.Error(k)
	}
	if Kind("agent:main:telegram:group:1", nil) != KindGroup || Kind("agent:main:main", &Entry{ChatType: "channel"}) != KindGroup || Kind("agent:main:main", nil) != KindDirect || Kind("global", nil) != KindGlobal {
		t.Error("Kind")
	}
	if ch, kind, id, ok := GroupKey("agent:main:telegram:group:-100:topic:5"); !ok || ch != "telegram" || kind != "group" || id != "-100:topic:5" {
		t.Error("GroupKey", ch, kind, id)
	}
	if NormalizeAgentID(" My Agent! ") != "my-agent" || NormalizeAgentID("") != "main" || NormalizeAgentID("Ops") != "ops" {
		t.Error("NormalizeAgentID")
	}
	if ResetType("agent:main:telegram:group:1:topic:2", false, false) != "thread" || ResetType("agent:main:x:channel:1", false, false) != "group" || ResetType("agent:main:main", false, false) != "dm" {
		t.Error("ResetType")
	}
}

func TestFreshness(t *testing.T) {
	loc := time.FixedZone("L", -5*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, loc) }
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	idle := ParseConfig([]byte(`{"session":{"reset":{"mode":"idle","idleMinutes":30}}}`))
	legacy := ParseConfig([]byte(`{"session":{"idleMinutes":10}}`))
	byType := ParseConfig([]byte(`{"session":{"resetByType":{"group":{"mode":"idle"}},"resetByChannel":{"telegram":{"mode":"daily","atHour":9}}}}`))
	for _, tc := range []struct {
		name         string
		c            Config
		typ, channel string
		updated, now time.Time
		want         bool
	}{
		{"daily: same morning after 04:00", Config{}, "dm", "", at(2, 4, 30), at(2, 23, 0), true},
		{"daily: before today's 04:00", Config{}, "dm", "", at(2, 3, 59), at(2, 4, 1), false},
		{"daily: 02:00 is still yesterday's day", Config{}, "dm", "", at(1, 5, 0), at(2, 2, 0), true},
		{"idle: inside", idle, "dm", "", at(2, 10, 0), at(2, 10, 29), true},
		{"idle: expired", idle, "dm", "", at(2, 10, 0), at(2, 10, 31), false},
		{"idle: no daily reset", idle, "dm", "", at(2, 3, 50), at(2, 4, 10), true},
		{"legacy idleMinutes", legacy, "dm", "", at(2, 10, 0), at(2, 10, 11), false},
		{"resetByType group idle default 60", byType, "group", "", at(2, 10, 0), at(2, 10, 59), true},
		{"resetByType group idle expired", byType, "group", "", at(2, 10, 0), at(2, 11, 1), false},
		{"resetByChannel atHour 9", byType, "dm", "Telegram", at(2, 8, 0), at(2, 8, 59), true},
		{"resetByChannel atHour 9 passed", byType, "dm", "telegram", at(2, 8, 0), at(2, 9, 1), false},
	} {
		if got := tc.c.PolicyFor(tc.typ, tc.channel).Fresh(ms(tc.updated), tc.now); got != tc.want {
			t.Errorf("%s: fresh = %v, want %v (%+v)", tc.name, got, tc.want, tc.c.PolicyFor(tc.typ, tc.channel))
		}
	}
}

// idleEntry is what a session our gateway ran a turn in holds.
func idleEntry(i int) Entry {
	return Entry{
		SessionID: NewSessionID(), UpdatedAt: 1796168744510 + int64(i), SystemSent: Bool(true), AbortedLastRun: Bool(false),
		ChatType: "direct", ModelProvider: "fake", Model: "fake-model", ContextTokens: Int(200000),
		InputTokens: Int(11), OutputTokens: Int(6), TotalTokens: Int(11), LastChannel: "webchat",
		DeliveryContext: []byte(`{"channel":"webchat"}`), Origin: []byte(`{"provider":"webchat","surface":"webchat","chatType":"direct"}`),
	}
}

// BenchmarkIdleSessionMemory reports the heap an idle session takes in the
// loaded index (target ≤ 2 KiB): 1,000 sessions are written, loaded by a
// fresh store, and the heap growth divided by 1,000.
func BenchmarkIdleSessionMemory(b *testing.B) {
	dir := b.TempDir()
	const n = 1000
	w := newStore(dir, time.Now())
	keys := make([]string, n)
	entries := map[string]*Entry{}
	for i := range n {
		keys[i] = fmt.Sprintf("agent:main:telegram:dm:%d", 100000+i)
		e := idleEntry(i)
		entries[keys[i]] = &e
	}
	f := w.file(w.StatePath("main"))
	if err := f.write(keys, entries); err != nil {
		b.Fatal(err)
	}
	var perSession float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := newStore(dir, time.Now())
		if _, ok := s.Get(keys[0]); !ok {
			b.Fatal("not loaded")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSession = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perSession, "B/session")
}

// BenchmarkAppend measures one transcript append on a file of 10 and of
// 10,000 lines: O(1) means both are the same.
func BenchmarkAppend(b *testing.B) {
	for _, lines := range []int{10, 10000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "s.jsonl")
			s := newStore(dir, time.Now())
			m := llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("Hello from the fake model.")}, StopReason: llm.StopStop, Usage: &llm.Usage{Input: 11, Output: 6}}
			for range lines {
				if _, err := s.AppendTranscript(path, "s", "/w", Record{Message: &m}); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if _, err := s.AppendTranscript(path, "s", "/w", Record{Message: &m}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			os.Remove(path)
		})
	}
}

// BenchmarkReadLastMessages reads the last 200 messages of a 50,000-line
// transcript: the cost is the tail, not the file.
func BenchmarkReadLastMessages(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	s := newStore(dir, time.Now())
	m := llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text("hello there, a typical message")}}
	for range 50000 {
		s.AppendTranscript(path, "s", "/w", Record{Message: &m})
	}
	for b.Loop() {
		if msgs, _ := ReadRawMessages(path, 200); len(msgs) != 200 {
			b.Fatal(len(msgs))
		}
	}
}

// TestKeySplitFastPath holds the allocation-free cut of ParseAgentKey and
// GroupKey to the split-and-drop-empty-segments definition.
func TestKeySplitFastPath(t *testing.T) {
	slow := func(key string) (a, rest, ch, kind, id string, isAgent, isGroup bool) {
		var parts []string
		for p := range strings.SplitSeq(strings.TrimSpace(key), ":") {
			if p != "" {
				parts = append(parts, p)
			}
		}
		r := key
		if len(parts) >= 3 && parts[0] == "agent" && strings.TrimSpace(parts[1]) != "" {
			a, rest, isAgent = strings.TrimSpace(parts[1]), strings.Join(parts[2:], ":"), true
			r = rest
		}
		parts = parts[:0]
		for p := range strings.SplitSeq(r, ":") {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) >= 3 && (parts[1] == "group" || parts[1] == "channel") {
			ch, kind, id, isGroup = parts[0], parts[1], strings.Join(parts[2:], ":"), true
		}
		return
	}
	for _, k := range []string{"agent:main:main", "agent:main:telegram:group:-100:topic:5", " agent:ops:discord:channel:9 ", "agent::x", "agent:main:",
		"agent: :x", "agent:a:b::c", "telegram:group:1", "whatsapp:group:1@g.us", "agent:main:slack:channel", "::agent:main:x", "agent:main:x:group:",
		"global", "", ":", "agent:main:dm:alice", "agent:main:a:group:b:c"} {
		a, rest, ok := ParseAgentKey(k)
		ch, kind, id, gok := GroupKey(k)
		wa, wrest, wch, wkind, wid, wok, wgok := slow(k)
		if a != wa || rest != wrest || ok != wok || ch != wch || kind != wkind || id != wid || gok != wgok {
			t.Errorf("%q: got %q %q %v / %q %q %q %v, want %q %q %v / %q %q %q %v", k, a, rest, ok, ch, kind, id, gok, wa, wrest, wok, wch, wkind, wid, wgok)
		}
	}
}
