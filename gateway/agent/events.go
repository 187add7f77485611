package agent

import (
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Agent event streams (doc/messaging.md §2.1).
const (
	StreamLifecycle = "lifecycle"
	StreamAssistant = "assistant"
	StreamTool      = "tool"
)

// Lifecycle phases.
const (
	PhaseStart = "start"
	PhaseEnd   = "end"
	PhaseError = "error"
)

// Event is one agent event of a run as Turn.OnEvent sees it: the same
// seq and stream as the broadcast agent event, with the data an observer
// needs as plain fields (no maps, nothing allocated for it).
type Event struct {
	Seq    int64
	Stream string // StreamLifecycle | StreamAssistant | StreamTool
	// Phase is the lifecycle phase (PhaseStart, PhaseEnd, PhaseError) or
	// the tool phase ("start", "result").
	Phase string
	// Text is the assistant text so far, Delta its new part.
	Text, Delta string
	// Error is the lifecycle error message.
	Error string
	// ToolName, ToolCallID and IsError describe a tool event.
	ToolName, ToolCallID string
	IsError              bool
}

// The data objects of the streams, as typed structs so their keys come
// out in the original's order.
type (
	lifecycleStart struct {
		Phase     string `json:"phase"`
		StartedAt int64  `json:"startedAt"`
	}
	lifecycleEnd struct {
		Phase     string `json:"phase"`
		StartedAt int64  `json:"startedAt,omitempty"`
		EndedAt   int64  `json:"endedAt"`
		Aborted   bool   `json:"aborted,omitempty"`
	}
	lifecycleError struct {
		Phase     string `json:"phase"`
		StartedAt int64  `json:"startedAt,omitempty"`
		EndedAt   int64  `json:"endedAt"`
		Error     string `json:"error"`
	}
	assistantData struct {
		Text      string   `json:"text"`
		Delta     string   `json:"delta"`
		MediaURLs []string `json:"mediaUrls,omitempty"`
	}
	toolStart struct {
		Phase      string `json:"phase"`
		Name       string `json:"name"`
		ToolCallID string `json:"toolCallId"`
		Args       any    `json:"args"`
	}
	toolResultData struct {
		Phase      string     `json:"phase"`
		Name       string     `json:"name"`
		ToolCallID string     `json:"toolCallId"`
		Meta       string     `json:"meta,omitempty"`
		IsError    bool       `json:"isError"`
		Result     toolResult `json:"result"`
	}
	toolUpdate struct {
		Phase         string     `json:"phase"`
		Name          string     `json:"name"`
		ToolCallID    string     `json:"toolCallId"`
		PartialResult toolResult `json:"partialResult"`
	}
	toolResult struct {
		Content any `json:"content"`
		Details any `json:"details,omitempty"`
	}
)

// record is what the gateway keeps per run id: the per-run seq (which,
// as in the original, continues when a run id is reused while the record
// lives), the chat buffer behind the derived chat events, and the
// lifecycle snapshot agent.wait answers from. It outlives its run by
// recordTTL.
type record struct {
	mu         sync.Mutex
	id         string
	sessionKey string
	seq        int64
	// verbose: tool events are forwarded (verbose exactly "on").
	verbose bool
	// chat state: the current assistant message's text, when the last
	// delta went out, and whether chat output is cut off (after an abort).
	chatBuf     string
	lastDelta   time.Time
	chatStopped bool

	started, ended bool
	startedAt      int64
	endedAt        int64
	status         string // ok | error
	errMsg         string
	done           chan struct{}
	touched        time.Time
}

// emitter sends a run's events through the broadcaster.
type emitter struct {
	b        rpc.Broadcaster
	now      func() time.Time
	throttle time.Duration
}

// agentEvent broadcasts one agent event of rec (rec.mu held) and, for a
// session-keyed run, its derived chat event right after it. forward false
// still advances the seq (a suppressed tool event) without sending.
func (e *emitter) agentEvent(rec *record, stream string, data any, forward bool) int64 {
	rec.seq++
	seq := rec.seq
	now := e.now()
	if forward {
		e.b.Broadcast(wire.EventAgent, wire.AgentEvent{RunID: rec.id, Stream: stream, Data: data,
			SessionKey: rec.sessionKey, Seq: seq, TS: now.UnixMilli()}, rpc.Delivery{})
	}
	if rec.sessionKey == "" || rec.chatStopped {
		return seq
	}
	switch d := data.(type) {
	case assistantData:
		rec.chatBuf = d.Text
		if e.throttle > 0 && !rec.lastDelta.IsZero() && now.Sub(rec.lastDelta) < e.throttle {
			return seq
		}
		rec.lastDelta = now
		e.chat(rec, wire.ChatEvent{RunID: rec.id, SessionKey: rec.sessionKey, Seq: seq, State: wire.ChatDelta,
			Message: chatMessage(d.Text, now)}, true)
	case lifecycleEnd:
		ev := wire.ChatEvent{RunID: rec.id, SessionKey: rec.sessionKey, Seq: seq, State: wire.ChatFinal}
		if t := trimSpace(rec.chatBuf); t != "" {
			ev.Message = chatMessage(t, now)
		}
		e.chat(rec, ev, false)
	case lifecycleError:
		e.chat(rec, wire.ChatEvent{RunID: rec.id, SessionKey: rec.sessionKey, Seq: seq, State: wire.ChatError,
			ErrorMessage: d.Error}, false)
	}
	return seq
}

func (e *emitter) chat(rec *record, ev wire.ChatEvent, dropIfSlow bool) {
	e.b.Broadcast(wire.EventChat, ev, rpc.Delivery{DropIfSlow: dropIfSlow})
}

// chatAborted sends {state:"aborted"} for rec (seq = last + 1) and cuts
// off the run's later chat output (rec.mu held).
func (e *emitter) chatAborted(rec *record, sessionKey, stopReason string) {
	if rec.chatStopped {
		return
	}
	rec.chatStopped = true
	rec.chatBuf = ""
	e.b.Broadcast(wire.EventChat, wire.ChatEvent{RunID: rec.id, SessionKey: sessionKey, Seq: rec.seq + 1,
		State: wire.ChatAborted, StopReason: stopReason}, rpc.Delivery{})
}

func chatMessage(text string, now time.Time) *wire.ChatMessage {
	return &wire.ChatMessage{Role: "assistant", Content: []wire.ChatContent{{Type: "text", Text: text}}, Timestamp: now.UnixMilli()}
}
