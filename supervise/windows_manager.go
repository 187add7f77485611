package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/kardianos/service"
)

// WindowsService is the part of kardianos/service the Windows manager uses;
// it is the seam tests replace (no service control manager runs here).
type WindowsService interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Restart() error
	Status() (service.Status, error)
}

// WindowsManager manages a real Windows service through kardianos/service.
// Installing also stores the rendered configuration under the state dir:
// the SCM cannot be read back portably, and the copy lets Install report
// installed / updated / unchanged like the other platforms.
type WindowsManager struct {
	// New opens the service for a configuration; nil uses kardianos.
	New func(*service.Config) (WindowsService, error)
	// Wait bounds how long Uninstall waits for the SCM to delete the
	// service (it deletes lazily); 0 means 30 s.
	Wait time.Duration
	// CanManage checks, before Install writes anything, that this process
	// may create and delete services (nil asks the SCM for the access
	// kardianos's Install needs; always nil off Windows).
	CanManage func() error
}

// noopProgram satisfies kardianos's Interface for control-only use; the
// gateway process itself talks to the SCM when it runs as the service.
type noopProgram struct{}

func (noopProgram) Start(service.Service) error { return nil }
func (noopProgram) Stop(service.Service) error  { return nil }

// Platform implements Manager.
func (m *WindowsManager) Platform() Platform { return Windows }

func (m *WindowsManager) open(s Spec) (WindowsService, error) {
	cfg := WindowsServiceConfig(s)
	if m.New != nil {
		return m.New(cfg)
	}
	svc, err := service.New(noopProgram{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("open service %q: %w", s.Name, err)
	}
	return withQueryStatus(svc, cfg.Name), nil
}

// Win32 error codes the SCM answers with (winerror.h). They arrive as
// syscall.Errno (golang.org/x/sys/windows.Errno is an alias), which exists
// on every GOOS, so the handling is unit-tested here.
const (
	errnoAccessDenied           = 5    // ERROR_ACCESS_DENIED: not elevated
	errnoServiceAlreadyRunning  = 1056 // ERROR_SERVICE_ALREADY_RUNNING: Start of a running service
	errnoServiceDoesNotExist    = 1060 // ERROR_SERVICE_DOES_NOT_EXIST
	errnoServiceNotActive       = 1062 // ERROR_SERVICE_NOT_ACTIVE: Stop of a stopped service
	errnoServiceMarkedForDelete = 1072 // ERROR_SERVICE_MARKED_FOR_DELETE: deleted, handles still open
)

func isErrno(err error, n uintptr) bool {
	var e syscall.Errno
	return errors.As(err, &e) && uintptr(e) == n
}

// winErr wraps an SCM error for s with the step that failed and its fix.
func winErr(s Spec, what string, err error) error {
	switch {
	case isErrno(err, errnoAccessDenied):
		return fmt.Errorf("%s service %q: %w; run the command from an elevated (Administrator) prompt", what, s.Name, err)
	case errors.Is(err, service.ErrNotInstalled) || isErrno(err, errnoServiceDoesNotExist):
		return fmt.Errorf("%s service %q: %w; run 'clawdbot gateway install'", what, s.Name, err)
	case isErrno(err, errnoServiceMarkedForDelete):
		return fmt.Errorf("%s service %q: %w; Windows deletes it once every handle to it is closed: close services.msc and Event Viewer, then retry", what, s.Name, err)
	}
	return fmt.Errorf("%s service %q: %w", what, s.Name, err)
}

// scmState asks the SCM about the service. installed is false only when
// the SCM says it does not exist; any other failure (access denied) is an
// error, never "not installed": uninstall must not delete our copy of the
// configuration and report success while the service stays registered.
func scmState(svc WindowsService) (st service.Status, installed bool, err error) {
	st, err = svc.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return st, false, nil
	case err != nil:
		return st, false, err
	}
	return st, true, nil
}

func (m *WindowsManager) wait() time.Duration {
	if m.Wait <= 0 {
		return 30 * time.Second
	}
	return m.Wait
}

