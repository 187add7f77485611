package tools

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// turnSessions is agent.Sessions over the real store, as much of it as
// the session tools use (the core's adapter is not in this package).
type turnSessions struct{ st *sessionstore.Store }

func (t turnSessions) Canonical(key string) (string, string) {
	tg := t.st.Target(key)
	return tg.Key, tg.AgentID
}
func (t turnSessions) Resolve(key string) (agent.Session, error) {
	e, _, err := t.st.Resolve(key)
	tg := t.st.Target(key)
	return agent.Session{Key: tg.Key, AgentID: tg.AgentID, SessionID: e.SessionID}, err
}
func (t turnSessions) Lookup(key string) (agent.Session, bool, error) { panic("unused") }
func (t turnSessions) Update(key string, u agent.SessionUpdate) error {
	_, err := t.st.Update(key, func(e *sessionstore.Entry) error {
		if u.ModelOverride != nil {
			e.ModelOverride = *u.ModelOverride
		}
		return nil
	})
	return err
}
func (t turnSessions) Reset(key string) (agent.Session, error) { panic("unused") }
func (t turnSessions) Append(s agent.Session, m llm.Message) (string, error) {
	return t.st.Append(s.Key, s.SessionID, sessionstore.Record{Message: &m})
}
func (t turnSessions) History(s agent.Session) ([]llm.Message, error) {
	return t.st.SessionMessages(s.Key, 0)
}

// echoRunner stands in for the agent runner (which needs a model): it
// answers every turn with "echo: <message>" and records the turns.
type echoRunner struct {
	mu    sync.Mutex
	turns []agent.Turn
}

func (e *echoRunner) Run(_ context.Context, t agent.Turn) agent.Outcome {
	e.mu.Lock()
	e.turns = append(e.turns, t)
	e.mu.Unlock()
	return agent.Outcome{Payloads: []wire.AgentPayload{{Text: "echo: " + t.Message}}}
}

func TestSessionTools(t *testing.T) {
	st := sessionstore.New(sessionstore.Options{StateDir: t.TempDir()})
	sess := turnSessions{st}
	for _, k := range []string{"agent:main:main", "agent:main:other", "agent:work:main"} {
		s, err := sess.Resolve(k)
		if err != nil {
			t.Fatal(err)
		}
		sess.Append(s, llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text("hi " + k)}})
		sess.Append(s, llm.Message{Role: llm.RoleToolResult, ToolCallID: "x", Content: []llm.Content{llm.Text("tool out")}})
		sess.Append(s, llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("hello")}})
	}
	run := &echoRunner{}
	var doc map[string]any
	r := New(Options{Workspace: t.TempDir(), Store: st, Sessions: sess, Runner: run, Config: func() map[string]any { return doc }})
	me := agent.Session{Key: "agent:main:main", AgentID: "main"}
	do := func(name string, args any) (map[string]any, agent.ToolResult) {
		raw, _ := json.Marshal(args)
		res, err := r.Call(context.Background(), me, llm.Content{Type: llm.ContentToolCall, ID: "c", Name: name, Arguments: raw})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal([]byte(text(res)), &m)
		return m, res
	}
	m, _ := do("sessions_list", map[string]any{"messageLimit": 5})
	if m["count"] != float64(2) {
		t.Fatalf("list (cross-agent hidden by default): %v", m)
	}
	first := m["sessions"].([]any)[0].(map[string]any)
	if first["key"] != "main" || first["kind"] != "main" || len(first["messages"].([]any)) != 2 {
		t.Errorf("first row: %v", first)
	}
	doc = map[string]any{"tools": map[string]any{"agentToAgent": map[string]any{"enabled": true}}}
	if m, _ := do("sessions_list", map[string]any{"kinds": []any{"other"}}); m["count"] != float64(2) {
		t.Errorf("list kinds=other with a2a: %v", m)
	}
	doc = nil
	m, _ = do("sessions_history", map[string]any{"sessionKey": "agent:main:other", "includeTools": true})
	if ms := m["messages"].([]any); len(ms) != 3 {
		t.Errorf("history with tools: %v", m)
	}
	if m, _ := do("sessions_history", map[string]any{"sessionKey": "agent:work:main"}); m["status"] != "forbidden" {
		t.Errorf("cross-agent history: %v", m)
	}
	m, _ = do("sessions_send", map[string]any{"sessionKey": "agent:main:other", "message": "ping"})
	if m["status"] != "ok" || m["reply"] != "echo: ping" || m["sessionKey"] != "agent:main:other" {
		t.Errorf("send: %v", m)
	}
	if len(run.turns) != 1 || run.turns[0].Session.Key != "agent:main:other" || run.turns[0].Lane != "nested" {
		t.Errorf("turns: %+v", run.turns)
	}
	if m, _ := do("sessions_send", map[string]any{"sessionKey": "main", "message": "self"}); m["status"] != "error" {
		t.Errorf("send to self: %v", m)
	}
	if m, _ := do("sessions_send", map[string]any{"sessionKey": "agent:work:main", "message": "x"}); m["status"] != "forbidden" ||
		!strings.Contains(m["error"].(string), "tools.agentToAgent.enabled=true") {
		t.Errorf("cross-agent send: %v", m)
	}
	_, res := do("session_status", map[string]any{"model": "openai/gpt-5"})
	if res.IsError || !strings.HasPrefix(text(res), "🧵 Session: main") || !strings.Contains(text(res), "openai/gpt-5 (override)") {
		t.Errorf("status: %q", text(res))
	}
	if e, _ := st.Get("agent:main:main"); e.ModelOverride != "openai/gpt-5" {
		t.Errorf("override not stored: %+v", e)
	}
	// message and cron are not offered.
	for _, s := range r.Specs(me) {
		if s.Name == "message" || s.Name == "cron" {
			t.Errorf("%s offered without channels/scheduler", s.Name)
		}
	}
}
