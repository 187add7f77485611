package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawdbot/clawdbot/doctor"
	"github.com/clawdbot/clawdbot/supervise"
)

func TestLastGatewayError(t *testing.T) {
	f := newFixture(t, supervise.Launchd, "", "")
	logs := f.c.Profile.LogDir()
	os.MkdirAll(logs, 0o700)
	errLog := filepath.Join(logs, "gateway.err.log")
	os.WriteFile(errLog, []byte("starting\nGateway start blocked: set gateway.mode=local (current: unset) or pass --allow-unconfigured.\nbye\n"), 0o600)
	inst := supervise.Spec{Platform: supervise.Launchd, StderrPath: errLog}
	if got := doctor.LastGatewayError(context.Background(), f.c, inst, f.c.Profile); got != "Gateway start blocked: set gateway.mode=local (current: unset) or pass --allow-unconfigured." {
		t.Errorf("launchd stderr: %q", got)
	}
	// No launchd files: the gateway's own JSON file log, warn/error lines only.
	os.Remove(errLog)
	os.WriteFile(filepath.Join(logs, "gateway-2026-01-01.log"), []byte(`{"level":"error","msg":"old"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(logs, "gateway-2026-01-02.log"), []byte(
		`{"level":"error","msg":"failed to bind gateway socket on ws://127.0.0.1:1: permission denied"}`+"\n"+`{"level":"info","msg":"shutting down"}`+"\n"), 0o600)
	if got := doctor.LastGatewayError(context.Background(), f.c, supervise.Spec{}, f.c.Profile); got != "error: failed to bind gateway socket on ws://127.0.0.1:1: permission denied" {
		t.Errorf("file log: %q", got)
	}
}
