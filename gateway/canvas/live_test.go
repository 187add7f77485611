package canvas

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + WSPath }

// Past the client cap an upgrade gets 503 and one log line; a freed slot
// can be taken again.
func TestLiveClientCap(t *testing.T) {
	h, _ := setup(t, true)
	var mu sync.Mutex
	var logged []string
	h.logf = func(f string, a ...any) { mu.Lock(); logged = append(logged, fmt.Sprintf(f, a...)); mu.Unlock() }
	h.maxClients = 2
	srv := httptest.NewServer(h)
	defer srv.Close()
	c1 := dialLive(t, srv, h, 1)
	dialLive(t, srv, h, 2)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, resp, err := websocket.Dial(ctx, wsURL(srv), nil)
		cancel()
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial past the cap: err %v, resp %v; want 503", err, resp)
		}
	}
	mu.Lock()
	if len(logged) != 1 || !strings.Contains(logged[0], "limit (2)") {
		t.Errorf("log lines = %q, want one naming the limit", logged)
	}
	mu.Unlock()
	c1.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the slot to be freed", func() bool { return h.Clients() == 1 })
	dialLive(t, srv, h, 2)
}

// The socket carries nothing from the client: a data message of any size
// closes it (policy violation, or too big), and frees the slot.
func TestLiveClientDataMessageCloses(t *testing.T) {
	h, _ := setup(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, n := range []int{1, liveReadLimit + 1, 1 << 20} {
		c := dialLive(t, srv, h, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		go c.Write(ctx, websocket.MessageText, make([]byte, n)) // may block once the server stops reading
		var err error
		for err == nil { // skip "reload"s from setup's own file writes
			_, _, err = c.Read(ctx)
		}
		cancel()
		if s := websocket.CloseStatus(err); s != websocket.StatusPolicyViolation && s != websocket.StatusMessageTooBig {
			t.Errorf("%d-byte message: read %v, want a policy-violation close", n, err)
		}
		waitFor(t, fmt.Sprintf("the slot to be freed after a %d-byte message", n), func() bool { return h.Clients() == 0 })
	}
}

// A peer that stops answering (it never reads, so never pongs) is
// disconnected by the ping, instead of holding its slot forever.
func TestLiveDeadPeerIsDropped(t *testing.T) {
	h, _ := setup(t, true)
	h.pingInterval, h.writeTimeout = 20*time.Millisecond, 100*time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	dialLive(t, srv, h, 1) // never reads: pings go unanswered
	waitFor(t, "the silent client to be dropped", func() bool { return h.Clients() == 0 })
}

// Reload never starts work per call: a burst of file events against many
// clients costs no goroutines, and each client still gets a reload.
func TestReloadCoalesces(t *testing.T) {
	h, _ := setup(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	const clients = 10
	var cs []*websocket.Conn
	for i := range clients {
		cs = append(cs, dialLive(t, srv, h, i+1))
	}
	before := runtime.NumGoroutine()
	for range 1000 {
		h.Reload()
	}
	if grown := runtime.NumGoroutine() - before; grown > 20 {
		t.Errorf("1000 reloads × %d clients left %d more goroutines", clients, grown)
	}
	for i, c := range cs {
		if msg, err := readMsg(c, 5*time.Second); err != nil || msg != ReloadMessage {
			t.Fatalf("client %d: %q %v", i, msg, err)
		}
	}
}
