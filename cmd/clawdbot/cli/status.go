package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

func init() {
	Register(&Command{Path: "status", Summary: "show this profile's setup and whether its gateway answers", Run: runStatus,
		Exits: []ExitCode{{ExitOK, "report printed (also when the gateway does not answer: it is a report)"}, {ExitFailure, "the report could not be made"}, {Code: ExitUsage}}})
}

// statusReport is `clawdbot status --json`: a small, honest subset of the
// original's report. The gateway object keeps the original's field names.
type statusReport struct {
	Profile    string        `json:"profile"`
	StateDir   string        `json:"stateDir"`
	ConfigPath string        `json:"configPath"`
	Config     string        `json:"config"` // ok | missing | invalid: <why>
	LogFile    string        `json:"logFile"`
	OS         statusOS      `json:"os"`
	Gateway    statusGateway `json:"gateway"`
}

type statusOS struct {
	Platform string `json:"platform"`
	Arch     string `json:"arch"`
}

type statusGateway struct {
	Mode             string      `json:"mode"`
	URL              string      `json:"url"`
	URLSource        string      `json:"urlSource"`
	Reachable        bool        `json:"reachable"`
	ConnectLatencyMs *int64      `json:"connectLatencyMs"`
	Self             *statusSelf `json:"self"`
	Error            *string     `json:"error"`
}

type statusSelf struct {
	Host    string `json:"host,omitempty"`
	Version string `json:"version,omitempty"`
}

func runStatus(env *Env, args []string) int {
	var cf clientFlags
	var asJSON bool
	fs := env.FlagSet("status", "status [--json] [--timeout ms]")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	cf.register(fs, true)
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	t, err := resolveGatewayTarget(env, cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	r := statusReport{
		Profile:    t.Profile.DisplayName(),
		StateDir:   t.Profile.StateDir,
		ConfigPath: t.ConfigPath,
		Config:     configState(env, t.ConfigPath),
		LogFile:    localLogFile(env, t.Profile),
		OS:         statusOS{Platform: runtime.GOOS, Arch: runtime.GOARCH},
		Gateway:    statusGateway{Mode: t.Mode, URL: t.URL, URLSource: t.URLSource},
	}
	probeErr := probeGateway(env, t, cf.timeout(), &r.Gateway)
	refused := isRefusal(probeErr)

	if asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return ExitOK
	}
	w := env.Stdout
	fmt.Fprintln(w, "Clawdbot status")
	fmt.Fprintf(w, "Profile:  %s (state %s)\n", r.Profile, r.StateDir)
	fmt.Fprintf(w, "Config:   %s (%s)\n", r.ConfigPath, r.Config)
	fmt.Fprintf(w, "OS:       %s (%s)\n", r.OS.Platform, r.OS.Arch)
	g := r.Gateway
	line := fmt.Sprintf("%s · %s (%s) · ", g.Mode, g.URL, g.URLSource)
	if g.Reachable {
		line += fmt.Sprintf("reachable %dms", *g.ConnectLatencyMs)
		if g.Self != nil {
			line += fmt.Sprintf(" · %s app %s", g.Self.Host, g.Self.Version)
		}
	} else if refused {
		line += fmt.Sprintf("answers but refused this CLI (%s)", *g.Error)
	} else {
		line += fmt.Sprintf("unreachable (%s)", *g.Error)
	}
	fmt.Fprintf(w, "Gateway:  %s\n", line)
	fmt.Fprintf(w, "Log file: %s\n", r.LogFile)
	switch {
	case refused:
		// Something runs there: starting another gateway would fail on
		// the port. The token (or whose gateway it is) is the problem.
		fmt.Fprintf(w, "\nNext steps:\n  Check the token: gateway.auth.token in %s (or CLAWDBOT_GATEWAY_TOKEN, --token) must match the running gateway's\n  Diagnose:  %s\n",
			t.ConfigPath, t.Profile.Hint("clawdbot doctor"))
	case !g.Reachable:
		fmt.Fprintf(w, "\nNext steps:\n  Start it:  %s\n  Diagnose:  %s\n",
			t.Profile.Hint("clawdbot gateway"), t.Profile.Hint("clawdbot doctor"))
	default:
		fmt.Fprintf(w, "\nNext steps:\n  Follow logs:  %s\n", t.Profile.Hint("clawdbot logs --follow"))
	}
	// Like the original, status reports an unreachable gateway but does not
	// fail on it: it is a report, not a check.
	return ExitOK
}

// isRefusal reports whether err is a gateway that answered and refused the
// connect (auth), as opposed to one that is not there or too slow.
func isRefusal(err error) bool {
	var ce *client.ConnectError
	var cl *client.CloseError
	return errors.As(err, &ce) || (errors.As(err, &cl) && cl.Code == wire.ClosePolicyViolation)
}

// probeGateway connects once (handshake only) and records reachability,
// the connect latency and who answered; it returns the failure.
func probeGateway(env *Env, t gatewayTarget, timeout time.Duration, g *statusGateway) error {
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := t.Opts
	opts.Scopes = client.CLIScopes
	opts.HandshakeTimeout = timeout
	start := time.Now()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			err = &client.TimeoutError{After: timeout}
		}
		msg := err.Error()
		g.Error = &msg
		return err
	}
	ms := time.Since(start).Milliseconds()
	hello := c.Hello()
	c.Close()
	g.Reachable = true
	g.ConnectLatencyMs = &ms
	g.Self = &statusSelf{Host: hello.Server.Host, Version: hello.Server.Version}
	return nil
}

func configState(env *Env, path string) string {
	snap, err := profiles.LoadEnv(path, env.Getenv)
	switch {
	case err != nil:
		return "unreadable: " + err.Error()
	case !snap.Exists:
		return "missing"
	case !snap.Valid:
		return "invalid: " + snap.Err().Error()
	}
	return "ok"
}

// localLogFile is the file the profile's gateway logs to today: the
// logging.file override, else the per-day file under <state>/logs.
func localLogFile(env *Env, p profiles.Profile) string {
	if snap, err := profiles.LoadEnv(p.ConfigPath, env.Getenv); err == nil && snap.Config != nil && snap.Config.Logging.File != "" {
		return snap.Config.Logging.File
	}
	path := filelog.DayPath(p.LogDir(), time.Now())
	if _, err := os.Stat(path); err != nil {
		return path + " (not written yet)"
	}
	return path
}
