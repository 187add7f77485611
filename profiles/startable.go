package profiles

import (
	"errors"
	"fmt"
	"strings"
)

// ExitMisconfigured is the exit code of a gateway that refuses its config
// (EX_CONFIG): services carry RestartPreventExitStatus=78, so a supervisor
// does not restart a gateway that would only refuse again.
const ExitMisconfigured = 78

// ErrNotStartable is wrapped by every *StartError, so a caller can test
// errors.Is(err, ErrNotStartable) and exit ExitMisconfigured.
var ErrNotStartable = errors.New("the gateway would not start with this config")

// StartReason says which rule of CheckStartable refused a config. The
// values are stable: doctor, health and status may show them.
type StartReason string

// The reasons, in the order CheckStartable checks them.
const (
	StartConfigMissing   StartReason = "config-missing"
	StartConfigInvalid   StartReason = "config-invalid"
	StartModeNotLocal    StartReason = "gateway-mode-not-local"
	StartAuthModeUnknown StartReason = "auth-mode-unknown"
	StartAuthNoSecret    StartReason = "auth-secret-missing"
	StartBindInvalid     StartReason = "bind-invalid"
	StartBindWithoutAuth StartReason = "bind-without-auth"
)

// StartError is why the gateway would refuse a config. Error() is one line
// that names the fix; Fix is the command or edit alone (profile-aware), for
// callers that print hints separately.
type StartError struct {
	Reason StartReason
	Msg    string
	Fix    string
	// Issues are the config's issues for StartConfigInvalid.
	Issues []Issue
}

func (e *StartError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrNotStartable) true.
func (e *StartError) Unwrap() error { return ErrNotStartable }

// ExitCode is ExitMisconfigured: every refusal is a misconfiguration.
func (e *StartError) ExitCode() int { return ExitMisconfigured }

// StartCheck is the context of CheckStartable: who asks, and what the
// gateway would use on top of the config.
type StartCheck struct {
	// Snapshot is the read of the file cfg came from. When set, a missing
	// file (unless AllowUnconfigured) and an invalid one are refused. When
	// nil, cfg is taken as read and valid (e.g. the config a running
	// gateway already holds); a nil cfg is then a missing config.
	Snapshot *Snapshot
	// AllowUnconfigured is --allow-unconfigured: a missing file and a
	// gateway.mode other than local are accepted.
	AllowUnconfigured bool
	// Service is set when the check is for a supervised gateway (gateway
	// install, doctor): the service runs without --allow-unconfigured, so
	// AllowUnconfigured is ignored and the messages do not offer it.
	Service bool
	// Getenv is the environment the gateway resolves secrets from
	// (CLAWDBOT_GATEWAY_TOKEN/PASSWORD); the config's env entries fill in
	// what it lacks, as they do once ApplyEnv ran. For a service pass the
	// service's environment (it carries no secrets), not the shell's.
	Getenv func(string) string
	// AuthMode, Token and Password are --auth, --token and --password;
	// they override the config as ResolveAuth describes.
	AuthMode, Token, Password string
	// Auth, when non-nil, is the auth the gateway already resolved (flags
	// applied); it replaces ResolveAuth.
	Auth *ResolvedAuth
	// Bind overrides gateway.bind (--bind).
	Bind string
	// Host is the host the listener actually serves on. When set it is
	// checked instead of the host Bind/gateway.bind resolve to: a restart
	// keeps the listener, so the rule must hold for the address that
	// really accepts connections, not for the new config's wish.
	Host string
	// Port labels messages ("refusing to bind gateway to HOST:PORT").
	Port int
	// Profile makes the fixes carry --profile/--dev (FormatHint).
	Profile string
}

// ResolveAuth is the auth the gateway would run with: the config and the
// environment (Config.ResolvedAuth), then the flags: --token and
// --password replace the secrets; the mode is --auth, else password when
// --password is given, else token when --token is given, else the
// config's (explicit or inferred) mode.
func (o StartCheck) ResolveAuth(cfg *Config) ResolvedAuth {
	if o.Auth != nil {
		return *o.Auth
	}
	a := cfg.ResolvedAuth(o.getenv(cfg))
	if o.Token != "" {
		a.Token, a.TokenSource = o.Token, "flag"
	}
	if o.Password != "" {
		a.Password, a.PasswordSource = o.Password, "flag"
	}
	switch {
	case o.AuthMode != "":
		a.Mode = o.AuthMode
	case o.Password != "":
		a.Mode = AuthPassword
	case o.Token != "":
		a.Mode = AuthToken
	}
	return a
}

// getenv is o.Getenv with the config's env entries as fallback.
func (o StartCheck) getenv(cfg *Config) func(string) string {
	vars := cfg.EnvVars()
	return func(k string) string {
		if o.Getenv != nil {
			if v := o.Getenv(k); strings.TrimSpace(v) != "" {
				return v
			}
		}
		return vars[k]
	}
}

