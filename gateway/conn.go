package gateway

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/wire"
)

// conn is one WebSocket client. The handshake runs on the HTTP handler
// goroutine, then a reader goroutine (readLoop) takes over; a writer
// goroutine exists only while the outbound queue is non-empty, so an idle
// connection costs one goroutine (spec policy maxBufferedBytes bounds the
// queue).
type conn struct {
	s      *Server
	rt     *runtime
	ws     *websocket.Conn
	nc     net.Conn // the hijacked TCP socket under ws: closed directly when a peer stalls its close
	id     string
	nonce  string
	remote string // client IP after trusted-proxy resolution
	local  bool
	req    *http.Request // the upgrade request; nil once the handshake is done

	ready atomic.Bool // handshake done: broadcasts reach it

	// Set once at connect, read-only afterwards.
	client      wire.ClientInfo
	role        string
	scopes      []string
	deviceID    string
	presenceKey string
	nodeID      string
	connect     *wire.ConnectParams
	commands    []string // a node's declared commands, filtered to the allowlist
	connectedAt int64

	qmu       sync.Mutex
	queue     [][]byte
	queued    int // bytes in queue not yet handed to the socket
	writing   bool
	closed    bool
	slowClose bool // the writer must send 1008 "slow consumer" when its write returns
	closeErr  sync.Once

	closeOnce sync.Once     // the first closeWithin sends the close frame
	closeDone chan struct{} // closed when that close handshake has ended
}

// slowCloseGrace bounds how long a slow consumer may take to drain before
// its socket is dropped without a close handshake.
const slowCloseGrace = 10 * time.Second

// connCloseTimeout bounds one connection's close: flushing its queue,
// sending the close frame and reading the peer's. A well-behaved client
// answers in milliseconds; one that stopped reading would otherwise hold
// its close (and a Shutdown or Restart waiting on it) for coder/websocket's
// own 5 s handshake wait plus the flush, so past this bound its TCP socket
// is closed under it.
const connCloseTimeout = 3 * time.Second

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "gateway stopping", http.StatusServiceUnavailable)
		return
	}
	rt := s.runtimeForNewConn()
	// The original has no Origin check (spec §1.1): a local gateway serves
	// native apps and the CLI, which send no or arbitrary origins. The
	// Origin is logged instead, and auth/device identity gate access.
	hj := &smallBufHijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.wsLog.Debug("ws accept failed", "err", err, "remote", r.RemoteAddr)
		return
	}
	ws.SetReadLimit(wire.MaxPayloadBytes)
	ip, local := s.clientAddr(r, rt)
	c := &conn{s: s, rt: rt, ws: ws, nc: hj.nc, id: newID(), nonce: newID(), remote: ip, local: local, req: r,
		closeDone: make(chan struct{})}
	s.bmu.Lock()
	s.conns[c] = struct{}{}
	s.bmu.Unlock()
	s.wsLog.Debug("ws open", "conn", c.id, "remote", ip, "origin", r.Header.Get("Origin"), "path", r.URL.Path)

	c.sendEvent("connect.challenge", wire.ConnectChallenge{Nonce: c.nonce, TS: s.now().UnixMilli()})

	// Handshake timeout: close 1000 with no reason, like the original. A
	// timer instead of a read deadline, because an expiring read context
	// kills a coder/websocket connection with 1008 (STYLE §4).
	timer := time.AfterFunc(s.opts.HandshakeTimeout, func() {
		if !c.ready.Load() {
			c.closeWith(websocket.StatusNormalClosure, "")
		}
	})
	defer timer.Stop()

	_, data, err := ws.Read(context.Background())
	if err != nil || !c.handshake(data) {
		s.dropConn(c)
		return
	}
	c.req = nil // only the handshake reads it; let net/http's request go
	go c.readLoop()
}

// readLoop serves a connected client until its socket closes. It runs on
// a fresh goroutine rather than the HTTP handler's: that stack has grown
// through net/http and the handshake, while a reader parked in ws.Read
// needs a shallow one, and returning from the handler lets net/http's
// per-connection state (request, response, contexts) go. One goroutine
// with a small stack is the whole idle cost of a connection.
func (c *conn) readLoop() {
	defer c.s.dropConn(c)
	ctx := context.Background()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		c.handleFrame(data)
	}
}

// WebSocket buffer sizes handed to coder/websocket in place of net/http's
// 4 KiB pair. The buffers live as long as the connection, and an idle
// connection uses neither; a frame larger than a buffer is read or written
// around it at the cost of one more syscall, which only large frames pay.
const (
	wsReadBufSize  = 1024
	wsWriteBufSize = 1024
)

