package doctor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/ports"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/client"
)

// Finding codes of doctor's own checks (the service audit codes are
// supervise's, doc/supervision.md §6.4, and are passed through unchanged).
const (
	CodeConfigUnreadable    = "config-unreadable"
	CodeConfigMissing       = "config-missing"
	CodeConfigInvalid       = "config-invalid"
	CodeConfigUnknownKeys   = "config-unknown-keys"
	CodeConfigPermissions   = "config-permissions"
	CodeStateDirPermissions = "state-dir-permissions"
	CodeGatewayModeUnset    = "gateway-mode-unset"
	// CodeGatewayWouldNotStart: profiles.CheckStartable refuses the config
	// (auth mode without its secret, a non-loopback bind without auth...).
	CodeGatewayWouldNotStart = "gateway-would-not-start"
	CodeTokenMissing         = "gateway-token-missing"
	CodeServiceUnsupported   = "service-unsupported"
	CodeServiceNotInstalled  = "service-not-installed"
	CodeServiceUnreadable    = "service-unreadable"
	CodeServiceNotRunning    = "service-not-running"
	CodeServiceManagerDown   = "service-manager-unavailable"
	CodeServiceSpec          = "service-spec-error"
	CodeLegacyService        = "legacy-service"
	CodeExtraService         = "extra-service"
	CodePortForeign          = "port-foreign-holder"
	CodePortOtherProfile     = "port-held-by-other-profile"
	// CodePortHeldNotByService: a gateway of this profile started by hand
	// holds the port of the installed service, which then cannot bind.
	CodePortHeldNotByService = "port-held-not-by-service"
	CodePortUnknown          = "port-busy-unknown-holder"
	CodeProfilesSharePort    = "profiles-share-port"
	CodeProfilesShareState   = "profiles-share-state-dir"
	CodeLingerDisabled       = "linger-disabled"
	CodeLingerUnknown        = "linger-unknown"
	CodeGatewayUnreachable   = "gateway-unreachable"
	// CodeGatewayConfigRejected: the running gateway refused its config
	// file (reload or restart) and still serves the previous config.
	CodeGatewayConfigRejected = "gateway-config-rejected"
	CodeGatewayAuthFailed     = "gateway-auth-failed"
	CodeGatewayRemoteSkipped  = "gateway-remote-mode"
)

// Checks are doctor's checks in report order.
func Checks() []Check {
	return []Check{
		CheckFunc{"config", checkConfig},
		CheckFunc{"gateway-token", checkToken},
		CheckFunc{"service", checkService},
		CheckFunc{"legacy-services", checkLegacy},
		CheckFunc{"windows-task", checkScheduledTask},
		CheckFunc{"other-services", checkOther},
		CheckFunc{"port", checkPort},
		CheckFunc{"profiles", checkProfiles},
		CheckFunc{"linger", checkLinger},
		CheckFunc{"gateway-health", checkHealth},
	}
}

// --- config -----------------------------------------------------------

func checkConfig(ctx context.Context, c *Context) []Finding {
	snap, err := c.Config()
	path := c.Profile.ConfigPath
	if err != nil {
		return []Finding{{Code: CodeConfigUnreadable, Severity: SevError, Message: "Config cannot be read", Detail: err.Error(),
			Fix: "check the file's owner and permissions: " + path}}
	}
	if !snap.Exists {
		return []Finding{{Code: CodeConfigMissing, Severity: SevWarn, Message: "No config file at " + path + " (the gateway will not start without one)",
			Fix: c.Hint("clawdbot setup")}}
	}
	var out []Finding
	if !snap.Valid {
		var lines []string
		for i, is := range snap.Issues {
			if i == 5 {
				lines = append(lines, fmt.Sprintf("… and %d more", len(snap.Issues)-5))
				break
			}
			lines = append(lines, is.String())
		}
		out = append(out, Finding{Code: CodeConfigInvalid, Severity: SevError, Message: "Config is invalid: the gateway refuses to start",
			Detail: strings.Join(lines, "; "), Fix: c.Hint("clawdbot config validate") + " (then edit " + path + ")"})
	}
	if len(snap.Warnings) > 0 {
		var keys []string
		for _, w := range snap.Warnings {
			keys = append(keys, w.String())
		}
		out = append(out, Finding{Code: CodeConfigUnknownKeys, Severity: SevWarn, Message: "Config has keys clawdbot does not know (typos are ignored silently)",
			Detail: strings.Join(keys, "; "), Fix: "edit " + path + " (see " + c.Hint("clawdbot config validate") + ")"})
	}
	out = append(out, startFindings(c, snap)...)
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, permFinding(c, CodeConfigPermissions, path, false, 0o600, fi.Mode().Perm(),
				"Config is readable by other users (it holds the gateway token)"))
		}
		dir := c.Profile.StateDir
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, permFinding(c, CodeStateDirPermissions, dir, true, 0o700, fi.Mode().Perm(),
				"State dir is accessible by other users (device keys, tokens, sessions)"))
		}
	}
	return out
}

