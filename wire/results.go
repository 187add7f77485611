package wire

import "encoding/json"

// Results and event payloads the gateway sends (doc/protocol.md §3–§6). Field
// order follows the original's output so captured frames re-encode
// byte-for-byte where we model every field. Values the original sends as an
// explicit null are pointers without omitempty.

// OKResult is the {ok:true} result of system-event, node.event, … .
type OKResult struct {
	OK bool `json:"ok"`
}

// HealthSummary is the result of health and the payload of the health event.
type HealthSummary struct {
	OK               bool                       `json:"ok"`
	TS               int64                      `json:"ts"`
	DurationMs       int64                      `json:"durationMs"`
	Channels         map[string]json.RawMessage `json:"channels"`
	ChannelOrder     []string                   `json:"channelOrder"`
	ChannelLabels    map[string]string          `json:"channelLabels"`
	HeartbeatSeconds int64                      `json:"heartbeatSeconds"`
	DefaultAgentID   string                     `json:"defaultAgentId"`
	Agents           []HealthAgent              `json:"agents"`
	Sessions         SessionsSummary            `json:"sessions"`
	// ConfigError is ours: the config file the gateway last tried to load
	// (a reload or restart) is invalid, so it still serves the previous
	// config. Absent while the file is valid.
	ConfigError *ConfigError `json:"configError,omitempty"`
	// ConfigWarnings is ours: the keys of the serving config the gateway
	// ignores (unknown keys), with the did-you-mean of 'clawdbot config
	// validate'. Absent when there are none.
	ConfigWarnings []ConfigWarning `json:"configWarnings,omitempty"`
}

// ConfigWarning is one config key the gateway ignores: its dotted path,
// the message ("unknown key (ignored; did you mean gateway.port?)") and
// where it is in the file.
type ConfigWarning struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`   // 1-based, 0 if unknown
	Column  int    `json:"column,omitempty"` // 1-based
}

// ConfigError reports a config file the gateway refused to apply.
type ConfigError struct {
	Path    string `json:"path"`
	Message string `json:"message"` // names the key path and line:column
	AtMs    int64  `json:"atMs"`    // when the refused load happened
}

// HealthAgent is one agent in HealthSummary.
type HealthAgent struct {
	AgentID   string          `json:"agentId"`
	Name      string          `json:"name,omitempty"`
	IsDefault bool            `json:"isDefault"`
	Heartbeat HeartbeatConfig `json:"heartbeat"`
	Sessions  SessionsSummary `json:"sessions"`
}

// HeartbeatConfig is an agent's heartbeat settings as health reports them;
// everyMs is null when heartbeats are off ("0m").
type HeartbeatConfig struct {
	Enabled     bool   `json:"enabled"`
	Every       string `json:"every"`
	EveryMs     *int64 `json:"everyMs"`
	Prompt      string `json:"prompt"`
	Target      string `json:"target"`
	Model       string `json:"model,omitempty"`
	AckMaxChars int64  `json:"ackMaxChars"`
}

// SessionsSummary is a session store summary {path, count, recent}.
type SessionsSummary struct {
	Path   string          `json:"path"`
	Count  int64           `json:"count"`
	Recent []RecentSession `json:"recent"`
}

// RecentSession is one entry of SessionsSummary.recent.
type RecentSession struct {
	Key       string `json:"key"`
	UpdatedAt *int64 `json:"updatedAt"`
	Age       *int64 `json:"age"`
}

// StatusSummary is the result of status.
type StatusSummary struct {
	LinkChannel        *LinkChannel    `json:"linkChannel,omitempty"`
	Heartbeat          StatusHeartbeat `json:"heartbeat"`
	ChannelSummary     []string        `json:"channelSummary"`
	QueuedSystemEvents []string        `json:"queuedSystemEvents"`
	Sessions           StatusSessions  `json:"sessions"`
	// ConfigError and ConfigWarnings are ours, as in HealthSummary.
	ConfigError    *ConfigError    `json:"configError,omitempty"`
	ConfigWarnings []ConfigWarning `json:"configWarnings,omitempty"`
}

// LinkChannel is the linked messaging channel in StatusSummary.
type LinkChannel struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Linked    bool   `json:"linked"`
	AuthAgeMs *int64 `json:"authAgeMs"`
}

// StatusHeartbeat is StatusSummary.heartbeat.
type StatusHeartbeat struct {
	DefaultAgentID string                 `json:"defaultAgentId"`
	Agents         []StatusHeartbeatAgent `json:"agents"`
}

// StatusHeartbeatAgent is one agent's heartbeat in StatusSummary.
type StatusHeartbeatAgent struct {
	AgentID string `json:"agentId"`
	Enabled bool   `json:"enabled"`
	Every   string `json:"every"`
	EveryMs *int64 `json:"everyMs"`
}

// StatusSessions is StatusSummary.sessions. Recent rows are kept raw: their
// many optional token/level fields are produced by the session store.
type StatusSessions struct {
	Paths    []string             `json:"paths"`
	Count    int64                `json:"count"`
	Defaults SessionDefaultsModel `json:"defaults"`
	Recent   []json.RawMessage    `json:"recent"`
	ByAgent  []StatusAgentSession `json:"byAgent"`
}

// SessionDefaultsModel is the default model and context size.
type SessionDefaultsModel struct {
	Model         string `json:"model"`
	ContextTokens int64  `json:"contextTokens"`
}

// StatusAgentSession is one agent's session store in StatusSummary.
type StatusAgentSession struct {
	AgentID string            `json:"agentId"`
	Path    string            `json:"path"`
	Count   int64             `json:"count"`
	Recent  []json.RawMessage `json:"recent"`
}

// HeartbeatEvent is the heartbeat event payload and the result of
// last-heartbeat (which is null before the first heartbeat: send NullPayload).
type HeartbeatEvent struct {
	TS            int64  `json:"ts"`
	Status        string `json:"status"` // sent|ok-empty|ok-token|skipped|failed
	To            string `json:"to,omitempty"`
	Preview       string `json:"preview,omitempty"`
	DurationMs    *int64 `json:"durationMs,omitempty"`
	HasMedia      *bool  `json:"hasMedia,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Channel       string `json:"channel,omitempty"`
	Silent        *bool  `json:"silent,omitempty"`
	IndicatorType string `json:"indicatorType,omitempty"`
}

