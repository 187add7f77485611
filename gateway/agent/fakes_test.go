package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// frame is one thing the feature sent: an event or a res.
type frame struct {
	kind    string // "event" | "res"
	name    string // event name, or the res's request id
	payload map[string]any
	errCode string
	errMsg  string
	drop    bool
}

// wireLog records events and responses in the order they were sent, the
// way a client on the broadcast would see them.
type wireLog struct {
	mu     sync.Mutex
	frames []frame
}

func decode(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (l *wireLog) Broadcast(event string, payload any, d rpc.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = append(l.frames, frame{kind: "event", name: event, payload: decode(payload), drop: d.DropIfSlow})
}

func (l *wireLog) Respond(id json.RawMessage, payload any, e *wire.ErrorShape) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := frame{kind: "res", name: string(id), payload: decode(payload)}
	if e != nil {
		f.errCode, f.errMsg = e.Code, e.Message
	}
	l.frames = append(l.frames, f)
}

func (l *wireLog) snapshot() []frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]frame(nil), l.frames...)
}

// events are the recorded events of one run id (agent and chat).
func (l *wireLog) events(runID string) []frame {
	var out []frame
	for _, f := range l.snapshot() {
		if f.kind == "event" && f.payload["runId"] == runID {
			out = append(out, f)
		}
	}
	return out
}

// summary renders a run's events as "agent lifecycle start 1", "chat delta 2", …
func summary(fs []frame) []string {
	var out []string
	for _, f := range fs {
		switch f.name {
		case wire.EventAgent:
			d, _ := f.payload["data"].(map[string]any)
			s := fmt.Sprintf("agent %v", f.payload["stream"])
			if ph, ok := d["phase"]; ok {
				s += fmt.Sprintf(" %v", ph)
			}
			out = append(out, fmt.Sprintf("%s %v", s, f.payload["seq"]))
		case wire.EventChat:
			out = append(out, fmt.Sprintf("chat %v %v", f.payload["state"], f.payload["seq"]))
		}
	}
	return out
}

// fakeSessions is an in-memory session store with the original's key
// rules reduced to what the tests use (aliases "main", bare keys).
type fakeSessions struct {
	mu      sync.Mutex
	entries map[string]*agent.Session
	msgs    map[string][]llm.Message // by session id
	n       int
}

func newSessions() *fakeSessions {
	return &fakeSessions{entries: map[string]*agent.Session{}, msgs: map[string][]llm.Message{}}
}

func (s *fakeSessions) Canonical(key string) (string, string) {
	key = strings.ToLower(strings.TrimSpace(key))
	if key == "main" {
		return "agent:main:main", "main"
	}
	if rest, ok := strings.CutPrefix(key, "agent:"); ok {
		id, _, _ := strings.Cut(rest, ":")
		return key, id
	}
	return "agent:main:" + key, "main"
}

func (s *fakeSessions) Resolve(key string) (agent.Session, error) {
	k, a := s.Canonical(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		s.n++
		e = &agent.Session{Key: k, AgentID: a, SessionID: fmt.Sprintf("sess-%d", s.n)}
		s.entries[k] = e
	}
	return *e, nil
}

func (s *fakeSessions) Lookup(key string) (agent.Session, bool, error) {
	k, _ := s.Canonical(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[k]; e != nil {
		return *e, true, nil
	}
	return agent.Session{}, false, nil
}

func (s *fakeSessions) Update(key string, u agent.SessionUpdate) error {
	k, _ := s.Canonical(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return agent.ErrSessionNotFound
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.ThinkingLevel, u.ThinkingLevel)
	set(&e.VerboseLevel, u.VerboseLevel)
	set(&e.ModelOverride, u.ModelOverride)
	set(&e.QueueMode, u.QueueMode)
	if u.AbortedLastRun != nil {
		e.AbortedLastRun = *u.AbortedLastRun
	}
	if u.Model != "" {
		e.Model, e.ModelProvider = u.Model, u.ModelProvider
	}
	return nil
}

func (s *fakeSessions) Reset(key string) (agent.Session, error) {
	k, _ := s.Canonical(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	s.n++
	e.SessionID = fmt.Sprintf("sess-%d", s.n)
	return *e, nil
}

func (s *fakeSessions) Append(sess agent.Session, m llm.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[sess.SessionID] = append(s.msgs[sess.SessionID], m)
	return fmt.Sprintf("%08x", len(s.msgs[sess.SessionID])), nil
}

func (s *fakeSessions) History(sess agent.Session) ([]llm.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llm.Message(nil), s.msgs[sess.SessionID]...), nil
}

func (s *fakeSessions) transcript(key string) []llm.Message {
	e, _, _ := s.Lookup(key)
	h, _ := s.History(e)
	return h
}

func (s *fakeSessions) entry(key string) agent.Session {
	e, _, _ := s.Lookup(key)
	return e
}

// step is one scripted thing a fake model call does.
type step struct {
	delta string
	// wait blocks the stream until it is closed (or the run's ctx ends).
	wait chan struct{}
	tool *llm.Content
	err  *llm.Error
}

// fakeModel is an llm.Provider and llm.Resolver whose answers are
// scripted. It is a fake because a real upstream model cannot run in
// this offline test environment; the real providers (gateway/models) have
// their own tests against fake HTTP upstreams.
type fakeModel struct {
	mu       sync.Mutex
	script   func(call int, req llm.Request) []step
	calls    int
	requests []llm.Request
	// started counts streams that began, for tests that wait on a run.
	started chan string
}

func (f *fakeModel) Resolve(agentID, override string) (llm.Selection, error) {
	return llm.Selection{Primary: llm.Ref{Provider: "fake", Model: "fake-model"}, Chain: f}, nil
}

func lastUser(req llm.Request) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			return req.Messages[i].PlainText()
		}
	}
	return ""
}

