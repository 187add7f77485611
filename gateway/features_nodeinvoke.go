package gateway

import (
	"context"
	"encoding/json"

	"github.com/clawdbot/clawdbot/gateway/approvals"
	"github.com/clawdbot/clawdbot/gateway/nodes"
	"github.com/clawdbot/clawdbot/wire"
)

// nodeInvoker is the node registry as exec.approvals.node.* reach a node
// host: the registry's Invoke, without node.invoke's command allowlist —
// the original calls its registry directly for these, so a node host that
// did not declare system.execApprovals.* still gets the request and
// answers for itself.
type nodeInvoker struct{ r *nodes.Registry }

var _ approvals.NodeInvoker = nodeInvoker{}

func (n nodeInvoker) Invoke(ctx context.Context, nodeID, command string, params json.RawMessage) (approvals.NodeAnswer, *wire.ErrorShape) {
	res, e := n.r.Invoke(ctx, nodes.InvokeRequest{NodeID: nodeID, Command: command, Params: params})
	if e != nil {
		return approvals.NodeAnswer{}, e
	}
	return approvals.NodeAnswer{Payload: res.Payload, PayloadJSON: res.PayloadJSON}, nil
}
