// Package tools is the agent's tool set: the registry the runner calls
// (agent.Tools), the tool policy of the original (tools.allow/deny,
// profiles, groups, agents.list[].tools), argument validation, per-call
// timeouts and output caps, and the core tools — the workspace file tools
// (read, write, edit, ls, find, grep, apply_patch), web_fetch, the
// session tools and cron (through the Scheduler the core provides).
//
// A tool is a Tool: a spec the model sees and a Run. Tools that live in
// other packages of the agent feature (exec, process) are added with
// Registry.Register or Options.Extra.
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Tool is one tool the registry can offer to the model.
type Tool interface {
	// Spec is the tool as the model sees it: its name (the original's,
	// lowercase), description and parameters as a JSON Schema object.
	// It is read once, at registration.
	Spec() llm.Tool
	// Run executes one call whose arguments were already checked against
	// Spec().Parameters. A returned error becomes a toolResult with
	// isError:true and the error text, as pi-agent-core does for a thrown
	// error; it never ends the run. Run must return promptly once ctx is
	// done (abort, or the per-call timeout).
	Run(ctx context.Context, c *Call) (agent.ToolResult, error)
}

// Timeouter is a Tool that picks its own per-call timeout instead of the
// registry's default (exec has a timeout parameter and waits for
// approvals). Zero means no registry timeout: the tool bounds itself, and
// the run's context still aborts it.
type Timeouter interface {
	CallTimeout(c *Call) time.Duration
}

// Conditional is a Tool offered only when Available says so in the
// current config (apply_patch needs tools.exec.applyPatch.enabled).
type Conditional interface {
	Available(doc map[string]any, s agent.Session) bool
}

// Call is one invocation of a tool.
type Call struct {
	// ID is the model's toolCallId; Name the tool's name.
	ID, Name string
	// Args is the JSON object of arguments (validated; never empty:
	// missing arguments are "{}").
	Args json.RawMessage
	// Session is the session the turn runs in.
	Session agent.Session
	// Workspace is the absolute workspace dir of the session's agent.
	Workspace string
	// Doc is the parsed clawdbot.json at call time (nil: none), for tool
	// settings the registry does not interpret (tools.exec.*, ...).
	Doc map[string]any
	// update sends partial results; nil when the runner has no seam.
	update func(agent.ToolResult)
}

// Decode unmarshals the arguments into v.
func (c *Call) Decode(v any) error {
	if err := json.Unmarshal(c.Args, v); err != nil {
		return fmt.Errorf("invalid arguments for tool %q: %v", c.Name, err)
	}
	return nil
}

// Update sends a partial result to clients as a tool "update" event
// (pi-agent-core's onUpdate/partialResult). It is safe to call from any
// goroutine while Run has not returned; without a listener it does
// nothing.
func (c *Call) Update(partial agent.ToolResult) {
	if c.update != nil {
		c.update(partial)
	}
}

// TextResult is a result of one text block.
func TextResult(text string) agent.ToolResult {
	return agent.ToolResult{Content: []llm.Content{llm.Text(text)}}
}

// JSONResult is the original's jsonResult: the payload pretty-printed as
// the text block and kept as details.
func JSONResult(payload any) agent.ToolResult {
	b, err := json.MarshalIndent(payload, "", "  ")
	if err != nil {
		return agent.ToolResult{Content: []llm.Content{llm.Text(err.Error())}, IsError: true}
	}
	d, _ := json.Marshal(payload)
	return agent.ToolResult{Content: []llm.Content{llm.Text(string(b))}, Details: d}
}

// Func adapts a spec and a function to a Tool.
func Func(spec llm.Tool, run func(ctx context.Context, c *Call) (agent.ToolResult, error)) Tool {
	return funcTool{spec, run}
}

type funcTool struct {
	spec llm.Tool
	run  func(ctx context.Context, c *Call) (agent.ToolResult, error)
}

func (f funcTool) Spec() llm.Tool { return f.spec }
func (f funcTool) Run(ctx context.Context, c *Call) (agent.ToolResult, error) {
	return f.run(ctx, c)
}
