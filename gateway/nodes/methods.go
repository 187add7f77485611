package nodes

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// PairedDevice is a device paired with role node, as node.list shows it
// before (or without) a connection.
type PairedDevice struct {
	DeviceID, DisplayName, Platform, RemoteIP string
}

// Devices is what node.list needs from the device pairing store.
type Devices interface {
	// HasRole reports whether a paired device holds role.
	HasRole(id, role string) bool
	// NodeDevices lists the devices paired with role node.
	NodeDevices() []PairedDevice
}

// Deps are what the node methods need.
type Deps struct {
	// Nodes is the process-wide registry of connected nodes (NewRegistry).
	Nodes *Registry
	// Pairs is the process-wide node-pairing store (NewPairStore).
	Pairs *PairStore
	// Devices is the device pairing store.
	Devices Devices
	// Policy is the runtime's command policy.
	Policy Policy
	// Broadcast sends node.pair.requested and node.pair.resolved.
	Broadcast rpc.Broadcaster
	// Now is the clock of ts fields.
	Now func() time.Time
	// Log receives node events.
	Log *slog.Logger
}

// Register adds node.list, node.describe, node.invoke (async: it waits on
// the node), node.invoke.result, node.event, node.pair.* and node.rename.
func Register(reg *rpc.Registry, d Deps) {
	h := &handlers{d: d}
	reg.Handle("node.list", h.list)
	reg.Handle("node.describe", h.describe)
	reg.HandleAsync("node.invoke", h.invoke)
	reg.Handle("node.invoke.result", h.invokeResult)
	reg.Handle("node.event", h.event)
	reg.Handle("node.pair.request", h.pairRequest)
	reg.Handle("node.pair.list", h.pairList)
	reg.Handle("node.pair.approve", h.pairApprove)
	reg.Handle("node.pair.reject", h.pairReject)
	reg.Handle("node.pair.verify", h.pairVerify)
	reg.Handle("node.rename", h.rename)
}

type handlers struct{ d Deps }

func sortedUnique(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// liveInfo is the node.list entry of a connected node.
func (h *handlers) liveInfo(n *Node) wire.NodeInfo {
	p := n.Connect
	who := n.Conn.Identity()
	connectedAt := n.ConnectedAtMs
	info := wire.NodeInfo{
		NodeID: who.NodeID, DisplayName: p.Client.DisplayName, Platform: p.Client.Platform,
		Version: p.Client.Version, DeviceFamily: p.Client.DeviceFamily, ModelIdentifier: p.Client.ModelIdentifier,
		Caps: sortedUnique(p.Caps), Commands: sortedUnique(n.Commands), PathEnv: p.PathEnv,
		Permissions: p.Permissions, ConnectedAtMs: &connectedAt, Connected: true,
	}
	// The original reports the client address for every node, loopback
	// included (unlike presence, which leaves it out for local clients).
	info.RemoteIP = who.RemoteIP
	info.Paired = who.DeviceID != "" && h.d.Devices.HasRole(who.DeviceID, wire.RoleNode)
	return info
}

// listNodes merges the paired node devices with the connected nodes:
// connected first, then by name.
func (h *handlers) listNodes() []wire.NodeInfo {
	byID := map[string]wire.NodeInfo{}
	for _, d := range h.d.Devices.NodeDevices() {
		byID[d.DeviceID] = wire.NodeInfo{NodeID: d.DeviceID, DisplayName: d.DisplayName, Platform: d.Platform,
			RemoteIP: d.RemoteIP, Caps: []string{}, Commands: []string{}, Paired: true}
	}
	for _, n := range h.d.Nodes.connected() {
		live := h.liveInfo(n)
		// The live session wins; what it does not say comes from the
		// pairing record, as in the original (live ?? paired).
		if paired, ok := byID[live.NodeID]; ok {
			live.DisplayName = cmp.Or(live.DisplayName, paired.DisplayName)
			live.Platform = cmp.Or(live.Platform, paired.Platform)
			live.RemoteIP = cmp.Or(live.RemoteIP, paired.RemoteIP)
		}
		byID[live.NodeID] = live
	}
	out := make([]wire.NodeInfo, 0, len(byID))
	for _, n := range byID {
		out = append(out, n)
	}
	name := func(n wire.NodeInfo) string {
		if n.DisplayName != "" {
			return strings.ToLower(n.DisplayName)
		}
		return strings.ToLower(n.NodeID)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Connected != out[j].Connected {
			return out[i].Connected
		}
		if a, b := name(out[i]), name(out[j]); a != b {
			return a < b
		}
		return out[i].NodeID < out[j].NodeID
	})
	return out
}

func (h *handlers) list(c *rpc.Call) (any, *wire.ErrorShape) {
	if e := c.Decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	return wire.NodeListResult{TS: h.d.Now().UnixMilli(), Nodes: h.listNodes()}, nil
}

