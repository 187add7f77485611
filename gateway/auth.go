package gateway

import (
	"crypto/subtle"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// The handshake's auth step: the shared secret of the runtime's Auth, with
// the failed-attempt limiter in front of it (doc/protocol.md §10.1). Device tokens are
// the fallback, checked by gateway/devices.

// checkSharedAuth compares the presented secret with the configured one in
// constant time (the original compares tokens with !==) and returns the
// failure message of doc/protocol.md §2.2, or "".
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
