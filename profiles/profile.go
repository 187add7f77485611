// Package profiles answers WHO and WHERE: it resolves the active profile
// (--dev, --profile NAME, CLAWDBOT_PROFILE) once into a Profile that names the
// state dir, config path, workspace, ports and per-platform service names, and
// it loads, validates and atomically saves the profile's clawdbot.json.
//
// Everything downstream (gateway, supervise, doctor, the CLI) reads paths and
// ports from a Profile instead of consulting the environment again; the
// original consulted it in several places and disagreed with itself
// (doc/supervision.md §1.3).
//
// The config side, for the gateway and every command:
//   - Load/ParseConfig read clawdbot.json (JSON5 with positions); a file
//     without a value is a parse error, never {}.
//   - CheckStartable is the one "would this config start the gateway?"
//     rule. gateway.New and every restart/reload call it with
//     StartCheck{Auth: &resolved, Host: <the listener's real host>} (and the
//     reload's Snapshot), keep the old runtime when it refuses, and report
//     the *StartError (Reason, one-line message, Fix; exit ExitMisconfigured).
//   - Snapshot.UnknownKeys are the did-you-mean warnings to log and show.
//   - ConfigEnv exports env.vars / env string entries at start and on every
//     reload (set variables win; it changes or unsets only what it set).
//   - PatchFile/PatchText edit the user's file keeping its formatting;
//     WriteFileAtomic names its temps so SweepTemp can clear crash leftovers.
package profiles

import (
	"path/filepath"
	"strings"
)

// DefaultGatewayPort is the gateway port of the default profile.
const DefaultGatewayPort = 18789

// DevGatewayPort is the gateway port of the dev profile (--dev).
const DevGatewayPort = 19001

// PortSource says where a Profile's gateway port came from, in precedence order.
type PortSource string

// Port sources, highest precedence first.
const (
	PortFromFlag    PortSource = "flag"    // --port
	PortFromEnv     PortSource = "env"     // CLAWDBOT_GATEWAY_PORT
	PortFromConfig  PortSource = "config"  // gateway.port in clawdbot.json
	PortFromDefault PortSource = "default" // 18789, or 19001 for dev
)

// ServiceNames are the names the gateway service of a profile has on each
// platform (doc/supervision.md §2.1), after the CLAWDBOT_LAUNCHD_LABEL,
// CLAWDBOT_SYSTEMD_UNIT and CLAWDBOT_WINDOWS_TASK_NAME overrides.
type ServiceNames struct {
	LaunchdLabel   string // com.clawdbot.gateway, or com.clawdbot.<profile>
	SystemdUnit    string // clawdbot-gateway.service, or clawdbot-gateway-<profile>.service
	WindowsService string // Clawdbot Gateway, or Clawdbot Gateway (<profile>)
}

// Ports are the gateway port and the ports derived from it (doc/supervision.md §1.4).
type Ports struct {
	Gateway        int        // the gateway's WebSocket + HTTP port
	GatewaySource  PortSource // where Gateway came from
	BrowserControl int        // Gateway + 2
	Relay          int        // Gateway + 3 (Chrome extension relay CDP)
	Canvas         int        // Gateway + 4 (standalone canvas host)
	CDPStart       int        // Gateway + 11: first browser-profile CDP port
	CDPEnd         int        // Gateway + 110: last browser-profile CDP port
}

// Profile is one fully resolved clawdbot instance: everything a command needs
// to know about where this instance lives. Build it with Resolve.
type Profile struct {
	// Name is the profile name as given ("" for the default profile). The
	// name "default" (any case) is normalised to "".
	Name string
	// Home is the user's home directory used for every derived path.
	Home string
	// StateDir holds config, devices, identity, logs (~/.clawdbot[-<name>]).
	StateDir string
	// ConfigPath is the clawdbot.json of this profile.
	ConfigPath string
	// Workspace is the default agent workspace (~/clawd[-<name>]); the
	// config's agents.defaults.workspace overrides it (see WorkspaceFor).
	Workspace string
	// CredentialsDir holds OAuth/channel credentials: CLAWDBOT_OAUTH_DIR,
	// else <StateDir>/credentials.
	CredentialsDir string
	// Ports are the gateway port and its derived ports.
	Ports Ports
	// Services are the per-platform service names of this profile's gateway.
	Services ServiceNames
}

// IsDefault reports whether p is the default (unnamed) profile.
func (p Profile) IsDefault() bool { return p.Name == "" }

// DisplayName is the profile name for messages: "default" for the default
// profile.
func (p Profile) DisplayName() string {
	if p.Name == "" {
		return "default"
	}
	return p.Name
}

// IsDev reports whether p is the dev profile (--dev or --profile dev).
func (p Profile) IsDev() bool { return strings.EqualFold(p.Name, "dev") }

// LogDir is where this profile's logs go (<StateDir>/logs); per profile, not
// a shared /tmp directory (doc/supervision.md §10 item 5).
func (p Profile) LogDir() string { return filepath.Join(p.StateDir, "logs") }

// IdentityDir holds the gateway's own device identity (<StateDir>/identity).
func (p Profile) IdentityDir() string { return filepath.Join(p.StateDir, "identity") }

// DevicesDir holds the paired-device store (<StateDir>/devices).
func (p Profile) DevicesDir() string { return filepath.Join(p.StateDir, "devices") }

// SessionsDir holds the session transcripts of one agent
// (<StateDir>/agents/<agentID>/sessions); agentID "" means "main".
func (p Profile) SessionsDir(agentID string) string {
	if agentID == "" {
		agentID = "main"
	}
	return filepath.Join(p.StateDir, "agents", agentID, "sessions")
}

// WorkspaceFor returns the agent workspace: the config's
// agents.defaults.workspace (with ~ expanded) when set, else p.Workspace.
func (p Profile) WorkspaceFor(cfg *Config) string {
	if cfg != nil {
		if w := strings.TrimSpace(cfg.Agents.Defaults.Workspace); w != "" {
			return expandHome(w, p.Home)
		}
	}
	return p.Workspace
}

// EnvVars are the KEY=VALUE lines a process (a service, a child gateway)
// must carry to resolve to this same profile: CLAWDBOT_PROFILE (only for a
// named profile), CLAWDBOT_STATE_DIR and CLAWDBOT_CONFIG_PATH. The original
// passed only what the caller happened to have set; we always pass the
// resolved paths so the child cannot drift to another state dir.
func (p Profile) EnvVars() []string {
	var out []string
	if p.Name != "" {
		out = append(out, "CLAWDBOT_PROFILE="+p.Name)
	}
	return append(out, "CLAWDBOT_STATE_DIR="+p.StateDir, "CLAWDBOT_CONFIG_PATH="+p.ConfigPath)
}

// Hint formats a printed remediation command for this profile (see
// FormatHint).
func (p Profile) Hint(cmd string) string { return FormatHint(p.Name, cmd) }
