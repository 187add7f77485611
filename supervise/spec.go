// Package supervise turns a profile into an OS service definition and manages
// it: a platform-neutral Spec (what to run, with which environment, in which
// scope) is rendered by pure functions into a launchd plist, a systemd unit
// or a Windows service configuration; a Manager per platform installs,
// starts, stops and inspects it through an exec seam (Runner) so every
// launchctl/systemctl argv is unit-tested on any OS; Parse reads an installed
// definition back into a Spec and Audit lists drift with stable codes.
//
// Compared with the original (doc/supervision.md §10) this package quotes
// systemd values properly, has a true start and stop on macOS, never writes
// the gateway token into a world-readable definition, picks the install
// target from the scope (default.target vs multi-user.target) and makes
// install idempotent (installed / updated / unchanged).
//
// supervise never imports the gateway: it only knows how to start the binary.
package supervise

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
)

// Platform is the service manager a definition is written for.
type Platform string

// Supported platforms.
const (
	Launchd Platform = "launchd" // macOS
	Systemd Platform = "systemd" // Linux
	Windows Platform = "windows" // Windows service control manager
)

// PlatformFor maps a GOOS to its service manager ("" when unsupported).
func PlatformFor(goos string) Platform {
	switch goos {
	case "darwin":
		return Launchd
	case "windows":
		return Windows
	case "linux":
		return Systemd
	}
	return ""
}

// Scope says whether the service belongs to the user's manager or the
// system's. It decides the file location, the install target and the
// launchctl domain, so it is always explicit, never guessed (STYLE.md,
// practice 2; kardianos/service#415 is what guessing costs).
type Scope string

// Scopes.
const (
	ScopeUser   Scope = "user"
	ScopeSystem Scope = "system"
)

// Marker environment every definition we write carries; Scan, Parse and the
// install overwrite guard recognise our files by them.
const (
	EnvMarker    = "CLAWDBOT_SERVICE_MARKER"
	EnvKind      = "CLAWDBOT_SERVICE_KIND"
	EnvVersion   = "CLAWDBOT_SERVICE_VERSION"
	MarkerValue  = "clawdbot"
	KindGateway  = "gateway"
	EnvProfile   = "CLAWDBOT_PROFILE"
	EnvStateDir  = "CLAWDBOT_STATE_DIR"
	EnvConfig    = "CLAWDBOT_CONFIG_PATH"
	EnvPort      = "CLAWDBOT_GATEWAY_PORT"
	EnvLabel     = "CLAWDBOT_LAUNCHD_LABEL"
	EnvUnit      = "CLAWDBOT_SYSTEMD_UNIT"
	EnvWinName   = "CLAWDBOT_WINDOWS_SERVICE"
	ExitNoRetry  = 78 // EX_CONFIG: the gateway's "do not respawn me" exit status
	DefaultDelay = 5  // seconds between respawns (RestartSec / ThrottleInterval / recovery delay)
)

// Policy is how the supervisor treats the process. SpecFor fills in our
// policy for the platform; Parse reads back whatever the file says, so Audit
// can compare the two. Fields a platform cannot express stay zero.
type Policy struct {
	// RunAtLoad starts the service at boot/login: launchd RunAtLoad, Windows
	// automatic start. (systemd expresses it through WantedBy.)
	RunAtLoad bool
	// KeepAlive respawns the process whenever it exits: launchd KeepAlive,
	// systemd Restart=always, Windows restart recovery actions.
	KeepAlive bool
	// RestartSec is the delay before a respawn in seconds: systemd RestartSec,
	// launchd ThrottleInterval, Windows recovery delay.
	RestartSec int
	// NetworkOnline orders the unit after network-online.target and pulls it
	// in (systemd After= and Wants=).
	NetworkOnline bool
	// Notify is systemd Type=notify: the unit is "active" only once the
	// gateway has bound its listener and sent READY=1.
	Notify bool
	// PreventExitStatus is systemd RestartPreventExitStatus (78: a fatal
	// misconfiguration must not make the supervisor spin).
	PreventExitStatus int
	// ReloadSignal is the signal ExecReload sends to the main PID ("USR1":
	// the gateway's in-process restart).
	ReloadSignal string
	// WantedBy is the systemd install target: default.target for user
	// units, multi-user.target for system units.
	WantedBy string
	// KillMode is systemd KillMode= as read back from an installed unit (""
	// when absent: control-group, systemd's default and what we rely on).
	// Rendering never writes it.
	KillMode string
}

