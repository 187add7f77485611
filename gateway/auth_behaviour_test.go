package gateway

import (
	"testing"
)

// The hint in an auth failure depends on the client the way the original's
// formatGatewayAuthFailureMessage decides it: a CLI is any client in mode
// "cli" (isGatewayCliClient), the UI hint goes to the Control UI id and to
// webchat clients (mode "webchat" or id "webchat-ui"), everyone else gets
// the generic hint (doc/protocol.md §2.2).
func TestAuthHintByClient(t *testing.T) {
	const (
		cliTok = "set gateway.remote.token to match gateway.auth.token"
		uiTok  = "open a tokenized dashboard URL or paste token in Control UI settings"
		genTok = "provide gateway auth token"
		cliPw  = "set gateway.remote.password to match gateway.auth.password"
		uiPw   = "enter the password in Control UI settings"
		genPw  = "provide gateway auth password"
	)
	cases := []struct {
		id, mode    string
		tok, passwd string
	}{
		{"cli", "cli", cliTok, cliPw},
		{"gateway-client", "cli", cliTok, cliPw}, // the mode decides, not the id
		{"cli", "backend", genTok, genPw},
		{"gateway-client", "webchat", uiTok, uiPw},
		{"webchat-ui", "ui", uiTok, uiPw},
		{"webchat", "ui", genTok, genPw}, // id "webchat" is not the webchat-ui id
		{"clawdbot-macos", "ui", genTok, genPw},
	}
	tokSrv := startServer(t, nil)
	pwSrv := startServer(t, func(o *Options) { o.Runtime.Auth = Auth{Mode: AuthPassword, Password: "pw-0123456789"} })
	for _, tc := range cases {
		p := connectParams("wrong-token")
		p["client"] = map[string]any{"id": tc.id, "mode": tc.mode, "platform": "linux", "version": "1"}
		c := dial(t, tokSrv)
		c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": p})
		want := "unauthorized: gateway token mismatch (" + tc.tok + ")"
		if _, msg := errOf(t, c.ReadRes()); msg != want {
			t.Errorf("%s/%s token mode:\n got %q\nwant %q", tc.id, tc.mode, msg, want)
		}
		c.ExpectClose(1008, want)

		c = dial(t, pwSrv)
		c.Send(map[string]any{"type": "req", "id": "a", "method": "connect", "params": p})
		want = "unauthorized: gateway password missing (" + tc.passwd + ")"
		if _, msg := errOf(t, c.ReadRes()); msg != want {
			t.Errorf("%s/%s password mode:\n got %q\nwant %q", tc.id, tc.mode, msg, want)
		}
	}
}