// SendResult is the result of send.
type SendResult struct {
	RunID          string `json:"runId"`
	MessageID      string `json:"messageId"`
	Channel        string `json:"channel"`
	ChatID         string `json:"chatId,omitempty"`
	ChannelID      string `json:"channelId,omitempty"`
	ToJid          string `json:"toJid,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
}

// Agent run statuses in agent / agent.wait / chat.send results.
const (
	RunAccepted = "accepted"
	RunStarted  = "started"
	RunInFlight = "in_flight"
	RunOK       = "ok"
	RunError    = "error"
	RunTimeout  = "timeout"
)

// AgentAck is the first (ack) response of agent: {runId, status:"accepted",
// acceptedAt}; the final response uses AgentFinal with the same request id.
type AgentAck struct {
	RunID      string `json:"runId"`
	Status     string `json:"status"`
	AcceptedAt int64  `json:"acceptedAt"`
}

// AgentFinal is the second response of agent. On failure the response
// carries both this payload (status "error", summary = message) and an
// UNAVAILABLE error.
type AgentFinal struct {
	RunID   string       `json:"runId"`
	Status  string       `json:"status"`
	Summary string       `json:"summary"`
	Result  *AgentResult `json:"result,omitempty"`
}

// AgentResult is the result block of a successful agent run.
type AgentResult struct {
	Payloads []AgentPayload `json:"payloads"`
	Meta     AgentRunMeta   `json:"meta"`
}

// AgentPayload is one reply payload of an agent run, as the original
// normalises it for JSON: text always present ("" allowed), mediaUrl the
// first media URL or null, mediaUrls only when there are any. replyToId
// and isError are not sent (doc/messaging.md §8).
type AgentPayload struct {
	Text      string   `json:"text"`
	MediaURL  *string  `json:"mediaUrl"`
	MediaURLs []string `json:"mediaUrls,omitzero"`
}

// AgentRunMeta is AgentResult.meta.
type AgentRunMeta struct {
	DurationMs int64      `json:"durationMs"`
	AgentMeta  *AgentMeta `json:"agentMeta,omitempty"`
	Aborted    bool       `json:"aborted"`
	StopReason string     `json:"stopReason,omitempty"`
}

// AgentMeta names the session and model that served a run.
type AgentMeta struct {
	SessionID string      `json:"sessionId"`
	Provider  string      `json:"provider"`
	Model     string      `json:"model"`
	Usage     *AgentUsage `json:"usage,omitempty"`
}

// AgentUsage is a run's token use in the result's shape ({input, output,
// cacheRead, cacheWrite, total}; not the transcript's totalTokens).
type AgentUsage struct {
	Input      int64 `json:"input"`
	Output     int64 `json:"output"`
	CacheRead  int64 `json:"cacheRead"`
	CacheWrite int64 `json:"cacheWrite"`
	Total      int64 `json:"total"`
}

// AgentWaitResult is the result of agent.wait.
type AgentWaitResult struct {
	RunID     string `json:"runId"`
	Status    string `json:"status"` // ok|error|timeout
	StartedAt *int64 `json:"startedAt,omitempty"`
	EndedAt   *int64 `json:"endedAt,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ChatSendResult is the immediate result of chat.send ({runId, status}),
// or of a stop command ({ok, aborted, runIds}).
type ChatSendResult struct {
	RunID   string   `json:"runId,omitempty"`
	Status  string   `json:"status,omitempty"`
	OK      *bool    `json:"ok,omitempty"`
	Aborted *bool    `json:"aborted,omitempty"`
	RunIDs  []string `json:"runIds,omitzero"`
}

// ChatHistoryResult is the result of chat.history. Messages are transcript
// entries kept raw.
type ChatHistoryResult struct {
	SessionKey    string            `json:"sessionKey"`
	SessionID     string            `json:"sessionId,omitempty"`
	Messages      []json.RawMessage `json:"messages"`
	ThinkingLevel string            `json:"thinkingLevel,omitempty"`
}

// ChatAbortResult is the result of chat.abort.
type ChatAbortResult struct {
	OK      bool     `json:"ok"`
	Aborted bool     `json:"aborted"`
	RunIDs  []string `json:"runIds"`
}

// AgentEvent is the payload of the agent event (doc/messaging.md §4.3), with the
// original's key order: runId, stream, data, sessionKey, seq, ts. Seq is
// per run; Data is the stream's own object (kept as a typed value so its
// key order is the original's too).
type AgentEvent struct {
	RunID      string `json:"runId" jsonschema:"minLength=1"`
	Stream     string `json:"stream" jsonschema:"minLength=1"`
	Data       any    `json:"data"`
	SessionKey string `json:"sessionKey,omitempty"`
	Seq        int64  `json:"seq" jsonschema:"minimum=0"`
	TS         int64  `json:"ts" jsonschema:"minimum=0"`
}

// ChatEvent is the payload of the chat event (doc/messaging.md §2.2).
type ChatEvent struct {
	RunID        string       `json:"runId" jsonschema:"minLength=1"`
	SessionKey   string       `json:"sessionKey" jsonschema:"minLength=1"`
	Seq          int64        `json:"seq" jsonschema:"minimum=0"`
	State        string       `json:"state" jsonschema:"enum=delta,enum=final,enum=aborted,enum=error"`
	Message      *ChatMessage `json:"message,omitempty"`
	ErrorMessage string       `json:"errorMessage,omitempty"`
	StopReason   string       `json:"stopReason,omitempty"`
}

// ChatMessage is the assistant message a chat delta or final carries.
type ChatMessage struct {
	Role      string        `json:"role"`
	Content   []ChatContent `json:"content"`
	Timestamp int64         `json:"timestamp"`
}

// ChatContent is one text block of a ChatMessage.
type ChatContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Chat event states.
const (
	ChatDelta   = "delta"
	ChatFinal   = "final"
	ChatAborted = "aborted"
	ChatError   = "error"
)

// ChatInjectResult is the result of chat.inject.
type ChatInjectResult struct {
	OK        bool   `json:"ok"`
	MessageID string `json:"messageId"`
}

// AgentIdentityResult is the result of agent.identity.get.
type AgentIdentityResult struct {
	AgentID string `json:"agentId"`
	Name    string `json:"name,omitempty"`
	Avatar  string `json:"avatar,omitempty"`
}

// AgentsListResult is the result of agents.list.
type AgentsListResult struct {
	DefaultID string           `json:"defaultId"`
	MainKey   string           `json:"mainKey"`
	Scope     string           `json:"scope"`
	Agents    []AgentsListItem `json:"agents"`
}

// AgentsListItem is one agent of agents.list.
type AgentsListItem struct {
	ID       string         `json:"id"`
	Name     string         `json:"name,omitempty"`
	Identity *AgentIdentity `json:"identity,omitempty"`
}

// AgentIdentity is agents.list[].identity.
type AgentIdentity struct {
	Name      string `json:"name,omitempty"`
	Theme     string `json:"theme,omitempty"`
	Emoji     string `json:"emoji,omitempty"`
	Avatar    string `json:"avatar,omitempty"`
	AvatarURL string `json:"avatarUrl,omitempty"`
}

// UsageStatusResult is the result of usage.status: provider quota
// summaries (none without provider OAuth credentials).
type UsageStatusResult struct {
	UpdatedAt int64             `json:"updatedAt"`
	Providers []json.RawMessage `json:"providers"`
}

// UsageTotals are the token and cost sums of usage.cost.
type UsageTotals struct {
	Input              int64   `json:"input"`
	Output             int64   `json:"output"`
	CacheRead          int64   `json:"cacheRead"`
	CacheWrite         int64   `json:"cacheWrite"`
	TotalTokens        int64   `json:"totalTokens"`
	TotalCost          float64 `json:"totalCost"`
	MissingCostEntries int64   `json:"missingCostEntries"`
}

// UsageDay is one day of usage.cost.
type UsageDay struct {
	Date string `json:"date"`
	UsageTotals
}

// UsageCostResult is the result of usage.cost.
type UsageCostResult struct {
	UpdatedAt int64       `json:"updatedAt"`
	Days      int         `json:"days"`
	Daily     []UsageDay  `json:"daily"`
	Totals    UsageTotals `json:"totals"`
}

// NodeInfo is one node in node.list (and, with ts, node.describe).
type NodeInfo struct {
	NodeID          string          `json:"nodeId"`
	DisplayName     string          `json:"displayName,omitempty"`
	Platform        string          `json:"platform,omitempty"`
	Version         string          `json:"version,omitempty"`
	CoreVersion     string          `json:"coreVersion,omitempty"`
	UIVersion       string          `json:"uiVersion,omitempty"`
	DeviceFamily    string          `json:"deviceFamily,omitempty"`
	ModelIdentifier string          `json:"modelIdentifier,omitempty"`
	RemoteIP        string          `json:"remoteIp,omitempty"`
	Caps            []string        `json:"caps"`     // sorted, unique
	Commands        []string        `json:"commands"` // sorted, unique
	PathEnv         string          `json:"pathEnv,omitempty"`
	Permissions     map[string]bool `json:"permissions,omitzero"`
	ConnectedAtMs   *int64          `json:"connectedAtMs,omitempty"`
	Paired          bool            `json:"paired"`
	Connected       bool            `json:"connected"`
}

// NodeListResult is the result of node.list.
type NodeListResult struct {
	TS    int64      `json:"ts"`
	Nodes []NodeInfo `json:"nodes"`
}

// NodeDescribeResult is the result of node.describe: a NodeInfo plus ts.
type NodeDescribeResult struct {
	TS int64 `json:"ts"`
	NodeInfo
}

// NodeInvokeResult is the result of node.invoke.
type NodeInvokeResult struct {
	OK          bool            `json:"ok"`
	NodeID      string          `json:"nodeId"`
	Command     string          `json:"command"`
	Payload     json.RawMessage `json:"payload"`
	PayloadJSON *string         `json:"payloadJSON"`
}

// NodeInvokeResultAck is the result of node.invoke.result; Ignored is set
// for a late or unknown id.
type NodeInvokeResultAck struct {
	OK      bool  `json:"ok"`
	Ignored *bool `json:"ignored,omitempty"`
}

// NodeInvokeRequestEvent is the node.invoke.request event sent to the target
// node only, without seq.
type NodeInvokeRequestEvent struct {
	ID             string  `json:"id" jsonschema:"minLength=1"`
	NodeID         string  `json:"nodeId" jsonschema:"minLength=1"`
	Command        string  `json:"command" jsonschema:"minLength=1"`
	ParamsJSON     *string `json:"paramsJSON"` // null when the call had no params
	TimeoutMs      *int64  `json:"timeoutMs,omitempty" jsonschema:"minimum=0"`
	IdempotencyKey string  `json:"idempotencyKey,omitempty" jsonschema:"minLength=1"`
}

// NodePairRequest is a pending legacy node-pairing request: an entry of
// <state>/nodes/pending.json, the request of node.pair.request and
// node.pair.list, and the node.pair.requested event payload. isRepair is
// always present (doc/messaging.md §3.3: "…metadata, silent?, isRepair, ts"): the
// original sets it to whether the node was already paired.
type NodePairRequest struct {
	RequestID       string          `json:"requestId"`
	NodeID          string          `json:"nodeId"`
	DisplayName     string          `json:"displayName,omitempty"`
	Platform        string          `json:"platform,omitempty"`
	Version         string          `json:"version,omitempty"`
	CoreVersion     string          `json:"coreVersion,omitempty"`
	UIVersion       string          `json:"uiVersion,omitempty"`
	DeviceFamily    string          `json:"deviceFamily,omitempty"`
	ModelIdentifier string          `json:"modelIdentifier,omitempty"`
	Caps            []string        `json:"caps,omitzero"`
	Commands        []string        `json:"commands,omitzero"`
	Permissions     map[string]bool `json:"permissions,omitzero"`
	RemoteIP        string          `json:"remoteIp,omitempty"`
	Silent          *bool           `json:"silent,omitempty"`
	IsRepair        bool            `json:"isRepair"`
	TS              int64           `json:"ts"`
}

// PairedNode is an approved legacy-paired node: an entry of
// <state>/nodes/paired.json and of node.pair.list (tokens are not redacted
// there, as in the original).
type PairedNode struct {
	NodeID            string          `json:"nodeId"`
	Token             string          `json:"token"`
	DisplayName       string          `json:"displayName,omitempty"`
	Platform          string          `json:"platform,omitempty"`
	Version           string          `json:"version,omitempty"`
	CoreVersion       string          `json:"coreVersion,omitempty"`
	UIVersion         string          `json:"uiVersion,omitempty"`
	DeviceFamily      string          `json:"deviceFamily,omitempty"`
	ModelIdentifier   string          `json:"modelIdentifier,omitempty"`
	Caps              []string        `json:"caps,omitzero"`
	Commands          []string        `json:"commands,omitzero"`
	Permissions       map[string]bool `json:"permissions,omitzero"`
	RemoteIP          string          `json:"remoteIp,omitempty"`
	CreatedAtMs       int64           `json:"createdAtMs"`
	ApprovedAtMs      int64           `json:"approvedAtMs"`
	LastConnectedAtMs *int64          `json:"lastConnectedAtMs,omitempty"`
}

// NodePairRequestResult is the result of node.pair.request.
type NodePairRequestResult struct {
	Status  string          `json:"status"` // "pending"
	Request NodePairRequest `json:"request"`
	Created bool            `json:"created"`
}

// NodePairListResult is the result of node.pair.list (pending newest first).
type NodePairListResult struct {
	Pending []NodePairRequest `json:"pending"`
	Paired  []PairedNode      `json:"paired"`
}

// NodePairApproveResult is the result of node.pair.approve.
type NodePairApproveResult struct {
	RequestID string     `json:"requestId"`
	Node      PairedNode `json:"node"`
}

// NodePairRejectResult is the result of node.pair.reject.
type NodePairRejectResult struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
}

