package wire

import "encoding/json"

// Method params (doc/protocol.md §3). Every type here is strict: the original
// rejects unknown properties (additionalProperties:false), and so does our
// generated schema. Field order follows the original schema, because the
// order of validation messages depends on it. Optional numbers and booleans
// are pointers so an explicit 0/false is kept apart from "absent".

// EmptyParams are the params of methods that take none but still reject
// unknown properties (node.list, node.pair.list, config.get, …).
type EmptyParams struct{}

// HealthParams are the params of health; the original does not
// schema-validate them (params:[] is accepted), so neither do we.
type HealthParams struct {
	Probe *bool `json:"probe,omitempty"`
}

// SystemEventParams are the params of system-event. The original checks
// only that text is non-empty after trimming ("text required"), so this type
// is not schema-validated; the handler checks text.
type SystemEventParams struct {
	Text             string   `json:"text"`
	DeviceID         string   `json:"deviceId,omitempty"`
	InstanceID       string   `json:"instanceId,omitempty"`
	Host             string   `json:"host,omitempty"`
	IP               string   `json:"ip,omitempty"`
	Mode             string   `json:"mode,omitempty"`
	Version          string   `json:"version,omitempty"`
	Platform         string   `json:"platform,omitempty"`
	DeviceFamily     string   `json:"deviceFamily,omitempty"`
	ModelIdentifier  string   `json:"modelIdentifier,omitempty"`
	LastInputSeconds *float64 `json:"lastInputSeconds,omitempty"`
	Reason           string   `json:"reason,omitempty"`
	Roles            []string `json:"roles,omitzero"`
	Scopes           []string `json:"scopes,omitzero"`
	Tags             []string `json:"tags,omitzero"`
}

// SetHeartbeatsParams are the params of set-heartbeats.
type SetHeartbeatsParams struct {
	Enabled bool `json:"enabled"`
}

// SendParams are the params of send.
type SendParams struct {
	To             string   `json:"to" jsonschema:"minLength=1"`
	Message        string   `json:"message" jsonschema:"minLength=1"`
	MediaURL       string   `json:"mediaUrl,omitempty"`
	MediaURLs      []string `json:"mediaUrls,omitzero"`
	GifPlayback    *bool    `json:"gifPlayback,omitempty"`
	Channel        string   `json:"channel,omitempty"`
	AccountID      string   `json:"accountId,omitempty"`
	SessionKey     string   `json:"sessionKey,omitempty"`
	IdempotencyKey string   `json:"idempotencyKey" jsonschema:"minLength=1"`
}

// AgentParams are the params of agent (two-stage, doc/protocol.md §5).
type AgentParams struct {
	Message           string            `json:"message" jsonschema:"minLength=1"`
	AgentID           string            `json:"agentId,omitempty" jsonschema:"minLength=1"`
	To                string            `json:"to,omitempty"`
	ReplyTo           string            `json:"replyTo,omitempty"`
	SessionID         string            `json:"sessionId,omitempty"`
	SessionKey        string            `json:"sessionKey,omitempty"`
	Thinking          string            `json:"thinking,omitempty"`
	Deliver           *bool             `json:"deliver,omitempty"`
	Attachments       []json.RawMessage `json:"attachments,omitzero"`
	Channel           string            `json:"channel,omitempty"`
	ReplyChannel      string            `json:"replyChannel,omitempty"`
	AccountID         string            `json:"accountId,omitempty"`
	ReplyAccountID    string            `json:"replyAccountId,omitempty"`
	ThreadID          string            `json:"threadId,omitempty"`
	GroupID           string            `json:"groupId,omitempty"`
	GroupChannel      string            `json:"groupChannel,omitempty"`
	GroupSpace        string            `json:"groupSpace,omitempty"`
	Timeout           *int64            `json:"timeout,omitempty" jsonschema:"minimum=0"` // seconds
	Lane              string            `json:"lane,omitempty"`
	ExtraSystemPrompt string            `json:"extraSystemPrompt,omitempty"`
	IdempotencyKey    string            `json:"idempotencyKey" jsonschema:"minLength=1"`
	Label             string            `json:"label,omitempty" jsonschema:"minLength=1,maxLength=64"`
	SpawnedBy         string            `json:"spawnedBy,omitempty"`
}

