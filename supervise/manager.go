package supervise

import (
	"context"
	"fmt"
	"os"
	"runtime"
)

// Manager installs and controls a gateway service on one platform. Every
// effect goes through the Runner (or, on Windows, the WindowsService seam),
// so the exact command sequences are unit-tested on any OS.
type Manager interface {
	// Platform is the manager's platform.
	Platform() Platform
	// Install writes want's definition (idempotently), registers it and
	// makes sure it runs: a new or changed definition is (re)started, an
	// unchanged one is started if it is not running. Force rewrites a
	// foreign file and restarts even when nothing changed.
	Install(ctx context.Context, want Spec, opts InstallOptions) (InstallResult, error)
	// Uninstall stops, unregisters and removes the service. Removing a
	// service that is not there is not an error (Removed is false).
	Uninstall(ctx context.Context, s Spec) (UninstallResult, error)
	// Start starts the installed service; it is a no-op when running.
	Start(ctx context.Context, s Spec) error
	// Stop stops the service and keeps it stopped (no respawn) until
	// Start; it stays installed.
	Stop(ctx context.Context, s Spec) error
	// Restart restarts the service (starts it when stopped).
	Restart(ctx context.Context, s Spec) error
	// Status reports what the supervisor knows about the service.
	Status(ctx context.Context, s Spec) (Status, error)
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Force replaces a definition without our marker and restarts the
	// service even when the definition is unchanged.
	Force bool
}

// InstallResult says what Install did.
type InstallResult struct {
	Action    InstallAction
	Path      string // the definition file
	Restarted bool   // a running service was restarted to pick up the change
	Warnings  []string
	// Restored says Install failed after writing the definition and put
	// back what was there (the previous file, or none), so the manager is
	// left as it was found.
	Restored bool
}

// UninstallResult says what Uninstall did.
type UninstallResult struct {
	Removed bool   // a definition or registration was removed
	Path    string // the definition file
}

// Status is the supervisor's view of a service: richer than kardianos's
// three-valued byte (STYLE.md practice 6) so status and doctor can explain
// what they see.
type Status struct {
	Manager   Platform `json:"manager"`
	Scope     Scope    `json:"scope"`
	Name      string   `json:"name"`
	Path      string   `json:"path,omitempty"` // unit / plist / rendered Windows config
	Installed bool     `json:"installed"`      // a definition exists
	// Loaded is the spec's "loaded" notion (§4.1): launchd job bootstrapped,
	// systemd unit enabled, Windows service registered.
	Loaded  bool `json:"loaded"`
	Enabled bool `json:"enabled"`
	Running bool `json:"running"`
	// ActiveState and SubState are the manager's words (systemd
	// active/activating/failed + running/dead; launchd state; SCM state).
	ActiveState string `json:"activeState,omitempty"`
	SubState    string `json:"subState,omitempty"`
	PID         int    `json:"pid,omitempty"`
	// Restarts counts automatic restarts (systemd NRestarts, launchd runs-1).
	Restarts int `json:"restarts"`
	// LastExitStatus is the last exit status of the main process, if it
	// has exited at least once.
	LastExitStatus *int   `json:"lastExitStatus,omitempty"`
	Detail         string `json:"detail,omitempty"`
}

// LoadedWords are the words the CLI prints for Status.Loaded (doc/supervision.md §4.1).
func LoadedWords(pl Platform) (loaded, notLoaded string) {
	switch pl {
	case Launchd:
		return "loaded", "not loaded"
	case Systemd:
		return "enabled", "disabled"
	}
	return "registered", "missing"
}

// ManagerLabel is the human name of a platform's manager (doc/supervision.md §5.4).
func ManagerLabel(pl Platform) string {
	switch pl {
	case Launchd:
		return "LaunchAgent"
	case Systemd:
		return "systemd"
	}
	return "Windows service"
}

// NewManager returns the manager for pl that runs commands through r. uid
// selects the launchd gui/<uid> domain.
func NewManager(pl Platform, r Runner, uid int) (Manager, error) {
	switch pl {
	case Systemd:
		return &SystemdManager{Runner: r}, nil
	case Launchd:
		return &LaunchdManager{Runner: r, UID: uid}, nil
	case Windows:
		return &WindowsManager{}, nil
	}
	return nil, fmt.Errorf("no service manager for platform %q", pl)
}

// DefaultManager is the manager of the running OS with real commands.
func DefaultManager() (Manager, error) {
	return NewManager(PlatformFor(runtime.GOOS), ExecRunner{}, os.Getuid())
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
