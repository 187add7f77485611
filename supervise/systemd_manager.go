package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// SystemdManager manages a unit through systemctl (--user for user scope).
// It shells out rather than using D-Bus so it works wherever systemctl does,
// including without a session bus address (coreos/go-systemd#148).
type SystemdManager struct {
	Runner Runner
}

// Platform implements Manager.
func (m *SystemdManager) Platform() Platform { return Systemd }

func systemctlArgv(s Spec, args ...string) []string {
	if s.Scope == ScopeSystem {
		return append([]string{"systemctl"}, args...)
	}
	return append([]string{"systemctl", "--user"}, args...)
}

func (m *SystemdManager) ctl(ctx context.Context, s Spec, args ...string) (Output, error) {
	out, err := run(ctx, m.Runner, systemctlArgv(s, args...)...)
	if err != nil {
		return out, withSystemdHint(err, s)
	}
	return out, nil
}

// withSystemdHint adds the remedy to the systemctl failures a user can fix:
// no user bus, no systemd at all, a masked unit, a start rate limit, and a
// system-scope change without root (systemctl says "Access denied", or asks
// polkit for "Interactive authentication" it cannot get without a tty).
func withSystemdHint(err error, s Spec) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Failed to connect to bus") || strings.Contains(msg, "$DBUS_SESSION_BUS_ADDRESS"):
		return fmt.Errorf("%w; the user's systemd is not reachable: log in as that user (not via su/sudo) or set XDG_RUNTIME_DIR=/run/user/$(id -u)", err)
	case strings.Contains(msg, "not been booted with systemd"):
		return fmt.Errorf("%w; systemd is not running here (container or WSL without systemd): run 'clawdbot gateway' under your own supervisor", err)
	case strings.Contains(msg, "is masked"):
		return fmt.Errorf("%w; unmask it with: %s", err, strings.Join(systemctlArgv(s, "unmask", s.Name), " "))
	case strings.Contains(msg, "attempted too often") || strings.Contains(msg, "start-limit"):
		return fmt.Errorf("%w; clear the limit with: %s", err, strings.Join(systemctlArgv(s, "reset-failed", s.Name), " "))
	case s.Scope == ScopeSystem && (strings.Contains(msg, "Access denied") || strings.Contains(msg, "Interactive authentication required")):
		return fmt.Errorf("%w; the system-scope service needs root: rerun the command with sudo", err)
	}
	return err
}

// Install implements Manager: ask systemd about the unit (so an
// unreachable manager fails before anything is written), write the unit
// (0644, atomically), then daemon-reload, enable, and start or restart.
// When a step after the write fails, the previous unit file (or none) is
// put back and reloaded, and InstallResult.Restored says so. The reload also runs when
// the file is unchanged but systemd still has an older version loaded
// (NeedDaemonReload=yes: an earlier install wrote it and its reload
// failed); systemctl would otherwise start the stale unit with only a
// warning.
func (m *SystemdManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	if err := needsRoot(want, "installing"); err != nil {
		return InstallResult{}, err
	}
	// Refuse a foreign file before anything runs, then ask the manager:
	// with no user bus nothing must be written.
	if _, _, _, err := planDefinition(want, opts.Force); err != nil {
		return InstallResult{}, err
	}
	p, err := m.show(ctx, want)
	if err != nil {
		return InstallResult{}, err
	}
	path := want.DefinitionPath()
	old, oldErr := os.ReadFile(path)
	action, written, err := writeDefinition(want, opts.Force, 0o644)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Action: action, Path: path}
	wasEnabled := strings.HasPrefix(p["UnitFileState"], "enabled")
	enabled := false
	// restore puts back what was there when a step after the write fails:
	// the previous unit (or none, and not enabled), reloaded.
	restore := func(err error) (InstallResult, error) {
		if !written {
			return res, err
		}
		if enabled && !wasEnabled {
			m.ctl(ctx, want, "disable", want.Name) // best effort
		}
		var rerr error
		if oldErr == nil {
			rerr = WriteFileAtomic(path, old, 0o644)
		} else if errors.Is(oldErr, fs.ErrNotExist) {
			rerr = os.Remove(path)
		} else {
			return res, err
		}
		if rerr != nil {
			return res, fmt.Errorf("%w; could not restore %s either: %v", err, path, rerr)
		}
		res.Restored = true
		m.ctl(ctx, want, "daemon-reload") // best effort: the restore is on disk
		return res, err
	}
	if written || p["NeedDaemonReload"] == "yes" {
		if _, err := m.ctl(ctx, want, "daemon-reload"); err != nil {
			return restore(err)
		}
	}
	if _, err := m.ctl(ctx, want, "enable", want.Name); err != nil {
		return restore(err)
	}
	enabled = true
	verb := "start" // a no-op when it already runs
	if action == ActionUpdated || opts.Force {
		verb, res.Restarted = "restart", true
	}
	if err := m.startVerb(ctx, want, verb, p); err != nil {
		return restore(err)
	}
	return res, nil
}