// ResolveHost is the host the gateway would listen on: Host when set, else
// BindHost(Bind or gateway.bind, gateway.customBindHost).
func (o StartCheck) ResolveHost(cfg *Config) (string, error) {
	if o.Host != "" {
		return o.Host, nil
	}
	bind := o.Bind
	var custom string
	if cfg != nil {
		if bind == "" {
			bind = cfg.Gateway.Bind
		}
		custom = cfg.Gateway.CustomBindHost
	}
	return BindHost(bind, custom)
}

// CheckStartable is the one rule for "would this config start the
// gateway?" (doc/protocol.md §10.3). The CLI (`gateway`, `gateway install`),
// doctor and the gateway itself (gateway.New and every restart or reload,
// with Host set to the listener's real host) call it, so a config the
// gateway would refuse is refused everywhere with the same words. It
// returns nil or a *StartError, checking in this order:
//
//   - the config is missing (unless AllowUnconfigured);
//   - it is invalid (syntax, types, values; an empty file is invalid);
//   - gateway.mode is not "local" (unless AllowUnconfigured);
//   - the auth mode is unknown, or it needs a secret that is not set;
//   - the bind host is invalid, or is not loopback while auth is none.
func CheckStartable(cfg *Config, opts StartCheck) error {
	allow := opts.AllowUnconfigured && !opts.Service
	hint := func(cmd string) string { return FormatHint(opts.Profile, cmd) }
	snap := opts.Snapshot
	if snap != nil && cfg == nil {
		cfg = snap.Config
	}
	exists := snap == nil || snap.Exists
	path := "the config file"
	if snap != nil && snap.Path != "" {
		path = snap.Path
	}
	switch {
	case snap != nil && !snap.Exists, snap == nil && cfg == nil:
		if allow {
			break
		}
		msg := fmt.Sprintf("Missing config %s: the gateway does not start without one. Run '%s'", path, hint("clawdbot setup"))
		if !opts.Service {
			msg += " (or pass --allow-unconfigured)"
		}
		return &StartError{Reason: StartConfigMissing, Msg: msg + ".", Fix: hint("clawdbot setup")}
	case snap != nil && !snap.Valid:
		fix := hint("clawdbot config validate")
		return &StartError{Reason: StartConfigInvalid, Issues: snap.Issues, Fix: fix,
			Msg: fmt.Sprintf("invalid config: %v (fix it; check with '%s')", snap.Err(), fix)}
	}
	if cfg == nil {
		cfg = &Config{}
	}
	if exists && cfg.Gateway.Mode != "local" && !allow {
		cur := cfg.Gateway.Mode
		if cur == "" {
			cur = "unset"
		}
		msg := fmt.Sprintf("Gateway start blocked: set gateway.mode=local (current: %s)", cur)
		fix := "set gateway.mode to \"local\" in " + path
		if cfg.Gateway.Mode == "" {
			fix = hint("clawdbot setup")
		}
		if opts.Service {
			msg += " in " + path + "."
		} else {
			msg += " or pass --allow-unconfigured."
		}
		return &StartError{Reason: StartModeNotLocal, Msg: msg, Fix: fix}
	}

	// Only token and password may be asked for; none is what a gateway
	// without any secret resolves to.
	if m := opts.AuthMode; m != "" && opts.Auth == nil && m != AuthToken && m != AuthPassword {
		return &StartError{Reason: StartAuthModeUnknown, Fix: "pass --auth token or --auth password",
			Msg: fmt.Sprintf("invalid --auth %q (use token or password)", m)}
	}
	auth := opts.ResolveAuth(cfg)
	switch auth.Mode {
	case AuthToken, AuthPassword, AuthNone:
	default:
		return &StartError{Reason: StartAuthModeUnknown, Fix: `set gateway.auth.mode to "token" or "password" in ` + path,
			Msg: fmt.Sprintf("unknown gateway auth mode %q (use token or password)", auth.Mode)}
	}
	if m := auth.Missing(); m != "" {
		fix := "set gateway.auth.token in " + path
		if auth.Mode == AuthPassword {
			fix = "set gateway.auth.password in " + path
		}
		return &StartError{Reason: StartAuthNoSecret, Msg: m, Fix: fix}
	}

	host, err := opts.ResolveHost(cfg)
	if err != nil {
		return &StartError{Reason: StartBindInvalid, Msg: err.Error(), Fix: "fix gateway.bind/gateway.customBindHost in " + path + " or pass --bind loopback"}
	}
	if auth.Mode == AuthNone && !IsLoopbackHost(host) {
		return &StartError{Reason: StartBindWithoutAuth, Fix: hint("clawdbot doctor --generate-gateway-token"),
			Msg: fmt.Sprintf("refusing to bind gateway to %s without auth (set gateway.auth.token or CLAWDBOT_GATEWAY_TOKEN, or pass --token)", hostPort(host, opts.Port))}
	}
	return nil
}

// hostPort joins host and port for messages; port 0 leaves it out.
func hostPort(host string, port int) string {
	if port == 0 {
		return host
	}
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
