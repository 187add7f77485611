package supervise

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kardianos/service"
)

// fakeSCM stands in for the Windows service control manager behind
// kardianos/service (none runs here). It answers the way kardianos v1.3.0
// on Windows does (service_windows.go), with the Win32 errors of the
// underlying calls:
//   - Status of a missing service: ErrNotInstalled; without the rights to
//     open it: ERROR_ACCESS_DENIED (5);
//   - Start of a running service: ERROR_SERVICE_ALREADY_RUNNING (1056);
//     Stop of a stopped one: ERROR_SERVICE_NOT_ACTIVE (1062);
//   - Install over an existing service: "service X already exists";
//   - Uninstall only marks the service for deletion: it stays registered
//     (Status answers) for pendingDeletes more queries; a second delete
//     answers ERROR_SERVICE_MARKED_FOR_DELETE (1072);
//   - Stop blocks while the service is stuck in STOP_PENDING (kardianos
//     polls for SERVICE_STOPPED without end).
type fakeSCM struct {
	calls                       []string
	installed, running, marked  bool
	pendingDeletes, deleteAfter int
	statusErr, eventLogErr      error
	stuck                       chan struct{} // non-nil: Stop blocks until closed
}

func (f *fakeSCM) rec(s string) { f.calls = append(f.calls, s) }

func (f *fakeSCM) take() []string { c := f.calls; f.calls = nil; return c }

func (f *fakeSCM) Install() error {
	f.rec("install")
	if f.installed {
		if f.marked {
			return syscall.Errno(errnoServiceMarkedForDelete)
		}
		return errors.New("service Clawdbot Gateway (dev) already exists")
	}
	f.installed = true
	return nil
}

func (f *fakeSCM) Uninstall() error {
	f.rec("uninstall")
	if f.marked {
		return syscall.Errno(errnoServiceMarkedForDelete)
	}
	f.marked, f.pendingDeletes = true, f.deleteAfter
	return f.eventLogErr // kardianos removes the event log source after the delete
}

func (f *fakeSCM) Start() error {
	f.rec("start")
	if f.running {
		return syscall.Errno(errnoServiceAlreadyRunning)
	}
	f.running = true
	return nil
}

func (f *fakeSCM) Stop() error {
	f.rec("stop")
	if f.stuck != nil {
		<-f.stuck
	}
	if !f.running {
		return syscall.Errno(errnoServiceNotActive)
	}
	f.running = false
	return nil
}

func (f *fakeSCM) Restart() error { f.rec("restart"); return nil }

func (f *fakeSCM) Status() (service.Status, error) {
	switch {
	case f.statusErr != nil:
		return service.StatusUnknown, f.statusErr
	case f.marked && f.pendingDeletes > 0:
		f.pendingDeletes--
	case f.marked:
		f.installed, f.marked, f.running = false, false, false
	}
	switch {
	case !f.installed:
		return service.StatusUnknown, service.ErrNotInstalled
	case f.running:
		return service.StatusRunning, nil
	}
	return service.StatusStopped, nil
}

func winManager(f *fakeSCM, last **service.Config) *WindowsManager {
	return &WindowsManager{Wait: 2 * time.Second, New: func(c *service.Config) (WindowsService, error) {
		if last != nil {
			*last = c
		}
		return f, nil
	}}
}

