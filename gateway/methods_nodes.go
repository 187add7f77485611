package gateway

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

func (s *Server) registerNodeMethods(rt *runtime) {
	rt.register(&method{name: "node.list", handle: s.mNodeList})
	rt.register(&method{name: "node.describe", handle: s.mNodeDescribe})
	rt.register(&method{name: "node.invoke", handle: s.mNodeInvoke, async: true})
	rt.register(&method{name: "node.invoke.result", handle: s.mNodeInvokeResult})
	rt.register(&method{name: "node.event", handle: s.mNodeEvent})
	rt.register(&method{name: "node.pair.request", handle: s.mNodePairRequest})
	rt.register(&method{name: "node.pair.list", handle: s.mNodePairList})
	rt.register(&method{name: "node.pair.approve", handle: s.mNodePairApprove})
	rt.register(&method{name: "node.pair.reject", handle: s.mNodePairReject})
	rt.register(&method{name: "node.pair.verify", handle: s.mNodePairVerify})
}

// Platform command allowlists for node.invoke (spec §3.3).
var (
	canvasCmds = []string{"canvas.present", "canvas.hide", "canvas.navigate", "canvas.eval", "canvas.snapshot",
		"canvas.a2ui.push", "canvas.a2ui.pushJSONL", "canvas.a2ui.reset"}
	cameraCmds = []string{"camera.list", "camera.snap", "camera.clip"}
	mobileCmds = slices.Concat(canvasCmds, cameraCmds, []string{"screen.record", "location.get"})
	systemCmds = []string{"system.run", "system.which", "system.notify", "system.execApprovals.get",
		"system.execApprovals.set", "browser.proxy"}
)

func platformAllowlist(platform string) []string {
	p := strings.ToLower(platform)
	switch {
	case strings.HasPrefix(p, "ios") || strings.HasPrefix(p, "ipados"):
		return mobileCmds
	case strings.HasPrefix(p, "android"):
		return slices.Concat(mobileCmds, []string{"sms.send"})
	case strings.HasPrefix(p, "mac") || strings.HasPrefix(p, "darwin"):
		return slices.Concat(mobileCmds, systemCmds)
	case strings.HasPrefix(p, "linux") || strings.HasPrefix(p, "win"):
		return systemCmds
	}
	return slices.Concat(mobileCmds, []string{"sms.send"}, systemCmds)
}

// allowedCommands = platform defaults + gateway.nodes.allowCommands −
// gateway.nodes.denyCommands.
func (rt *runtime) allowedCommands(platform string) []string {
	out := slices.Concat(platformAllowlist(platform), rt.nodeAllow)
	return slices.DeleteFunc(out, func(c string) bool { return slices.Contains(rt.nodeDeny, c) })
}

func sortedUnique(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// liveNodeInfo is the node.list entry of a connected node.
func (s *Server) liveNodeInfo(c *conn) wire.NodeInfo {
	p := c.connect
	connectedAt := c.connectedAt
	n := wire.NodeInfo{
		NodeID: c.nodeID, DisplayName: p.Client.DisplayName, Platform: p.Client.Platform,
		Version: p.Client.Version, DeviceFamily: p.Client.DeviceFamily, ModelIdentifier: p.Client.ModelIdentifier,
		Caps: sortedUnique(p.Caps), Commands: sortedUnique(c.commands), PathEnv: p.PathEnv,
		Permissions: p.Permissions, ConnectedAtMs: &connectedAt, Connected: true,
	}
	if !c.local {
		n.RemoteIP = c.remote
	}
	n.Paired = c.deviceID != "" && s.devices.hasRole(c.deviceID, wire.RoleNode)
	return n
}

// listNodes merges the paired node devices with the connected nodes:
// connected first, then by name.
func (s *Server) listNodes() []wire.NodeInfo {
	byID := map[string]wire.NodeInfo{}
	for _, d := range s.devices.pairedWithRole(wire.RoleNode) {
		byID[d.DeviceID] = wire.NodeInfo{NodeID: d.DeviceID, DisplayName: d.DisplayName, Platform: d.Platform,
			RemoteIP: d.RemoteIP, Caps: []string{}, Commands: []string{}, Paired: true}
	}
	s.live.mu.Lock()
	live := make([]*conn, 0, len(s.live.byID))
	for _, c := range s.live.byID {
		live = append(live, c)
	}
	s.live.mu.Unlock()
	for _, c := range live {
		byID[c.nodeID] = s.liveNodeInfo(c)
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
		return name(out[i]) < name(out[j])
	})
	return out
}

