package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// LaunchdManager manages a launchd job with the modern launchctl verbs
// (bootstrap, bootout, enable, disable, kickstart, print) against an
// explicit domain: gui/<uid> for an agent, system for a daemon. The legacy
// load/unload/list verbs fail on macOS 13+ (STYLE.md practice 3).
//
// What launchctl really does, and what the code below relies on (launchctl(1)
// and the field reports cited at each use):
//   - print <target> exits 0 with a "key = value" dump for a loaded job and
//     113 ("Could not find service ... in domain for ...") for one that is not.
//   - bootout returns before the job has left the domain: the job sits in
//     "state = SIGTERMed" until it exits (launchd sends SIGKILL after
//     ExitTimeOut, 20 s by default), and may exit 36 "Operation now in
//     progress" meanwhile; of a job that is not loaded it fails with 3 ("No
//     such process"), 113 or 5.
//   - bootstrap of a job that is (still) loaded fails with 5 ("Input/output
//     error") or 37 ("Operation already in progress"), never "already
//     loaded", so a bootstrap must wait until print reports the job gone.
//   - kickstart without -k starts a loaded job and leaves a running one alone.
//   - the system domain can be read by anyone but changed only by root.
type LaunchdManager struct {
	Runner Runner
	// UID selects the gui/<uid> domain of user-scope agents.
	UID int
	// Wait bounds how long a booted-out job may take to leave the domain;
	// 0 means 30 s (launchd's default ExitTimeOut of 20 s, plus slack).
	Wait time.Duration
}

// geteuid is the effective uid (a seam: system-scope tests run as non-root
// too). It is -1 on Windows, which has no launchd or systemd.
var geteuid = os.Geteuid

