// Package httpapi serves the gateway's HTTP API on the gateway port
// (doc/messaging.md §6, doc/protocol.md §7): the OpenAI Chat Completions
// endpoint POST /v1/chat/completions, the OpenResponses endpoint POST
// /v1/responses, and the automation hooks under hooks.path (POST
// <path>/wake, <path>/agent and mapped sub-paths).
//
// It is a feature package: it never imports the gateway core or another
// feature. The agent runtime, the system-event queue and the client
// address come in through Deps; the core builds one Handler per runtime
// (from the runtime's config, New) and hands it the requests Routes
// accepts.
//
// Differences from the original, on purpose (doc/messaging.md §8):
//   - Every error is answered cleanly: an oversize body is a 413 (the
//     original resets the connection), a failed stream ends with an error
//     event and [DONE] (the original may leave it open).
//   - The bearer is checked before anything else, with a constant-time
//     compare, and repeated failures from one address are refused with
//     429 for a minute.
//   - An unknown agent id is a 404 (the original runs it and creates its
//     directory).
//   - Chat Completions streams end with a finish_reason "stop" chunk and
//     report real usage numbers.
//   - The hooks/agent run id is the run's id: its agent events carry it.
//   - Client function tools reach the model on both endpoints, and a call
//     of one comes back as tool_calls / function_call items (the
//     original drops them before the model, doc/messaging.md §6.4);
//     max_tokens caps the answer on Chat Completions too.
//
// A client that disconnects does not abort its run: the turn continues to
// its end (bounded by the agent timeout), its reply is written to the
// session transcript and its agent/chat events are broadcast as usual;
// only the HTTP response is lost. This is the original's behaviour, and it
// keeps a session's transcript whole when a client times out.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/wire"
)

// Paths of the OpenAI-compatible endpoints.
const (
	PathChatCompletions = "/v1/chat/completions"
	PathResponses       = "/v1/responses"
)

// Agent is the agent runtime as the HTTP API uses it.
type Agent interface {
	// Run runs one turn to its end. t.OnDelta, when set, is called for
	// every assistant text delta, in order, never concurrently and never
	// after Run returns.
	Run(ctx context.Context, t Turn) Outcome
	// KnownAgent reports whether id is a configured agent (agents.list,
	// or "main" when the list is empty).
	KnownAgent(id string) bool
	// MainSessionKey is the main session of the default agent, where
	// hook summaries are posted.
	MainSessionKey() string
}

// Turn is one agent turn the HTTP API asks for.
type Turn struct {
	// RunID is the run's id: the response id (chatcmpl_…, resp_…) or the
	// hook run id. The run's agent events carry it.
	RunID string
	// AgentID and SessionKey select the agent and the session (the key
	// as the client gave it or as §6.1 builds it).
	AgentID, SessionKey string
	// Message is the user text; Images go with it.
	Message string
	Images  []llm.Content
	// ExtraSystemPrompt is appended to the system prompt for this turn
	// only (system/developer messages, instructions, file contexts).
	ExtraSystemPrompt string
	// Channel is the turn's message channel ("webchat" for /v1, "hook").
	Channel string
	// Lane is the global lane ("" main, "cron" for hooks).
	Lane string
	// Model overrides the session's model ("provider/model", hooks).
	Model string
	// Thinking overrides the thinking level (hooks).
	Thinking string
	// Timeout bounds the run (0: the agent default).
	Timeout time.Duration
	// MaxTokens bounds the answer (max_output_tokens, max_tokens,
	// max_completion_tokens; 0: the model's maximum).
	MaxTokens int
	// ClientTools are function tools the client offers (tools of either
	// endpoint, bounded by parseTools). A call of one ends the turn with
	// Outcome.ToolCalls.
	ClientTools []llm.Tool
	// OnDelta receives the assistant text as it streams.
	OnDelta func(delta string)
}

// Usage is a run's token use.
type Usage struct {
	Input, Output, CacheRead, CacheWrite, Total int64
}

// Outcome is how a turn ended.
type Outcome struct {
	// Texts are the reply payload texts, in order.
	Texts []string
	// Usage is the run's token use (zero when the model reported none).
	Usage Usage
	// Err is set when the run failed (timeout, no usable model): the
	// lifecycle error message.
	Err string
	// Aborted is set when the run was aborted.
	Aborted bool
	// ToolCalls are calls of ClientTools the model made (the turn stops
	// at them for the client to answer).
	ToolCalls []llm.Content
}

// System is the system feature's event queue, which hooks post to.
type System interface {
	// EnqueueSystemEvent queues text as a system event of sessionKey's
	// next turn.
	EnqueueSystemEvent(sessionKey, text string)
	// RequestHeartbeat asks for a heartbeat run now (reason is logged).
	RequestHeartbeat(reason string)
}

// Deps are what the HTTP API needs from the rest of the gateway.
type Deps struct {
	// Agent runs the turns (nil: the endpoints answer 503).
	Agent Agent
	// System receives hook wake events and hook run summaries (nil:
	// hooks/wake answers 503).
	System System
	// Limiter counts failed bearers per client address; pass one that
	// outlives runtime swaps (nil: a private one).
	Limiter *Limiter
	// ClientIP is the client address behind trusted proxies (nil: the
	// peer address).
	ClientIP func(r *http.Request) string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives request logs (nil: discard).
	Log *slog.Logger
	// NewID returns a UUID v4 (nil: a random one).
	NewID func() string
}

// Handler serves the HTTP API of one runtime.
type Handler struct {
	cfg Config
	d   Deps
}

// New returns the handler of cfg (see ParseConfig).
func New(cfg Config, d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Limiter == nil {
		d.Limiter = NewLimiter(d.Now)
	}
	if d.NewID == nil {
		d.NewID = wire.NewID
	}
	if d.ClientIP == nil {
		d.ClientIP = peerIP
	}
	return &Handler{cfg: cfg, d: d}
}

// Routes reports whether the request path belongs to the HTTP API: a /v1/
// path (a disabled or unknown endpoint is a 404 from the handler) or the
// hooks path and below when hooks are enabled.
func (h *Handler) Routes(path string) bool {
	if h == nil {
		return false
	}
	return strings.HasPrefix(path, "/v1/") || h.hookPath(path)
}

func (h *Handler) hookPath(p string) bool {
	base := h.cfg.Hooks.Path
	return h.cfg.Hooks.Enabled && (p == base || strings.HasPrefix(p, base+"/"))
}

// ServeHTTP answers one request of the HTTP API. The order is the
// original's: hooks, then /v1/responses, then /v1/chat/completions.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case h.hookPath(p):
		h.serveHooks(w, r)
	case p == PathResponses && h.cfg.Responses:
		h.serveResponses(w, r)
	case p == PathChatCompletions && h.cfg.ChatCompletions:
		h.serveChat(w, r)
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
	}
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
