package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/device"
)

// maxSignatureSkew is how far device.signedAt may be from now (spec §1.5).
const maxSignatureSkew = 10 * time.Minute

// handshake processes the first frame. It returns false when the
// connection was rejected (and is being closed); every path sends exactly
// the response and close code of spec §2.2.
func (c *conn) handshake(data []byte) bool {
	s := c.s
	f, malformed := decodeFrame(data)
	if malformed {
		// The original calls close() with no code: 1000, empty reason.
		return c.rejectHandshake(nil, nil, websocket.StatusNormalClosure, "")
	}
	if f.err != nil {
		return c.rejectHandshake(nil, nil, wire.ClosePolicyViolation, "invalid request frame")
	}
	if f.method != "connect" {
		msg := "invalid handshake: first request must be connect"
		return c.rejectHandshake(f.id, invalid(msg), wire.ClosePolicyViolation, msg)
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
		return c.rejectHandshake(f.id, invalid(msg), wire.ClosePolicyViolation, msg)
	}
	if p.MinProtocol > wire.ProtocolVersion || p.MaxProtocol < wire.ProtocolVersion {
		e := invalid("protocol mismatch")
		e.Details = map[string]int{"expectedProtocol": wire.ProtocolVersion}
		return c.rejectHandshake(f.id, e, wire.CloseProtocolError, "protocol mismatch")
	}
	role := p.Role
	if role == "" {
		role = wire.RoleOperator
	}
	if role != wire.RoleOperator && role != wire.RoleNode {
		return c.rejectHandshake(f.id, invalid("invalid role"), wire.ClosePolicyViolation, "invalid role")
	}
	scopes := p.Scopes
	if len(scopes) == 0 {
		if role == wire.RoleOperator {
			scopes = []string{wire.ScopeAdmin}
		} else {
			scopes = []string{}
		}
	}
	// Bounded failed-auth rate limit per remote address (the original has
	// none, spec §10.1): refuse before doing any work. Local clients are
	// exempt: they share one address, so a script looping with a wrong
	// token would otherwise lock the user's own CLI out.
	if !c.local && s.failures.blocked(c.remote) {
		msg := "unauthorized: too many failed attempts; retry later"
		return c.rejectHandshake(f.id, invalid(msg), wire.ClosePolicyViolation, msg)
	}
	rt := c.rt
	var token, password string
	if p.Auth != nil {
		token, password = p.Auth.Token, p.Auth.Password
	}
	isControlUI := p.Client.ID == "clawdbot-control-ui"
	if p.Device == nil {
		if isControlUI && !rt.insecureUI {
			msg := "control ui requires HTTPS or localhost (secure context)"
			return c.rejectHandshake(f.id, invalid(msg), wire.ClosePolicyViolation, msg)
		}
		allowed := token != "" || (isControlUI && password != "")
		if !allowed {
			msg := "device identity required"
			return c.rejectHandshake(f.id, errShape(wire.ErrNotPaired, msg), wire.ClosePolicyViolation, msg)
		}
	} else if msg := c.verifyDevice(p, role); msg != "" {
		return c.rejectHandshake(f.id, invalid(msg), wire.ClosePolicyViolation, msg)
	}

	// Shared auth first; a device token is the fallback (spec §1.5).
	authMsg := checkSharedAuth(rt.auth, token, password, p.Client)
	usedDeviceToken := false
	if authMsg != "" && p.Device != nil && token != "" {
		if s.devices.verifyToken(p.Device.ID, role, token, scopes) {
			authMsg = ""
			usedDeviceToken = true
		}
	}
	if authMsg != "" {
		if !c.local {
			s.failures.fail(c.remote)
		}
		return c.rejectHandshake(f.id, invalid(authMsg), wire.ClosePolicyViolation, authMsg)
	}

	var helloAuth *wire.HelloAuth
	if p.Device != nil {
		pubKey, _ := device.NormalizePublicKey(p.Device.PublicKey)
		// An insecure Control UI that supplied the shared secret skips
		// pairing (spec §1.5); it gets a device token only if its device
		// was paired before.
		skipPairing := isControlUI && rt.insecureUI && (token != "" || password != "")
		if !skipPairing && !s.devices.isPaired(p.Device.ID, pubKey, role, scopes) {
			req, created, err := s.devices.requestPairing(pairRequestFrom(p, pubKey, role, scopes, c))
			if err != nil {
				s.wsLog.Error("device pairing store", "err", err)
				msg := "pairing store unavailable"
				return c.rejectHandshake(f.id, errShape(wire.ErrUnavailable, msg), wire.ClosePolicyViolation, msg)
			}
			if !c.local {
				if created {
					s.broadcast(wire.EventDevicePairRequested, req, nil, true)
				}
				e := errShape(wire.ErrNotPaired, "pairing required")
				e.Details = map[string]string{"requestId": req.RequestID}
				return c.rejectHandshake(f.id, e, wire.ClosePolicyViolation, "pairing required")
			}
			res, err := s.devices.approve(req.RequestID, true)
			if err != nil {
				s.wsLog.Error("device pairing approve", "err", err)
				msg := "pairing store unavailable"
				return c.rejectHandshake(f.id, errShape(wire.ErrUnavailable, msg), wire.ClosePolicyViolation, msg)
			}
			s.broadcast(wire.EventDevicePairResolved, res, nil, true)
		}
		tok, err := s.devices.ensureToken(p.Device.ID, role, scopes, usedDeviceToken)
		switch {
		case err == nil:
			helloAuth = &wire.HelloAuth{DeviceToken: tok.Token, Role: role, Scopes: tok.Scopes, IssuedAtMs: tok.issuedAt()}
		case errors.Is(err, errNotPaired) && skipPairing:
			// no hello-ok.auth, like the original's null token
		default:
			s.wsLog.Error("device token", "err", err)
		}
	}

	c.connect = p
	c.connectedAt = s.now().UnixMilli()
	c.client = p.Client
	c.role = role
	c.scopes = scopes
	if p.Device != nil {
		c.deviceID = p.Device.ID
	}
	if role == wire.RoleNode {
		c.nodeID = p.Client.ID
		if c.deviceID != "" {
			c.nodeID = c.deviceID
		}
		allow := rt.allowedCommands(p.Client.Platform)
		for _, cmd := range p.Commands {
			if slices.Contains(allow, cmd) {
				c.commands = append(c.commands, cmd)
			}
		}
		s.live.add(c)
	}
	if p.Client.Mode != "cli" {
		c.trackPresence(p, role, scopes)
	}
	hello := encodeResponse(f.id, s.helloOk(c, helloAuth), nil)
	// hello-ok and "ready for broadcasts" happen under the broadcast lock,
	// as one step: an event broadcast around the handshake is either
	// queued after hello-ok or not meant for this client, never lost in
	// between (a client could read hello-ok and miss the next event).
	s.bmu.Lock()
	c.enqueue(hello, false)
	c.ready.Store(true)
	s.bmu.Unlock()
	s.wsLog.Info("client connected", "conn", c.id, "client", p.Client.ID, "mode", p.Client.Mode, "role", role, "remote", c.remote)
	s.healthAfterConnect()
	return true
}

