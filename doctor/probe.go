package doctor

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire/client"
)

// Target is where and how to reach a gateway for a probe.
type Target struct {
	URL       string
	BindMode  string // loopback | lan | tailnet | auto | custom
	BindHost  string // the address the gateway binds
	ProbeHost string // the address a local client dials
	Note      string
	Token     string
	Password  string
	// StateDir holds the CLI's device identity.
	StateDir string
}

// ProbeTarget derives the probe target for a gateway on port run with cfg
// (nil: defaults). Secrets: CLAWDBOT_GATEWAY_TOKEN/PASSWORD from getenv win
// over the config, as in the CLI's other commands.
func ProbeTarget(p profiles.Profile, cfg *profiles.Config, getenv func(string) string, port int) Target {
	t := Target{BindMode: "loopback", StateDir: p.StateDir}
	if cfg == nil {
		cfg = &profiles.Config{}
	}
	if cfg.Gateway.Bind != "" {
		t.BindMode = cfg.Gateway.Bind
	}
	t.BindHost, t.ProbeHost = "127.0.0.1", "127.0.0.1"
	switch t.BindMode {
	case "loopback":
		t.Note = "Loopback-only gateway; only local clients can connect."
	case "lan":
		t.BindHost = "0.0.0.0"
		t.Note = "bind=lan listens on all interfaces; probing via loopback (127.0.0.1)."
	case "tailnet":
		if ip := tailnetIPv4(); ip != "" {
			t.BindHost, t.ProbeHost = ip, ip
		} else {
			t.Note = "bind=tailnet but no Tailscale (100.64.0.0/10) address found; probing loopback."
		}
	case "custom":
		if h := strings.TrimSpace(cfg.Gateway.CustomBindHost); h != "" {
			t.BindHost, t.ProbeHost = h, h
		}
	}
	t.URL = "ws://" + net.JoinHostPort(t.ProbeHost, strconv.Itoa(port))
	auth := cfg.ResolvedAuth(getenv)
	t.Token, t.Password = auth.Token, auth.Password
	if getenv != nil {
		if v := strings.TrimSpace(getenv("CLAWDBOT_GATEWAY_TOKEN")); v != "" {
			t.Token = v
		}
		if v := getenv("CLAWDBOT_GATEWAY_PASSWORD"); strings.TrimSpace(v) != "" {
			t.Password = v
		}
	}
	return t
}

// tailnetIPv4 is the first interface address in Tailscale's CGNAT range.
func tailnetIPv4() string {
	_, cgnat, _ := net.ParseCIDR("100.64.0.0/10")
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && cgnat.Contains(n.IP) {
			return n.IP.String()
		}
	}
	return ""
}

// Probe connects to t, calls method once and returns the result, within the
// context's probe timeout.
func Probe(ctx context.Context, c *Context, t Target, method string) (json.RawMessage, error) {
	return ProbeWithTimeout(ctx, t, c.version(), c.probeTimeout(), method)
}

// ProbeWithTimeout is Probe with an explicit client version and timeout.
func ProbeWithTimeout(ctx context.Context, t Target, version string, timeout time.Duration, method string) (json.RawMessage, error) {
	opts := client.Options{URL: t.URL, Token: t.Token, Password: t.Password, StateDir: t.StateDir, Version: version}
	return client.CallOnce(ctx, opts, timeout, method, map[string]any{})
}
