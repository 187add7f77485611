package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/profiles"
)

// The gateway port serves the Control UI for the GETs nothing else
// claims: / and the tab paths get the page, the canvas prefix, /v1 and
// other methods keep their own answers, and gateway.controlUi.enabled
// false or a base path moves or removes it.
func TestControlUIMount(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name string
		ui   profiles.ControlUIConfig
		reqs []struct {
			method, path string
			status       int
			want         string
		}
	}{
		{name: "default", reqs: []struct {
			method, path string
			status       int
			want         string
		}{
			{"GET", "/", 200, `data-testid="connection-status"`},
			{"GET", "/chat", 200, `<base href="/">`},
			{"GET", "/health", 200, `<base href="/">`},
			{"GET", "/js/gateway.js", 200, "clawdbot-control-ui"},
			{"HEAD", "/", 200, ""},
			{"GET", "/__clawdbot__/canvas/", 404, "Not Found"},
			{"GET", "/v1/chat/completions", 404, "Not Found"},
			{"POST", "/chat", 404, "Not Found"},
			{"GET", "/ui/", 404, "not found"},
		}},
		{name: "basePath", ui: profiles.ControlUIConfig{BasePath: "/cb/"}, reqs: []struct {
			method, path string
			status       int
			want         string
		}{
			{"GET", "/cb/", 200, `<base href="/cb/">`},
			{"GET", "/cb/config", 200, `<base href="/cb/">`},
			{"GET", "/", 404, "Not Found"},
		}},
		{name: "disabled", ui: profiles.ControlUIConfig{Enabled: &off}, reqs: []struct {
			method, path string
			status       int
			want         string
		}{
			{"GET", "/", 404, "Not Found"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &profiles.Config{}
			cfg.Gateway.ControlUI = tc.ui
			s := startServer(t, func(o *Options) { o.Runtime.Config = cfg })
			base := "http://" + s.Addr().String()
			for _, r := range tc.reqs {
				req, _ := http.NewRequest(r.method, base+r.path, nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != r.status || !strings.Contains(string(b), r.want) {
					t.Errorf("%s %s: %d %.80q, want %d with %q", r.method, r.path, res.StatusCode, b, r.status, r.want)
				}
				if r.status == 200 && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
					t.Errorf("%s %s: CSP %q", r.method, r.path, res.Header.Get("Content-Security-Policy"))
				}
			}
		})
	}
}
