// Package agent is the agent runtime of the gateway and the methods a
// client chats through (doc/messaging.md §1.2–§1.8, §1.12, §1.15, §2, §4):
// the runner of one turn (user message → system prompt → model stream →
// assistant message), the lanes and queue modes that order turns, the
// agent and chat events, timeouts and aborts, and the methods agent,
// agent.wait, agent.identity.get, agents.list, chat.send, chat.abort,
// chat.inject, usage.status and usage.cost.
//
// It is a feature package: what it needs from the session store and the
// model configuration comes through Deps as the small interfaces below;
// the core wires the real ones in.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Session is a session entry as the runtime sees it.
type Session struct {
	// Key is the canonical session key (agent:<id>:<rest>, global, …).
	Key string
	// AgentID is the agent the key belongs to.
	AgentID string
	// SessionID names the transcript.
	SessionID string
	// Levels and overrides set by /think, /verbose, /model, /queue or
	// sessions.patch ("" : unset).
	ThinkingLevel string
	VerboseLevel  string
	// ModelOverride is "provider/model" (providerOverride/modelOverride).
	ModelOverride string
	QueueMode     string
	// SendPolicy "deny" refuses chat.send and agent.
	SendPolicy string
	// AbortedLastRun is set after an aborted run; the next chat turn
	// notes it to the model and clears it.
	AbortedLastRun bool
	// Model, ModelProvider and the token counts of the last run.
	Model, ModelProvider      string
	InputTokens, OutputTokens int64
	TotalTokens               int64
	ContextTokens             int64
	UpdatedAt                 int64
}

// SessionUpdate changes an entry; nil fields are kept. A pointer to ""
// clears a level.
type SessionUpdate struct {
	ThinkingLevel  *string
	VerboseLevel   *string
	ModelOverride  *string
	QueueMode      *string
	AbortedLastRun *bool
	// Run results, written after each run (doc/messaging.md §3.3).
	Model, ModelProvider string
	Usage                *llm.Usage
	ContextTokens        int64
	// Channel is the delivery channel of the turn ("webchat" for
	// chat.send), kept as the entry's lastChannel / deliveryContext.
	Channel string
	// SystemSent marks that the session's first turn has run.
	SystemSent bool
}

// Errors a Sessions implementation returns for the original's messages.
var (
	// ErrSessionNotFound: the key has no entry.
	ErrSessionNotFound = errors.New("session not found")
	// ErrNoTranscript: the entry has no transcript file to append to.
	ErrNoTranscript = errors.New("transcript file not found")
)

// Sessions is the session store as the runtime uses it.
type Sessions interface {
	// Canonical returns the canonical form of key (aliases such as
	// "main" resolved) and the agent it belongs to.
	Canonical(key string) (canonical, agentID string)
	// Resolve loads the entry of key, creating it (with a new session
	// id) when missing, and marks it updated now.
	Resolve(key string) (Session, error)
	// Lookup loads the entry of key without creating it.
	Lookup(key string) (Session, bool, error)
	// Update applies u to the entry of key.
	Update(key string, u SessionUpdate) error
	// Reset gives key a new session id (a new, empty transcript).
	Reset(key string) (Session, error)
	// Append adds m to the session's transcript and returns the entry id.
	// An injected message (StopReason llm.StopInjected) is written without
	// a parent, as the original's chat.inject does.
	Append(s Session, m llm.Message) (string, error)
	// History is the session's conversation, oldest first.
	History(s Session) ([]llm.Message, error)
}

// ToolResult is what a tool call produced.
type ToolResult struct {
	Content []llm.Content
	Details json.RawMessage
	IsError bool
	// Meta is a short description shown in tool events (optional).
	Meta string
}

// Tools is the tool set of a turn; with none (nil, or no Specs) no tools
// are offered to the model.
type Tools interface {
	// Specs are the tools offered to the model in session s.
	Specs(s Session) []llm.Tool
	// Call runs one tool call (a toolCall content block).
	Call(ctx context.Context, s Session, call llm.Content) (ToolResult, error)
}

type toolUpdatesKey struct{}

// WithToolUpdates returns ctx carrying fn, the sink of a tool call's
// partial results (tool "update" events, pi-agent-core's onUpdate). The
// runner sets it around each Tools.Call.
func WithToolUpdates(ctx context.Context, fn func(partial ToolResult)) context.Context {
	return context.WithValue(ctx, toolUpdatesKey{}, fn)
}

// ToolUpdates is the partial-result sink of ctx (nil: none). A Tools
// implementation calls it while a call runs; it is safe from any
// goroutine until Call returns.
func ToolUpdates(ctx context.Context) func(partial ToolResult) {
	fn, _ := ctx.Value(toolUpdatesKey{}).(func(ToolResult))
	return fn
}

// Deps are what the agent feature needs.
type Deps struct {
	// Runner is the process-wide runner (NewRunner); nil: Register
	// makes one from these Deps.
	Runner *Runner
	// Broadcast sends agent and chat events.
	Broadcast rpc.Broadcaster
	// Sessions is the session store.
	Sessions Sessions
	// Models picks the model chain of a turn.
	Models llm.Resolver
	// Tools is the tool set (nil: none).
	Tools Tools
	// Workspace is the default workspace dir (agents.defaults.workspace
	// overrides it).
	Workspace string
	// StateDir is the profile's state dir (usage.cost reads the
	// transcripts under agents/<id>/sessions).
	StateDir string
	// Config returns the current settings (nil: defaults).
	Config func() Config
	// Dedupe is the process-wide idempotency cache (nil: a private one).
	Dedupe *rpc.Dedupe
	// ChatDeltaInterval throttles chat delta events per run (0: the
	// original's 150 ms; negative: every delta).
	ChatDeltaInterval time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives run logs (nil: discard).
	Log *slog.Logger
	// Host is the machine name in the prompt's runtime line.
	Host string
	// SkillsPrompt returns the eligible skills block of a workspace's
	// system prompt (nil: no skills section).
	SkillsPrompt func(workspace string) string
	// Deliver sends a finished run's reply through a channel for agent
	// deliver:true (nil: nothing is delivered).
	Deliver Deliverer
	// SystemEvents takes the system events queued for a session (wake,
	// system-event, hooks, cron), each the text of one "System:" line, and
	// empties its queue; a chat turn of that session prepends them to its
	// user message (doc/messaging.md §1.5). nil: none.
	SystemEvents func(sessionKey string) []string
}

// Deliverer delivers an agent run's reply through a channel after the run
// (doc/messaging.md §5.5); the core adapts the channel manager.
type Deliverer interface {
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is what agent deliver:true hands the Deliverer: the run's
// session, the requested channel (replyChannel ?? channel; "" = last),
// the target (replyTo ?? to), account and thread, and the payloads.
type Delivery struct {
	SessionKey, Channel, To, AccountID, ThreadID string
	Payloads                                     []wire.AgentPayload
}
