package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// NodeInvoker runs a command on a connected node and returns its answer
// (the core adapts the node registry). exec.approvals.node.* go through
// it: a node host keeps its own policy file. Its errors are the wire
// errors to answer with (UNAVAILABLE: not connected, disconnected, timed
// out, or the node's own error).
type NodeInvoker interface {
	Invoke(ctx context.Context, nodeID, command string, params json.RawMessage) (NodeAnswer, *wire.ErrorShape)
}

// NodeAnswer is a node's successful node.invoke.result.
type NodeAnswer struct {
	Payload     json.RawMessage
	PayloadJSON *string
}

// Deps are what the approvals methods need.
type Deps struct {
	// Manager is the process-wide manager (its Store is the policy file).
	Manager *Manager
	// Nodes reaches node hosts; nil: exec.approvals.node.* are unavailable.
	Nodes NodeInvoker
}

type handlers struct{ d Deps }

// Register adds the exec approval methods to reg.
func Register(reg *rpc.Registry, d Deps) {
	h := &handlers{d}
	reg.Handle("exec.approvals.get", h.get)
	reg.Handle("exec.approvals.set", h.set)
	reg.HandleAsync("exec.approvals.node.get", h.nodeGet)
	reg.HandleAsync("exec.approvals.node.set", h.nodeSet)
	reg.HandleAsync("exec.approval.request", h.request)
	reg.Handle("exec.approval.resolve", h.resolve)
}

func storeErr(err error) *wire.ErrorShape {
	var bh ErrBaseHash
	if errors.As(err, &bh) {
		return rpc.Invalid(bh.Error())
	}
	return rpc.Unavailable("exec approvals: " + err.Error())
}

func (h *handlers) get(c *rpc.Call) (any, *wire.ErrorShape) {
	snap, err := h.d.Manager.Store.Get()
	if err != nil {
		return nil, storeErr(err)
	}
	return snap, nil
}

func (h *handlers) set(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ExecApprovalsSetParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	snap, err := h.d.Manager.Store.Set(p.File, p.BaseHash)
	if err != nil {
		return nil, storeErr(err)
	}
	return snap, nil
}

// nodeCall asks node nodeID to run command with params. The node
// registry bounds the wait (30 s, the original's default, since the
// request names none).
func (h *handlers) nodeCall(nodeID, command string, params json.RawMessage) (NodeAnswer, *wire.ErrorShape) {
	id := strings.TrimSpace(nodeID)
	if id == "" {
		return NodeAnswer{}, rpc.Invalid("nodeId required")
	}
	if h.d.Nodes == nil {
		return NodeAnswer{}, rpc.Unavailable("node invoke unavailable")
	}
	return h.d.Nodes.Invoke(context.Background(), id, command, params)
}

// nodeGet answers the node's payload: payloadJSON parsed when set, else
// payload, as the original.
func (h *handlers) nodeGet(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ExecApprovalsNodeGetParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	a, e := h.nodeCall(p.NodeID, "system.execApprovals.get", json.RawMessage("{}"))
	if e != nil {
		return nil, e
	}
	if a.PayloadJSON != nil && *a.PayloadJSON != "" {
		return payloadOrNone(parsePayloadJSON(*a.PayloadJSON)), nil
	}
	return payloadOrNone(a.Payload), nil
}

// nodeSet forwards the file as the client sent it (after the schema
// check) with its baseHash; the answer is the node's payloadJSON parsed,
// as the original (a payload without payloadJSON answers nothing).
func (h *handlers) nodeSet(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ExecApprovalsNodeSetParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	var raw struct {
		File json.RawMessage `json:"file"`
	}
	if err := json.Unmarshal(c.Params, &raw); err != nil {
		return nil, rpc.Invalid("invalid exec.approvals.node.set params: " + err.Error())
	}
	fwd := map[string]json.RawMessage{"file": raw.File}
	if p.BaseHash != "" {
		fwd["baseHash"], _ = json.Marshal(p.BaseHash)
	}
	params, _ := json.Marshal(fwd)
	a, e := h.nodeCall(p.NodeID, "system.execApprovals.set", params)
	if e != nil {
		return nil, e
	}
	if a.PayloadJSON == nil {
		return nil, nil
	}
	return payloadOrNone(parsePayloadJSON(*a.PayloadJSON)), nil
}

// parsePayloadJSON is the original's safeParseJson: the JSON value s
// holds, {"payloadJSON": s} when it is not JSON, nil when blank.
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

// payloadOrNone is p, or nil for an answer without one (the original
// responds with an undefined payload).
func payloadOrNone(p json.RawMessage) any {
	if len(p) == 0 {
		return nil
	}
	return p
}

func nullable(n wire.NullableString) *string {
	if !n.Set || n.Null {
		return nil
	}
	v := n.Value
	return &v
}

// request is exec.approval.request: it answers when an operator decides or
// the timeout passes (decision null).
func (h *handlers) request(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ExecApprovalRequestParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	timeout := DefaultTimeout
	if p.TimeoutMs != nil {
		timeout = time.Duration(*p.TimeoutMs) * time.Millisecond
	}
	req := wire.ExecApprovalRequest{Command: p.Command, Cwd: nullable(p.Cwd), Host: nullable(p.Host),
		Security: nullable(p.Security), Ask: nullable(p.Ask), AgentID: nullable(p.AgentID),
		ResolvedPath: nullable(p.ResolvedPath), SessionKey: nullable(p.SessionKey)}
	rec, decision, err := h.d.Manager.Request(context.Background(), p.ID, req, timeout)
	if errors.Is(err, ErrDuplicateID) {
		return nil, rpc.Invalid(err.Error())
	}
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	out := wire.ExecApprovalRequestResult{ID: rec.ID, CreatedAtMs: rec.CreatedAtMs, ExpiresAtMs: rec.ExpiresAtMs}
	if decision != "" {
		out.Decision = &decision
	}
	return out, nil
}

func (h *handlers) resolve(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ExecApprovalResolveParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	if !ValidDecision(p.Decision) {
		return nil, rpc.Invalid("invalid decision")
	}
	by := ""
	if c.Client != nil {
		by = c.Client.Info.DisplayName
		if by == "" {
			by = c.Client.Info.ID
		}
	}
	if !h.d.Manager.Resolve(p.ID, p.Decision, by) {
		return nil, rpc.Invalid("unknown approval id")
	}
	return map[string]bool{"ok": true}, nil
}