// startVerb runs start or restart, first clearing a "failed" state: a unit
// that hit its start rate limit refuses every start until reset-failed
// ("start of the service was attempted too often"; checked against
// systemd 252 in the sandbox). Only a failed unit is reset, because
// reset-failed also zeroes NRestarts, which status reads to report a crash
// loop.
func (m *SystemdManager) startVerb(ctx context.Context, s Spec, verb string, p map[string]string) error {
	if p["ActiveState"] == "failed" {
		m.ctl(ctx, s, "reset-failed", s.Name) // best effort: start reports the real error
	}
	_, err := m.ctl(ctx, s, verb, s.Name)
	return err
}

// Uninstall implements Manager: stop, disable, remove the unit, then
// daemon-reload so the manager forgets it (the original skipped the reload,
// doc/supervision.md §10.3) and clear any failed state. Nothing to remove is not an error.
func (m *SystemdManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	st, _ := m.Status(ctx, s)
	if !fileExists(path) && !st.Installed && !st.Running {
		return res, nil
	}
	if err := needsRoot(s, "uninstalling"); err != nil {
		return res, err
	}
	// Best effort: a unit that is not running or not enabled is fine.
	m.ctl(ctx, s, "stop", s.Name)
	m.ctl(ctx, s, "disable", s.Name)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("remove %s: %w", path, err)
	}
	res.Removed = true
	if _, err := m.ctl(ctx, s, "daemon-reload"); err != nil {
		return res, err
	}
	// Best effort: systemd usually unloads a stopped unit whose file is
	// gone, and then reset-failed fails with "not loaded".
	m.ctl(ctx, s, "reset-failed", s.Name)
	return res, nil
}

// Start implements Manager: start (a no-op when it runs), after clearing a
// failed state. A unit systemd cannot find gets the install hint instead
// of systemctl's "Unit ... not found."
func (m *SystemdManager) Start(ctx context.Context, s Spec) error {
	return m.startOrRestart(ctx, s, "start")
}

// Restart implements Manager: restart also starts an inactive unit.
func (m *SystemdManager) Restart(ctx context.Context, s Spec) error {
	return m.startOrRestart(ctx, s, "restart")
}

func (m *SystemdManager) startOrRestart(ctx context.Context, s Spec, verb string) error {
	p, err := m.show(ctx, s)
	if err != nil {
		return err
	}
	if p["LoadState"] == "not-found" {
		return fmt.Errorf("%s is not installed (systemd has no unit %s); run 'clawdbot gateway install'", s.Name, s.Name)
	}
	return m.startVerb(ctx, s, verb, p)
}

// Stop implements Manager. The unit stays enabled, so it comes back at the
// next boot/login but not before an explicit start; Restart=always does
// not undo a stop. Stopping a stopped unit succeeds (systemctl exits 0),
// and so does stopping one systemd does not know (it exits 5, "Unit ... not
// loaded.": there is nothing to stop).
func (m *SystemdManager) Stop(ctx context.Context, s Spec) error {
	_, err := m.ctl(ctx, s, "stop", s.Name)
	var ce *CommandError
	if errors.As(err, &ce) && ce.Out.Code == 5 && strings.Contains(ce.Out.Text(), "not loaded") {
		return nil
	}
	return err
}

// systemdProps are the properties Status reads with one `systemctl show`.
const systemdProps = "LoadState,UnitFileState,ActiveState,SubState,MainPID,NRestarts,ExecMainCode,ExecMainStatus,FragmentPath,NeedDaemonReload"

// Status implements Manager from `systemctl show -p ...`.
func (m *SystemdManager) Status(ctx context.Context, s Spec) (Status, error) {
	st := Status{Manager: Systemd, Scope: s.Scope, Name: s.Name, Path: s.DefinitionPath()}
	st.Installed = fileExists(st.Path)
	p, err := m.show(ctx, s)
	if err != nil {
		st.Detail = err.Error()
		return st, err
	}
	st.ActiveState, st.SubState = p["ActiveState"], p["SubState"]
	// "enabled" and "enabled-runtime" only: "linked" is a unit file linked
	// into the search path, not hooked into a target.
	st.Enabled = strings.HasPrefix(p["UnitFileState"], "enabled")
	st.Loaded = st.Enabled
	st.Installed = st.Installed || p["LoadState"] == "loaded"
	st.Running = st.ActiveState == "active" || st.ActiveState == "reloading"
	st.PID, _ = strconv.Atoi(p["MainPID"])
	st.Restarts, _ = strconv.Atoi(p["NRestarts"])
	if code := p["ExecMainCode"]; code != "" && code != "0" {
		if n, err := strconv.Atoi(p["ExecMainStatus"]); err == nil {
			st.LastExitStatus = &n
		}
	}
	if p["LoadState"] == "not-found" {
		st.Detail = "unit not found"
	}
	return st, nil
}

// show reads systemdProps with `systemctl show`, which exits 0 even for a
// unit systemd does not know (LoadState=not-found).
func (m *SystemdManager) show(ctx context.Context, s Spec) (map[string]string, error) {
	out, err := m.ctl(ctx, s, "show", s.Name, "--no-pager", "--property="+systemdProps)
	if err != nil {
		return nil, err
	}
	return parseProps(out.Stdout), nil
}

// parseProps reads KEY=VALUE lines.
func parseProps(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			m[k] = v
		}
	}
	return m
}
