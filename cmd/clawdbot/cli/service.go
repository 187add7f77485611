package cli

// Gateway service commands: gateway install | uninstall | start | stop |
// restart. They resolve the profile, build a supervise.Spec for this binary,
// and drive the platform's supervise.Manager. Output is a few human lines,
// or with --json the action object of doc/supervision.md §4.4 (the contract
// the macOS app reads).

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// serviceTimeout bounds one service command (systemctl waits for its job).
const serviceTimeout = 2 * time.Minute

func init() {
	Register(&Command{Path: "gateway install", Summary: "install (or update) the gateway as an OS service for this profile", Run: runServiceInstall})
	Register(&Command{Path: "gateway uninstall", Summary: "stop and remove the gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "uninstall", a) }})
	Register(&Command{Path: "gateway start", Summary: "start the installed gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "start", a) }})
	Register(&Command{Path: "gateway stop", Summary: "stop the gateway service (it stays installed)", Run: func(e *Env, a []string) int { return runServiceAction(e, "stop", a) }})
	Register(&Command{Path: "gateway restart", Summary: "restart the gateway service", Run: func(e *Env, a []string) int { return runServiceAction(e, "restart", a) }})
}

// serviceJSON is the action result of doc/supervision.md §4.4.
type serviceJSON struct {
	OK       bool     `json:"ok"`
	Action   string   `json:"action"`
	Result   string   `json:"result,omitempty"`
	Message  string   `json:"message,omitempty"`
	Error    string   `json:"error,omitempty"`
	Hints    []string `json:"hints,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Detail is the service manager command that failed and its output.
	Detail  string          `json:"detail,omitempty"`
	Service *serviceSummary `json:"service,omitempty"`
}

// serviceSummary is doc/supervision.md §4.4's "service" object plus our richer status.
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
	verbose bool // print Detail in the human form
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
		r.env.Warnf("%s", msg)
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
		fmt.Fprintf(r.env.Stderr, "%sGateway %s failed: %s\n", prefixError, r.out.Action, r.out.Error)
		for _, h := range r.out.Hints {
			r.env.Hintf("%s", h)
		}
		if r.verbose && r.out.Detail != "" {
			fmt.Fprintf(r.env.Stderr, "Detail: %s\n", indentDetail(r.out.Detail))
		} else if r.out.Detail != "" {
			fmt.Fprintf(r.env.Stderr, "(--verbose shows the %s command that failed)\n", strings.Fields(r.out.Detail)[0])
		}
	}
	return ExitFailure
}

// failManager reports a service manager failure: the first line names the
// problem and the fix (ending in the command to rerun, with the user's own
// flags); the raw command line and its output go to Detail, once.
func (r *serviceReport) failManager(err error, rerun string) int {
	var ce *supervise.CommandError
	if !errors.As(err, &ce) {
		return r.fail(fmt.Errorf("%v; then rerun: %s", err, rerun))
	}
	raw := ce.Error()
	hint := strings.TrimPrefix(strings.Replace(err.Error(), raw, "", 1), "; ")
	what := ce.Out.Text()
	if i := strings.IndexByte(what, '\n'); i >= 0 {
		what = what[:i]
	}
	if what == "" {
		what = fmt.Sprintf("exit status %d", ce.Out.Code)
	}
	msg := fmt.Sprintf("%s refused to %s the service (%s)", managerName(ce.Argv), managerVerb(ce.Argv), what)
	if hint != "" {
		msg += "; " + hint
	}
	msg += "; then rerun: " + rerun
	r.out.Detail = fmt.Sprintf("%s (exit %d): %s", strings.Join(ce.Argv, " "), ce.Out.Code, ce.Out.Text())
	return r.fail(errors.New(msg))
}

// managerName is the manager a failed argv belongs to.
func managerName(argv []string) string {
	if len(argv) > 1 && argv[0] == "systemctl" && argv[1] == "--user" {
		return "the systemd user manager"
	}
	if len(argv) > 0 && argv[0] == "systemctl" {
		return "the systemd system manager"
	}
	if len(argv) > 0 {
		return argv[0]
	}
	return "the service manager"
}

// managerVerb is the action of a failed argv ("show" reads as "query").
func managerVerb(argv []string) string {
	for _, a := range argv[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "show", "print":
			return "query"
		case "daemon-reload":
			return "reload"
		}
		return a
	}
	return "manage"
}

func indentDetail(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n        ")
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

// serviceEUID is the effective uid (tests replace it to be root or not).
var serviceEUID = os.Geteuid

// inspectPort reports who holds a port (tests replace it: lsof cannot be
// made to report a chosen holder).
var inspectPort = ports.Inspect

func runServiceInstall(env *Env, args []string) int {
	var sf serviceFlags
	var force, linger, verbose bool
	var port int
	var token, runAs string
	fs := env.FlagSet("gateway install", "gateway install [--force] [--system [--user NAME]] [--port N] [--token T] [--linger] [--verbose] [--json]")
	fs.BoolVar(&force, "force", false, "rewrite the definition (even one clawdbot did not write) and restart the service")
	fs.BoolVar(&sf.system, "system", false, "install a system service (/etc/systemd/system, /Library/LaunchDaemons; needs root)")
	fs.IntVar(&port, "port", 0, "gateway port (default: the profile's port)")
	fs.StringVar(&token, "token", "", "gateway token; stored in the profile's 0600 config, never in the service file")
	fs.StringVar(&runAs, "user", "", "account a --system service runs as (default: $SUDO_USER, else the current user)")
	fs.BoolVar(&linger, "linger", false, "Linux user service: enable lingering so it runs while you are logged out")
	fs.BoolVar(&verbose, "verbose", false, "on failure, also print the service manager command that failed and its output")
	fs.BoolVar(&sf.json, "json", false, "print the result as JSON")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	rep := &serviceReport{env: env, json: sf.json, verbose: verbose, out: serviceJSON{Action: "install"}}
	if v := strings.TrimSpace(env.Getenv("CLAWDBOT_NIX_MODE")); v == "1" {
		//lint:ignore ST1005 the original's message, printed verbatim (doc/supervision.md §4.2)
		return rep.fail(errors.New("Nix mode detected; service install is disabled"))
	}
	if code, ok := env.PortFlag(fs, "port", port); !ok {
		return code
	}
	prof, err := env.ResolveProfile(port)
	if err != nil {
		return rep.fail(err)
	}
	rep.profile = prof.Name
	// The command to rerun after a fix: the user's own flags.
	rerun := "clawdbot gateway install"
	if sf.system {
		rerun += " --system"
	}
	if port != 0 {
		rerun += " --port " + strconv.Itoa(port)
	}
	if force {
		rerun += " --force"
	}
	rerun = env.Hint(rerun)
	if sf.system {
		rerun = "sudo " + rerun
	}

	// Everything that can be checked is checked before anything is
	// written: the config would start, the privileges, the manager answers,
	// and the port is free or held by this service.
	if code, ok := installPreflight(env, rep, prof, token); !ok {
		return code
	}
	scope := supervise.ScopeUser
	if sf.system {
		scope = supervise.ScopeSystem
		if runtime.GOOS != "windows" && serviceEUID() != 0 {
			return rep.fail(fmt.Errorf("installing a system service needs root; rerun it with sudo: %s", rerun))
		}
		if runAs == "" {
			runAs = cmp.Or(env.Getenv("SUDO_USER"), currentUser(env))
		}
	}
	// env.vars: the plain variables go into the definition, the
	// secret-looking ones stay in the 0600 config (the gateway exports
	// them itself at start).
	var cfgEnv map[string]string
	if snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv); err == nil && snap.Config != nil {
		cfgEnv = snap.Config.EnvVars()
	}
	spec, err := supervise.SpecFor(prof, env.Executable, supervise.Options{
		Platform: env.Platform, Scope: scope, Version: Version, Port: port, User: runAs, ConfigEnv: cfgEnv,
	})
	if err != nil {
		return rep.fail(err)
	}
	if _, withheld := supervise.ServiceEnv(cfgEnv); len(withheld) > 0 {
		rep.line("Not written into the service definition (left in the 0600 config; the gateway applies them at start): %s", strings.Join(withheld, ", "))
	}
	m, err := env.ServiceManager(spec.Platform)
	if err != nil {
		return rep.fail(err)
	}
	ctx, cancel := context.WithTimeout(env.Context, serviceTimeout)
	defer cancel()
	before, err := m.Status(ctx, spec)
	if err != nil {
		return rep.failManager(err, rerun)
	}
	if msg := portHeldAgainstService(ctx, env, spec, before, rerun); msg != "" {
		rep.attachStatus(ctx, m, spec)
		return rep.fail(errors.New(msg))
	}

	// Writes: the config first (token, port), remembered so a failed
	// install puts it back; the manager restores its own definition.
	cfgOld, cfgErr := os.ReadFile(prof.ConfigPath)
	restoreConfig := func() {
		if cfgErr == nil {
			if cur, err := os.ReadFile(prof.ConfigPath); err == nil && !bytes.Equal(cur, cfgOld) {
				if err := profiles.WriteFileAtomic(prof.ConfigPath, cfgOld, 0o600); err == nil {
					rep.line("Restored %s", prof.ConfigPath)
				} else {
					rep.warn(fmt.Sprintf("could not restore %s (%v); its previous content is in %s.bak", prof.ConfigPath, err, prof.ConfigPath))
				}
			}
		}
	}
	if token != "" {
		// The token goes into the profile's config (0600, atomic, .bak) and
		// not into the unit/plist: those are world-readable by convention
		// (doc/supervision.md §3.5, gap §10.4), and the gateway reads its token from the
		// config anyway. One place for the secret also works on launchd,
		// which has no EnvironmentFile equivalent.
		if err := storeGatewayToken(prof.ConfigPath, env.Getenv, token); err != nil {
			restoreConfig()
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
					restoreConfig()
					return rep.fail(err)
				}
				rep.line("Set gateway.port=%d in %s (was %d, %s)", port, prof.ConfigPath, cliProf.Ports.Gateway, cliProf.Ports.GatewaySource)
			}
		}
	}
	res, err := m.Install(ctx, spec, supervise.InstallOptions{Force: force})
	if err != nil {
		restoreConfig()
		if res.Restored {
			rep.line("Restored the previous state of %s", res.Path)
			if before.Running {
				if serr := m.Start(ctx, spec); serr == nil {
					rep.line("Started the previous service again")
				}
			}
		}
		rep.attachStatus(ctx, m, spec)
		if errors.Is(err, supervise.ErrForeignDefinition) {
			return rep.fail(err, "clawdbot gateway install --force")
		}
		return rep.failManager(err, rerun)
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

// portHeldAgainstService says why the service could not bind its port ("",
// when it can): the port is free, or its holder is this service's own main
// process. The README's order (`clawdbot gateway` in one shell, `gateway
// install` in another) would otherwise leave an enabled unit that fails
// to bind and restarts every few seconds.
func portHeldAgainstService(ctx context.Context, env *Env, spec supervise.Spec, st supervise.Status, rerun string) string {
	port := spec.Port()
	if port == 0 {
		return ""
	}
	ictx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	r := inspectPort(ictx, port)
	if r.Status != ports.StatusBusy {
		return ""
	}
	if len(r.Listeners) == 0 {
		if st.Running {
			return "" // most likely the service itself; details are hidden from us
		}
		return fmt.Sprintf("port %d is in use but its holder cannot be identified (install lsof or run as an admin user): the service could not bind it; free it, or choose another port: %s",
			port, env.Hint("clawdbot gateway install --port "+strconv.Itoa(port+20)))
	}
	for _, l := range r.Listeners {
		if st.PID != 0 && l.PID == st.PID {
			continue // the service holds its own port: an update
		}
		if st.Running && st.PID == 0 && l.Supervised() && strings.EqualFold(strings.TrimSpace(l.Profile), strings.TrimSpace(spec.Profile)) {
			continue
		}
		pid := strconv.Itoa(l.PID)
		switch {
		case l.Kind == ports.KindGateway && l.Supervised():
			return fmt.Sprintf("port %d is held by pid %s, the gateway service of profile %s: the service could not bind it; stop that one (%s) or choose another port (%s)",
				port, pid, displayProfileName(l.Profile), ports.StopCommand(l.Profile), env.Hint("clawdbot gateway install --port "+strconv.Itoa(port+20)))
		case l.Kind == ports.KindGateway && strings.EqualFold(strings.TrimSpace(l.Profile), strings.TrimSpace(spec.Profile)):
			return fmt.Sprintf("a gateway of this profile already holds port %d (pid %s, started by hand): the service could not bind it; stop it (Ctrl+C where it runs, or 'kill %s'), then rerun: %s",
				port, pid, pid, rerun)
		case l.Kind == ports.KindGateway:
			return fmt.Sprintf("port %d is held by pid %s, a gateway of profile %s started by hand: stop it (Ctrl+C where it runs, or 'kill %s') or choose another port (%s)",
				port, pid, displayProfileName(l.Profile), pid, env.Hint("clawdbot gateway install --port "+strconv.Itoa(port+20)))
		default:
			return fmt.Sprintf("port %d is held by pid %s (%s): the service could not bind it; stop that process or choose another port (%s)",
				port, pid, cmp.Or(l.CommandLine, l.Command, "unknown process"), env.Hint("clawdbot gateway install --port "+strconv.Itoa(port+20)))
		}
	}
	return ""
}

func displayProfileName(p string) string {
	if p = strings.TrimSpace(p); p == "" {
		return "default"
	}
	return p
}

// installPreflight refuses to install a service whose gateway would refuse
// to start (profiles.CheckStartable, as a service: no
// --allow-unconfigured, and only the secrets the service itself will have:
// the config's, the --token being stored, none from this shell): it would
// exit 78 at once (RestartPreventExitStatus keeps it down) and leave an
// enabled, failed unit and a pointer to the journal. Nothing is written
// before these checks pass.
func installPreflight(env *Env, rep *serviceReport, prof profiles.Profile, token string) (int, bool) {
	snap, err := profiles.LoadEnv(prof.ConfigPath, env.Getenv)
	if err != nil {
		return rep.fail(err), false
	}
	cfg := snap.Config
	if cfg != nil && token != "" {
		// The token is about to be stored in the config: check the config
		// as the service will read it (the mode stays the configured one).
		c := *cfg
		c.Gateway.Auth.Token = token
		cfg = &c
	}
	err = profiles.CheckStartable(cfg, profiles.StartCheck{
		Snapshot: snap, Service: true, Port: prof.Ports.Gateway, Profile: prof.Name,
	})
	if se := (*profiles.StartError)(nil); errors.As(err, &se) {
		return rep.fail(err, se.Fix), false
	}
	return 0, true
}

// checkLinger warns when a user service would stop at logout.
func checkLinger(ctx context.Context, rep *serviceReport, who string, enable bool) {
	if who == "" {
		return
	}
	cmd := supervise.LingerCommand(who)
	on, err := supervise.LingerEnabled(ctx, rep.env.ServiceRunner, who)
	switch {
	case err == nil && on:
		return
	case enable:
		if err := supervise.EnableLinger(ctx, rep.env.ServiceRunner, who); err != nil {
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
	m, err := env.ServiceManager(spec.Platform)
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
			//lint:ignore ST1005 the original's message, printed verbatim (doc/supervision.md §4.3)
			return rep.fail(errors.New("Gateway service still loaded after uninstall"))
		}
		return rep.done()
	}
	st, _ := m.Status(ctx, spec)
	if !st.Installed && !st.Loaded {
		_, notLoaded := supervise.LoadedWords(spec.Platform)
		rep.out.Result = "not-loaded"
		rep.out.Message = fmt.Sprintf("Gateway service %s.", notLoaded)
		rep.attachStatus(ctx, m, spec)
		if action == "stop" {
			// As the original: nothing installed means nothing to stop
			// (doc/supervision.md §4.4). A gateway started by hand is not the service's:
			// name it and how to stop it.
			rep.line("%s", rep.out.Message)
			if l, ok := handStartedGateway(ctx, prof); ok {
				rep.warn(fmt.Sprintf("a gateway of this profile started by hand still runs (pid %d); stop it with Ctrl+C where it runs, or 'kill %d'", l.PID, l.PID))
			}
			return rep.done()
		}
		// start/restart cannot do what was asked: exit 1, naming install.
		return rep.fail(fmt.Errorf("no gateway service is installed for profile %s; install it with '%s' (or run it in the foreground: '%s')",
			prof.DisplayName(), env.Hint("clawdbot gateway install"), env.Hint("clawdbot gateway")),
			"clawdbot gateway install")
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

// handStartedGateway is a gateway of prof listening on its port that no
// service manager started.
func handStartedGateway(ctx context.Context, prof profiles.Profile) (ports.Listener, bool) {
	ictx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	for _, l := range inspectPort(ictx, prof.Ports.Gateway).Listeners {
		if l.Kind == ports.KindGateway && !l.Supervised() && strings.EqualFold(strings.TrimSpace(l.Profile), strings.TrimSpace(prof.Name)) {
			return l, true
		}
	}
	return ports.Listener{}, false
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
	opts := supervise.Options{Platform: env.Platform, Scope: scope, Version: Version, User: runAs}
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
	if u := cmp.Or(env.Getenv("USER"), env.Getenv("LOGNAME")); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
