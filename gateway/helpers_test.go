package gateway

import (
	"testing"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
)

const testToken = "peer-token-0123456789"

// testClient is the raw protocol client of gatewaytest.
type testClient = gatewaytest.Client

// startServer runs a real gateway on 127.0.0.1:0 with a temp state dir.
func startServer(t testing.TB, mod func(*Options)) *Server {
	t.Helper()
	opts := Options{
		Addr:     "127.0.0.1:0",
		StateDir: t.TempDir(),
		Runtime:  RuntimeConfig{Auth: Auth{Mode: AuthToken, Token: testToken}},
	}
	opts.ConfigPath = opts.StateDir + "/clawdbot.json"
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return gatewaytest.Serve(t, s)
}

func dial(t testing.TB, s *Server) *testClient { return gatewaytest.Dial(t, s.Addr().String()) }

var (
	connectParams = gatewaytest.ConnectParams
	errOf         = gatewaytest.ErrOf
)
