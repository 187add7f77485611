package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent/lanes"
	"github.com/clawdbot/clawdbot/gateway/agent/prompt"
	"github.com/clawdbot/clawdbot/gateway/agent/reply"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Limits of the runtime.
const (
	// MaxToolIterations bounds model calls per run when tools are called.
	MaxToolIterations = 16
	// recordTTL is how long a finished run's record (agent.wait's
	// lifecycle cache, the per-run seq) is kept.
	recordTTL = 10 * time.Minute
	// DefaultChatDeltaInterval is the original's chat delta throttle.
	DefaultChatDeltaInterval = 150 * time.Millisecond
)

// AbortedNote is prefixed to the next chat turn after an aborted run.
const AbortedNote = "Note: The previous agent run was aborted by the user. Resume carefully or ask for clarification."

// errTimeout is the cause of a run's context when its time ran out.
var errTimeout = errors.New("agent run timed out")

// abortError is the cause of a run's context when something aborted it.
type abortError struct{ reason string }

func (e *abortError) Error() string { return "aborted: " + e.reason }

// Runner runs agent turns. It is process-wide: lanes, runs in flight and
// the per-run records survive a runtime swap.
type Runner struct {
	d     Deps
	lanes *lanes.Lanes
	em    emitter
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	records map[string]*record
	active  map[string]*activeRun
	queues  map[string]*followupQueue
	// chatInflight: chat.send idempotency keys being dispatched.
	chatInflight map[string]bool
	lastSweep    time.Time
}

// activeRun is a run between its registration and its end.
type activeRun struct {
	id, sessionKey string
	chat           bool
	cancel         context.CancelCauseFunc
	rec            *record

	mu    sync.Mutex
	steer []string
}

