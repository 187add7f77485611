package cli

// The first screen of `clawdbot gateway`: after the "listening" line, what
// a newcomer needs next, with their own profile flags: how clients
// authenticate, the address of the Control UI, the one command that talks
// to this gateway, and how to stop it.

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/gateway/controlui"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// gatewayBanner is what the first screen says, resolved before serving.
type gatewayBanner struct {
	auth string                // "token (gateway.auth.token in …)"
	ui   func(port int) string // "" when gateway.controlUi is off
	call func(port int) string
	stop string
}

// newGatewayBanner resolves the first screen of a gateway about to serve
// with auth on bindHost.
func newGatewayBanner(env *Env, prof profiles.Profile, cfg *profiles.Config, f GatewayFlags, auth gateway.Auth, bindHost string) gatewayBanner {
	b := gatewayBanner{auth: describeAuth(prof, cfg.ResolvedAuth(env.Getenv), f, auth, env.Hint("clawdbot setup"))}
	b.call = func(port int) string { return gatewayCallHint(env, bindHost, port, auth) }
	b.ui = func(port int) string { return controlUIHint(cfg.Gateway.ControlUI, bindHost, port, auth) }
	if env.Getenv(supervise.EnvMarker) != "" {
		// Started by launchd/systemd/the SCM: Ctrl-C is nobody's to press,
		// and a killed gateway is restarted.
		b.stop = fmt.Sprintf("%s (it runs as a service)", env.Hint("clawdbot gateway stop"))
	} else {
		b.stop = "Ctrl-C"
	}
	return b
}

// write prints the first screen for the bound address.
func (b gatewayBanner) write(w io.Writer, addr net.Addr) {
	port := 0
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = ta.Port
	} else if _, p, err := net.SplitHostPort(addr.String()); err == nil {
		port, _ = strconv.Atoi(p)
	}
	fmt.Fprintf(w, "Auth:  %s\n", b.auth)
	if ui := b.ui(port); ui != "" {
		fmt.Fprintf(w, "UI:    %s\n", ui)
	}
	fmt.Fprintf(w, "Try:   %s\nStop:  %s\n", b.call(port), b.stop)
}

// describeAuth names the auth mode and where its secret came from (never
// the secret).
func describeAuth(prof profiles.Profile, ra profiles.ResolvedAuth, f GatewayFlags, auth gateway.Auth, setup string) string {
	source := func(flag, flagValue, src, key, envVar string) string {
		switch {
		case flagValue != "":
			return flag
		case src == "env":
			return envVar
		}
		return key + " in " + prof.ConfigPath
	}
	switch auth.Mode {
	case gateway.AuthToken:
		return "token (" + source("--token", f.Token, ra.TokenSource, "gateway.auth.token", "CLAWDBOT_GATEWAY_TOKEN") + ")"
	case gateway.AuthPassword:
		return "password (" + source("--password", f.Password, ra.PasswordSource, "gateway.auth.password", "CLAWDBOT_GATEWAY_PASSWORD") + ")"
	}
	return "none: any local client may connect (loopback only; '" + setup + "' adds a token)"
}

// gatewayCallHint is the command that reaches this gateway from another
// shell of the same user: `clawdbot [--dev|--profile P] gateway call
// health`, plus --url when the CLI would look elsewhere (a --port or --bind
// the config does not have) and a --token/--password placeholder when the
// secret was given only on this command line.
// controlUIHint is the Control UI's address on this gateway (never with
// the secret: the page asks for it once), or "" when it is off.
func controlUIHint(ui profiles.ControlUIConfig, bindHost string, port int, auth gateway.Auth) string {
	if ui.Enabled != nil && !*ui.Enabled {
		return ""
	}
	base, err := controlui.NormalizeBasePath(ui.BasePath)
	if err != nil {
		return ""
	}
	host := bindHost
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + base + "/"
	switch auth.Mode {
	case gateway.AuthToken:
		url += " (the page asks for the gateway token once)"
	case gateway.AuthPassword:
		url += " (the page asks for the gateway password once)"
	}
	return url
}

func gatewayCallHint(env *Env, bindHost string, port int, auth gateway.Auth) string {
	host := bindHost
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // a wildcard bind answers on loopback too
	}
	url := "ws://" + net.JoinHostPort(host, strconv.Itoa(port))
	cmd := "clawdbot gateway call health"
	quiet := *env
	quiet.Stderr = io.Discard // the gateway has already reported config problems
	t, err := resolveGatewayTarget(&quiet, clientFlags{})
	if err != nil || t.URL != url {
		cmd += " --url " + url
	}
	switch {
	case auth.Mode == gateway.AuthToken && t.Opts.Token != auth.Token:
		cmd += " --token <the token given to this gateway>"
	case auth.Mode == gateway.AuthPassword && t.Opts.Password != auth.Password:
		cmd += " --password <the password given to this gateway>"
	}
	return env.Hint(cmd)
}
