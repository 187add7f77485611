package profiles

import "strings"

// Auth modes after resolution (doc/protocol.md §10.1). Only token and password
// may be written in the config; none is what an unconfigured gateway gets.
const (
	AuthToken    = "token"
	AuthPassword = "password"
	AuthNone     = "none"
)

// ResolvedAuth is the gateway's effective shared-secret auth.
type ResolvedAuth struct {
	Mode     string // AuthToken, AuthPassword or AuthNone
	Token    string // gateway.auth.token ?? CLAWDBOT_GATEWAY_TOKEN
	Password string // gateway.auth.password ?? CLAWDBOT_GATEWAY_PASSWORD
	// TokenSource and PasswordSource say where the secret came from:
	// "config", "env" or "" when absent.
	TokenSource    string
	PasswordSource string
}

// ResolvedAuth resolves the gateway auth from the config and the environment
// (doc/protocol.md §10.1): each secret comes from the config, else its env var;
// the mode is the configured one, else password if a password exists, else
// token if a token exists, else none. CLI flags (--token, --password,
// --auth) are applied by the caller on top. A nil getenv reads nothing.
func (c *Config) ResolvedAuth(getenv func(string) string) ResolvedAuth {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var a ResolvedAuth
	var cfg GatewayAuthConfig
	if c != nil {
		cfg = c.Gateway.Auth
	}
	if v := strings.TrimSpace(cfg.Token); v != "" {
		a.Token, a.TokenSource = v, "config"
	} else if v := strings.TrimSpace(getenv("CLAWDBOT_GATEWAY_TOKEN")); v != "" {
		a.Token, a.TokenSource = v, "env"
	}
	if v := cfg.Password; strings.TrimSpace(v) != "" {
		a.Password, a.PasswordSource = v, "config"
	} else if v := getenv("CLAWDBOT_GATEWAY_PASSWORD"); strings.TrimSpace(v) != "" {
		a.Password, a.PasswordSource = v, "env"
	}
	a.Mode = cfg.Mode
	if a.Mode == "" {
		a.Mode = InferAuthMode(a.Password, a.Token)
	}
	return a
}

// InferAuthMode is the mode when none is configured (doc/protocol.md §10.1): password
// if a password exists, else token if a token exists, else none.
func InferAuthMode(password, token string) string {
	switch {
	case password != "":
		return AuthPassword
	case token != "":
		return AuthToken
	default:
		return AuthNone
	}
}

// Missing returns a one-line error naming the fix when the mode needs a
// secret that is not set (the gateway refuses to start then), else "".
func (a ResolvedAuth) Missing() string {
	switch {
	case a.Mode == AuthToken && a.Token == "":
		return "gateway auth mode is token but no token is set (set gateway.auth.token or CLAWDBOT_GATEWAY_TOKEN, or pass --token)"
	case a.Mode == AuthPassword && a.Password == "":
		return "gateway auth mode is password but no password is set (set gateway.auth.password or CLAWDBOT_GATEWAY_PASSWORD, or pass --password)"
	}
	return ""
}
