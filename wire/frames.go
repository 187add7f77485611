package wire

import "encoding/json"

// ProtocolVersion is the protocol version this gateway speaks. A connect is
// accepted when minProtocol <= ProtocolVersion <= maxProtocol.
const ProtocolVersion = 3

// Policy defaults advertised in hello-ok (doc/protocol.md §1.6).
const (
	MaxPayloadBytes       = 512 * 1024  // inbound frame limit; larger frames close with 1009
	MaxBufferedBytes      = 1536 * 1024 // unsent backlog past which a client is cut off
	DefaultTickIntervalMs = 30000       // tick cadence; clients time out after 2x
	HandshakeTimeoutMs    = 10000       // first frame must be a successful connect by then
	ChallengeWaitMs       = 750         // how long clients wait for connect.challenge
	CloseReasonMaxBytes   = 120         // close reasons are cut to this length
)

// Frame type discriminators.
const (
	FrameReq   = "req"
	FrameRes   = "res"
	FrameEvent = "event"
)

// RequestFrame is a client-to-server request.
type RequestFrame struct {
	Type   string          `json:"type" jsonschema:"enum=req"`
	ID     string          `json:"id" jsonschema:"minLength=1"`
	Method string          `json:"method" jsonschema:"minLength=1"`
	Params json.RawMessage `json:"params,omitempty"`
}

// ResponseFrame answers a RequestFrame with the same ID.
type ResponseFrame struct {
	Type    string      `json:"type" jsonschema:"enum=res"`
	ID      string      `json:"id" jsonschema:"minLength=1"`
	OK      bool        `json:"ok"`
	Payload any         `json:"payload,omitempty"`
	Error   *ErrorShape `json:"error,omitempty"`
}

// EventFrame is a server-to-client event. Seq is the process-wide broadcast
// counter; it is absent on connect.challenge and node-directed frames.
type EventFrame struct {
	Type         string        `json:"type" jsonschema:"enum=event"`
	Event        string        `json:"event" jsonschema:"minLength=1"`
	Payload      any           `json:"payload,omitempty"`
	Seq          *int64        `json:"seq,omitempty" jsonschema:"minimum=0"`
	StateVersion *StateVersion `json:"stateVersion,omitempty"`
}

// StateVersion is attached to presence and health events; both counters are
// process-global and start at 1.
type StateVersion struct {
	Presence int64 `json:"presence" jsonschema:"minimum=0"`
	Health   int64 `json:"health" jsonschema:"minimum=0"`
}

// ErrorShape is the error object of a failed response.
type ErrorShape struct {
	Code         string `json:"code" jsonschema:"minLength=1"`
	Message      string `json:"message" jsonschema:"minLength=1"`
	Details      any    `json:"details,omitempty"`
	Retryable    *bool  `json:"retryable,omitempty"`
	RetryAfterMs *int64 `json:"retryAfterMs,omitempty" jsonschema:"minimum=0"`

	// cause lets errors.Is see what produced the shape (e.g.
	// ErrMalformedJSON); it is never sent.
	cause error
}

// Error makes an ErrorShape usable as a Go error.
func (e *ErrorShape) Error() string { return e.Code + ": " + e.Message }

// Unwrap exposes the Go error behind the shape, if any.
func (e *ErrorShape) Unwrap() error { return e.cause }

// NewError builds an ErrorShape with the given code and message.
func NewError(code, message string) *ErrorShape { return &ErrorShape{Code: code, Message: message} }

// NullPayload makes a ResponseFrame or EventFrame carry an explicit
// "payload":null (Payload is omitempty, so a nil any is left out). The
// original answers last-heartbeat with null before the first heartbeat.
var NullPayload = json.RawMessage("null")

// Error codes (doc/protocol.md §2.1).
const (
	ErrInvalidRequest = "INVALID_REQUEST"
	ErrUnavailable    = "UNAVAILABLE"
	ErrNotPaired      = "NOT_PAIRED"
	ErrNotLinked      = "NOT_LINKED"
	ErrAgentTimeout   = "AGENT_TIMEOUT"
)

// WebSocket close codes used by the gateway and its clients (doc/protocol.md §2.2).
const (
	CloseNormal          = 1000 // handshake timeout, malformed JSON before connect
	CloseProtocolError   = 1002 // protocol mismatch
	ClosePolicyViolation = 1008 // handshake/auth/pairing failures, slow consumer
	CloseMessageTooBig   = 1009 // inbound frame over MaxPayloadBytes
	CloseServiceRestart  = 1012 // gateway stop or restart
	CloseTickTimeout     = 4000 // client-side: no tick for 2x tickIntervalMs
	CloseConnectFailed   = 4008 // Control UI: browsers refuse to send 1008
)

// TruncateCloseReason cuts a close reason to CloseReasonMaxBytes without
// splitting a UTF-8 sequence; an empty reason becomes "invalid handshake".
func TruncateCloseReason(reason string) string {
	if reason == "" {
		return "invalid handshake"
	}
	if len(reason) <= CloseReasonMaxBytes {
		return reason
	}
	cut := CloseReasonMaxBytes
	for cut > 0 && reason[cut]&0xC0 == 0x80 { // continuation byte: back up
		cut--
	}
	return reason[:cut]
}

// RawResponseFrame is a ResponseFrame whose payload is kept as raw JSON, for
// clients that decode the payload into a method-specific type. The id is
// raw too: the original echoes a non-string id of an invalid frame as is.
type RawResponseFrame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *ErrorShape     `json:"error,omitempty"`
}

// RawEventFrame is an EventFrame whose payload is kept as raw JSON.
type RawEventFrame struct {
	Type         string          `json:"type"`
	Event        string          `json:"event"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	Seq          *int64          `json:"seq,omitempty"`
	StateVersion *StateVersion   `json:"stateVersion,omitempty"`
}
