package wire

// The exec approvals and skills methods (exec.approvals.*, exec.approval.*,
// skills.*): their params, results and events, in the shapes of the
// original's protocol schema (exec-approvals.js, agents-models-skills.js).
// They live in their own file so the approvals work does not collide with
// edits to params.go and results.go.

// Exec approval decisions (exec.approval.resolve).
const (
	DecisionAllowOnce   = "allow-once"
	DecisionAllowAlways = "allow-always"
	DecisionDeny        = "deny"
)

// ExecApprovalsAllowlistEntry is one allowlist pattern of an agent.
type ExecApprovalsAllowlistEntry struct {
	ID               string `json:"id,omitempty" jsonschema:"minLength=1"`
	Pattern          string `json:"pattern"`
	LastUsedAt       *int64 `json:"lastUsedAt,omitempty" jsonschema:"minimum=0"`
	LastUsedCommand  string `json:"lastUsedCommand,omitempty"`
	LastResolvedPath string `json:"lastResolvedPath,omitempty"`
}

// ExecApprovalsDefaults are the file's defaults block. Values are free
// strings on the wire (the original normalises unknown ones to the
// fallback rather than refusing them).
type ExecApprovalsDefaults struct {
	Security        string `json:"security,omitempty"`
	Ask             string `json:"ask,omitempty"`
	AskFallback     string `json:"askFallback,omitempty"`
	AutoAllowSkills *bool  `json:"autoAllowSkills,omitempty"`
}

// ExecApprovalsAgent is the policy of one agent ("*" applies to all).
type ExecApprovalsAgent struct {
	Security        string                        `json:"security,omitempty"`
	Ask             string                        `json:"ask,omitempty"`
	AskFallback     string                        `json:"askFallback,omitempty"`
	AutoAllowSkills *bool                         `json:"autoAllowSkills,omitempty"`
	Allowlist       []ExecApprovalsAllowlistEntry `json:"allowlist,omitempty"`
}

// ExecApprovalsSocket is the approvals socket of the macOS app; the token
// is a secret and never leaves the gateway (exec.approvals.get redacts it).
type ExecApprovalsSocket struct {
	Path  string `json:"path,omitempty"`
	Token string `json:"token,omitempty"`
}

// ExecApprovalsFile is exec-approvals.json, version 1.
type ExecApprovalsFile struct {
	Version  int                           `json:"version" jsonschema:"enum=1"`
	Socket   *ExecApprovalsSocket          `json:"socket,omitempty"`
	Defaults *ExecApprovalsDefaults        `json:"defaults,omitempty"`
	Agents   map[string]ExecApprovalsAgent `json:"agents,omitzero"`
}

// ExecApprovalsSnapshot is the result of exec.approvals.get and .set.
type ExecApprovalsSnapshot struct {
	Path   string            `json:"path"`
	Exists bool              `json:"exists"`
	Hash   string            `json:"hash"`
	File   ExecApprovalsFile `json:"file"`
}

// ExecApprovalsSetParams are the params of exec.approvals.set; BaseHash is
// required once the file exists (the hash exec.approvals.get returned).
type ExecApprovalsSetParams struct {
	File     ExecApprovalsFile `json:"file"`
	BaseHash string            `json:"baseHash,omitempty" jsonschema:"minLength=1"`
}

// ExecApprovalsNodeGetParams are the params of exec.approvals.node.get.
type ExecApprovalsNodeGetParams struct {
	NodeID string `json:"nodeId" jsonschema:"minLength=1"`
}

// ExecApprovalsNodeSetParams are the params of exec.approvals.node.set.
type ExecApprovalsNodeSetParams struct {
	NodeID   string            `json:"nodeId" jsonschema:"minLength=1"`
	File     ExecApprovalsFile `json:"file"`
	BaseHash string            `json:"baseHash,omitempty" jsonschema:"minLength=1"`
}

// ExecApprovalRequestParams are the params of exec.approval.request: a
// client (a node host, the agent's exec tool) asks the operators whether
// command may run, and the response comes when one decides or the request
// times out.
type ExecApprovalRequestParams struct {
	ID           string         `json:"id,omitempty" jsonschema:"minLength=1"`
	Command      string         `json:"command" jsonschema:"minLength=1"`
	Cwd          NullableString `json:"cwd,omitzero"`
	Host         NullableString `json:"host,omitzero"`
	Security     NullableString `json:"security,omitzero"`
	Ask          NullableString `json:"ask,omitzero"`
	AgentID      NullableString `json:"agentId,omitzero"`
	ResolvedPath NullableString `json:"resolvedPath,omitzero"`
	SessionKey   NullableString `json:"sessionKey,omitzero"`
	TimeoutMs    *int64         `json:"timeoutMs,omitempty" jsonschema:"minimum=1"`
}

// NullableString is Nullable without a minimum length: the original's
// Type.Union([Type.String(), Type.Null()]).
type NullableString struct{ Nullable }

