package cron

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// waitFor polls cond for up to 5 s (no sleeps as assertions).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type recorder struct {
	mu     sync.Mutex
	events []wire.CronEvent
	queued []string
}

func (r *recorder) Broadcast(event string, payload any, _ rpc.Delivery) {
	if e, ok := payload.(wire.CronEvent); ok {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
}

func (r *recorder) Enqueue(_, text string) {
	r.mu.Lock()
	r.queued = append(r.queued, text)
	r.mu.Unlock()
}

func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Action)
	}
	return out
}

// fakeAgent is a fake agent runner (the real one needs a model upstream):
// it blocks each turn until released and counts turns at once.
type fakeAgent struct {
	running, peak atomic.Int32
	release       chan struct{}
	err           error
	reply         string
}

func (a *fakeAgent) RunIsolated(ctx context.Context, r IsolatedRun) (TurnResult, error) {
	n := a.running.Add(1)
	for {
		p := a.peak.Load()
		if n <= p || a.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer a.running.Add(-1)
	if a.release != nil {
		select {
		case <-a.release:
		case <-ctx.Done():
			return TurnResult{}, ctx.Err()
		}
	}
	if a.err != nil {
		return TurnResult{}, a.err
	}
	return TurnResult{Texts: []string{a.reply}}, nil
}

func newService(t *testing.T, clk *fakeClock, agent AgentTurns, maxRuns int) (*Service, *recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cron", "jobs.json")
	rec := &recorder{}
	s := New(Deps{StorePath: path, Clock: clk, Agent: agent, Events: rec, Broadcast: rec,
		Config: func() Config { return Config{Enabled: true, MaxConcurrentRuns: maxRuns} }})
	t.Cleanup(s.Stop)
	return s, rec, path
}

func mustAdd(t *testing.T, s *Service, raw string) wire.CronJob {
	t.Helper()
	in, err := DecodeAdd(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("DecodeAdd(%s): %v", raw, err)
	}
	j, err := s.Add(in)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return j
}

func TestNextRunAcrossDST(t *testing.T) {
	vienna, _ := time.LoadLocation("Europe/Vienna")
	ny, _ := time.LoadLocation("America/New_York")
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	tests := []struct {
		name string
		s    wire.CronSchedule
		now  time.Time
		want time.Time
	}{
		{"daily 09:00 across spring forward keeps local time", wire.CronSchedule{Kind: "cron", Expr: "0 9 * * *", TZ: "Europe/Vienna"},
			time.Date(2026, 3, 28, 10, 0, 0, 0, vienna), time.Date(2026, 3, 29, 9, 0, 0, 0, vienna)},
		{"daily 09:00 across fall back keeps local time", wire.CronSchedule{Kind: "cron", Expr: "0 9 * * *", TZ: "Europe/Vienna"},
			time.Date(2026, 10, 24, 10, 0, 0, 0, vienna), time.Date(2026, 10, 25, 9, 0, 0, 0, vienna)},
		// 02:30 does not exist on 8 March in New York: robfig skips that
		// day rather than running at 03:30; a library change is seen here.
		{"02:30 in the spring gap is skipped that day", wire.CronSchedule{Kind: "cron", Expr: "30 2 * * *", TZ: "America/New_York"},
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 30, 0, 0, ny)},
		{"six fields with seconds", wire.CronSchedule{Kind: "cron", Expr: "15 0 12 * * *", TZ: "UTC"},
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 12, 0, 15, 0, time.UTC)},
		{"every unanchored is now+every", wire.CronSchedule{Kind: "every", EveryMs: ptr(int64(60000))},
			time.UnixMilli(1000), time.UnixMilli(61000)},
		{"every anchored keeps its phase", wire.CronSchedule{Kind: "every", EveryMs: ptr(int64(60000)), AnchorMs: ptr(int64(0))},
			time.UnixMilli(90000), time.UnixMilli(120000)},
		{"at in the future", wire.CronSchedule{Kind: "at", AtMs: ptr(int64(5000))}, time.UnixMilli(1000), time.UnixMilli(5000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NextRunAt(tc.s, ms(tc.now))
			if got == nil || *got != ms(tc.want) {
				t.Fatalf("NextRunAt = %v, want %v (%s)", got, ms(tc.want), tc.want)
			}
		})
	}
	if got := NextRunAt(wire.CronSchedule{Kind: "at", AtMs: ptr(int64(5))}, 10); got != nil {
		t.Fatalf("past at = %v, want nil", *got)
	}
	if err := ValidateSchedule(wire.CronSchedule{Kind: "cron", Expr: "0 9 * * *", TZ: "Mars/Olympus"}); err == nil {
		t.Fatal("bad tz accepted")
	}
	if err := ValidateSchedule(wire.CronSchedule{Kind: "cron", Expr: "61 * * * *"}); err == nil {
		t.Fatal("bad expr accepted")
	}
}