// FileInfo describes where an installed definition was read from. It is set
// by ReadInstalled only; rendering ignores it.
type FileInfo struct {
	Path string
	Mode os.FileMode
}

// Spec is a platform's service definition in neutral form: what to run, with
// which environment, in which scope, under which supervision policy. Build it
// with SpecFor; Render* turn it into bytes and Parse* read it back.
type Spec struct {
	Platform Platform
	Scope    Scope
	// Name is the service's name on Platform: the launchd label, the systemd
	// unit (with .service) or the Windows service name.
	Name        string
	Description string
	// Profile is the profile name ("" for the default profile) and Version
	// the CLI version that wrote the definition; both are mirrored in Env.
	Profile string
	Version string
	// Program is the absolute path of the clawdbot binary; Args follow it.
	Program    string
	Args       []string
	WorkingDir string
	// Env is the process environment the definition embeds. It never holds
	// the gateway token: the gateway reads that from its 0600 config.
	Env map[string]string
	// User is the account a system-scope service runs as (systemd User=,
	// launchd UserName); "" for user scope.
	User string
	// StdoutPath and StderrPath capture output where the supervisor has no
	// journal (launchd only): <state>/logs/gateway.log and gateway.err.log.
	StdoutPath string
	StderrPath string
	Policy     Policy
	// File is where an installed definition was read from (ReadInstalled).
	File FileInfo
}

// Options are SpecFor's inputs beyond the profile and binary.
type Options struct {
	// Platform defaults to the running OS's manager.
	Platform Platform
	// Scope defaults to ScopeUser.
	Scope Scope
	// Version is the CLI version to embed (cli.Version).
	Version string
	// Port overrides the profile's gateway port (0: profile.Ports.Gateway).
	Port int
	// User is the account for a system-scope service (required there on
	// launchd and systemd; ignored for user scope).
	User string
	// Env holds extra variables. Keys that look like secrets are refused:
	// they would land in a world-readable file.
	Env map[string]string
	// ConfigEnv is the config's env section (profiles.Config.EnvVars).
	// What ServiceEnv keeps is written into the definition, and
	// profiles.EnvServiceConfigVars names it, so the gateway treats those
	// copies as the config's; the secret-looking rest stays in the 0600
	// config, which the gateway applies itself at start.
	ConfigEnv map[string]string
}

// ErrGoRunBinary is returned for a binary that `go run` or `go test` built in
// a temporary directory: a service pointing at it breaks when the directory
// is cleaned.
var ErrGoRunBinary = errors.New("refusing to install a temporary `go run` binary")