// ExecApprovalResolveParams are the params of exec.approval.resolve.
type ExecApprovalResolveParams struct {
	ID       string `json:"id" jsonschema:"minLength=1"`
	Decision string `json:"decision" jsonschema:"minLength=1"`
}

// ExecApprovalRequest is what is being approved; absent fields are null,
// as the original sends them.
type ExecApprovalRequest struct {
	Command      string  `json:"command"`
	Cwd          *string `json:"cwd"`
	Host         *string `json:"host"`
	Security     *string `json:"security"`
	Ask          *string `json:"ask"`
	AgentID      *string `json:"agentId"`
	ResolvedPath *string `json:"resolvedPath"`
	SessionKey   *string `json:"sessionKey"`
}

// ExecApprovalRequestedEvent is the exec.approval.requested payload (to
// operators with operator.approvals or admin).
type ExecApprovalRequestedEvent struct {
	ID          string              `json:"id"`
	Request     ExecApprovalRequest `json:"request"`
	CreatedAtMs int64               `json:"createdAtMs"`
	ExpiresAtMs int64               `json:"expiresAtMs"`
}

// ExecApprovalRequestResult is the result of exec.approval.request;
// Decision is null when the request timed out.
type ExecApprovalRequestResult struct {
	ID          string  `json:"id"`
	Decision    *string `json:"decision"`
	CreatedAtMs int64   `json:"createdAtMs"`
	ExpiresAtMs int64   `json:"expiresAtMs"`
}

// ExecApprovalResolvedEvent is the exec.approval.resolved payload.
type ExecApprovalResolvedEvent struct {
	ID         string `json:"id"`
	Decision   string `json:"decision"`
	ResolvedBy string `json:"resolvedBy,omitempty"`
	Ts         int64  `json:"ts"`
}

// SkillsInstallParams are the params of skills.install.
type SkillsInstallParams struct {
	Name      string `json:"name" jsonschema:"minLength=1"`
	InstallID string `json:"installId" jsonschema:"minLength=1"`
	TimeoutMs *int64 `json:"timeoutMs,omitempty" jsonschema:"minimum=1000"`
}

// SkillsUpdateParams are the params of skills.update: enable or disable a
// skill, set or clear (empty string) its apiKey and env values.
type SkillsUpdateParams struct {
	SkillKey string            `json:"skillKey" jsonschema:"minLength=1"`
	Enabled  *bool             `json:"enabled,omitempty"`
	APIKey   *string           `json:"apiKey,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
}

// SkillsBinsResult is the result of skills.bins.
type SkillsBinsResult struct {
	Bins []string `json:"bins"`
}

// SkillsUpdateResult is the result of skills.update: the skill's entry
// under skills.entries as now stored.
type SkillsUpdateResult struct {
	OK       bool           `json:"ok"`
	SkillKey string         `json:"skillKey"`
	Config   map[string]any `json:"config"`
}

// SkillsStatusReport is the result of skills.status.
type SkillsStatusReport struct {
	WorkspaceDir     string        `json:"workspaceDir"`
	ManagedSkillsDir string        `json:"managedSkillsDir"`
	Skills           []SkillStatus `json:"skills"`
}

// SkillRequirements lists what a skill needs (or, as missing, lacks).
type SkillRequirements struct {
	Bins    []string `json:"bins"`
	AnyBins []string `json:"anyBins"`
	Env     []string `json:"env"`
	Config  []string `json:"config"`
	OS      []string `json:"os"`
}

// SkillConfigCheck is one requires.config path and whether it is truthy.
type SkillConfigCheck struct {
	Path      string `json:"path"`
	Value     any    `json:"value,omitempty"`
	Satisfied bool   `json:"satisfied"`
}

// SkillInstallOption is one way to install a skill's binaries.
type SkillInstallOption struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind"`
	Label string   `json:"label"`
	Bins  []string `json:"bins"`
}

// SkillStatus is one skill in skills.status.
type SkillStatus struct {
	Name               string               `json:"name"`
	Description        string               `json:"description"`
	Source             string               `json:"source"`
	FilePath           string               `json:"filePath"`
	BaseDir            string               `json:"baseDir"`
	SkillKey           string               `json:"skillKey"`
	PrimaryEnv         string               `json:"primaryEnv,omitempty"`
	Emoji              string               `json:"emoji,omitempty"`
	Homepage           string               `json:"homepage,omitempty"`
	Always             bool                 `json:"always"`
	Disabled           bool                 `json:"disabled"`
	BlockedByAllowlist bool                 `json:"blockedByAllowlist"`
	Eligible           bool                 `json:"eligible"`
	Requirements       SkillRequirements    `json:"requirements"`
	Missing            SkillRequirements    `json:"missing"`
	ConfigChecks       []SkillConfigCheck   `json:"configChecks"`
	Install            []SkillInstallOption `json:"install"`
}

// SkillsInstallResult is the result of skills.install.
type SkillsInstallResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Stdout  string `json:"stdout"`
	Stderr  string `json:"stderr"`
	Code    *int   `json:"code"`
}
