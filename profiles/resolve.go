package profiles

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Input is what Resolve needs: the global flags, the command's --port, the
// environment and the home directory. Tests pass a map-backed Getenv.
type Input struct {
	ProfileFlag string // --profile NAME ("" if not given)
	Dev         bool   // --dev
	PortFlag    int    // the command's --port (0 if not given)
	Getenv      func(string) string
	Home        string
}

// ValidName reports whether name is a valid profile name (doc/supervision.md §1.1):
// letters, digits, "_" and "-", starting with a letter or digit, 1–64 chars.
//
// It is plain code rather than a regexp because every command resolves its
// profile before it does anything: compiling the pattern cost 60 KB at
// start-up. It matches exactly what (?i)^[a-z0-9][a-z0-9_-]{0,63}$ does,
// case folding included (K KELVIN SIGN and ſ LONG S fold into [a-z]).
func ValidName(name string) bool {
	n := 0
	for i, r := range strings.TrimSpace(name) {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '\u212A', r == '\u017F':
		case i > 0 && (r == '_' || r == '-'):
		default:
			return false
		}
		n++
	}
	return n >= 1 && n <= 64
}

// ErrDevWithProfile is returned when --dev and --profile name different profiles.
//
//lint:ignore ST1005 the original's message, printed verbatim (doc/supervision.md §1.1)
var ErrDevWithProfile = errors.New("Cannot combine --dev with --profile")

// Resolve turns flags, environment and home into one Profile. The profile
// comes from --dev / --profile, else CLAWDBOT_PROFILE; unlike the original,
// an env-only profile moves state dir, config and workspace too (doc/supervision.md §1.3).
// Explicit CLAWDBOT_STATE_DIR / CLAWDBOT_CONFIG_PATH still win.
func Resolve(in Input) (Profile, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	name := strings.TrimSpace(in.ProfileFlag)
	if in.Dev {
		if name != "" && !strings.EqualFold(name, "dev") {
			return Profile{}, ErrDevWithProfile
		}
		name = "dev"
	}
	if name != "" && !ValidName(name) {
		return Profile{}, fmt.Errorf("invalid --profile %q (use letters, numbers, \"_\", \"-\" only)", name)
	}
	if name == "" {
		name = strings.TrimSpace(getenv("CLAWDBOT_PROFILE"))
		if name != "" && !ValidName(name) {
			return Profile{}, fmt.Errorf("invalid CLAWDBOT_PROFILE=%q (use letters, numbers, \"_\", \"-\" only, or unset it)", name)
		}
	}
	if strings.EqualFold(name, "default") {
		name = ""
	}
	home := in.Home
	if home == "" {
		home = cmp.Or(getenv("HOME"), getenv("USERPROFILE"))
	}
	if home == "" {
		return Profile{}, errors.New("cannot find the home directory: set HOME")
	}
	p := Profile{Name: name, Home: home}

	suffix := ""
	if name != "" {
		suffix = "-" + name
	}
	p.StateDir = filepath.Join(home, ".clawdbot"+suffix)
	if v := strings.TrimSpace(getenv("CLAWDBOT_STATE_DIR")); v != "" {
		p.StateDir = expandHome(v, home)
	}
	p.ConfigPath = filepath.Join(p.StateDir, "clawdbot.json")
	if v := strings.TrimSpace(getenv("CLAWDBOT_CONFIG_PATH")); v != "" {
		p.ConfigPath = expandHome(v, home)
	}
	p.Workspace = filepath.Join(home, "clawd"+suffix)
	p.CredentialsDir = filepath.Join(p.StateDir, "credentials")
	if v := strings.TrimSpace(getenv("CLAWDBOT_OAUTH_DIR")); v != "" {
		p.CredentialsDir = expandHome(v, home)
	}

	port, src, err := resolvePort(in, name, getenv, p.ConfigPath)
	if err != nil {
		return Profile{}, err
	}
	p.Ports = DerivePorts(port, src)
	p.Services = serviceNames(name, getenv)
	return p, nil
}

// resolvePort applies --port > CLAWDBOT_GATEWAY_PORT > gateway.port > default
// (19001 for dev, else 18789). The original pre-seeds CLAWDBOT_GATEWAY_PORT=19001
// for --dev, which silently beats a dev config's gateway.port; here the dev
// default is only the default, so the file can move it like any profile's.
func resolvePort(in Input, name string, getenv func(string) string, configPath string) (int, PortSource, error) {
	if in.PortFlag != 0 {
		if !validPort(in.PortFlag) {
			return 0, "", fmt.Errorf("invalid --port %d (use 1-65535)", in.PortFlag)
		}
		return in.PortFlag, PortFromFlag, nil
	}
	if v := strings.TrimSpace(getenv("CLAWDBOT_GATEWAY_PORT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !validPort(n) {
			return 0, "", fmt.Errorf("invalid CLAWDBOT_GATEWAY_PORT=%q (use 1-65535 or unset it)", v)
		}
		return n, PortFromEnv, nil
	}
	if n := configuredPort(configPath, getenv); n != 0 {
		return n, PortFromConfig, nil
	}
	if strings.EqualFold(name, "dev") {
		return DevGatewayPort, PortFromDefault, nil
	}
	return DefaultGatewayPort, PortFromDefault, nil
}

// DerivePorts computes the ports derived from a gateway port (doc/supervision.md §1.4);
// a derived port that would leave 1–65535 falls back to its fixed default.
func DerivePorts(gateway int, src PortSource) Ports {
	derive := func(offset, fallback int) int {
		if n := gateway + offset; validPort(n) {
			return n
		}
		return fallback
	}
	return Ports{
		Gateway:        gateway,
		GatewaySource:  src,
		BrowserControl: derive(2, 18791),
		Relay:          derive(3, 18792),
		Canvas:         derive(4, 18793),
		CDPStart:       derive(11, 18800),
		CDPEnd:         derive(110, 18899),
	}
}

func serviceNames(name string, getenv func(string) string) ServiceNames {
	s := ServiceNames{
		LaunchdLabel:   "com.clawdbot.gateway",
		SystemdUnit:    "clawdbot-gateway.service",
		WindowsService: "Clawdbot Gateway",
	}
	if name != "" {
		s.LaunchdLabel = "com.clawdbot." + name
		s.SystemdUnit = "clawdbot-gateway-" + name + ".service"
		s.WindowsService = "Clawdbot Gateway (" + name + ")"
	}
	if v := strings.TrimSpace(getenv("CLAWDBOT_LAUNCHD_LABEL")); v != "" {
		s.LaunchdLabel = v
	}
	if v := strings.TrimSpace(getenv("CLAWDBOT_SYSTEMD_UNIT")); v != "" {
		if !strings.HasSuffix(v, ".service") {
			v += ".service"
		}
		s.SystemdUnit = v
	}
	if v := strings.TrimSpace(getenv("CLAWDBOT_WINDOWS_TASK_NAME")); v != "" {
		s.WindowsService = v
	}
	return s
}

func validPort(n int) bool { return n >= 1 && n <= 65535 }

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		p = filepath.Join(home, p[2:])
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