// SpecFor builds the service Spec of profile p running binary.
func SpecFor(p profiles.Profile, binary string, opts Options) (Spec, error) {
	if opts.Platform == "" {
		opts.Platform = PlatformFor(runtime.GOOS)
		if opts.Platform == "" {
			return Spec{}, fmt.Errorf("no supported service manager on %s (supported: macOS launchd, Linux systemd, Windows services)", runtime.GOOS)
		}
	}
	if opts.Scope == "" {
		opts.Scope = ScopeUser
	}
	if opts.Scope != ScopeUser && opts.Scope != ScopeSystem {
		return Spec{}, fmt.Errorf("invalid scope %q (use user or system)", opts.Scope)
	}
	if opts.Scope == ScopeSystem && opts.Platform != Windows && opts.User == "" {
		return Spec{}, errors.New("a system-scope service needs the account to run as (set User; e.g. the invoking user from SUDO_USER)")
	}
	if opts.Version == "" {
		return Spec{}, errors.New("supervise: SpecFor needs the CLI version (pass cli.Version)")
	}
	if p.Home == "" || p.StateDir == "" || p.ConfigPath == "" {
		return Spec{}, errors.New("supervise: profile is not resolved (use profiles.Resolve)")
	}
	port := opts.Port
	if port == 0 {
		port = p.Ports.Gateway
	}
	if port < 1 || port > 65535 {
		return Spec{}, fmt.Errorf("invalid port %d (use 1-65535)", port)
	}
	prog, err := ResolveBinary(binary)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{
		Platform:    opts.Platform,
		Scope:       opts.Scope,
		Profile:     p.Name,
		Version:     opts.Version,
		Description: Description(p.Name, opts.Version),
		Program:     prog,
		Args:        []string{"gateway", "--port", strconv.Itoa(port)},
		Env:         map[string]string{},
	}
	if opts.Scope == ScopeSystem && opts.Platform != Windows {
		s.User = opts.User
	}
	for k, v := range opts.Env {
		if looksSecret(k) {
			return Spec{}, fmt.Errorf("env %s looks like a secret and would be written into a world-readable service file; keep it in the 0600 config instead", k)
		}
		if v != "" {
			s.Env[k] = v
		}
	}
	if kept, _ := ServiceEnv(opts.ConfigEnv); len(kept) > 0 {
		for k, v := range kept {
			s.Env[k] = v
		}
		s.Env[profiles.EnvServiceConfigVars] = strings.Join(slices.Sorted(maps.Keys(kept)), ",")
	}
	// Ours win over config-derived values (doc/supervision.md §2.2).
	s.Env["HOME"] = p.Home
	if path := MinimalPath(opts.Platform, p.Home); path != "" {
		s.Env["PATH"] = path
	}
	if p.Name != "" {
		s.Env[EnvProfile] = p.Name
	} else {
		delete(s.Env, EnvProfile)
	}
	s.Env[EnvStateDir] = p.StateDir
	s.Env[EnvConfig] = p.ConfigPath
	s.Env[EnvPort] = strconv.Itoa(port)
	s.Env[EnvMarker] = MarkerValue
	s.Env[EnvKind] = KindGateway
	s.Env[EnvVersion] = opts.Version

	switch opts.Platform {
	case Launchd:
		s.Name = p.Services.LaunchdLabel
		s.Env[EnvLabel] = s.Name
		logs := filepath.Join(p.StateDir, "logs")
		s.StdoutPath = filepath.Join(logs, "gateway.log")
		s.StderrPath = filepath.Join(logs, "gateway.err.log")
		s.Policy = Policy{RunAtLoad: true, KeepAlive: true, RestartSec: DefaultDelay}
	case Systemd:
		s.Name = p.Services.SystemdUnit
		s.Env[EnvUnit] = s.Name
		s.Policy = Policy{
			KeepAlive: true, RestartSec: DefaultDelay, NetworkOnline: true, Notify: true,
			PreventExitStatus: ExitNoRetry, ReloadSignal: "USR1", WantedBy: WantedByFor(opts.Scope),
		}
	case Windows:
		s.Name = p.Services.WindowsService
		s.Env[EnvWinName] = s.Name
		s.Scope = ScopeSystem // every Windows service belongs to the SCM
		s.Policy = Policy{RunAtLoad: true, KeepAlive: true, RestartSec: DefaultDelay}
	default:
		return Spec{}, fmt.Errorf("unknown platform %q (use launchd, systemd or windows)", opts.Platform)
	}
	if s.Name == "" {
		return Spec{}, errors.New("supervise: profile has no service name for " + string(opts.Platform))
	}
	return s, s.validate()
}

