package wire

import (
	"reflect"
	"slices"
)

// Scope is the authorization class of a method (doc/protocol.md §3.1): which operator
// scope (or role) a caller needs before the handler is even looked up.
type Scope string

// Method authorization classes.
const (
	ReadScope      Scope = "read"      // operator.read or operator.write (or admin)
	WriteScope     Scope = "write"     // operator.write (or admin)
	AdminScope     Scope = "admin"     // operator.admin; also every unknown method
	PairingScope   Scope = "pairing"   // operator.pairing (or admin)
	ApprovalsScope Scope = "approvals" // operator.approvals (or admin)
	NodeScope      Scope = "node"      // role node only; operators are refused
	OpenScope      Scope = "open"      // health: no role or scope check at all
)

// Method describes one gateway method.
type Method struct {
	Name  string
	Scope Scope
	// Params is the Go type of the params, nil when the original does not
	// schema-validate them (health, status, system-event, …). The schema
	// file is schema/<Params type name>.json.
	Params reflect.Type
	// Strict reports that unknown params properties are rejected
	// (additionalProperties:false); true for every validated method.
	Strict bool
	// Hidden methods have handlers but are not in features.methods.
	Hidden bool
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// methodTable lists every method of the original in the order it advertises
// them in hello-ok features.methods (doc/protocol.md §3.2), then the hidden ones.
// Methods whose params we have not typed yet carry Params nil and are
// accepted as-is; their handlers validate what they use.
var methodTable = []Method{
	{Name: "health", Scope: OpenScope},
	{Name: "logs.tail", Scope: ReadScope, Params: typeOf[LogsTailParams]()},
	{Name: "channels.status", Scope: ReadScope, Params: typeOf[ChannelsStatusParams]()},
	{Name: "channels.logout", Scope: AdminScope},
	{Name: "status", Scope: ReadScope},
	{Name: "usage.status", Scope: ReadScope},
	{Name: "usage.cost", Scope: ReadScope},
	{Name: "tts.status", Scope: ReadScope},
	{Name: "tts.providers", Scope: ReadScope},
	{Name: "tts.enable", Scope: WriteScope},
	{Name: "tts.disable", Scope: WriteScope},
	{Name: "tts.convert", Scope: WriteScope},
	{Name: "tts.setProvider", Scope: WriteScope},
	{Name: "config.get", Scope: AdminScope, Params: typeOf[EmptyParams]()},
	{Name: "config.set", Scope: AdminScope, Params: typeOf[ConfigSetParams]()},
	{Name: "config.apply", Scope: AdminScope, Params: typeOf[ConfigApplyParams]()},
	{Name: "config.patch", Scope: AdminScope, Params: typeOf[ConfigApplyParams]()},
	{Name: "config.schema", Scope: AdminScope, Params: typeOf[EmptyParams]()},
	{Name: "exec.approvals.get", Scope: AdminScope, Params: typeOf[EmptyParams]()},
	{Name: "exec.approvals.set", Scope: AdminScope, Params: typeOf[ExecApprovalsSetParams]()},
	{Name: "exec.approvals.node.get", Scope: AdminScope, Params: typeOf[ExecApprovalsNodeGetParams]()},
	{Name: "exec.approvals.node.set", Scope: AdminScope, Params: typeOf[ExecApprovalsNodeSetParams]()},
	{Name: "exec.approval.request", Scope: ApprovalsScope, Params: typeOf[ExecApprovalRequestParams]()},
	{Name: "exec.approval.resolve", Scope: ApprovalsScope, Params: typeOf[ExecApprovalResolveParams]()},
	{Name: "wizard.start", Scope: AdminScope, Params: typeOf[WizardStartParams]()},
	{Name: "wizard.next", Scope: AdminScope, Params: typeOf[WizardNextParams]()},
	{Name: "wizard.cancel", Scope: AdminScope, Params: typeOf[WizardSessionParams]()},
	{Name: "wizard.status", Scope: AdminScope, Params: typeOf[WizardSessionParams]()},
	{Name: "talk.mode", Scope: WriteScope, Params: typeOf[TalkModeParams]()},
	{Name: "models.list", Scope: ReadScope, Params: typeOf[EmptyParams]()},
	{Name: "agents.list", Scope: ReadScope, Params: typeOf[EmptyParams]()},
	{Name: "skills.status", Scope: ReadScope, Params: typeOf[EmptyParams]()},
	{Name: "skills.bins", Scope: NodeScope, Params: typeOf[EmptyParams]()},
	{Name: "skills.install", Scope: AdminScope, Params: typeOf[SkillsInstallParams]()},
	{Name: "skills.update", Scope: AdminScope, Params: typeOf[SkillsUpdateParams]()},
	{Name: "update.run", Scope: AdminScope, Params: typeOf[UpdateRunParams]()},
	{Name: "voicewake.get", Scope: ReadScope},
	{Name: "voicewake.set", Scope: WriteScope},
	{Name: "sessions.list", Scope: ReadScope, Params: typeOf[SessionsListParams]()},
	{Name: "sessions.preview", Scope: ReadScope, Params: typeOf[SessionsPreviewParams]()},
	{Name: "sessions.patch", Scope: AdminScope, Params: typeOf[SessionsPatchParams]()},
	{Name: "sessions.reset", Scope: AdminScope, Params: typeOf[SessionKeyParams]()},
	{Name: "sessions.delete", Scope: AdminScope, Params: typeOf[SessionsDeleteParams]()},
	{Name: "sessions.compact", Scope: AdminScope, Params: typeOf[SessionsCompactParams]()},
	{Name: "last-heartbeat", Scope: ReadScope},
	{Name: "set-heartbeats", Scope: AdminScope},
	{Name: "wake", Scope: WriteScope, Params: typeOf[WakeParams]()},
	{Name: "node.pair.request", Scope: PairingScope, Params: typeOf[NodePairRequestParams]()},
	{Name: "node.pair.list", Scope: PairingScope, Params: typeOf[EmptyParams]()},
	{Name: "node.pair.approve", Scope: PairingScope, Params: typeOf[RequestIDParams]()},
	{Name: "node.pair.reject", Scope: PairingScope, Params: typeOf[RequestIDParams]()},
	{Name: "node.pair.verify", Scope: PairingScope, Params: typeOf[NodePairVerifyParams]()},
	{Name: "device.pair.list", Scope: PairingScope, Params: typeOf[EmptyParams]()},
	{Name: "device.pair.approve", Scope: PairingScope, Params: typeOf[RequestIDParams]()},
	{Name: "device.pair.reject", Scope: PairingScope, Params: typeOf[RequestIDParams]()},
	{Name: "device.token.rotate", Scope: PairingScope, Params: typeOf[DeviceTokenRotateParams]()},
	{Name: "device.token.revoke", Scope: PairingScope, Params: typeOf[DeviceTokenRevokeParams]()},
	{Name: "node.rename", Scope: PairingScope, Params: typeOf[NodeRenameParams]()},
	{Name: "node.list", Scope: ReadScope, Params: typeOf[EmptyParams]()},
	{Name: "node.describe", Scope: ReadScope, Params: typeOf[NodeDescribeParams]()},
	{Name: "node.invoke", Scope: WriteScope, Params: typeOf[NodeInvokeParams]()},
	{Name: "node.invoke.result", Scope: NodeScope, Params: typeOf[NodeInvokeResultParams]()},
	{Name: "node.event", Scope: NodeScope, Params: typeOf[NodeEventParams]()},
	{Name: "cron.list", Scope: ReadScope, Params: typeOf[CronListParams]()},
	{Name: "cron.status", Scope: ReadScope, Params: typeOf[EmptyParams]()},
	{Name: "cron.add", Scope: AdminScope},
	{Name: "cron.update", Scope: AdminScope},
	{Name: "cron.remove", Scope: AdminScope},
	{Name: "cron.run", Scope: AdminScope},
	{Name: "cron.runs", Scope: ReadScope},
	{Name: "system-presence", Scope: ReadScope},
	{Name: "system-event", Scope: AdminScope},
	{Name: "send", Scope: WriteScope, Params: typeOf[SendParams]()},
	{Name: "agent", Scope: WriteScope, Params: typeOf[AgentParams]()},
	{Name: "agent.identity.get", Scope: ReadScope, Params: typeOf[AgentIdentityParams]()},
	{Name: "agent.wait", Scope: WriteScope, Params: typeOf[AgentWaitParams]()},
	{Name: "chat.history", Scope: ReadScope, Params: typeOf[ChatHistoryParams]()},
	{Name: "chat.abort", Scope: WriteScope, Params: typeOf[ChatAbortParams]()},
	{Name: "chat.send", Scope: WriteScope, Params: typeOf[ChatSendParams]()},
	// Hidden: handlers exist, not advertised, admin scope (doc/protocol.md §3.2).
	{Name: "connect", Scope: AdminScope, Hidden: true},
	{Name: "poll", Scope: AdminScope, Hidden: true},
	{Name: "chat.inject", Scope: AdminScope, Hidden: true, Params: typeOf[ChatInjectParams]()},
	{Name: "sessions.resolve", Scope: AdminScope, Hidden: true, Params: typeOf[SessionsResolveParams]()},
}

var methodIndex = func() map[string]*Method {
	m := make(map[string]*Method, len(methodTable))
	for i := range methodTable {
		mt := &methodTable[i]
		mt.Strict = mt.Params != nil
		m[mt.Name] = mt
	}
	return m
}()

// Methods returns every known method (advertised first, in advertised
// order, then hidden ones). The slice is a copy.
func Methods() []Method { return slices.Clone(methodTable) }

// LookupMethod returns the description of a method, or false when unknown.
func LookupMethod(name string) (Method, bool) {
	m, ok := methodIndex[name]
	if !ok {
		return Method{}, false
	}
	return *m, true
}

// AdvertisedMethods is features.methods of hello-ok before plugin methods,
// in the original's order.
func AdvertisedMethods() []string {
	out := make([]string, 0, len(methodTable))
	for _, m := range methodTable {
		if !m.Hidden {
			out = append(out, m.Name)
		}
	}
	return out
}

// MethodScope is the authorization class of a method; unknown methods need
// admin, so a non-admin calling one sees a scope error, not "unknown method".
func MethodScope(method string) Scope {
	if m, ok := methodIndex[method]; ok {
		return m.Scope
	}
	return AdminScope
}

// Event names (doc/protocol.md §4.2).
const (
	EventConnectChallenge      = "connect.challenge"
	EventAgent                 = "agent"
	EventChat                  = "chat"
	EventPresence              = "presence"
	EventTick                  = "tick"
	EventTalkMode              = "talk.mode"
	EventShutdown              = "shutdown"
	EventHealth                = "health"
	EventHeartbeat             = "heartbeat"
	EventCron                  = "cron"
	EventNodePairRequested     = "node.pair.requested"
	EventNodePairResolved      = "node.pair.resolved"
	EventNodeInvokeRequest     = "node.invoke.request"
	EventDevicePairRequested   = "device.pair.requested"
	EventDevicePairResolved    = "device.pair.resolved"
	EventVoicewakeChanged      = "voicewake.changed"
	EventExecApprovalRequested = "exec.approval.requested"
	EventExecApprovalResolved  = "exec.approval.resolved"
)

// AdvertisedEvents is features.events of hello-ok, in the original's order.
func AdvertisedEvents() []string {
	return []string{
		EventConnectChallenge, EventAgent, EventChat, EventPresence, EventTick, EventTalkMode,
		EventShutdown, EventHealth, EventHeartbeat, EventCron, EventNodePairRequested,
		EventNodePairResolved, EventNodeInvokeRequest, EventDevicePairRequested,
		EventDevicePairResolved, EventVoicewakeChanged, EventExecApprovalRequested,
		EventExecApprovalResolved,
	}
}

// EventScope is the operator scope, besides admin, a client needs to receive
// a broadcast event ("" = everyone, nodes included) (doc/protocol.md §3.1).
func EventScope(event string) string {
	switch event {
	case EventExecApprovalRequested, EventExecApprovalResolved:
		return ScopeApprovals
	case EventDevicePairRequested, EventDevicePairResolved, EventNodePairRequested, EventNodePairResolved:
		return ScopePairing
	}
	return ""
}

// CanReceiveEvent reports whether a client with role and scopes gets a
// broadcast of event.
func CanReceiveEvent(event, role string, scopes []string) bool {
	need := EventScope(event)
	if need == "" {
		return true
	}
	if role == RoleNode {
		return false
	}
	return slices.Contains(scopes, ScopeAdmin) || slices.Contains(scopes, need)
}

// Authorize applies doc/protocol.md §3.1 to one request: role and scope checks happen
// before the handler is looked up. It returns nil when allowed, else the
// INVALID_REQUEST error the original sends ("unauthorized role: node",
// "missing scope: operator.write", …). role "" means operator.
func Authorize(method, role string, scopes []string) *ErrorShape {
	scope := MethodScope(method)
	if scope == OpenScope {
		return nil
	}
	if role == "" {
		role = RoleOperator
	}
	switch role {
	case RoleNode:
		if scope != NodeScope {
			return NewError(ErrInvalidRequest, "unauthorized role: node")
		}
		return nil
	case RoleOperator:
		if scope == NodeScope {
			return NewError(ErrInvalidRequest, "unauthorized role: operator")
		}
	default:
		return NewError(ErrInvalidRequest, "unauthorized role: "+role)
	}
	if slices.Contains(scopes, ScopeAdmin) {
		return nil
	}
	var need string
	switch scope {
	case ApprovalsScope:
		need = ScopeApprovals
	case PairingScope:
		need = ScopePairing
	case ReadScope:
		if slices.Contains(scopes, ScopeRead) || slices.Contains(scopes, ScopeWrite) {
			return nil
		}
		return NewError(ErrInvalidRequest, "missing scope: "+ScopeRead)
	case WriteScope:
		need = ScopeWrite
	default:
		need = ScopeAdmin
	}
	if slices.Contains(scopes, need) {
		return nil
	}
	return NewError(ErrInvalidRequest, "missing scope: "+need)
}