// verifyDevice runs the six device checks of spec §1.5 in order and
// returns the failure message ("" when the device is valid).
func (c *conn) verifyDevice(p *wire.ConnectParams, role string) string {
	d := p.Device
	derived, err := device.DeviceIDFromPublicKey(d.PublicKey)
	if err != nil || derived != d.ID { // exact, like the original's !==
		return "device identity mismatch"
	}
	now := c.s.now()
	if skew := now.Sub(time.UnixMilli(d.SignedAt)); skew > maxSignatureSkew || skew < -maxSignatureSkew {
		return "device signature expired"
	}
	nonce := strings.TrimSpace(d.Nonce) // the original trims it before comparing and signing
	if !c.local && nonce == "" {
		return "device nonce required"
	}
	if nonce != "" && nonce != c.nonce {
		return "device nonce mismatch"
	}
	token := ""
	if p.Auth != nil {
		token = p.Auth.Token
	}
	payload := device.BuildPayload(device.PayloadFields{
		DeviceID: d.ID, ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: role,
		Scopes: p.Scopes, SignedAtMs: d.SignedAt, Token: token, Nonce: nonce,
	})
	if err := device.Verify(d.PublicKey, payload, d.Signature); err != nil {
		return "device signature invalid"
	}
	if _, err := device.NormalizePublicKey(d.PublicKey); err != nil {
		return "device public key invalid"
	}
	return ""
}