func TestOneShotDeletedAfterRunAndDisabledOtherwise(t *testing.T) {
	clk := newFakeClock(time.UnixMilli(1_000_000))
	s, rec, path := newService(t, clk, &fakeAgent{}, 1)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	del := mustAdd(t, s, `{"name":"del","schedule":{"kind":"at","atMs":1060000},"payload":{"kind":"systemEvent","text":"ping"},"deleteAfterRun":true}`)
	keep := mustAdd(t, s, `{"name":"keep","schedule":{"at":"1970-01-01T00:17:40Z"},"payload":{"kind":"systemEvent","text":"pong"}}`)
	if keep.Schedule.Kind != "at" || *keep.Schedule.AtMs != 1_060_000 || keep.SessionTarget != "main" || keep.WakeMode != "next-heartbeat" {
		t.Fatalf("normalised job = %+v", keep)
	}
	clk.Advance(60 * time.Second)
	waitFor(t, "both one-shots finished", func() bool {
		jobs, _ := s.List(true)
		return len(jobs) == 1 && !jobs[0].Enabled && jobs[0].State.LastStatus == "ok"
	})
	jobs, _ := s.List(true)
	if jobs[0].ID != keep.ID || jobs[0].State.NextRunAtMs != nil {
		t.Fatalf("left = %+v", jobs[0])
	}
	st, _, err := LoadStore(path)
	if err != nil || len(st.Jobs) != 1 || st.Jobs[0].ID != keep.ID {
		t.Fatalf("file = %+v, %v", st, err)
	}
	waitFor(t, "removed event", func() bool {
		for _, a := range rec.actions() {
			if a == "removed" {
				return true
			}
		}
		return false
	})
	if e := ReadRunLog(RunLogPath(path, del.ID), del.ID, 0); len(e) != 1 || e[0].Status != "ok" {
		t.Fatalf("run log of deleted job = %+v", e)
	}
	rec.mu.Lock()
	q := rec.queued
	rec.mu.Unlock()
	if len(q) != 2 {
		t.Fatalf("queued system events = %q", q)
	}
}

func TestConcurrencyCap(t *testing.T) {
	clk := newFakeClock(time.UnixMilli(0))
	agent := &fakeAgent{release: make(chan struct{}), reply: "done"}
	s, _, _ := newService(t, clk, agent, 2)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		mustAdd(t, s, `{"name":"`+n+`","schedule":{"kind":"every","everyMs":1000,"anchorMs":0},"payload":{"kind":"agentTurn","message":"hi"}}`)
	}
	clk.Advance(time.Second)
	waitFor(t, "two turns running", func() bool { return agent.running.Load() == 2 })
	agent.release <- struct{}{}
	waitFor(t, "third turn started", func() bool {
		jobs, _ := s.List(true)
		done := 0
		for _, j := range jobs {
			if j.State.LastStatus == "ok" {
				done++
			}
		}
		return done == 1 && agent.running.Load() == 2
	})
	close(agent.release)
	waitFor(t, "all finished", func() bool {
		jobs, _ := s.List(true)
		for _, j := range jobs {
			if j.State.LastStatus != "ok" {
				return false
			}
		}
		return true
	})
	if p := agent.peak.Load(); p != 2 {
		t.Fatalf("peak concurrent runs = %d, want 2 (cron.maxConcurrentRuns)", p)
	}
}

