package cli

// Gateway service commands: gateway install | uninstall | start | stop |
// restart. They resolve the profile, build a supervise.Spec for this binary,
// and drive the platform's supervise.Manager. Output is a few human lines,
// or with --json the action object of supervision spec §4.4 (the contract
// the macOS app reads).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// ServiceManager returns the service manager the gateway service commands
// use for a platform. Tests replace it to record commands instead of running
// launchctl/systemctl.
var ServiceManager = func(env *Env, pl supervise.Platform) (supervise.Manager, error) {
	return supervise.NewManager(pl, supervise.ExecRunner{}, os.Getuid())
}

// ServiceRunner runs the helper commands around a service install
// (loginctl for lingering). Tests replace it.
var ServiceRunner supervise.Runner = supervise.ExecRunner{}

// servicePlatform is the platform the commands manage (the running OS).
var servicePlatform = supervise.PlatformFor(runtime.GOOS)

// serviceTimeout bounds one service command (systemctl waits for its job).
const serviceTimeout = 2 * time.Minute

func init() {
	Register(&Command{Path: "gateway install", Summary: "install (or update) the gateway as an OS service for this profile", Run: runServiceInstall})
	Register(&Command{Path: "gateway uninstall", Summary: "stop and remove the gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "uninstall", a) }})
	Register(&Command{Path: "gateway start", Summary: "start the installed gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "start", a) }})
	Register(&Command{Path: "gateway stop", Summary: "stop the gateway service (it stays installed)", Run: func(e *Env, a []string) int { return runServiceAction(e, "stop", a) }})
	Register(&Command{Path: "gateway restart", Summary: "restart the gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "restart", a) }})
}

// serviceJSON is the action result of spec §4.4.
type serviceJSON struct {
	OK       bool            `json:"ok"`
	Action   string          `json:"action"`
	Result   string          `json:"result,omitempty"`
	Message  string          `json:"message,omitempty"`
	Error    string          `json:"error,omitempty"`
	Hints    []string        `json:"hints,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Service  *serviceSummary `json:"service,omitempty"`
}

// serviceSummary is spec §4.4's "service" object plus our richer status.
type serviceSummary struct {
	Label         string            `json:"label"`
	Loaded        bool              `json:"loaded"`
	LoadedText    string            `json:"loadedText"`
	NotLoadedText string            `json:"notLoadedText"`
	Status        *supervise.Status `json:"status,omitempty"`
}

// serviceReport collects one command's outcome and prints it once.
type serviceReport struct {
	env     *Env
	json    bool
	out     serviceJSON
	profile string
}

func (r *serviceReport) line(format string, args ...any) {
	if !r.json {
		fmt.Fprintf(r.env.Stdout, format+"\n", args...)
	}
}

func (r *serviceReport) warn(msg string) {
	r.out.Warnings = append(r.out.Warnings, msg)
	if !r.json {
		fmt.Fprintf(r.env.Stderr, "Warning: %s\n", msg)
	}
}

// fail reports err with hints and returns ExitFailure.
func (r *serviceReport) fail(err error, hints ...string) int {
	r.out.OK = false
	r.out.Error = err.Error()
	for _, h := range hints {
		r.out.Hints = append(r.out.Hints, profiles.FormatHint(r.profile, h))
	}
	if r.json {
		r.emit()
	} else {
		fmt.Fprintf(r.env.Stderr, "Gateway %s failed: %v\n", r.out.Action, err)
		for _, h := range r.out.Hints {
			fmt.Fprintf(r.env.Stderr, "Hint: %s\n", h)
		}
	}
	return ExitFailure
}

func (r *serviceReport) done() int {
	r.out.OK = true
	if r.json {
		r.emit()
	}
	return ExitOK
}

func (r *serviceReport) emit() {
	enc := json.NewEncoder(r.env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(r.out)
}

// attachStatus fills the "service" object from the manager's view.
func (r *serviceReport) attachStatus(ctx context.Context, m supervise.Manager, s supervise.Spec) supervise.Status {
	st, _ := m.Status(ctx, s)
	loaded, notLoaded := supervise.LoadedWords(s.Platform)
	r.out.Service = &serviceSummary{
		Label: supervise.ManagerLabel(s.Platform), Loaded: st.Loaded,
		LoadedText: loaded, NotLoadedText: notLoaded, Status: &st,
	}
	return st
}

// serviceFlags are shared by every service command.
type serviceFlags struct {
	json   bool
	system bool
}

func runServiceInstall(env *Env, args []string) int {
	var sf serviceFlags
	var force, linger bool
	var port int
	var token, runAs string
	fs := env.FlagSet("gateway install", "gateway install [--force] [--system [--user NAME]] [--port N] [--token T] [--linger] [--json]")
	fs.BoolVar(&force, "force", false, "rewrite the definition (even one clawdbot did not write) and restart the service")
	fs.BoolVar(&sf.system, "system", false, "install a system service (/etc/systemd/system, /Library/LaunchDaemons; needs root)")
	fs.IntVar(&port, "port", 0, "gateway port (default: the profile's port)")
	fs.StringVar(&token, "token", "", "gateway token; stored in the profile's 0600 config, never in the service file")
	fs.StringVar(&runAs, "user", "", "account a --system service runs as (default: $SUDO_USER, else the current user)")
	fs.BoolVar(&linger, "linger", false, "Linux user service: enable lingering so it runs while you are logged out")
	fs.BoolVar(&sf.json, "json", false, "print the result as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	rep := &serviceReport{env: env, json: sf.json, out: serviceJSON{Action: "install"}}
	if v := strings.TrimSpace(env.Getenv("CLAWDBOT_NIX_MODE")); v == "1" {
		//lint:ignore ST1005 the original's message, printed verbatim (supervision spec §4.2)
		return rep.fail(errors.New("Nix mode detected; service install is disabled"))
	}
	if port != 0 && (port < 1 || port > 65535) {
		fmt.Fprintf(env.Stderr, "clawdbot gateway install: invalid --port %d (use 1-65535)\n", port)
		return ExitUsage
	}
	prof, err := env.ResolveProfile(port)
	if err != nil {
		return rep.fail(err)
	}
	rep.profile = prof.Name
	if code, ok := installPreflight(env, rep, prof); !ok {
		return code
	}
	if token != "" {
		// The token goes into the profile's config (0600, atomic, .bak) and
		// not into the unit/plist: those are world-readable by convention
		// (spec §3.5, gap §10.4), and the gateway reads its token from the
		// config anyway. One place for the secret also works on launchd,
		// which has no EnvironmentFile equivalent.
		if err := storeGatewayToken(prof.ConfigPath, env.Getenv, token); err != nil {
			return rep.fail(err)
		}
		rep.line("Stored the gateway token in %s (mode 0600)", prof.ConfigPath)
	}
	if port != 0 {
		// Clients (gateway call, status, doctor) find the gateway through
		// the profile's port, not through the service's --port: record it
		// in the config (like the token) so both agree. Only an explicit
		// CLAWDBOT_GATEWAY_PORT outranks the config; then say so.
		if cliProf, err := env.ResolveProfile(0); err == nil && cliProf.Ports.Gateway != port {
			if cliProf.Ports.GatewaySource == profiles.PortFromEnv {
				rep.warn(fmt.Sprintf("the service will listen on port %d but CLAWDBOT_GATEWAY_PORT=%d in this shell points clients elsewhere; unset it or set it to %d",
					port, cliProf.Ports.Gateway, port))
			} else {
				if err := profiles.PatchFile(prof.ConfigPath, env.Getenv, map[string]any{"gateway": map[string]any{"port": port}}); err != nil {
					return rep.fail(err)
				}
				rep.line("Set gateway.port=%d in %s (was %d, %s)", port, prof.ConfigPath, cliProf.Ports.Gateway, cliProf.Ports.GatewaySource)
			}
		}
	}
	scope := supervise.ScopeUser
	if sf.system {
		scope = supervise.ScopeSystem
		if runAs == "" {
			runAs = svcFirstNonEmpty(env.Getenv("SUDO_USER"), currentUser(env))
		}
	}
	spec, err := supervise.SpecFor(prof, env.Executable, supervise.Options{
		Platform: servicePlatform, Scope: scope, Version: Version, Port: port, User: runAs,
	})
	if err != nil {
		return rep.fail(err)
	}
	m, err := ServiceManager(env, spec.Platform)
	if err != nil {
		return rep.fail(err)
	}
	ctx, cancel := context.WithTimeout(env.Context, serviceTimeout)
	defer cancel()
	before, _ := m.Status(ctx, spec)
	res, err := m.Install(ctx, spec, supervise.InstallOptions{Force: force})
	if err != nil {
		hints := []string{"rerun 'clawdbot gateway install' after fixing the error"}
		if errors.Is(err, supervise.ErrForeignDefinition) {
			hints = []string{"clawdbot gateway install --force"}
		}
		rep.attachStatus(ctx, m, spec)
		return rep.fail(err, hints...)
	}
	rep.out.Result = string(res.Action)
	for _, w := range res.Warnings {
		rep.warn(w)
	}
	switch res.Action {
	case supervise.ActionInstalled:
		rep.out.Message = fmt.Sprintf("Installed %s service: %s", supervise.ManagerLabel(spec.Platform), res.Path)
	case supervise.ActionUpdated:
		rep.out.Message = fmt.Sprintf("Updated %s service: %s (restarted)", supervise.ManagerLabel(spec.Platform), res.Path)
	default:
		rep.out.Message = fmt.Sprintf("%s service unchanged: %s", supervise.ManagerLabel(spec.Platform), res.Path)
		if res.Restarted {
			rep.out.Message += " (restarted)"
		} else if !before.Running {
			// Install starts a stopped or failed service: say so, or
			// "unchanged" reads as "nothing happened".
			rep.out.Message += " (started)"
		}
	}
	rep.line("%s", rep.out.Message)
	if spec.StdoutPath != "" {
		rep.line("Logs: %s", spec.StdoutPath)
	} else if spec.Platform == supervise.Systemd {
		rep.line("Logs: journalctl %s-u %s -n 200 --no-pager", map[bool]string{true: "", false: "--user "}[sf.system], spec.Name)
	}
	if spec.Platform == supervise.Systemd && scope == supervise.ScopeUser {
		checkLinger(ctx, rep, currentUser(env), linger)
	}
	rep.attachStatus(ctx, m, spec)
	return rep.done()
}

// installPreflight refuses to install a service whose gateway would refuse
// to start: with no config, an invalid one or gateway.mode other than
// "local", the service exits 78 at once (RestartPreventExitStatus keeps it
// down) and the user is left with an enabled, failed unit and a pointer to
// the journal. Nothing is written before these checks pass.
func installPreflight(env *Env, rep *serviceReport, prof profiles.Profile) (int, bool) {
	snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv)
	switch {
	case err != nil:
		return rep.fail(err), false
	case !snap.Exists:
		//lint:ignore ST1005 a sentence for the user, worded like doctor's and setup's "No config at"
		return rep.fail(fmt.Errorf("No config at %s: the gateway would not start; create it first", prof.ConfigPath),
			"clawdbot setup"), false
	case !snap.Valid:
		return rep.fail(fmt.Errorf("config %s is invalid: the gateway would not start: %v", prof.ConfigPath, snap.Err()),
			"clawdbot config validate"), false
	}
	if mode := snap.Config.Gateway.Mode; mode != "local" {
		if mode == "" {
			return rep.fail(fmt.Errorf("gateway.mode is unset in %s: the gateway only starts with gateway.mode \"local\"", prof.ConfigPath),
				"clawdbot setup"), false
		}
		return rep.fail(fmt.Errorf("gateway.mode is %s in %s: the gateway only starts with gateway.mode \"local\"; set it there to run the gateway on this machine", mode, prof.ConfigPath)), false
	}
	return 0, true
}

// checkLinger warns when a user service would stop at logout.
func checkLinger(ctx context.Context, rep *serviceReport, who string, enable bool) {
	if who == "" {
		return
	}
	cmd := supervise.LingerCommand(who)
	on, err := supervise.LingerEnabled(ctx, ServiceRunner, who)
	switch {
	case err == nil && on:
		return
	case enable:
		if err := supervise.EnableLinger(ctx, ServiceRunner, who); err != nil {
			rep.warn(fmt.Sprintf("could not enable lingering (%v); run: sudo %s", err, cmd))
			return
		}
		rep.line("Enabled lingering for %s: the gateway keeps running after logout", who)
	case err != nil:
		rep.warn(fmt.Sprintf("could not check lingering for %s (%v); if the gateway must run while you are logged out, run: %s", who, err, cmd))
	default:
		rep.warn(fmt.Sprintf("lingering is disabled for %s: the gateway stops when you log out. Enable it with: %s (or rerun install with --linger)", who, cmd))
	}
}

// runServiceAction runs uninstall, start, stop or restart.
func runServiceAction(env *Env, action string, args []string) int {
	var sf serviceFlags
	fs := env.FlagSet("gateway "+action, "gateway "+action+" [--system] [--json]")
	fs.BoolVar(&sf.system, "system", false, "act on the system service instead of the user's")
	fs.BoolVar(&sf.json, "json", false, "print the result as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	rep := &serviceReport{env: env, json: sf.json, out: serviceJSON{Action: action}}
	if action == "uninstall" && strings.TrimSpace(env.Getenv("CLAWDBOT_NIX_MODE")) == "1" {
		//lint:ignore ST1005 the wording of the original's install refusal, printed as a sentence
		return rep.fail(errors.New("Nix mode detected; service uninstall is disabled"))
	}
	prof, err := env.ResolveProfile(0)
	if err != nil {
		return rep.fail(err)
	}
	rep.profile = prof.Name
	spec, err := targetSpec(env, prof, sf.system)
	if err != nil {
		return rep.fail(err)
	}
	m, err := ServiceManager(env, spec.Platform)
	if err != nil {
		return rep.fail(err)
	}
	ctx, cancel := context.WithTimeout(env.Context, serviceTimeout)
	defer cancel()
	label := supervise.ManagerLabel(spec.Platform)
	if action == "uninstall" {
		res, err := m.Uninstall(ctx, spec)
		if err != nil {
			rep.attachStatus(ctx, m, spec)
			return rep.fail(err)
		}
		if res.Removed {
			rep.out.Result, rep.out.Message = "uninstalled", fmt.Sprintf("Removed %s service: %s", label, res.Path)
		} else {
			rep.out.Result, rep.out.Message = "not-loaded", fmt.Sprintf("%s service not found at %s", label, res.Path)
		}
		rep.line("%s", rep.out.Message)
		if st := rep.attachStatus(ctx, m, spec); st.Loaded {
			//lint:ignore ST1005 the original's message, printed verbatim (supervision spec §4.3)
			return rep.fail(errors.New("Gateway service still loaded after uninstall"))
		}
		return rep.done()
	}
	st, _ := m.Status(ctx, spec)
	if !st.Installed && !st.Loaded {
		_, notLoaded := supervise.LoadedWords(spec.Platform)
		rep.out.Result = "not-loaded"
		rep.out.Message = fmt.Sprintf("Gateway service %s.", notLoaded)
		rep.line("%s", rep.out.Message)
		if action != "stop" {
			for _, h := range []string{"clawdbot gateway install", "clawdbot gateway"} {
				h = profiles.FormatHint(prof.Name, h)
				rep.out.Hints = append(rep.out.Hints, h)
				rep.line("Start with: %s", h)
			}
		}
		rep.attachStatus(ctx, m, spec)
		return rep.done()
	}
	var verb, result string
	switch action {
	case "start":
		err, verb, result = m.Start(ctx, spec), "Started", "started"
	case "stop":
		err, verb, result = m.Stop(ctx, spec), "Stopped", "stopped"
	default:
		err, verb, result = m.Restart(ctx, spec), "Restarted", "restarted"
	}
	if err != nil {
		rep.attachStatus(ctx, m, spec)
		return rep.fail(err, "clawdbot doctor")
	}
	rep.out.Result = result
	rep.out.Message = fmt.Sprintf("%s %s service: %s", verb, label, spec.Name)
	rep.line("%s", rep.out.Message)
	rep.attachStatus(ctx, m, spec)
	return rep.done()
}

// targetSpec is the Spec that names the profile's service for lifecycle
// commands. They never write a definition, so a binary that cannot be
// installed (a `go run` build) may still stop or remove the service.
func targetSpec(env *Env, prof profiles.Profile, system bool) (supervise.Spec, error) {
	scope := supervise.ScopeUser
	runAs := ""
	if system {
		scope, runAs = supervise.ScopeSystem, "root"
	}
	bin := env.Executable
	if bin == "" || supervise.IsGoRunBinary(bin) {
		if exe, err := os.Executable(); err == nil {
			bin = exe
		}
	}
	opts := supervise.Options{Platform: servicePlatform, Scope: scope, Version: Version, User: runAs}
	spec, err := supervise.SpecFor(prof, bin, opts)
	if errors.Is(err, supervise.ErrGoRunBinary) {
		// Only the names and paths matter here; pick any real file.
		spec, err = supervise.SpecFor(prof, "/", opts)
	}
	return spec, err
}

// storeGatewayToken writes gateway.auth.token into the config with a merge
// patch (keeping the other keys and their order) and profiles.Save (0600).
func storeGatewayToken(path string, getenv func(string) string, token string) error {
	snap, err := profiles.LoadEnv(path, getenv)
	if err != nil {
		return err
	}
	if snap.Exists && !snap.Valid {
		return fmt.Errorf("config %s is invalid (%v); fix it or run 'clawdbot doctor' before storing a token", path, snap.Err())
	}
	return profiles.PatchFile(path, getenv, map[string]any{"gateway": map[string]any{"auth": map[string]any{"token": token}}})
}

func currentUser(env *Env) string {
	if u := svcFirstNonEmpty(env.Getenv("USER"), env.Getenv("LOGNAME")); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func svcFirstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
