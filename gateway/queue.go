package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// sendSlackBytes is the backlog below which any frame is admitted,
// whatever its size (see admitFrame).
const sendSlackBytes = 64 * 1024

// admitFrame is the send buffer rule: a frame of n bytes joins a backlog
// of queued unsent bytes when the backlog with it stays within
// maxBufferedBytes, or when the backlog before it is under sendSlackBytes
// (the client keeps up; a tick or two may be in flight). The second case
// is what lets one legitimately large frame through to a reading client:
// a logs.tail of 1 MB of lines (more once JSON-escaped), a large
// config.get, a hello-ok. Outbound frames are built by the server from
// bounded sources (presence, the tail's maxBytes, the config file), so a
// connection holds at most maxBufferedBytes, or one such frame plus
// sendSlackBytes.
func admitFrame(queued, n int) bool {
	return queued+n <= wire.MaxBufferedBytes || queued < sendSlackBytes
}

// enqueue queues one frame. A frame admitFrame refuses is skipped when
// dropIfSlow; otherwise it closes the client 1008 "slow consumer". It
// never blocks.
func (c *conn) enqueue(b []byte, dropIfSlow bool) {
	c.qmu.Lock()
	if c.closed {
		c.qmu.Unlock()
		return
	}
	if !admitFrame(c.queued, len(b)) {
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
		c.s.wsLog.Warn("closing slow consumer", "conn", c.who.ConnID)
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
		// An empty reason is the original's handshake close ("invalid
		// handshake"); 1000 and 1007 go without one, as its ws library
		// sends them.
		if reason != "" || (code != websocket.StatusNormalClosure && code != closeInvalidPayload) {
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

// Respond sends a res frame (rpc.Responder: a handler's early response).
func (c *conn) Respond(id json.RawMessage, payload any, e *wire.ErrorShape) {
	c.respond(id, payload, e)
}

// SendEvent sends an event to this client alone, without seq (rpc.Conn).
func (c *conn) SendEvent(event string, payload any) { c.sendEvent(event, payload) }

// Identity is the client's identity (rpc.Conn).
func (c *conn) Identity() *rpc.Client { return &c.who }
