package gateway

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/wire"
)

// connByID finds the server side of a client by hello-ok's server.connId
// and waits until broadcasts reach it (the client may read hello-ok a
// moment before the server marks the connection ready).
func connByID(t *testing.T, s *Server, hello map[string]any) *conn {
	t.Helper()
	id := hello["server"].(map[string]any)["connId"].(string)
	var c *conn
	s.bmu.Lock()
	for x := range s.conns {
		if x.who.ConnID == id {
			c = x
		}
	}
	s.bmu.Unlock()
	if c == nil {
		t.Fatalf("no server connection %s", id)
	}
	gatewaytest.WaitFor(t, 5*time.Second, c.ready.Load)
	return c
}

// socketClosed reports whether the server closed the connection's TCP
// socket (SetDeadline fails only on a closed one).
func socketClosed(c *conn) bool {
	return errors.Is(c.nc.SetDeadline(time.Time{}), net.ErrClosed)
}

func closeEnded(c *conn) bool {
	select {
	case <-c.closeDone:
		return true
	default:
		return false
	}
}

// expectShutdownThenClose reads the shutdown event (reason, restartExpectedMs)
// and then the 1012 close.
func expectShutdownThenClose(t *testing.T, c *testClient, reason string, restartMs any) {
	t.Helper()
	ev := c.ReadEvent("shutdown")
	p := ev["payload"].(map[string]any)
	if v, ok := p["restartExpectedMs"]; p["reason"] != reason || !ok || v != restartMs {
		t.Errorf("shutdown payload %v, want reason %q restartExpectedMs %v", p, reason, restartMs)
	}
	c.ExpectClose(wire.CloseServiceRestart, "service restart")
}

// A client that stops reading after its handshake never answers the close
// frame. Restart must not wait for it (the swap and the return are
// immediate, its close ends in the background by connCloseTimeout), and a
// well-behaved client of the old runtime still gets shutdown then 1012.
func TestRestartNotDelayedByClientThatNeverReads(t *testing.T) {
	s := startServer(t, nil)
	good := dial(t, s)
	connByID(t, s, good.Connect(connectParams(testToken)))
	bad := dial(t, s)
	badConn := connByID(t, s, bad.Connect(connectParams(testToken)))
	oldRT := s.rt.Load()

	if err := s.Restart(context.Background(), RuntimeConfig{Auth: Auth{Mode: AuthToken, Token: testToken}}); err != nil {
		t.Fatal(err)
	}
	// The non-reader cannot complete its close handshake, so it is still
	// closing unless Restart waited for the cut (connCloseTimeout) or for
	// coder/websocket's own handshake timeout.
	if closeEnded(badConn) || socketClosed(badConn) {
		t.Fatal("Restart returned only after the non-reading client's close ended")
	}
	if s.rt.Load() == oldRT {
		t.Fatal("runtime not swapped")
	}

	// The new runtime serves at once, while the old close is pending.
	fresh := dial(t, s)
	freshConn := connByID(t, s, fresh.Connect(connectParams(testToken)))
	if freshConn.rt != s.rt.Load() {
		t.Error("a connection made after Restart is bound to the old runtime")
	}

	expectShutdownThenClose(t, good, "gateway restarting", float64(1500))

	// The background close is bounded: the socket is cut.
	select {
	case <-badConn.closeDone:
	case <-time.After(connCloseTimeout + 5*time.Second):
		t.Fatal("the non-reading client's close never ended")
	}
	// What was sent before the cut is intact: reading now, the client sees
	// the shutdown event and the 1012 close frame.
	expectShutdownThenClose(t, bad, "gateway restarting", float64(1500))

	// The fresh client is untouched by the old runtime's closes.
	if res := fresh.Call("health", nil); res["ok"] != true {
		t.Errorf("health on the new runtime: %v", res)
	}
}

// Shutdown returns by its ctx deadline even when a client never answers
// the close frame, and still delivers shutdown then 1012 to everyone.
func TestShutdownBoundedWithClientThatNeverReads(t *testing.T) {
	s := startServer(t, nil)
	good := dial(t, s)
	connByID(t, s, good.Connect(connectParams(testToken)))
	bad := dial(t, s)
	badConn := connByID(t, s, bad.Connect(connectParams(testToken)))

	const bound = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	took := time.Since(start)
	// Not a performance figure: the non-reader would hold Shutdown for
	// connCloseTimeout (3 s) without the ctx bound, and for coder/websocket's
	// 5 s handshake wait without any bound.
	if took >= connCloseTimeout {
		t.Errorf("Shutdown with a %v ctx took %v", bound, took)
	}
	if !socketClosed(badConn) {
		t.Error("Shutdown returned with the non-reader's socket still open")
	}
	expectShutdownThenClose(t, good, "gateway stopping", nil)
	expectShutdownThenClose(t, bad, "gateway stopping", nil)
}

// Closing twice (a restart's background close, then Shutdown's) sends one
// close frame, the first; the second call waits for it within its own bound
// and cuts the socket when that passes.
func TestCloseWithinTwice(t *testing.T) {
	s := startServer(t, nil)
	cl := dial(t, s) // never reads until the end
	c := connByID(t, s, cl.Connect(connectParams(testToken)))
	first := make(chan struct{})
	go func() {
		c.closeWithin(context.Background(), wire.CloseServiceRestart, "service restart")
		close(first)
	}()
	// c.closed is set by the first close once it has flushed, just before
	// it sends the close frame.
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		return c.closed
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c.closeWithin(ctx, websocket.StatusNormalClosure, "second")
	if ctx.Err() == nil {
		t.Error("the second close returned before its bound although the peer never answered")
	}
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("the first close did not end after the second one cut the socket")
	}
	cl.ExpectClose(wire.CloseServiceRestart, "service restart")
}
