package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fakeSystemd is systemctl as a state machine, for tests about exact argv
// sequences and error texts (the real user manager runs in
// TestSystemdManagerAgainstRealSystemd). Every answer below was captured
// from systemd 252 in the sandbox (supervise/sandboxtest):
//   - show of an unknown unit exits 0 with LoadState=not-found;
//   - start of an unknown unit: exit 5 "Unit x not found."; stop or
//     reset-failed of one: exit 5 / 1 "Unit x not loaded.";
//   - a unit that hit its start rate limit is "failed" and refuses start
//     and restart (exit 1) until reset-failed, which also zeroes NRestarts;
//   - reset-failed of a unit that is not failed but loaded exits 0;
//   - a unit file changed on disk shows NeedDaemonReload=yes.
type fakeSystemd struct {
	*fakeRunner
	path                          string // the unit file; LoadState follows its existence
	active, failed, enabled       bool
	limitHit, reloadNeeded, maskd bool
	restarts                      int
}

func newFakeSystemd(s Spec) *fakeSystemd {
	f := &fakeSystemd{fakeRunner: &fakeRunner{}, path: s.DefinitionPath()}
	f.answer = f.systemctl
	return f
}

func (f *fakeSystemd) systemctl(argv string) *Output {
	w := strings.Fields(strings.Replace(argv, " --user", "", 1))
	unit := ""
	if len(w) > 2 {
		unit = w[2]
	}
	known := fileExists(f.path) || f.active
	switch w[1] {
	case "show":
		load, ufs := "not-found", ""
		if known {
			load, ufs = "loaded", "disabled"
			if f.enabled {
				ufs = "enabled"
			}
		}
		act, sub, pid := "inactive", "dead", 0
		switch {
		case f.active:
			act, sub, pid = "active", "running", 4242
		case f.failed:
			act, sub = "failed", "failed"
		}
		rel := map[bool]string{true: "yes", false: "no"}[f.reloadNeeded]
		return &Output{Stdout: fmt.Sprintf("LoadState=%s\nUnitFileState=%s\nActiveState=%s\nSubState=%s\nMainPID=%d\nNRestarts=%d\nExecMainCode=0\nExecMainStatus=0\nFragmentPath=%s\nNeedDaemonReload=%s\n",
			load, ufs, act, sub, pid, f.restarts, f.path, rel)}
	case "daemon-reload":
		f.reloadNeeded = false
	case "enable":
		if f.maskd {
			return &Output{Code: 1, Stderr: "Failed to enable unit: Unit file " + f.path + " is masked."}
		}
		f.enabled = true
	case "disable":
		f.enabled = false
	case "start", "restart":
		switch {
		case !known:
			return &Output{Code: 5, Stderr: "Failed to start " + unit + ": Unit " + unit + " not found."}
		case f.maskd:
			return &Output{Code: 1, Stderr: "Failed to start " + unit + ": Unit " + unit + " is masked."}
		case f.limitHit:
			return &Output{Code: 1, Stderr: "Job for " + unit + " failed because start of the service was attempted too often.\n" +
				"See \"systemctl --user status " + unit + "\" and \"journalctl --user -xeu " + unit + "\" for details.\n" +
				"To force a start use \"systemctl --user reset-failed " + unit + "\"\nfollowed by \"systemctl --user start " + unit + "\" again."}
		}
		f.active, f.failed = true, false
	case "stop":
		if !known {
			return &Output{Code: 5, Stderr: "Failed to stop " + unit + ": Unit " + unit + " not loaded."}
		}
		f.active = false
	case "reset-failed":
		if !known {
			return &Output{Code: 1, Stderr: "Failed to reset failed state of unit " + unit + ": Unit " + unit + " not loaded."}
		}
		f.failed, f.limitHit, f.restarts = false, false, 0
	}
	return nil
}