func (h *handlers) describe(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodeDescribeParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	for _, n := range h.listNodes() {
		if n.NodeID == p.NodeID {
			return wire.NodeDescribeResult{TS: h.d.Now().UnixMilli(), NodeInfo: n}, nil
		}
	}
	return nil, rpc.Invalid("unknown nodeId")
}

func (h *handlers) invoke(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodeInvokeParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	node := h.d.Nodes.get(p.NodeID)
	if node == nil {
		e := rpc.Unavailable("node not connected")
		e.Details = map[string]string{"code": "NOT_CONNECTED"}
		return nil, e
	}
	reason := ""
	switch {
	case !slices.Contains(h.d.Policy.Allowed(node.Connect.Client.Platform), p.Command):
		reason = "command not allowlisted"
	case len(node.Commands) == 0:
		reason = "node did not declare commands"
	case !slices.Contains(node.Commands, p.Command):
		reason = "command not declared by node"
	}
	if reason != "" {
		e := rpc.Invalid("node command not allowed")
		e.Details = map[string]string{"reason": reason, "command": p.Command}
		return nil, e
	}
	r, e := h.d.Nodes.Invoke(context.Background(), InvokeRequest{NodeID: p.NodeID, Command: p.Command, Params: p.Params,
		TimeoutMs: p.TimeoutMs, IdempotencyKey: p.IdempotencyKey})
	if e != nil {
		return nil, e
	}
	return wire.NodeInvokeResult{OK: true, NodeID: p.NodeID, Command: p.Command, Payload: r.Parsed(), PayloadJSON: r.PayloadJSON}, nil
}

func (h *handlers) invokeResult(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodeInvokeResultParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	if p.NodeID != c.Client.NodeID {
		return nil, rpc.Invalid("nodeId mismatch")
	}
	if !h.d.Nodes.deliver(p) {
		ignored := true
		return wire.NodeInvokeResultAck{OK: true, Ignored: &ignored}, nil
	}
	return wire.NodeInvokeResultAck{OK: true}, nil
}

func (h *handlers) event(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodeEventParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	// No agent or chat runtime yet: the events are accepted and logged, as
	// the original does for the kinds it does not act on.
	h.d.Log.Info("node event", "node", c.Client.NodeID, "event", p.Event)
	return wire.OKResult{OK: true}, nil
}

// node.pair.* (operator.pairing).

func storeErr(err error) *wire.ErrorShape {
	if errors.Is(err, ErrUnknownRequest) {
		return rpc.Invalid("unknown requestId")
	}
	return rpc.Unavailable(err.Error())
}

func (h *handlers) pairRequest(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodePairRequestParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	r, created, err := h.d.Pairs.request(p)
	if err != nil {
		return nil, storeErr(err)
	}
	if created {
		h.d.Broadcast.Broadcast(wire.EventNodePairRequested, r, rpc.Delivery{DropIfSlow: true})
	}
	return wire.NodePairRequestResult{Status: "pending", Request: r, Created: created}, nil
}

func (h *handlers) pairList(c *rpc.Call) (any, *wire.ErrorShape) {
	if e := c.Decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	pend, paired, err := h.d.Pairs.list()
	if err != nil {
		return nil, storeErr(err)
	}
	return wire.NodePairListResult{Pending: pend, Paired: paired}, nil
}

func (h *handlers) pairApprove(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	node, err := h.d.Pairs.approve(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	h.d.Broadcast.Broadcast(wire.EventNodePairResolved, wire.NodePairResolvedEvent{RequestID: p.RequestID, NodeID: node.NodeID, Decision: wire.DecisionApproved, TS: h.d.Now().UnixMilli()}, rpc.Delivery{DropIfSlow: true})
	return wire.NodePairApproveResult{RequestID: p.RequestID, Node: node}, nil
}

func (h *handlers) pairReject(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	nodeID, err := h.d.Pairs.reject(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	h.d.Broadcast.Broadcast(wire.EventNodePairResolved, wire.NodePairResolvedEvent{RequestID: p.RequestID, NodeID: nodeID, Decision: wire.DecisionRejected, TS: h.d.Now().UnixMilli()}, rpc.Delivery{DropIfSlow: true})
	return wire.NodePairRejectResult{RequestID: p.RequestID, NodeID: nodeID}, nil
}

func (h *handlers) pairVerify(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodePairVerifyParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	node, err := h.d.Pairs.Verify(p.NodeID, p.Token)
	if err != nil {
		return nil, storeErr(err)
	}
	return wire.NodePairVerifyResult{OK: node != nil, Node: node}, nil
}

// rename is node.rename: the display name of a node in the legacy pairing
// store (paired.json), as the original's renamePairedNode. It sends no
// event, as the original.
func (h *handlers) rename(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.NodeRenameParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	name := strings.TrimSpace(p.DisplayName)
	if name == "" {
		return nil, rpc.Invalid("displayName required")
	}
	node, err := h.d.Pairs.Rename(p.NodeID, name)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	if node == nil {
		return nil, rpc.Invalid("unknown nodeId")
	}
	return wire.NodeRenameResult{NodeID: node.NodeID, DisplayName: node.DisplayName}, nil
}
