package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/wire"
)

// The send buffer counts the frame being queued: a backlog just under the
// limit no longer takes a frame that carries it past, while a large frame
// still reaches a client whose queue is (nearly) empty.
func TestSendBufferCountsTheFrame(t *testing.T) {
	for _, tc := range []struct {
		queued, n int
		want      bool
	}{
		{0, 100, true},
		{0, 3 << 20, true},                       // one big response to a reading client
		{sendSlackBytes - 1, 3 << 20, true},      // a tick in flight does not cut it
		{sendSlackBytes, 3 << 20, false},         // a real backlog does
		{wire.MaxBufferedBytes - 100, 100, true}, // exactly at the limit
		{wire.MaxBufferedBytes - 100, 101, false},
		{wire.MaxBufferedBytes + 1, 1, false},
	} {
		if got := admitFrame(tc.queued, tc.n); got != tc.want {
			t.Errorf("admitFrame(%d, %d) = %v, want %v", tc.queued, tc.n, got, tc.want)
		}
	}
	// Through enqueue, on a connection whose writer is busy (so nothing
	// drains): 1.4 MiB queued, a 200 KiB dropIfSlow frame is skipped.
	c := &conn{s: &Server{}, writing: true}
	c.queue = [][]byte{make([]byte, 1400*1024)}
	c.queued = 1400 * 1024
	c.enqueue(make([]byte, 200*1024), true)
	if len(c.queue) != 1 || c.queued != 1400*1024 {
		t.Fatalf("frame past the limit was queued: %d frames, %d bytes", len(c.queue), c.queued)
	}
	c.enqueue(make([]byte, 100*1024), true)
	if len(c.queue) != 2 {
		t.Fatalf("frame within the limit was skipped")
	}
}

// connectWith sends a connect with params and returns the response.
func connectWith(c *testClient, params map[string]any) map[string]any {
	c.Send(map[string]any{"type": "req", "id": "c1", "method": "connect", "params": params})
	return c.ReadRes()
}

// Over-long connect fields are refused with INVALID_REQUEST naming the
// field and the limit; so are too many scopes, caps or commands.
func TestConnectFieldLimits(t *testing.T) {
	s := startServer(t, nil)
	long := strings.Repeat("x", maxConnectFieldBytes+1)
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("v%d", i)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		mod  func(p, client map[string]any)
		want string
	}{
		{"displayName", func(p, cl map[string]any) { cl["displayName"] = long }, "at /client/displayName: must NOT have more than 256 bytes"},
		{"instanceId", func(p, cl map[string]any) { cl["instanceId"] = long }, "at /client/instanceId: must NOT have more than 256 bytes"},
		{"version", func(p, cl map[string]any) { cl["version"] = long }, "at /client/version: must NOT have more than 256 bytes"},
		{"platform", func(p, cl map[string]any) { cl["platform"] = long }, "at /client/platform: must NOT have more than 256 bytes"},
		{"deviceFamily", func(p, cl map[string]any) { cl["deviceFamily"] = long }, "at /client/deviceFamily: must NOT have more than 256 bytes"},
		{"modelIdentifier", func(p, cl map[string]any) { cl["modelIdentifier"] = long }, "at /client/modelIdentifier: must NOT have more than 256 bytes"},
		{"scope item", func(p, cl map[string]any) { p["scopes"] = []string{"operator.admin", long} }, "at /scopes/1: must NOT have more than 256 bytes"},
		{"scopes count", func(p, cl map[string]any) { p["scopes"] = many(maxConnectScopes + 1) }, "at /scopes: must NOT have more than 32 items"},
		{"caps count", func(p, cl map[string]any) { p["caps"] = many(maxConnectCaps + 1) }, "at /caps: must NOT have more than 64 items"},
		{"commands count", func(p, cl map[string]any) { p["commands"] = many(maxConnectCommands + 1) }, "at /commands: must NOT have more than 512 items"},
		{"pathEnv", func(p, cl map[string]any) { p["pathEnv"] = strings.Repeat("/bin:", 2000) }, "at /pathEnv: must NOT have more than 8192 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			p := connectParams(testToken)
			tc.mod(p, p["client"].(map[string]any))
			res := connectWith(c, p)
			code, msg := errOf(t, res)
			if code != wire.ErrInvalidRequest || msg != "invalid connect params: "+tc.want {
				t.Fatalf("error = %s %q", code, msg)
			}
			c.ExpectClose(wire.ClosePolicyViolation, msg)
		})
	}
	// At the limit is fine.
	c := dial(t, s)
	p := connectParams(testToken)
	p["client"].(map[string]any)["displayName"] = long[:maxConnectFieldBytes]
	if res := connectWith(c, p); res["ok"] != true {
		t.Fatalf("displayName at the limit refused: %v", res)
	}
}

// The reproduction: connects (and system-event beacons) with huge fields
// no longer grow every later hello-ok. 34 connects with a 400 KB
// displayName made hello-ok 27 MB.
func TestHelloOkStaysSmall(t *testing.T) {
	s := startServer(t, nil)
	huge := strings.Repeat("x", 400_000)
	for i := range 34 {
		c := dial(t, s)
		p := connectParams(testToken)
		cl := p["client"].(map[string]any)
		cl["mode"], cl["id"] = "ui", "clawdbot-macos"
		cl["displayName"], cl["instanceId"] = huge, fmt.Sprintf("inst-%d", i)
		connectWith(c, p)
		c.WS.CloseNow()
	}
	op := dial(t, s)
	op.Connect(connectParams(testToken))
	for i := range 34 {
		third := huge[:150_000] // three of them fit a 512 KiB frame
		res := op.Call("system-event", map[string]any{"text": third, "host": third, "instanceId": fmt.Sprintf("ev-%d", i), "version": third})
		if res["ok"] != true {
			t.Fatalf("system-event: %v", res)
		}
	}
	c := gatewaytest.Dial(t, s.Addr().String())
	hello := c.Connect(connectParams(testToken))
	b, _ := json.Marshal(hello)
	if len(b) > 300*1024 {
		t.Fatalf("hello-ok is %d bytes", len(b))
	}
	t.Logf("hello-ok: %d bytes", len(b))
}
