package wire

// Client ids accepted in connect params (client.id).
var ClientIDs = []string{
	"webchat-ui", "clawdbot-control-ui", "webchat", "cli", "gateway-client", "clawdbot-macos",
	"clawdbot-ios", "clawdbot-android", "node-host", "test", "fingerprint", "clawdbot-probe",
}

// Client modes accepted in connect params (client.mode).
var ClientModes = []string{"webchat", "cli", "ui", "backend", "node", "probe", "test"}

// Roles a client may connect as.
const (
	RoleOperator = "operator"
	RoleNode     = "node"
)

// Operator scopes known to the gateway (doc/protocol.md §3.1).
const (
	ScopeAdmin     = "operator.admin"
	ScopeRead      = "operator.read"
	ScopeWrite     = "operator.write"
	ScopeApprovals = "operator.approvals"
	ScopePairing   = "operator.pairing"
)

// ClientInfo describes the connecting client.
type ClientInfo struct {
	ID              string `json:"id"` // one of ClientIDs (schema: anyOf of consts)
	DisplayName     string `json:"displayName,omitempty" jsonschema:"minLength=1"`
	Version         string `json:"version" jsonschema:"minLength=1"`
	Platform        string `json:"platform" jsonschema:"minLength=1"`
	DeviceFamily    string `json:"deviceFamily,omitempty" jsonschema:"minLength=1"`
	ModelIdentifier string `json:"modelIdentifier,omitempty" jsonschema:"minLength=1"`
	Mode            string `json:"mode"` // one of ClientModes
	InstanceID      string `json:"instanceId,omitempty" jsonschema:"minLength=1"`
}

// DeviceAuth is the signed device block of connect params (doc/protocol.md §1.5).
type DeviceAuth struct {
	ID        string `json:"id" jsonschema:"minLength=1"`
	PublicKey string `json:"publicKey" jsonschema:"minLength=1"`
	Signature string `json:"signature" jsonschema:"minLength=1"`
	SignedAt  int64  `json:"signedAt" jsonschema:"minimum=0"`
	Nonce     string `json:"nonce,omitempty" jsonschema:"minLength=1"`
}

// ConnectAuth carries the shared token/password or a stored device token.
type ConnectAuth struct {
	Token    string `json:"token,omitempty"`
	Password string `json:"password,omitempty"`
}

// ConnectParams are the params of the mandatory first request, connect.
// Slices and maps use omitzero so an explicit empty list (the CLI always
// sends "caps":[]) survives a decode/encode round trip, while an absent one
// stays absent.
type ConnectParams struct {
	MinProtocol int             `json:"minProtocol" jsonschema:"minimum=1"`
	MaxProtocol int             `json:"maxProtocol" jsonschema:"minimum=1"`
	Client      ClientInfo      `json:"client"`
	Caps        []string        `json:"caps,omitzero" jsonschema:"minLength=1"`
	Commands    []string        `json:"commands,omitzero" jsonschema:"minLength=1"`
	Permissions map[string]bool `json:"permissions,omitzero"`
	PathEnv     string          `json:"pathEnv,omitempty"`
	Role        string          `json:"role,omitempty" jsonschema:"minLength=1"`
	Scopes      []string        `json:"scopes,omitzero" jsonschema:"minLength=1"`
	Device      *DeviceAuth     `json:"device,omitempty"`
	Auth        *ConnectAuth    `json:"auth,omitempty"`
	Locale      string          `json:"locale,omitempty"`
	UserAgent   string          `json:"userAgent,omitempty"`
}

// ConnectChallenge is the payload of the connect.challenge event the server
// sends as soon as a socket opens.
type ConnectChallenge struct {
	Nonce string `json:"nonce"`
	TS    int64  `json:"ts"`
}

// HelloOk is the payload of a successful connect response.
type HelloOk struct {
	Type          string     `json:"type" jsonschema:"enum=hello-ok"` // always "hello-ok"
	Protocol      int        `json:"protocol"`
	Server        ServerInfo `json:"server"`
	Features      Features   `json:"features"`
	Snapshot      Snapshot   `json:"snapshot"`
	CanvasHostURL string     `json:"canvasHostUrl,omitempty"`
	Auth          *HelloAuth `json:"auth,omitempty"`
	Policy        Policy     `json:"policy"`
}

// ServerInfo identifies the gateway in hello-ok.
type ServerInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Host    string `json:"host,omitempty"`
	ConnID  string `json:"connId"`
}

// Features lists the methods and events this gateway implements.
type Features struct {
	Methods []string `json:"methods"`
	Events  []string `json:"events"`
}

// Snapshot is the state a client starts from.
type Snapshot struct {
	Presence        []PresenceEntry  `json:"presence"`
	Health          any              `json:"health"`
	StateVersion    StateVersion     `json:"stateVersion"`
	UptimeMs        int64            `json:"uptimeMs"`
	ConfigPath      string           `json:"configPath,omitempty"`
	StateDir        string           `json:"stateDir,omitempty"`
	SessionDefaults *SessionDefaults `json:"sessionDefaults,omitempty"`
}

// SessionDefaults names the default agent and session keys.
type SessionDefaults struct {
	DefaultAgentID string `json:"defaultAgentId"`
	MainKey        string `json:"mainKey"`
	MainSessionKey string `json:"mainSessionKey"`
	Scope          string `json:"scope"`
}

// HelloAuth carries the device token issued to a connecting device.
type HelloAuth struct {
	DeviceToken string   `json:"deviceToken"`
	Role        string   `json:"role"`
	Scopes      []string `json:"scopes"`
	IssuedAtMs  int64    `json:"issuedAtMs"`
}

// Policy are the limits the server enforces and the tick cadence.
type Policy struct {
	MaxPayload       int `json:"maxPayload"`
	MaxBufferedBytes int `json:"maxBufferedBytes"`
	TickIntervalMs   int `json:"tickIntervalMs"`
}

// DefaultPolicy is the policy of a gateway with default settings.
func DefaultPolicy() Policy {
	return Policy{MaxPayload: MaxPayloadBytes, MaxBufferedBytes: MaxBufferedBytes, TickIntervalMs: DefaultTickIntervalMs}
}

// PresenceEntry is one client or node in the presence list (doc/protocol.md §6).
type PresenceEntry struct {
	Host             string   `json:"host,omitempty"`
	IP               string   `json:"ip,omitempty"`
	Version          string   `json:"version,omitempty"`
	Platform         string   `json:"platform,omitempty"`
	DeviceFamily     string   `json:"deviceFamily,omitempty"`
	ModelIdentifier  string   `json:"modelIdentifier,omitempty"`
	Mode             string   `json:"mode,omitempty"`
	LastInputSeconds *float64 `json:"lastInputSeconds,omitempty"`
	Reason           string   `json:"reason,omitempty"`
	Tags             []string `json:"tags,omitempty"`
	Text             string   `json:"text,omitempty"`
	TS               int64    `json:"ts"`
	DeviceID         string   `json:"deviceId,omitempty"`
	Roles            []string `json:"roles,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	InstanceID       string   `json:"instanceId,omitempty"`
}

// ShutdownEvent is the payload of the shutdown event. RestartExpectedMs is
// an explicit null on stop, as the original sends it.
type ShutdownEvent struct {
	Reason            string `json:"reason"`
	RestartExpectedMs *int64 `json:"restartExpectedMs"`
}

// TickEvent is the payload of the periodic tick event.
type TickEvent struct {
	TS int64 `json:"ts"`
}

// PresenceEvent is the payload of the presence event: the full list.
type PresenceEvent struct {
	Presence []PresenceEntry `json:"presence"`
}