func TestFailingRunRecorded(t *testing.T) {
	clk := newFakeClock(time.UnixMilli(0))
	s, rec, path := newService(t, clk, &fakeAgent{err: errors.New("model exploded")}, 1)
	j := mustAdd(t, s, `{"name":"f","schedule":{"kind":"every","everyMs":60000},"payload":{"kind":"agentTurn","message":"hi"}}`)
	r, err := s.Run(j.ID, "force")
	if err != nil || !r.Ran {
		t.Fatalf("Run = %+v, %v", r, err)
	}
	jobs, _ := s.List(true)
	if st := jobs[0].State; st.LastStatus != "error" || st.LastError != "model exploded" || !jobs[0].Enabled || st.NextRunAtMs == nil {
		t.Fatalf("state = %+v", st)
	}
	e := ReadRunLog(RunLogPath(path, j.ID), j.ID, 0)
	if len(e) != 1 || e[0].Status != "error" || e[0].Error != "model exploded" {
		t.Fatalf("run log = %+v", e)
	}
	rec.mu.Lock()
	q := rec.queued
	rec.mu.Unlock()
	if len(q) != 1 || q[0] != "Cron (error): model exploded" {
		t.Fatalf("posted to main = %q", q)
	}
	if r, _ := s.Run(j.ID, "due"); r.Ran || r.Reason != "not-due" {
		t.Fatalf("due run of a not-due job = %+v", r)
	}
}

func TestDeliveryIsAnHonestError(t *testing.T) {
	clk := newFakeClock(time.UnixMilli(0))
	s, _, path := newService(t, clk, &fakeAgent{reply: "the news"}, 1)
	j := mustAdd(t, s, `{"name":"d","schedule":{"kind":"every","everyMs":60000},"payload":{"kind":"agentTurn","message":"hi","deliver":true,"channel":"telegram","to":"123"}}`)
	_, _ = s.Run(j.ID, "force")
	e := ReadRunLog(RunLogPath(path, j.ID), j.ID, 0)
	if len(e) != 1 || e[0].Status != "error" || e[0].Error == "" || e[0].Summary != "the news" {
		t.Fatalf("run log = %+v", e)
	}
	ack := mustAdd(t, s, `{"name":"ack","schedule":{"kind":"every","everyMs":60000},"payload":{"kind":"agentTurn","message":"hi","to":"123"}}`)
	s.d.Agent = &fakeAgent{reply: "HEARTBEAT_OK"}
	_, _ = s.Run(ack.ID, "force")
	if e := ReadRunLog(RunLogPath(path, ack.ID), ack.ID, 0); len(e) != 1 || e[0].Status != "ok" {
		t.Fatalf("ack-only reply should need no delivery: %+v", e)
	}
}

func TestMissedRunsAfterDowntime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.json")
	at, every := int64(1000), int64(60000)
	st := wire.CronStore{Version: 1, Jobs: []wire.CronJob{
		{ID: "once", Name: "once", Enabled: true, Schedule: wire.CronSchedule{Kind: "at", AtMs: &at}, SessionTarget: "main", WakeMode: "now",
			Payload: wire.CronPayload{Kind: "systemEvent", Text: "x"}, State: wire.CronJobState{NextRunAtMs: &at}},
		{ID: "rec", Name: "rec", Enabled: true, Schedule: wire.CronSchedule{Kind: "every", EveryMs: &every}, SessionTarget: "main", WakeMode: "now",
			Payload: wire.CronPayload{Kind: "systemEvent", Text: "y"}, State: wire.CronJobState{NextRunAtMs: &at}},
	}}
	if err := SaveStore(path, st); err != nil {
		t.Fatal(err)
	}
	now := int64(10 * 60000)
	clk := newFakeClock(time.UnixMilli(now))
	s := New(Deps{StorePath: path, Clock: clk})
	defer s.Stop()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	jobs, _ := s.List(true)
	for _, j := range jobs {
		switch j.ID {
		case "once":
			if *j.State.NextRunAtMs != at {
				t.Errorf("missed one-shot next = %d, want %d (due at once)", *j.State.NextRunAtMs, at)
			}
		case "rec":
			if *j.State.NextRunAtMs != now+every {
				t.Errorf("missed recurring next = %d, want %d (no catch-up)", *j.State.NextRunAtMs, now+every)
			}
		}
	}
}

