package supervise

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeLaunchd is launchctl as a state machine (no launchd runs on Linux).
// Its answers are modelled on the real tool's:
//   - print of an unknown job: exit 113, `Could not find service "<label>"
//     in domain for uid: 501` (launchctl(1); NousResearch/hermes-agent#5536);
//   - bootout returns before the job is gone: print shows "state =
//     SIGTERMed" for a while and bootout may exit 36 "Operation now in
//     progress" (osquery/osquery#5698, kxn/codex-remote-feishu#914);
//   - bootout of an unknown job: "Boot-out failed: 3: No such process";
//   - bootstrap of a job still known to launchd: exit 5 "Bootstrap failed:
//     5: Input/output error" (headroomlabs-ai/headroom#1289);
//   - bootstrap or kickstart of a disabled job: 119 "Service is disabled";
//   - kickstart of an unknown job: 113; of a running one: a no-op;
//   - print-disabled lists the overrides as `"<label>" => disabled` or
//     `=> enabled` (macOS 11+);
//   - print of a job in a gui/<uid> domain that does not exist (no desktop
//     login, an SSH session): exit 112 "Bad request.\nCould not find domain
//     for user gui: 501" (measured by others, e.g. professor/pfm and the
//     oppi and loom issues about headless Macs).
type fakeLaunchd struct {
	*fakeRunner
	loaded, disabled bool
	noDomain         bool
	terminating      int // prints that still show the job "SIGTERMed" after bootout
	lingerAfterBoot  int // how many prints each bootout leaves it SIGTERMed
	exitLine         string
}

func newFakeLaunchd() *fakeLaunchd {
	l := &fakeLaunchd{fakeRunner: &fakeRunner{}, lingerAfterBoot: 2, exitLine: "last exit code = (never exited)"}
	l.answer = l.launchctl
	return l
}

func (l *fakeLaunchd) launchctl(argv string) *Output {
	notFound := &Output{Code: 113, Stderr: "Could not find service \"com.clawdbot.dev\" in domain for uid: 501"}
	if l.noDomain {
		return &Output{Code: 112, Stderr: "Bad request.\nCould not find domain for user gui: 501"}
	}
	switch f := strings.Fields(argv); f[1] {
	case "print-disabled":
		state := "enabled"
		if l.disabled {
			state = "disabled"
		}
		return &Output{Stdout: "disabled services = {\n\t\"com.apple.Siri.agent\" => disabled\n\t\"com.clawdbot.dev\" => " + state + "\n}\n"}
	case "print":
		if l.terminating > 0 {
			l.terminating--
			return &Output{Stdout: "gui/501/com.clawdbot.dev = {\n\tactive count = 1\n\tstate = SIGTERMed\n\tpid = 777\n\truns = 3\n}\n"}
		}
		if !l.loaded {
			return notFound
		}
		return &Output{Stdout: "gui/501/com.clawdbot.dev = {\n\tactive count = 1\n\tpath = /x.plist\n\ttype = LaunchAgent\n\tstate = running\n\n" +
			"\tprogram = /usr/local/bin/clawdbot\n\targuments = {\n\t\t/usr/local/bin/clawdbot\n\t}\n\n\truns = 3\n\tpid = 777\n\t" +
			l.exitLine + "\n\tendpoints = {\n\t\tstate = x\n\t}\n}\n"}
	case "bootout":
		if !l.loaded {
			return &Output{Code: 3, Stderr: "Boot-out failed: 3: No such process"}
		}
		l.loaded, l.terminating = false, l.lingerAfterBoot
		return &Output{Code: 36, Stderr: "Boot-out failed: 36: Operation now in progress"}
	case "bootstrap":
		switch {
		case l.loaded || l.terminating > 0:
			return &Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors."}
		case l.disabled:
			return &Output{Code: 119, Stderr: "Bootstrap failed: 119: Service is disabled"}
		}
		l.loaded = true
	case "kickstart":
		switch {
		case !l.loaded:
			return notFound
		case l.disabled:
			return &Output{Code: 119, Stderr: "Could not kickstart service \"com.clawdbot.dev\": 119: Service is disabled"}
		}
	case "enable":
		l.disabled = false
	case "disable":
		l.disabled = true
	}
	return nil
}

func asUID(t *testing.T, uid int) {
	t.Helper()
	old := geteuid
	geteuid = func() int { return uid }
	t.Cleanup(func() { geteuid = old })
}