func TestSystemdManagerInstallLifecycle(t *testing.T) {
	ctx := context.Background()
	s := homeSpec(t, Systemd, ScopeUser)
	f := newFakeSystemd(s)
	m := &SystemdManager{Runner: f}
	u := "clawdbot-gateway-dev.service"
	sc := "systemctl --user "
	show := sc + "show " + u + " --no-pager --property=" + systemdProps

	res, err := m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionInstalled || res.Restarted {
		t.Fatalf("first install: %+v, %v", res, err)
	}
	wantCalls(t, "install", f.take(), []string{show, sc + "daemon-reload", sc + "enable " + u, sc + "start " + u})
	fi, err := os.Stat(s.DefinitionPath())
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("unit file: %v, %v (want mode 0644)", fi, err)
	}

	res, err = m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionUnchanged {
		t.Fatalf("second install: %+v, %v", res, err)
	}
	wantCalls(t, "unchanged", f.take(), []string{show, sc + "enable " + u, sc + "start " + u})

	// Unchanged on disk, but systemd still runs an older version (an earlier
	// reload failed): reload anyway, or start keeps the stale unit.
	f.reloadNeeded = true
	if _, err := m.Install(ctx, s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "unchanged, stale in systemd", f.take(), []string{show, sc + "daemon-reload", sc + "enable " + u, sc + "start " + u})

	s2 := s
	s2.Args = []string{"gateway", "--port", "19555"}
	res, err = m.Install(ctx, s2, InstallOptions{})
	if err != nil || res.Action != ActionUpdated || !res.Restarted {
		t.Fatalf("changed install: %+v, %v", res, err)
	}
	wantCalls(t, "updated", f.take(), []string{show, sc + "daemon-reload", sc + "enable " + u, sc + "restart " + u})

	res, err = m.Install(ctx, s2, InstallOptions{Force: true})
	if err != nil || res.Action != ActionUnchanged || !res.Restarted {
		t.Fatalf("forced install: %+v, %v", res, err)
	}
	wantCalls(t, "force", f.take(), []string{show, sc + "daemon-reload", sc + "enable " + u, sc + "restart " + u})

	// Each verb is idempotent: stop twice, start twice, restart a stopped unit.
	for _, step := range []struct {
		name string
		fn   func(context.Context, Spec) error
		want []string
	}{
		{"stop", m.Stop, []string{sc + "stop " + u}},
		{"stop when stopped", m.Stop, []string{sc + "stop " + u}},
		{"start", m.Start, []string{show, sc + "start " + u}},
		{"start when running", m.Start, []string{show, sc + "start " + u}},
		{"stop", m.Stop, []string{sc + "stop " + u}},
		{"restart when stopped", m.Restart, []string{show, sc + "restart " + u}},
	} {
		if err := step.fn(ctx, s); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		wantCalls(t, step.name, f.take(), step.want)
	}
	if !f.active {
		t.Error("restart of a stopped unit did not start it")
	}

	ur, err := m.Uninstall(ctx, s)
	if err != nil || !ur.Removed {
		t.Fatalf("uninstall: %+v, %v", ur, err)
	}
	wantCalls(t, "uninstall", f.take(), []string{show, sc + "stop " + u, sc + "disable " + u, sc + "daemon-reload", sc + "reset-failed " + u})
	if fileExists(s.DefinitionPath()) {
		t.Error("unit file left after uninstall")
	}

	// Nothing installed: uninstall and stop succeed, start names the fix.
	if ur, err := m.Uninstall(ctx, s); err != nil || ur.Removed {
		t.Fatalf("uninstall of nothing: %+v %v", ur, err)
	}
	if err := m.Stop(ctx, s); err != nil {
		t.Fatalf("stop of nothing: %v", err)
	}
	if err := m.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "clawdbot gateway install") {
		t.Fatalf("start of nothing: %v", err)
	}
	f.take()
}