// TalkModeEvent is the talk.mode event payload and the talk.mode result.
type TalkModeEvent struct {
	Enabled bool    `json:"enabled"`
	Phase   *string `json:"phase"` // null when the caller gave none
	TS      int64   `json:"ts"`
}

// VoiceWakeResult is the result of voicewake.get/set and the
// voicewake.changed event payload.
type VoiceWakeResult struct {
	Triggers []string `json:"triggers"`
}

// TTSStatusResult is the result of tts.status.
type TTSStatusResult struct {
	Enabled           bool     `json:"enabled"`
	Auto              string   `json:"auto"` // off | always | inbound | tagged
	Provider          string   `json:"provider"`
	FallbackProvider  *string  `json:"fallbackProvider"`
	FallbackProviders []string `json:"fallbackProviders"`
	PrefsPath         string   `json:"prefsPath"`
	HasOpenAIKey      bool     `json:"hasOpenAIKey"`
	HasElevenLabsKey  bool     `json:"hasElevenLabsKey"`
	EdgeEnabled       bool     `json:"edgeEnabled"`
}

// TTSProvider is one entry of tts.providers.
type TTSProvider struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Configured bool     `json:"configured"`
	Models     []string `json:"models"`
	Voices     []string `json:"voices,omitempty"`
}

