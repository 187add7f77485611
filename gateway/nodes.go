package gateway

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// liveNodes are the connected role-node clients, keyed by node id (device
// id, else client id), and the node.invoke calls waiting for their result.
type liveNodes struct {
	mu      sync.Mutex
	byID    map[string]*conn
	pending map[string]pendingInvoke
}

type pendingInvoke struct {
	nodeID string
	ch     chan invokeResult
}

type invokeResult struct {
	params wire.NodeInvokeResultParams
	gone   bool // the node disconnected
}

func (l *liveNodes) init() {
	l.byID = map[string]*conn{}
	l.pending = map[string]pendingInvoke{}
}

func (l *liveNodes) add(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[c.nodeID] = c
}

// remove drops a node connection and fails the invokes waiting on it.
func (l *liveNodes) remove(id string, c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID[id] != c {
		return
	}
	delete(l.byID, id)
	for _, p := range l.pending {
		if p.nodeID == id {
			select {
			case p.ch <- invokeResult{gone: true}:
			default:
			}
		}
	}
}

func (l *liveNodes) get(id string) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byID[id]
}

// hasRole reports whether a paired device holds role.
func (d *deviceStore) hasRole(id, role string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return false
	}
	p := d.paired[id]
	return p != nil && (p.Role == role || slices.Contains(p.Roles, role))
}

// pairedWithRole lists the paired devices holding role.
func (d *deviceStore) pairedWithRole(role string) []pairedDevice {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loadLocked() != nil {
		return nil
	}
	var out []pairedDevice
	for _, p := range d.paired {
		if p.Role == role || slices.Contains(p.Roles, role) {
			out = append(out, *p)
		}
	}
	return out
}

// nodePairStore is the legacy node-pairing store under <state>/nodes/
// (pending.json keyed by request id, paired.json keyed by node id). The
// entries are the wire shapes themselves, as in the original: a pending
// entry is what node.pair.request returns and node.pair.requested carries,
// a paired entry is what node.pair.list shows.
type nodePairStore struct {
	dir    string
	now    func() time.Time
	mu     sync.Mutex
	loaded bool
	pend   map[string]*wire.NodePairRequest
	paired map[string]*wire.PairedNode
}

func newNodePairStore(stateDir string, now func() time.Time) *nodePairStore {
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "nodes")
	}
	return &nodePairStore{dir: dir, now: now}
}

func (n *nodePairStore) loadLocked() error {
	if !n.loaded {
		n.pend = map[string]*wire.NodePairRequest{}
		n.paired = map[string]*wire.PairedNode{}
		if n.dir != "" {
			if err := readJSONFile(filepath.Join(n.dir, "pending.json"), &n.pend); err != nil {
				return err
			}
			if err := readJSONFile(filepath.Join(n.dir, "paired.json"), &n.paired); err != nil {
				return err
			}
		}
		n.loaded = true
	}
	cutoff := n.now().Add(-pendingTTL).UnixMilli()
	for k, p := range n.pend {
		if p.TS < cutoff {
			delete(n.pend, k)
		}
	}
	return nil
}

func (n *nodePairStore) saveLocked() error {
	if n.dir == "" {
		return nil
	}
	if err := writeJSONFile(filepath.Join(n.dir, "pending.json"), n.pend); err != nil {
		return err
	}
	return writeJSONFile(filepath.Join(n.dir, "paired.json"), n.paired)
}

func (n *nodePairStore) request(p wire.NodePairRequestParams) (wire.NodePairRequest, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return wire.NodePairRequest{}, false, err
	}
	for _, r := range n.pend {
		if r.NodeID == p.NodeID {
			return *r, false, nil
		}
	}
	r := &wire.NodePairRequest{
		RequestID: newID(), NodeID: p.NodeID, DisplayName: p.DisplayName, Platform: p.Platform,
		Version: p.Version, CoreVersion: p.CoreVersion, UIVersion: p.UIVersion, DeviceFamily: p.DeviceFamily,
		ModelIdentifier: p.ModelIdentifier, Caps: p.Caps, Commands: p.Commands, RemoteIP: p.RemoteIP,
		Silent: p.Silent, TS: n.now().UnixMilli(),
	}
	_, r.IsRepair = n.paired[p.NodeID]
	n.pend[r.RequestID] = r
	return *r, true, n.saveLocked()
}