// NewRunner returns the runner of d (the process-wide part of the
// feature; Register takes it through Deps.Runner).
func NewRunner(d Deps) *Runner {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Config == nil {
		d.Config = DefaultConfig
	}
	if d.Dedupe == nil {
		d.Dedupe = rpc.NewDedupe(d.Now)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	throttle := d.ChatDeltaInterval
	if throttle == 0 {
		throttle = DefaultChatDeltaInterval
	}
	r := &Runner{d: d, now: d.Now, log: d.Log,
		em:      emitter{b: d.Broadcast, now: d.Now, throttle: throttle},
		records: map[string]*record{}, active: map[string]*activeRun{}, queues: map[string]*followupQueue{}, chatInflight: map[string]bool{}}
	r.lanes = lanes.New(func(name string) int {
		cfg := r.d.Config()
		switch {
		case strings.HasPrefix(name, "session:"):
			return 1
		case name == "main":
			return cfg.MaxConcurrent
		case name == "cron":
			return cfg.CronConcurrent
		case name == "subagent":
			return cfg.SubagentConcurrent
		}
		return 1
	})
	return r
}

// Turn is one run to make.
type Turn struct {
	// RunID is the run id (the idempotency key of agent / chat.send).
	RunID string
	// Session is the resolved session.
	Session Session
	// Message is the user text as the model sees it.
	Message string
	// Images are image blocks sent with the message.
	Images []llm.Content
	// Thinking and Verbose override the session's levels for this run.
	Thinking, Verbose string
	// Timeout bounds the run once it holds its lanes (0: config).
	Timeout time.Duration
	// Lane is the global lane ("" : main).
	Lane string
	// ExtraSystemPrompt is appended to the system prompt.
	ExtraSystemPrompt string
	// Chat marks a chat.send (auto-reply) run: chat.abort and stop
	// words reach it, and an aborted previous run is noted to the model.
	Chat bool
	// Channel is the turn's channel ("webchat" for chat.send).
	Channel string
	// MessageID is what [[reply_to_current]] resolves to.
	MessageID string
	// ClientTools are function tools the caller offers on behalf of its
	// own client (the /v1 HTTP endpoints): the model sees them beside the
	// built-in tools (a client tool shadows a built-in one of the same
	// name), but the gateway never runs them. A call of one ends the turn
	// after that model answer, with the calls in Outcome.ToolCalls, for
	// the client to run and answer in a later turn (doc/messaging.md §6.4).
	// The caller bounds their count and schema sizes.
	ClientTools []llm.Tool
	// MaxTokens caps the answer of each model call (0: the model's
	// configured maximum, which also caps a larger value).
	MaxTokens int
	// OnEvent, when set, sees every agent event of this run (lifecycle,
	// assistant, tool, including tool events not broadcast) right after it
	// is broadcast, in seq order, on the run's goroutine. The HTTP
	// endpoints stream assistant deltas from it. It runs outside the
	// runner's locks but the model stream waits for it, so it must not
	// block for long.
	OnEvent func(Event)

	laneHeld bool
	onStart  func()
}

// Outcome is how a run ended.
type Outcome struct {
	Payloads []wire.AgentPayload
	Meta     wire.AgentRunMeta
	// Err is set when the run failed: AGENT_TIMEOUT when its time ran
	// out, UNAVAILABLE for a model that cannot be used.
	Err      *wire.ErrorShape
	Aborted  bool
	TimedOut bool
	// ToolCalls are the model's calls of Turn.ClientTools that ended the
	// turn (ID, Name, Arguments as the model sent them), in order.
	ToolCalls []llm.Content
}

// Run runs t to its end: it waits for the session lane and the global
// lane, then makes the turn. Exactly one lifecycle start and one end or
// error are emitted for it.
func (r *Runner) Run(ctx context.Context, t Turn) Outcome {
	begun := r.now()
	rec := r.record(t.RunID, t.Session.Key)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ar := &activeRun{id: t.RunID, sessionKey: t.Session.Key, chat: t.Chat, cancel: cancel, rec: rec}
	r.mu.Lock()
	r.active[t.RunID] = ar
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if r.active[t.RunID] == ar {
			delete(r.active, t.RunID)
		}
		r.mu.Unlock()
	}()

	cfg := r.d.Config()
	rec.mu.Lock()
	rec.verbose = firstNonEmpty(t.Verbose, t.Session.VerboseLevel, cfg.VerboseDefault) == "on"
	rec.mu.Unlock()

	var laneErr error
	if !t.laneHeld && t.Session.Key != "" {
		rel, err := r.lanes.Acquire(ctx, lanes.SessionLane(t.Session.Key))
		if err == nil {
			defer rel()
		}
		laneErr = err
	}
	if laneErr == nil {
		lane := t.Lane
		if lane == "" {
			lane = "main"
		}
		rel, err := r.lanes.Acquire(ctx, lane)
		if err == nil {
			defer rel()
		}
		laneErr = err
	}
	if t.onStart != nil {
		t.onStart()
	}
	startedAt := r.now().UnixMilli()
	r.emitLifecycle(rec, t.OnEvent, lifecycleStart{Phase: PhaseStart, StartedAt: startedAt})

	var out Outcome
	if laneErr != nil {
		out.Aborted = true // aborted while it waited for its turn
	} else {
		timeout := t.Timeout
		if timeout <= 0 {
			timeout = time.Duration(cfg.TimeoutSeconds) * time.Second
		}
		tctx, tcancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
		out = r.turn(tctx, t, cfg, rec, ar)
		tcancel()
		if out.TimedOut {
			out.Err = rpc.Error(wire.ErrAgentTimeout, fmt.Sprintf("agent run timed out after %s", timeout))
		}
	}
	endedAt := r.now().UnixMilli()
	out.Meta.DurationMs = r.now().Sub(begun).Milliseconds()
	out.Meta.Aborted = out.Aborted || out.TimedOut
	if out.Payloads == nil {
		out.Payloads = []wire.AgentPayload{}
	}
	if out.Err != nil {
		r.emitLifecycle(rec, t.OnEvent, lifecycleError{Phase: PhaseError, StartedAt: startedAt, EndedAt: endedAt, Error: out.Err.Message})
	} else {
		// The embedded runner's end is {phase, endedAt}; an aborted run
		// gets agentCommand's {phase, startedAt, endedAt, aborted}
		// (doc/messaging.md §2.1).
		end := lifecycleEnd{Phase: PhaseEnd, EndedAt: endedAt}
		if out.Aborted {
			end.StartedAt, end.Aborted = startedAt, true
		}
		r.emitLifecycle(rec, t.OnEvent, end)
	}
	if t.Session.Key != "" && r.d.Sessions != nil {
		u := SessionUpdate{Channel: t.Channel, SystemSent: true}
		aborted := out.Aborted || out.TimedOut
		if aborted || t.Session.AbortedLastRun {
			u.AbortedLastRun = &aborted
		}
		if am := out.Meta.AgentMeta; am != nil {
			u.Model, u.ModelProvider = am.Model, am.Provider
		}
		u.Usage = lastUsage(out)
		if err := r.d.Sessions.Update(t.Session.Key, u); err != nil {
			r.log.Warn("session update after run", "sessionKey", t.Session.Key, "err", err)
		}
	}
	return out
}

