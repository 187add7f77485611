package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/profiles"
)

// End-to-end chat through a real gateway on 127.0.0.1:0: the agent
// runner, the session store on disk and the methods of both features, as
// a client sees them.
//
// The model is fakeModel, a test-only llm.Resolver handed in through
// Options.Models: a fake, because the real provider packages (with their
// fake HTTP upstreams) are not part of this branch yet; everything between
// the provider's stream and the client's socket is the real gateway.

// fakeModel streams a script of text deltas.
type fakeModel struct {
	deltas  []string
	spacing time.Duration
	// hang: after the deltas, block until the run is aborted.
	hang bool

	// mu guards everything (a test may change the script between turns).
	mu      sync.Mutex
	reqs    []llm.Request
	emitted []time.Time
}

func newFakeModel(deltas ...string) *fakeModel { return &fakeModel{deltas: deltas} }

func (m *fakeModel) setSpacing(d time.Duration) {
	m.mu.Lock()
	m.spacing = d
	m.mu.Unlock()
}

func (m *fakeModel) Resolve(string, string) (llm.Selection, error) {
	return llm.Selection{Primary: llm.Ref{Provider: "fake", Model: "fake-model"}, ContextWindow: 200000, MaxTokens: 8192, Chain: m}, nil
}

func (m *fakeModel) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	deltas, spacing, hang := m.deltas, m.spacing, m.hang
	m.mu.Unlock()
	var text string
	for _, d := range deltas {
		if spacing > 0 {
			select {
			case <-ctx.Done():
				return llm.Message{}, &llm.Error{Kind: llm.KindAborted, Err: ctx.Err()}
			case <-time.After(spacing):
			}
		}
		m.mu.Lock()
		m.emitted = append(m.emitted, time.Now())
		m.mu.Unlock()
		emit(llm.Event{Kind: llm.EventText, Delta: d})
		text += d
	}
	if hang {
		<-ctx.Done()
		return llm.Message{}, &llm.Error{Kind: llm.KindAborted, Err: ctx.Err()}
	}
	return llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text(text)}, API: "openai-completions",
		Provider: "fake", Model: "fake-model", StopReason: llm.StopStop,
		Usage:     &llm.Usage{Input: 11, Output: int64(len(deltas)), TotalTokens: 11 + int64(len(deltas)), Cost: &llm.Cost{}},
		Timestamp: time.Now().UnixMilli()}, nil
}

func (m *fakeModel) requests() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reqs)
}

var helloDeltas = []string{"Hello", " from", " the", " fake", " model", "."}

// chatServer is a gateway whose turns go to m (nil: no model provider,
// as on a fresh install), with chat deltas unthrottled unless mod says
// otherwise.
func chatServer(t testing.TB, m *fakeModel, mod func(*Options)) *Server {
	t.Helper()
	return startServer(t, func(o *Options) {
		if m != nil {
			o.Models = m
		}
		o.Workspace = filepath.Join(o.StateDir, "workspace")
		o.ChatDeltaInterval = -1
		if mod != nil {
			mod(o)
		}
	})
}

// wsFrame is one frame as received: raw bytes (for key orders) and
// decoded.
type wsFrame struct {
	raw []byte
	m   map[string]any
}

func (f wsFrame) payload() map[string]any { p, _ := f.m["payload"].(map[string]any); return p }

func (f wsFrame) is(typ, name string) bool {
	if f.m["type"] != typ {
		return false
	}
	switch typ {
	case "event":
		return f.m["event"] == name
	case "res":
		return f.m["id"] == name
	}
	return false
}

func readFrame(t testing.TB, c *testClient) wsFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.WS.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("bad frame %s: %v", data, err)
	}
	return wsFrame{raw: data, m: m}
}

// collectUntil reads frames (health and tick skipped) up to and including
// the first one done accepts.
func collectUntil(t testing.TB, c *testClient, done func(wsFrame) bool) []wsFrame {
	t.Helper()
	var out []wsFrame
	for {
		f := readFrame(t, c)
		if f.is("event", "health") || f.is("event", "tick") {
			continue
		}
		out = append(out, f)
		if done(f) {
			return out
		}
	}
}

