package gateway

import (
	"encoding/json"
	"errors"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/devices"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

// hsState is one connect as the handshake steps work through it.
type hsState struct {
	id     json.RawMessage
	p      *wire.ConnectParams
	role   string
	scopes []string
	// token and password are the presented secrets.
	token, password string
	controlUI       bool
	// usedDeviceToken: auth passed on a device token, not the shared secret.
	usedDeviceToken bool
	// skipPairing: an insecure Control UI with the shared secret.
	skipPairing bool
	helloAuth   *wire.HelloAuth
}

// rejection is how a step refuses a connect: the failure response (when
// e is set and the frame had an id), then a close with code and reason.
type rejection struct {
	e      *wire.ErrorShape
	code   websocket.StatusCode
	reason string
}

// reject is a policy-violation close whose reason is e's message.
func reject(e *wire.ErrorShape) *rejection {
	return &rejection{e: e, code: wire.ClosePolicyViolation, reason: e.Message}
}

// handshake processes the first frame through the named steps below, in
// the order whose first failure the original reports. It returns false
// when the connection was rejected (and is being closed); every path
// sends exactly the response and close code of doc/protocol.md §2.2.
func (c *conn) handshake(data []byte) bool {
	var hs hsState // on the stack: the steps only borrow it
	h := &hs
	rj := c.stepParse(h, data)
	if rj == nil {
		rj = c.stepVersion(h)
	}
	if rj == nil {
		rj = c.stepLimit(h)
	}
	if rj == nil {
		rj = c.stepDevice(h)
	}
	if rj == nil {
		rj = c.stepAuth(h)
	}
	if rj == nil {
		rj = c.stepPairing(h)
	}
	if rj != nil {
		if h.id != nil && rj.e != nil {
			c.respond(h.id, nil, rj.e)
		}
		c.closeWith(rj.code, rj.reason)
		return false
	}
	c.stepHello(h)
	return true
}

// stepParse: the frame must be a valid request frame for connect whose
// params pass the ConnectParams schema. Until it has an id to answer, a
// failure closes without a response.
func (c *conn) stepParse(h *hsState, data []byte) *rejection {
	f, malformed := decodeFrame(data)
	if malformed {
		// The original calls close() with no code: 1000, empty reason.
		return &rejection{code: websocket.StatusNormalClosure}
	}
	if f.tooDeep {
		h.id = f.id
		return reject(f.err)
	}
	if f.err != nil {
		return &rejection{code: wire.ClosePolicyViolation, reason: "invalid request frame"}
	}
	h.id = f.id
	if f.method != "connect" {
		return reject(rpc.Invalid("invalid handshake: first request must be connect"))
	}
	params := f.params
	if len(params) == 0 {
		// Missing params are undefined to the original's validator: "must
		// be object", not the missing-property errors of an empty object
		// (wire.ValidateConnectParams reads an empty input as {}).
		params = json.RawMessage("null")
	}
	p, err := wire.ValidateConnectParams(params)
	if err != nil {
		msg := err.Error()
		var es *wire.ErrorShape
		if errors.As(err, &es) {
			msg = es.Message
		}
		return reject(rpc.Invalid(msg))
	}
	if e := connectLimitError(p); e != nil {
		return reject(e)
	}
	h.p = p
	if p.Auth != nil {
		h.token, h.password = p.Auth.Token, p.Auth.Password
	}
	h.controlUI = p.Client.ID == "clawdbot-control-ui"
	return nil
}

// stepVersion: protocol 3 within the client's range, a known role, and
// the default scopes of that role.
func (c *conn) stepVersion(h *hsState) *rejection {
	p := h.p
	if p.MinProtocol > wire.ProtocolVersion || p.MaxProtocol < wire.ProtocolVersion {
		e := rpc.Invalid("protocol mismatch")
		e.Details = map[string]int{"expectedProtocol": wire.ProtocolVersion}
		return &rejection{e: e, code: wire.CloseProtocolError, reason: "protocol mismatch"}
	}
	h.role = p.Role
	if h.role == "" {
		h.role = wire.RoleOperator
	}
	if h.role != wire.RoleOperator && h.role != wire.RoleNode {
		return reject(rpc.Invalid("invalid role"))
	}
	h.scopes = p.Scopes
	if len(h.scopes) == 0 {
		if h.role == wire.RoleOperator {
			h.scopes = []string{wire.ScopeAdmin}
		} else {
			h.scopes = []string{}
		}
	}
	return nil
}

// stepLimit is the bounded failed-auth rate limit per remote address (the
// original has none, doc/protocol.md §10.1): refuse before doing any work. Local
// clients are exempt: they share one address, so a script looping with a
// wrong token would otherwise lock the user's own CLI out.
func (c *conn) stepLimit(h *hsState) *rejection {
	if !c.who.Local && c.s.failures.Blocked(c.who.RemoteIP) {
		c.logAuthFailure(h, "too many failed attempts")
		return reject(rpc.Invalid("unauthorized: too many failed attempts; retry later"))
	}
	return nil
}

// stepDevice: without a device block only a token (or the Control UI's
// password, in a secure context) may go on; with one, its identity must
// verify (gateway/devices). It runs before auth, as in the original, so a
// client without identity or secret hears "device identity required".
func (c *conn) stepDevice(h *hsState) *rejection {
	if h.p.Device == nil {
		if h.controlUI && !c.rt.insecureUI {
			return reject(rpc.Invalid("control ui requires HTTPS or localhost (secure context)"))
		}
		if h.token == "" && !(h.controlUI && h.password != "") {
			return reject(rpc.NotPaired("device identity required"))
		}
		return nil
	}
	if msg := devices.VerifyIdentity(h.p, h.role, c.nonce, c.who.Local, c.s.now()); msg != "" {
		return reject(rpc.Invalid(msg))
	}
	return nil
}

// stepAuth: the shared secret first; a device token is the fallback (doc/protocol.md
// §1.5). A remote failure counts against the limiter.
func (c *conn) stepAuth(h *hsState) *rejection {
	msg := checkSharedAuth(c.rt.auth, h.token, h.password, h.p.Client)
	if msg != "" && h.p.Device != nil && h.token != "" {
		if c.s.f.devices.VerifyToken(h.p.Device.ID, h.role, h.token, h.scopes) {
			msg = ""
			h.usedDeviceToken = true
		}
	}
	if msg != "" {
		if !c.who.Local {
			c.s.failures.Fail(c.who.RemoteIP)
		}
		c.logAuthFailure(h, authReason(msg))
		return reject(rpc.Invalid(msg))
	}
	return nil
}

// stepPairing: a device must be paired for its role and scopes. A remote
// one gets NOT_PAIRED with a pending request (broadcast when new); a local
// one is approved silently. Then its token for the role is issued or
// reused for hello-ok.auth.
func (c *conn) stepPairing(h *hsState) *rejection {
	p := h.p
	if p.Device == nil {
		return nil
	}
	s, store := c.s, c.s.f.devices
	pubKey, _ := device.NormalizePublicKey(p.Device.PublicKey)
	// An insecure Control UI that supplied the shared secret skips
	// pairing (doc/protocol.md §1.5); it gets a device token only if its device
	// was paired before.
	h.skipPairing = h.controlUI && c.rt.insecureUI && (h.token != "" || h.password != "")
	if !h.skipPairing && !store.IsPaired(p.Device.ID, pubKey, h.role, h.scopes) {
		req, created, err := store.RequestPairing(devices.PairRequest(p, pubKey, h.role, h.scopes, c.who.Local, c.who.RemoteIP))
		if err != nil {
			s.wsLog.Error("device pairing store", "err", err)
			return reject(rpc.Unavailable("pairing store unavailable"))
		}
		if !c.who.Local {
			if created {
				s.broadcast(wire.EventDevicePairRequested, req, nil, nil, true)
			}
			e := rpc.NotPaired("pairing required")
			e.Details = map[string]string{"requestId": req.RequestID}
			return reject(e)
		}
		res, err := store.Approve(req.RequestID)
		if err != nil {
			s.wsLog.Error("device pairing approve", "err", err)
			return reject(rpc.Unavailable("pairing store unavailable"))
		}
		s.broadcast(wire.EventDevicePairResolved, res, nil, nil, true)
	}
	tok, err := store.EnsureToken(p.Device.ID, h.role, h.scopes)
	switch {
	case err == nil:
		h.helloAuth = &wire.HelloAuth{DeviceToken: tok.Token, Role: h.role, Scopes: tok.Scopes, IssuedAtMs: tok.IssuedAt()}
	case errors.Is(err, devices.ErrNotPaired) && h.skipPairing:
		// no hello-ok.auth, like the original's null token
	default:
		s.wsLog.Error("device token", "err", err)
	}
	return nil
}

// stepHello commits the identity, registers a node, tracks presence and
// sends hello-ok.
func (c *conn) stepHello(h *hsState) {
	s, p := c.s, h.p
	c.who.Info = p.Client
	c.who.Role = h.role
	c.who.Scopes = h.scopes
	if p.Device != nil {
		c.who.DeviceID = p.Device.ID
	}
	if h.role == wire.RoleNode {
		c.who.NodeID = p.Client.ID
		if c.who.DeviceID != "" {
			c.who.NodeID = c.who.DeviceID
		}
		s.f.nodes.Add(&nodes.Node{Conn: c, Connect: p, ConnectedAtMs: s.now().UnixMilli(),
			Commands: c.rt.nodePolicy.Filter(p.Client.Platform, p.Commands)})
	}
	if p.Client.Mode != "cli" {
		c.trackPresence(p, h.role, h.scopes)
	}
	hello := encodeResponse(h.id, s.helloOk(c, h.helloAuth), nil)
	released(c.nc) // connected: no longer counts against the pre-handshake caps
	// hello-ok and "ready for broadcasts" happen under the broadcast lock,
	// as one step: an event broadcast around the handshake is either
	// queued after hello-ok or not meant for this client, never lost in
	// between (a client could read hello-ok and miss the next event).
	s.bmu.Lock()
	c.enqueue(hello, false)
	c.ready.Store(true)
	s.bmu.Unlock()
	s.logConnected(c, p, h.role)
	s.f.system.HealthSoon()
}
