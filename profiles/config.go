package profiles

import "encoding/json"

// Config is the typed view of clawdbot.json. Only keys this implementation
// acts on are typed; the raw document is kept alongside (see LoadedConfig)
// so config.get/patch round-trip keys we do not model.
type Config struct {
	Gateway    GatewayConfig              `json:"gateway,omitzero"`
	Commands   CommandsConfig             `json:"commands,omitzero"`
	CanvasHost CanvasHostConfig           `json:"canvasHost,omitzero"`
	Hooks      HooksConfig                `json:"hooks,omitzero"`
	Logging    LoggingConfig              `json:"logging,omitzero"`
	Agents     AgentsConfig               `json:"agents,omitzero"`
	Models     ModelsConfig               `json:"models,omitzero"`
	Channels   map[string]json.RawMessage `json:"channels,omitempty"`
	// Env holds extra environment for the gateway and its service:
	// string values directly under env, plus env.vars.
	Env map[string]json.RawMessage `json:"env,omitempty"`
}

// GatewayConfig is the gateway.* section.
type GatewayConfig struct {
	Mode           string            `json:"mode,omitempty"` // "local" | "remote"
	Port           int               `json:"port,omitempty"`
	Bind           string            `json:"bind,omitempty"` // loopback | lan | tailnet | auto | custom
	CustomBindHost string            `json:"customBindHost,omitempty"`
	Auth           GatewayAuthConfig `json:"auth,omitzero"`
	Reload         ReloadConfig      `json:"reload,omitzero"`
	HTTP           GatewayHTTPConfig `json:"http,omitzero"`
	ControlUI      ControlUIConfig   `json:"controlUi,omitzero"`
	TrustedProxies []string          `json:"trustedProxies,omitempty"`
	Nodes          NodesConfig       `json:"nodes,omitzero"`
	Remote         json.RawMessage   `json:"remote,omitempty"`
}

// GatewayAuthConfig is gateway.auth.*.
type GatewayAuthConfig struct {
	Mode     string `json:"mode,omitempty"` // "token" | "password"
	Token    string `json:"token,omitempty"`
	Password string `json:"password,omitempty"`
}

// ReloadConfig is gateway.reload.*.
type ReloadConfig struct {
	Mode       string `json:"mode,omitempty"` // off | hot | restart | hybrid (default)
	DebounceMs int    `json:"debounceMs,omitempty"`
}

// GatewayHTTPConfig is gateway.http.*.
type GatewayHTTPConfig struct {
	Endpoints HTTPEndpointsConfig `json:"endpoints,omitzero"`
}

// HTTPEndpointsConfig is gateway.http.endpoints.*.
type HTTPEndpointsConfig struct {
	ChatCompletions EndpointToggle          `json:"chatCompletions,omitzero"`
	Responses       ResponsesEndpointConfig `json:"responses,omitzero"`
}

// EndpointToggle enables one optional HTTP endpoint.
type EndpointToggle struct {
	Enabled      bool `json:"enabled,omitempty"`
	MaxBodyBytes int  `json:"maxBodyBytes,omitempty"`
}

// ResponsesEndpointConfig is gateway.http.endpoints.responses.*: the
// toggle plus the original's input limits (files, images), kept as they
// are written.
type ResponsesEndpointConfig struct {
	Enabled      bool            `json:"enabled,omitempty"`
	MaxBodyBytes int             `json:"maxBodyBytes,omitempty"`
	Files        json.RawMessage `json:"files,omitempty"`
	Images       json.RawMessage `json:"images,omitempty"`
}

// ControlUIConfig is gateway.controlUi.*.
type ControlUIConfig struct {
	Enabled           *bool  `json:"enabled,omitempty"`
	BasePath          string `json:"basePath,omitempty"`
	AllowInsecureAuth bool   `json:"allowInsecureAuth,omitempty"`
}

// NodesConfig is gateway.nodes.*.
type NodesConfig struct {
	AllowCommands []string `json:"allowCommands,omitempty"`
	DenyCommands  []string `json:"denyCommands,omitempty"`
}

// CommandsConfig is commands.*.
type CommandsConfig struct {
	// Restart allows an external SIGUSR1 to restart the gateway in process.
	Restart bool `json:"restart,omitempty"`
}

// CanvasHostConfig is canvasHost.*.
type CanvasHostConfig struct {
	Enabled    *bool  `json:"enabled,omitempty"`
	Port       int    `json:"port,omitempty"`
	Root       string `json:"root,omitempty"`
	LiveReload *bool  `json:"liveReload,omitempty"`
}

// HooksConfig is hooks.*.
type HooksConfig struct {
	Enabled      bool            `json:"enabled,omitempty"`
	Token        string          `json:"token,omitempty"`
	Path         string          `json:"path,omitempty"`
	MaxBodyBytes int             `json:"maxBodyBytes,omitempty"`
	Mappings     json.RawMessage `json:"mappings,omitempty"`
	// Presets name built-in mappings ("gmail").
	Presets []string `json:"presets,omitempty"`
	// TransformsDir is where mapping transform modules live.
	TransformsDir string                     `json:"transformsDir,omitempty"`
	Gmail         map[string]json.RawMessage `json:"gmail,omitempty"`
}

// LoggingConfig is logging.*.
type LoggingConfig struct {
	File  string `json:"file,omitempty"`
	Level string `json:"level,omitempty"` // debug | info | warn | error
}

// AgentsConfig is agents.*.
type AgentsConfig struct {
	Defaults AgentDefaults     `json:"defaults,omitzero"`
	List     []json.RawMessage `json:"list,omitempty"`
}

// AgentDefaults is agents.defaults.*.
type AgentDefaults struct {
	Workspace     string `json:"workspace,omitempty"`
	SkipBootstrap bool   `json:"skipBootstrap,omitempty"`
	// Model must be an object; a plain string fails validation as in the
	// original (doc/messaging.md §4.2).
	Model  *AgentModelConfig          `json:"model,omitempty"`
	Models map[string]AgentModelEntry `json:"models,omitempty"`
}
