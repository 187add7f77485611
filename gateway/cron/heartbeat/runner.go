package heartbeat

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Wake coalescing of the original: requests within 250 ms make one
// heartbeat; a busy main lane is retried after a second.
const (
	coalesce = 250 * time.Millisecond
	retry    = time.Second
	// recheck bounds how long a config change (a new every) waits to be
	// seen by an idle runner.
	recheck = time.Minute
)

// Turn is one heartbeat turn in an agent's main session.
type Turn struct {
	AgentID string
	// Session is heartbeat.session ("" : the main session).
	Session string
	// Message is the prompt, after the queued system events.
	Message string
	Model   string
}

// Reply is what the turn answered.
type Reply struct {
	Texts    []string
	HasMedia bool
}

// Turns runs heartbeat turns (the core adapts the agent runner).
type Turns interface {
	// Busy reports requests in flight on the main lane: a heartbeat then
	// waits (the original's "requests-in-flight").
	Busy() bool
	RunHeartbeat(ctx context.Context, t Turn) (Reply, error)
}

// Events is the system-event queue the next turn consumes.
type Events interface {
	// Drain takes agentID's queued lines (oldest first).
	Drain(agentID string) []string
}

// Clock is the runner's time source.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time                                  { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Deps are what the runner needs.
type Deps struct {
	// Config is the parsed clawdbot.json (nil: {}).
	Config func() map[string]any
	Turns  Turns
	Events Events
	// Workspace is an agent's workspace dir (HEARTBEAT.md lives there).
	Workspace func(agentID string) string
	Broadcast rpc.Broadcaster
	Clock     Clock
	Log       *slog.Logger
}

// Result is how a heartbeat pass went: status ran, skipped or failed.
type Result struct {
	Status, Reason string
}

type agentState struct {
	interval time.Duration
	lastRun  time.Time
	nextDue  time.Time
}

