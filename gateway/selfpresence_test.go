package gateway

import (
	"testing"
)

// Without a non-internal IPv4 the self entry's ip is the host name, as the
// original's resolvePrimaryIPv4 falls back to os.hostname(), and the text
// names it; with one, the address.
func TestSelfPresenceIPFallback(t *testing.T) {
	for _, c := range []struct{ ip, wantIP, wantText string }{
		{"", "vm", "Gateway: vm (vm) · app unknown · mode gateway · reason self"},
		{"192.0.2.2", "192.0.2.2", "Gateway: vm (192.0.2.2) · app unknown · mode gateway · reason self"},
	} {
		e := selfPresenceWith("vm", "unknown", c.ip)
		if e.IP != c.wantIP || e.Text != c.wantText || e.Mode != "gateway" || e.Reason != "self" {
			t.Errorf("ip %q: entry = %+v", c.ip, e)
		}
	}
}

// The first connection after start already gets a health summary in
// hello-ok, not the empty {} of a cache nobody filled yet, and the
// stateVersion.health it carries is that summary's.
func TestHelloOkHealthFromFirstConnection(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	h := c.Connect(connectParams(testToken))
	snap := h["snapshot"].(map[string]any)
	health, _ := snap["health"].(map[string]any)
	if health["ok"] != true || health["defaultAgentId"] != "main" {
		t.Fatalf("hello-ok snapshot.health = %v", snap["health"])
	}
	if v := snap["stateVersion"].(map[string]any)["health"].(float64); v < 2 {
		t.Fatalf("stateVersion.health = %v, want a refreshed version (>= 2)", v)
	}
}
