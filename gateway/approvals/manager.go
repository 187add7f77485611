package approvals

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// DefaultTimeout is how long a request waits for an operator (the
// original's 120 s); then it counts as no decision and askFallback applies.
const DefaultTimeout = 120 * time.Second

// ErrDuplicateID refuses a request whose explicit id is already pending.
var ErrDuplicateID = errors.New("approval id already pending")

// Record is one approval request.
type Record struct {
	ID          string
	Request     wire.ExecApprovalRequest
	CreatedAtMs int64
	ExpiresAtMs int64
}

type pending struct {
	rec Record
	ch  chan string
}

// Manager holds the pending approval requests of the process. A request
// is announced to operators (exec.approval.requested) and waits until one
// resolves it, its timeout passes, or its context ends.
type Manager struct {
	// Store is the policy file Check reads and allow-always extends.
	Store *Store
	bc    rpc.Broadcaster
	now   func() time.Time

	mu      sync.Mutex
	pending map[string]*pending
}

// NewManager returns a manager over store that announces requests and
// decisions through bc (nil: no events, for tests of the policy alone).
func NewManager(store *Store, bc rpc.Broadcaster, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{Store: store, bc: bc, now: now, pending: map[string]*pending{}}
}

// Pending lists the open requests, oldest first.
func (m *Manager) Pending() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.pending))
	for _, p := range m.pending {
		out = append(out, p.rec)
	}
	slices.SortFunc(out, func(a, b Record) int { return int(a.CreatedAtMs - b.CreatedAtMs) })
	return out
}

// Request announces req and waits for a decision. id "" gets a new one.
// decision is "" when the timeout passed; err is ErrDuplicateID or the
// context's error (the request is then withdrawn).
func (m *Manager) Request(ctx context.Context, id string, req wire.ExecApprovalRequest, timeout time.Duration) (Record, string, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	id = strings.TrimSpace(id)
	if id == "" {
		id = wire.NewID()
	}
	now := m.now()
	rec := Record{ID: id, Request: req, CreatedAtMs: now.UnixMilli(), ExpiresAtMs: now.Add(timeout).UnixMilli()}
	p := &pending{rec: rec, ch: make(chan string, 1)}
	m.mu.Lock()
	if _, dup := m.pending[id]; dup {
		m.mu.Unlock()
		return rec, "", ErrDuplicateID
	}
	m.pending[id] = p
	m.mu.Unlock()
	defer m.remove(id, p)
	if m.bc != nil {
		m.bc.Broadcast(wire.EventExecApprovalRequested, wire.ExecApprovalRequestedEvent{ID: id, Request: req,
			CreatedAtMs: rec.CreatedAtMs, ExpiresAtMs: rec.ExpiresAtMs}, rpc.Delivery{DropIfSlow: true})
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d := <-p.ch:
		return rec, d, nil
	case <-t.C:
		return rec, "", nil
	case <-ctx.Done():
		return rec, "", ctx.Err()
	}
}

func (m *Manager) remove(id string, p *pending) {
	m.mu.Lock()
	if m.pending[id] == p {
		delete(m.pending, id)
	}
	m.mu.Unlock()
}

// ValidDecision reports whether d is one of the three decisions.
func ValidDecision(d string) bool {
	return d == wire.DecisionAllowOnce || d == wire.DecisionAllowAlways || d == wire.DecisionDeny
}

// Resolve delivers decision to the pending request id and announces it
// (exec.approval.resolved); false when no such request is pending.
func (m *Manager) Resolve(id, decision, resolvedBy string) bool {
	m.mu.Lock()
	p, ok := m.pending[id]
	if ok {
		delete(m.pending, id)
	}
	m.mu.Unlock()
	if !ok {
		return false
	}
	p.ch <- decision
	if m.bc != nil {
		m.bc.Broadcast(wire.EventExecApprovalResolved, wire.ExecApprovalResolvedEvent{ID: id, Decision: decision,
			ResolvedBy: resolvedBy, Ts: m.now().UnixMilli()}, rpc.Delivery{DropIfSlow: true})
	}
	return true
}