// startFindings asks profiles.CheckStartable, the rule the gateway itself
// applies, whether this config would start the gateway. A missing or
// invalid config has its own findings above, and gateway.mode "remote" is
// a client's config (checkHealth says so), so those are not repeated.
func startFindings(c *Context, snap *profiles.Snapshot) []Finding {
	err := profiles.CheckStartable(snap.Config, profiles.StartCheck{
		Snapshot: snap, Getenv: c.Getenv, Port: c.Profile.Ports.Gateway, Profile: c.Profile.Name,
	})
	var se *profiles.StartError
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Reason {
	case profiles.StartConfigMissing, profiles.StartConfigInvalid:
		return nil
	case profiles.StartModeNotLocal:
		if snap.Config == nil || snap.Config.Gateway.Mode != "" {
			return nil
		}
		return []Finding{{Code: CodeGatewayModeUnset, Severity: SevWarn, Message: "gateway.mode is not set: `clawdbot gateway` refuses to start",
			Fix: `set "gateway": {"mode": "local"} in ` + c.Profile.ConfigPath + " (or run " + c.Hint("clawdbot setup") + ")"}}
	}
	return []Finding{{Code: CodeGatewayWouldNotStart, Severity: SevError, Message: "The gateway refuses to start with this config",
		Detail: se.Error(), Fix: se.Fix}}
}

// permFinding reports a loose mode on path (the config or the state dir);
// the chmod repair is attached only when permSubject allows it.
func permFinding(c *Context, code, path string, isDir bool, want, have os.FileMode, msg string) Finding {
	target, why := permSubject(path, c.Profile.StateDir, isDir)
	f := Finding{Code: code, Severity: SevWarn, Message: msg,
		Detail: fmt.Sprintf("%s mode %04o, want %04o", path, have, want)}
	if target == "" {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			f.Fix = fmt.Sprintf("chmod %o %s (if that file is meant to hold clawdbot's secrets)", want, real)
		}
		f.Detail += "; not repaired automatically: " + why
		return f
	}
	f.Fix = fmt.Sprintf("chmod %o %s", want, target)
	f.Repair = chmodRepair(path, c.Profile.StateDir, target, isDir, want)
	return f
}

// --- gateway token ----------------------------------------------------

func checkToken(ctx context.Context, c *Context) []Finding {
	snap, err := c.Config()
	if err != nil || !snap.Exists || snap.Config == nil || snap.Config.Gateway.Mode == "remote" {
		return nil // config-* findings cover it; a remote client needs no local token
	}
	auth := snap.Config.ResolvedAuth(c.Getenv)
	if auth.Mode == profiles.AuthPassword && auth.Password != "" {
		return nil
	}
	if snap.Config.Gateway.Auth.Token != "" {
		return nil
	}
	if snap.Parsed != nil && configuredSecret(snap.Parsed) != "" {
		return nil // an unresolved ${VAR}: the user's, never replaced
	}
	// The original's definition holds the token: carry it over, never
	// generate a second one (clients of the running gateway use the first).
	if f := tokenOnlyInService(ctx, c); f != nil {
		return []Finding{*f}
	}
	f := Finding{Code: CodeTokenMissing, Severity: SevWarn, Repair: tokenRepair(),
		Message: "No gateway token in the config: token auth is the recommended default, even on loopback",
		Fix:     c.Hint("clawdbot doctor --generate-gateway-token")}
	if auth.Token != "" {
		f.Severity = SevInfo
		f.Message = "The gateway token comes only from CLAWDBOT_GATEWAY_TOKEN; a service started without that variable runs without it"
	}
	return []Finding{f}
}