func (f *fakeModel) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- lastUser(req)
	}
	var steps []step
	if f.script != nil {
		steps = f.script(call, req)
	} else {
		steps = []step{{delta: "Hello"}, {delta: " from the fake model."}}
	}
	msg := llm.Message{Role: llm.RoleAssistant, API: "openai-completions", Provider: "fake", Model: "fake-model", StopReason: llm.StopStop,
		Usage: &llm.Usage{Input: 11, Output: 6, TotalTokens: 17}}
	var text strings.Builder
	for _, s := range steps {
		switch {
		case s.wait != nil:
			select {
			case <-s.wait:
			case <-ctx.Done():
				return llm.Message{}, &llm.Error{Kind: llm.KindAborted, Err: ctx.Err()}
			}
		case s.err != nil:
			return llm.Message{}, s.err
		case s.tool != nil:
			if text.Len() > 0 {
				msg.Content = append(msg.Content, llm.Text(text.String()))
				text.Reset()
			}
			msg.Content = append(msg.Content, *s.tool)
			msg.StopReason = llm.StopToolUse
			emit(llm.Event{Kind: llm.EventToolCall, ToolCall: s.tool})
		default:
			text.WriteString(s.delta)
			emit(llm.Event{Kind: llm.EventText, Delta: s.delta})
		}
		if ctx.Err() != nil {
			return llm.Message{}, &llm.Error{Kind: llm.KindAborted, Err: ctx.Err()}
		}
	}
	if text.Len() > 0 {
		msg.Content = append(msg.Content, llm.Text(text.String()))
	}
	return msg, nil
}

// fakeTools offers one tool, "status", that answers "ok".
type fakeTools struct{}

func (fakeTools) Specs(agent.Session) []llm.Tool {
	return []llm.Tool{{Name: "status", Description: "system status", Parameters: json.RawMessage(`{"type":"object"}`)}}
}

func (fakeTools) Call(_ context.Context, _ agent.Session, call llm.Content) (agent.ToolResult, error) {
	return agent.ToolResult{Content: []llm.Content{llm.Text("all systems ok")}}, nil
}

// harness is the feature registered with fakes.
type harness struct {
	t        testing.TB
	reg      *rpc.Registry
	log      *wireLog
	sessions *fakeSessions
	model    *fakeModel
	runner   *agent.Runner
	cfg      agent.Config
	ids      int
	mu       sync.Mutex
}

func newHarness(t testing.TB, mod func(*agent.Deps)) *harness {
	h := &harness{t: t, reg: rpc.NewRegistry(), log: &wireLog{}, sessions: newSessions(), model: &fakeModel{}, cfg: agent.DefaultConfig()}
	d := agent.Deps{Broadcast: h.log, Sessions: h.sessions, Models: h.model, Workspace: t.TempDir(), StateDir: t.TempDir(),
		Config: func() agent.Config { h.mu.Lock(); defer h.mu.Unlock(); return h.cfg }, ChatDeltaInterval: -1}
	if mod != nil {
		mod(&d)
	}
	h.runner = agent.Register(h.reg, d)
	return h
}

func (h *harness) setConfig(f func(*agent.Config)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.cfg)
}

// call runs method with params as a client request; the returned id is
// what its res frames carry. Async methods run on their own goroutine,
// as the dispatcher runs them; done closes when the handler returned.
func (h *harness) call(method string, params any) (id string, done chan struct{}) {
	h.mu.Lock()
	h.ids++
	id = fmt.Sprintf(`"r%d"`, h.ids)
	h.mu.Unlock()
	raw, _ := json.Marshal(params)
	if err := wire.ValidateParams(method, raw); err != nil {
		h.t.Fatalf("%s params %s: %v", method, raw, err)
	}
	m := h.reg.Lookup(method)
	c := rpc.NewCall(method, json.RawMessage(id), raw, &rpc.Client{ConnID: "c1", Role: "operator"}, h.log)
	done = make(chan struct{})
	run := func() {
		defer close(done)
		payload, e := m.Handler(c)
		if e == nil && payload == rpc.NoReply {
			return
		}
		h.log.Respond(json.RawMessage(id), payload, e)
	}
	if m.Async {
		go run()
	} else {
		run()
	}
	return id, done
}

// res returns the res frames of request id.
func (h *harness) res(id string) []frame {
	var out []frame
	for _, f := range h.log.snapshot() {
		if f.kind == "res" && f.name == id {
			out = append(out, f)
		}
	}
	return out
}

func (h *harness) waitRes(id string, n int) []frame {
	h.t.Helper()
	gatewaytest.WaitFor(h.t, 5*time.Second, func() bool { return len(h.res(id)) >= n })
	return h.res(id)
}

func wait(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
	}
}