func chatFinalOf(runID string) func(wsFrame) bool {
	return func(f wsFrame) bool {
		p := f.payload()
		return f.is("event", "chat") && p["runId"] == runID && (p["state"] == "final" || p["state"] == "error" || p["state"] == "aborted")
	}
}

// waitIdle waits until no run of key is active or queued.
func waitIdle(t testing.TB, s *Server, key string) {
	t.Helper()
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return s.f.agent.Idle(key) })
}

func connectChat(t testing.TB, s *Server) (*testClient, map[string]any) {
	t.Helper()
	c := dial(t, s)
	return c, c.Connect(connectParams(testToken))
}

func send(c *testClient, id, method string, params any) {
	c.Send(map[string]any{"type": "req", "id": id, "method": method, "params": params})
}

// summarize renders a run's frames as "res started", "agent lifecycle start 1",
// "agent assistant 2", "chat delta 2", … (payload seq, per run).
func summarize(fs []wsFrame, runID string) []string {
	var out []string
	for _, f := range fs {
		p := f.payload()
		switch {
		case f.m["type"] == "res":
			out = append(out, fmt.Sprintf("res %v", p["status"]))
		case f.is("event", "agent") && p["runId"] == runID:
			s := fmt.Sprintf("agent %v", p["stream"])
			if d, _ := p["data"].(map[string]any); d["phase"] != nil {
				s += fmt.Sprintf(" %v", d["phase"])
			}
			out = append(out, fmt.Sprintf("%s %v", s, p["seq"]))
		case f.is("event", "chat") && p["runId"] == runID:
			out = append(out, fmt.Sprintf("chat %v %v", p["state"], p["seq"]))
		}
	}
	return out
}

func TestChatSendEndToEnd(t *testing.T) {
	m := newFakeModel(helloDeltas...)
	s := chatServer(t, m, nil)
	c, _ := connectChat(t, s)

	send(c, "send-1", "chat.send", map[string]any{"sessionKey": "main", "message": "hello", "idempotencyKey": "run-chat-1"})
	fs := collectUntil(t, c, chatFinalOf("run-chat-1"))
	want := []string{"res started", "agent lifecycle start 1"}
	for i := range helloDeltas {
		want = append(want, fmt.Sprintf("agent assistant %d", i+2), fmt.Sprintf("chat delta %d", i+2))
	}
	want = append(want, "agent lifecycle end 8", "chat final 8")
	if got := summarize(fs, "run-chat-1"); !slices.Equal(got, want) {
		t.Fatalf("frames:\n got %q\nwant %q", got, want)
	}
	final := fs[len(fs)-1].payload()
	if txt := final["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]; txt != "Hello from the fake model." {
		t.Errorf("chat final text %q", txt)
	}

	// The second turn sees the first in its history. It is sent once the
	// first run has finished (its store update follows the chat final; a
	// message for a busy session would be queued, collect mode).
	waitIdle(t, s, "agent:main:main")
	send(c, "send-2", "chat.send", map[string]any{"sessionKey": "main", "message": "again", "idempotencyKey": "run-chat-2"})
	collectUntil(t, c, chatFinalOf("run-chat-2"))
	reqs := m.requests()
	if len(reqs) != 2 || len(reqs[1].Messages) != 3 {
		t.Fatalf("second request carries %d messages, want user, assistant, user", len(reqs[len(reqs)-1].Messages))
	}
	if u := reqs[0].Messages[0].PlainText(); u != "hello\n[message_id: run-chat-1]" {
		t.Errorf("model saw %q, want the message with its [message_id] hint", u)
	}

	h := c.Call("chat.history", map[string]any{"sessionKey": "main"})
	if h["ok"] != true {
		t.Fatalf("chat.history: %v", h)
	}
	hp := h["payload"].(map[string]any)
	msgs := hp["messages"].([]any)
	var roles, texts []string
	for _, x := range msgs {
		mm := x.(map[string]any)
		roles = append(roles, mm["role"].(string))
		texts = append(texts, mm["content"].([]any)[0].(map[string]any)["text"].(string))
	}
	if !slices.Equal(roles, []string{"user", "assistant", "user", "assistant"}) || texts[0] != "hello" || texts[1] != "Hello from the fake model." {
		t.Fatalf("history roles %v texts %q", roles, texts)
	}
	if hp["sessionKey"] != "main" || hp["sessionId"] == nil {
		t.Errorf("history head %v", hp)
	}
	sessionID := hp["sessionId"].(string)

	l := c.Call("sessions.list", map[string]any{})
	rows := l["payload"].(map[string]any)["sessions"].([]any)
	if len(rows) != 1 {
		t.Fatalf("sessions.list: %v", l)
	}
	row := rows[0].(map[string]any)
	if row["key"] != "agent:main:main" || row["sessionId"] != sessionID || row["model"] != "fake-model" {
		t.Errorf("sessions.list row %v", row)
	}

	// The transcript on disk is pi v3 and the store reads it back.
	path := filepath.Join(s.opts.StateDir, "agents", "main", "sessions", sessionID+".jsonl")
	checkTranscript(t, path, sessionID, 4)
	got, err := sessionstore.ReadMessages(path, 100)
	if err != nil || len(got) != 4 || got[1].Provider != "fake" || got[1].Usage == nil || got[1].Usage.Input != 11 {
		t.Fatalf("sessionstore.ReadMessages = %+v, %v", got, err)
	}
	entry, ok := s.f.sessions.Get("agent:main:main")
	if !ok || !sessionstore.Flag(entry.SystemSent) || entry.LastChannel != "webchat" || entry.TotalTokens == nil || *entry.TotalTokens != 11 {
		t.Errorf("entry after the turns: %+v", entry)
	}

	// status and health read the same store.
	st := c.Call("status", nil)["payload"].(map[string]any)["sessions"].(map[string]any)
	if st["count"] != 1.0 || st["recent"].([]any)[0].(map[string]any)["key"] != "agent:main:main" {
		t.Errorf("status sessions %v", st)
	}
	if d := st["defaults"].(map[string]any); d["model"] != "fake-model" || d["contextTokens"] != 200000.0 {
		t.Errorf("status sessions.defaults %v, want the resolved model", d)
	}
}

