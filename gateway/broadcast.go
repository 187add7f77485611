package gateway

import (
	"encoding/json"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Broadcast sends event to every connected client its role and scopes
// allow (rpc.Broadcaster, the way feature packages reach clients).
func (s *Server) Broadcast(event string, payload any, d rpc.Delivery) {
	var filter func(*conn) bool
	if d.To != nil {
		filter = func(c *conn) bool { return d.To(&c.who) }
	}
	s.broadcast(event, payload, d.StateVersion, filter, d.DropIfSlow)
}

// broadcast sends one event to every ready client that filter accepts (nil:
// all). The seq is assigned and the frame queued under one lock, so every
// client sees seqs in increasing order; queuing never blocks (slow clients
// are skipped or cut off in enqueue).
func (s *Server) broadcast(event string, payload any, sv *wire.StateVersion, filter func(*conn) bool, dropIfSlow bool) {
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
		if !c.ready.Load() || (filter != nil && !filter(c)) || !wire.CanReceiveEvent(event, c.who.Role, c.who.Scopes) {
			continue
		}
		c.enqueue(b, dropIfSlow)
	}
}