func TestLaunchdManagerSequences(t *testing.T) {
	ctx := context.Background()
	f := newFakeLaunchd()
	m := &LaunchdManager{Runner: f, UID: 501}
	s := homeSpec(t, Launchd, ScopeUser)
	tgt := "gui/501/com.clawdbot.dev"
	plist := s.DefinitionPath()
	pr, boot := "launchctl print "+tgt, "launchctl bootout "+tgt
	pd := "launchctl print-disabled gui/501"
	// After a bootout, print shows the job SIGTERMed twice, then gone.
	gone := []string{pr, pr, pr}
	seq := func(parts ...[]string) (all []string) {
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	one := func(s ...string) []string { return s }

	res, err := m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionInstalled {
		t.Fatalf("install: %+v %v", res, err)
	}
	wantCalls(t, "install", f.take(), one(pr, pd, "launchctl enable "+tgt, "launchctl bootstrap gui/501 "+plist, "launchctl kickstart "+tgt))
	if _, err := os.Stat(filepath.Dir(s.StdoutPath)); err != nil {
		t.Errorf("log dir not created: %v", err)
	}

	if _, err := m.Install(ctx, s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "unchanged", f.take(), one(pr, pd, "launchctl enable "+tgt, "launchctl kickstart "+tgt))

	// A changed plist: bootout, wait until launchd has let go of the label
	// (bootstrapping earlier fails with 5: Input/output error), bootstrap.
	res, err = m.Install(ctx, s, InstallOptions{Force: true})
	if err != nil || !res.Restarted {
		t.Fatalf("force: %+v %v", res, err)
	}
	wantCalls(t, "force", f.take(), seq(one(pr, pd, boot), gone, one("launchctl enable "+tgt, "launchctl bootstrap gui/501 "+plist, "launchctl kickstart "+tgt)))

	if err := m.Stop(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "stop", f.take(), seq(one("launchctl disable "+tgt, boot), gone))
	if err := m.Stop(ctx, s); err != nil {
		t.Fatalf("stop when stopped: %v", err)
	}
	wantCalls(t, "stop when stopped", f.take(), one("launchctl disable "+tgt, boot, pr))

	// The original's start could not undo its stop (doc/supervision.md §10.2); ours can.
	if err := m.Start(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "start after stop", f.take(), one("launchctl enable "+tgt, pr, "launchctl bootstrap gui/501 "+plist, "launchctl kickstart "+tgt))

	if err := m.Start(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "start while loaded", f.take(), one("launchctl enable "+tgt, pr, "launchctl kickstart "+tgt))

	if err := m.Restart(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "restart", f.take(), one(pr, "launchctl kickstart -k "+tgt))

	st, err := m.Status(ctx, s)
	if err != nil || !st.Loaded || !st.Running || st.PID != 777 || st.Restarts != 2 || st.ActiveState != "running" || st.LastExitStatus != nil {
		t.Fatalf("status: %+v %v", st, err)
	}
	f.take()

	ur, err := m.Uninstall(ctx, s)
	if err != nil || !ur.Removed {
		t.Fatalf("uninstall: %+v %v", ur, err)
	}
	wantCalls(t, "uninstall", f.take(), seq(one(pr, boot), gone))
	if fileExists(plist) {
		t.Error("plist left after uninstall")
	}
	st, _ = m.Status(ctx, s)
	if st.Loaded || st.Installed {
		t.Errorf("status after uninstall: %+v", st)
	}
	f.take()
	if ur, err := m.Uninstall(ctx, s); err != nil || ur.Removed {
		t.Fatalf("uninstall when not installed: %+v %v", ur, err)
	}
	wantCalls(t, "uninstall again", f.take(), one(pr))
}

// A job that ignores SIGTERM past the wait: Stop says so and how to fix it
// rather than claiming success or letting a bootstrap fail with EIO.
func TestLaunchdBootoutWaitIsBounded(t *testing.T) {
	f := newFakeLaunchd()
	f.loaded, f.lingerAfterBoot = true, 1<<30
	m := &LaunchdManager{Runner: f, UID: 501, Wait: 100 * time.Millisecond}
	s := homeSpec(t, Launchd, ScopeUser)
	err := m.Stop(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "still loaded (state = SIGTERMed)") || !strings.Contains(err.Error(), "launchctl kill SIGKILL gui/501/com.clawdbot.dev") {
		t.Fatalf("err = %v", err)
	}
}

// Someone else bootstrapped the job between our print and our bootstrap:
// launchd says 5 (not "already loaded"); print shows it loaded, so the
// start succeeded.
func TestLaunchdBootstrapRaceIsSuccess(t *testing.T) {
	f := newFakeLaunchd()
	s := homeSpec(t, Launchd, ScopeUser)
	if err := WriteFileAtomic(s.DefinitionPath(), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	prints := 0
	f.answer = func(argv string) *Output {
		if strings.HasPrefix(argv, "launchctl print") {
			if prints++; prints > 1 {
				f.loaded = true
			}
		}
		if strings.HasPrefix(argv, "launchctl bootstrap") && f.loaded {
			return &Output{Code: 37, Stderr: "Bootstrap failed: 37: Operation already in progress"}
		}
		return f.launchctl(argv)
	}
	m := &LaunchdManager{Runner: f, UID: 501}
	if err := m.Start(context.Background(), s); err != nil {
		t.Fatalf("start: %v", err)
	}
}

func TestLaunchdBootstrapFailureNamesTheFix(t *testing.T) {
	f := newFakeLaunchd()
	f.answer = func(argv string) *Output {
		if strings.HasPrefix(argv, "launchctl bootstrap") {
			return &Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error"}
		}
		return f.launchctl(argv)
	}
	s := homeSpec(t, Launchd, ScopeUser)
	m := &LaunchdManager{Runner: f, UID: 501}
	// Install takes its plist back, so only launchd's log is named.
	_, err := m.Install(context.Background(), s, InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "5: Input/output error") || !strings.Contains(err.Error(), "log show --last 5m") || strings.Contains(err.Error(), "plutil") {
		t.Fatalf("install: err = %v", err)
	}
	// Start leaves the plist where it is: lint it.
	if err := WriteFileAtomic(s.DefinitionPath(), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = m.Start(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "5: Input/output error") || !strings.Contains(err.Error(), "plutil -lint "+s.DefinitionPath()) {
		t.Fatalf("start: err = %v", err)
	}
}

// A job the user disabled by hand while it stayed loaded: install enables
// it before the kickstart, which launchd would refuse with 119.
func TestLaunchdInstallEnablesADisabledLoadedJob(t *testing.T) {
	f := newFakeLaunchd()
	m := &LaunchdManager{Runner: f, UID: 501}
	s := homeSpec(t, Launchd, ScopeUser)
	if _, err := m.Install(context.Background(), s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	f.disabled = true
	if _, err := m.Install(context.Background(), s, InstallOptions{}); err != nil {
		t.Fatalf("reinstall of a disabled job: %v", err)
	}
}

func TestLaunchdSystemDomain(t *testing.T) {
	asUID(t, 0)
	f := newFakeLaunchd()
	f.loaded = true
	m := &LaunchdManager{Runner: f, UID: 501}
	s := homeSpec(t, Launchd, ScopeSystem)
	if err := m.Restart(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "system restart", f.take(), []string{"launchctl print system/com.clawdbot.dev", "launchctl kickstart -k system/com.clawdbot.dev"})
	if s.DefinitionPath() != "/Library/LaunchDaemons/com.clawdbot.dev.plist" {
		t.Errorf("daemon path = %s", s.DefinitionPath())
	}
}

// launchctl(1): "Anyone may read or query the system domain, but root
// privileges are required to make modifications." Without root every change
// fails before launchctl runs, naming sudo; uninstalling nothing is fine.
func TestLaunchdSystemScopeNeedsRoot(t *testing.T) {
	asUID(t, 501)
	ctx := context.Background()
	f := newFakeLaunchd()
	m := &LaunchdManager{Runner: f, UID: 501}
	s := homeSpec(t, Launchd, ScopeSystem)
	if _, err := m.Install(ctx, s, InstallOptions{}); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("install: %v", err)
	}
	for name, fn := range map[string]func(context.Context, Spec) error{"start": m.Start, "stop": m.Stop, "restart": m.Restart} {
		if err := fn(ctx, s); err == nil || !strings.Contains(err.Error(), "needs root") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if c := f.take(); len(c) != 0 {
		t.Errorf("launchctl ran without root: %q", c)
	}
	if ur, err := m.Uninstall(ctx, s); err != nil || ur.Removed {
		t.Errorf("uninstall of nothing: %+v %v", ur, err)
	}
	f.loaded = true
	if _, err := m.Uninstall(ctx, s); err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("uninstall of a loaded daemon: %v", err)
	}
}

// The exit line of `launchctl print` differs between macOS releases.
func TestLaunchdStatusLastExit(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
	}{
		{"last exit code = 0", "0"},
		{"last exit code = 78: EX_CONFIG", "78"}, // named sysexits, seen on macOS 13+
		{"last exit code = (never exited)", "<nil>"},
		{"last exit status = 1", "1"}, // older releases
		{"last exit code = -9", "-9"},
	} {
		f := newFakeLaunchd()
		f.loaded, f.exitLine = true, tc.line
		st, err := (&LaunchdManager{Runner: f, UID: 501}).Status(context.Background(), homeSpec(t, Launchd, ScopeUser))
		got := "<nil>"
		if st.LastExitStatus != nil {
			got = fmt.Sprint(*st.LastExitStatus)
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: last exit %s, want %s (%v)", tc.line, got, tc.want, err)
		}
	}
}

// Install is all or nothing on launchd too: when a step after the plist was
// written fails, the new job is booted out, the previous plist is back byte
// for byte (or none is left), and the previous job is loaded again if it
// was. launchd cannot run here: fakeLaunchd plays launchctl, and failOn
// makes the named verb fail the way launchd answers it.
func TestLaunchdInstallRestoresWhenALaterStepFails(t *testing.T) {
	ctx := context.Background()
	tgt := "gui/501/com.clawdbot.dev"
	for _, tc := range []struct {
		name     string
		previous string // "" = no plist before; "loaded" / "stopped" = an older plist, loaded / disabled and booted out
		failOn   string // verb prefix that fails
		times    int    // how many times it fails (0: always)
		fail     Output
		// wantErr are fragments of the error.
		wantErr []string
		// wantTail is the end of the launchctl sequence (the restore).
		wantTail []string
		// wantLoaded and wantDisabled are launchd's state afterwards.
		wantLoaded, wantDisabled bool
	}{
		{name: "new plist, bootstrap fails", failOn: "launchctl bootstrap", fail: Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error"},
			wantErr:  []string{"5: Input/output error", "log show"},
			wantTail: []string{"launchctl bootstrap gui/501 PLIST", "launchctl print " + tgt}},
		{name: "new plist, enable fails", failOn: "launchctl enable", fail: Output{Code: 1, Stderr: "Operation not permitted"},
			wantErr:  []string{"Operation not permitted"},
			wantTail: []string{"launchctl enable " + tgt}},
		{name: "new plist, kickstart fails", failOn: "launchctl kickstart", fail: Output{Code: 119, Stderr: "Could not kickstart service: 119: Service is disabled"},
			wantErr:  []string{"119: Service is disabled"},
			wantTail: []string{"launchctl kickstart " + tgt, "launchctl bootout " + tgt, "launchctl print " + tgt, "launchctl print " + tgt, "launchctl print " + tgt}},
		{name: "updated plist, bootstrap fails", previous: "loaded", failOn: "launchctl bootstrap", times: 1, fail: Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error"},
			wantErr: []string{"5: Input/output error"},
			wantTail: []string{"launchctl bootstrap gui/501 PLIST", "launchctl print " + tgt,
				"launchctl bootstrap gui/501 PLIST", "launchctl kickstart " + tgt},
			wantLoaded: true},
		{name: "updated plist, kickstart fails", previous: "loaded", failOn: "launchctl kickstart", times: 1, fail: Output{Code: 113, Stderr: "Could not find service"},
			wantErr: []string{"Could not find service"},
			wantTail: []string{"launchctl kickstart " + tgt, "launchctl bootout " + tgt, "launchctl print " + tgt, "launchctl print " + tgt, "launchctl print " + tgt,
				"launchctl bootstrap gui/501 PLIST", "launchctl kickstart " + tgt},
			wantLoaded: true},
		// The previous job cannot be loaded again either: the error says so
		// and names the command that would.
		{name: "updated plist, every kickstart fails", previous: "loaded", failOn: "launchctl kickstart", fail: Output{Code: 113, Stderr: "Could not find service"},
			wantErr:    []string{"launchd did not load it again", "clawdbot --dev gateway start"},
			wantTail:   []string{"launchctl bootstrap gui/501 PLIST", "launchctl kickstart " + tgt},
			wantLoaded: true},
		{name: "updated plist, every bootstrap fails", previous: "loaded", failOn: "launchctl bootstrap", fail: Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors."},
			wantErr:  []string{"; the previous plist is back but launchd did not load it again (Bootstrap failed: 5: Input/output error); run 'clawdbot --dev gateway start'"},
			wantTail: []string{"launchctl bootstrap gui/501 PLIST", "launchctl print " + tgt}},
		// Stopped by `gateway stop` (disabled, booted out): it stays stopped.
		{name: "stopped plist, bootstrap fails", previous: "stopped", failOn: "launchctl bootstrap", fail: Output{Code: 5, Stderr: "Bootstrap failed: 5: Input/output error"},
			wantErr:      []string{"5: Input/output error"},
			wantTail:     []string{"launchctl bootstrap gui/501 PLIST", "launchctl print " + tgt, "launchctl disable " + tgt},
			wantDisabled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := homeSpec(t, Launchd, ScopeUser)
			plist := s.DefinitionPath()
			f := newFakeLaunchd()
			var previous []byte
			if tc.previous != "" {
				older := s
				older.Args = []string{"gateway", "--port", "19555"}
				var err error
				if previous, err = Render(older); err != nil {
					t.Fatal(err)
				}
				if err := WriteFileAtomic(plist, previous, 0o644); err != nil {
					t.Fatal(err)
				}
				f.loaded, f.disabled = tc.previous == "loaded", tc.previous == "stopped"
			}
			failed := 0
			f.answer = func(argv string) *Output {
				if strings.HasPrefix(argv, tc.failOn) && (tc.times == 0 || failed < tc.times) {
					failed++
					o := tc.fail
					return &o
				}
				return f.launchctl(argv)
			}
			res, err := (&LaunchdManager{Runner: f, UID: 501, Wait: time.Second}).Install(ctx, s, InstallOptions{})
			if err == nil || !res.Restored {
				t.Fatalf("res %+v, err %v", res, err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			b, rerr := os.ReadFile(plist)
			if previous == nil && !os.IsNotExist(rerr) {
				t.Errorf("a failed first install left a plist: %v", rerr)
			}
			if previous != nil && string(b) != string(previous) {
				t.Errorf("previous plist not restored byte for byte:\n%s", b)
			}
			calls := f.take()
			for i := range calls {
				calls[i] = strings.ReplaceAll(calls[i], plist, "PLIST")
			}
			if len(calls) < len(tc.wantTail) {
				t.Fatalf("calls %q", calls)
			}
			wantCalls(t, "restore", calls[len(calls)-len(tc.wantTail):], tc.wantTail)
			if f.loaded != tc.wantLoaded || f.disabled != tc.wantDisabled {
				t.Errorf("launchd left loaded=%v disabled=%v, want %v %v; calls %q", f.loaded, f.disabled, tc.wantLoaded, tc.wantDisabled, calls)
			}
		})
	}
}

// Nothing is written when launchd cannot be managed: no gui/<uid> domain
// (an SSH session with nobody logged in to the desktop) or, for the system
// domain, no root.
func TestLaunchdInstallChecksBeforeWriting(t *testing.T) {
	ctx := context.Background()
	t.Run("no gui domain", func(t *testing.T) {
		f := newFakeLaunchd()
		f.noDomain = true
		s := homeSpec(t, Launchd, ScopeUser)
		res, err := (&LaunchdManager{Runner: f, UID: 501}).Install(ctx, s, InstallOptions{})
		if err == nil || res.Restored || !strings.Contains(err.Error(), "Could not find domain") || !strings.Contains(err.Error(), "logged in to the desktop") {
			t.Fatalf("res %+v, err %v", res, err)
		}
		if fileExists(s.DefinitionPath()) {
			t.Error("plist written although launchd has no gui domain")
		}
		wantCalls(t, "no domain", f.take(), []string{"launchctl print gui/501/com.clawdbot.dev"})
	})
	t.Run("system domain without root", func(t *testing.T) {
		asUID(t, 501)
		f := newFakeLaunchd()
		s := homeSpec(t, Launchd, ScopeSystem)
		// The daemon's log directory (under the test's HOME) must not be
		// created either.
		_, err := (&LaunchdManager{Runner: f, UID: 501}).Install(ctx, s, InstallOptions{})
		if err == nil || !strings.Contains(err.Error(), "needs root") {
			t.Fatalf("err %v", err)
		}
		if c := f.take(); len(c) != 0 {
			t.Errorf("launchctl ran: %q", c)
		}
		if _, err := os.Stat(filepath.Dir(s.StdoutPath)); !os.IsNotExist(err) {
			t.Errorf("log dir created without root: %v", err)
		}
	})
}