// A unit that hit its start rate limit refuses start and restart until
// reset-failed; a failed unit is reset first (and only a failed one:
// reset-failed also zeroes the NRestarts that status reports).
func TestSystemdStartClearsAFailedUnit(t *testing.T) {
	ctx := context.Background()
	s := homeSpec(t, Systemd, ScopeUser)
	f := newFakeSystemd(s)
	m := &SystemdManager{Runner: f}
	if _, err := m.Install(ctx, s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	sc, u := "systemctl --user ", s.Name
	show := sc + "show " + u + " --no-pager --property=" + systemdProps
	for _, verb := range []string{"start", "restart"} {
		f.active, f.failed, f.limitHit, f.restarts = false, true, true, 5
		f.take()
		fn := map[string]func(context.Context, Spec) error{"start": m.Start, "restart": m.Restart}[verb]
		if err := fn(ctx, s); err != nil {
			t.Fatalf("%s of a rate-limited unit: %v", verb, err)
		}
		wantCalls(t, verb+" after the start limit", f.take(), []string{show, sc + "reset-failed " + u, sc + verb + " " + u})
	}
	f.restarts = 3
	f.take()
	if err := m.Start(ctx, s); err != nil || f.restarts != 3 {
		t.Fatalf("start of a running unit: %v, restarts %d (reset-failed ran)", err, f.restarts)
	}
	// Install over a failed unit too.
	f.active, f.failed, f.limitHit = false, true, true
	if _, err := m.Install(ctx, s, InstallOptions{}); err != nil || !f.active {
		t.Fatalf("install over a rate-limited unit: %v (active %v)", err, f.active)
	}
}

func TestSystemdManagerSystemScope(t *testing.T) {
	asUID(t, 0)
	s := homeSpec(t, Systemd, ScopeSystem)
	f := newFakeSystemd(s)
	f.active = true
	m := &SystemdManager{Runner: f}
	if err := m.Restart(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "system restart", f.take(), []string{"systemctl show clawdbot-gateway-dev.service --no-pager --property=" + systemdProps, "systemctl restart clawdbot-gateway-dev.service"})
	if !strings.HasPrefix(s.DefinitionPath(), "/etc/systemd/system/") {
		t.Errorf("system unit path = %s", s.DefinitionPath())
	}
}

// Writing /etc/systemd/system needs root: install and uninstall say so up
// front. Start/stop may be allowed by polkit, so those run and a refusal
// gets the sudo hint.
func TestSystemdSystemScopeNeedsRoot(t *testing.T) {
	asUID(t, 1000)
	ctx := context.Background()
	s := homeSpec(t, Systemd, ScopeSystem)
	f := newFakeSystemd(s)
	m := &SystemdManager{Runner: f}
	if _, err := m.Install(ctx, s, InstallOptions{}); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("install: %v", err)
	}
	if c := f.take(); len(c) != 0 {
		t.Errorf("systemctl ran: %q", c)
	}
	if ur, err := m.Uninstall(ctx, s); err != nil || ur.Removed {
		t.Errorf("uninstall of nothing: %+v %v", ur, err)
	}
	f.active = true
	if _, err := m.Uninstall(ctx, s); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("uninstall of a running unit: %v", err)
	}
	f.answer = func(argv string) *Output {
		if strings.Contains(argv, " stop ") {
			return &Output{Code: 1, Stderr: "Failed to stop clawdbot-gateway-dev.service: Interactive authentication required.\nSee system logs and 'systemctl status clawdbot-gateway-dev.service' for details."}
		}
		return f.systemctl(argv)
	}
	if err := m.Stop(ctx, s); err == nil || !strings.Contains(err.Error(), "rerun the command with sudo") {
		t.Errorf("stop refused by polkit: %v", err)
	}
}

func TestSystemdErrorsNameTheFix(t *testing.T) {
	ctx := context.Background()
	bus := &fakeRunner{answer: func(string) *Output {
		return &Output{Code: 1, Stderr: "Failed to connect to bus: No medium found"}
	}}
	err := (&SystemdManager{Runner: bus}).Stop(ctx, homeSpec(t, Systemd, ScopeUser))
	if err == nil || !strings.Contains(err.Error(), "systemctl --user stop") || !strings.Contains(err.Error(), "XDG_RUNTIME_DIR") {
		t.Errorf("no bus: %v", err)
	}

	s := homeSpec(t, Systemd, ScopeUser)
	f := newFakeSystemd(s)
	f.maskd = true
	_, err = (&SystemdManager{Runner: f}).Install(ctx, s, InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "is masked") || !strings.Contains(err.Error(), "systemctl --user unmask "+s.Name) {
		t.Errorf("masked: %v", err)
	}

	// The failed install put back what was there (no unit); the start-limit
	// case needs one installed.
	if _, err := os.Stat(s.DefinitionPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("masked install left its unit behind: %v", err)
	}
	if _, _, err := writeDefinition(s, false, 0o644); err != nil {
		t.Fatal(err)
	}
	f = newFakeSystemd(s)
	f.answer = func(argv string) *Output {
		if strings.Contains(argv, " start ") { // limit hit again right after the reset
			f.limitHit = true
		}
		return f.systemctl(argv)
	}
	err = (&SystemdManager{Runner: f}).Start(ctx, s)
	if err == nil || !strings.Contains(err.Error(), "clear the limit with: systemctl --user reset-failed "+s.Name) {
		t.Errorf("start limit: %v", err)
	}
}

