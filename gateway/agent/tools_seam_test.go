package agent_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// updateTools sends one partial result through the runner's seam before
// it answers.
type updateTools struct{}

func (updateTools) Specs(agent.Session) []llm.Tool {
	return []llm.Tool{{Name: "status", Parameters: json.RawMessage(`{"type":"object"}`)}}
}

func (updateTools) Call(ctx context.Context, _ agent.Session, call llm.Content) (agent.ToolResult, error) {
	if up := agent.ToolUpdates(ctx); up != nil {
		up(agent.ToolResult{Content: []llm.Content{llm.Text("half way")}})
	}
	return agent.ToolResult{Content: []llm.Content{llm.Text("done")}}, nil
}

// A tool's partial result is an agent tool event with phase "update"
// between start and result, carrying partialResult (the original's
// handleToolExecutionUpdate).
func TestToolUpdateEvents(t *testing.T) {
	h := newHarness(t, func(d *agent.Deps) { d.Tools = updateTools{} })
	h.model.script = toolScript
	h.setConfig(func(c *agent.Config) { c.VerboseDefault = "on" })
	_, done := h.call("agent", agentParams("run-u", "status?"))
	wait(t, done)
	got := summary(h.log.events("run-u"))
	want := []string{"agent lifecycle start 1", "agent assistant 2", "chat delta 2", "agent tool start 3", "agent tool update 4", "agent tool result 5"}
	if !slices.Equal(got[:6], want) {
		t.Fatalf("events:\n got %q\nwant %q…", got, want)
	}
	data := h.log.events("run-u")[4].payload["data"].(map[string]any)
	pr := data["partialResult"].(map[string]any)["content"].([]any)[0].(map[string]any)
	if data["toolCallId"] != "call_1" || data["name"] != "status" || pr["text"] != "half way" {
		t.Fatalf("update data = %v", data)
	}
}

// A model that calls a tool in every answer is stopped after
// MaxToolIterations model calls; the run ends normally.
func TestToolLoopCapped(t *testing.T) {
	h := newHarness(t, func(d *agent.Deps) { d.Tools = fakeTools{} })
	h.model.script = func(int, llm.Request) []step {
		return []step{{tool: &llm.Content{Type: llm.ContentToolCall, ID: "loop", Name: "status", Arguments: json.RawMessage(`{}`)}}}
	}
	id, done := h.call("agent", agentParams("run-loop", "loop"))
	wait(t, done)
	if sys := h.model.requests[0].System; !strings.Contains(sys, "## Tooling\nTool availability (filtered by policy):\nTool names are case-sensitive. Call tools exactly as listed.\n- status: system status\n") {
		t.Fatalf("the offered tool is not in the system prompt:\n%s", sys)
	}
	if h.model.calls != agent.MaxToolIterations {
		t.Fatalf("model called %d times; the cap is %d", h.model.calls, agent.MaxToolIterations)
	}
	res := h.res(id)
	if st := res[len(res)-1].payload["status"]; st != "ok" {
		t.Fatalf("final res = %v", res[len(res)-1].payload)
	}
}