func (n *nodePairStore) list() ([]wire.NodePairRequest, []wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return nil, nil, err
	}
	pend := make([]wire.NodePairRequest, 0, len(n.pend))
	for _, r := range n.pend {
		pend = append(pend, *r)
	}
	sort.Slice(pend, func(i, j int) bool { return pend[i].TS > pend[j].TS })
	paired := make([]wire.PairedNode, 0, len(n.paired))
	for _, p := range n.paired {
		paired = append(paired, *p)
	}
	sort.Slice(paired, func(i, j int) bool { return paired[i].ApprovedAtMs > paired[j].ApprovedAtMs })
	return pend, paired, nil
}

func (n *nodePairStore) approve(requestID string) (wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return wire.PairedNode{}, err
	}
	r := n.pend[requestID]
	if r == nil {
		return wire.PairedNode{}, errUnknownRequest
	}
	now := n.now().UnixMilli()
	p := &wire.PairedNode{
		NodeID: r.NodeID, Token: strings.ReplaceAll(newID(), "-", ""), DisplayName: r.DisplayName,
		Platform: r.Platform, Version: r.Version, CoreVersion: r.CoreVersion, UIVersion: r.UIVersion,
		DeviceFamily: r.DeviceFamily, ModelIdentifier: r.ModelIdentifier, Caps: r.Caps, Commands: r.Commands,
		RemoteIP: r.RemoteIP, CreatedAtMs: now, ApprovedAtMs: now,
	}
	if old := n.paired[r.NodeID]; old != nil {
		p.CreatedAtMs = old.CreatedAtMs
	}
	n.paired[r.NodeID] = p
	delete(n.pend, requestID)
	return *p, n.saveLocked()
}

func (n *nodePairStore) reject(requestID string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return "", err
	}
	r := n.pend[requestID]
	if r == nil {
		return "", errUnknownRequest
	}
	delete(n.pend, requestID)
	return r.NodeID, n.saveLocked()
}

func (n *nodePairStore) verify(nodeID, token string) (*wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return nil, err
	}
	p := n.paired[nodeID]
	if p == nil || !secretEqual(token, p.Token) {
		return nil, nil
	}
	cp := *p
	return &cp, nil
}

// node.pair.* handlers (operator.pairing).

func storeErr(err error) *wire.ErrorShape {
	if err == errUnknownRequest {
		return invalid("unknown requestId")
	}
	return errShape(wire.ErrUnavailable, err.Error())
}

func (s *Server) mNodePairRequest(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodePairRequestParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	r, created, err := s.nodes.request(p)
	if err != nil {
		return nil, storeErr(err)
	}
	if created {
		s.broadcast(wire.EventNodePairRequested, r, nil, true)
	}
	return wire.NodePairRequestResult{Status: "pending", Request: r, Created: created}, nil
}

func (s *Server) mNodePairList(cl *call) (any, *wire.ErrorShape) {
	if e := cl.decode(&wire.EmptyParams{}); e != nil {
		return nil, e
	}
	pend, paired, err := s.nodes.list()
	if err != nil {
		return nil, storeErr(err)
	}
	return wire.NodePairListResult{Pending: pend, Paired: paired}, nil
}

func (s *Server) mNodePairApprove(cl *call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	node, err := s.nodes.approve(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	s.broadcast(wire.EventNodePairResolved, wire.NodePairResolvedEvent{RequestID: p.RequestID, NodeID: node.NodeID, Decision: wire.DecisionApproved, TS: s.now().UnixMilli()}, nil, true)
	return wire.NodePairApproveResult{RequestID: p.RequestID, Node: node}, nil
}

func (s *Server) mNodePairReject(cl *call) (any, *wire.ErrorShape) {
	var p wire.RequestIDParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	nodeID, err := s.nodes.reject(p.RequestID)
	if err != nil {
		return nil, storeErr(err)
	}
	s.broadcast(wire.EventNodePairResolved, wire.NodePairResolvedEvent{RequestID: p.RequestID, NodeID: nodeID, Decision: wire.DecisionRejected, TS: s.now().UnixMilli()}, nil, true)
	return wire.NodePairRejectResult{RequestID: p.RequestID, NodeID: nodeID}, nil
}

func (s *Server) mNodePairVerify(cl *call) (any, *wire.ErrorShape) {
	var p wire.NodePairVerifyParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	node, err := s.nodes.verify(p.NodeID, p.Token)
	if err != nil {
		return nil, storeErr(err)
	}
	return wire.NodePairVerifyResult{OK: node != nil, Node: node}, nil
}