// WantedByFor is the systemd install target for a scope: the user manager
// has no multi-user.target (the kardianos/service bug, STYLE.md §2 item 1).
func WantedByFor(scope Scope) string {
	if scope == ScopeSystem {
		return "multi-user.target"
	}
	return "default.target"
}

// Description is the human name of a profile's gateway service (doc/supervision.md §2.1).
func Description(profile, version string) string {
	if profile != "" {
		return fmt.Sprintf("Clawdbot Gateway (profile: %s, v%s)", profile, version)
	}
	return fmt.Sprintf("Clawdbot Gateway (v%s)", version)
}

// MinimalPath is the PATH a service gets: deterministic, derived from home
// only, never from the installing shell. The original prepended node
// version-manager dirs (doc/supervision.md §2.2) because it ran node; our gateway is one
// static binary, so PATH only has to find the system tools it execs (lsof,
// ps, tailscale). macOS keeps /usr/sbin for lsof. On Windows a service
// inherits the system PATH, so none is set.
func MinimalPath(pl Platform, home string) string {
	switch pl {
	case Launchd:
		return "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
	case Systemd:
		return strings.Join([]string{
			filepath.Join(home, ".local", "bin"), filepath.Join(home, "bin"),
			"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin",
		}, ":")
	}
	return ""
}

// ResolveBinary makes binary absolute and resolves symlinks, so the service
// survives a package manager swapping the link, and refuses a binary that
// `go run`/`go test` left in a temporary build directory.
func ResolveBinary(binary string) (string, error) {
	if strings.TrimSpace(binary) == "" {
		return "", errors.New("cannot find the clawdbot binary to install; run install from an installed clawdbot")
	}
	abs, err := filepath.Abs(binary)
	if err != nil {
		return "", fmt.Errorf("resolve binary %s: %w", binary, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("resolve binary %s: %w", binary, err)
	}
	if IsGoRunBinary(real) {
		return "", fmt.Errorf("%w (%s): build it first, e.g. 'go build -o ~/.local/bin/clawdbot ./cmd/clawdbot', then run install from that binary", ErrGoRunBinary, real)
	}
	return real, nil
}

// IsGoRunBinary reports whether path looks like a binary built by `go run`
// or `go test` into $GOTMPDIR/go-buildNNN/.../exe/.
func IsGoRunBinary(path string) bool {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "go-build") && slices.Contains(parts[i+1:], "exe") {
			return true
		}
	}
	return false
}

// secretWords mark environment keys whose values must never land in a
// world-readable definition (doc/supervision.md §3.5, gap §10.4): a name containing any
// of them, case-insensitively, is a secret. The list errs on the side of
// caution (AUTH also matches AUTHOR, KEY matches KEYBOARD): a variable
// wrongly taken for a secret loses nothing, since the gateway applies the
// config's env itself at start, while one wrongly written out leaks.
var secretWords = []string{"TOKEN", "KEY", "SECRET", "PASS", "AUTH", "CREDENTIAL", "PRIVATE", "COOKIE", "SESSION", "DSN", "CERT"}

// ServiceEnv splits the config's env section (profiles.Config.EnvVars) into
// what a service definition may carry and what it must not: secret-looking
// names (see secretWords), our own variables (HOME, PATH, CLAWDBOT_*: the
// definition sets those itself), and values no definition format can hold
// (newlines, NUL) are withheld, sorted. Withheld variables are not lost:
// they stay in the 0600 config and the gateway exports them at start.
func ServiceEnv(vars map[string]string) (kept map[string]string, withheld []string) {
	kept = map[string]string{}
	for k, v := range vars {
		up := strings.ToUpper(k)
		switch {
		case v == "":
			continue
		case looksSecret(k), up == "HOME", up == "PATH", strings.HasPrefix(up, "CLAWDBOT_"),
			strings.ContainsAny(v, "\n\r\x00"), k == "" || strings.ContainsAny(k, "= \t\"'\\$%,"):
			withheld = append(withheld, k)
		default:
			kept[k] = v
		}
	}
	slices.Sort(withheld)
	return kept, withheld
}