// TTSProvidersResult is the result of tts.providers.
type TTSProvidersResult struct {
	Providers []TTSProvider `json:"providers"`
	Active    string        `json:"active"`
}

// TTSEnabledResult is the result of tts.enable and tts.disable.
type TTSEnabledResult struct {
	Enabled bool `json:"enabled"`
}

// TTSProviderResult is the result of tts.setProvider.
type TTSProviderResult struct {
	Provider string `json:"provider"`
}

// TTSConvertResult is the result of tts.convert.
type TTSConvertResult struct {
	AudioPath       string `json:"audioPath"`
	Provider        string `json:"provider"`
	OutputFormat    string `json:"outputFormat"`
	VoiceCompatible bool   `json:"voiceCompatible"`
}

// WizardStepOption is one choice of a wizard select/multiselect step.
type WizardStepOption struct {
	Value any    `json:"value"`
	Label string `json:"label"`
	Hint  string `json:"hint,omitempty"`
}

// WizardStep is one step a wizard client renders and answers.
type WizardStep struct {
	ID           string             `json:"id"`
	Type         string             `json:"type"` // note | select | text | confirm | multiselect | progress | action
	Title        string             `json:"title,omitempty"`
	Message      string             `json:"message,omitempty"`
	Options      []WizardStepOption `json:"options,omitempty"`
	InitialValue any                `json:"initialValue,omitempty"`
	Placeholder  string             `json:"placeholder,omitempty"`
	Sensitive    bool               `json:"sensitive,omitempty"`
	Executor     string             `json:"executor,omitempty"` // gateway | client
}

