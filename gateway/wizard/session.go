// Package wizard is the onboarding flow over RPC (wizard.start, next,
// cancel, status): what `clawdbot setup` does in the terminal — workspace,
// model provider and its key, the gateway token, channels — as a series of
// steps a client renders (the original's step shapes: note, select, text,
// confirm, multiselect), so the macOS app and the UIs can drive it. One
// wizard runs at a time per gateway.
package wizard

import (
	"context"
	"errors"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Session statuses (the original's).
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
	StatusError     = "error"
)

// errCancelled ends a flow whose session was cancelled.
var errCancelled = errors.New("cancelled")

// Session is one running flow: the flow goroutine blocks in prompt until
// the client answers the current step; next waits for the flow's next
// step or its end.
type Session struct {
	mu      sync.Mutex
	status  string
	err     string
	current *wire.WizardStep
	pending map[string]chan any
	wake    chan struct{} // closed (and replaced) on every change
	ctx     context.Context
	cancel  context.CancelFunc
}

// Flow is the body of a wizard; it asks through p and returns when done.
type Flow func(ctx context.Context, p *Prompter) error

// newSession starts flow on its own goroutine.
func newSession(flow Flow) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{status: StatusRunning, pending: map[string]chan any{}, wake: make(chan struct{}), ctx: ctx, cancel: cancel}
	go s.run(flow)
	return s
}

func (s *Session) run(flow Flow) {
	err := flow(s.ctx, &Prompter{s: s})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == StatusRunning {
		switch {
		case err == nil:
			s.status = StatusDone
		case errors.Is(err, errCancelled):
			s.status, s.err = StatusCancelled, err.Error()
		default:
			s.status, s.err = StatusError, err.Error()
		}
	}
	s.current = nil
	s.cancel()
	s.notifyLocked()
}

func (s *Session) notifyLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// next is the current step, or waits for the next one or the end.
func (s *Session) next() wire.WizardNextResult {
	for {
		s.mu.Lock()
		if s.current != nil {
			step := *s.current
			s.mu.Unlock()
			return wire.WizardNextResult{Done: false, Step: &step, Status: StatusRunning}
		}
		if s.status != StatusRunning {
			res := wire.WizardNextResult{Done: true, Status: s.status, Error: s.err}
			s.mu.Unlock()
			return res
		}
		wake := s.wake
		s.mu.Unlock()
		<-wake // every change of step or status closes it
	}
}

// answer resolves the pending step stepID with value.
func (s *Session) answer(stepID string, value any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.pending[stepID]
	if ch == nil {
		return errors.New("wizard: no pending step")
	}
	delete(s.pending, stepID)
	s.current = nil
	ch <- value
	return nil
}

// Cancel stops the flow: its pending prompt fails and it ends cancelled.
func (s *Session) Cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != StatusRunning {
		return
	}
	s.status, s.err, s.current = StatusCancelled, "cancelled", nil
	s.cancel()
	s.notifyLocked()
}

// Status is the session's status and error ("" when none).
func (s *Session) Status() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.err
}

// prompt shows step and waits for its answer.
func (s *Session) prompt(step wire.WizardStep) (any, error) {
	s.mu.Lock()
	if s.status != StatusRunning {
		s.mu.Unlock()
		return nil, errCancelled
	}
	step.ID = rpc.NewID()
	step.Executor = "client"
	ch := make(chan any, 1)
	s.pending[step.ID] = ch
	s.current = &step
	s.notifyLocked()
	s.mu.Unlock()
	select {
	case v := <-ch:
		return v, nil
	case <-s.ctx.Done():
		return nil, errCancelled
	}
}

// Prompter is how a flow asks (the original's WizardPrompter).
type Prompter struct{ s *Session }

// Option is one choice of a select or multiselect step.
type Option = wire.WizardStepOption

// Note shows a message the client acknowledges.
func (p *Prompter) Note(title, message string) error {
	_, err := p.s.prompt(wire.WizardStep{Type: "note", Title: title, Message: message})
	return err
}

// Select asks for one of options; the answer is the chosen option's value.
func (p *Prompter) Select(message string, options []Option, initial any) (any, error) {
	return p.s.prompt(wire.WizardStep{Type: "select", Message: message, Options: options, InitialValue: initial})
}

// MultiSelect asks for any of options.
func (p *Prompter) MultiSelect(message string, options []Option, initial []any) ([]any, error) {
	v, err := p.s.prompt(wire.WizardStep{Type: "multiselect", Message: message, Options: options, InitialValue: initial})
	list, _ := v.([]any)
	if list == nil {
		list = []any{}
	}
	return list, err
}

// Confirm asks yes or no.
func (p *Prompter) Confirm(message string, initial bool) (bool, error) {
	v, err := p.s.prompt(wire.WizardStep{Type: "confirm", Message: message, InitialValue: initial})
	b, _ := v.(bool)
	return b, err
}

// Text asks for a string. validate, when set, returns a problem with the
// answer; the step is then asked again with the problem in front (the
// original ends the whole wizard with an error instead).
func (p *Prompter) Text(message, initial, placeholder string, sensitive bool, validate func(string) string) (string, error) {
	msg := message
	for {
		step := wire.WizardStep{Type: "text", Message: msg, Placeholder: placeholder, Sensitive: sensitive}
		if initial != "" {
			step.InitialValue = initial
		}
		v, err := p.s.prompt(step)
		if err != nil {
			return "", err
		}
		var str string
		switch x := v.(type) {
		case string:
			str = x
		case float64, bool:
			str = fmtScalar(x)
		}
		if validate == nil {
			return str, nil
		}
		problem := validate(str)
		if problem == "" {
			return str, nil
		}
		msg = problem + "\n" + message
	}
}
