package gateway

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// conn is one WebSocket client. The handshake runs on the HTTP handler
// goroutine, then a reader goroutine (readLoop) takes over; a writer
// goroutine exists only while the outbound queue is non-empty, so an idle
// connection costs one goroutine (spec policy maxBufferedBytes bounds the
// queue).
type conn struct {
	s     *Server
	rt    *runtime
	ws    *websocket.Conn
	nc    net.Conn // the hijacked TCP socket under ws: closed directly when a peer stalls its close
	nonce string
	req   *http.Request // the upgrade request; nil once the handshake is done

	ready atomic.Bool // handshake done: broadcasts reach it

	// who is the client's identity: ConnID, RemoteIP (after trusted-proxy
	// resolution) and Local from the upgrade, the rest set once at
	// connect; read-only once ready. Calls get a pointer to it.
	who         rpc.Client
	presenceKey string

	qmu       sync.Mutex
	queue     [][]byte
	queued    int // bytes in queue not yet handed to the socket
	writing   bool
	closed    bool
	slowClose bool // the writer must send 1008 "slow consumer" when its write returns

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

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "gateway stopping", http.StatusServiceUnavailable)
		return
	}
	rt := s.runtimeForNewConn()
	// The original has no Origin check (doc/protocol.md §1.1): a local gateway serves
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
	c := &conn{s: s, rt: rt, ws: ws, nc: hj.nc, nonce: rpc.NewID(), req: r,
		who: rpc.Client{ConnID: rpc.NewID(), RemoteIP: ip, Local: local}, closeDone: make(chan struct{})}
	s.bmu.Lock()
	s.conns[c] = struct{}{}
	s.bmu.Unlock()
	s.wsLog.Debug("ws open", "conn", c.who.ConnID, "remote", ip, "origin", r.Header.Get("Origin"), "path", r.URL.Path)

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

	data, err := c.read(context.Background())
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
		data, err := c.read(ctx)
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
	if c.who.NodeID != "" {
		s.f.nodes.Remove(c.who.NodeID, c)
	}
	if c.ready.Load() && c.presenceKey != "" && !s.closing.Load() {
		s.f.presence.Update(c.presenceKey, wire.PresenceEntry{Reason: "disconnect"})
		s.f.presence.Bump()
		s.f.system.BroadcastPresence()
	}
	s.wsLog.Debug("ws close", "conn", c.who.ConnID)
}