// WizardNextResult is the result of wizard.next (and, with the session
// id, of wizard.start).
type WizardNextResult struct {
	Done   bool        `json:"done"`
	Step   *WizardStep `json:"step,omitempty"`
	Status string      `json:"status,omitempty"` // running | done | cancelled | error
	Error  string      `json:"error,omitempty"`
}

// WizardStartResult is the result of wizard.start.
type WizardStartResult struct {
	SessionID string `json:"sessionId"`
	WizardNextResult
}

// WizardStatusResult is the result of wizard.cancel and wizard.status.
type WizardStatusResult struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// ConfigSchemaResult is the result of config.schema: the config's JSON
// Schema, the UI hints by dotted path, the gateway version and when the
// schema was produced (ISO 8601).
type ConfigSchemaResult struct {
	Schema      json.RawMessage `json:"schema"`
	UIHints     json.RawMessage `json:"uiHints"`
	Version     string          `json:"version"`
	GeneratedAt string          `json:"generatedAt"`
}

// NodeRenameResult is the result of node.rename.
type NodeRenameResult struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName"`
}

// NodePairVerifyResult is the result of node.pair.verify.
type NodePairVerifyResult struct {
	OK   bool        `json:"ok"`
	Node *PairedNode `json:"node,omitempty"`
}