func TestRemoveAndUpdate(t *testing.T) {
	clk := newFakeClock(time.UnixMilli(0))
	s, _, _ := newService(t, clk, &fakeAgent{}, 1)
	j := mustAdd(t, s, `{"name":"u","schedule":{"kind":"every","everyMs":60000},"payload":{"kind":"agentTurn","message":"hi","model":"m"}}`)
	p, err := DecodePatch(json.RawMessage(`{"enabled":false,"payload":{"kind":"agentTurn","message":"new"}}`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Update(j.ID, p)
	if err != nil || u.Enabled || u.Payload.Message != "new" || u.Payload.Model != "m" || u.State.NextRunAtMs != nil {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	if _, err := DecodePatch(json.RawMessage(`{"payload":{"kind":"systemEvent"}}`)); err != nil {
		t.Fatal(err)
	}
	if p2, _ := DecodePatch(json.RawMessage(`{"payload":{"kind":"systemEvent"}}`)); true {
		if _, err := s.Update(j.ID, p2); err == nil {
			t.Fatal("kind change without text accepted")
		}
	}
	if _, err := s.Update("nope", Patch{}); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("unknown id: %v", err)
	}
	if r, _ := s.Remove(j.ID); !r.Removed {
		t.Fatal("not removed")
	}
	if r, _ := s.Remove(j.ID); r.Removed || !r.OK {
		t.Fatalf("second remove = %+v", r)
	}
	for _, bad := range []string{`{"schedule":{"kind":"every","everyMs":1},"payload":{"kind":"systemEvent","text":"x"}}`,
		`{"name":"x","schedule":{"kind":"every","everyMs":1},"payload":{"kind":"systemEvent","text":"x"},"extra":1}`,
		`{"name":"x","schedule":{"kind":"cron","expr":"nope"},"payload":{"kind":"systemEvent","text":"x"}}`} {
		if _, err := DecodeAdd(json.RawMessage(bad)); err == nil {
			t.Errorf("DecodeAdd(%s) accepted", bad)
		}
	}
	in, _ := DecodeAdd(json.RawMessage(`{"name":"x","sessionTarget":"main","schedule":{"kind":"every","everyMs":1},"payload":{"kind":"agentTurn","message":"x"}}`))
	if _, err := s.Add(in); err == nil {
		t.Fatal("main + agentTurn accepted")
	}
}

func TestOriginalStoreRead(t *testing.T) {
	st, changed, err := LoadStore(filepath.Join("testdata", "original-jobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Jobs) != 3 || !changed {
		t.Fatalf("jobs = %d, changed = %v", len(st.Jobs), changed)
	}
	j := st.Jobs[0]
	if j.Schedule.Kind != "cron" || j.Schedule.Expr != "0 7 * * *" || j.Schedule.TZ != "Europe/Vienna" || j.Payload.Kind != "agentTurn" ||
		j.Payload.Channel != "telegram" || j.Isolation == nil || j.Isolation.PostToMainMode != "full" {
		t.Fatalf("job 0 = %+v", j)
	}
	if st.Jobs[2].Name != "Water the plants" {
		t.Fatalf("inferred name = %q", st.Jobs[2].Name)
	}
	// A broken file is never treated as empty (and then overwritten).
	bad := filepath.Join(t.TempDir(), "jobs.json")
	_ = os.WriteFile(bad, []byte("{jobs: [ oops"), 0o600)
	s := New(Deps{StorePath: bad, Clock: newFakeClock(time.Unix(0, 0))})
	defer s.Stop()
	if err := s.Start(); err == nil {
		t.Fatal("broken store accepted")
	}
	if b, _ := os.ReadFile(bad); string(b) != "{jobs: [ oops" {
		t.Fatal("broken store rewritten")
	}
}
