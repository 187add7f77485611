package gateway

import (
	"encoding/json"
	"errors"

	"github.com/clawdbot/clawdbot/wire"
)

// call is one request being handled.
type call struct {
	s      *Server
	c      *conn
	id     json.RawMessage
	method string
	params json.RawMessage
}

// handlerFunc runs a method and returns its payload or an error shape.
type handlerFunc func(*call) (any, *wire.ErrorShape)

// method is a registry entry. Params are validated against the generated
// schema (wire.ValidateParams) before the handler runs. async methods (those
// that wait on another client, like node.invoke) run on their own
// goroutine so they do not stall the connection's reader.
type method struct {
	name   string
	handle handlerFunc
	async  bool
}

// emittedEvents are the events this gateway actually sends; hello-ok
// lists only these, in the original's order.
var emittedEvents = map[string]bool{
	wire.EventConnectChallenge: true, wire.EventPresence: true, wire.EventTick: true, wire.EventShutdown: true,
	wire.EventHealth: true, wire.EventNodePairRequested: true, wire.EventNodePairResolved: true,
	wire.EventNodeInvokeRequest: true, wire.EventDevicePairRequested: true, wire.EventDevicePairResolved: true,
}

// register adds a method to a runtime's registry.
func (rt *runtime) register(m *method) {
	if rt.methods == nil {
		rt.methods = map[string]*method{}
	}
	rt.methods[m.name] = m
}

// registerMethods fills rt's registry and its advertised lists.
func (s *Server) registerMethods(rt *runtime) {
	s.registerCoreMethods(rt)
	s.registerConfigMethods(rt)
	s.registerNodeMethods(rt)
	s.registerPairingMethods(rt)
	rt.methodNames = nil
	for _, n := range wire.AdvertisedMethods() {
		if rt.methods[n] != nil {
			rt.methodNames = append(rt.methodNames, n)
		}
	}
	rt.eventNames = nil
	for _, e := range wire.AdvertisedEvents() {
		if emittedEvents[e] {
			rt.eventNames = append(rt.eventNames, e)
		}
	}
}

// handleFrame handles one frame after the handshake.
func (c *conn) handleFrame(data []byte) {
	s := c.s
	f, malformed := decodeFrame(data)
	if malformed {
		// The original logs and ignores malformed JSON after connect.
		s.wsLog.Debug("ignoring malformed frame", "conn", c.id)
		return
	}
	if f.err != nil {
		c.respond(f.id, nil, f.err)
		return
	}
	if e := wire.Authorize(f.method, c.role, c.scopes); e != nil {
		c.respond(f.id, nil, e)
		return
	}
	if f.method == "connect" {
		c.respond(f.id, nil, invalid("connect is only valid as the first request"))
		return
	}
	m := c.rt.methods[f.method]
	if m == nil {
		c.respond(f.id, nil, invalid("unknown method: "+f.method))
		return
	}
	params := f.params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	if err := wire.ValidateParams(f.method, params); err != nil {
		c.respond(f.id, nil, asShape(err))
		return
	}
	cl := &call{s: s, c: c, id: f.id, method: f.method, params: params}
	s.inflight.Add(1)
	if m.async {
		go c.run(m, cl)
		return
	}
	c.run(m, cl)
}

func (c *conn) run(m *method, cl *call) {
	defer c.s.inflight.Done()
	defer func() {
		if r := recover(); r != nil {
			c.s.callLog.Error("method panicked", "method", m.name, "panic", r)
			c.respond(cl.id, nil, errShape(wire.ErrUnavailable, "internal error"))
		}
	}()
	payload, e := m.handle(cl)
	c.respond(cl.id, payload, e)
}

// asShape turns an error into a response error (INVALID_REQUEST unless it
// already is a shape).
func asShape(err error) *wire.ErrorShape {
	var es *wire.ErrorShape
	if errors.As(err, &es) {
		return es
	}
	return invalid(err.Error())
}

// decode validates and decodes the params into v (a pointer to the
// method's wire params type).
func (cl *call) decode(v any) *wire.ErrorShape {
	if err := wire.DecodeParams(cl.method, cl.params, v); err != nil {
		return asShape(err)
	}
	return nil
}
