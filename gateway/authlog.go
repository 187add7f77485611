package gateway

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Failed logins are logged at warn (subsystem gateway/ws) with the remote
// address, the client's id and mode, the role and the reason, so an
// operator sees a brute force or a misconfigured client in the console and
// the file log. A flood must not fill the disk: the lines pass through one
// token bucket per process (authLogBurst lines at once, then
// authLogPerSecond per second); what it drops is counted and reported in
// one "suppressed N" line once the bucket refills.

const (
	authLogBurst     = 20
	authLogPerSecond = 1.0
	// authLogFieldMax caps the client-supplied strings copied into a line.
	authLogFieldMax = 64
)

// authLog is the rate-limited failed-login log.
type authLog struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
	// flushArmed: a timer will report the suppressed count even when no
	// further failure comes along to carry it.
	flushArmed bool
}

func newAuthLog(log *slog.Logger, now func() time.Time) *authLog {
	return &authLog{log: log, now: now, tokens: authLogBurst, last: now()}
}

// failedLogin is one refused connect.
type failedLogin struct {
	Remote, ConnID     string
	ClientID, Mode     string
	Role, Reason, Auth string
}

// failed logs f unless the bucket is empty, in which case it is counted.
func (a *authLog) failed(f failedLogin) {
	a.mu.Lock()
	a.refill()
	if a.tokens < 1 {
		a.suppressed++
		arm := !a.flushArmed
		a.flushArmed = true
		a.mu.Unlock()
		if arm {
			time.AfterFunc(time.Duration(float64(time.Second)/authLogPerSecond), a.flush)
		}
		return
	}
	a.tokens--
	n := a.suppressed
	a.suppressed = 0
	a.mu.Unlock()
	if n > 0 {
		a.logSuppressed(n)
	}
	a.log.Warn("auth failed: "+f.Reason, "remote", f.Remote, "client", capField(f.ClientID), "mode", capField(f.Mode),
		"role", capField(f.Role), "auth", f.Auth, "reason", f.Reason, "conn", f.ConnID)
}

// flush reports what was suppressed since the bucket ran dry, when a
// token is there for it; otherwise it tries again later.
func (a *authLog) flush() {
	a.mu.Lock()
	a.refill()
	if a.suppressed == 0 {
		a.flushArmed = false
		a.mu.Unlock()
		return
	}
	if a.tokens < 1 {
		a.mu.Unlock()
		time.AfterFunc(time.Duration(float64(time.Second)/authLogPerSecond), a.flush)
		return
	}
	a.tokens--
	n := a.suppressed
	a.suppressed, a.flushArmed = 0, false
	a.mu.Unlock()
	a.logSuppressed(n)
}

func (a *authLog) logSuppressed(n int) {
	a.log.Warn(fmt.Sprintf("auth failed: suppressed %d more failed-login lines (rate limit %d, then %g/s)", n, authLogBurst, authLogPerSecond),
		"suppressed", n)
}

// refill adds the tokens earned since the last call (a.mu held).
func (a *authLog) refill() {
	now := a.now()
	if d := now.Sub(a.last); d > 0 {
		a.tokens = min(authLogBurst, a.tokens+d.Seconds()*authLogPerSecond)
		a.last = now
	}
}

// authReason is the reason part of an auth failure message: "gateway
// token mismatch" of "unauthorized: gateway token mismatch (hint)".
func authReason(msg string) string {
	msg = strings.TrimPrefix(msg, "unauthorized: ")
	if i := strings.Index(msg, " ("); i > 0 {
		msg = msg[:i]
	}
	return msg
}

func capField(s string) string {
	if len(s) <= authLogFieldMax {
		return s
	}
	return strings.ToValidUTF8(s[:authLogFieldMax], "") + "…"
}

// logAuthFailure reports a refused connect of c (reason as authReason
// gives it).
func (c *conn) logAuthFailure(h *hsState, reason string) {
	f := failedLogin{Remote: c.who.RemoteIP, ConnID: c.who.ConnID, Role: h.role, Reason: reason, Auth: c.rt.auth.Mode}
	if h.p != nil {
		f.ClientID, f.Mode = h.p.Client.ID, h.p.Client.Mode
	}
	c.s.authLog.failed(f)
}
