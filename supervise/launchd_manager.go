package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LaunchdManager manages a launchd job with the modern launchctl verbs
// (bootstrap, bootout, enable, disable, kickstart, print) against an
// explicit domain: gui/<uid> for an agent, system for a daemon. The legacy
// load/unload/list verbs fail on macOS 13+ (STYLE.md practice 3).
type LaunchdManager struct {
	Runner Runner
	// UID selects the gui/<uid> domain of user-scope agents.
	UID int
}

// Platform implements Manager.
func (m *LaunchdManager) Platform() Platform { return Launchd }

func (m *LaunchdManager) domain(s Spec) string {
	if s.Scope == ScopeSystem {
		return "system"
	}
	return "gui/" + strconv.Itoa(m.UID)
}

func (m *LaunchdManager) target(s Spec) string { return m.domain(s) + "/" + s.Name }

func (m *LaunchdManager) ctl(ctx context.Context, args ...string) (Output, error) {
	return run(ctx, m.Runner, append([]string{"launchctl"}, args...)...)
}

func (m *LaunchdManager) loaded(ctx context.Context, s Spec) bool {
	_, err := m.ctl(ctx, "print", m.target(s))
	return err == nil
}

// Install implements Manager. A new or changed plist is booted out and
// bootstrapped again (RunAtLoad starts it); `enable` first clears a
// persisted "disabled" left by Stop. An unchanged plist is bootstrapped if
// it is not loaded, else kickstarted (a no-op when it runs).
func (m *LaunchdManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	for _, p := range []string{want.StdoutPath, want.StderrPath} {
		if p != "" {
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return InstallResult{}, fmt.Errorf("create log dir: %w", err)
			}
		}
	}
	action, written, err := writeDefinition(want, opts.Force, 0o644)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Action: action, Path: want.DefinitionPath()}
	isLoaded := m.loaded(ctx, want)
	if written && isLoaded {
		// Best effort: the job may exit between print and bootout.
		m.ctl(ctx, "bootout", m.target(want))
		res.Restarted, isLoaded = true, false
	}
	if !isLoaded {
		if _, err := m.ctl(ctx, "enable", m.target(want)); err != nil {
			return res, err
		}
		if _, err := m.ctl(ctx, "bootstrap", m.domain(want), res.Path); err != nil {
			return res, err
		}
		return res, nil
	}
	_, err = m.ctl(ctx, "kickstart", m.target(want))
	return res, err
}

// Uninstall implements Manager: bootout, then remove the plist.
func (m *LaunchdManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	if m.loaded(ctx, s) {
		if _, err := m.ctl(ctx, "bootout", m.target(s)); err != nil && m.loaded(ctx, s) {
			return res, err
		}
		res.Removed = true
	}
	if err := os.Remove(path); err == nil {
		res.Removed = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("remove %s: %w", path, err)
	}
	return res, nil
}

// Start implements Manager: a true start, unlike the original whose start
// was a restart and could not undo its own stop (spec §10.2). It enables the
// job, bootstraps it when it is not loaded (RunAtLoad starts it) and
// kickstarts it when it is.
func (m *LaunchdManager) Start(ctx context.Context, s Spec) error {
	if _, err := m.ctl(ctx, "enable", m.target(s)); err != nil {
		return err
	}
	if m.loaded(ctx, s) {
		_, err := m.ctl(ctx, "kickstart", m.target(s))
		return err
	}
	if !fileExists(s.DefinitionPath()) {
		return fmt.Errorf("%s is not installed (%s missing); run 'clawdbot gateway install'", s.Name, s.DefinitionPath())
	}
	_, err := m.ctl(ctx, "bootstrap", m.domain(s), s.DefinitionPath())
	return err
}

// Stop implements Manager: disable, then bootout. With KeepAlive a mere
// kill would be respawned; disabling also keeps the next login from loading
// it, so "stopped" means stopped until Start.
func (m *LaunchdManager) Stop(ctx context.Context, s Spec) error {
	if _, err := m.ctl(ctx, "disable", m.target(s)); err != nil {
		return err
	}
	if _, err := m.ctl(ctx, "bootout", m.target(s)); err != nil && m.loaded(ctx, s) {
		return err
	}
	return nil
}

// Restart implements Manager: kickstart -k kills and restarts a loaded job;
// a job that is not loaded is started.
func (m *LaunchdManager) Restart(ctx context.Context, s Spec) error {
	if !m.loaded(ctx, s) {
		return m.Start(ctx, s)
	}
	_, err := m.ctl(ctx, "kickstart", "-k", m.target(s))
	return err
}

// Status implements Manager from `launchctl print <domain>/<label>`.
func (m *LaunchdManager) Status(ctx context.Context, s Spec) (Status, error) {
	st := Status{Manager: Launchd, Scope: s.Scope, Name: s.Name, Path: s.DefinitionPath()}
	st.Installed = fileExists(st.Path)
	out, err := m.ctl(ctx, "print", m.target(s))
	var ce *CommandError
	if errors.As(err, &ce) {
		st.Detail = "not loaded: " + ce.Out.Text()
		return st, nil
	}
	if err != nil {
		st.Detail = err.Error()
		return st, err
	}
	st.Loaded, st.Enabled = true, true
	if !st.Installed {
		st.Detail = "label cached but plist missing; clear it with: launchctl bootout " + m.target(s)
	}
	p := parseLaunchctlPrint(out.Stdout)
	st.ActiveState = p["state"]
	st.PID, _ = strconv.Atoi(p["pid"])
	st.Running = st.ActiveState == "running" || st.PID > 0
	if runs, err := strconv.Atoi(p["runs"]); err == nil && runs > 1 {
		st.Restarts = runs - 1
	}
	// Newer macOS prints "last exit code", older "last exit status".
	for _, k := range []string{"last exit code", "last exit status"} {
		if n, err := strconv.Atoi(strings.Fields(p[k] + " x")[0]); err == nil {
			st.LastExitStatus = &n
			break
		}
	}
	return st, nil
}

// parseLaunchctlPrint reads the top-level "key = value" lines of
// `launchctl print` (nested blocks are indented deeper and skipped).
func parseLaunchctlPrint(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if ok && !strings.HasSuffix(v, "{") {
			if _, dup := m[k]; !dup {
				m[k] = strings.TrimSpace(v)
			}
		}
	}
	return m
}