// lastUsageKey carries the last model call's usage from turn to Run.
func lastUsage(o Outcome) *llm.Usage {
	if o.Meta.AgentMeta == nil || o.Meta.AgentMeta.Usage == nil {
		return nil
	}
	u := o.Meta.AgentMeta.Usage
	return &llm.Usage{Input: u.Input, Output: u.Output, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite, TotalTokens: u.Total}
}

func (r *Runner) emitLifecycle(rec *record, on func(Event), data any) {
	rec.mu.Lock()
	seq := r.em.agentEvent(rec, StreamLifecycle, data, true)
	ev := Event{Seq: seq, Stream: StreamLifecycle}
	switch d := data.(type) {
	case lifecycleStart:
		rec.started, rec.startedAt = true, d.StartedAt
		ev.Phase = PhaseStart
	case lifecycleEnd:
		rec.finish("ok", "", d.EndedAt)
		ev.Phase = PhaseEnd
	case lifecycleError:
		rec.finish("error", d.Error, d.EndedAt)
		ev.Phase, ev.Error = PhaseError, d.Error
	}
	rec.mu.Unlock()
	if on != nil {
		on(ev)
	}
}

func (rec *record) finish(status, msg string, endedAt int64) {
	if rec.ended {
		return
	}
	rec.ended, rec.status, rec.errMsg, rec.endedAt = true, status, msg, endedAt
	close(rec.done)
}

// withSystemBlock prepends the original's "System:" block (one
// "System: <line>" per queued event, then a blank line) to a chat turn's
// text, outside its aborted note and [message_id] hint as the original's
// prependSystemEvents wraps applySessionHints.
func withSystemBlock(lines []string, text string) string {
	if len(lines) == 0 {
		return text
	}
	return "System: " + strings.Join(lines, "\nSystem: ") + "\n\n" + text
}