// Pairing decisions in *.pair.resolved events.
const (
	DecisionApproved = "approved"
	DecisionRejected = "rejected"
)

// NodePairResolvedEvent is the node.pair.resolved event payload.
type NodePairResolvedEvent struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
	Decision  string `json:"decision"`
	TS        int64  `json:"ts"`
}

// DevicePairRequestedEvent is the device.pair.requested event payload.
type DevicePairRequestedEvent struct {
	RequestID   string   `json:"requestId" jsonschema:"minLength=1"`
	DeviceID    string   `json:"deviceId" jsonschema:"minLength=1"`
	PublicKey   string   `json:"publicKey" jsonschema:"minLength=1"`
	DisplayName string   `json:"displayName,omitempty" jsonschema:"minLength=1"`
	Platform    string   `json:"platform,omitempty" jsonschema:"minLength=1"`
	ClientID    string   `json:"clientId,omitempty" jsonschema:"minLength=1"`
	ClientMode  string   `json:"clientMode,omitempty" jsonschema:"minLength=1"`
	Role        string   `json:"role,omitempty" jsonschema:"minLength=1"`
	Roles       []string `json:"roles,omitzero" jsonschema:"minLength=1"`
	Scopes      []string `json:"scopes,omitzero" jsonschema:"minLength=1"`
	RemoteIP    string   `json:"remoteIp,omitempty" jsonschema:"minLength=1"`
	Silent      *bool    `json:"silent,omitempty"`
	IsRepair    *bool    `json:"isRepair,omitempty"`
	TS          int64    `json:"ts" jsonschema:"minimum=0"`
}

// DevicePairResolvedEvent is the device.pair.resolved event payload.
type DevicePairResolvedEvent struct {
	RequestID string `json:"requestId" jsonschema:"minLength=1"`
	DeviceID  string `json:"deviceId" jsonschema:"minLength=1"`
	Decision  string `json:"decision" jsonschema:"minLength=1"`
	TS        int64  `json:"ts" jsonschema:"minimum=0"`
}

