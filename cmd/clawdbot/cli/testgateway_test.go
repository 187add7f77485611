package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
)

// testGateway is a real gateway on 127.0.0.1:0 with its own state dir,
// token auth and, when config is not "", that clawdbot.json; it is shut
// down when the test ends. The CLI tests that talk to a gateway use it.
type testGateway struct {
	url   string // ws://127.0.0.1:PORT
	state string // the state dir; the config is state/clawdbot.json
}

func startTestGateway(t *testing.T, token, config string) *testGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	cfgPath := filepath.Join(state, "clawdbot.json")
	if config != "" {
		if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := gateway.New(gateway.Options{Listener: ln, StateDir: state, ConfigPath: cfgPath,
		Version: "test", Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: gateway.AuthToken, Token: token}}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &testGateway{url: "ws://" + ln.Addr().String(), state: state}
}
