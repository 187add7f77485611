package tools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

func names(specs []llm.Tool) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

func TestInvalidArgumentsAreToolErrors(t *testing.T) {
	r, _ := newTestRegistry(t, nil)
	cases := []struct{ name, args, want string }{
		{"read", `{"path": "a.txt"`, `Validation failed for tool "read":` + "\n  - root: arguments are not valid JSON"},
		{"read", `"just a string"`, `Validation failed for tool "read":` + "\n  - root: must be object"},
		{"read", `{"path": "a", "offset": "ten"}`, "  - offset: must be number"},
		{"write", `{"path": "a"}`, "  - content: must have required property 'content'"},
		{"grep", `{}`, "  - pattern: must have required property 'pattern'"},
		{"nope", `{}`, "Tool nope not found"},
	}
	for _, c := range cases {
		res := call(t, r, c.name, c.args)
		if !res.IsError || !strings.Contains(text(res), c.want) {
			t.Errorf("%s %s: got %v %q, want an error containing %q", c.name, c.args, res.IsError, text(res), c.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	all := []string{"read", "edit", "write", "ls", "find", "grep", "web_fetch"}
	doc := func(tools map[string]any, agentTools map[string]any) map[string]any {
		d := map[string]any{}
		if tools != nil {
			d["tools"] = tools
		}
		if agentTools != nil {
			d["agents"] = map[string]any{"list": []any{map[string]any{"id": "main", "tools": agentTools}}}
		}
		return d
	}
	cases := []struct {
		name string
		doc  map[string]any
		want []string
	}{
		{"none", nil, all},
		{"deny group", doc(map[string]any{"deny": []any{"group:fs"}}, nil), []string{"ls", "find", "grep", "web_fetch"}},
		{"allow list", doc(map[string]any{"allow": []any{"read", "GREP"}}, nil), []string{"read", "grep"}},
		{"wildcard", doc(map[string]any{"allow": []any{"read"}, "deny": []any{"*"}}, nil), nil},
		{"profile minimal", doc(map[string]any{"profile": "minimal"}, nil), nil},
		{"profile coding", doc(map[string]any{"profile": "coding"}, nil), []string{"read", "edit", "write"}},
		{"agent deny", doc(nil, map[string]any{"deny": []any{"write", "edit"}}), []string{"read", "ls", "find", "grep", "web_fetch"}},
		{"agent profile over global", doc(map[string]any{"profile": "minimal"}, map[string]any{"profile": "full"}), all},
		{"plugin-only allow ignored", doc(map[string]any{"allow": []any{"some_plugin_tool"}}, nil), all},
		{"apply_patch enabled", doc(map[string]any{"exec": map[string]any{"applyPatch": map[string]any{"enabled": true}}, "allow": []any{"exec"}}, nil), []string{"apply_patch"}},
	}
	for _, c := range cases {
		r, _ := newTestRegistry(t, c.doc)
		got := names(r.Specs(agent.Session{AgentID: "main"}))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: specs %v, want %v", c.name, got, c.want)
		}
		// A denied tool called anyway is refused.
		if !slices.Contains(c.want, "read") {
			if res := call(t, r, "read", map[string]any{"path": "x"}); !res.IsError || text(res) != "Tool read not found" {
				t.Errorf("%s: denied read ran: %q", c.name, text(res))
			}
		}
	}
}

type slowTool struct{ started chan struct{} }

func (slowTool) Spec() llm.Tool {
	return llm.Tool{Name: "slow", Parameters: json.RawMessage(`{"type":"object"}`)}
}

func (s slowTool) Run(ctx context.Context, c *Call) (agent.ToolResult, error) {
	c.Update(TextResult("working"))
	if s.started != nil {
		close(s.started)
	}
	<-ctx.Done()
	return agent.ToolResult{}, ctx.Err()
}

func TestTimeoutAndAbort(t *testing.T) {
	r := New(Options{Workspace: t.TempDir(), CallTimeout: 20 * time.Millisecond, Extra: []Tool{slowTool{}}})
	res := call(t, r, "slow", `{}`)
	if !res.IsError || text(res) != "tool slow timed out after 20ms" {
		t.Fatalf("timeout: %v %q", res.IsError, text(res))
	}
	// Abort of the run: the call returns promptly.
	started := make(chan struct{})
	r.Register(slowTool{started: started})
	r.o.CallTimeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	var updates []string
	ctx = agent.WithToolUpdates(ctx, func(p agent.ToolResult) { updates = append(updates, text(p)) })
	done := make(chan agent.ToolResult)
	go func() {
		res, _ := r.Call(ctx, agent.Session{}, llm.Content{Type: llm.ContentToolCall, ID: "x", Name: "slow"})
		done <- res
	}()
	<-started
	cancel()
	select {
	case res := <-done:
		if !res.IsError {
			t.Fatalf("aborted call: %+v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("abort did not stop the tool")
	}
	if !slices.Equal(updates, []string{"working"}) {
		t.Fatalf("updates = %v", updates)
	}
}

func TestToolPanicIsAToolError(t *testing.T) {
	boom := Func(llm.Tool{Name: "boom", Parameters: json.RawMessage(`{"type":"object"}`)}, func(context.Context, *Call) (agent.ToolResult, error) {
		panic("assignment to entry in nil map")
	})
	r := New(Options{Workspace: t.TempDir(), Extra: []Tool{boom}})
	if res := call(t, r, "boom", `{}`); !res.IsError || !strings.HasPrefix(text(res), "tool boom failed: assignment to entry in nil map") {
		t.Fatalf("panic: %v %q", res.IsError, text(res))
	}
}

func TestOutputCapped(t *testing.T) {
	big := Func(llm.Tool{Name: "big", Parameters: json.RawMessage(`{"type":"object"}`)}, func(context.Context, *Call) (agent.ToolResult, error) {
		return TextResult(strings.Repeat("é", 1000)), nil
	})
	r := New(Options{Workspace: t.TempDir(), MaxOutputChars: 101, Extra: []Tool{big}})
	out := text(call(t, r, "big", `{}`))
	if !strings.HasPrefix(out, strings.Repeat("é", 50)+"\n\n[output truncated: 100 of 2000 characters shown]") {
		t.Fatalf("capped output = %q", out)
	}
}

// BenchmarkDispatch measures what the registry adds to a call (policy,
// schema check, timeout context, output cap) around a tool that does
// nothing. Target: well under 1 ms per call.
func BenchmarkDispatch(b *testing.B) {
	noop := Func(llm.Tool{Name: "noop", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"},"limit":{"type":"number"}},"required":["path"]}`)},
		func(context.Context, *Call) (agent.ToolResult, error) { return TextResult("ok"), nil })
	doc := map[string]any{"tools": map[string]any{"deny": []any{"group:web"}, "allow": []any{"noop", "read"}},
		"agents": map[string]any{"list": []any{map[string]any{"id": "main", "tools": map[string]any{"deny": []any{"write"}}}}}}
	r := New(Options{Workspace: b.TempDir(), Config: func() map[string]any { return doc }, Extra: []Tool{noop}})
	s := agent.Session{Key: "agent:main:main", AgentID: "main"}
	c := llm.Content{Type: llm.ContentToolCall, ID: "c", Name: "noop", Arguments: json.RawMessage(`{"path":"a/b.txt","limit":"20"}`)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := r.Call(ctx, s, c)
		if err != nil || res.IsError {
			b.Fatal(err, text(res))
		}
	}
}