// Attachment is the documented shape of one agent/chat.send attachment;
// params keep attachments raw because the schema accepts any value there.
type Attachment struct {
	Type     string `json:"type,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	FileName string `json:"fileName,omitempty"`
	Content  string `json:"content"` // base64
}

// AgentWaitParams are the params of agent.wait.
type AgentWaitParams struct {
	RunID     string `json:"runId" jsonschema:"minLength=1"`
	TimeoutMs *int64 `json:"timeoutMs,omitempty" jsonschema:"minimum=0"`
}

// AgentIdentityParams are the params of agent.identity.get.
type AgentIdentityParams struct {
	AgentID    string `json:"agentId,omitempty" jsonschema:"minLength=1"`
	SessionKey string `json:"sessionKey,omitempty"`
}

// WakeParams are the params of wake.
type WakeParams struct {
	Mode string `json:"mode" jsonschema:"enum=now,enum=next-heartbeat"`
	Text string `json:"text" jsonschema:"minLength=1"`
}

// ChatHistoryParams are the params of chat.history.
type ChatHistoryParams struct {
	SessionKey string `json:"sessionKey" jsonschema:"minLength=1"`
	Limit      *int64 `json:"limit,omitempty" jsonschema:"minimum=1,maximum=1000"`
}

// ChatSendParams are the params of chat.send.
type ChatSendParams struct {
	SessionKey     string            `json:"sessionKey" jsonschema:"minLength=1"`
	Message        string            `json:"message" jsonschema:"minLength=1"`
	Thinking       string            `json:"thinking,omitempty"`
	Deliver        *bool             `json:"deliver,omitempty"`
	Attachments    []json.RawMessage `json:"attachments,omitzero"`
	TimeoutMs      *int64            `json:"timeoutMs,omitempty" jsonschema:"minimum=0"`
	IdempotencyKey string            `json:"idempotencyKey" jsonschema:"minLength=1"`
}

// ChatAbortParams are the params of chat.abort.
type ChatAbortParams struct {
	SessionKey string `json:"sessionKey" jsonschema:"minLength=1"`
	RunID      string `json:"runId,omitempty" jsonschema:"minLength=1"`
}

// ChatInjectParams are the params of chat.inject.
type ChatInjectParams struct {
	SessionKey string `json:"sessionKey" jsonschema:"minLength=1"`
	Message    string `json:"message" jsonschema:"minLength=1"`
	Label      string `json:"label,omitempty" jsonschema:"maxLength=100"`
}

// NodeDescribeParams are the params of node.describe.
type NodeDescribeParams struct {
	NodeID string `json:"nodeId" jsonschema:"minLength=1"`
}

// NodeInvokeParams are the params of node.invoke.
type NodeInvokeParams struct {
	NodeID         string          `json:"nodeId" jsonschema:"minLength=1"`
	Command        string          `json:"command" jsonschema:"minLength=1"`
	Params         json.RawMessage `json:"params,omitempty"`
	TimeoutMs      *int64          `json:"timeoutMs,omitempty" jsonschema:"minimum=0"`
	IdempotencyKey string          `json:"idempotencyKey" jsonschema:"minLength=1"`
}

// NodeInvokeError is the error a node reports in node.invoke.result.
type NodeInvokeError struct {
	Code    string `json:"code,omitempty" jsonschema:"minLength=1"`
	Message string `json:"message,omitempty" jsonschema:"minLength=1"`
}

// NodeInvokeResultParams are the params of node.invoke.result (node role).
// The original strips payloadJSON:null and error:null before validating;
// the gateway should call StripNulls on the params first (see
// ValidateParams, which does it for this method).
type NodeInvokeResultParams struct {
	ID          string           `json:"id" jsonschema:"minLength=1"`
	NodeID      string           `json:"nodeId" jsonschema:"minLength=1"`
	OK          bool             `json:"ok"`
	Payload     json.RawMessage  `json:"payload,omitempty"`
	PayloadJSON *string          `json:"payloadJSON,omitempty"`
	Error       *NodeInvokeError `json:"error,omitempty"`
}

// NodeEventParams are the params of node.event (node role).
type NodeEventParams struct {
	Event       string          `json:"event" jsonschema:"minLength=1"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	PayloadJSON *string         `json:"payloadJSON,omitempty"`
}

// NodePairRequestParams are the params of node.pair.request.
type NodePairRequestParams struct {
	NodeID          string   `json:"nodeId" jsonschema:"minLength=1"`
	DisplayName     string   `json:"displayName,omitempty" jsonschema:"minLength=1"`
	Platform        string   `json:"platform,omitempty" jsonschema:"minLength=1"`
	Version         string   `json:"version,omitempty" jsonschema:"minLength=1"`
	CoreVersion     string   `json:"coreVersion,omitempty" jsonschema:"minLength=1"`
	UIVersion       string   `json:"uiVersion,omitempty" jsonschema:"minLength=1"`
	DeviceFamily    string   `json:"deviceFamily,omitempty" jsonschema:"minLength=1"`
	ModelIdentifier string   `json:"modelIdentifier,omitempty" jsonschema:"minLength=1"`
	Caps            []string `json:"caps,omitzero" jsonschema:"minLength=1"`
	Commands        []string `json:"commands,omitzero" jsonschema:"minLength=1"`
	RemoteIP        string   `json:"remoteIp,omitempty" jsonschema:"minLength=1"`
	Silent          *bool    `json:"silent,omitempty"`
}

