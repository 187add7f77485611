// Package llm is the provider-neutral shape of a model turn, shared by the
// packages that resolve and call models (gateway/models), store what was
// said (gateway/sessionstore) and run agent turns (gateway/agent).
//
// The message and content types are the pi-coding-agent v3 shapes the
// original writes into its transcripts (doc/messaging.md §3.4): a message
// read from a transcript line is handed to a provider unchanged, and a
// provider's answer is appended to the transcript unchanged. That is what
// keeps our transcripts readable by the original's tools and theirs by ours.
//
// It is a helper package: it imports only the standard library, and every
// feature may import it (doc/architecture.md, "Arrows").
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message roles (pi-ai types).
const (
	RoleUser       = "user"
	RoleAssistant  = "assistant"
	RoleToolResult = "toolResult"
)

// Content block types.
const (
	ContentText     = "text"
	ContentImage    = "image"
	ContentThinking = "thinking"
	ContentToolCall = "toolCall"
)

// Stop reasons of an assistant message.
const (
	StopStop    = "stop"
	StopLength  = "length"
	StopToolUse = "toolUse"
	StopError   = "error"
	StopAborted = "aborted"
	// StopInjected marks a message the gateway wrote itself (chat.inject,
	// replies that started no run).
	StopInjected = "injected"
)

// Content is one block of a message: text, image, thinking or toolCall.
// Fields not used by a block's type stay empty and are omitted on the wire.
type Content struct {
	Type string `json:"type"`
	// Text is the text of a text block.
	Text string `json:"text,omitempty"`
	// Thinking and ThinkingSignature belong to a thinking block.
	Thinking          string `json:"thinking,omitempty"`
	ThinkingSignature string `json:"thinkingSignature,omitempty"`
	// Data (base64) and MimeType belong to an image block.
	Data     string `json:"data,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	// ID, Name and Arguments (a JSON object) belong to a toolCall block.
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// Text is a text block.
func Text(s string) Content { return Content{Type: ContentText, Text: s} }

// Cost is the money a turn cost, in the provider's configured unit.
type Cost struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cacheRead"`
	CacheWrite float64 `json:"cacheWrite"`
	Total      float64 `json:"total"`
}

// Usage is the token count of one assistant message.
type Usage struct {
	Input       int64 `json:"input"`
	Output      int64 `json:"output"`
	CacheRead   int64 `json:"cacheRead"`
	CacheWrite  int64 `json:"cacheWrite"`
	TotalTokens int64 `json:"totalTokens"`
	Cost        *Cost `json:"cost,omitempty"`
}

