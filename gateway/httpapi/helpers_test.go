package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
)

// The tests run the real agent runner (gateway/agent) behind the
// handler. Two parts are fakes: the session store (in memory; the real
// one is another feature, exercised by its own tests) and the model (a
// scripted llm.Provider: no real model runs offline here; the real
// providers have their own tests against fake HTTP upstreams).

const testToken = "test-token-0123456789"

// memSessions is an in-memory agent.Sessions.
type memSessions struct {
	mu      sync.Mutex
	entries map[string]*agent.Session
	msgs    map[string][]llm.Message
	n       int
}

func newMemSessions() *memSessions {
	return &memSessions{entries: map[string]*agent.Session{}, msgs: map[string][]llm.Message{}}
}

func (s *memSessions) Canonical(key string) (string, string) {
	key = strings.ToLower(strings.TrimSpace(key))
	if rest, ok := strings.CutPrefix(key, "agent:"); ok {
		id, _, _ := strings.Cut(rest, ":")
		return key, id
	}
	return "agent:main:" + key, "main"
}

func (s *memSessions) Resolve(key string) (agent.Session, error) {
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

func (s *memSessions) Lookup(key string) (agent.Session, bool, error) {
	k, _ := s.Canonical(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[k]; e != nil {
		return *e, true, nil
	}
	return agent.Session{}, false, nil
}

func (s *memSessions) Update(string, agent.SessionUpdate) error { return nil }

func (s *memSessions) Reset(key string) (agent.Session, error) { return s.Resolve(key) }

func (s *memSessions) Append(sess agent.Session, m llm.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[sess.SessionID] = append(s.msgs[sess.SessionID], m)
	return fmt.Sprint(len(s.msgs[sess.SessionID])), nil
}

func (s *memSessions) History(sess agent.Session) ([]llm.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llm.Message(nil), s.msgs[sess.SessionID]...), nil
}

// keys are the session keys that exist.
func (s *memSessions) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.entries {
		out = append(out, k)
	}
	return out
}

// transcript is the transcript of key.
func (s *memSessions) transcript(key string) []llm.Message {
	e, ok, _ := s.Lookup(key)
	if !ok {
		return nil
	}
	h, _ := s.History(e)
	return h
}

// scriptModel is the fake model: by default "Hello from the fake model."
// in the original's six deltas, usage 11/6/17. A last user message with
// FAIL makes the upstream fail with a config error (the run fails);
// SLOW blocks until release is closed.
type scriptModel struct {
	mu       sync.Mutex
	requests []llm.Request
	release  chan struct{}
	// gap is the pause between deltas (0: none).
	gap time.Duration
}

var fakeDeltas = []string{"Hello", " from", " the", " fake", " model", "."}

const fakeText = "Hello from the fake model."

func (f *scriptModel) Resolve(agentID, override string) (llm.Selection, error) {
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

func (f *scriptModel) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	user := lastUser(req)
	if strings.Contains(user, "FAIL") {
		return llm.Message{}, &llm.Error{Kind: llm.KindConfig, Provider: "fake", Model: "fake-model", Err: fmt.Errorf("Unknown model: fake/nope")}
	}
	for i, d := range fakeDeltas {
		if strings.Contains(user, "SLOW") && i == 2 && f.release != nil {
			select {
			case <-f.release:
			case <-ctx.Done():
				return llm.Message{}, &llm.Error{Kind: llm.KindAborted, Err: ctx.Err()}
			}
		}
		if f.gap > 0 {
			time.Sleep(f.gap)
		}
		emit(llm.Event{Kind: llm.EventText, Delta: d})
	}
	return llm.Message{Role: llm.RoleAssistant, Provider: "fake", Model: "fake-model", StopReason: llm.StopStop,
		Content: []llm.Content{llm.Text(fakeText)}, Usage: &llm.Usage{Input: 11, Output: 6, TotalTokens: 17}}, nil
}

func (f *scriptModel) lastRequest() llm.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return llm.Request{}
	}
	return f.requests[len(f.requests)-1]
}

// runnerAgent adapts the real agent runner to httpapi.Agent, the way the
// gateway core does.
type runnerAgent struct {
	r        *agent.Runner
	sessions agent.Sessions
	cfg      func() agent.Config
}

func (a runnerAgent) KnownAgent(id string) bool {
	for _, k := range a.cfg().AgentIDs() {
		if k == id {
			return true
		}
	}
	return false
}

func (a runnerAgent) MainSessionKey() string {
	c := a.cfg()
	return c.MainSessionKey(c.DefaultAgentID())
}

