// Package cron is the gateway's scheduler of jobs (the original's
// dist/cron): jobs stored in <state>/cron/jobs.json in the original's
// shape (atomic writes), schedules "at" (once), "every" (interval) and
// "cron" (an expression in a time zone, parsed by robfig/cron), payloads
// "systemEvent" (queued for the main session, optionally waking the
// heartbeat) and "agentTurn" (an isolated agent turn, optionally
// delivered), a run log per job, the cron event, and the methods cron.*,
// wake, last-heartbeat and set-heartbeats (the heartbeat runner is the
// subpackage heartbeat).
//
// It is a feature package: the agent turns, the system-event queue and
// the heartbeat come through Deps as small interfaces the core adapts.
//
// Missed runs after downtime are handled as the original does: at start
// every job's next run is recomputed from now, so a recurring job ("every"
// without an anchor, "cron") that missed runs while the gateway was down
// does not catch up, it runs at its next slot; an anchored "every" job
// keeps its phase; a one-shot "at" job whose time passed and that never
// ran successfully runs once, right after start.
package cron

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// stuckRunMs: a runningAtMs older than this at start is a crashed run's
// marker and is cleared (the original's 2 h).
const stuckRunMs = 2 * 60 * 60 * 1000

// maxTimer caps a timer's delay, as the original caps setTimeout.
const maxTimer = time.Duration(1<<31-1) * time.Millisecond

// Clock is the scheduler's time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; the result stops it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// IsolatedRun is one agentTurn job to run in its own session.
type IsolatedRun struct {
	Job wire.CronJob
	// AgentID is the job's agent ("" : the default agent).
	AgentID string
	// SessionKey is the job's session key before agent scoping
	// ("cron:<jobId>"); the runner makes it agent:<id>:cron:<jobId>.
	SessionKey string
	// Message is what the model sees: "[cron:<id> <name>] <message>" and
	// the current time.
	Message string
	// Lane is the agent lane ("cron": cron.maxConcurrentRuns turns at once).
	Lane string
	// Timeout is payload.timeoutSeconds (0: the agent's default).
	Timeout time.Duration
	// Thinking and Model are the payload's overrides ("" : none).
	Thinking, Model string
}

// TurnResult is what an agent turn replied.
type TurnResult struct {
	// Texts are the reply payloads' texts, in order.
	Texts []string
	// HasMedia reports a payload with media.
	HasMedia bool
}

// AgentTurns runs isolated agent turns (the core adapts the agent runner).
type AgentTurns interface {
	RunIsolated(ctx context.Context, r IsolatedRun) (TurnResult, error)
}

// HeartbeatResult is how one heartbeat pass went.
type HeartbeatResult struct {
	// Status is ran, skipped or failed.
	Status string
	Reason string
}

// Heartbeat is the heartbeat runner as cron uses it.
type Heartbeat interface {
	// RequestNow asks for a heartbeat soon (coalesced).
	RequestNow(reason string)
	// RunOnce runs a heartbeat now and reports how it went.
	RunOnce(ctx context.Context, reason string) HeartbeatResult
}

// SystemEvents is the main sessions' queue of system events.
type SystemEvents interface {
	// Enqueue queues text for agentID's main session ("" : default agent).
	Enqueue(agentID, text string)
}

// Config is what cron reads from clawdbot.json.
type Config struct {
	// Enabled is cron.enabled (default true) and not CLAWDBOT_SKIP_CRON=1.
	Enabled bool
	// MaxConcurrentRuns is cron.maxConcurrentRuns (default 1).
	MaxConcurrentRuns int
	// Store is cron.store ("" : <state>/cron/jobs.json).
	Store string
}