var hex8 = regexp.MustCompile(`^[0-9a-f]{8}$`)

// checkTranscript checks the pi v3 line format (doc/messaging.md §3.4): the
// header, then n message entries chained by parentId.
func checkTranscript(t *testing.T, path, sessionID string, n int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("transcript mode %v, want 0600", st.Mode().Perm())
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want header + %d:\n%s", len(lines), n, raw)
	}
	var hdr struct {
		Type      string `json:"type"`
		Version   int    `json:"version"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Cwd       string `json:"cwd"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil || hdr.Type != "session" || hdr.Version != 3 || hdr.ID != sessionID || hdr.Cwd == "" {
		t.Fatalf("header %s (%v)", lines[0], err)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", hdr.Timestamp); err != nil {
		t.Errorf("header timestamp %q: %v", hdr.Timestamp, err)
	}
	prev := ""
	for i, l := range lines[1:] {
		var e struct {
			Type      string          `json:"type"`
			ID        string          `json:"id"`
			ParentID  *string         `json:"parentId"`
			Timestamp string          `json:"timestamp"`
			Message   json.RawMessage `json:"message"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if e.Type != "message" || !hex8.MatchString(e.ID) || len(e.Message) == 0 {
			t.Errorf("line %d: %s", i+2, l)
		}
		switch {
		case prev == "" && e.ParentID != nil:
			t.Errorf("line %d: first entry has parentId %q, want null", i+2, *e.ParentID)
		case prev != "" && (e.ParentID == nil || *e.ParentID != prev):
			t.Errorf("line %d: parentId %v, want %s", i+2, e.ParentID, prev)
		}
		prev = e.ID
	}
}

func TestAgentTwoStageEndToEnd(t *testing.T) {
	s := chatServer(t, newFakeModel(helloDeltas...), nil)
	c, _ := connectChat(t, s)
	send(c, "a-1", "agent", map[string]any{"message": "hi there", "sessionKey": "agent:main:main", "idempotencyKey": "run-agent-1"})
	var acks []wsFrame
	fs := collectUntil(t, c, func(f wsFrame) bool {
		if f.is("res", "a-1") {
			acks = append(acks, f)
		}
		return len(acks) == 2
	})
	got := summarize(fs, "run-agent-1")
	if got[0] != "res accepted" || got[1] != "agent lifecycle start 1" || got[len(got)-1] != "res ok" || got[len(got)-2] != "chat final 8" {
		t.Fatalf("frames %q", got)
	}
	final := acks[1].payload()
	res := final["result"].(map[string]any)
	if final["summary"] != "completed" || res["payloads"].([]any)[0].(map[string]any)["text"] != "Hello from the fake model." {
		t.Fatalf("final %v", final)
	}
	meta := res["meta"].(map[string]any)["agentMeta"].(map[string]any)
	if meta["provider"] != "fake" || meta["model"] != "fake-model" || meta["sessionId"] == "" {
		t.Errorf("agentMeta %v", meta)
	}
	w := c.Call("agent.wait", map[string]any{"runId": "run-agent-1", "timeoutMs": 0})
	if w["payload"].(map[string]any)["status"] != "ok" {
		t.Errorf("agent.wait %v", w)
	}
}

// TestChatWithoutModel: a fresh install has no provider; a turn ends with
// an error naming the fix, never a hang or a fake reply.
func TestChatWithoutModel(t *testing.T) {
	// The built-in providers read their keys from the environment: none
	// here, so the default model (anthropic) has no key and nothing is
	// ever dialled.
	for _, k := range []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"} {
		t.Setenv(k, "")
	}
	s := chatServer(t, nil, nil)
	c, _ := connectChat(t, s)
	send(c, "a-1", "agent", map[string]any{"message": "hi", "idempotencyKey": "run-nomodel"})
	var n int
	fs := collectUntil(t, c, func(f wsFrame) bool {
		if f.is("res", "a-1") {
			n++
		}
		return n == 2
	})
	last := fs[len(fs)-1]
	if last.m["ok"] != false {
		t.Fatalf("final res %s", last.raw)
	}
	code, msg := errOf(t, last.m)
	if code != "UNAVAILABLE" || !strings.Contains(msg, "no API key for model provider anthropic") ||
		!strings.Contains(msg, "ANTHROPIC_API_KEY") || !strings.Contains(msg, "models.providers") {
		t.Errorf("error %s %q", code, msg)
	}
	if !slices.Contains(summarize(fs, "run-nomodel"), "agent lifecycle error 2") {
		t.Errorf("frames %q, want a lifecycle error", summarize(fs, "run-nomodel"))
	}
	// The user message is kept: the owner sees what was asked once a
	// model is configured.
	h := c.Call("chat.history", map[string]any{"sessionKey": "main"})
	if msgs := h["payload"].(map[string]any)["messages"].([]any); len(msgs) != 1 {
		t.Errorf("history %v", msgs)
	}
}

func TestHelloAdvertisesAgentAndChat(t *testing.T) {
	s := chatServer(t, nil, nil)
	_, hello := connectChat(t, s)
	feats := hello["features"].(map[string]any)
	var events, methods []string
	for _, e := range feats["events"].([]any) {
		events = append(events, e.(string))
	}
	for _, m := range feats["methods"].([]any) {
		methods = append(methods, m.(string))
	}
	if len(events) < 3 || events[0] != "connect.challenge" || events[1] != "agent" || events[2] != "chat" {
		t.Errorf("features.events %v: agent and chat follow connect.challenge in the original's order", events)
	}
	for _, e := range []string{"heartbeat", "cron"} {
		if !slices.Contains(events, e) {
			t.Errorf("features.events %v lacks %s, which the gateway sends", events, e)
		}
	}
	for _, m := range []string{"agent", "agent.wait", "agent.identity.get", "agents.list", "chat.send", "chat.abort", "chat.history",
		"sessions.list", "sessions.preview", "sessions.patch", "sessions.reset", "sessions.delete", "sessions.compact", "usage.status", "usage.cost"} {
		if !slices.Contains(methods, m) {
			t.Errorf("features.methods lacks %s", m)
		}
	}
	for _, hidden := range []string{"chat.inject", "sessions.resolve"} {
		if slices.Contains(methods, hidden) {
			t.Errorf("features.methods lists the hidden %s", hidden)
		}
	}
}

// TestSessionsDeleteAbortsRunningTurn: sessions.delete stops the turn in
// flight, waits for it, and the ending run does not bring the entry back.
func TestSessionsDeleteAbortsRunningTurn(t *testing.T) {
	m := newFakeModel("partial")
	m.hang = true
	s := chatServer(t, m, nil)
	c, _ := connectChat(t, s)
	send(c, "send-1", "chat.send", map[string]any{"sessionKey": "agent:main:work", "message": "long job", "idempotencyKey": "run-work"})
	collectUntil(t, c, func(f wsFrame) bool {
		return f.is("event", "agent") && f.payload()["stream"] == "assistant"
	})
	send(c, "del-1", "sessions.delete", map[string]any{"key": "agent:main:work"})
	fs := collectUntil(t, c, func(f wsFrame) bool { return f.is("res", "del-1") })
	del := fs[len(fs)-1]
	if del.m["ok"] != true || del.payload()["deleted"] != true {
		t.Fatalf("sessions.delete %s", del.raw)
	}
	// The run ended before the res: its lifecycle end is already out.
	if got := summarize(fs, "run-work"); !slices.Contains(got, "agent lifecycle end 3") {
		t.Errorf("frames before the delete res %q, want the aborted run's end", got)
	}
	if !s.f.agent.Idle("agent:main:work") {
		t.Error("runner still busy after sessions.delete")
	}
	if _, ok := s.f.sessions.Get("agent:main:work"); ok {
		t.Error("the aborted run recreated the deleted entry")
	}
	l := c.Call("sessions.list", map[string]any{})
	if n := l["payload"].(map[string]any)["count"]; n != 0.0 {
		t.Errorf("sessions.list count %v after delete", n)
	}
}

// TestRestartKeepsSessionsAndRuns: an in-process restart (SIGUSR1, config
// reload) swaps the runtime only: the sessions stay, and a run in flight
// finishes on the same runner, visible to the reconnected client.
func TestRestartKeepsSessionsAndRuns(t *testing.T) {
	m := newFakeModel(helloDeltas...)
	s := chatServer(t, m, nil)
	c, _ := connectChat(t, s)
	send(c, "send-1", "chat.send", map[string]any{"sessionKey": "main", "message": "hello", "idempotencyKey": "run-1"})
	collectUntil(t, c, chatFinalOf("run-1"))
	waitIdle(t, s, "agent:main:main")
	runner := s.f.agent

	// Idle restart.
	if err := s.Restart(context.Background(), s.opts.Runtime); err != nil {
		t.Fatal(err)
	}
	c2, _ := connectChat(t, s)
	if s.f.agent != runner {
		t.Fatal("restart replaced the runner")
	}
	h := c2.Call("chat.history", map[string]any{"sessionKey": "main"})
	if msgs := h["payload"].(map[string]any)["messages"].([]any); len(msgs) != 2 {
		t.Fatalf("history after restart: %v", h)
	}

	// Restart while a turn streams.
	m.setSpacing(30 * time.Millisecond)
	send(c2, "send-2", "chat.send", map[string]any{"sessionKey": "main", "message": "during restart", "idempotencyKey": "run-2"})
	collectUntil(t, c2, func(f wsFrame) bool {
		return f.is("event", "agent") && f.payload()["stream"] == "assistant"
	})
	if err := s.Restart(context.Background(), s.opts.Runtime); err != nil {
		t.Fatal(err)
	}
	c3, _ := connectChat(t, s)
	w := c3.Call("agent.wait", map[string]any{"runId": "run-2", "timeoutMs": 10000})
	if w["payload"].(map[string]any)["status"] != "ok" {
		t.Fatalf("agent.wait after restart: %v", w)
	}
	h = c3.Call("chat.history", map[string]any{"sessionKey": "main"})
	msgs := h["payload"].(map[string]any)["messages"].([]any)
	if len(msgs) != 4 || msgs[3].(map[string]any)["content"].([]any)[0].(map[string]any)["text"] != "Hello from the fake model." {
		t.Fatalf("history after a restart mid-turn: %v", msgs)
	}
}

// keyOrders lists the key order of every object in a JSON document, by
// path ("payload", "payload.data", …), arrays entered at their elements.
func keyOrders(raw []byte) map[string][]string {
	out := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch tok {
		case json.Delim('{'):
			out[path] = []string{}
			for dec.More() {
				k, _ := dec.Token()
				key := k.(string)
				out[path] = append(out[path], key)
				walk(strings.TrimPrefix(path+"."+key, "."))
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				walk(path + "[]")
			}
			dec.Token()
		}
	}
	walk("")
	return out
}

// TestDifferentialChatSend replays the original's recorded chat.send
// (testdata/peer/frames-b-chat-send.json: six deltas, every one passing
// the chat throttle) against ours with the same script and compares what
// the client sees: the sequence of res statuses, event types, streams,
// phases, states and per-run seqs, and the key order of every frame,
// payload, data and message. Ids, times and the handshake are normalised
// away as the capture's README says (health and tick skipped).
func TestDifferentialChatSend(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("agent", "testdata", "peer", "frames-b-chat-send.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec []struct {
		Dir   string          `json:"dir"`
		Frame json.RawMessage `json:"frame"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	var theirs []wsFrame
	var sendParams map[string]any
	sent := false
	for _, r := range rec {
		if r.Dir == "out" {
			var f map[string]any
			_ = json.Unmarshal(r.Frame, &f)
			if f["method"] == "chat.send" {
				sent, sendParams = true, f["params"].(map[string]any)
			}
			continue
		}
		if r.Dir != "in" || !sent {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(r.Frame, &m)
		f := wsFrame{raw: r.Frame, m: m}
		if f.is("event", "health") || f.is("event", "tick") {
			continue
		}
		theirs = append(theirs, f)
	}
	runID := sendParams["idempotencyKey"].(string)

	m := newFakeModel(helloDeltas...)
	m.setSpacing(5 * time.Millisecond)
	s := chatServer(t, m, nil)
	c, _ := connectChat(t, s)
	send(c, "b-chat-send-2", "chat.send", sendParams)
	ours := collectUntil(t, c, chatFinalOf(runID))

	if a, b := summarize(theirs, runID), summarize(ours, runID); !slices.Equal(a, b) {
		t.Fatalf("event sequence differs:\noriginal %q\n    ours %q", a, b)
	}
	for i := range theirs {
		a, b := keyOrders(theirs[i].raw), keyOrders(ours[i].raw)
		for path, ka := range a {
			if kb := b[path]; !slices.Equal(ka, kb) {
				t.Errorf("frame %d (%s) %q keys: original %v, ours %v", i, summarize(theirs[i:i+1], runID), path, ka, kb)
			}
		}
		for path := range b {
			if _, ok := a[path]; !ok {
				t.Errorf("frame %d (%s): ours has %q, the original not", i, summarize(ours[i:i+1], runID), path)
			}
		}
	}
}

// TestHelloSessionDefaultsFromConfig: hello-ok names the main session the
// chat methods resolve "main" to, from the config.
func TestHelloSessionDefaultsFromConfig(t *testing.T) {
	s := chatServer(t, nil, func(o *Options) {
		os.WriteFile(o.ConfigPath, []byte(`{agents: {list: [{id: "work", default: true}]}, session: {mainKey: "Home"}}`), 0o600)
	})
	_, hello := connectChat(t, s)
	got := hello["snapshot"].(map[string]any)["sessionDefaults"]
	want := map[string]any{"defaultAgentId": "work", "mainKey": "home", "mainSessionKey": "agent:work:home", "scope": "per-sender"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sessionDefaults %v, want %v", got, want)
	}
}

// The OpenAI-compatible endpoint of a real gateway runs the same agent
// runner as chat.send: the reply is the (fake, in-process) model's text and
// the turn lands in the session store.
func TestChatCompletionsThroughTheGateway(t *testing.T) {
	m := newFakeModel("Hello", " over", " HTTP")
	s := chatServer(t, m, func(o *Options) {
		cfg := &profiles.Config{}
		cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
		o.Runtime.Config = cfg
	})
	body := `{"model":"clawdbot:main","messages":[{"role":"user","content":"hi"}],"user":"http-test"}`
	req, _ := http.NewRequest("POST", "http://"+s.Addr().String()+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, decode %v", res.StatusCode, err)
	}
	if len(out.Choices) != 1 || out.Choices[0].Message.Content != "Hello over HTTP" {
		t.Fatalf("choices %+v", out.Choices)
	}
	// A wrong bearer is refused before anything runs.
	req2, _ := http.NewRequest("POST", "http://"+s.Addr().String()+"/v1/chat/completions", strings.NewReader(body))
	req2.Header.Set("Authorization", "Bearer wrong")
	res2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong bearer: status %d, want 401", res2.StatusCode)
	}
}
