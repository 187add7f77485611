package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// countTools is fakeTools that counts the calls it runs.
type countTools struct{ calls *atomic.Int32 }

func (c countTools) Specs(s agent.Session) []llm.Tool { return fakeTools{}.Specs(s) }

func (c countTools) Call(ctx context.Context, s agent.Session, call llm.Content) (agent.ToolResult, error) {
	c.calls.Add(1)
	return fakeTools{}.Call(ctx, s, call)
}

// capped is fakeModel with a configured answer cap.
type capped struct {
	*fakeModel
	max int
}

func (c capped) Resolve(agentID, override string) (llm.Selection, error) {
	sel, err := c.fakeModel.Resolve(agentID, override)
	sel.MaxTokens = c.max
	return sel, err
}

func toolCall(id, name string) *llm.Content {
	return &llm.Content{Type: llm.ContentToolCall, ID: id, Name: name, Arguments: json.RawMessage(`{"city":"Paris"}`)}
}

// A client tool is offered to the model but never run: its call ends the
// turn after that answer and comes back in Outcome.ToolCalls; built-in
// calls of the same answer still run; a client tool shadows a built-in of
// its name; the transcript gets a result for every call.
func TestClientTools(t *testing.T) {
	weather := llm.Tool{Name: "get_weather", Description: "client weather", Parameters: json.RawMessage(`{"type":"object"}`)}
	clientStatus := llm.Tool{Name: "status", Description: "the client's status", Parameters: json.RawMessage(`{"type":"object"}`)}
	for _, tc := range []struct {
		name        string
		client      []llm.Tool
		calls       []*llm.Content
		wantCalls   []string // Outcome.ToolCalls names
		wantBuiltin int32    // built-in tool runs
		wantModel   int      // model calls
		wantTools   string   // the tools offered, name:description
	}{
		{"client call ends the turn", []llm.Tool{weather}, []*llm.Content{toolCall("c1", "get_weather")}, []string{"get_weather"}, 0, 1,
			"status:system status,get_weather:client weather"},
		{"built-in and client call in one answer", []llm.Tool{weather}, []*llm.Content{toolCall("b1", "status"), toolCall("c1", "get_weather")},
			[]string{"get_weather"}, 1, 1, "status:system status,get_weather:client weather"},
		{"client tool shadows a built-in", []llm.Tool{clientStatus}, []*llm.Content{toolCall("c1", "status")}, []string{"status"}, 0, 1,
			"status:the client's status"},
		{"built-in call goes on as before", []llm.Tool{weather}, []*llm.Content{toolCall("b1", "status")}, nil, 1, 2,
			"status:system status,get_weather:client weather"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs atomic.Int32
			h := newHarness(t, func(d *agent.Deps) { d.Tools = countTools{&runs} })
			h.model.script = func(call int, req llm.Request) []step {
				if call > 1 {
					return []step{{delta: "done"}}
				}
				steps := []step{{delta: "Let me check."}}
				for _, c := range tc.calls {
					steps = append(steps, step{tool: c})
				}
				return steps
			}
			s, _ := h.sessions.Resolve("agent:main:main")
			out := h.runner.Run(t.Context(), agent.Turn{RunID: "run-ct", Session: s, Message: "weather?", ClientTools: tc.client})
			var names []string
			for _, c := range out.ToolCalls {
				names = append(names, c.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.wantCalls, ",") || runs.Load() != tc.wantBuiltin || h.model.calls != tc.wantModel {
				t.Fatalf("tool calls %v, built-in runs %d, model calls %d", names, runs.Load(), h.model.calls)
			}
			var offered []string
			for _, tl := range h.model.requests[0].Tools {
				offered = append(offered, tl.Name+":"+tl.Description)
			}
			if got := strings.Join(offered, ","); got != tc.wantTools {
				t.Fatalf("offered %s, want %s", got, tc.wantTools)
			}
			results := 0
			for _, m := range h.sessions.transcript("agent:main:main") {
				if m.Role == llm.RoleToolResult {
					results++
					if strings.HasPrefix(m.ToolCallID, "c") && !strings.Contains(m.PlainText(), "Tool execution delegated to client") {
						t.Fatalf("client call result %q", m.PlainText())
					}
				}
			}
			if results != len(tc.calls) {
				t.Fatalf("%d tool results in the transcript for %d calls", results, len(tc.calls))
			}
		})
	}
}

// Turn.MaxTokens caps each model call, and the model's own maximum caps
// it in turn.
func TestTurnMaxTokens(t *testing.T) {
	for _, tc := range []struct{ model, turn, want int }{
		{8192, 0, 8192}, {8192, 50, 50}, {8192, 100000, 8192}, {0, 50, 50}, {0, 0, 0},
	} {
		var m *fakeModel
		h := newHarness(t, func(d *agent.Deps) {
			m = d.Models.(*fakeModel)
			d.Models = capped{m, tc.model}
		})
		s, _ := h.sessions.Resolve("agent:main:main")
		h.runner.Run(t.Context(), agent.Turn{RunID: "run-max", Session: s, Message: "hi", MaxTokens: tc.turn})
		if got := m.requests[0].MaxTokens; got != tc.want {
			t.Errorf("model max %d, turn max %d: request max %d, want %d", tc.model, tc.turn, got, tc.want)
		}
	}
}
