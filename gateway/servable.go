package gateway

import (
	"errors"
	"net"
	"net/http"

	"github.com/clawdbot/clawdbot/profiles"
)

// The gateway's own refusal (doc/protocol.md §10.3): auth none on a
// listener that is not loopback never serves. It is checked here, in
// gateway.New and in every Restart, against the listeners that really
// accept connections: a restart keeps its listeners, so a new config
// whose bind would be loopback must not turn auth off on a listener that
// still sits on 0.0.0.0. The rule itself is profiles.CheckStartable, the
// one the CLI and doctor use, so every refusal reads the same.

// checkServable returns the *profiles.StartError for serving cfg with auth
// a on lns, or nil. The config's own start rules (mode, missing file)
// are the caller's business (the CLI knows --allow-unconfigured); this
// checks what the core can see: the auth and the real hosts.
func (s *Server) checkServable(a Auth, cfg *profiles.Config, lns []net.Listener) error {
	ra := profiles.ResolvedAuth{Mode: a.Mode, Token: a.Token, Password: a.Password}
	for _, ln := range lns {
		host, port := hostPortOf(ln.Addr())
		if err := profiles.CheckStartable(cfg, profiles.StartCheck{
			AllowUnconfigured: true, Auth: &ra, Host: host, Port: port,
		}); err != nil {
			return err
		}
	}
	return nil
}

// hostPortOf splits a listener address; a non-TCP address is its string.
func hostPortOf(a net.Addr) (string, int) {
	if t, ok := a.(*net.TCPAddr); ok {
		if t.IP == nil {
			return "::", t.Port
		}
		return t.IP.String(), t.Port
	}
	return a.String(), 0
}

// resolvedAuth is a with its mode inferred when unset (password, else
// token, else none), as profiles resolves it.
func resolvedAuth(a Auth) Auth {
	if a.Mode == "" {
		a.Mode = profiles.InferAuthMode(a.Password, a.Token)
	}
	return a
}

// serveSecondary serves the listeners after the primary (::1 next to
// 127.0.0.1) with the same HTTP server; Shutdown closes them with it.
func (s *Server) serveSecondary() {
	for _, ln := range s.lns[1:] {
		go func() {
			if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
}