func looksSecret(key string) bool {
	k := strings.ToUpper(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// validate rejects values no definition format can carry.
func (s Spec) validate() error {
	check := func(what, v string) error {
		if strings.ContainsAny(v, "\n\r\x00") {
			return fmt.Errorf("%s %q contains a newline or NUL, which a service definition cannot carry", what, v)
		}
		return nil
	}
	if !filepath.IsAbs(s.Program) && !strings.HasPrefix(s.Program, "/") {
		return fmt.Errorf("program %q must be an absolute path", s.Program)
	}
	vals := append([]string{s.Name, s.Description, s.Program, s.WorkingDir, s.User, s.StdoutPath, s.StderrPath}, s.Args...)
	for _, v := range vals {
		if err := check("value", v); err != nil {
			return err
		}
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "= \t\"'\\$%") {
			return fmt.Errorf("invalid environment variable name %q", k)
		}
		if err := check("env "+k, v); err != nil {
			return err
		}
	}
	if s.Env[EnvMarker] != MarkerValue || s.Env[EnvKind] == "" {
		return errors.New("spec lacks the clawdbot service markers; build it with SpecFor")
	}
	return nil
}

// Port returns the --port argument of the spec's command line (0 if none).
func (s Spec) Port() int {
	for i, a := range s.Args {
		if a == "--port" && i+1 < len(s.Args) {
			n, _ := strconv.Atoi(s.Args[i+1])
			return n
		}
		if v, ok := strings.CutPrefix(a, "--port="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// DefinitionPath is where the definition of s lives on disk: the plist or
// unit file, or for Windows (whose configuration lives in the registry) the
// rendered copy we keep under the state dir to detect drift.
func (s Spec) DefinitionPath() string {
	home := s.Env["HOME"]
	switch s.Platform {
	case Launchd:
		if s.Scope == ScopeSystem {
			return "/Library/LaunchDaemons/" + s.Name + ".plist"
		}
		return filepath.Join(home, "Library", "LaunchAgents", s.Name+".plist")
	case Systemd:
		if s.Scope == ScopeSystem {
			return "/etc/systemd/system/" + s.Name
		}
		return filepath.Join(home, ".config", "systemd", "user", s.Name)
	case Windows:
		return filepath.Join(s.Env[EnvStateDir], "service", "windows-service.json")
	}
	return ""
}

// Render renders s for its platform.
func Render(s Spec) ([]byte, error) {
	switch s.Platform {
	case Launchd:
		return RenderLaunchd(s)
	case Systemd:
		return RenderSystemd(s)
	case Windows:
		return RenderWindows(s)
	}
	return nil, fmt.Errorf("unknown platform %q", s.Platform)
}

// Parse reads a definition of platform pl back into a Spec.
func Parse(pl Platform, data []byte) (Spec, error) {
	switch pl {
	case Launchd:
		return ParseLaunchd(data)
	case Systemd:
		return ParseSystemd(data)
	case Windows:
		return ParseWindows(data)
	}
	return Spec{}, fmt.Errorf("unknown platform %q", pl)
}

// ReadInstalled reads and parses the definition at path, recording its path
// and mode for Audit. It returns an error wrapping fs.ErrNotExist when the
// file is missing.
func ReadInstalled(pl Platform, path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Spec{}, err
	}
	s, err := Parse(pl, b)
	if err != nil {
		return Spec{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if s.Name == "" && pl == Systemd {
		s.Name = filepath.Base(path)
	}
	s.File = FileInfo{Path: path, Mode: fi.Mode().Perm()}
	return s, nil
}

// fillFromEnv sets the fields mirrored in the environment after a parse.
func (s *Spec) fillFromEnv() {
	s.Profile = s.Env[EnvProfile]
	s.Version = s.Env[EnvVersion]
}
