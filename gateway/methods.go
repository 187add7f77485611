package gateway

import (
	"encoding/json"
	"slices"

	"github.com/clawdbot/clawdbot/wire"
)

// Scope classes of methods (spec §3.1).
const (
	scopeRead      = "read"      // operator.read or operator.write
	scopeWrite     = "write"     // operator.write
	scopeAdmin     = "admin"     // operator.admin
	scopePairing   = "pairing"   // operator.pairing
	scopeApprovals = "approvals" // operator.approvals
	scopeNode      = "node"      // role node only
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

// method is a registry entry. validate returns AJV-style details ("" when
// the params are valid) and runs before the handler. async methods (those
// that wait on another client, like node.invoke) run on their own
// goroutine so they do not stall the connection's reader.
type method struct {
	name     string
	scope    string
	validate func(json.RawMessage) string
	handle   handlerFunc
	async    bool
}

// advertisedOrder is the original's features.methods order (spec §3.2);
// we advertise the subset we implement, in this order.
var advertisedOrder = []string{
	"health", "logs.tail", "channels.status", "channels.logout", "status", "usage.status", "usage.cost",
	"tts.status", "tts.providers", "tts.enable", "tts.disable", "tts.convert", "tts.setProvider",
	"config.get", "config.set", "config.apply", "config.patch", "config.schema",
	"exec.approvals.get", "exec.approvals.set", "exec.approvals.node.get", "exec.approvals.node.set",
	"exec.approval.request", "exec.approval.resolve",
	"wizard.start", "wizard.next", "wizard.cancel", "wizard.status", "talk.mode", "models.list", "agents.list",
	"skills.status", "skills.bins", "skills.install", "skills.update", "update.run", "voicewake.get", "voicewake.set",
	"sessions.list", "sessions.preview", "sessions.patch", "sessions.reset", "sessions.delete", "sessions.compact",
	"last-heartbeat", "set-heartbeats", "wake",
	"node.pair.request", "node.pair.list", "node.pair.approve", "node.pair.reject", "node.pair.verify",
	"device.pair.list", "device.pair.approve", "device.pair.reject", "device.token.rotate", "device.token.revoke",
	"node.rename", "node.list", "node.describe", "node.invoke", "node.invoke.result", "node.event",
	"cron.list", "cron.status", "cron.add", "cron.update", "cron.remove", "cron.run", "cron.runs",
	"system-presence", "system-event", "send", "agent", "agent.identity.get", "agent.wait",
	"chat.history", "chat.abort", "chat.send",
}

// eventOrder is the original's features.events order; we list the ones we
// emit.
var eventOrder = []string{
	"connect.challenge", "agent", "chat", "presence", "tick", "talk.mode", "shutdown", "health",
	"heartbeat", "cron", "node.pair.requested", "node.pair.resolved", "node.invoke.request",
	"device.pair.requested", "device.pair.resolved", "voicewake.changed",
	"exec.approval.requested", "exec.approval.resolved",
}

var emittedEvents = map[string]bool{
	"connect.challenge": true, "presence": true, "tick": true, "shutdown": true, "health": true,
	"node.pair.requested": true, "node.pair.resolved": true, "node.invoke.request": true,
	"device.pair.requested": true, "device.pair.resolved": true,
}

// readMethods and writeMethods are the original's scope lists (spec §3.1),
// including methods we do not implement, so a non-admin gets the same
// scope error the original gives.
var readMethods = setOf("health", "logs.tail", "channels.status", "status", "usage.status", "usage.cost",
	"tts.status", "tts.providers", "models.list", "agents.list", "agent.identity.get", "skills.status",
	"voicewake.get", "sessions.list", "sessions.preview", "cron.list", "cron.status", "cron.runs",
	"system-presence", "last-heartbeat", "node.list", "node.describe", "chat.history")

var writeMethods = setOf("send", "agent", "agent.wait", "wake", "talk.mode", "tts.enable", "tts.disable",
	"tts.convert", "tts.setProvider", "voicewake.set", "node.invoke", "chat.send", "chat.abort")

var nodeMethods = setOf("node.invoke.result", "node.event", "skills.bins")

var approvalMethods = setOf("exec.approval.request", "exec.approval.resolve")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func isPairingMethod(m string) bool {
	return hasPrefix(m, "node.pair.") || hasPrefix(m, "device.pair.") || hasPrefix(m, "device.token.") || m == "node.rename"
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// authorize applies spec §3.1 before the handler is looked up; it returns
// the error message or "".
func authorize(role string, scopes []string, m string) string {
	if role == wire.RoleNode {
		if nodeMethods[m] {
			return ""
		}
		return "unauthorized role: node"
	}
	if nodeMethods[m] {
		return "unauthorized role: " + role
	}
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if has(wire.ScopeAdmin) {
		return ""
	}
	switch {
	case approvalMethods[m]:
		if has(wire.ScopeApprovals) {
			return ""
		}
		return "missing scope: " + wire.ScopeApprovals
	case isPairingMethod(m):
		if has(wire.ScopePairing) {
			return ""
		}
		return "missing scope: " + wire.ScopePairing
	case readMethods[m]:
		if has(wire.ScopeRead) || has(wire.ScopeWrite) {
			return ""
		}
		return "missing scope: " + wire.ScopeRead
	case writeMethods[m]:
		if has(wire.ScopeWrite) {
			return ""
		}
		return "missing scope: " + wire.ScopeWrite
	}
	return "missing scope: " + wire.ScopeAdmin
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
	for _, n := range advertisedOrder {
		if rt.methods[n] != nil {
			rt.methodNames = append(rt.methodNames, n)
		}
	}
	rt.eventNames = nil
	for _, e := range eventOrder {
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
		s.log.Debug("ignoring malformed frame", "conn", c.id)
		return
	}
	if f.err != "" {
		c.respond(f.id, nil, invalid("invalid request frame: "+f.err))
		return
	}
	if msg := authorize(c.role, c.scopes, f.method); msg != "" {
		c.respond(f.id, nil, invalid(msg))
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
	if m.validate != nil {
		if d := m.validate(params); d != "" {
			c.respond(f.id, nil, invalid("invalid "+f.method+" params: "+d))
			return
		}
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
			c.s.log.Error("method panicked", "method", m.name, "panic", r)
			c.respond(cl.id, nil, errShape(wire.ErrUnavailable, "internal error"))
		}
	}()
	payload, e := m.handle(cl)
	c.respond(cl.id, payload, e)
}

// Validators.

// noParams accepts {} (or a non-object, like the original's health with
// params []), used where the original does not validate.
func anyParams(json.RawMessage) string { return "" }

// strictObject returns a validator for an object with the given required
// and allowed keys; props checks each present key's value.
func strictObject(required, allowed []string, props func(*schemaCheck, map[string]json.RawMessage)) func(json.RawMessage) string {
	return func(raw json.RawMessage) string {
		var c schemaCheck
		m := c.object("", raw, required, allowed)
		if m != nil && props != nil {
			props(&c, m)
		}
		return c.String()
	}
}

// decode unmarshals validated params into v.
func (cl *call) decode(v any) *wire.ErrorShape {
	if err := json.Unmarshal(cl.params, v); err != nil {
		return invalid("invalid " + cl.method + " params: " + err.Error())
	}
	return nil
}