func (s *Server) mNodeList(cl *call) (any, *wire.ErrorShape) {
	if e := cl.decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	return wire.NodeListResult{TS: s.now().UnixMilli(), Nodes: s.listNodes()}, nil
}

func (s *Server) mNodeDescribe(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodeDescribeParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	for _, n := range s.listNodes() {
		if n.NodeID == p.NodeID {
			return wire.NodeDescribeResult{TS: s.now().UnixMilli(), NodeInfo: n}, nil
		}
	}
	return nil, invalid("unknown nodeId")
}

func (s *Server) mNodeInvoke(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodeInvokeParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	node := s.live.get(p.NodeID)
	if node == nil {
		e := errShape(wire.ErrUnavailable, "node not connected")
		e.Details = map[string]string{"code": "NOT_CONNECTED"}
		return nil, e
	}
	reason := ""
	switch {
	case !slices.Contains(cl.c.rt.allowedCommands(node.connect.Client.Platform), p.Command):
		reason = "command not allowlisted"
	case len(node.commands) == 0:
		reason = "node did not declare commands"
	case !slices.Contains(node.commands, p.Command):
		reason = "command not declared by node"
	}
	if reason != "" {
		e := invalid("node command not allowed")
		e.Details = map[string]string{"reason": reason, "command": p.Command}
		return nil, e
	}
	timeout := int64(30000)
	if p.TimeoutMs != nil {
		timeout = *p.TimeoutMs
	}
	id := newID()
	ch := make(chan invokeResult, 1)
	s.live.mu.Lock()
	s.live.pending[id] = pendingInvoke{nodeID: p.NodeID, ch: ch}
	s.live.mu.Unlock()
	defer func() {
		s.live.mu.Lock()
		delete(s.live.pending, id)
		s.live.mu.Unlock()
	}()
	// The event goes to the node only, without seq; paramsJSON is null when
	// the call had no params.
	req := wire.NodeInvokeRequestEvent{ID: id, NodeID: p.NodeID, Command: p.Command, TimeoutMs: &timeout, IdempotencyKey: p.IdempotencyKey}
	if len(p.Params) > 0 {
		ps := string(p.Params)
		req.ParamsJSON = &ps
	}
	node.sendEvent(wire.EventNodeInvokeRequest, req)
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.gone {
			return nil, errShape(wire.ErrUnavailable, "node disconnected ("+p.Command+")")
		}
		if !r.params.OK {
			msg := "node invoke failed"
			if r.params.Error != nil && r.params.Error.Message != "" {
				msg = r.params.Error.Message
			}
			e := errShape(wire.ErrUnavailable, msg)
			e.Details = map[string]any{"nodeError": r.params.Error}
			return nil, e
		}
		res := wire.NodeInvokeResult{OK: true, NodeID: p.NodeID, Command: p.Command, PayloadJSON: r.params.PayloadJSON}
		if pj := r.params.PayloadJSON; pj != nil {
			// payload is payloadJSON parsed, or the string itself when it is
			// not JSON.
			if json.Valid([]byte(*pj)) {
				res.Payload = json.RawMessage(*pj)
			} else {
				res.Payload, _ = json.Marshal(*pj)
			}
		} else if len(r.params.Payload) > 0 {
			res.Payload = r.params.Payload
		}
		return res, nil
	case <-timer.C:
		e := errShape(wire.ErrUnavailable, "node invoke timed out")
		e.Details = map[string]any{"nodeError": map[string]string{"code": "TIMEOUT", "message": "node invoke timed out"}}
		return nil, e
	}
}

func (s *Server) mNodeInvokeResult(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodeInvokeResultParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	if p.NodeID != cl.c.nodeID {
		return nil, invalid("nodeId mismatch")
	}
	s.live.mu.Lock()
	pi, ok := s.live.pending[p.ID]
	s.live.mu.Unlock()
	if !ok || pi.nodeID != p.NodeID {
		ignored := true
		return wire.NodeInvokeResultAck{OK: true, Ignored: &ignored}, nil
	}
	select {
	case pi.ch <- invokeResult{params: p}:
	default:
	}
	return wire.NodeInvokeResultAck{OK: true}, nil
}

func (s *Server) mNodeEvent(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodeEventParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	// No agent or chat runtime yet: the events are accepted and logged, as
	// the original does for the kinds it does not act on.
	s.callLog.Info("node event", "node", cl.c.nodeID, "event", p.Event)
	return wire.OKResult{OK: true}, nil
}