// RequestIDParams are the params of node.pair.approve/reject and
// device.pair.approve/reject.
type RequestIDParams struct {
	RequestID string `json:"requestId" jsonschema:"minLength=1"`
}

// NodePairVerifyParams are the params of node.pair.verify.
type NodePairVerifyParams struct {
	NodeID string `json:"nodeId" jsonschema:"minLength=1"`
	Token  string `json:"token" jsonschema:"minLength=1"`
}

// NodeRenameParams are the params of node.rename.
type NodeRenameParams struct {
	NodeID      string `json:"nodeId" jsonschema:"minLength=1"`
	DisplayName string `json:"displayName" jsonschema:"minLength=1"`
}

// DeviceTokenRotateParams are the params of device.token.rotate.
type DeviceTokenRotateParams struct {
	DeviceID string   `json:"deviceId" jsonschema:"minLength=1"`
	Role     string   `json:"role" jsonschema:"minLength=1"`
	Scopes   []string `json:"scopes,omitzero" jsonschema:"minLength=1"`
}

// DeviceTokenRevokeParams are the params of device.token.revoke.
type DeviceTokenRevokeParams struct {
	DeviceID string `json:"deviceId" jsonschema:"minLength=1"`
	Role     string `json:"role" jsonschema:"minLength=1"`
}

// LogsTailParams are the params of logs.tail.
type LogsTailParams struct {
	Cursor   *int64 `json:"cursor,omitempty" jsonschema:"minimum=0"`
	Limit    *int64 `json:"limit,omitempty" jsonschema:"minimum=1,maximum=5000"`
	MaxBytes *int64 `json:"maxBytes,omitempty" jsonschema:"minimum=1,maximum=1000000"`
}

// ConfigSetParams are the params of config.set.
type ConfigSetParams struct {
	Raw      string `json:"raw" jsonschema:"minLength=1"`
	BaseHash string `json:"baseHash,omitempty" jsonschema:"minLength=1"`
}

// ConfigApplyParams are the params of config.apply and config.patch.
type ConfigApplyParams struct {
	Raw            string `json:"raw" jsonschema:"minLength=1"`
	BaseHash       string `json:"baseHash,omitempty" jsonschema:"minLength=1"`
	SessionKey     string `json:"sessionKey,omitempty"`
	Note           string `json:"note,omitempty"`
	RestartDelayMs *int64 `json:"restartDelayMs,omitempty" jsonschema:"minimum=0"`
}

// WizardStartParams are the params of wizard.start.
type WizardStartParams struct {
	Mode      string `json:"mode,omitempty" jsonschema:"enum=local,enum=remote"`
	Workspace string `json:"workspace,omitempty"`
}

// WizardAnswer is the answer to a wizard step.
type WizardAnswer struct {
	StepID string `json:"stepId" jsonschema:"minLength=1"`
	Value  any    `json:"value,omitempty"`
}

// WizardNextParams are the params of wizard.next.
type WizardNextParams struct {
	SessionID string        `json:"sessionId" jsonschema:"minLength=1"`
	Answer    *WizardAnswer `json:"answer,omitempty"`
}

// WizardSessionParams are the params of wizard.cancel and wizard.status.
type WizardSessionParams struct {
	SessionID string `json:"sessionId" jsonschema:"minLength=1"`
}

// UpdateRunParams are the params of update.run.
type UpdateRunParams struct {
	SessionKey     string `json:"sessionKey,omitempty"`
	Note           string `json:"note,omitempty"`
	RestartDelayMs *int64 `json:"restartDelayMs,omitempty" jsonschema:"minimum=0"`
	TimeoutMs      *int64 `json:"timeoutMs,omitempty" jsonschema:"minimum=1"`
}

// TalkModeParams are the params of talk.mode.
type TalkModeParams struct {
	Enabled bool    `json:"enabled"`
	Phase   *string `json:"phase,omitempty"`
}

// ChannelsStatusParams are the params of channels.status.
type ChannelsStatusParams struct {
	Probe     *bool  `json:"probe,omitempty"`
	TimeoutMs *int64 `json:"timeoutMs,omitempty" jsonschema:"minimum=0"`
}

// CronListParams are the params of cron.list.
type CronListParams struct {
	IncludeDisabled *bool `json:"includeDisabled,omitempty"`
}

// Nullable is a params value that may be absent, null or a string: the
// original's Type.Union([X, Type.Null()]) fields of sessions.patch, where
// null clears a setting and absence leaves it alone. Its schema is
// anyOf [{type:string,minLength:1}, {type:null}] (see schemagen).
type Nullable struct {
	// Set reports the property was present; Null that it was null.
	Set, Null bool
	Value     string
}