// Deps are what the service needs.
type Deps struct {
	// StorePath is the jobs file (StorePath).
	StorePath string
	// Config returns the current settings (nil: enabled, one run at once).
	Config func() Config
	Clock  Clock
	Agent  AgentTurns
	// Heartbeat is nil when no heartbeat runner is wired.
	Heartbeat Heartbeat
	Events    SystemEvents
	Broadcast rpc.Broadcaster
	Log       *slog.Logger
	// NoDelivery is the honest reason delivery cannot happen (there are no
	// messaging channels in this gateway).
	NoDelivery string
}

// Service is the scheduler: process-wide, one per jobs file.
type Service struct {
	d Deps

	mu       sync.Mutex
	loaded   bool
	loadErr  error
	store    wire.CronStore
	stopT    func() bool
	started  bool
	stopped  bool
	inflight map[string]bool // job ids running now
	sem      chan struct{}   // sized on first use; see slots
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// New returns a service; Start begins scheduling.
func New(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = realClock{}
	}
	if d.Config == nil {
		d.Config = func() Config { return Config{Enabled: true, MaxConcurrentRuns: 1} }
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.NoDelivery == "" {
		d.NoDelivery = "no delivery target available: this gateway has no messaging channels"
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{d: d, inflight: map[string]bool{}, ctx: ctx, cancel: cancel}
}

func (s *Service) nowMs() int64 { return s.d.Clock.Now().UnixMilli() }

// StorePath is the jobs file.
func (s *Service) StorePath() string { return s.d.StorePath }

// Enabled reports whether the scheduler runs jobs by itself.
func (s *Service) Enabled() bool { return s.d.Config().Enabled }

// ensureLoaded reads the store once (s.mu held).
func (s *Service) ensureLoaded() error {
	if s.loaded {
		return s.loadErr
	}
	st, changed, err := LoadStore(s.d.StorePath)
	s.loaded, s.loadErr = true, err
	if err != nil {
		s.d.Log.Error("cron: store unreadable", "path", s.d.StorePath, "err", err)
		return err
	}
	s.store = st
	if changed {
		if err := SaveStore(s.d.StorePath, s.store); err != nil {
			s.d.Log.Warn("cron: persist migrated store", "err", err)
		}
	}
	return nil
}

// persist writes the store (s.mu held).
func (s *Service) persist() error {
	if err := SaveStore(s.d.StorePath, s.store); err != nil {
		s.d.Log.Error("cron: save store", "path", s.d.StorePath, "err", err)
		return fmt.Errorf("cron: saving %s failed: %v", s.d.StorePath, err)
	}
	return nil
}

// Start loads the jobs, recomputes every next run from now (see the
// package doc on missed runs), persists and arms the timer. With cron
// disabled it only logs so.
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.d.Config().Enabled {
		s.d.Log.Info("cron: disabled")
		return nil
	}
	if err := s.ensureLoaded(); err != nil {
		return err
	}
	s.started = true
	s.recomputeAll()
	err := s.persist()
	s.armLocked()
	s.d.Log.Info("cron: started", "jobs", len(s.store.Jobs))
	return err
}

// Stop disarms the timer and cancels runs in flight, then waits for them.
func (s *Service) Stop() {
	s.mu.Lock()
	s.stopped = true
	if s.stopT != nil {
		s.stopT()
		s.stopT = nil
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// computeJobNext is the original's computeJobNextRunAtMs: an enabled
// one-shot stays due until it has run successfully.
func computeJobNext(j *wire.CronJob, nowMs int64) *int64 {
	if !j.Enabled {
		return nil
	}
	if j.Schedule.Kind == wire.CronAt {
		if j.State.LastStatus == wire.CronStatusOK && j.State.LastRunAtMs != nil {
			return nil
		}
		if j.Schedule.AtMs == nil {
			return nil
		}
		return ptr(*j.Schedule.AtMs)
	}
	return NextRunAt(j.Schedule, nowMs)
}

func (s *Service) recomputeAll() {
	now := s.nowMs()
	for i := range s.store.Jobs {
		j := &s.store.Jobs[i]
		if !j.Enabled {
			j.State.NextRunAtMs, j.State.RunningAtMs = nil, nil
			continue
		}
		if r := j.State.RunningAtMs; r != nil && now-*r > stuckRunMs {
			s.d.Log.Warn("cron: clearing stuck running marker", "jobId", j.ID)
			j.State.RunningAtMs = nil
		}
		j.State.NextRunAtMs = computeJobNext(j, now)
	}
}

// nextWake is the earliest next run of an enabled job not running now
// (s.mu held).
func (s *Service) nextWake() *int64 {
	var best *int64
	for i := range s.store.Jobs {
		j := &s.store.Jobs[i]
		if j.Enabled && !s.inflight[j.ID] && j.State.NextRunAtMs != nil && (best == nil || *j.State.NextRunAtMs < *best) {
			best = ptr(*j.State.NextRunAtMs)
		}
	}
	return best
}

// armLocked sets the timer to the next wake (s.mu held).
func (s *Service) armLocked() {
	if s.stopT != nil {
		s.stopT()
		s.stopT = nil
	}
	if !s.started || s.stopped || !s.d.Config().Enabled {
		return
	}
	next := s.nextWake()
	if next == nil {
		return
	}
	d := min(max(time.Duration(*next-s.nowMs())*time.Millisecond, 0), maxTimer)
	s.stopT = s.d.Clock.AfterFunc(d, s.onTimer)
}

// onTimer starts every due job that is not running yet; each run holds
// one of cron.maxConcurrentRuns slots, so at most that many run at once
// (with the default 1 they run one after another, as in the original).
func (s *Service) onTimer() {
	s.mu.Lock()
	if s.stopped || s.ensureLoaded() != nil {
		s.mu.Unlock()
		return
	}
	now := s.nowMs()
	var due []string
	for i := range s.store.Jobs {
		j := &s.store.Jobs[i]
		if j.Enabled && !s.inflight[j.ID] && j.State.RunningAtMs == nil && j.State.NextRunAtMs != nil && now >= *j.State.NextRunAtMs {
			due = append(due, j.ID)
			s.inflight[j.ID] = true // claimed: a later tick skips it
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runSlot(id, false)
		}()
	}
	if len(due) == 0 {
		s.mu.Lock()
		s.armLocked()
		s.mu.Unlock()
	}
}

// slots returns the semaphore of concurrent runs, resized when
// cron.maxConcurrentRuns changes (s.mu held).
func (s *Service) slots() chan struct{} {
	n := max(1, s.d.Config().MaxConcurrentRuns)
	if s.sem == nil || cap(s.sem) != n {
		s.sem = make(chan struct{}, n)
	}
	return s.sem
}

// runSlot waits for a run slot, then runs job id (already claimed in
// inflight).
func (s *Service) runSlot(id string, forced bool) {
	s.mu.Lock()
	sem := s.slots()
	s.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-s.ctx.Done():
		s.mu.Lock()
		delete(s.inflight, id)
		s.mu.Unlock()
		return
	}
	defer func() { <-sem }()
	s.execute(id, forced)
}

// outcome is how a job's payload ended.
type outcome struct {
	status, err, summary, output string
}

// execute runs one claimed job to its end: started event, the payload
// outside the lock, then the original's finish (state, one-shot disable or
// delete, next run, finished event, run log, post to main).
func (s *Service) execute(id string, forced bool) {
	s.mu.Lock()
	idx := s.indexOf(id)
	if idx < 0 {
		delete(s.inflight, id)
		s.mu.Unlock()
		return
	}
	j := &s.store.Jobs[idx]
	startedAt := s.nowMs()
	j.State.RunningAtMs = ptr(startedAt)
	j.State.LastError = ""
	job := *j
	s.emit(wire.CronEvent{JobID: id, Action: "started", RunAtMs: ptr(startedAt)})
	s.mu.Unlock()

	o := s.runPayload(job)

	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inflight, id)
	idx = s.indexOf(id)
	if idx < 0 { // removed while it ran
		s.armLocked()
		return
	}
	j = &s.store.Jobs[idx]
	endedAt := s.nowMs()
	j.State.RunningAtMs = nil
	j.State.LastRunAtMs = ptr(startedAt)
	j.State.LastStatus = o.status
	j.State.LastDurationMs = ptr(max(0, endedAt-startedAt))
	j.State.LastError = o.err
	j.UpdatedAtMs = startedAt
	del := j.Schedule.Kind == wire.CronAt && o.status == wire.CronStatusOK && j.DeleteAfterRun != nil && *j.DeleteAfterRun
	if !del {
		switch {
		case j.Schedule.Kind == wire.CronAt && o.status == wire.CronStatusOK:
			j.Enabled, j.State.NextRunAtMs = false, nil // a one-shot that ran is disabled
		case j.Enabled:
			j.State.NextRunAtMs = computeJobNext(j, endedAt)
		default:
			j.State.NextRunAtMs = nil
		}
	}
	fin := wire.CronEvent{JobID: id, Action: "finished", Status: o.status, Error: o.err, Summary: o.summary,
		RunAtMs: ptr(startedAt), DurationMs: j.State.LastDurationMs, NextRunAtMs: j.State.NextRunAtMs}
	target, agentID, iso, wake := j.SessionTarget, j.AgentID, j.Isolation, j.WakeMode
	if del {
		s.store.Jobs = slices.Delete(s.store.Jobs, idx, idx+1)
	}
	_ = s.persist()
	s.emit(fin)
	if err := AppendRunLog(RunLogPath(s.d.StorePath, id), wire.CronRunLogEntry{TS: s.nowMs(), JobID: id, Action: "finished",
		Status: fin.Status, Error: fin.Error, Summary: fin.Summary, RunAtMs: fin.RunAtMs, DurationMs: fin.DurationMs, NextRunAtMs: fin.NextRunAtMs}); err != nil {
		s.d.Log.Warn("cron: run log append failed", "jobId", id, "err", err)
	}
	if del {
		s.emit(wire.CronEvent{JobID: id, Action: "removed"})
	}
	if target == wire.CronTargetIsolated {
		s.postToMain(agentID, iso, wake, id, o)
	}
	s.armLocked()
}

// postToMain queues an isolated job's result for the main session
// ("Cron: <summary>", "Cron (error): …").
func (s *Service) postToMain(agentID string, iso *wire.CronIsolation, wake, id string, o outcome) {
	prefix, mode, maxChars := "Cron", "summary", int64(8000)
	if iso != nil {
		if p := strings.TrimSpace(iso.PostToMainPrefix); p != "" {
			prefix = p
		}
		if iso.PostToMainMode != "" {
			mode = iso.PostToMainMode
		}
		if iso.PostToMainMaxChars != nil {
			maxChars = max(0, *iso.PostToMainMaxChars)
		}
	}
	body := strings.TrimSpace(cmpOr(o.summary, cmpOr(o.err, o.status)))
	if mode == "full" {
		if full := strings.TrimSpace(o.output); full != "" {
			body = full
			if r := []rune(full); int64(len(r)) > maxChars {
				body = string(r[:maxChars]) + "…"
			}
		}
	}
	if o.status != wire.CronStatusOK {
		prefix += " (" + o.status + ")"
	}
	if s.d.Events != nil {
		s.d.Events.Enqueue(agentID, prefix+": "+body)
	}
	if wake == wire.WakeNow && s.d.Heartbeat != nil {
		s.d.Heartbeat.RequestNow("cron:" + id + ":post")
	}
}

func (s *Service) indexOf(id string) int {
	return slices.IndexFunc(s.store.Jobs, func(j wire.CronJob) bool { return j.ID == id })
}

func (s *Service) emit(e wire.CronEvent) {
	if s.d.Broadcast != nil {
		s.d.Broadcast.Broadcast(wire.EventCron, e, rpc.Delivery{DropIfSlow: true})
	}
}
