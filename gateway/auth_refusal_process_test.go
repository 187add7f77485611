//go:build unix

package gateway_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lanConfig is a gateway on gateway.bind "lan" (a real 0.0.0.0 listener,
// reachable on 127.0.0.1) with procToken and SIGUSR1 restarts allowed.
func lanConfig() map[string]any {
	return map[string]any{
		"gateway": map[string]any{"mode": "local", "bind": "lan", "auth": map[string]any{"token": procToken},
			"reload": map[string]any{"debounceMs": 50}},
		"commands": map[string]any{"restart": true},
	}
}

// expectAuthStillOn checks that the gateway still wants procToken: a wrong
// token is refused, the right one gets config.get, and health/status carry
// the refusal as configError (containing want).
func expectAuthStillOn(t *testing.T, port int, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := connect(ctx, port, "wrong-token"); err == nil {
		c.ws.CloseNow()
		t.Fatal("a wrong token connected: auth turned off")
	}
	c := mustConnect(t, port, procToken)
	c.call(t, "config.get")
	for _, m := range []string{"health", "status"} {
		ce, _ := c.call(t, m)["configError"].(map[string]any)
		if msg, _ := ce["message"].(string); !strings.Contains(msg, want) {
			t.Errorf("%s configError = %v, want a message containing %q", m, ce, want)
		}
	}
	c.ws.CloseNow()
}

// Dropping the token (and the bind key, so the new file alone would be
// loopback and look fine) must not restart a gateway whose listener stays
// on 0.0.0.0 with auth none: neither on hot reload nor on SIGUSR1. One
// error line per edit; a fixed file is applied and clears the error.
func TestProcessLanRefusesReloadWithoutAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{config: lanConfig()})
	g.waitLog("gateway listening on ws://0.0.0.0:", 5*time.Second)
	held := mustConnect(t, g.port, procToken)

	g.writeConfig(map[string]any{"gateway": map[string]any{"mode": "local", "reload": map[string]any{"debounceMs": 50}},
		"commands": map[string]any{"restart": true}})
	const refusal = "config reload refused; still serving the previous config: refusing to bind gateway to 0.0.0.0:"
	g.waitLog(refusal, 10*time.Second)
	expectAuthStillOn(t, g.port, "without auth")

	g.signal(syscall.SIGUSR1)
	g.waitLog("gateway restart refused; still serving the previous config: refusing to bind gateway to 0.0.0.0:", 10*time.Second)
	expectAuthStillOn(t, g.port, "without auth")
	if n := strings.Count(g.output(), refusal); n != 1 {
		t.Errorf("the edit logged %d refusals, want 1", n)
	}
	if strings.Contains(g.output(), "gateway restarted in process") {
		t.Fatal("the gateway restarted with the refused config")
	}

	// The held client was never cut: nothing restarted.
	held.call(t, "health")

	// A good file is applied (restart with the new token) and clears it.
	cfg := lanConfig()
	cfg["gateway"].(map[string]any)["auth"] = map[string]any{"token": "rotated-token-0123456789"}
	g.writeConfig(cfg)
	g.waitLog("gateway restarted in process (#1,", 10*time.Second)
	c := mustConnect(t, g.port, "rotated-token-0123456789")
	if ce, ok := c.call(t, "health")["configError"]; ok {
		t.Errorf("configError %v still reported after the file was fixed", ce)
	}
}

// With --allow-unconfigured a deleted (or moved) config is "no config",
// which alone would start on loopback with auth none: the 0.0.0.0
// listener keeps its token. An emptied file is a parse error.
func TestProcessLanRefusesDeletedOrEmptiedConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{config: lanConfig(), args: []string{"--allow-unconfigured"}})
	g.waitLog("gateway listening on ws://0.0.0.0:", 5*time.Second)

	if err := os.Rename(g.cfg, g.cfg+".moved"); err != nil {
		t.Fatal(err)
	}
	g.waitLog("config reload refused; still serving the previous config: refusing to bind gateway to 0.0.0.0:", 10*time.Second)
	expectAuthStillOn(t, g.port, "without auth")
	g.signal(syscall.SIGUSR1)
	g.waitLog("gateway restart refused; still serving the previous config: refusing to bind gateway to 0.0.0.0:", 10*time.Second)
	expectAuthStillOn(t, g.port, "without auth")

	g.writeRaw([]byte("  \n// nothing\n"))
	g.waitLog("config reload skipped (invalid config); still serving the previous config", 10*time.Second)
	expectAuthStillOn(t, g.port, "clawdbot.json")
	if strings.Contains(g.output(), "gateway restarted in process") {
		t.Fatal("the gateway restarted with a refused config")
	}
}

// Without --allow-unconfigured a deleted config is refused for its missing
// gateway.mode, the same rule as at start.
func TestProcessRefusesDeletedConfigWithoutMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	g := startGateway(t, gwOpts{config: lanConfig()})
	if err := os.Remove(g.cfg); err != nil {
		t.Fatal(err)
	}
	g.waitLog("config reload refused; still serving the previous config: Gateway start blocked: set gateway.mode=local", 10*time.Second)
	expectAuthStillOn(t, g.port, "gateway.mode")
}
