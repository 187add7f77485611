package gateway

import (
	"encoding/json"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// handleFrame handles one frame after the handshake: validate the frame,
// authorize the method for the caller's role and scopes (wire.Authorize),
// look it up in the connection's runtime registry, validate its params
// against the generated schema (wire.ValidateParams), then run it inline
// or, for an async method, on its own goroutine.
func (c *conn) handleFrame(data []byte) {
	s := c.s
	f, malformed := decodeFrame(data)
	if malformed {
		// The original logs and ignores malformed JSON after connect.
		s.wsLog.Debug("ignoring malformed frame", "conn", c.who.ConnID)
		return
	}
	if f.err != nil {
		c.respond(f.id, nil, f.err)
		return
	}
	if e := wire.Authorize(f.method, c.who.Role, c.who.Scopes); e != nil {
		c.respond(f.id, nil, e)
		return
	}
	if f.method == "connect" {
		c.respond(f.id, nil, rpc.Invalid("connect is only valid as the first request"))
		return
	}
	m := c.rt.methods.Lookup(f.method)
	if m == nil {
		c.respond(f.id, nil, rpc.Invalid("unknown method: "+f.method))
		return
	}
	params := f.params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	if err := wire.ValidateParams(f.method, params); err != nil {
		c.respond(f.id, nil, rpc.AsError(err))
		return
	}
	cl := rpc.NewCall(f.method, f.id, params, &c.who, c)
	s.inflight.Add(1)
	if m.Async {
		go c.run(m, cl)
		return
	}
	c.run(m, cl)
}

func (c *conn) run(m *rpc.Method, cl *rpc.Call) {
	defer c.s.inflight.Done()
	defer func() {
		if r := recover(); r != nil {
			c.s.callLog.Error("method panicked", "method", m.Name, "panic", r)
			c.respond(cl.ID(), nil, rpc.Unavailable("internal error"))
		}
	}()
	payload, e := m.Handler(cl)
	if e == nil && payload == rpc.NoReply {
		return
	}
	c.respond(cl.ID(), payload, e)
}