func TestWindowsManagerSequences(t *testing.T) {
	ctx := context.Background()
	f := &fakeSCM{deleteAfter: 2} // the SCM lets go of a deleted service two queries later
	var lastCfg *service.Config
	m := winManager(f, &lastCfg)
	s := homeSpec(t, Windows, ScopeSystem)

	res, err := m.Install(ctx, s, InstallOptions{})
	if err != nil || res.Action != ActionInstalled {
		t.Fatalf("install: %+v %v", res, err)
	}
	wantCalls(t, "install", f.take(), []string{"install", "start"})
	if lastCfg.Name != "Clawdbot Gateway (dev)" || lastCfg.Option[optOnFailure] != "restart" || lastCfg.Option[optOnFailureDelay] != "5s" ||
		lastCfg.Option[optStartType] != "automatic" || lastCfg.EnvVars[EnvMarker] != MarkerValue {
		t.Errorf("kardianos config = %+v", lastCfg)
	}

	if res, _ := m.Install(ctx, s, InstallOptions{}); res.Action != ActionUnchanged {
		t.Errorf("second install = %s", res.Action)
	}
	wantCalls(t, "unchanged", f.take(), nil)

	// A changed definition: stop, delete, wait until the SCM has really
	// removed it (install would fail "already exists"), install, start.
	s2 := s
	s2.Args = []string{"gateway", "--port", "19555"}
	if res, err := m.Install(ctx, s2, InstallOptions{}); err != nil || res.Action != ActionUpdated || !res.Restarted {
		t.Fatalf("update: %+v %v", res, err)
	}
	wantCalls(t, "updated", f.take(), []string{"stop", "uninstall", "install", "start"})

	for _, step := range []struct {
		name string
		fn   func(context.Context, Spec) error
		want []string
	}{
		{"stop", m.Stop, []string{"stop"}},
		{"stop when stopped", m.Stop, nil},
		{"restart when stopped", m.Restart, []string{"start"}},
		{"start when running", m.Start, nil},
		{"restart", m.Restart, []string{"restart"}},
	} {
		if err := step.fn(ctx, s); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		wantCalls(t, step.name, f.take(), step.want)
	}

	if ur, err := m.Uninstall(ctx, s); err != nil || !ur.Removed {
		t.Fatalf("uninstall %+v %v", ur, err)
	}
	wantCalls(t, "uninstall", f.take(), []string{"stop", "uninstall"})
	if st, _ := m.Status(ctx, s); st.Installed || st.Loaded {
		t.Errorf("status after uninstall %+v", st)
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
	wantCalls(t, "verbs on nothing", f.take(), nil)
}

// The SCM answers "already running" / "not active" when a verb races with
// its own autostart or recovery: those are successes.
func TestWindowsRacesAreSuccess(t *testing.T) {
	ctx := context.Background()
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{installed: true}
	m := &WindowsManager{New: func(*service.Config) (WindowsService, error) { return racing{f}, nil }}
	if err := m.Start(ctx, s); err != nil {
		t.Errorf("start racing autostart: %v", err)
	}
	f.running = true
	if err := m.Stop(ctx, s); err != nil {
		t.Errorf("stop racing an exit: %v", err)
	}
}

// racing reports the opposite of the truth once, as a status read just
// before the service changed state would.
type racing struct{ *fakeSCM }

func (r racing) Status() (service.Status, error) {
	st, err := r.fakeSCM.Status()
	if st == service.StatusRunning {
		r.running = false
		return st, err
	}
	r.running = true
	return service.StatusStopped, err
}

// Without elevation the SCM denies access. Uninstall must then fail naming
// the fix, not delete our configuration copy and report success.
func TestWindowsAccessDenied(t *testing.T) {
	ctx := context.Background()
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{}
	m := winManager(f, nil)
	if _, err := m.Install(ctx, s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	f.statusErr = syscall.Errno(errnoAccessDenied)
	ur, err := m.Uninstall(ctx, s)
	if err == nil || ur.Removed || !strings.Contains(err.Error(), "elevated (Administrator)") {
		t.Fatalf("uninstall without rights: %+v %v", ur, err)
	}
	if !fileExists(s.DefinitionPath()) {
		t.Error("uninstall without rights removed the configuration copy")
	}
	for name, fn := range map[string]func(context.Context, Spec) error{"start": m.Start, "stop": m.Stop, "restart": m.Restart} {
		if err := fn(ctx, s); err == nil || !strings.Contains(err.Error(), "elevated") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st, err := m.Status(ctx, s); err != nil || !strings.Contains(st.Detail, "elevated") {
		t.Errorf("status: %+v %v", st, err)
	}
}

// kardianos's Stop never returns for a service stuck in STOP_PENDING; ours
// gives up after Wait and names the way out.
func TestWindowsStopIsBounded(t *testing.T) {
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{installed: true, running: true, stuck: make(chan struct{})}
	defer close(f.stuck)
	m := winManager(f, nil)
	m.Wait = 50 * time.Millisecond
	err := m.Stop(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "did not stop within") || !strings.Contains(err.Error(), "taskkill") {
		t.Fatalf("err = %v", err)
	}
}

// A service Windows keeps "marked for deletion" (services.msc holds a
// handle): the wait is bounded and says what to close.
func TestWindowsMarkedForDeletionWaitIsBounded(t *testing.T) {
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{deleteAfter: 1 << 30}
	m := winManager(f, nil)
	if _, err := m.Install(context.Background(), s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	m.Wait = 100 * time.Millisecond
	_, err := m.Uninstall(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "marked for deletion") || !strings.Contains(err.Error(), "services.msc") {
		t.Fatalf("err = %v", err)
	}
	// Rerunning uninstall meets ERROR_SERVICE_MARKED_FOR_DELETE and waits again.
	f.deleteAfter, f.pendingDeletes = 0, 0
	if ur, err := m.Uninstall(context.Background(), s); err != nil || !ur.Removed {
		t.Fatalf("second uninstall: %+v %v", ur, err)
	}
}

// kardianos deletes the service and then fails to remove its event log
// source: the service is gone, so uninstall succeeded.
func TestWindowsUninstallToleratesEventLogLeftover(t *testing.T) {
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{}
	m := winManager(f, nil)
	if _, err := m.Install(context.Background(), s, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	f.eventLogErr = errors.New("RemoveEventLogSource() failed: Access is denied.")
	if ur, err := m.Uninstall(context.Background(), s); err != nil || !ur.Removed {
		t.Fatalf("uninstall: %+v %v", ur, err)
	}
	wantCalls(t, "uninstall", f.take(), []string{"install", "start", "stop", "uninstall"})
}

func TestWindowsRefusesForeignService(t *testing.T) {
	f := &fakeSCM{installed: true, running: true}
	_, err := winManager(f, nil).Install(context.Background(), homeSpec(t, Windows, ScopeSystem), InstallOptions{})
	if !errors.Is(err, ErrForeignDefinition) {
		t.Fatalf("err = %v", err)
	}
}
