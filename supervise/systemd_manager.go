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

func (m *SystemdManager) argv(s Spec, args ...string) []string {
	if s.Scope == ScopeSystem {
		return append([]string{"systemctl"}, args...)
	}
	return append([]string{"systemctl", "--user"}, args...)
}

func (m *SystemdManager) ctl(ctx context.Context, s Spec, args ...string) (Output, error) {
	out, err := run(ctx, m.Runner, m.argv(s, args...)...)
	if err != nil {
		return out, withSystemdHint(err)
	}
	return out, nil
}

// withSystemdHint adds the remedy for the classic "no user bus" failure.
func withSystemdHint(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Failed to connect to bus") || strings.Contains(msg, "$DBUS_SESSION_BUS_ADDRESS"):
		return fmt.Errorf("%w; the user's systemd is not reachable: log in as that user (not via su/sudo) or set XDG_RUNTIME_DIR=/run/user/$(id -u)", err)
	case strings.Contains(msg, "not been booted with systemd"):
		return fmt.Errorf("%w; systemd is not running here (container or WSL without systemd): run 'clawdbot gateway' under your own supervisor", err)
	}
	return err
}

// Install implements Manager: write the unit (0644, atomically), then
// daemon-reload, enable, and start or restart.
func (m *SystemdManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	action, written, err := writeDefinition(want, opts.Force, 0o644)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Action: action, Path: want.DefinitionPath()}
	if written {
		if _, err := m.ctl(ctx, want, "daemon-reload"); err != nil {
			return res, err
		}
	}
	if _, err := m.ctl(ctx, want, "enable", want.Name); err != nil {
		return res, err
	}
	verb := "start" // a no-op when it already runs
	if action == ActionUpdated || opts.Force {
		verb, res.Restarted = "restart", true
	}
	if _, err := m.ctl(ctx, want, verb, want.Name); err != nil {
		return res, err
	}
	return res, nil
}

// Uninstall implements Manager: stop, disable, remove the unit, then
// daemon-reload so the manager forgets it (the original skipped the reload,
// spec §10.3) and clear any failed state.
func (m *SystemdManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	st, _ := m.Status(ctx, s)
	if !fileExists(path) && !st.Installed && !st.Running {
		return res, nil
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
	m.ctl(ctx, s, "reset-failed", s.Name)
	return res, nil
}

// Start implements Manager.
func (m *SystemdManager) Start(ctx context.Context, s Spec) error {
	_, err := m.ctl(ctx, s, "start", s.Name)
	return err
}

// Stop implements Manager. The unit stays enabled, so it comes back at the
// next boot/login but not before an explicit start.
func (m *SystemdManager) Stop(ctx context.Context, s Spec) error {
	_, err := m.ctl(ctx, s, "stop", s.Name)
	return err
}

// Restart implements Manager.
func (m *SystemdManager) Restart(ctx context.Context, s Spec) error {
	_, err := m.ctl(ctx, s, "restart", s.Name)
	return err
}

// systemdProps are the properties Status reads with one `systemctl show`.
const systemdProps = "LoadState,UnitFileState,ActiveState,SubState,MainPID,NRestarts,ExecMainCode,ExecMainStatus,FragmentPath"

// Status implements Manager from `systemctl show -p ...`.
func (m *SystemdManager) Status(ctx context.Context, s Spec) (Status, error) {
	st := Status{Manager: Systemd, Scope: s.Scope, Name: s.Name, Path: s.DefinitionPath()}
	st.Installed = fileExists(st.Path)
	out, err := m.ctl(ctx, s, "show", s.Name, "--no-pager", "--property="+systemdProps)
	if err != nil {
		st.Detail = err.Error()
		return st, err
	}
	p := parseProps(out.Stdout)
	st.ActiveState, st.SubState = p["ActiveState"], p["SubState"]
	st.Enabled = strings.HasPrefix(p["UnitFileState"], "enabled") || p["UnitFileState"] == "linked"
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
