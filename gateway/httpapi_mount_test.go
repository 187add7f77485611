package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// The gateway port routes /v1/* and the hooks path to the HTTP API as
// its config enables them; everything else stays a plain 404. An enabled,
// authorized endpoint reaches the handler (its own tests and the chat e2e
// test run turns through it).
func TestHTTPAPIRouting(t *testing.T) {
	cfg := &profiles.Config{}
	cfg.Gateway.HTTP.Endpoints.ChatCompletions.Enabled = true
	cfg.Hooks = profiles.HooksConfig{Enabled: true, Token: "hook-tok", Path: "/in"}
	s := startServer(t, func(o *Options) { o.Runtime.Config = cfg })
	base := "http://" + s.Addr().String()
	for _, tc := range []struct {
		path, auth string
		status     int
		want       string
	}{
		{"/v1/chat/completions", "", 401, `"type":"unauthorized"`},
		// Routed to the handler, which is wired to the agent runner: an
		// empty body is the handler's own 400.
		{"/v1/chat/completions", testToken, 400, "missing_user_message"},
		{"/v1/responses", testToken, 404, "Not Found"},
		{"/in/wake", "", 401, "Unauthorized"},
		{"/in/wake", "hook-tok", 400, "text required"},
		{"/hooks/wake", "hook-tok", 404, "Not Found"},
		{"/other", testToken, 404, "Not Found"},
	} {
		req, _ := http.NewRequest("POST", base+tc.path, strings.NewReader(`{}`))
		if tc.auth != "" {
			req.Header.Set("Authorization", "Bearer "+tc.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %s, want %d %s", tc.path, res.StatusCode, b, tc.status, tc.want)
		}
	}
}

// A hooks config the original refuses to start with fails the runtime.
func TestHTTPAPIBadHooksConfig(t *testing.T) {
	cfg := &profiles.Config{Hooks: profiles.HooksConfig{Enabled: true}}
	_, err := New(Options{Addr: "127.0.0.1:0", StateDir: t.TempDir(),
		Runtime: RuntimeConfig{Config: cfg, Auth: Auth{Mode: AuthToken, Token: testToken}}})
	if err == nil || !strings.Contains(err.Error(), "hooks.enabled requires hooks.token") {
		t.Fatalf("err %v", err)
	}
}