// tokenRepair generates a token. It reads the config again when it runs
// (the user may have added a token while the prompt waited) and leaves any
// token or password already there untouched; PatchFile refuses a config
// that no longer parses.
func tokenRepair() *Repair {
	return &Repair{Step: StepToken, Key: "token", Title: "generate a gateway token",
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			path := c.Profile.ConfigPath
			if snap, err := profiles.LoadEnv(path, c.Getenv); err == nil && snap.Parsed != nil {
				if has := configuredSecret(snap.Parsed); has != "" {
					return []string{path + " already has " + has + "; left it unchanged"}, nil
				}
			}
			// A token in the installed definition (or the original's task
			// script) is the one clients use: carry it instead.
			if tok, src := c.serviceToken(ctx); tok != "" {
				line, err := carryToken(c, tok, src)
				if err != nil {
					return nil, err
				}
				return []string{cmp.Or(line, path+" already has a gateway secret; left it unchanged")}, nil
			}
			tok, err := profiles.NewGatewayToken()
			if err != nil {
				return nil, err
			}
			if err := SetGatewayToken(path, c.Getenv, tok); err != nil {
				return nil, err
			}
			return []string{fmt.Sprintf("wrote gateway.auth.mode=token and a new gateway.auth.token (%d hex chars) to %s (mode 0600)", len(tok), path)}, nil
		}}
}

// configuredSecret names the gateway secret the raw config already sets
// (gateway.auth.token, or a password in password mode), "" when none: such
// a value, even an unresolved ${VAR} reference, is the user's and is never
// replaced.
func configuredSecret(parsed map[string]any) string {
	gw, _ := parsed["gateway"].(map[string]any)
	auth, _ := gw["auth"].(map[string]any)
	if v, ok := auth["token"]; ok && v != nil && v != "" {
		return "gateway.auth.token"
	}
	if auth["mode"] == "password" {
		if v, ok := auth["password"]; ok && v != nil && v != "" {
			return "gateway.auth.password"
		}
	}
	return ""
}

// SetGatewayToken writes gateway.auth.mode=token and gateway.auth.token into
// the config with a merge patch (other keys and their order kept) and
// profiles.Save (0600, atomic, .bak).
func SetGatewayToken(path string, getenv func(string) string, token string) error {
	return profiles.PatchFile(path, getenv, map[string]any{"gateway": map[string]any{"auth": map[string]any{"mode": "token", "token": token}}})
}

// --- service ----------------------------------------------------------

// auditSeverity: a service that cannot start is an error; drift is a warning.
func auditSeverity(code string) Severity {
	switch code {
	case supervise.CodeBinaryMissing, supervise.CodeCommandMissing:
		return SevError
	}
	return SevWarn
}

