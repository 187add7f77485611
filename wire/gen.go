package wire

import "reflect"

//go:generate go run ./internal/genschema schema

// SchemaTypes lists the non-params types that get a schema file under
// schema/ besides the params of every validated method: the frames, the
// handshake, and the outbound payloads (documentation and tests; the
// gateway does not validate what it sends).
func SchemaTypes() []reflect.Type {
	return []reflect.Type{
		typeOf[RequestFrame](), typeOf[ResponseFrame](), typeOf[EventFrame](), typeOf[ErrorShape](),
		typeOf[ConnectParams](), typeOf[HelloOk](), typeOf[PresenceEntry](), typeOf[ConnectChallenge](),
		typeOf[TickEvent](), typeOf[ShutdownEvent](), typeOf[PresenceEvent](),
		typeOf[AgentEvent](), typeOf[ChatEvent](), typeOf[NodeInvokeRequestEvent](),
		typeOf[DevicePairRequestedEvent](), typeOf[DevicePairResolvedEvent](),
		typeOf[NodePairResolvedEvent](), typeOf[HealthSummary](), typeOf[LogsTailResult](),
		typeOf[CronJob](), typeOf[CronEvent](), typeOf[CronRunLogEntry](), typeOf[HeartbeatEvent](),
	}
}