// turn is the model part of a run: history, prompt, the stream and the
// tool loop.
func (r *Runner) turn(ctx context.Context, t Turn, cfg Config, rec *record, ar *activeRun) Outcome {
	var out Outcome
	s := t.Session
	sessions := r.d.Sessions
	var history []llm.Message
	if sessions != nil && s.Key != "" {
		h, err := sessions.History(s)
		if err != nil {
			r.log.Warn("read history", "sessionKey", s.Key, "err", err)
		}
		history = h
	}
	text := t.Message
	if t.Chat && s.AbortedLastRun {
		text = AbortedNote + "\n\n" + text
	}
	if t.Chat && r.d.SystemEvents != nil && s.Key != "" {
		text = withSystemBlock(r.d.SystemEvents(s.Key), text)
	}
	user := llm.Message{Role: llm.RoleUser, Content: append([]llm.Content{llm.Text(text)}, t.Images...), Timestamp: r.now().UnixMilli()}
	r.append(s, user)
	msgs := append(history, user)

	if r.d.Models == nil {
		out.Err = rpc.Unavailable("no model configured: set agents.defaults.model.primary and models.providers")
		return out
	}
	sel, err := r.d.Models.Resolve(s.AgentID, s.ModelOverride)
	if err != nil {
		out.Err = rpc.Unavailable(err.Error())
		return out
	}
	ws := r.d.Workspace
	if a, ok := cfg.Agent(s.AgentID); ok && a.Workspace != "" {
		ws = a.Workspace
	} else if cfg.Workspace != "" {
		ws = cfg.Workspace
	}
	thinking := firstNonEmpty(t.Thinking, s.ThinkingLevel, cfg.ThinkingDefault)
	var specs []llm.Tool
	if r.d.Tools != nil {
		specs = r.d.Tools.Specs(s)
	}
	promptTools := make([]prompt.Tool, 0, len(specs))
	for _, sp := range specs {
		promptTools = append(promptTools, prompt.Tool{Name: sp.Name, Summary: sp.Description})
	}
	var client map[string]bool
	specs, client = withClientTools(specs, t.ClientTools)
	maxTokens := sel.MaxTokens
	if t.MaxTokens > 0 && (maxTokens <= 0 || t.MaxTokens < maxTokens) {
		maxTokens = t.MaxTokens
	}
	system := prompt.Build(prompt.Params{Workspace: ws, SessionKey: s.Key, AgentID: s.AgentID,
		Model: sel.Primary.String(), DefaultModel: cfg.DefaultModel, Channel: t.Channel, Thinking: thinking,
		MaxChars: cfg.BootstrapMaxChars, Now: r.now(), Extra: t.ExtraSystemPrompt, Host: r.d.Host, Tools: promptTools,
		SkillsPrompt: r.skillsPrompt(ws)})
	meta := &wire.AgentMeta{SessionID: s.SessionID, Provider: sel.Primary.Provider, Model: sel.Primary.Model}
	out.Meta.AgentMeta = meta
	var usage wire.AgentUsage
	used := false

	for range MaxToolIterations {
		for _, st := range ar.takeSteer() {
			m := llm.Message{Role: llm.RoleUser, Content: []llm.Content{llm.Text(st)}, Timestamp: r.now().UnixMilli()}
			r.append(s, m)
			msgs = append(msgs, m)
		}
		var raw, prev string
		emit := func(ev llm.Event) {
			if ev.Kind != llm.EventText || ev.Delta == "" {
				return
			}
			raw += ev.Delta
			cur := reply.StripTags(raw)
			if cur == prev {
				return
			}
			delta := cur
			if strings.HasPrefix(cur, prev) {
				delta = cur[len(prev):]
			}
			prev = cur
			rec.mu.Lock()
			seq := r.em.agentEvent(rec, StreamAssistant, assistantData{Text: cur, Delta: delta}, true)
			rec.mu.Unlock()
			if t.OnEvent != nil {
				t.OnEvent(Event{Seq: seq, Stream: StreamAssistant, Text: cur, Delta: delta})
			}
		}
		req := llm.Request{System: system, Messages: msgs, Tools: specs, Thinking: thinking, MaxTokens: maxTokens}
		msg, err := sel.Chain.Stream(ctx, req, emit)
		if stop := r.stopped(ctx, &out); stop {
			return out
		}
		if err != nil {
			le := llm.AsError(err)
			if le.Kind == llm.KindConfig || le.Kind == llm.KindAuth {
				out.Err = rpc.Unavailable(le.Error())
				return out
			}
			// An upstream failure is a reply, as in the original: the
			// error text is the payload and the transcript keeps an
			// assistant entry with stopReason "error".
			em := llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{}, Provider: firstNonEmpty(le.Provider, sel.Primary.Provider),
				Model: firstNonEmpty(le.Model, sel.Primary.Model), StopReason: llm.StopError, ErrorMessage: le.Error(), Timestamp: r.now().UnixMilli()}
			r.append(s, em)
			out.Payloads = append(out.Payloads, wire.AgentPayload{Text: le.Error()})
			break
		}
		if msg.Role == "" {
			msg.Role = llm.RoleAssistant
		}
		if msg.Timestamp == 0 {
			msg.Timestamp = r.now().UnixMilli()
		}
		r.append(s, msg)
		msgs = append(msgs, msg)
		if msg.Provider != "" {
			meta.Provider, meta.Model = msg.Provider, msg.Model
		}
		if u := msg.Usage; u != nil {
			used = true
			usage.Input += u.Input
			usage.Output += u.Output
			usage.CacheRead += u.CacheRead
			usage.CacheWrite += u.CacheWrite
			tot := u.TotalTokens
			if tot == 0 {
				tot = u.Input + u.Output + u.CacheRead + u.CacheWrite
			}
			usage.Total += tot
		}
		for _, c := range msg.Content {
			if c.Type != llm.ContentText {
				continue
			}
			if p, ok := reply.Parse(c.Text, reply.Options{CurrentMessageID: t.MessageID}); ok {
				out.Payloads = append(out.Payloads, toPayload(p))
			}
		}
		calls := msg.ToolCalls()
		if len(calls) == 0 || len(specs) == 0 {
			break
		}
		for _, call := range calls {
			if client[call.Name] {
				out.ToolCalls = append(out.ToolCalls, call)
			}
			r.toolCall(ctx, s, rec, t.OnEvent, call, client[call.Name], &msgs)
		}
		if stop := r.stopped(ctx, &out); stop {
			return out
		}
		if len(out.ToolCalls) > 0 {
			break // the client runs its tools; its answer is a later turn
		}
	}
	if used {
		meta.Usage = &usage
	}
	return out
}