func checkService(ctx context.Context, c *Context) []Finding {
	if c.Platform == "" {
		return []Finding{{Code: CodeServiceUnsupported, Severity: SevInfo,
			Message: "No supported service manager on " + runtime.GOOS + "; run the gateway under your own supervisor"}}
	}
	want, wantErr := c.Want()
	inst, err := c.Installed()
	if errors.Is(err, fs.ErrNotExist) {
		return []Finding{{Code: CodeServiceNotInstalled, Severity: SevInfo,
			Message: fmt.Sprintf("No %s service installed for profile %s (%s)", supervise.ManagerLabel(c.Platform), c.Profile.DisplayName(), want.DefinitionPath()),
			Fix:     c.Hint("clawdbot gateway install")}}
	}
	if wantErr != nil {
		return []Finding{{Code: CodeServiceSpec, Severity: SevWarn,
			Message: "Cannot compute the service definition this binary would install, so drift is not audited",
			Detail:  wantErr.Error(), Fix: "run doctor from the installed clawdbot binary"}}
	}
	rewrite := &Repair{Step: StepService, Key: "service-rewrite",
		Title: "back up and rewrite " + want.DefinitionPath(),
		Run: func(ctx context.Context, c *Context) ([]string, error) {
			return rewriteService(ctx, c, want)
		}}
	if err != nil {
		r := *rewrite
		r.Aggressive = true
		return []Finding{{Code: CodeServiceUnreadable, Severity: SevError, Message: "Service definition cannot be parsed",
			Detail: err.Error(), Fix: c.Hint("clawdbot doctor --fix --force"), Repair: &r}}
	}
	var out []Finding
	for _, a := range supervise.Audit(inst, want) {
		r := *rewrite
		r.Aggressive = a.Level == supervise.LevelAggressive
		fix := c.Hint("clawdbot doctor --fix")
		if r.Aggressive {
			fix = c.Hint("clawdbot doctor --fix --force")
		}
		out = append(out, Finding{Code: a.Code, Severity: auditSeverity(a.Code), Message: a.Message, Detail: a.Detail,
			Fix: fix, Repair: &r})
	}
	m, err := c.Manager()
	if err != nil {
		return out
	}
	st, err := m.Status(ctx, want)
	switch {
	case err != nil:
		out = append(out, Finding{Code: CodeServiceManagerDown, Severity: SevWarn,
			Message: supervise.ManagerLabel(c.Platform) + " cannot be asked about the service", Detail: err.Error(),
			Fix: managerFix(c.Platform)})
	case !st.Running && len(out) == 0:
		// With drift, the rewrite restarts it anyway.
		detail := "state " + cmp.Or(st.ActiveState, "unknown")
		if st.LastExitStatus != nil {
			detail += fmt.Sprintf(", last exit %d", *st.LastExitStatus)
		}
		out = append(out, Finding{Code: CodeServiceNotRunning, Severity: SevError,
			Message: "The gateway service is installed but not running", Detail: detail,
			Fix: c.Hint("clawdbot gateway start"),
			Repair: &Repair{Step: StepStart, Key: "service-start", Title: "start " + want.Name,
				Run: func(ctx context.Context, c *Context) ([]string, error) {
					if err := m.Start(ctx, want); err != nil {
						return nil, err
					}
					return []string{"started " + want.Name}, nil
				}}})
	}
	return out
}

func managerFix(pl supervise.Platform) string {
	if pl == supervise.Systemd {
		return "log in as this user (not su/sudo) or set XDG_RUNTIME_DIR=/run/user/$(id -u); in a container run 'clawdbot gateway' under your own supervisor"
	}
	return "check that the service manager is running"
}