// smallBufHijacker wraps the ResponseWriter so that coder/websocket's
// Accept (which keeps the bufio.ReadWriter returned by Hijack for the
// connection's life) gets small buffers. It also keeps the hijacked
// net.Conn: coder/websocket cannot abort a close handshake it has begun
// (CloseNow waits for it), closing the socket under it can.
type smallBufHijacker struct {
	http.ResponseWriter
	nc net.Conn
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *smallBufHijacker) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hijacks the real connection and swaps in small buffers. When the
// client already sent bytes after its upgrade request they sit in
// net/http's reader, which is then kept as is (rare: clients wait for the
// 101 before they send).
func (w *smallBufHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	w.nc = nc
	if err != nil || brw.Reader.Buffered() > 0 || brw.Writer.Buffered() > 0 {
		return nc, brw, err
	}
	return nc, bufio.NewReadWriter(bufio.NewReaderSize(nc, wsReadBufSize), bufio.NewWriterSize(nc, wsWriteBufSize)), nil
}

// dropConn unregisters a closed connection and records the disconnect in
// presence.
func (s *Server) dropConn(c *conn) {
	s.bmu.Lock()
	delete(s.conns, c)
	s.bmu.Unlock()
	c.qmu.Lock()
	c.closed = true
	c.queue = nil
	c.queued = 0
	c.qmu.Unlock()
	go c.ws.CloseNow()
	if c.nodeID != "" {
		s.live.remove(c.nodeID, c)
	}
	if c.ready.Load() && c.presenceKey != "" && !s.closing.Load() {
		s.presence.Update(c.presenceKey, wire.PresenceEntry{Reason: "disconnect"})
		s.presence.Bump()
		s.broadcastPresence()
	}
	s.wsLog.Debug("ws close", "conn", c.id)
}

// clientAddr resolves the client IP (trusted proxies, spec §10.5) and
// whether the client is local.
func (s *Server) clientAddr(r *http.Request, rt *runtime) (string, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := host
	if rt.trusted[host] {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			ip = trimSpace(firstField(xff))
		} else if xr := r.Header.Get("X-Real-IP"); xr != "" {
			ip = trimSpace(xr)
		}
	}
	local := false
	if p := net.ParseIP(ip); p != nil && p.IsLoopback() {
		local = true
	}
	if s.opts.IsLocal != nil {
		local = s.opts.IsLocal(r)
	}
	return ip, local
}

// enqueue queues one frame. Over maxBufferedBytes of unsent backlog a
// dropIfSlow frame is skipped; any other frame closes the client 1008
// "slow consumer". It never blocks.
func (c *conn) enqueue(b []byte, dropIfSlow bool) {
	c.qmu.Lock()
	if c.closed {
		c.qmu.Unlock()
		return
	}
	if c.queued > wire.MaxBufferedBytes {
		if dropIfSlow {
			c.qmu.Unlock()
			return
		}
		c.closed = true
		c.queue = nil
		c.queued = 0
		writing := c.writing
		c.slowClose = writing
		c.qmu.Unlock()
		c.s.wsLog.Warn("closing slow consumer", "conn", c.id)
		if !writing {
			go c.ws.Close(wire.ClosePolicyViolation, "slow consumer")
		}
		// The writer is stuck in a socket write: it sends the close frame
		// as soon as that write completes. A peer that never reads again
		// is cut off without a handshake.
		time.AfterFunc(slowCloseGrace, func() { c.ws.CloseNow() })
		return
	}
	c.queue = append(c.queue, b)
	c.queued += len(b)
	start := !c.writing
	c.writing = true
	c.qmu.Unlock()
	if start {
		go c.writeLoop()
	}
}

func (c *conn) writeLoop() {
	ctx := context.Background()
	for {
		c.qmu.Lock()
		if c.closed || len(c.queue) == 0 {
			c.writing = false
			c.queue = nil
			slow := c.slowClose
			c.slowClose = false
			c.qmu.Unlock()
			if slow {
				_ = c.ws.Close(wire.ClosePolicyViolation, "slow consumer")
			}
			return
		}
		b := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.qmu.Unlock()
		err := c.ws.Write(ctx, websocket.MessageText, b)
		c.qmu.Lock()
		c.queued -= len(b)
		c.qmu.Unlock()
		if err != nil {
			c.qmu.Lock()
			c.closed = true
			c.writing = false
			c.queue = nil
			c.qmu.Unlock()
			return
		}
	}
}

