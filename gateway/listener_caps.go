package gateway

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Connection bounds. Every accepted TCP connection counts as
// pre-handshake until it completes a WebSocket connect (hello-ok) or
// closes: plain HTTP requests in flight, idle keep-alive connections,
// upgraded sockets still in the handshake, canvas live-reload sockets. The
// original has no such bounds; without them 2,000 idle keep-alive
// connections stayed open forever and, under a 1,024-descriptor limit,
// made every new client hang.
//
//   - IdleTimeout closes an idle keep-alive connection after 5 s, Node's
//     http default (keepAliveTimeout), so clients of the original see the
//     same behaviour.
//   - ReadTimeout bounds reading one plain HTTP request, header and body
//     (ReadHeaderTimeout bounds the header alone). It never reaches an
//     upgraded WebSocket: net/http clears the connection's deadlines when
//     the handler hijacks it (TestReadTimeoutSparesWebSockets).
//   - No WriteTimeout: it would cut canvas downloads of large files over
//     slow links; the connection caps bound how many such downloads exist.
//   - Pre-handshake connections are capped per remote address (the TCP
//     peer: behind a reverse proxy that is the proxy) and in total; a
//     connection over either cap is answered 503 and closed at once, and
//     the gateway logs a warning (at most one per capLogEvery).
const (
	DefaultIdleTimeout     = 5 * time.Second
	DefaultReadTimeout     = 30 * time.Second
	DefaultMaxPreAuthPerIP = 64
	// DefaultMaxPreAuthTotal is the total cap, lowered to half the
	// process's descriptor limit where that is smaller, so that
	// unauthenticated connections can never take every descriptor.
	DefaultMaxPreAuthTotal = 1024
	capLogEvery            = 10 * time.Second
)

// Limits bound the gateway's HTTP connections (see the constants above);
// a zero field takes its default.
type Limits struct {
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// ReadTimeout bounds reading a plain HTTP request.
	ReadTimeout time.Duration
	// MaxPreAuthPerIP and MaxPreAuthTotal cap connections that have not
	// completed a WebSocket connect, per remote address and in total.
	MaxPreAuthPerIP int
	MaxPreAuthTotal int
}

func (l Limits) withDefaults() Limits {
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.MaxPreAuthPerIP <= 0 {
		l.MaxPreAuthPerIP = DefaultMaxPreAuthPerIP
	}
	if l.MaxPreAuthTotal <= 0 {
		l.MaxPreAuthTotal = DefaultMaxPreAuthTotal
		if n := fileLimit(); n > 0 && n/2 < l.MaxPreAuthTotal {
			l.MaxPreAuthTotal = max(16, n/2)
		}
	}
	return l
}

// preAuth counts pre-handshake connections; one is shared by every
// listener of a Server.
type preAuth struct {
	lim    Limits
	log    *slog.Logger
	capLog sparseLog
	errLog sparseLog

	mu    sync.Mutex
	byIP  map[string]int
	total int
}

func newPreAuth(lim Limits, log *slog.Logger) *preAuth {
	return &preAuth{lim: lim, log: log, byIP: map[string]int{},
		capLog: sparseLog{every: capLogEvery}, errLog: sparseLog{every: capLogEvery}}
}

// admit counts a new connection from ip, or reports which cap refuses it.
func (p *preAuth) admit(ip string) (ok bool, perIP, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	perIP, total = p.byIP[ip], p.total
	if perIP >= p.lim.MaxPreAuthPerIP || total >= p.lim.MaxPreAuthTotal {
		return false, perIP, total
	}
	p.byIP[ip] = perIP + 1
	p.total++
	return true, perIP + 1, total + 1
}

func (p *preAuth) done(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.byIP[ip]; n > 1 {
		p.byIP[ip] = n - 1
	} else {
		delete(p.byIP, ip)
	}
	p.total--
}

// counts returns the pre-handshake connections from ip and in total.
func (p *preAuth) counts(ip string) (perIP, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byIP[ip], p.total
}

// wrap returns ln counting its connections against p.
func (p *preAuth) wrap(ln net.Listener) net.Listener { return &capListener{Listener: ln, p: p} }

// released marks nc (a connection accepted through a capListener) as
// authenticated: it no longer counts against the caps.
func released(nc net.Conn) {
	if cc, ok := nc.(*capConn); ok {
		cc.release()
	}
}

// capListener admits connections under the caps. Close is idempotent, so
// Shutdown can close it before http.Server.Shutdown closes it again.
type capListener struct {
	net.Listener
	p         *preAuth
	closeOnce sync.Once
	closeErr  error
}

// refusal is what a connection over the cap reads before it is closed.
var refusal = func() string {
	body := "too many connections; try again later\n"
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

func (l *capListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				if ok, skipped := l.p.errLog.allow(time.Now()); ok {
					l.p.log.Warn("accept failed", "err", err, "suppressed", skipped)
				}
			}
			return nil, err
		}
		ip := hostOnly(nc.RemoteAddr())
		ok, perIP, total := l.p.admit(ip)
		if !ok {
			if ok, skipped := l.p.capLog.allow(time.Now()); ok {
				l.p.log.Warn("refusing connection: too many pre-handshake connections",
					"remote", ip, "fromRemote", perIP, "total", total,
					"maxPerIP", l.p.lim.MaxPreAuthPerIP, "maxTotal", l.p.lim.MaxPreAuthTotal, "suppressed", skipped)
			}
			// A fresh socket's send buffer takes these bytes without
			// blocking; the deadline is a guard.
			_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = io.WriteString(nc, refusal)
			_ = nc.Close()
			continue
		}
		return &capConn{Conn: nc, p: l.p, ip: ip}, nil
	}
}

func (l *capListener) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.Listener.Close() })
	return l.closeErr
}

// capConn is an admitted connection; closing or releasing it gives its
// slot back, once.
type capConn struct {
	net.Conn
	p        *preAuth
	ip       string
	released atomic.Bool
}

func (c *capConn) release() {
	if c.released.CompareAndSwap(false, true) {
		c.p.done(c.ip)
	}
}

func (c *capConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// ReadFrom keeps net/http's sendfile path (canvas files) through the
// wrapper.
func (c *capConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// CloseWrite keeps net/http's graceful close (FIN, then drain) through the
// wrapper.
func (c *capConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func hostOnly(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// sparseLog lets one log line through per period and counts the ones it
// held back, so a flood cannot fill the disk.
type sparseLog struct {
	every   time.Duration
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// allow reports whether to log now, and how many lines were suppressed
// since the last one.
func (l *sparseLog) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.skipped++
		return false, 0
	}
	n := l.skipped
	l.last, l.skipped = now, 0
	return true, n
}
