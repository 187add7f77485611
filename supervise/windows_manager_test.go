package supervise

import (
	"context"
	"errors"
	"os"
	"reflect"
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
//     polls for SERVICE_STOPPED without end);
//   - Install can fail after CreateService succeeded (kardianos returns
//     SetRecoveryActions' error without deleting the service): partial.
type fakeSCM struct {
	calls                       []string
	installed, running, marked  bool
	pendingDeletes, deleteAfter int
	statusErr, eventLogErr      error
	stuck                       chan struct{} // non-nil: Stop blocks until closed

	// Scripted failures: the next installFails Installs fail with
	// installErr (after creating the service when partial), the next
	// startFails Starts with startErr.
	installFails, startFails, uninstallFails int
	installErr, startErr, uninstallErr       error
	partial                                  bool
	// opened is the configuration of the handle in use (see cfgHandle);
	// installedCfg the one the registered service was created with.
	opened, installedCfg *service.Config
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
	if f.installFails > 0 {
		f.installFails--
		if f.partial {
			f.installed, f.installedCfg = true, f.opened
		}
		return f.installErr
	}
	f.installed, f.installedCfg = true, f.opened
	return nil
}

func (f *fakeSCM) Uninstall() error {
	f.rec("uninstall")
	if f.marked {
		return syscall.Errno(errnoServiceMarkedForDelete)
	}
	if f.uninstallFails > 0 {
		f.uninstallFails--
		return f.uninstallErr
	}
	f.marked, f.pendingDeletes = true, f.deleteAfter
	return f.eventLogErr // kardianos removes the event log source after the delete
}

func (f *fakeSCM) Start() error {
	f.rec("start")
	if f.running {
		return syscall.Errno(errnoServiceAlreadyRunning)
	}
	if f.startFails > 0 {
		f.startFails--
		return f.startErr
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
		return cfgHandle{f, c}, nil
	}}
}

// cfgHandle is a handle opened for one configuration, as kardianos's
// service.New returns: its Install creates the service with that
// configuration.
type cfgHandle struct {
	*fakeSCM
	cfg *service.Config
}

