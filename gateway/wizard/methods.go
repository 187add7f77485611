package wizard

import (
	"fmt"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Sessions are the wizard sessions of the gateway process (they outlive
// runtime swaps, like the original's tracker).
type Sessions struct {
	mu   sync.Mutex
	byID map[string]*Session
}

// NewSessions returns an empty tracker.
func NewSessions() *Sessions { return &Sessions{byID: map[string]*Session{}} }

func (t *Sessions) get(id string) *Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

func (t *Sessions) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byID, id)
}

// Deps are what the wizard methods need.
type Deps struct {
	// Sessions is the process-wide tracker (NewSessions).
	Sessions *Sessions
	// Setup is what the onboarding flow reads and writes.
	Setup Setup
	// Flow overrides the onboarding flow (tests); nil: Onboarding.
	Flow func(Options) Flow
}

// Register adds wizard.start, wizard.next (both async: they wait for the
// flow's next step), wizard.cancel and wizard.status.
func Register(reg *rpc.Registry, d Deps) {
	reg.HandleAsync("wizard.start", d.start)
	reg.HandleAsync("wizard.next", d.next)
	reg.Handle("wizard.cancel", d.cancel)
	reg.Handle("wizard.status", d.status)
}

func (d Deps) start(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.WizardStartParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	opts := Options{Mode: p.Mode, Workspace: p.Workspace}
	flow := d.Flow
	if flow == nil {
		flow = func(o Options) Flow { return Onboarding(o, d.Setup) }
	}
	t := d.Sessions
	t.mu.Lock()
	for _, s := range t.byID {
		if st, _ := s.Status(); st == StatusRunning {
			t.mu.Unlock()
			return nil, rpc.Unavailable("wizard already running")
		}
	}
	id := rpc.NewID()
	s := newSession(flow(opts))
	t.byID[id] = s
	t.mu.Unlock()
	res := s.next()
	if res.Done {
		t.remove(id)
	}
	return wire.WizardStartResult{SessionID: id, WizardNextResult: res}, nil
}

func (d Deps) next(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.WizardNextParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	s := d.Sessions.get(p.SessionID)
	if s == nil {
		return nil, rpc.Invalid("wizard not found")
	}
	if p.Answer != nil {
		if st, _ := s.Status(); st != StatusRunning {
			return nil, rpc.Invalid("wizard not running")
		}
		if err := s.answer(p.Answer.StepID, p.Answer.Value); err != nil {
			return nil, rpc.Invalid(err.Error())
		}
	}
	res := s.next()
	if res.Done {
		d.Sessions.remove(p.SessionID)
	}
	return res, nil
}

func (d Deps) cancel(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.WizardSessionParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	s := d.Sessions.get(p.SessionID)
	if s == nil {
		return nil, rpc.Invalid("wizard not found")
	}
	s.Cancel()
	st, err := s.Status()
	d.Sessions.remove(p.SessionID)
	return wire.WizardStatusResult{Status: st, Error: err}, nil
}

func (d Deps) status(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.WizardSessionParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	s := d.Sessions.get(p.SessionID)
	if s == nil {
		return nil, rpc.Invalid("wizard not found")
	}
	st, err := s.Status()
	if st != StatusRunning {
		d.Sessions.remove(p.SessionID)
	}
	return wire.WizardStatusResult{Status: st, Error: err}, nil
}

func fmtScalar(v any) string { return fmt.Sprint(v) }
