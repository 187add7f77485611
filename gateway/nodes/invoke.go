package nodes

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// DefaultInvokeTimeout is how long Invoke waits for a node's result when
// the request names no timeout (the original's 30 s).
const DefaultInvokeTimeout = 30 * time.Second

// MaxInvokeTimeout caps the wait a caller may ask for: the original has no
// cap, but a client-chosen duration must not hold a waiter forever.
const MaxInvokeTimeout = 10 * time.Minute

// InvokeRequest is one command for a connected node.
type InvokeRequest struct {
	NodeID, Command string
	// Params are the command's params (nil: paramsJSON is null).
	Params json.RawMessage
	// TimeoutMs bounds the wait (at most MaxInvokeTimeout) and is passed
	// on to the node (nil: the node is told none and the wait is
	// DefaultInvokeTimeout).
	TimeoutMs      *int64
	IdempotencyKey string
}

// InvokeResult is a node's successful answer, as its node.invoke.result
// carried it.
type InvokeResult struct {
	Payload     json.RawMessage
	PayloadJSON *string
}

// Parsed is the answer's payload as the original's callers take it:
// payloadJSON parsed when it is set, {"payloadJSON": text} when it is not
// JSON, else payload (nil: none).
func (r InvokeResult) Parsed() json.RawMessage {
	if r.PayloadJSON != nil && *r.PayloadJSON != "" {
		return parsePayloadJSON(*r.PayloadJSON)
	}
	return r.Payload
}

// parsePayloadJSON is the original's safeParseJson of a payloadJSON: the
// JSON value it holds, {"payloadJSON": s} when it is not JSON, nil when it
// is blank.
func parsePayloadJSON(s string) json.RawMessage {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil
	}
	if json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(map[string]string{"payloadJSON": s})
	return b
}

// Invoke sends r to its node as a node.invoke.request event and waits for
// the node's node.invoke.result. It does not apply the command policy
// (node.invoke does, before calling it). Every failure is UNAVAILABLE, as
// the original's callers answer it: the node is not connected or gone
// (details.nodeError.code NOT_CONNECTED), it disconnected meanwhile, it
// did not answer in time (TIMEOUT), it answered ok:false (its error as
// details.nodeError), or ctx ended.
func (l *Registry) Invoke(ctx context.Context, r InvokeRequest) (InvokeResult, *wire.ErrorShape) {
	node := l.get(r.NodeID)
	if node == nil {
		return InvokeResult{}, nodeError("NOT_CONNECTED", "node not connected")
	}
	id := rpc.NewID()
	ch, done := l.wait(id, r.NodeID)
	defer done()
	if l.get(r.NodeID) != node {
		// Gone between the lookup and the wait: Remove found no waiter.
		return InvokeResult{}, rpc.Unavailable("node disconnected (" + r.Command + ")")
	}
	// The event goes to the node only, without seq; paramsJSON is null when
	// the call had no params.
	req := wire.NodeInvokeRequestEvent{ID: id, NodeID: r.NodeID, Command: r.Command, TimeoutMs: r.TimeoutMs, IdempotencyKey: r.IdempotencyKey}
	if len(r.Params) > 0 {
		ps := string(r.Params)
		req.ParamsJSON = &ps
	}
	node.Conn.SendEvent(wire.EventNodeInvokeRequest, req)
	wait := DefaultInvokeTimeout
	if r.TimeoutMs != nil {
		wait = time.Duration(min(max(*r.TimeoutMs, 0), MaxInvokeTimeout.Milliseconds())) * time.Millisecond
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case res := <-ch:
		if res.gone {
			return InvokeResult{}, rpc.Unavailable("node disconnected (" + r.Command + ")")
		}
		if !res.params.OK {
			msg := "node invoke failed"
			if res.params.Error != nil && res.params.Error.Message != "" {
				msg = res.params.Error.Message
			}
			e := rpc.Unavailable(msg)
			e.Details = map[string]any{"nodeError": res.params.Error}
			return InvokeResult{}, e
		}
		return InvokeResult{Payload: res.params.Payload, PayloadJSON: res.params.PayloadJSON}, nil
	case <-timer.C:
		return InvokeResult{}, nodeError("TIMEOUT", "node invoke timed out")
	case <-ctx.Done():
		return InvokeResult{}, rpc.Unavailable("node invoke canceled: " + context.Cause(ctx).Error())
	}
}

// nodeError is UNAVAILABLE with the registry's own error as nodeError.
func nodeError(code, msg string) *wire.ErrorShape {
	e := rpc.Unavailable(msg)
	e.Details = map[string]any{"nodeError": map[string]string{"code": code, "message": msg}}
	return e
}
