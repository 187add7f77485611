//go:build !windows

package cli

import "github.com/clawdbot/clawdbot/gateway"

// serveGateway runs the gateway in the foreground. launchd and systemd
// supervise a plain foreground process (readiness goes through sd_notify),
// so nothing differs when they start us.
func serveGateway(env *Env, srv *gateway.Server, run GatewayRun) int {
	return serveGatewayLifecycle(env, srv, run)
}