func (h cfgHandle) Install() error {
	h.opened = h.cfg
	return h.fakeSCM.Install()
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

// Install is all or nothing as far as kardianos/service lets it be: a
// service this install created is deleted again, one it deleted is created
// again from our copy of its configuration (and started if it ran), and the
// copy is put back byte for byte. No SCM runs here: fakeSCM plays it.
func TestWindowsInstallRestoresWhenALaterStepFails(t *testing.T) {
	ctx := context.Background()
	timeout := syscall.Errno(1053) // ERROR_SERVICE_REQUEST_TIMEOUT: the service did not answer the start
	for _, tc := range []struct {
		name     string
		previous string // "": none; "ours": a running service from our older copy; "foreign": a running one without a copy; "missing": our copy, no service
		fsc      fakeSCM
		wait     time.Duration // 0: winManager's
		// wantRestored, wantRunning: Restored, and whether the previous
		// service is registered (and running) afterwards.
		wantRestored, wantRegistered, wantRunning bool
		wantCalls                                 []string
		wantErr                                   []string
	}{
		{name: "new service, start fails", fsc: fakeSCM{startFails: 1, startErr: timeout},
			wantRestored: true, wantCalls: []string{"install", "start", "stop", "uninstall"}, wantErr: []string{"start service"}},
		{name: "new service, create fails", fsc: fakeSCM{installFails: 1, installErr: errors.New("The account name is invalid or does not exist")},
			wantRestored: true, wantCalls: []string{"install"}, wantErr: []string{"account name is invalid"}},
		// kardianos created the service, then SetRecoveryActions failed.
		{name: "new service, recovery actions fail", fsc: fakeSCM{installFails: 1, partial: true, installErr: syscall.Errno(errnoAccessDenied)},
			wantRestored: true, wantCalls: []string{"install", "stop", "uninstall"}, wantErr: []string{"install service"}},
		{name: "updated service, start fails", previous: "ours", fsc: fakeSCM{startFails: 1, startErr: timeout},
			wantRestored: true, wantRegistered: true, wantRunning: true,
			wantCalls: []string{"stop", "uninstall", "install", "start", "stop", "uninstall", "install", "start"}, wantErr: []string{"start service"}},
		{name: "updated service, create fails", previous: "ours", fsc: fakeSCM{installFails: 1, installErr: errors.New("The specified service already exists")},
			wantRestored: true, wantRegistered: true, wantRunning: true,
			wantCalls: []string{"stop", "uninstall", "install", "install", "start"}, wantErr: []string{"already exists"}},
		// The delete is refused: the stopped previous service runs again.
		{name: "updated service, delete refused", previous: "ours", fsc: fakeSCM{uninstallFails: 1, uninstallErr: errors.New("The operation was refused by a group policy")},
			wantRestored: true, wantRegistered: true, wantRunning: true,
			wantCalls: []string{"stop", "uninstall", "start"}, wantErr: []string{"group policy"}},
		// The delete stays pending (services.msc holds a handle): the
		// previous service is going away, so nothing is claimed restored.
		{name: "updated service, delete stays pending", previous: "ours", fsc: fakeSCM{deleteAfter: 1 << 30}, wait: 100 * time.Millisecond,
			wantRegistered: true, wantCalls: []string{"stop", "uninstall"}, wantErr: []string{"marked for deletion", "services.msc"}},
		// --force over a service clawdbot has no copy of: it cannot be
		// re-created, and the error says so instead of claiming a restore.
		{name: "forced over a foreign service, start fails", previous: "foreign", fsc: fakeSCM{startFails: 1, startErr: timeout},
			wantCalls: []string{"stop", "uninstall", "install", "start", "stop", "uninstall"}, wantErr: []string{"cannot be re-created", "no copy of its configuration"}},
		// Our copy is there but the service is not (deleted by hand): the
		// copy stays, the half-created service goes.
		{name: "unchanged copy, missing service, start fails", previous: "missing", fsc: fakeSCM{startFails: 1, startErr: timeout},
			wantRestored: true, wantCalls: []string{"install", "start", "stop", "uninstall"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := homeSpec(t, Windows, ScopeSystem)
			f := &tc.fsc
			m := winManager(f, nil)
			older := s
			older.Args = []string{"gateway", "--port", "19555"}
			var previous []byte
			switch tc.previous {
			case "ours", "foreign", "missing":
				spec := older
				if tc.previous == "missing" {
					spec = s
				}
				saved := *f
				*f = fakeSCM{}
				if _, err := m.Install(ctx, spec, InstallOptions{}); err != nil {
					t.Fatal(err)
				}
				cfg := f.installedCfg
				*f = saved
				f.installed, f.running, f.installedCfg = true, true, cfg
				if tc.wait > 0 {
					m.Wait = tc.wait
				}
				if tc.previous == "missing" {
					f.installed, f.running = false, false
				}
				if tc.previous == "foreign" {
					os.Remove(s.DefinitionPath())
				} else if previous, _ = os.ReadFile(s.DefinitionPath()); previous == nil {
					t.Fatal("no copy")
				}
			}
			prevCfg := f.installedCfg
			f.take()
			res, err := m.Install(ctx, s, InstallOptions{Force: tc.previous == "foreign"})
			if err == nil || res.Restored != tc.wantRestored {
				t.Fatalf("res %+v, err %v", res, err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			wantCalls(t, tc.name, f.take(), tc.wantCalls)
			b, rerr := os.ReadFile(s.DefinitionPath())
			if previous == nil && !os.IsNotExist(rerr) {
				t.Errorf("configuration copy left behind: %v", rerr)
			}
			if previous != nil && string(b) != string(previous) {
				t.Errorf("configuration copy not restored byte for byte:\n%s", b)
			}
			st, _ := m.Status(ctx, s)
			if st.Loaded != tc.wantRegistered || st.Running != tc.wantRunning {
				t.Errorf("SCM left registered=%v running=%v, want %v %v", st.Loaded, st.Running, tc.wantRegistered, tc.wantRunning)
			}
			if tc.wantRegistered && !reflect.DeepEqual(f.installedCfg, prevCfg) {
				t.Errorf("re-created with\n%+v\nwant the previous configuration\n%+v", f.installedCfg, prevCfg)
			}
		})
	}
}

// Outside an elevated prompt the SCM still answers queries, so Install
// checks the right to create services before it writes its copy.
func TestWindowsInstallChecksElevationBeforeWriting(t *testing.T) {
	s := homeSpec(t, Windows, ScopeSystem)
	f := &fakeSCM{}
	m := winManager(f, nil)
	m.CanManage = func() error { return syscall.Errno(errnoAccessDenied) }
	res, err := m.Install(context.Background(), s, InstallOptions{})
	if err == nil || res.Restored || !strings.Contains(err.Error(), "elevated (Administrator)") {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if fileExists(s.DefinitionPath()) {
		t.Error("configuration copy written without the right to install")
	}
	wantCalls(t, "not elevated", f.take(), nil)
}