// checkSharedAuth compares the presented secret with the configured one in
// constant time (the original compares tokens with !==) and returns the
// failure message of spec §2.2, or "".
func checkSharedAuth(a Auth, token, password string, client wire.ClientInfo) string {
	switch a.Mode {
	case AuthToken:
		if token == "" {
			return "unauthorized: gateway token missing (" + authHint(client, false) + ")"
		}
		if !secretEqual(token, a.Token) {
			return "unauthorized: gateway token mismatch (" + authHint(client, false) + ")"
		}
	case AuthPassword:
		if password == "" {
			return "unauthorized: gateway password missing (" + authHint(client, true) + ")"
		}
		if !secretEqual(password, a.Password) {
			return "unauthorized: gateway password mismatch (" + authHint(client, true) + ")"
		}
	}
	return ""
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authHint is the client-specific hint of an auth failure, chosen like the
// original's formatGatewayAuthFailureMessage: a CLI is any client in mode
// "cli" (isGatewayCliClient), the UI hint goes to the Control UI and to
// webchat clients (mode "webchat" or id "webchat-ui", isWebchatClient).
func authHint(client wire.ClientInfo, password bool) string {
	switch {
	case client.Mode == "cli":
		if password {
			return "set gateway.remote.password to match gateway.auth.password"
		}
		return "set gateway.remote.token to match gateway.auth.token"
	case client.ID == "clawdbot-control-ui" || client.Mode == "webchat" || client.ID == "webchat-ui":
		if password {
			return "enter the password in Control UI settings"
		}
		return "open a tokenized dashboard URL or paste token in Control UI settings"
	}
	if password {
		return "provide gateway auth password"
	}
	return "provide gateway auth token"
}

// trackPresence upserts the connecting client into presence (spec §6):
// its connect fields replace the stored ones, roles and scopes are unioned,
// the text is kept or defaulted to "Node: <host> · mode <mode>". No
// presence event is broadcast on connect, only the version moves.
func (c *conn) trackPresence(p *wire.ConnectParams, role string, scopes []string) {
	key := c.id
	switch {
	case p.Device != nil && p.Device.ID != "":
		key = p.Device.ID
	case p.Client.InstanceID != "":
		key = p.Client.InstanceID
	}
	key = strings.ToLower(key)
	host := p.Client.DisplayName
	if host == "" {
		host = p.Client.ID
	}
	e := wire.PresenceEntry{
		Host: host, Version: p.Client.Version, Platform: p.Client.Platform,
		DeviceFamily: p.Client.DeviceFamily, ModelIdentifier: p.Client.ModelIdentifier,
		Mode: p.Client.Mode, Roles: []string{role}, Scopes: slices.Clone(scopes), Reason: "connect",
	}
	if !c.local {
		e.IP = c.remote
	}
	if p.Device != nil {
		e.DeviceID = p.Device.ID
		e.InstanceID = p.Device.ID
	} else {
		e.InstanceID = p.Client.InstanceID
	}
	c.presenceKey = key
	c.s.presence.Set(key, e)
	c.s.presence.Bump()
}

func (s *Server) helloOk(c *conn, auth *wire.HelloAuth) *wire.HelloOk {
	rt := c.rt
	h := &wire.HelloOk{
		Type:     "hello-ok",
		Protocol: wire.ProtocolVersion,
		Server:   wire.ServerInfo{Version: s.opts.Version, Commit: s.opts.Commit, Host: s.host, ConnID: c.id},
		Features: wire.Features{Methods: rt.methodNames, Events: rt.eventNames},
		Snapshot: wire.Snapshot{
			Presence:     s.presence.List(),
			Health:       s.health.snapshot(),
			StateVersion: s.stateVersion(),
			UptimeMs:     s.uptimeMs(),
			ConfigPath:   s.opts.ConfigPath,
			StateDir:     s.opts.StateDir,
			SessionDefaults: &wire.SessionDefaults{
				DefaultAgentID: "main", MainKey: "main", MainSessionKey: "agent:main:main", Scope: "per-sender",
			},
		},
		Auth:   auth,
		Policy: rt.policy,
	}
	if rt.canvas {
		h.CanvasHostURL = canvasHostURL(c)
	}
	return h
}

// canvasHostURL follows spec §1.6: scheme from X-Forwarded-Proto, host from
// the Host header (else the local address), the gateway port, IPv6 in
// brackets.
func canvasHostURL(c *conn) string {
	scheme := "http"
	if strings.EqualFold(c.req.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := c.req.Host
	port := ""
	if la, ok := c.req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, port, _ = net.SplitHostPort(la.String())
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		if la, ok := c.req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host, _, _ = net.SplitHostPort(la.String())
		}
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}