// Runner is the process-wide heartbeat runner.
type Runner struct {
	d       Deps
	enabled atomic.Bool
	last    atomic.Pointer[wire.HeartbeatEvent]

	mu      sync.Mutex
	agents  map[string]*agentState
	stopT   func() bool
	wakeT   func() bool
	pending string
	running bool
	started bool
	stopped bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a runner; Start schedules it.
func New(d Deps) *Runner {
	if d.Config == nil {
		d.Config = func() map[string]any { return map[string]any{} }
	}
	if d.Clock == nil {
		d.Clock = realClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Runner{d: d, agents: map[string]*agentState{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.enabled.Store(true)
	return r
}

// Start reads the config and arms the interval timer.
func (r *Runner) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = true
	r.refreshLocked()
	r.scheduleLocked()
}

// Stop disarms the timers, cancels a heartbeat in flight and waits for it.
func (r *Runner) Stop() {
	r.mu.Lock()
	r.stopped = true
	for _, f := range []func() bool{r.stopT, r.wakeT} {
		if f != nil {
			f()
		}
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// SetEnabled is set-heartbeats: process-wide, not persisted.
func (r *Runner) SetEnabled(on bool) { r.enabled.Store(on) }

// Last is the last heartbeat event (nil before the first).
func (r *Runner) Last() *wire.HeartbeatEvent { return r.last.Load() }

// refreshLocked re-reads the heartbeat agents, keeping each one's phase
// (the original's resolveNextDue).
func (r *Runner) refreshLocked() {
	now := r.d.Clock.Now()
	next := map[string]*agentState{}
	for _, a := range Agents(r.d.Config()) {
		prev := r.agents[a.ID]
		st := &agentState{interval: a.Interval}
		switch {
		case prev != nil && !prev.lastRun.IsZero():
			st.lastRun, st.nextDue = prev.lastRun, prev.lastRun.Add(a.Interval)
		case prev != nil && prev.interval == a.Interval && prev.nextDue.After(now):
			st.nextDue = prev.nextDue
		default:
			st.nextDue = now.Add(a.Interval)
		}
		next[a.ID] = st
	}
	r.agents = next
}

func (r *Runner) scheduleLocked() {
	if r.stopT != nil {
		r.stopT()
		r.stopT = nil
	}
	if r.stopped || !r.started {
		return
	}
	now := r.d.Clock.Now()
	delay := recheck
	for _, a := range r.agents {
		delay = min(delay, max(0, a.nextDue.Sub(now)))
	}
	r.stopT = r.d.Clock.AfterFunc(delay, func() {
		r.mu.Lock()
		r.refreshLocked()
		due := false
		now := r.d.Clock.Now()
		for _, a := range r.agents {
			due = due || !now.Before(a.nextDue)
		}
		if !due {
			r.scheduleLocked()
		}
		r.mu.Unlock()
		if due {
			r.request("interval", 0)
		}
	})
}

// RequestNow asks for a heartbeat soon; requests within 250 ms coalesce
// into one.
func (r *Runner) RequestNow(reason string) { r.request(reason, coalesce) }

func (r *Runner) request(reason string, after time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		reason = "requested"
	}
	r.pending = reason
	if r.wakeT != nil || r.stopped {
		return
	}
	r.wakeT = r.d.Clock.AfterFunc(after, r.onWake)
}

func (r *Runner) onWake() {
	r.mu.Lock()
	r.wakeT = nil
	if r.running || r.stopped {
		if !r.stopped {
			r.wakeT = r.d.Clock.AfterFunc(coalesce, r.onWake)
		}
		r.mu.Unlock()
		return
	}
	reason := r.pending
	r.pending = ""
	r.running = true
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()
	res := r.RunOnce(r.ctx, reason)
	r.mu.Lock()
	r.running = false
	if res.Status == "skipped" && res.Reason == "requests-in-flight" && r.pending == "" {
		r.pending = reason
		if r.wakeT == nil && !r.stopped {
			r.wakeT = r.d.Clock.AfterFunc(retry, r.onWake)
		}
	} else if r.pending != "" && r.wakeT == nil && !r.stopped {
		r.wakeT = r.d.Clock.AfterFunc(coalesce, r.onWake)
	}
	r.mu.Unlock()
}

// RunOnce runs a heartbeat for every heartbeat agent (for reason
// "interval" only the due ones) and reports ran if any turn ran.
func (r *Runner) RunOnce(ctx context.Context, reason string) Result {
	if !r.enabled.Load() {
		return Result{"skipped", "disabled"}
	}
	r.mu.Lock()
	r.refreshLocked()
	now := r.d.Clock.Now()
	var ids []string
	for _, id := range AgentIDs(r.d.Config()) {
		if a := r.agents[id]; a != nil && (reason != "interval" || !now.Before(a.nextDue)) {
			ids = append(ids, id)
		}
	}
	empty := len(r.agents) == 0
	r.mu.Unlock()
	if empty {
		return Result{"skipped", "disabled"}
	}
	ran := false
	for _, id := range ids {
		res := r.runAgent(ctx, id, reason)
		if res.Status == "skipped" && res.Reason == "requests-in-flight" {
			return res
		}
		r.mu.Lock()
		if a := r.agents[id]; a != nil && !(res.Status == "skipped" && res.Reason == "disabled") {
			a.lastRun, a.nextDue = now, now.Add(a.interval)
		}
		r.mu.Unlock()
		ran = ran || res.Status == "ran"
	}
	r.mu.Lock()
	r.scheduleLocked()
	r.mu.Unlock()
	if ran {
		return Result{Status: "ran"}
	}
	if reason == "interval" {
		return Result{"skipped", "not-due"}
	}
	return Result{"skipped", "disabled"}
}

func (r *Runner) emit(e wire.HeartbeatEvent) {
	e.TS = r.d.Clock.Now().UnixMilli()
	r.last.Store(&e)
	if r.d.Broadcast != nil {
		r.d.Broadcast.Broadcast(wire.EventHeartbeat, e, rpc.Delivery{DropIfSlow: true})
	}
}

func durSince(c Clock, t time.Time) *int64 {
	ms := c.Now().Sub(t).Milliseconds()
	return &ms
}

func preview(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200])
	}
	return s
}

// runAgent is the original's runHeartbeatOnce for one agent. There are no
// messaging channels in this gateway, so a reply that is not an ack is
// not delivered: the event says skipped with reason "no-target" (or
// "target-none" for target "none") and the reply stays in the session's
// transcript, where the Control UI shows it.
func (r *Runner) runAgent(ctx context.Context, agentID, reason string) Result {
	doc := r.d.Config()
	if !Enabled(doc, agentID) {
		return Result{"skipped", "disabled"}
	}
	s := Resolve(doc, agentID)
	if s.Interval() == 0 {
		return Result{"skipped", "disabled"}
	}
	start := r.d.Clock.Now()
	userTZ := str(obj(obj(doc, "agents"), "defaults"), "userTimezone")
	if !s.InActiveHours(start, userTZ) {
		return Result{"skipped", "quiet-hours"}
	}
	if r.d.Turns == nil {
		err := errors.New("agent runtime unavailable: heartbeats need the agent runner")
		r.emit(wire.HeartbeatEvent{Status: "failed", Reason: err.Error(), DurationMs: durSince(r.d.Clock, start), IndicatorType: "error"})
		return Result{"failed", err.Error()}
	}
	if r.d.Turns.Busy() {
		return Result{"skipped", "requests-in-flight"}
	}
	if r.d.Workspace != nil {
		if b, err := os.ReadFile(filepath.Join(r.d.Workspace(agentID), "HEARTBEAT.md")); err == nil && ContentEmpty(string(b)) && reason != "exec-event" {
			r.emit(wire.HeartbeatEvent{Status: "skipped", Reason: "empty-heartbeat-file", DurationMs: durSince(r.d.Clock, start)})
			return Result{"skipped", "empty-heartbeat-file"}
		}
	}
	msg := s.Prompt
	if r.d.Events != nil {
		if lines := r.d.Events.Drain(agentID); len(lines) > 0 {
			var b strings.Builder
			for _, l := range lines {
				b.WriteString("System: " + l + "\n")
			}
			msg = b.String() + "\n" + msg
		}
	}
	rep, err := r.d.Turns.RunHeartbeat(ctx, Turn{AgentID: agentID, Session: s.Session, Message: msg, Model: s.Model})
	if err != nil {
		r.emit(wire.HeartbeatEvent{Status: "failed", Reason: err.Error(), DurationMs: durSince(r.d.Clock, start), IndicatorType: "error"})
		r.d.Log.Error("heartbeat failed", "agentId", agentID, "err", err)
		return Result{"failed", err.Error()}
	}
	silent := true
	text := ""
	for i := len(rep.Texts) - 1; i >= 0; i-- {
		if t := strings.TrimSpace(rep.Texts[i]); t != "" {
			text = rep.Texts[i]
			break
		}
	}
	if text == "" && !rep.HasMedia {
		r.emit(wire.HeartbeatEvent{Status: "ok-empty", Reason: reason, DurationMs: durSince(r.d.Clock, start), Silent: &silent, IndicatorType: "ok"})
		return Result{Status: "ran"}
	}
	st := StripToken(text, s.AckMaxChars)
	if st.Skip && !rep.HasMedia {
		r.emit(wire.HeartbeatEvent{Status: "ok-token", Reason: reason, DurationMs: durSince(r.d.Clock, start), Silent: &silent, IndicatorType: "ok"})
		return Result{Status: "ran"}
	}
	why := "no-target"
	if strings.TrimSpace(s.Target) == "none" {
		why = "target-none"
	}
	media := rep.HasMedia
	r.emit(wire.HeartbeatEvent{Status: "skipped", Reason: why, Preview: preview(st.Text), DurationMs: durSince(r.d.Clock, start), HasMedia: &media})
	r.d.Log.Info("heartbeat reply not delivered: no delivery target available (no messaging channels)", "agentId", agentID)
	return Result{Status: "ran"}
}
