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

	"github.com/clawdbot/clawdbot/profiles"
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
	if err := m.load(ctx, s); err != nil {
		return bootstrapHint(err, s.DefinitionPath())
	}
	_, err := m.ctl(ctx, "kickstart", m.target(s))
	return err
}

// load is bootstrap without the kickstart and without the hint.
func (m *LaunchdManager) load(ctx context.Context, s Spec) error {
	if _, err := m.ctl(ctx, "bootstrap", m.domain(s), s.DefinitionPath()); err != nil && !m.loaded(ctx, s) {
		return err
	}
	return nil
}

// bootstrapHint adds where to look when launchd refuses a plist: its lint
// when the plist stays on disk (plist is its path), and launchd's own log.
func bootstrapHint(err error, plist string) error {
	logShow := "\"log show --last 5m --predicate 'process == \\\"launchd\\\"'\""
	if plist == "" {
		return fmt.Errorf("%w; see launchd's reason with %s", err, logShow)
	}
	return fmt.Errorf("%w; check the plist with 'plutil -lint %s' and launchd's reason with %s", err, plist, logShow)
}

// Install implements Manager, all or nothing. Before anything is written it
// checks root for the system domain, refuses a foreign plist, and asks
// launchd about the job: a gui/<uid> domain that does not exist (nobody is
// logged in to the desktop as that uid, as in an SSH session) fails here
// rather than at bootstrap. It remembers the previous plist (or its
// absence), whether the job was loaded and whether it was disabled.
//
// A new or changed plist is booted out (and waited for) and bootstrapped
// again; `enable` first clears a persisted "disabled" left by Stop (launchd
// refuses to bootstrap or kickstart a disabled job). An unchanged plist is
// bootstrapped if it is not loaded, else kickstarted (a no-op when it runs).
//
// When a step after the write fails (bootout, enable, bootstrap,
// kickstart), the new job is booted out, the previous plist is put back
// byte for byte (or the new one removed), the previous job is bootstrapped
// again if it was loaded, a job that was disabled is disabled again, and
// InstallResult.Restored says so. What could not be put back is named in
// the error.
func (m *LaunchdManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	if err := needsRoot(want, "installing"); err != nil {
		return InstallResult{}, err
	}
	if _, _, _, err := planDefinition(want, opts.Force); err != nil {
		return InstallResult{}, err
	}
	wasLoaded, err := m.probe(ctx, want)
	if err != nil {
		return InstallResult{}, err
	}
	wasDisabled := m.disabled(ctx, want)
	owner := ""
	if want.Scope == ScopeSystem {
		owner = want.User
	}
	if err := prepareLogFiles([]string{want.StdoutPath, want.StderrPath}, owner); err != nil {
		return InstallResult{}, err
	}
	path := want.DefinitionPath()
	old, oldErr := os.ReadFile(path)
	action, written, err := writeDefinition(want, opts.Force, 0o644)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Action: action, Path: path}
	// What this install changed in launchd, for the restore.
	var bootedOut, enabled, loadedNew bool
	restore := func(err error) (InstallResult, error) {
		if !written {
			return res, err
		}
		var notes []string
		newGone := true
		if loadedNew {
			if berr := m.bootout(ctx, want); berr != nil {
				newGone = false
				notes = append(notes, "the new job is still loaded: "+berr.Error())
			}
		}
		var rerr error
		switch {
		case oldErr == nil:
			rerr = WriteFileAtomic(path, old, 0o644)
		case errors.Is(oldErr, fs.ErrNotExist):
			if rerr = os.Remove(path); errors.Is(rerr, fs.ErrNotExist) {
				rerr = nil
			}
		default:
			rerr = oldErr
		}
		if rerr != nil {
			return res, fmt.Errorf("%w; could not restore %s either: %v", err, path, rerr)
		}
		res.Restored = true
		if wasLoaded && bootedOut {
			start := profiles.FormatHint(want.Profile, "clawdbot gateway start")
			if !newGone {
				notes = append(notes, fmt.Sprintf("the previous plist is back but its job is not loaded; once the new job has exited, run '%s'", start))
			} else if berr := m.bootstrap(ctx, want); berr != nil {
				notes = append(notes, fmt.Sprintf("the previous plist is back but launchd did not load it again (%s); run '%s'", launchctlReason(berr), start))
			}
		}
		if enabled && wasDisabled {
			m.ctl(ctx, "disable", m.target(want)) // best effort: it only matters at the next login
		}
		if len(notes) > 0 {
			return res, fmt.Errorf("%w; %s", err, strings.Join(notes, "; "))
		}
		return res, err
	}
	if written && wasLoaded {
		if err := m.bootout(ctx, want); err != nil {
			return restore(err)
		}
		res.Restarted, bootedOut = true, true
	}
	if _, err := m.ctl(ctx, "enable", m.target(want)); err != nil {
		return restore(err)
	}
	enabled = true
	if !wasLoaded || bootedOut {
		if err := m.load(ctx, want); err != nil {
			// A plist this install wrote is about to be taken back:
			// pointing plutil at it would point at the previous one.
			hintPath := path
			if written {
				hintPath = ""
			}
			return restore(bootstrapHint(err, hintPath))
		}
		loadedNew = true
	}
	if _, err := m.ctl(ctx, "kickstart", m.target(want)); err != nil {
		return restore(err)
	}
	return res, nil
}

// launchctlReason is the first line launchctl printed for a failed
// command (the rest, such as "Try re-running the command as root", and our
// own hints are for the main error, not for a note about the restore).
func launchctlReason(err error) string {
	var ce *CommandError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	what, _, _ := strings.Cut(ce.Out.Text(), "\n")
	if what == "" {
		what = fmt.Sprintf("%s exited %d", strings.Join(ce.Argv, " "), ce.Out.Code)
	}
	return what
}

// probe is printJob for Install: whether launchd has the job loaded, and
// an error when it cannot answer. `launchctl print` of a job in a gui/<uid>
// domain that does not exist exits 112 "Bad request. Could not find domain
// for user gui: <uid>" (no desktop login; an SSH session has no gui
// domain); bootstrap would fail later with 125 "Domain does not support
// specified action" or 5.
func (m *LaunchdManager) probe(ctx context.Context, s Spec) (bool, error) {
	_, err := m.ctl(ctx, "print", m.target(s))
	var ce *CommandError
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &ce):
		return false, err
	case ce.Out.Code == 112 || strings.Contains(ce.Out.Text(), "Could not find domain"):
		return false, fmt.Errorf("%w; the %s launchd domain exists only while uid %d is logged in to the desktop (not over SSH): log in on the Mac's screen (or Screen Sharing) and rerun, or install a LaunchDaemon with sudo and --system",
			err, m.domain(s), m.UID)
	}
	return false, nil
}

// disabled reports whether launchd's override database marks the job
// disabled (`launchctl print-disabled <domain>`: `"<label>" => disabled`
// on macOS 11+, `=> true` before). A failure to ask reads as not disabled:
// the answer only decides whether a failed install disables it again.
func (m *LaunchdManager) disabled(ctx context.Context, s Spec) bool {
	out, err := m.ctl(ctx, "print-disabled", m.domain(s))
	if err != nil {
		return false
	}
	prefix := strconv.Quote(s.Name) + " =>"
	for _, line := range strings.Split(out.Stdout, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			v = strings.TrimSpace(v)
			return v == "disabled" || v == "true"
		}
	}
	return false
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
// was a restart and could not undo its own stop (doc/supervision.md §10.2). It enables the
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
