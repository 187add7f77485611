// Package rpc is what a gateway feature package needs to answer methods,
// and nothing more: the method Registry, the Call a handler receives (the
// caller's identity, its params, respond and error helpers with the wire
// codes) and the Broadcaster and Conn interfaces through which a feature
// reaches connected clients.
//
// A feature package (gateway/system, gateway/devices, ...) exposes
//
//	func Register(reg *rpc.Registry, deps Deps)
//
// where Deps holds its store and small interfaces for whatever else it
// needs. The core (package gateway) builds one Registry per runtime, calls
// every feature's Register, and dispatches each request frame through it
// after the frame, the caller's scopes (wire.Authorize) and the params
// (wire.ValidateParams) have been checked. A feature package imports rpc,
// never gateway; rpc imports only wire.
package rpc

import (
	"encoding/json"
	"errors"

	"github.com/clawdbot/clawdbot/wire"
)

// Handler runs one method call and returns its payload (encoded as the
// response's payload; nil is JSON null) or an error shape (ok:false).
type Handler func(c *Call) (any, *wire.ErrorShape)

// Method is one Registry entry.
type Method struct {
	// Name is the wire method name ("health", "node.invoke").
	Name string
	// Handler answers the call.
	Handler Handler
	// Async methods run on their own goroutine: they wait on something
	// else (another client, an agent run) and must not stall the reader of
	// the caller's connection. Other methods run inline, in frame order.
	Async bool
}

// Registry maps method names to handlers. Scope and role checks are not
// stored here: the method → scope table is part of the protocol and lives
// in wire (wire.Authorize), which the core applies before dispatch. A
// Registry is filled before the runtime that owns it serves, then only
// read, so lookups take no lock.
type Registry struct {
	methods map[string]*Method
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{methods: map[string]*Method{}} }

// Handle registers a method that runs inline on the caller's reader.
func (r *Registry) Handle(name string, h Handler) { r.add(&Method{Name: name, Handler: h}) }

// HandleAsync registers a method that runs on its own goroutine (see
// Method.Async).
func (r *Registry) HandleAsync(name string, h Handler) {
	r.add(&Method{Name: name, Handler: h, Async: true})
}

// add panics on a duplicate name: two features claiming one method is a
// programming error that every gateway start would hit, so it is caught
// by the first test that starts one.
func (r *Registry) add(m *Method) {
	if _, dup := r.methods[m.Name]; dup {
		panic("rpc: method registered twice: " + m.Name)
	}
	r.methods[m.Name] = m
}

// Lookup returns the method registered under name, or nil.
func (r *Registry) Lookup(name string) *Method { return r.methods[name] }

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool { return r.methods[name] != nil }

// Len is the number of registered methods.
func (r *Registry) Len() int { return len(r.methods) }

// Client is the identity of the connection a call came from, fixed at its
// connect and read-only afterwards.
type Client struct {
	// ConnID is the connection id (hello-ok.server.connId).
	ConnID string
	// Role is "operator" or "node"; Scopes are the granted scopes.
	Role   string
	Scopes []string
	// DeviceID is the verified device identity ("" without one).
	DeviceID string
	// NodeID is set for role node: the device id, else the client id.
	NodeID string
	// Info is the connect params' client block.
	Info wire.ClientInfo
	// Local is true for a loopback client (after trusted-proxy
	// resolution); RemoteIP is its address.
	Local    bool
	RemoteIP string
}

// Responder sends response frames on a connection; the core implements it.
type Responder interface {
	// Respond sends one res frame for request id.
	Respond(id json.RawMessage, payload any, e *wire.ErrorShape)
}

// Call is one request being handled.
type Call struct {
	// Method is the method name; Params the validated params ({} when the
	// frame had none).
	Method string
	Params json.RawMessage
	// Client is the caller.
	Client *Client

	id  json.RawMessage
	out Responder
}

// NewCall is used by the core's dispatcher (and by tests that drive a
// handler directly); out receives Respond's frames and may be nil when
// the handler never responds early.
func NewCall(method string, id, params json.RawMessage, client *Client, out Responder) *Call {
	return &Call{Method: method, Params: params, Client: client, id: id, out: out}
}

// ID is the request id, raw as the client sent it.
func (c *Call) ID() json.RawMessage { return c.id }

// Decode decodes the params into v, a pointer to the method's wire params
// type, with the schema's error messages.
func (c *Call) Decode(v any) *wire.ErrorShape {
	if err := wire.DecodeParams(c.Method, c.Params, v); err != nil {
		return AsError(err)
	}
	return nil
}

// Respond sends a response now, before the handler returns: the first
// stage of a two-stage answer (the original's agent method answers
// {status:"accepted"} at once and the final result later, with the same
// id). The handler's return value is still sent, as the next response.
func (c *Call) Respond(payload any, e *wire.ErrorShape) {
	if c.out != nil {
		c.out.Respond(c.id, payload, e)
	}
}

// NoReply, returned by a handler as its payload (with a nil error), tells
// the core that the handler already sent its only response with Respond:
// chat.send answers {status:"started"} before its run may broadcast any
// event (doc/messaging.md §2.3), so the ack cannot wait for the return.
var NoReply any = noReply{}

type noReply struct{}

// Error is an error shape with a wire code (wire.Err*).
func Error(code, msg string) *wire.ErrorShape { return &wire.ErrorShape{Code: code, Message: msg} }

// Invalid is INVALID_REQUEST: the caller asked for something wrong.
func Invalid(msg string) *wire.ErrorShape { return Error(wire.ErrInvalidRequest, msg) }

// Unavailable is UNAVAILABLE: the gateway could not do it now (a store
// failed, a node is gone, a timeout).
func Unavailable(msg string) *wire.ErrorShape { return Error(wire.ErrUnavailable, msg) }

// NotPaired is NOT_PAIRED: the device must be paired first.
func NotPaired(msg string) *wire.ErrorShape { return Error(wire.ErrNotPaired, msg) }

// AsError turns err into an error shape: err itself when it is one,
// else INVALID_REQUEST with its text.
func AsError(err error) *wire.ErrorShape {
	var es *wire.ErrorShape
	if errors.As(err, &es) {
		return es
	}
	return Invalid(err.Error())
}

// Delivery says how a broadcast event is delivered.
type Delivery struct {
	// StateVersion, when set, is carried in the frame (presence, health).
	StateVersion *wire.StateVersion
	// DropIfSlow skips a client whose backlog is over the buffer limit
	// instead of closing it as a slow consumer (presence, tick, pairing
	// events; health and shutdown must arrive).
	DropIfSlow bool
	// To, when set, limits the event to the clients it accepts.
	To func(*Client) bool
}

// Broadcaster sends events to the connected clients. Every broadcast
// takes the next process-wide seq; a client only gets events its role and
// scopes allow (wire.CanReceiveEvent).
type Broadcaster interface {
	Broadcast(event string, payload any, d Delivery)
}

// Conn is one connected client as a feature sees it: enough to send it an
// event of its own (node.invoke.request goes to one node, without seq).
type Conn interface {
	SendEvent(event string, payload any)
	// Identity is the client's identity (the same value Call.Client has
	// on its own calls).
	Identity() *Client
}

// NewID is a random UUIDv4, the shape of every generated id on the wire
// (connection, request, run ids).
func NewID() string { return wire.NewID() }