// Message is one message of a conversation, as a transcript line's
// "message" holds it.
type Message struct {
	Role    string    `json:"role"`
	Content []Content `json:"content"`

	// Assistant messages: which model answered, what it cost, why it
	// stopped.
	API          string `json:"api,omitempty"`
	Provider     string `json:"provider,omitempty"`
	Model        string `json:"model,omitempty"`
	Usage        *Usage `json:"usage,omitempty"`
	StopReason   string `json:"stopReason,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`

	// Tool results: which call they answer.
	ToolCallID string          `json:"toolCallId,omitempty"`
	ToolName   string          `json:"toolName,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
	IsError    bool            `json:"isError,omitempty"`

	// Timestamp is Unix milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// UnmarshalJSON accepts the original's user messages whose content is a
// plain string as well as a list of blocks.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	var raw struct {
		plain
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = Message(raw.plain)
	m.Content = nil
	c := bytes.TrimSpace(raw.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return err
		}
		m.Content = []Content{Text(s)}
	default:
		if err := json.Unmarshal(c, &m.Content); err != nil {
			return fmt.Errorf("message content: %w", err)
		}
	}
	return nil
}

// PlainText is the concatenated text blocks of m (thinking and tool calls
// left out).
func (m Message) PlainText() string {
	var b []byte
	for _, c := range m.Content {
		if c.Type == ContentText {
			b = append(b, c.Text...)
		}
	}
	return string(b)
}

// ToolCalls are m's toolCall blocks.
func (m Message) ToolCalls() []Content {
	var out []Content
	for _, c := range m.Content {
		if c.Type == ContentToolCall {
			out = append(out, c)
		}
	}
	return out
}

// Tool is a tool offered to the model: a name, what it does, and its
// arguments as a JSON Schema object.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Thinking levels (doc/messaging.md §4.2).
const (
	ThinkingOff     = "off"
	ThinkingMinimal = "minimal"
	ThinkingLow     = "low"
	ThinkingMedium  = "medium"
	ThinkingHigh    = "high"
	ThinkingXHigh   = "xhigh"
)

// Request is one call of a model: the system prompt, the conversation so
// far (oldest first) and the tools on offer.
type Request struct {
	// Model is the model id at its provider (no "provider/" prefix);
	// empty means the candidate's own model.
	Model    string
	System   string
	Messages []Message
	Tools    []Tool
	// MaxTokens bounds the answer (0: the model's configured maximum).
	MaxTokens int
	// Thinking is one of the Thinking* levels ("" or off: none).
	Thinking string
	// Temperature is nil for the provider's default.
	Temperature *float64
}

// Event kinds a provider emits while it streams.
const (
	// EventText carries the next piece of answer text in Delta.
	EventText = "text"
	// EventThinking carries the next piece of reasoning in Delta.
	EventThinking = "thinking"
	// EventToolCall carries one complete tool call in ToolCall.
	EventToolCall = "toolCall"
)

// Event is one streamed piece of an answer.
type Event struct {
	Kind     string
	Delta    string
	ToolCall *Content
}

// Provider calls one model API.
type Provider interface {
	// Stream sends req, calls emit for every event in arrival order (on
	// the calling goroutine, never after Stream returns), and returns the
	// complete assistant message: its content, usage, stop reason and the
	// api/provider/model that answered. It returns when the answer is
	// complete, the upstream fails or ctx ends; a cancelled ctx yields an
	// *Error of kind KindAborted.
	Stream(ctx context.Context, req Request, emit func(Event)) (Message, error)
}

// Error kinds: what went wrong, as far as choosing the next step goes.
const (
	// KindAuth: the key is missing, wrong or lacks access (401/403).
	KindAuth = "auth"
	// KindRateLimit: 429 or a quota; RetryAfter may say when to retry.
	KindRateLimit = "rate_limit"
	// KindServer: 5xx, or the stream broke off mid-answer.
	KindServer = "server"
	// KindNetwork: the upstream could not be reached.
	KindNetwork = "network"
	// KindBadRequest: the upstream refused the request (400, 404, 422):
	// retrying the same request elsewhere may help, here it will not.
	KindBadRequest = "bad_request"
	// KindContextLength: the conversation does not fit the model.
	KindContextLength = "context_length"
	// KindTimeout: the run's time ran out.
	KindTimeout = "timeout"
	// KindAborted: the caller cancelled.
	KindAborted = "aborted"
	// KindConfig: no usable model (missing key, unknown provider); Fix
	// names what to set.
	KindConfig = "config"
)

// Error is a failed model call.
type Error struct {
	Kind string
	// Status is the HTTP status when there was one.
	Status int
	// RetryAfter is the upstream's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Provider and Model say which candidate failed.
	Provider, Model string
	// Message is the upstream's message (or ours), one line.
	Message string
	// Fix names what the owner can change, for KindConfig and KindAuth.
	Fix string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Status != 0 {
		msg = fmt.Sprintf("%d %s", e.Status, msg)
	}
	if e.Fix != "" {
		msg += " (" + e.Fix + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same candidate may succeed if called
// again after a pause: rate limits, server errors and network failures.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindRateLimit, KindServer, KindNetwork:
		return true
	}
	return false
}

// Failover reports whether the next fallback model should be tried: every
// failure but the caller's own abort, the run's timeout and a conversation
// too long for every model alike.
func (e *Error) Failover() bool {
	switch e.Kind {
	case KindAborted, KindTimeout:
		return false
	}
	return true
}

// AsError returns err's *Error, or wraps err as a server error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindServer, Err: err}
}

// Ref names a model: "provider/model".
type Ref struct {
	Provider string
	Model    string
}

func (r Ref) String() string { return r.Provider + "/" + r.Model }

// Selection is the model chain chosen for a turn: the primary first, then
// the fallbacks. Chain streams from them in order, retrying and falling
// over as the owner's config says; the message it returns names the
// candidate that answered.
type Selection struct {
	Primary   Ref
	Fallbacks []Ref
	// ContextWindow and MaxTokens are the primary's (0: unknown).
	ContextWindow int
	MaxTokens     int
	Chain         Provider
}

// Resolver picks the models of a turn.
type Resolver interface {
	// Resolve returns the chain for agentID with override ("provider/
	// model" or an alias from the session, "" for none) applied. A config
	// that leaves no usable model is an *Error of kind KindConfig.
	Resolve(agentID, override string) (Selection, error)
}