func (a runnerAgent) Run(ctx context.Context, t httpapi.Turn) httpapi.Outcome {
	s, err := a.sessions.Resolve(t.SessionKey)
	if err != nil {
		return httpapi.Outcome{Err: err.Error()}
	}
	if t.Model != "" {
		s.ModelOverride = t.Model
	}
	at := agent.Turn{RunID: t.RunID, Session: s, Message: t.Message, Images: t.Images, Thinking: t.Thinking, Timeout: t.Timeout,
		Lane: t.Lane, ExtraSystemPrompt: t.ExtraSystemPrompt, Channel: t.Channel, ClientTools: t.ClientTools, MaxTokens: t.MaxTokens}
	if on := t.OnDelta; on != nil {
		at.OnEvent = func(e agent.Event) {
			if e.Stream == agent.StreamAssistant {
				on(e.Delta)
			}
		}
	}
	o := a.r.Run(ctx, at)
	out := httpapi.Outcome{Aborted: o.Aborted, ToolCalls: o.ToolCalls}
	for _, p := range o.Payloads {
		out.Texts = append(out.Texts, p.Text)
	}
	if o.Err != nil {
		out.Err = o.Err.Message
	}
	if am := o.Meta.AgentMeta; am != nil && am.Usage != nil {
		u := am.Usage
		out.Usage = httpapi.Usage{Input: u.Input, Output: u.Output, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite, Total: u.Total}
	}
	return out
}

// sysLog records the system events and heartbeat requests hooks make.
type sysLog struct {
	mu     sync.Mutex
	events []string
	beats  []string
}

func (s *sysLog) EnqueueSystemEvent(key, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, key+" "+text)
}

func (s *sysLog) RequestHeartbeat(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beats = append(s.beats, reason)
}

func (s *sysLog) snapshot() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...), append([]string(nil), s.beats...)
}

type nopBroadcast struct{}

func (nopBroadcast) Broadcast(string, any, rpc.Delivery) {}

// env is a handler over the real runner, served on 127.0.0.1.
type env struct {
	srv   *httptest.Server
	model *scriptModel
	// models is what the runner resolves; swapModel replaces it.
	models   *swappable
	sessions *memSessions
	sys      *sysLog
	runner   *agent.Runner
	cfg      httpapi.Config
}

// defaultConfig enables everything with token auth.
func defaultConfig() httpapi.Config {
	return httpapi.Config{Auth: httpapi.Auth{Mode: "token", Token: testToken}, ChatCompletions: true, Responses: true,
		ChatMaxBodyBytes: httpapi.DefaultChatMaxBodyBytes, ResponsesMaxBodyBytes: httpapi.DefaultResponsesMaxBodyBytes,
		Hooks: httpapi.Hooks{Enabled: true, Token: "hook-token-123", Path: "/hooks", MaxBodyBytes: httpapi.DefaultHooksMaxBodyBytes}}
}

func newEnv(t testing.TB, mod func(*httpapi.Config)) *env {
	cfg := defaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	e := &env{model: &scriptModel{release: make(chan struct{})}, sessions: newMemSessions(), sys: &sysLog{}, cfg: cfg}
	agentCfg := agent.DefaultConfig()
	agentCfg.Agents = []agent.AgentEntry{{ID: "main", Default: true}, {ID: "work"}}
	conf := func() agent.Config { return agentCfg }
	e.models = &swappable{r: e.model}
	e.runner = agent.NewRunner(agent.Deps{Broadcast: nopBroadcast{}, Sessions: e.sessions, Models: e.models,
		Workspace: t.TempDir(), StateDir: t.TempDir(), Config: conf, ChatDeltaInterval: -1})
	h := httpapi.New(cfg, httpapi.Deps{Agent: runnerAgent{r: e.runner, sessions: e.sessions, cfg: conf}, System: e.sys})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h.Routes(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "Not Found", http.StatusNotFound)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		select {
		case <-e.model.release:
		default:
			close(e.model.release)
		}
		e.srv.Close()
	})
	return e
}

// swappable is a resolver whose model a benchmark can replace.
type swappable struct {
	mu sync.Mutex
	r  llm.Resolver
}

func (s *swappable) Resolve(agentID, override string) (llm.Selection, error) {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	return r.Resolve(agentID, override)
}

func (e *env) swapModel(r llm.Resolver) {
	e.models.mu.Lock()
	defer e.models.mu.Unlock()
	e.models.r = r
}
