package gateway

import (
	"crypto/subtle"

	"github.com/clawdbot/clawdbot/wire"
)

// The handshake's auth step: the shared secret of the runtime's Auth, with
// the failed-attempt limiter (gateway/internal/faillimit) in front of it
// (doc/protocol.md §10.1). Device tokens are
// the fallback, checked by gateway/devices.

// checkSharedAuth compares the presented secret with the configured one in
// constant time (the original compares tokens with !==) and returns the
// failure message of doc/protocol.md §2.2, or "".
func checkSharedAuth(a Auth, token, password string, client wire.ClientInfo) string {
	switch a.Mode {
	case AuthToken:
		if token == "" {
			return "unauthorized: gateway token missing (" + authHint(client, false) + ")"
		}
		if !secretEqual(token, a.Token) {
			return "unauthorized: gateway token mismatch (" + authHint(client, false) + ")"
		}
	case AuthPassword:
		if password == "" {
			return "unauthorized: gateway password missing (" + authHint(client, true) + ")"
		}
		if !secretEqual(password, a.Password) {
			return "unauthorized: gateway password mismatch (" + authHint(client, true) + ")"
		}
	}
	return ""
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authHint is the client-specific hint of an auth failure, chosen like the
// original's formatGatewayAuthFailureMessage: a CLI is any client in mode
// "cli" (isGatewayCliClient), the UI hint goes to the Control UI and to
// webchat clients (mode "webchat" or id "webchat-ui", isWebchatClient).
func authHint(client wire.ClientInfo, password bool) string {
	switch {
	case client.Mode == "cli":
		if password {
			return "set gateway.remote.password to match gateway.auth.password"
		}
		return "set gateway.remote.token to match gateway.auth.token"
	case client.ID == "clawdbot-control-ui" || client.Mode == "webchat" || client.ID == "webchat-ui":
		if password {
			return "enter the password in Control UI settings"
		}
		return "open a tokenized dashboard URL or paste token in Control UI settings"
	}
	if password {
		return "provide gateway auth password"
	}
	return "provide gateway auth token"
}