// DeviceTokenSummary is a device token as device.pair.list and
// device.pair.approve report it: never the token itself.
type DeviceTokenSummary struct {
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes"`
	CreatedAtMs  int64    `json:"createdAtMs"`
	RotatedAtMs  int64    `json:"rotatedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
}

// PairedDevice is a paired device as device.pair.list and
// device.pair.approve report it, in the original's key order (its
// redactPairedDevice moves the summarised tokens last; a device that has no
// token has no tokens key).
type PairedDevice struct {
	DeviceID     string               `json:"deviceId"`
	PublicKey    string               `json:"publicKey"`
	DisplayName  string               `json:"displayName,omitempty"`
	Platform     string               `json:"platform,omitempty"`
	ClientID     string               `json:"clientId,omitempty"`
	ClientMode   string               `json:"clientMode,omitempty"`
	Role         string               `json:"role,omitempty"`
	Roles        []string             `json:"roles,omitzero"`
	Scopes       []string             `json:"scopes,omitzero"`
	RemoteIP     string               `json:"remoteIp,omitempty"`
	CreatedAtMs  int64                `json:"createdAtMs"`
	ApprovedAtMs int64                `json:"approvedAtMs"`
	Tokens       []DeviceTokenSummary `json:"tokens,omitzero"` // sorted by role
}

// DevicePairListResult is the result of device.pair.list: pending requests
// newest first, paired devices most recently approved first.
type DevicePairListResult struct {
	Pending []DevicePairRequestedEvent `json:"pending"`
	Paired  []PairedDevice             `json:"paired"`
}

// DevicePairApproveResult is the result of device.pair.approve.
type DevicePairApproveResult struct {
	RequestID string       `json:"requestId"`
	Device    PairedDevice `json:"device"`
}

// DevicePairRejectResult is the result of device.pair.reject.
type DevicePairRejectResult struct {
	RequestID string `json:"requestId"`
	DeviceID  string `json:"deviceId"`
}

// DeviceTokenRotateResult is the result of device.token.rotate: the new
// token, which the caller hands to the device.
type DeviceTokenRotateResult struct {
	DeviceID    string   `json:"deviceId"`
	Role        string   `json:"role"`
	Token       string   `json:"token"`
	Scopes      []string `json:"scopes"`
	RotatedAtMs int64    `json:"rotatedAtMs"`
}

// DeviceTokenRevokeResult is the result of device.token.revoke.
type DeviceTokenRevokeResult struct {
	DeviceID    string `json:"deviceId"`
	Role        string `json:"role"`
	RevokedAtMs int64  `json:"revokedAtMs"`
}

// LogsTailResult is the result of logs.tail.
type LogsTailResult struct {
	File      string   `json:"file"`
	Cursor    int64    `json:"cursor"`
	Size      int64    `json:"size"`
	Lines     []string `json:"lines"`
	Truncated *bool    `json:"truncated,omitempty"`
	Reset     *bool    `json:"reset,omitempty"`
}

// ConfigIssue is one validation problem in a config snapshot.
type ConfigIssue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ConfigSnapshot is the result of config.get. Raw is null when the file
// does not exist; Hash is sha256 hex of the raw text ("" hashes as empty).
type ConfigSnapshot struct {
	Path         string          `json:"path"`
	Exists       bool            `json:"exists"`
	Raw          *string         `json:"raw"`
	Parsed       json.RawMessage `json:"parsed"`
	Valid        bool            `json:"valid"`
	Config       json.RawMessage `json:"config"`
	Hash         string          `json:"hash"`
	Issues       []ConfigIssue   `json:"issues"`
	Warnings     []ConfigIssue   `json:"warnings"`
	LegacyIssues []ConfigIssue   `json:"legacyIssues"`
}

// ConfigSetResult is the result of config.set.
type ConfigSetResult struct {
	OK     bool            `json:"ok"`
	Path   string          `json:"path"`
	Config json.RawMessage `json:"config"`
}

// RestartInfo describes the in-process restart config.apply/patch scheduled.
type RestartInfo struct {
	OK      bool   `json:"ok"`
	PID     int    `json:"pid"`
	Signal  string `json:"signal"` // "SIGUSR1"
	DelayMs int64  `json:"delayMs"`
	Reason  string `json:"reason"`
	Mode    string `json:"mode"` // "emit" | "signal"
}

// SentinelInfo is the restart sentinel written before a restart; Path is
// null when it could not be written.
type SentinelInfo struct {
	Path    *string                `json:"path"`
	Payload RestartSentinelPayload `json:"payload"`
}

// Restart sentinel kinds and statuses (doc/protocol.md §9.3).
const (
	SentinelConfigApply = "config-apply"
	SentinelUpdate      = "update"
	SentinelRestart     = "restart"
	SentinelOK          = "ok"
	SentinelError       = "error"
	SentinelSkipped     = "skipped"
)

// RestartSentinelPayload is the payload of <state>/restart-sentinel.json
// ({version:1, payload}), which config.apply/patch also return as
// sentinel.payload. Message is an explicit null when there is no note, as
// config.apply writes it (doc/protocol.md §3.5: "message: note|null").
type RestartSentinelPayload struct {
	Kind       string         `json:"kind"`   // config-apply | update | restart
	Status     string         `json:"status"` // ok | error | skipped
	TS         int64          `json:"ts"`
	SessionKey string         `json:"sessionKey,omitempty"`
	Message    *string        `json:"message"`
	DoctorHint string         `json:"doctorHint,omitempty"`
	Stats      map[string]any `json:"stats,omitempty"`
}

// ConfigApplyResult is the result of config.apply and config.patch.
type ConfigApplyResult struct {
	OK       bool            `json:"ok"`
	Path     string          `json:"path"`
	Config   json.RawMessage `json:"config"`
	Restart  RestartInfo     `json:"restart"`
	Sentinel SentinelInfo    `json:"sentinel"`
}

// SessionsListResult is the result of sessions.list.
type SessionsListResult struct {
	TS       int64            `json:"ts"`
	Path     string           `json:"path"`
	Count    int64            `json:"count"`
	Defaults SessionsDefaults `json:"defaults"`
	Sessions []SessionRow     `json:"sessions"`
}

// SessionsDefaults is the default model of sessions.list (null when
// unknown).
type SessionsDefaults struct {
	ModelProvider *string `json:"modelProvider"`
	Model         *string `json:"model"`
	ContextTokens *int64  `json:"contextTokens"`
}

// SessionRow is one session of sessions.list, fields in the original's
// order; absent values are left out as JSON.stringify drops undefined.
type SessionRow struct {
	Key                string          `json:"key"`
	Kind               string          `json:"kind"`
	Label              string          `json:"label,omitempty"`
	DisplayName        string          `json:"displayName,omitempty"`
	Channel            string          `json:"channel,omitempty"`
	Subject            string          `json:"subject,omitempty"`
	GroupChannel       string          `json:"groupChannel,omitempty"`
	Space              string          `json:"space,omitempty"`
	ChatType           string          `json:"chatType,omitempty"`
	Origin             json.RawMessage `json:"origin,omitempty"`
	UpdatedAt          *int64          `json:"updatedAt"`
	SessionID          string          `json:"sessionId,omitempty"`
	SystemSent         *bool           `json:"systemSent,omitempty"`
	AbortedLastRun     *bool           `json:"abortedLastRun,omitempty"`
	ThinkingLevel      string          `json:"thinkingLevel,omitempty"`
	VerboseLevel       string          `json:"verboseLevel,omitempty"`
	ReasoningLevel     string          `json:"reasoningLevel,omitempty"`
	ElevatedLevel      string          `json:"elevatedLevel,omitempty"`
	SendPolicy         string          `json:"sendPolicy,omitempty"`
	InputTokens        *int64          `json:"inputTokens,omitempty"`
	OutputTokens       *int64          `json:"outputTokens,omitempty"`
	TotalTokens        int64           `json:"totalTokens"`
	ResponseUsage      string          `json:"responseUsage,omitempty"`
	ModelProvider      string          `json:"modelProvider,omitempty"`
	Model              string          `json:"model,omitempty"`
	ContextTokens      *int64          `json:"contextTokens,omitempty"`
	DeliveryContext    json.RawMessage `json:"deliveryContext,omitempty"`
	LastChannel        string          `json:"lastChannel,omitempty"`
	LastTo             string          `json:"lastTo,omitempty"`
	LastAccountID      string          `json:"lastAccountId,omitempty"`
	DerivedTitle       string          `json:"derivedTitle,omitempty"`
	LastMessagePreview string          `json:"lastMessagePreview,omitempty"`
}

// SessionsPreviewResult is the result of sessions.preview.
type SessionsPreviewResult struct {
	TS       int64            `json:"ts"`
	Previews []SessionPreview `json:"previews"`
}

// SessionPreview is one key's preview: status ok|empty|missing|error.
type SessionPreview struct {
	Key    string        `json:"key"`
	Status string        `json:"status"`
	Items  []PreviewItem `json:"items"`
}

// PreviewItem is one message of a preview: role user|assistant|tool|system|other.
type PreviewItem struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// SessionsKeyResult is the result of sessions.resolve ({ok, key}).
type SessionsKeyResult struct {
	OK  bool   `json:"ok"`
	Key string `json:"key"`
}

// SessionsPatchResult is the result of sessions.patch; Entry is the stored
// sessions.json entry.
type SessionsPatchResult struct {
	OK    bool            `json:"ok"`
	Path  string          `json:"path"`
	Key   string          `json:"key"`
	Entry json.RawMessage `json:"entry"`
}

// SessionsResetResult is the result of sessions.reset.
type SessionsResetResult struct {
	OK    bool            `json:"ok"`
	Key   string          `json:"key"`
	Entry json.RawMessage `json:"entry"`
}

// SessionsDeleteResult is the result of sessions.delete: archived are the
// transcripts renamed to <file>.deleted.<ts>.
type SessionsDeleteResult struct {
	OK       bool     `json:"ok"`
	Key      string   `json:"key"`
	Deleted  bool     `json:"deleted"`
	Archived []string `json:"archived"`
}

// SessionsCompactResult is the result of sessions.compact.
type SessionsCompactResult struct {
	OK        bool   `json:"ok"`
	Key       string `json:"key"`
	Compacted bool   `json:"compacted"`
	Reason    string `json:"reason,omitempty"`
	Archived  string `json:"archived,omitempty"`
	Kept      *int64 `json:"kept,omitempty"`
}

// ModelsListResult is the result of models.list (doc/messaging.md §1.12).
type ModelsListResult struct {
	Models []ModelChoice `json:"models"`
}

// ModelChoice is one model the Control UI's picker offers, sorted by
// provider then name. input is sent although the original's schema omits
// it, as the original does.
type ModelChoice struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Provider      string   `json:"provider"`
	ContextWindow int      `json:"contextWindow,omitempty"`
	Reasoning     *bool    `json:"reasoning,omitempty"`
	Input         []string `json:"input,omitempty"`
}
