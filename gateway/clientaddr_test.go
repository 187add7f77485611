package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/internal/faillimit"
)

// The client address behind trusted proxies: the right-most
// X-Forwarded-For entry that is not a trusted proxy (nginx
// real_ip_recursive), never the client-written left part.
func TestResolveClient(t *testing.T) {
	trusted := newProxySet([]string{"127.0.0.1", " 10.0.0.2 ", "192.168.50.0/24", "::1", "not-an-ip"})
	cases := []struct {
		name      string
		peer      string
		xff       []string
		xrealip   string
		ip        string
		forwarded bool
	}{
		{"direct loopback", "127.0.0.1:5000", nil, "", "127.0.0.1", false},
		{"direct remote", "198.51.100.1:5000", nil, "", "198.51.100.1", false},
		{"untrusted peer: headers ignored", "198.51.100.1:5000", []string{"203.0.113.9"}, "203.0.113.8", "198.51.100.1", false},
		{"one hop", "127.0.0.1:5000", []string{"203.0.113.7"}, "", "203.0.113.7", true},
		{"spoofed loopback prefix", "127.0.0.1:5000", []string{"127.0.0.1, 203.0.113.7"}, "", "203.0.113.7", true},
		{"spoofed prefix, chain of proxies", "127.0.0.1:5000", []string{"127.0.0.1, 203.0.113.7, 10.0.0.2"}, "", "203.0.113.7", true},
		{"proxy subnet", "127.0.0.1:5000", []string{"1.1.1.1, 203.0.113.7, 192.168.50.9"}, "", "203.0.113.7", true},
		{"every hop trusted: the left-most", "127.0.0.1:5000", []string{"10.0.0.2, 127.0.0.1"}, "", "10.0.0.2", true},
		{"forwarded loopback", "127.0.0.1:5000", []string{"127.0.0.1"}, "", "127.0.0.1", true},
		{"several headers are one list", "127.0.0.1:5000", []string{"127.0.0.1", "203.0.113.7"}, "", "203.0.113.7", true},
		{"hop with port", "127.0.0.1:5000", []string{"203.0.113.7:4711"}, "", "203.0.113.7", true},
		{"ipv6 hop in brackets", "127.0.0.1:5000", []string{"[2001:db8::7]"}, "", "2001:db8::7", true},
		{"mapped ipv4 unmapped", "127.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "", "203.0.113.7", true},
		{"garbage stops at last known hop", "127.0.0.1:5000", []string{"203.0.113.7, bogus"}, "", "127.0.0.1", true},
		{"empty entries skipped", "127.0.0.1:5000", []string{"203.0.113.7, , "}, "", "203.0.113.7", true},
		{"x-real-ip", "127.0.0.1:5000", nil, "203.0.113.6", "203.0.113.6", true},
		{"x-real-ip garbage", "127.0.0.1:5000", nil, "garbage", "127.0.0.1", true},
		{"xff wins over x-real-ip", "127.0.0.1:5000", []string{"203.0.113.7"}, "127.0.0.1", "203.0.113.7", true},
		{"ipv6 loopback peer trusted", "[::1]:5000", []string{"203.0.113.7"}, "", "203.0.113.7", true},
		{"trusted proxy's own request", "10.0.0.2:5000", nil, "", "10.0.0.2", false},
	}
	for _, tc := range cases {
		h := http.Header{}
		for _, v := range tc.xff {
			h.Add("X-Forwarded-For", v)
		}
		if tc.xrealip != "" {
			h.Set("X-Real-IP", tc.xrealip)
		}
		ip, fwd := resolveClient(tc.peer, h, trusted)
		if ip != tc.ip || fwd != tc.forwarded {
			t.Errorf("%s: got (%s, %v), want (%s, %v)", tc.name, ip, fwd, tc.ip, tc.forwarded)
		}
	}
}

// End to end through a trusted proxy on loopback: a client that prefixes
// "127.0.0.1, " to its X-Forwarded-For is still the remote address to its
// right, so wrong tokens are rate limited and its device is not paired
// silently.
func TestSpoofedForwardedForIsNotLocal(t *testing.T) {
	s := startServer(t, func(o *Options) { o.Runtime.TrustedProxies = []string{"127.0.0.1"} })
	hdr := http.Header{"X-Forwarded-For": {"127.0.0.1, 203.0.113.7"}}
	viaProxy := func() *testClient {
		ws, _, err := websocket.Dial(t.Context(), "ws://"+s.Addr().String(), &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		c := gatewaytest.Wrap(t, ws)
		c.Nonce = c.Read()["payload"].(map[string]any)["nonce"].(string)
		return c
	}

	// Pairing: a signed device with the right token waits for approval.
	c := viaProxy()
	c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": signedParams(newIdentity(t, 41), testToken, c.Nonce, cliScopes, time.Now().UnixMilli())})
	code, msg := errOf(t, c.ReadRes())
	if code != "NOT_PAIRED" || msg != "pairing required" {
		t.Fatalf("device behind a spoofed XFF: %s %q, want NOT_PAIRED pairing required (not silent pairing)", code, msg)
	}
	op := dial(t, s)
	op.Connect(connectParams(testToken))
	pending := op.Call("device.pair.list", map[string]any{})["payload"].(map[string]any)["pending"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["remoteIp"] != "203.0.113.7" {
		t.Fatalf("pending = %v, want one request from 203.0.113.7", pending)
	}

	// Rate limit: the failed-auth exemption is for local clients only.
	var last string
	for range faillimit.MaxFails + 1 {
		r := viaProxy()
		r.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": connectParams("wrong")})
		_, last = errOf(t, r.ReadRes())
	}
	if !strings.Contains(last, "too many failed attempts") {
		t.Fatalf("wrong tokens behind a spoofed XFF not limited: last = %q", last)
	}
	// The limit is per client address: a direct local client is not hit.
	dial(t, s).Connect(connectParams(testToken))
}
