package gateway

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// broadcast sends one event to every ready client that filter accepts (nil:
// all). The seq is assigned and the frame queued under one lock, so every
// client sees seqs in increasing order; queuing never blocks (slow clients
// are skipped or cut off in enqueue).
func (s *Server) broadcast(event string, payload any, filter func(*conn) bool, dropIfSlow bool) {
	s.broadcastSV(event, payload, nil, filter, dropIfSlow)
}

func (s *Server) broadcastSV(event string, payload any, sv *wire.StateVersion, filter func(*conn) bool, dropIfSlow bool) {
	body, err := json.Marshal(payload)
	if err != nil {
		s.wsLog.Error("encode event", "event", event, "err", err)
		return
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.seq++
	seq := s.seq
	f := wire.EventFrame{Type: wire.FrameEvent, Event: event, Payload: json.RawMessage(body), Seq: &seq, StateVersion: sv}
	b, err := json.Marshal(f)
	if err != nil {
		s.wsLog.Error("encode event", "event", event, "err", err)
		return
	}
	for c := range s.conns {
		if !c.ready.Load() || (filter != nil && !filter(c)) || !wire.CanReceiveEvent(event, c.role, c.scopes) {
			continue
		}
		c.enqueue(b, dropIfSlow)
	}
}

func (s *Server) stateVersion() wire.StateVersion {
	return wire.StateVersion{Presence: s.presence.Version(), Health: s.health.currentVersion()}
}

func (s *Server) broadcastPresence() {
	sv := s.stateVersion()
	s.broadcastSV("presence", wire.PresenceEvent{Presence: s.presence.List()}, &sv, nil, true)
}

// failLimiter bounds failed auth attempts per client address: after
// maxFails failures within failWindow further connects are refused until the
// window passes. The table is capped so a flood of addresses cannot grow it
// without bound (the oldest entry is evicted).
type failLimiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*failEntry
}

type failEntry struct {
	first time.Time
	n     int
}

const (
	maxFails      = 20
	failWindow    = time.Minute
	failTableSize = 4096
)

func newFailLimiter(now func() time.Time) *failLimiter {
	return &failLimiter{now: now, m: map[string]*failEntry{}}
}

func (l *failLimiter) blocked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[addr]
	if e == nil {
		return false
	}
	if l.now().Sub(e.first) > failWindow {
		delete(l.m, addr)
		return false
	}
	return e.n >= maxFails
}

func (l *failLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.m[addr]
	if e == nil || now.Sub(e.first) > failWindow {
		if e == nil && len(l.m) >= failTableSize {
			var oldK string
			var oldT time.Time
			for k, v := range l.m {
				if oldK == "" || v.first.Before(oldT) {
					oldK, oldT = k, v.first
				}
			}
			delete(l.m, oldK)
		}
		e = &failEntry{first: now}
		l.m[addr] = e
	}
	e.n++
}