func TestSystemdStatusParsesShow(t *testing.T) {
	for _, tc := range []struct {
		name, show string
		want       func(s Spec) Status
	}{
		{"running after restarts", "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=4242\nNRestarts=2\nExecMainCode=2\nExecMainStatus=9\nFragmentPath=/x\n",
			func(s Spec) Status {
				nine := 9
				return Status{Manager: Systemd, Scope: ScopeUser, Name: s.Name, Path: s.DefinitionPath(), Installed: true, Loaded: true, Enabled: true,
					Running: true, ActiveState: "active", SubState: "running", PID: 4242, Restarts: 2, LastExitStatus: &nine}
			}},
		// systemctl show of a unit it does not know exits 0 (systemd 252).
		{"not found", "LoadState=not-found\nUnitFileState=\nActiveState=inactive\nSubState=dead\nMainPID=0\nNRestarts=0\nExecMainCode=0\nExecMainStatus=0\nFragmentPath=\n",
			func(s Spec) Status {
				return Status{Manager: Systemd, Scope: ScopeUser, Name: s.Name, Path: s.DefinitionPath(), ActiveState: "inactive", SubState: "dead", Detail: "unit not found"}
			}},
		// "linked" is a unit file in the search path, not enabled.
		{"linked", "LoadState=loaded\nUnitFileState=linked\nActiveState=inactive\nSubState=dead\n",
			func(s Spec) Status {
				return Status{Manager: Systemd, Scope: ScopeUser, Name: s.Name, Path: s.DefinitionPath(), Installed: true, ActiveState: "inactive", SubState: "dead"}
			}},
	} {
		out := tc.show
		f := &fakeRunner{answer: func(string) *Output { return &Output{Stdout: out} }}
		s := homeSpec(t, Systemd, ScopeUser)
		st, err := (&SystemdManager{Runner: f}).Status(context.Background(), s)
		if want := tc.want(s); err != nil || !reflect.DeepEqual(st, want) {
			t.Errorf("%s: status\n got %+v\nwant %+v (%v)", tc.name, st, want, err)
		}
	}
}

// Install is all or nothing: when systemd refuses a step after the unit was
// written, the previous unit (or none) is back on disk and reloaded.
func TestSystemdInstallRestoresWhenALaterStepFails(t *testing.T) {
	ctx := context.Background()
	s := homeSpec(t, Systemd, ScopeUser)
	for _, tc := range []struct {
		name, failOn string
		previous     string // "" = no unit before
	}{
		{"new unit, enable fails", " enable ", ""},
		{"new unit, start fails", " start ", ""},
		{"updated unit, restart fails", " restart ", "[Service]\nExecStart=/bin/old\nEnvironment=CLAWDBOT_SERVICE_MARKER=clawdbot\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(s.DefinitionPath())
			if tc.previous != "" {
				if err := WriteFileAtomic(s.DefinitionPath(), []byte(tc.previous), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := newFakeSystemd(s)
			f.answer = func(argv string) *Output {
				if strings.Contains(argv, tc.failOn) {
					return &Output{Code: 1, Stderr: "Job failed."}
				}
				return f.systemctl(argv)
			}
			res, err := (&SystemdManager{Runner: f}).Install(ctx, s, InstallOptions{})
			if err == nil || !res.Restored {
				t.Fatalf("res %+v, err %v", res, err)
			}
			b, rerr := os.ReadFile(s.DefinitionPath())
			if tc.previous == "" && !errors.Is(rerr, os.ErrNotExist) {
				t.Errorf("a failed first install left a unit: %v", rerr)
			}
			if tc.previous != "" && string(b) != tc.previous {
				t.Errorf("previous unit not restored:\n%s", b)
			}
			calls := strings.Join(f.take(), "\n")
			if !strings.HasSuffix(calls, "systemctl --user daemon-reload") {
				t.Errorf("no reload after the restore:\n%s", calls)
			}
		})
	}
}
