package supervise

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	return svc, nil
}

func registered(svc WindowsService) (service.Status, bool) {
	st, err := svc.Status()
	if errors.Is(err, service.ErrNotInstalled) {
		return st, false
	}
	return st, err == nil
}

// Install implements Manager. kardianos refuses to install over an existing
// service, so a changed definition is uninstalled and installed again.
func (m *WindowsManager) Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error) {
	svc, err := m.open(want)
	if err != nil {
		return InstallResult{}, err
	}
	path := want.DefinitionPath()
	_, exists := registered(svc)
	if exists && !fileExists(path) && !opts.Force {
		return InstallResult{}, fmt.Errorf("%w: service %q exists but has no %s; rerun with --force to replace it",
			ErrForeignDefinition, want.Name, path)
	}
	action, written, err := writeDefinition(want, opts.Force, 0o600)
	if err != nil {
		return InstallResult{}, err
	}
	if action == ActionInstalled && exists {
		action = ActionUpdated
	}
	res := InstallResult{Action: action, Path: path}
	if exists && written {
		svc.Stop() // best effort: it may not run
		if err := m.uninstallAndWait(ctx, svc); err != nil {
			return res, err
		}
		res.Restarted, exists = true, false
	}
	if !exists {
		if err := svc.Install(); err != nil {
			return res, fmt.Errorf("install service %q: %w; run from an elevated (Administrator) prompt", want.Name, err)
		}
	}
	if st, _ := registered(svc); st != service.StatusRunning {
		if err := svc.Start(); err != nil {
			return res, fmt.Errorf("start service %q: %w", want.Name, err)
		}
	}
	return res, nil
}

// uninstallAndWait deletes the service and polls, with backoff and a
// deadline, until the SCM no longer knows it (never an unbounded loop,
// kardianos/service#337).
func (m *WindowsManager) uninstallAndWait(ctx context.Context, svc WindowsService) error {
	if err := svc.Uninstall(); err != nil {
		return fmt.Errorf("uninstall service: %w", err)
	}
	wait := m.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, time.Second) {
		if _, ok := registered(svc); !ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service still registered after %s (the SCM deletes a service once every handle to it is closed; close services.msc and retry)", wait)
		case <-time.After(delay):
		}
	}
}

// Uninstall implements Manager.
func (m *WindowsManager) Uninstall(ctx context.Context, s Spec) (UninstallResult, error) {
	path := s.DefinitionPath()
	res := UninstallResult{Path: path}
	svc, err := m.open(s)
	if err != nil {
		return res, err
	}
	if _, ok := registered(svc); ok {
		svc.Stop() // best effort
		if err := m.uninstallAndWait(ctx, svc); err != nil {
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

// Start implements Manager.
func (m *WindowsManager) Start(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	if st, _ := registered(svc); st == service.StatusRunning {
		return nil
	}
	return svc.Start()
}

// Stop implements Manager.
func (m *WindowsManager) Stop(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	if st, _ := registered(svc); st == service.StatusStopped {
		return nil
	}
	return svc.Stop()
}

// Restart implements Manager.
func (m *WindowsManager) Restart(ctx context.Context, s Spec) error {
	svc, err := m.open(s)
	if err != nil {
		return err
	}
	if st, _ := registered(svc); st != service.StatusRunning {
		return svc.Start()
	}
	return svc.Restart()
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
	ss, err := svc.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		st.Detail = "service not registered"
		return st, nil
	case err != nil:
		st.Detail = err.Error()
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