// bounded runs a kardianos Stop or Restart, giving up after Wait: they poll for SERVICE_STOPPED without end once its own timeout has
// fired (the break in its select leaves only the select), so a service
// stuck in STOP_PENDING would hang the CLI. An abandoned call keeps polling
// in its goroutine until the process exits. Stopping a stopped service
// (ERROR_SERVICE_NOT_ACTIVE) succeeds.
func (m *WindowsManager) bounded(ctx context.Context, s Spec, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	ctx, cancel := context.WithTimeout(ctx, m.wait())
	defer cancel()
	select {
	case err := <-done:
		if err != nil && !(what == "stop" && isErrno(err, errnoServiceNotActive)) {
			return winErr(s, what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s service %q: it did not stop within %s; end its process (taskkill /F /FI \"SERVICES eq %s\") and retry", what, s.Name, m.wait(), s.Name)
	}
}

// start starts a service; one that is already running (a race with the
// SCM's own autostart or recovery) is fine.
func start(svc WindowsService, s Spec) error {
	if err := svc.Start(); err != nil && !isErrno(err, errnoServiceAlreadyRunning) {
		return winErr(s, "start", err)
	}
	return nil
}

// Install implements Manager, all or nothing as far as the SCM allows.
// kardianos refuses to install over an existing service, so a changed
// definition is stopped, deleted and installed again.
//
// Before anything is written it checks that the SCM answers, refuses a
// service it did not create (without Force), and, when the SCM will be
// changed, that this process may manage services (an elevated prompt): a
// non-elevated user can query the service, so without this check the
// configuration copy would be written and the create or delete refused.
//
// When a step after the write fails (delete, create, start), Install puts
// back what it can and sets InstallResult.Restored: a service it created is
// stopped and deleted; one it deleted is created again from our stored
// copy of its configuration and started if it was running; the copy is put
// back byte for byte (or removed). Restored is false when the SCM could not
// be put back as it was. What kardianos/service cannot restore:
// settings made outside clawdbot (service account, delayed start, recovery
// actions or description edited in services.msc) are not in our copy, so
// a re-created service has ours; a service replaced with --force that had
// no copy cannot be re-created at all; and a service Windows keeps "marked
// for deletion" (an open handle) cannot be re-created until it is gone.
// The error names each of these when it happens.
func (m *WindowsManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	svc, err := m.open(want)
	if err != nil {
		return InstallResult{}, err
	}
	path := want.DefinitionPath()
	prevState, existed, err := scmState(svc)
	if err != nil {
		return InstallResult{}, winErr(want, "query", err)
	}
	if existed && !fileExists(path) && !opts.Force {
		return InstallResult{}, fmt.Errorf("%w: service %q exists but has no %s; rerun with --force to replace it",
			ErrForeignDefinition, want.Name, path)
	}
	_, _, write, err := planDefinition(want, opts.Force)
	if err != nil {
		return InstallResult{}, err
	}
	if write || !existed {
		if err := m.canManage(); err != nil {
			return InstallResult{}, winErr(want, "install", err)
		}
	}
	old, oldErr := os.ReadFile(path)
	// The previous service's configuration, to create it again if this
	// install deleted it and then failed: our copy, when it describes it.
	var prev *Spec
	if existed && oldErr == nil {
		if ps, err := ParseWindows(old); err == nil && ps.Name == want.Name {
			prev = &ps
		}
	}
	action, written, err := writeDefinition(want, opts.Force, 0o600)
	if err != nil {
		return InstallResult{}, err
	}
	if action == ActionInstalled && existed {
		action = ActionUpdated
	}
	res := InstallResult{Action: action, Path: path}
	exists, deletedOld, triedCreate := existed, false, false
	restore := func(err error) (InstallResult, error) {
		if !written && !triedCreate {
			return res, err
		}
		var notes []string
		scmBack := true // the SCM has what it had before
		// A service in the SCM now is ours when there was none, or when we
		// deleted the previous one: kardianos can fail after creating it
		// (its recovery actions or event log source), so ask.
		newGone := true
		if triedCreate {
			if _, ok, _ := scmState(svc); ok {
				m.bounded(ctx, want, "stop", svc.Stop) // best effort, as in Uninstall
				if derr := m.uninstallAndWait(ctx, want, svc); derr != nil {
					newGone, scmBack = false, false
					notes = append(notes, "the new service is still registered: "+derr.Error())
				}
			}
		}
		wasRunning := existed && prevState == service.StatusRunning
		switch {
		case deletedOld && prev == nil:
			scmBack = false
			notes = append(notes, fmt.Sprintf("the previous service %q was deleted and cannot be re-created: clawdbot has no copy of its configuration", want.Name))
		case deletedOld && !newGone:
			notes = append(notes, fmt.Sprintf("the previous service %q was deleted and cannot be re-created while the new one is registered", want.Name))
		case deletedOld:
			created, rerr := m.recreate(*prev, wasRunning)
			if rerr != nil {
				scmBack = scmBack && created
				notes = append(notes, rerr.Error())
			}
		case existed && !exists && errors.Is(err, errMarkedForDeletion):
			// The previous service is going away once its handles close;
			// the error already says which to close. Nothing to restore.
			scmBack = false
		case existed && wasRunning && !exists:
			// The delete of the previous service was refused after it was
			// stopped: start it again if the SCM still lets us.
			if serr := start(svc, want); serr != nil {
				scmBack = false
				notes = append(notes, "the previous service could not be started again: "+serr.Error())
			}
		}
		if written {
			var rerr error
			switch {
			case oldErr == nil:
				rerr = WriteFileAtomic(path, old, 0o600)
			case errors.Is(oldErr, fs.ErrNotExist):
				if rerr = os.Remove(path); errors.Is(rerr, fs.ErrNotExist) {
					rerr = nil
				}
			default:
				rerr = oldErr
			}
			if rerr != nil {
				notes = append(notes, fmt.Sprintf("could not restore %s either: %v", path, rerr))
			}
			res.Restored = scmBack && rerr == nil
		} else {
			res.Restored = scmBack
		}
		if len(notes) > 0 {
			return res, fmt.Errorf("%w; %s", err, strings.Join(notes, "; "))
		}
		return res, err
	}
	if exists && written {
		// Best effort: a service that will not stop is still deleted once
		// it does, and uninstallAndWait reports the timeout.
		m.bounded(ctx, want, "stop", svc.Stop)
		exists = false
		if err := m.uninstallAndWait(ctx, want, svc); err != nil {
			return restore(err)
		}
		res.Restarted, deletedOld = true, true
	}
	if !exists {
		triedCreate = true
		if err := svc.Install(); err != nil {
			if isErrno(err, errnoServiceMarkedForDelete) {
				return restore(winErr(want, "install", err))
			}
			return restore(fmt.Errorf("install service %q: %w; run from an elevated (Administrator) prompt", want.Name, err))
		}
	}
	if st, _, _ := scmState(svc); st != service.StatusRunning {
		if err := start(svc, want); err != nil {
			return restore(err)
		}
	}
	return res, nil
}

// recreate installs the service described by prev again (after a failed
// update deleted it) and starts it when it was running; created says the
// service is registered again even if its start failed.
func (m *WindowsManager) recreate(prev Spec, running bool) (created bool, err error) {
	svc, err := m.open(prev)
	if err == nil {
		err = svc.Install()
	}
	if err != nil {
		return false, fmt.Errorf("the previous service %q could not be re-created (%v); reinstall the previous version of clawdbot, or fix the error above and rerun 'clawdbot gateway install'", prev.Name, err)
	}
	if running {
		if err := start(svc, prev); err != nil {
			return true, fmt.Errorf("the previous service %q was re-created but did not start: %v", prev.Name, err)
		}
	}
	return true, nil
}

// canManage reports whether this process may create and delete services,
// as kardianos's Install and Uninstall need.
func (m *WindowsManager) canManage() error {
	if m.CanManage != nil {
		return m.CanManage()
	}
	return scmManageAccess()
}

// errMarkedForDeletion is in the error of a delete the SCM accepted but
// has not carried out within Wait.
var errMarkedForDeletion = errors.New("marked for deletion")

// uninstallAndWait deletes the service and polls, with backoff and a
// deadline, until the SCM no longer knows it (never an unbounded loop,
// kardianos/service#337). DeleteService only marks a service for deletion;
// the SCM removes it once it is stopped and every handle is closed.
// kardianos reports "RemoveEventLogSource() failed" after a successful
// delete, and a service already marked for deletion answers
// ERROR_SERVICE_MARKED_FOR_DELETE: both go on to the wait.
func (m *WindowsManager) uninstallAndWait(ctx context.Context, s Spec, svc WindowsService) error {
	if err := svc.Uninstall(); err != nil && !isErrno(err, errnoServiceMarkedForDelete) &&
		!strings.Contains(err.Error(), "RemoveEventLogSource") {
		return winErr(s, "uninstall", err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.wait())
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		if _, ok, err := scmState(svc); err == nil && !ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %q is %w but still registered after %s (the SCM deletes a service once it has stopped and every handle to it is closed); close services.msc and Event Viewer, then retry", s.Name, errMarkedForDeletion, m.wait())
		case <-time.After(delay):
		}
	}
}

// Uninstall implements Manager. A service that does not exist is not an
// error; one the SCM will not tell us about (access denied) is.
func (m *WindowsManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	svc, err := m.open(s)
	if err != nil {
		return res, err
	}
	_, ok, err := scmState(svc)
	if err != nil {
		return res, winErr(s, "query", err)
	}
	if ok {
		m.bounded(ctx, s, "stop", svc.Stop) // best effort; see Install
		if err := m.uninstallAndWait(ctx, s, svc); err != nil {
			return res, err
		}
		res.Removed = true
	}
	if err := os.Remove(path); err == nil {
		res.Removed = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	return res, nil
}

// Start implements Manager; it is a no-op for a running service.
func (m *WindowsManager) Start(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	st, ok, err := scmState(svc)
	switch {
	case err != nil:
		return winErr(s, "query", err)
	case !ok:
		return winErr(s, "start", service.ErrNotInstalled)
	case st == service.StatusRunning:
		return nil
	}
	return start(svc, s)
}

// Stop implements Manager; stopping a stopped or missing service succeeds.
// (kardianos reports STOP_PENDING as stopped, so a stop already under way
// is not waited for.)
func (m *WindowsManager) Stop(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	st, ok, err := scmState(svc)
	switch {
	case err != nil:
		return winErr(s, "query", err)
	case !ok || st == service.StatusStopped:
		return nil
	}
	return m.bounded(ctx, s, "stop", svc.Stop)
}

// Restart implements Manager: a stopped service is started.
func (m *WindowsManager) Restart(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	st, ok, err := scmState(svc)
	switch {
	case err != nil:
		return winErr(s, "query", err)
	case !ok:
		return winErr(s, "restart", service.ErrNotInstalled)
	case st != service.StatusRunning:
		return start(svc, s)
	}
	return m.bounded(ctx, s, "restart", svc.Restart)
}

// Status implements Manager. kardianos reports only running / stopped /
// unknown; the rest stays zero.
func (m *WindowsManager) Status(ctx context.Context, s Spec) (Status, error) {
	st := Status{Manager: Windows, Scope: s.Scope, Name: s.Name, Path: s.DefinitionPath()}
	st.Installed = fileExists(st.Path)
	svc, err := m.open(s)
	if err != nil {
		st.Detail = err.Error()
		return st, err
	}
	ss, ok, err := scmState(svc)
	switch {
	case err != nil:
		st.Detail = winErr(s, "query", err).Error()
		return st, nil
	case !ok:
		st.Detail = "service not registered"
		return st, nil
	}
	st.Installed, st.Loaded, st.Enabled = true, true, true
	switch ss {
	case service.StatusRunning:
		st.Running, st.ActiveState = true, "running"
	case service.StatusStopped:
		st.ActiveState = "stopped"
	default:
		st.ActiveState = "unknown"
	}
	return st, nil
}