// stopped reports whether ctx ended (abort or timeout) and records which.
func (r *Runner) stopped(ctx context.Context, out *Outcome) bool {
	if ctx.Err() == nil {
		return false
	}
	if errors.Is(context.Cause(ctx), errTimeout) {
		out.TimedOut = true
	} else {
		out.Aborted = true
	}
	return true
}

func (r *Runner) toolCall(ctx context.Context, s Session, rec *record, on func(Event), call llm.Content, clientTool bool, msgs *[]llm.Message) {
	var args any = map[string]any{}
	if len(call.Arguments) > 0 {
		args = json.RawMessage(call.Arguments)
	}
	rec.mu.Lock()
	seq := r.em.agentEvent(rec, StreamTool, toolStart{Phase: "start", Name: call.Name, ToolCallID: call.ID, Args: args}, rec.verbose)
	rec.mu.Unlock()
	name := call.Name
	ctx = WithToolUpdates(ctx, func(p ToolResult) {
		if p.Content == nil {
			p.Content = []llm.Content{}
		}
		var details any
		if len(p.Details) > 0 {
			details = p.Details
		}
		rec.mu.Lock()
		r.em.agentEvent(rec, StreamTool, toolUpdate{Phase: "update", Name: name, ToolCallID: call.ID,
			PartialResult: toolResult{Content: p.Content, Details: details}}, rec.verbose)
		rec.mu.Unlock()
	})
	if on != nil {
		on(Event{Seq: seq, Stream: StreamTool, Phase: "start", ToolName: call.Name, ToolCallID: call.ID})
	}
	var res ToolResult
	if clientTool {
		res = clientToolPending(call.Name)
	} else if r.d.Tools == nil {
		res = ToolResult{Content: []llm.Content{llm.Text("Tool " + call.Name + " not found")}, IsError: true}
	} else {
		var err error
		res, err = r.d.Tools.Call(ctx, s, call)
		if err != nil {
			res = ToolResult{Content: []llm.Content{llm.Text(err.Error())}, IsError: true}
		}
	}
	if res.Content == nil {
		res.Content = []llm.Content{}
	}
	var details any
	if len(res.Details) > 0 {
		details = res.Details
	}
	rec.mu.Lock()
	seq = r.em.agentEvent(rec, StreamTool, toolResultData{Phase: "result", Name: call.Name, ToolCallID: call.ID, Meta: res.Meta,
		IsError: res.IsError, Result: toolResult{Content: res.Content, Details: details}}, rec.verbose)
	rec.mu.Unlock()
	if on != nil {
		on(Event{Seq: seq, Stream: StreamTool, Phase: "result", ToolName: call.Name, ToolCallID: call.ID, IsError: res.IsError})
	}
	m := llm.Message{Role: llm.RoleToolResult, ToolCallID: call.ID, ToolName: call.Name, Content: res.Content,
		Details: res.Details, IsError: res.IsError, Timestamp: r.now().UnixMilli()}
	r.append(s, m)
	*msgs = append(*msgs, m)
}

