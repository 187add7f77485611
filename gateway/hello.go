package gateway

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// The handshake's last step: the client joins presence and gets hello-ok.

// trackPresence upserts the connecting client into presence (doc/protocol.md §6):
// its connect fields replace the stored ones, roles and scopes are unioned,
// the text is kept or defaulted to "Node: <host> · mode <mode>". No
// presence event is broadcast on connect, only the version moves.
func (c *conn) trackPresence(p *wire.ConnectParams, role string, scopes []string) {
	key := c.who.ConnID
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
	if !c.who.Local {
		e.IP = c.who.RemoteIP
	}
	if p.Device != nil {
		e.DeviceID = p.Device.ID
		e.InstanceID = p.Device.ID
	} else {
		e.InstanceID = p.Client.InstanceID
	}
	c.presenceKey = key
	c.s.f.presence.Set(key, e)
	c.s.f.presence.Bump()
}

func (s *Server) helloOk(c *conn, auth *wire.HelloAuth) *wire.HelloOk {
	rt := c.rt
	h := &wire.HelloOk{
		Type:     "hello-ok",
		Protocol: wire.ProtocolVersion,
		Server:   wire.ServerInfo{Version: s.opts.Version, Commit: s.opts.Commit, Host: s.host, ConnID: c.who.ConnID},
		Features: wire.Features{Methods: rt.methodNames, Events: rt.eventNames},
		Snapshot: wire.Snapshot{
			Presence:        s.f.presence.List(),
			Health:          s.f.system.HealthSnapshot(),
			StateVersion:    s.f.system.StateVersion(),
			UptimeMs:        s.uptimeMs(),
			ConfigPath:      s.opts.ConfigPath,
			StateDir:        s.opts.StateDir,
			SessionDefaults: s.sessionDefaults(),
		},
		Auth:   auth,
		Policy: rt.policy,
	}
	if rt.canvas != nil {
		h.CanvasHostURL = canvasHostURL(c)
	}
	return h
}

// canvasHostURL follows doc/protocol.md §1.6: scheme from X-Forwarded-Proto, host from
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

// logConnected logs "client connected": at debug for the one-shot
// connections of the CLI (client.mode "cli": gateway call, health, status,
// and logs --follow, which opens one per poll) and of probes (mode
// "probe"), which would otherwise fill the very log they read; at info for
// the long-lived clients (UI, TUI, nodes, backends), whose arrival is worth
// seeing.
func (s *Server) logConnected(c *conn, p *wire.ConnectParams, role string) {
	level := slog.LevelInfo
	if p.Client.Mode == "cli" || p.Client.Mode == "probe" {
		level = slog.LevelDebug
	}
	s.wsLog.Log(context.Background(), level, "client connected", "conn", c.who.ConnID, "client", p.Client.ID, "mode", p.Client.Mode, "role", role, "remote", c.who.RemoteIP)
}

// sessionDefaults are hello-ok's snapshot.sessionDefaults from the session
// config (agents.list default, session.mainKey, session.scope), so a client
// opens the main session the chat methods resolve "main" to.
func (s *Server) sessionDefaults() *wire.SessionDefaults {
	c := s.f.sessions.Config()
	scope := c.Scope
	if scope == "" {
		scope = sessionstore.ScopePerSender
	}
	return &wire.SessionDefaults{DefaultAgentID: c.DefaultAgentID(), MainKey: sessionstore.NormalizeMainKey(c.MainKeyName),
		MainSessionKey: c.MainKey(), Scope: scope}
}