// flushWait waits until the queue is drained (or ctx ends), so a response
// is on the wire before the close frame that follows it.
func (c *conn) flushWait(ctx context.Context) {
	for ctx.Err() == nil {
		c.qmu.Lock()
		idle := !c.writing || c.closed
		c.qmu.Unlock()
		if idle {
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// closeWith is closeWithin with no bound but connCloseTimeout.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.closeWithin(context.Background(), code, reason)
}

// closeWithin flushes pending frames and closes with code and reason (cut
// to 120 bytes as the original does), waiting for the peer's close frame
// until ctx ends or connCloseTimeout passes, whichever comes first; then
// the TCP socket is closed under the handshake. Only the first call sends
// a close frame; a later one (say Shutdown's, while a restart is still
// closing the connection) waits for that handshake within its own bound.
func (c *conn) closeWithin(ctx context.Context, code websocket.StatusCode, reason string) {
	ctx, cancel := context.WithTimeout(ctx, connCloseTimeout)
	defer cancel()
	c.closeOnce.Do(func() {
		if reason != "" || code != websocket.StatusNormalClosure {
			reason = wire.TruncateCloseReason(reason)
		}
		// On its own goroutine because ws.Close cannot be interrupted: a
		// stalled handshake ends when cut closes the socket.
		go func() {
			defer close(c.closeDone)
			c.flushWait(ctx)
			c.qmu.Lock()
			c.closed = true
			c.qmu.Unlock()
			_ = c.ws.Close(code, reason)
		}()
	})
	select {
	case <-c.closeDone:
	case <-ctx.Done():
		c.cut()
	}
}

// cut closes the TCP socket without a close handshake; a pending
// ws.Close then fails at once instead of waiting for the peer.
func (c *conn) cut() {
	if c.nc != nil {
		_ = c.nc.Close()
		return
	}
	go c.ws.CloseNow()
}

func (c *conn) sendEvent(event string, payload any) {
	b, err := json.Marshal(wire.EventFrame{Type: wire.FrameEvent, Event: event, Payload: payload})
	if err != nil {
		c.s.wsLog.Error("encode event", "event", event, "err", err)
		return
	}
	c.enqueue(b, false)
}

// respond sends a res frame; id is echoed as the client sent it (a numeric
// id stays numeric, like the original).
func (c *conn) respond(id json.RawMessage, payload any, e *wire.ErrorShape) {
	c.enqueue(encodeResponse(id, payload, e), false)
}

// resFrame is wire.ResponseFrame with the id kept raw, so a numeric id is
// echoed as a number. It is not wire.RawResponseFrame because that one
// holds the payload pre-encoded: encoding a payload first and then the
// frame scans the payload twice (measured ~2.8x slower for a health
// result), on the hottest path.
type resFrame struct {
	Type    string           `json:"type"`
	ID      json.RawMessage  `json:"id"`
	OK      bool             `json:"ok"`
	Payload any              `json:"payload,omitempty"`
	Error   *wire.ErrorShape `json:"error,omitempty"`
}

func encodeResponse(id json.RawMessage, payload any, e *wire.ErrorShape) []byte {
	if len(id) == 0 {
		id = json.RawMessage(`"invalid"`)
	}
	f := resFrame{Type: wire.FrameRes, ID: id, OK: e == nil, Payload: payload, Error: e}
	if payload == nil && e == nil {
		f.Payload = json.RawMessage("null")
	}
	b, err := json.Marshal(f)
	if err != nil {
		f.Payload = nil
		f.OK = false
		f.Error = &wire.ErrorShape{Code: wire.ErrUnavailable, Message: "encode result: " + err.Error()}
		b, _ = json.Marshal(f)
	}
	return b
}

func errShape(code, msg string) *wire.ErrorShape { return &wire.ErrorShape{Code: code, Message: msg} }

func invalid(msg string) *wire.ErrorShape { return errShape(wire.ErrInvalidRequest, msg) }

// rejectHandshake sends the failure response (when id is non-nil) then
// closes with code and the message as reason.
func (c *conn) rejectHandshake(id json.RawMessage, e *wire.ErrorShape, code websocket.StatusCode, reason string) bool {
	if id != nil && e != nil {
		c.respond(id, nil, e)
	}
	c.closeWith(code, reason)
	return false
}

var errClosed = errors.New("connection closed")

func firstField(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i]
		}
	}
	return s
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