// withClientTools is the tool list of a turn: the built-in specs without
// those a client tool shadows, then the client tools; client names the
// client tools.
func withClientTools(specs, clientTools []llm.Tool) ([]llm.Tool, map[string]bool) {
	if len(clientTools) == 0 {
		return specs, nil
	}
	client := make(map[string]bool, len(clientTools))
	for _, t := range clientTools {
		client[t.Name] = true
	}
	out := make([]llm.Tool, 0, len(specs)+len(clientTools))
	for _, sp := range specs {
		if !client[sp.Name] {
			out = append(out, sp)
		}
	}
	return append(out, clientTools...), client
}

// clientToolPending is the transcript's result of a client tool call: the
// original's words. Every tool call in a transcript needs a result, or the
// next turn of the session is refused by the providers' APIs.
func clientToolPending(name string) ToolResult {
	p := struct {
		Status  string `json:"status"`
		Tool    string `json:"tool"`
		Message string `json:"message"`
	}{"pending", name, "Tool execution delegated to client"}
	text, _ := json.MarshalIndent(p, "", "  ")
	details, _ := json.Marshal(p)
	return ToolResult{Content: []llm.Content{llm.Text(string(text))}, Details: details}
}

func (r *Runner) append(s Session, m llm.Message) {
	if r.d.Sessions == nil || s.Key == "" {
		return
	}
	if _, err := r.d.Sessions.Append(s, m); err != nil {
		r.log.Warn("append transcript", "sessionKey", s.Key, "role", m.Role, "err", err)
	}
}

func toPayload(p reply.Payload) wire.AgentPayload {
	out := wire.AgentPayload{Text: p.Text}
	if len(p.MediaURLs) > 0 {
		u := p.MediaURLs[0]
		out.MediaURL = &u
		out.MediaURLs = p.MediaURLs
	}
	return out
}

func (a *activeRun) takeSteer() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.steer
	a.steer = nil
	return s
}

// record returns the record of runID, made ready for a new run.
func (r *Runner) record(runID, sessionKey string) *record {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	rec := r.records[runID]
	if rec == nil {
		rec = &record{id: runID, done: make(chan struct{})}
		r.records[runID] = rec
	}
	rec.mu.Lock()
	if rec.ended {
		rec.ended, rec.started, rec.status, rec.errMsg = false, false, "", ""
		rec.done = make(chan struct{})
	}
	rec.sessionKey = sessionKey
	rec.chatBuf, rec.chatStopped, rec.lastDelta = "", false, time.Time{}
	rec.touched = r.now()
	rec.mu.Unlock()
	return rec
}

