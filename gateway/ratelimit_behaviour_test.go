package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/internal/faillimit"
)

// The failed-auth limiter (ours; the original has none, doc/protocol.md §10.1) must
// not lock local clients out: a script looping with a wrong token on the
// gateway host would otherwise refuse the user's own CLI for a minute.
// Remote addresses are still limited.
func TestAuthLimiterSparesLocalClients(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.IsLocal = func(r *http.Request) bool { return r.Header.Get("X-Test-Remote") == "" }
	})
	for range faillimit.MaxFails + 1 {
		c := dial(t, s)
		c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
		if _, msg := errOf(t, c.ReadRes()); !strings.Contains(msg, "token mismatch") {
			t.Fatalf("wrong token: %q", msg)
		}
	}
	c := dial(t, s)
	c.Connect(connectParams(testToken)) // a local client with the right token still gets in

	remote := func() *testClient {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+s.Addr().String(), &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-Remote": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		rc := gatewaytest.Wrap(t, ws)
		rc.Read() // challenge
		return rc
	}
	var last string
	for range faillimit.MaxFails + 1 {
		r := remote()
		r.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
		_, last = errOf(t, r.ReadRes())
	}
	if !strings.Contains(last, "too many failed attempts") {
		t.Fatalf("remote brute force not limited: last = %q", last)
	}
}