// NullableLabel is Nullable with the session label bounds (1..64).
type NullableLabel struct{ Nullable }

// UnmarshalJSON records presence, null or the string.
func (n *Nullable) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// MarshalJSON writes null or the string (an absent value is omitted by
// omitzero on the field).
func (n Nullable) MarshalJSON() ([]byte, error) {
	if n.Null || !n.Set {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// IsZero is true for an absent value (omitzero).
func (n Nullable) IsZero() bool { return !n.Set }

// SessionsListParams are the params of sessions.list.
type SessionsListParams struct {
	Limit                *int64 `json:"limit,omitempty" jsonschema:"minimum=1"`
	ActiveMinutes        *int64 `json:"activeMinutes,omitempty" jsonschema:"minimum=1"`
	IncludeGlobal        *bool  `json:"includeGlobal,omitempty"`
	IncludeUnknown       *bool  `json:"includeUnknown,omitempty"`
	IncludeDerivedTitles *bool  `json:"includeDerivedTitles,omitempty"`
	IncludeLastMessage   *bool  `json:"includeLastMessage,omitempty"`
	Label                string `json:"label,omitempty" jsonschema:"minLength=1,maxLength=64"`
	SpawnedBy            string `json:"spawnedBy,omitempty" jsonschema:"minLength=1"`
	AgentID              string `json:"agentId,omitempty" jsonschema:"minLength=1"`
	Search               string `json:"search,omitempty"`
}

// SessionsPreviewParams are the params of sessions.preview.
type SessionsPreviewParams struct {
	Keys     []string `json:"keys" jsonschema:"minItems=1,minLength=1"`
	Limit    *int64   `json:"limit,omitempty" jsonschema:"minimum=1"`
	MaxChars *int64   `json:"maxChars,omitempty" jsonschema:"minimum=20"`
}

// SessionsResolveParams are the params of sessions.resolve.
type SessionsResolveParams struct {
	Key            string `json:"key,omitempty" jsonschema:"minLength=1"`
	SessionID      string `json:"sessionId,omitempty" jsonschema:"minLength=1"`
	Label          string `json:"label,omitempty" jsonschema:"minLength=1,maxLength=64"`
	AgentID        string `json:"agentId,omitempty" jsonschema:"minLength=1"`
	SpawnedBy      string `json:"spawnedBy,omitempty" jsonschema:"minLength=1"`
	IncludeGlobal  *bool  `json:"includeGlobal,omitempty"`
	IncludeUnknown *bool  `json:"includeUnknown,omitempty"`
}

// SessionsPatchParams are the params of sessions.patch. Every setting is
// Nullable: null clears it. The schema takes any string for the enum-like
// settings; the handler checks them with the original's messages
// ("invalid sendPolicy (use \"allow\"|\"deny\")").
type SessionsPatchParams struct {
	Key             string        `json:"key" jsonschema:"minLength=1"`
	Label           NullableLabel `json:"label,omitzero"`
	ThinkingLevel   Nullable      `json:"thinkingLevel,omitzero"`
	VerboseLevel    Nullable      `json:"verboseLevel,omitzero"`
	ReasoningLevel  Nullable      `json:"reasoningLevel,omitzero"`
	ResponseUsage   Nullable      `json:"responseUsage,omitzero"`
	ElevatedLevel   Nullable      `json:"elevatedLevel,omitzero"`
	ExecHost        Nullable      `json:"execHost,omitzero"`
	ExecSecurity    Nullable      `json:"execSecurity,omitzero"`
	ExecAsk         Nullable      `json:"execAsk,omitzero"`
	ExecNode        Nullable      `json:"execNode,omitzero"`
	Model           Nullable      `json:"model,omitzero"`
	SpawnedBy       Nullable      `json:"spawnedBy,omitzero"`
	SendPolicy      Nullable      `json:"sendPolicy,omitzero"`
	GroupActivation Nullable      `json:"groupActivation,omitzero"`
}

// SessionKeyParams are the params of sessions.reset.
type SessionKeyParams struct {
	Key string `json:"key" jsonschema:"minLength=1"`
}

// SessionsDeleteParams are the params of sessions.delete.
type SessionsDeleteParams struct {
	Key              string `json:"key" jsonschema:"minLength=1"`
	DeleteTranscript *bool  `json:"deleteTranscript,omitempty"`
}

// SessionsCompactParams are the params of sessions.compact.
type SessionsCompactParams struct {
	Key      string `json:"key" jsonschema:"minLength=1"`
	MaxLines *int64 `json:"maxLines,omitempty" jsonschema:"minimum=1"`
}