// sweepLocked forgets records finished (or waited for without a run)
// more than recordTTL ago, at most once a minute.
func (r *Runner) sweepLocked() {
	now := r.now()
	if now.Sub(r.lastSweep) < time.Minute {
		return
	}
	r.lastSweep = now
	for id, rec := range r.records {
		rec.mu.Lock()
		old := now.Sub(rec.touched) > recordTTL && (rec.ended || !rec.started)
		rec.mu.Unlock()
		if old && r.active[id] == nil {
			delete(r.records, id)
		}
	}
}

// Wait is agent.wait: the lifecycle snapshot of runID once it ended, or
// status "timeout" after timeout (0: only what is known now).
func (r *Runner) Wait(ctx context.Context, runID string, timeout time.Duration) wire.AgentWaitResult {
	r.mu.Lock()
	rec := r.records[runID]
	if rec == nil && timeout > 0 {
		rec = &record{id: runID, done: make(chan struct{}), touched: r.now()}
		r.records[runID] = rec
	}
	r.mu.Unlock()
	res := wire.AgentWaitResult{RunID: runID, Status: wire.RunTimeout}
	if rec == nil {
		return res
	}
	rec.mu.Lock()
	done := rec.done
	rec.mu.Unlock()
	if timeout > 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		select {
		case <-done:
		case <-tm.C:
		case <-ctx.Done():
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !rec.ended {
		return res
	}
	res.Status, res.Error = rec.status, rec.errMsg
	if rec.startedAt != 0 {
		s := rec.startedAt
		res.StartedAt = &s
	}
	e := rec.endedAt
	res.EndedAt = &e
	return res
}

// AbortSession aborts every run of sessionKey (queued or running) and
// drops its queued followups; it reports whether there was any. The
// sessions feature calls it on sessions.delete.
func (r *Runner) AbortSession(sessionKey string) bool {
	ids := r.abort(sessionKey, "", false, "")
	r.mu.Lock()
	q := r.queues[sessionKey]
	r.mu.Unlock()
	dropped := q != nil && q.clear() > 0
	return len(ids) > 0 || dropped
}

// Idle reports whether no run of sessionKey is registered (running or
// waiting for its lanes) and none of its followups is queued: what
// sessions.delete waits for after AbortSession.
func (r *Runner) Idle(sessionKey string) bool {
	return r.sessionActive(sessionKey) == nil && !r.pending(sessionKey)
}

// abort cancels the active runs of sessionKey (only runID when set; only
// chat.send runs when chatOnly) and returns their ids. With a stopReason
// each aborted chat run first gets its chat "aborted" event.
func (r *Runner) abort(sessionKey, runID string, chatOnly bool, stopReason string) []string {
	r.mu.Lock()
	var hit []*activeRun
	for id, ar := range r.active {
		if ar.sessionKey != sessionKey || (runID != "" && id != runID) || (chatOnly && !ar.chat) {
			continue
		}
		hit = append(hit, ar)
	}
	r.mu.Unlock()
	ids := []string{}
	for _, ar := range hit {
		if stopReason != "" {
			ar.rec.mu.Lock()
			r.em.chatAborted(ar.rec, sessionKey, stopReason)
			ar.rec.mu.Unlock()
		}
		ar.cancel(&abortError{reason: firstNonEmpty(stopReason, "abort")})
		ids = append(ids, ar.id)
	}
	return ids
}

// activeRunOf returns the active run registered under runID.
func (r *Runner) activeRunOf(runID string) *activeRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[runID]
}

// sessionActive returns a running (or queued) run of sessionKey.
func (r *Runner) sessionActive(sessionKey string) *activeRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ar := range r.active {
		if ar.sessionKey == sessionKey {
			return ar
		}
	}
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func trimSpace(s string) string { return strings.TrimSpace(s) }

// skillsPrompt is Deps.SkillsPrompt for ws ("" without one).
func (r *Runner) skillsPrompt(ws string) string {
	if r.d.SkillsPrompt == nil {
		return ""
	}
	return r.d.SkillsPrompt(ws)
}