// rewriteService backs the installed definition up and installs want over
// it (a rewrite plus restart). When the service manager then fails (reload,
// enable, restart or bootstrap), the new file would sit on disk unaccepted
// while the old one may already be stopped or booted out: that is worse than
// the drift it meant to fix. So the previous definition is put back from the
// backup, the manager reloads it, a service that was running is started
// again, and the lines say each step so the report is honest about where it
// stopped.
func rewriteService(ctx context.Context, c *Context, want supervise.Spec) ([]string, error) {
	var lines []string
	// Our definition never carries the token: one that lives only in the
	// old definition goes into the config first, or the rewritten service
	// starts without it (this also covers a rewrite run without the
	// token-carry step).
	if tok, src := c.serviceToken(ctx); tok != "" {
		line, err := carryToken(c, tok, src)
		if err != nil {
			return nil, fmt.Errorf("%w (nothing changed)", err)
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	path := want.DefinitionPath()
	old, readErr := os.ReadFile(path)
	var bak string
	if readErr == nil {
		var err error
		if bak, err = c.backup(path); err != nil {
			return nil, fmt.Errorf("%w (nothing changed)", err)
		}
		lines = append(lines, "backed up "+path+" to "+bak)
	}
	m, err := c.Manager()
	if err != nil {
		return lines, err
	}
	wasRunning := false
	if st, err := m.Status(ctx, want); err == nil {
		wasRunning = st.Running
	}
	// Force: the finding was approved (an aggressive one only with --force),
	// and the marker guard in Install would otherwise refuse a foreign file.
	res, err := m.Install(ctx, want, supervise.InstallOptions{Force: true})
	if err == nil {
		return append(lines, fmt.Sprintf("%s %s (restarted)", res.Action, res.Path)), nil
	}
	now, _ := os.ReadFile(path)
	if res.Restored && readErr == nil {
		// The manager put the previous file back and reloaded it itself.
		lines = append(lines, "wrote "+path+", but "+supervise.ManagerLabel(c.Platform)+" did not take it: "+err.Error(),
			"restored the previous definition (backup: "+bak+")")
		return append(lines, restartPrevious(ctx, m, want, wasRunning)...), err
	}
	if readErr != nil || bytes.Equal(now, old) {
		return append(lines, path+" is unchanged"), err
	}
	lines = append(lines, "wrote "+path+", but "+supervise.ManagerLabel(c.Platform)+" did not take it: "+err.Error())
	if rerr := supervise.WriteFileAtomic(path, old, 0o644); rerr != nil {
		lines = append(lines, fmt.Sprintf("could not restore the previous definition (%v); restore it by hand: cp %s %s", rerr, bak, path))
		return lines, err
	}
	lines = append(lines, "restored the previous definition from "+bak)
	if c.Platform == supervise.Systemd {
		args := []string{"--user", "daemon-reload"}
		if want.Scope == supervise.ScopeSystem {
			args = args[1:]
		}
		if out, rerr := c.Runner.Run(ctx, "systemctl", args...); rerr != nil || out.Code != 0 {
			lines = append(lines, "systemctl "+strings.Join(args, " ")+" failed too; run it by hand")
		}
	}
	return append(lines, restartPrevious(ctx, m, want, wasRunning)...), err
}

// restartPrevious starts the restored service again if it was running.
func restartPrevious(ctx context.Context, m supervise.Manager, want supervise.Spec, wasRunning bool) []string {
	if !wasRunning {
		return nil
	}
	if serr := m.Start(ctx, want); serr != nil {
		return []string{"could not start the previous service again: " + serr.Error()}
	}
	return []string{"started the previous service again"}
}

// --- legacy and other services ------------------------------------------

func checkLegacy(ctx context.Context, c *Context) []Finding {
	_, legacy := c.scans()
	var out []Finding
	for _, ls := range legacy {
		foreign := ls.foreignTo(c)
		fix := c.Hint("clawdbot doctor --fix")
		if !ls.Marked {
			fix = c.Hint("clawdbot doctor --fix --force")
		}
		msg := fmt.Sprintf("Legacy gateway service %s (%s scope, profile %s) competes with the current one", ls.Label, ls.Scope, displayProfile(ls.Profile))
		if !ls.Marked {
			msg += "; it carries no clawdbot marker"
		}
		if foreign != "" {
			msg += "; " + foreign
			fix = profiles.FormatHint(ls.Profile, "clawdbot doctor --fix") + " migrates it for its own profile (" +
				c.Hint("clawdbot doctor --fix --force") + " removes it from here)"
		}
		out = append(out, Finding{Code: CodeLegacyService, Severity: SevWarn, Message: msg, Detail: ls.Detail, Fix: fix, Repair: legacyRepair(ls, foreign)})
	}
	return out
}

func checkOther(ctx context.Context, c *Context) []Finding {
	found, _ := c.scans()
	var out []Finding
	for _, f := range found {
		if f.Class != "other" {
			continue
		}
		out = append(out, Finding{Code: CodeExtraService, Severity: SevInfo,
			Message: fmt.Sprintf("Other service mentioning clawdbot: %s (%s scope)", f.Name, f.Scope), Detail: f.Detail,
			Fix: cleanupHint(f)})
	}
	return out
}

func cleanupHint(f supervise.Found) string {
	switch f.Platform {
	case supervise.Launchd:
		return fmt.Sprintf("if it is unwanted: launchctl bootout gui/$UID/%s && rm %s", f.Name, f.Path)
	case supervise.Systemd:
		if f.Scope == supervise.ScopeSystem {
			return fmt.Sprintf("if it is unwanted: sudo systemctl disable --now %s && sudo rm %s", filepath.Base(f.Path), f.Path)
		}
		return fmt.Sprintf("if it is unwanted: systemctl --user disable --now %s && rm %s", filepath.Base(f.Path), f.Path)
	}
	return ""
}

// --- port -----------------------------------------------------------------

func checkPort(ctx context.Context, c *Context) []Finding {
	port := c.Profile.Ports.Gateway
	rep := c.inspect(ctx, port)
	if rep.Status == ports.StatusFree {
		return nil
	}
	if rep.Status == ports.StatusBusy && len(rep.Listeners) == 0 {
		return []Finding{{Code: CodePortUnknown, Severity: SevWarn,
			Message: fmt.Sprintf("Port %d is in use but its holder is unknown", port),
			Detail:  ports.DescribeHolder(port, nil), Fix: ports.NoDetailsFix + " to see the holder"}}
	}
	servicePID, statusKnown := 0, false
	if want, _ := c.Want(); want.Name != "" {
		if m, err := c.Manager(); err == nil {
			if st, err := m.Status(ctx, want); err == nil {
				servicePID, statusKnown = st.PID, true
			}
		}
	}
	_, instErr := c.Installed()
	installed := instErr == nil
	var out []Finding
	for _, l := range rep.Listeners {
		switch {
		case l.PID == servicePID && servicePID != 0:
			continue // our own service holds it
		case l.Kind == ports.KindGateway && sameProfile(l.Profile, c.Profile.Name) && (!installed || (l.Supervised() && !statusKnown)):
			continue // this profile's gateway, run by hand with no service installed (or the service, unconfirmed)
		case l.Kind == ports.KindGateway && sameProfile(l.Profile, c.Profile.Name):
			pid := strconv.Itoa(l.PID)
			out = append(out, Finding{Code: CodePortHeldNotByService, Severity: SevError,
				Message: fmt.Sprintf("Port %d is held by pid %s (not the service): a gateway of this profile started by hand; the installed service cannot bind it and keeps restarting", port, pid),
				Detail:  ports.DescribeHolder(port, []ports.Listener{l}),
				Fix: "stop pid " + pid + " (Ctrl+C where it runs, or kill " + pid + "), then " + c.Hint("clawdbot gateway restart") +
					"; or keep it and remove the service: " + c.Hint("clawdbot gateway uninstall")})
		case l.Kind == ports.KindGateway:
			out = append(out, Finding{Code: CodePortOtherProfile, Severity: SevError,
				Message: fmt.Sprintf("Port %d is held by the gateway of profile %s", port, displayProfile(l.Profile)),
				Detail:  ports.DescribeHolder(port, []ports.Listener{l}),
				Fix:     stopGatewayHint(l.Profile, l.PID, l.Supervised()) + ", or give this profile its own gateway.port (20+ apart)"})
		default:
			out = append(out, Finding{Code: CodePortForeign, Severity: SevError,
				Message: fmt.Sprintf("Port %d is held by a process that is not this profile's gateway", port),
				Detail:  ports.DescribeHolder(port, []ports.Listener{l}),
				Fix:     fmt.Sprintf("stop pid %d, or move this profile to another port (gateway.port in %s, then %s)", l.PID, c.Profile.ConfigPath, c.Hint("clawdbot gateway install --force"))})
		}
	}
	return out
}

// stopGatewayHint is how to stop another profile's gateway: its service
// command when a service manager runs it; a gateway started by hand has no
// service to stop ('gateway stop' would only say "not installed").
func stopGatewayHint(profile string, pid int, supervised bool) string {
	if supervised {
		return ports.StopCommand(profile)
	}
	return fmt.Sprintf("stop it (kill %d, or Ctrl-C where it runs)", pid)
}

// --- profiles sharing a port or state dir ----------------------------------

type profileUse struct {
	name, configPath string
	port             int
}

// knownProfiles lists the profiles with a config under home
// (~/.clawdbot/clawdbot.json and ~/.clawdbot-*/clawdbot.json) plus the
// active one, with the gateway port each would use.
func knownProfiles(c *Context) []profileUse {
	var out []profileUse
	seen := map[string]bool{}
	add := func(name, path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		snap, err := profiles.LoadEnv(path, c.Getenv)
		if err != nil || !snap.Exists {
			return
		}
		port := profiles.DefaultGatewayPort
		if strings.EqualFold(name, "dev") {
			port = profiles.DevGatewayPort
		}
		if snap.Config != nil && snap.Config.Gateway.Port != 0 {
			port = snap.Config.Gateway.Port
		}
		if path == c.Profile.ConfigPath {
			port = c.Profile.Ports.Gateway
		}
		out = append(out, profileUse{name: name, configPath: path, port: port})
	}
	add(c.Profile.Name, c.Profile.ConfigPath)
	matches, _ := filepath.Glob(filepath.Join(c.Profile.Home, ".clawdbot*", "clawdbot.json"))
	sort.Strings(matches)
	for _, m := range matches {
		dir := filepath.Base(filepath.Dir(m))
		name := strings.TrimPrefix(strings.TrimPrefix(dir, ".clawdbot"), "-")
		if dir != ".clawdbot" && !strings.HasPrefix(dir, ".clawdbot-") {
			continue
		}
		add(name, m)
	}
	return out
}

func checkProfiles(ctx context.Context, c *Context) []Finding {
	var out []Finding
	byPort := map[int][]profileUse{}
	var portsSeen []int
	for _, p := range knownProfiles(c) {
		if len(byPort[p.port]) == 0 {
			portsSeen = append(portsSeen, p.port)
		}
		byPort[p.port] = append(byPort[p.port], p)
	}
	for _, port := range portsSeen {
		us := byPort[port]
		if len(us) < 2 {
			continue
		}
		involved := false
		var names []string
		for _, u := range us {
			names = append(names, displayProfile(u.name)+" ("+u.configPath+")")
			involved = involved || u.configPath == c.Profile.ConfigPath
		}
		sev := SevInfo
		if involved {
			sev = SevWarn
		}
		out = append(out, Finding{Code: CodeProfilesSharePort, Severity: sev,
			Message: fmt.Sprintf("Profiles %s resolve to the same gateway port %d: only one can run", strings.Join(displayNames(us), ", "), port),
			Detail:  strings.Join(names, "; "),
			Fix:     "give each profile its own gateway.port, 20 or more apart (e.g. " + strconv.Itoa(port+20) + "), then reinstall its service"})
	}
	// Installed gateway services of different names that share a state dir
	// write the same config, devices and logs.
	found, _ := c.scans()
	byState := map[string][]string{}
	var states []string
	for _, f := range found {
		if f.Class != "gateway" {
			continue
		}
		s, err := supervise.ReadInstalled(f.Platform, f.Path)
		if err != nil {
			continue
		}
		dir := s.Env[supervise.EnvStateDir]
		if dir == "" {
			continue
		}
		if len(byState[dir]) == 0 {
			states = append(states, dir)
		}
		byState[dir] = append(byState[dir], f.Name)
	}
	for _, dir := range states {
		if names := byState[dir]; len(names) > 1 {
			out = append(out, Finding{Code: CodeProfilesShareState, Severity: SevError,
				Message: "Several gateway services use the same state dir " + dir + " (they overwrite each other's config, devices and logs)",
				Detail:  strings.Join(names, ", "),
				Fix:     "keep one; remove the others with 'clawdbot --profile <name> gateway uninstall' or reinstall them from their own profile"})
		}
	}
	return out
}

func displayNames(us []profileUse) []string {
	var out []string
	for _, u := range us {
		out = append(out, displayProfile(u.name))
	}
	return out
}

// --- linger ----------------------------------------------------------------

func checkLinger(ctx context.Context, c *Context) []Finding {
	if c.Platform != supervise.Systemd {
		return nil
	}
	if _, err := c.Installed(); err != nil {
		return nil
	}
	who := c.User
	if who == "" {
		who = currentUserName()
	}
	if who == "" || c.Runner == nil {
		return nil
	}
	on, err := supervise.LingerEnabled(ctx, c.Runner, who)
	if err != nil {
		return []Finding{{Code: CodeLingerUnknown, Severity: SevInfo,
			Message: "Cannot tell whether lingering is on for " + who + " (logind not reachable)", Detail: err.Error(),
			Fix: "if the gateway must run while you are logged out: " + supervise.LingerCommand(who)}}
	}
	if on {
		return nil
	}
	return []Finding{{Code: CodeLingerDisabled, Severity: SevWarn,
		Message: "Lingering is off for " + who + ": the user service stops when you log out and starts only at login",
		Fix:     supervise.LingerCommand(who),
		Repair: &Repair{Step: StepLinger, Key: "linger", Title: "enable lingering for " + who,
			Run: func(ctx context.Context, c *Context) ([]string, error) {
				if err := supervise.EnableLinger(ctx, c.Runner, who); err != nil {
					return nil, fmt.Errorf("%w; run: sudo %s", err, supervise.LingerCommand(who))
				}
				return []string{supervise.LingerCommand(who)}, nil
			}}}}
}

// --- gateway health --------------------------------------------------------

func checkHealth(ctx context.Context, c *Context) []Finding {
	snap, _ := c.Config()
	var cfg *profiles.Config
	if snap != nil && snap.Config != nil {
		cfg = snap.Config
	}
	if cfg != nil && cfg.Gateway.Mode == "remote" {
		return []Finding{{Code: CodeGatewayRemoteSkipped, Severity: SevInfo,
			Message: "gateway.mode is remote: the local gateway is not checked"}}
	}
	t := ProbeTarget(c.Profile, cfg, c.Getenv, c.Profile.Ports.Gateway)
	res, err := Probe(ctx, c, t, "health")
	if err == nil {
		// A gateway that refused its config file still answers: say why,
		// as gateway status does.
		var h wire.HealthSummary
		if json.Unmarshal(res, &h) == nil && h.ConfigError != nil {
			return []Finding{{Code: CodeGatewayConfigRejected, Severity: SevError,
				Message: "The running gateway rejected its config file and still serves the previous config: " + h.ConfigError.Message,
				Fix:     "fix " + h.ConfigError.Path + " (check with " + c.Hint("clawdbot config validate") + "); the gateway applies it when saved"}}
		}
		return nil
	}
	_, instErr := c.Installed()
	installed := instErr == nil
	f := Finding{Code: CodeGatewayUnreachable, Severity: SevWarn, Message: "Gateway does not answer at " + t.URL, Detail: err.Error()}
	var ce *client.ConnectError
	var cl *client.CloseError
	switch {
	case errors.As(err, &ce) || (errors.As(err, &cl) && cl.Code == 1008):
		f.Code, f.Severity = CodeGatewayAuthFailed, SevError
		f.Message = "Gateway at " + t.URL + " rejected the connection (token or device auth)"
		f.Fix = "make gateway.auth.token in " + c.Profile.ConfigPath + " match the running gateway's (or unset CLAWDBOT_GATEWAY_TOKEN), then " + c.Hint("clawdbot gateway restart")
		if l, ok := otherProfileGateway(ctx, c, c.Profile.Ports.Gateway); ok {
			f.Message = "Gateway at " + t.URL + " is profile " + displayProfile(l.Profile) + "'s (pid " + strconv.Itoa(l.PID) + "), not this profile's: it rejects this profile's token"
			f.Fix = stopGatewayHint(l.Profile, l.PID, l.Supervised()) + ", or give this profile its own gateway.port (20+ apart)"
		}
	case installed:
		f.Severity = SevError
		f.Fix = c.Hint("clawdbot gateway restart") + " (logs: " + c.Hint("clawdbot gateway status") + ")"
	default:
		f.Fix = c.Hint("clawdbot gateway install") + " (or run it in the foreground: " + c.Hint("clawdbot gateway") + ")"
	}
	return []Finding{f}
}

// otherProfileGateway is the gateway of another profile listening on port,
// if that is who holds it.
func otherProfileGateway(ctx context.Context, c *Context, port int) (ports.Listener, bool) {
	for _, l := range c.inspect(ctx, port).Listeners {
		if l.Kind == ports.KindGateway && !sameProfile(l.Profile, c.Profile.Name) {
			return l, true
		}
	}
	return ports.Listener{}, false
}
