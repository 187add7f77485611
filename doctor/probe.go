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
	// ExplicitAuth: Token/Password came from the command line, so they are
	// sent and checked even when a device token is stored (client.Options).
	ExplicitAuth bool
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
	// Where the gateway listens comes from the same function the gateway
	// uses; a local client reaches a wildcard or loopback bind on 127.0.0.1.
	t.BindHost, t.ProbeHost = "127.0.0.1", "127.0.0.1"
	if h, err := profiles.BindHost(t.BindMode, cfg.Gateway.CustomBindHost); err == nil {
		t.BindHost = h
		if h != "0.0.0.0" && !profiles.IsLoopbackHost(h) {
			t.ProbeHost = h
		}
	}
	switch t.BindMode {
	case "loopback":
		t.Note = "Loopback-only gateway; only local clients can connect."
	case "lan":
		t.Note = "bind=lan listens on all interfaces; probing via loopback (127.0.0.1)."
	case "tailnet":
		if t.BindHost == "127.0.0.1" {
			t.Note = "bind=tailnet but no Tailscale (100.64.0.0/10) address found; probing loopback."
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

// Probe connects to t, calls method once and returns the result, within the
// context's probe timeout.
func Probe(ctx context.Context, c *Context, t Target, method string) (json.RawMessage, error) {
	return ProbeWithTimeout(ctx, t, c.version(), c.probeTimeout(), method)
}

// ProbeWithTimeout is Probe with an explicit client version and timeout.
func ProbeWithTimeout(ctx context.Context, t Target, version string, timeout time.Duration, method string) (json.RawMessage, error) {
	opts := client.Options{URL: t.URL, Token: t.Token, Password: t.Password, ExplicitAuth: t.ExplicitAuth,
		StateDir: t.StateDir, Version: version}
	return client.CallOnce(ctx, opts, timeout, method, map[string]any{})
}
