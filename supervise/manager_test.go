package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kardianos/service"
)

// fakeRunner records every argv and answers from a script. It stands in for
// launchctl (no launchd on Linux) and for systemctl where the test is about
// the exact command sequence; the real systemctl is exercised by
// TestSystemdSandbox.
type fakeRunner struct {
	mu    sync.Mutex
	calls []string
	// answer returns the output for an argv; nil means exit 0, no output.
	answer func(argv string) *Output
}

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) (Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	f.calls = append(f.calls, argv)
	f.mu.Unlock()
	if f.answer != nil {
		if o := f.answer(argv); o != nil {
			return *o, nil
		}
	}
	return Output{}, nil
}

func (f *fakeRunner) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// homeSpec is a spec whose HOME (and so its definition path) is a temp dir.
func homeSpec(t *testing.T, pl Platform, scope Scope) Spec {
	t.Helper()
	s := testSpec(t, "dev", pl, scope)
	home := t.TempDir()
	s.Env["HOME"] = home
	s.Env[EnvStateDir] = filepath.Join(home, ".clawdbot-dev")
	s.StdoutPath = strings.Replace(s.StdoutPath, "/home/alice", home, 1)
	s.StderrPath = strings.Replace(s.StderrPath, "/home/alice", home, 1)
	return s
}

func wantCalls(t *testing.T, step string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: argv sequence\n got %q\nwant %q", step, got, want)
	}
}

func TestInstallRefusesForeignFile(t *testing.T) {
	f := &fakeRunner{}
	m := &SystemdManager{Runner: f}
	s := homeSpec(t, Systemd, ScopeUser)
	foreign := []byte("[Service]\nExecStart=/usr/bin/other\n")
	if err := WriteFileAtomic(s.DefinitionPath(), foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := m.Install(context.Background(), s, InstallOptions{})
	if !errors.Is(err, ErrForeignDefinition) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want ErrForeignDefinition naming --force", err)
	}
	if b, _ := os.ReadFile(s.DefinitionPath()); string(b) != string(foreign) {
		t.Fatal("foreign unit was modified")
	}
	if len(f.take()) != 0 {
		t.Error("systemctl ran although install refused")
	}
	res, err := m.Install(context.Background(), s, InstallOptions{Force: true})
	if err != nil || res.Action != ActionUpdated {
		t.Fatalf("forced: %+v, %v", res, err)
	}
}

// fakeWinService stands in for the Windows SCM (none runs here).
type fakeWinService struct {
	calls     *[]string
	installed *bool
	running   *bool
	cfg       *service.Config
}

func (w fakeWinService) rec(s string) { *w.calls = append(*w.calls, s) }
func (w fakeWinService) Install() error {
	w.rec("install")
	*w.installed = true
	return nil
}
func (w fakeWinService) Uninstall() error {
	w.rec("uninstall")
	*w.installed = false
	return nil
}
func (w fakeWinService) Start() error   { w.rec("start"); *w.running = true; return nil }
func (w fakeWinService) Stop() error    { w.rec("stop"); *w.running = false; return nil }
func (w fakeWinService) Restart() error { w.rec("restart"); return nil }
func (w fakeWinService) Status() (service.Status, error) {
	switch {
	case !*w.installed:
		return service.StatusUnknown, service.ErrNotInstalled
	case *w.running:
		return service.StatusRunning, nil
	}
	return service.StatusStopped, nil
}

func TestWindowsManagerSequences(t *testing.T) {
	ctx := context.Background()
	var calls []string
	var installed, running bool
	var lastCfg *service.Config
	m := &WindowsManager{New: func(c *service.Config) (WindowsService, error) {
		lastCfg = c
		return fakeWinService{&calls, &installed, &running, c}, nil
	}}
	s := homeSpec(t, Windows, ScopeSystem)
	take := func() []string { c := calls; calls = nil; return c }

	res, err := m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionInstalled {
		t.Fatalf("install: %+v %v", res, err)
	}
	wantCalls(t, "install", take(), []string{"install", "start"})
	if lastCfg.Name != "Clawdbot Gateway (dev)" || lastCfg.Option[optOnFailure] != "restart" || lastCfg.Option[optOnFailureDelay] != "5s" ||
		lastCfg.Option[optStartType] != "automatic" || lastCfg.EnvVars[EnvMarker] != MarkerValue {
		t.Errorf("kardianos config = %+v", lastCfg)
	}

	if res, _ := m.Install(ctx, s, InstallOptions{}); res.Action != ActionUnchanged {
		t.Errorf("second install = %s", res.Action)
	}
	wantCalls(t, "unchanged", take(), nil)

	s2 := s
	s2.Args = []string{"gateway", "--port", "19555"}
	if res, err := m.Install(ctx, s2, InstallOptions{}); err != nil || res.Action != ActionUpdated {
		t.Fatalf("update: %+v %v", res, err)
	}
	wantCalls(t, "updated", take(), []string{"stop", "uninstall", "install", "start"})

	m.Stop(ctx, s)
	m.Stop(ctx, s)
	m.Start(ctx, s)
	m.Restart(ctx, s)
	wantCalls(t, "controls", take(), []string{"stop", "start", "restart"})

	if ur, err := m.Uninstall(ctx, s); err != nil || !ur.Removed {
		t.Fatalf("uninstall %+v %v", ur, err)
	}
	wantCalls(t, "uninstall", take(), []string{"stop", "uninstall"})
	if st, _ := m.Status(ctx, s); st.Installed || st.Loaded {
		t.Errorf("status after uninstall %+v", st)
	}
}

func TestWindowsRefusesForeignService(t *testing.T) {
	installed, running := true, true
	var calls []string
	m := &WindowsManager{New: func(c *service.Config) (WindowsService, error) {
		return fakeWinService{&calls, &installed, &running, c}, nil
	}}
	_, err := m.Install(context.Background(), homeSpec(t, Windows, ScopeSystem), InstallOptions{})
	if !errors.Is(err, ErrForeignDefinition) {
		t.Fatalf("err = %v", err)
	}
}

func TestLinger(t *testing.T) {
	f := &fakeRunner{answer: func(argv string) *Output {
		if strings.Contains(argv, "show-user") {
			return &Output{Stdout: "no\n"}
		}
		return nil
	}}
	on, err := LingerEnabled(context.Background(), f, "alice")
	if err != nil || on {
		t.Fatalf("linger = %v %v", on, err)
	}
	if err := EnableLinger(context.Background(), f, "alice"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "linger", f.take(), []string{"loginctl show-user alice --property=Linger --value", "loginctl enable-linger alice"})
	if LingerCommand("alice") != "loginctl enable-linger alice" {
		t.Error(LingerCommand("alice"))
	}
}