// needsRoot is the error for a system-scope change attempted without root.
func needsRoot(s Spec, what string) error {
	if s.Scope != ScopeSystem || geteuid() == 0 {
		return nil
	}
	return fmt.Errorf("%s the system-scope service %s needs root: rerun the command with sudo (or manage the user service without --system)", what, s.Name)
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

// printJob runs `launchctl print`; loaded is false when launchd does not
// know the job (any non-zero exit: 113 in practice).
func (m *LaunchdManager) printJob(ctx context.Context, s Spec) (p map[string]string, loaded bool, err error) {
	out, err := m.ctl(ctx, "print", m.target(s))
	var ce *CommandError
	if errors.As(err, &ce) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return parseLaunchctlPrint(out.Stdout), true, nil
}

func (m *LaunchdManager) loaded(ctx context.Context, s Spec) bool {
	_, ok, _ := m.printJob(ctx, s)
	return ok
}

// bootout unloads the job and waits, bounded by Wait, until launchd no
// longer knows it: bootout returns while the job is still "SIGTERMed", and
// a bootstrap in that window fails with "5: Input/output error" (field
// reports: kxn/codex-remote-feishu#914, rossoctl/cortex#880,
// headroomlabs-ai/headroom#1289). Its own exit status is not trusted
// either way (36 "Operation now in progress" while stopping; 3/113/5 when
// it was not loaded): print decides.
func (m *LaunchdManager) bootout(ctx context.Context, s Spec) error {
	_, boErr := m.ctl(ctx, "bootout", m.target(s))
	wait := m.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	var state string
	for delay := 25 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		p, ok, err := m.printJob(ctx, s)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		state = p["state"]
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("%s is still loaded (state = %s) %s after bootout", m.target(s), state, wait)
			if boErr != nil {
				msg += " (" + boErr.Error() + ")"
			}
			return fmt.Errorf("%s; if its process hangs, kill it (launchctl kill SIGKILL %s) and retry", msg, m.target(s))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// bootstrap loads the plist and kickstarts the job. A failing bootstrap
// of a job that print then shows loaded lost a race with another loader
// (launchd answers 5 or 37, not "already loaded") and counts as success.
// The kickstart (a no-op for a running job) makes the start not depend on
// RunAtLoad firing, which was seen to miss right after a bootstrap
// (openbase-community/openbase#15).
func (m *LaunchdManager) bootstrap(ctx context.Context, s Spec) error {
	if _, err := m.ctl(ctx, "bootstrap", m.domain(s), s.DefinitionPath()); err != nil {
		if !m.loaded(ctx, s) {
			return fmt.Errorf("%w; check the plist with 'plutil -lint %s' and launchd's reason with \"log show --last 5m --predicate 'process == \\\"launchd\\\"'\"", err, s.DefinitionPath())
		}
	}
	_, err := m.ctl(ctx, "kickstart", m.target(s))
	return err
}

// Install implements Manager. A new or changed plist is booted out (and
// waited for) and bootstrapped again; `enable` first clears a persisted
// "disabled" left by Stop (launchd refuses to bootstrap or kickstart a
// disabled job). An unchanged plist is bootstrapped if it is not loaded,
// else kickstarted (a no-op when it runs).
func (m *LaunchdManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	if err := needsRoot(want, "installing"); err != nil {
		return InstallResult{}, err
	}
	owner := ""
	if want.Scope == ScopeSystem {
		owner = want.User
	}
	if err := prepareLogFiles([]string{want.StdoutPath, want.StderrPath}, owner); err != nil {
		return InstallResult{}, err
	}
	action, written, err := writeDefinition(want, opts.Force, 0o644)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Action: action, Path: want.DefinitionPath()}
	isLoaded := m.loaded(ctx, want)
	if written && isLoaded {
		if err := m.bootout(ctx, want); err != nil {
			return res, err
		}
		res.Restarted, isLoaded = true, false
	}
	if _, err := m.ctl(ctx, "enable", m.target(want)); err != nil {
		return res, err
	}
	if !isLoaded {
		return res, m.bootstrap(ctx, want)
	}
	_, err = m.ctl(ctx, "kickstart", m.target(want))
	return res, err
}

// Uninstall implements Manager: bootout (waiting until the job is gone),
// then remove the plist. Nothing loaded and no plist is not an error.
func (m *LaunchdManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	isLoaded := m.loaded(ctx, s)
	if !isLoaded && !fileExists(path) {
		return res, nil
	}
	if err := needsRoot(s, "uninstalling"); err != nil {
		return res, err
	}
	if isLoaded {
		if err := m.bootout(ctx, s); err != nil {
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
// job, bootstraps it when it is not loaded and kickstarts it (a no-op when
// it already runs).
func (m *LaunchdManager) Start(ctx context.Context, s Spec) error {
	if err := needsRoot(s, "starting"); err != nil {
		return err
	}
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
	return m.bootstrap(ctx, s)
}

// Stop implements Manager: disable, then bootout and wait until the job is
// gone. With KeepAlive a mere kill would be respawned; disabling also keeps
// the next login from loading it, so "stopped" means stopped until Start.
// Stopping a job that is not loaded succeeds.
func (m *LaunchdManager) Stop(ctx context.Context, s Spec) error {
	if err := needsRoot(s, "stopping"); err != nil {
		return err
	}
	if _, err := m.ctl(ctx, "disable", m.target(s)); err != nil {
		return err
	}
	return m.bootout(ctx, s)
}

// Restart implements Manager: kickstart -k kills and restarts a loaded job;
// a job that is not loaded is started.
func (m *LaunchdManager) Restart(ctx context.Context, s Spec) error {
	if err := needsRoot(s, "restarting"); err != nil {
		return err
	}
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
	// Newer macOS prints "last exit code" (bare "0", named "78: EX_CONFIG",
	// or "(never exited)"), older "last exit status".
	for _, k := range []string{"last exit code", "last exit status"} {
		if n, ok := leadingInt(p[k]); ok {
			st.LastExitStatus = &n
			break
		}
	}
	return st, nil
}

// leadingInt reads the integer at the start of v ("78: EX_CONFIG" → 78).
func leadingInt(v string) (int, bool) {
	end := 0
	for end < len(v) && (v[end] >= '0' && v[end] <= '9' || end == 0 && v[end] == '-') {
		end++
	}
	n, err := strconv.Atoi(v[:end])
	return n, err == nil
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
