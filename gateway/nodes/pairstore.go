package nodes

import (
	"crypto/subtle"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// pendingTTL is how long a pairing request waits for a decision.
const pendingTTL = 5 * time.Minute

// ErrUnknownRequest means no pending request has that id.
var ErrUnknownRequest = errors.New("unknown requestId")

// PairStore is the legacy node-pairing store under <state>/nodes/
// (pending.json keyed by request id, paired.json keyed by node id). The
// entries are the wire shapes themselves, as in the original: a pending
// entry is what node.pair.request returns and node.pair.requested carries,
// a paired entry is what node.pair.list shows.
type PairStore struct {
	dir    string
	now    func() time.Time
	mu     sync.Mutex
	loaded bool
	pend   map[string]*wire.NodePairRequest
	paired map[string]*wire.PairedNode
}

// NewPairStore returns the store under <stateDir>/nodes (in memory only
// when stateDir is ""); it is read at first use.
func NewPairStore(stateDir string, now func() time.Time) *PairStore {
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "nodes")
	}
	return &PairStore{dir: dir, now: now}
}

func (n *PairStore) loadLocked() error {
	if !n.loaded {
		n.pend = map[string]*wire.NodePairRequest{}
		n.paired = map[string]*wire.PairedNode{}
		if n.dir != "" {
			if err := statefile.Read(filepath.Join(n.dir, "pending.json"), &n.pend); err != nil {
				return err
			}
			if err := statefile.Read(filepath.Join(n.dir, "paired.json"), &n.paired); err != nil {
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

func (n *PairStore) saveLocked() error {
	if n.dir == "" {
		return nil
	}
	if err := statefile.Write(filepath.Join(n.dir, "pending.json"), n.pend); err != nil {
		return err
	}
	return statefile.Write(filepath.Join(n.dir, "paired.json"), n.paired)
}

func (n *PairStore) request(p wire.NodePairRequestParams) (wire.NodePairRequest, bool, error) {
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
		RequestID: rpc.NewID(), NodeID: p.NodeID, DisplayName: p.DisplayName, Platform: p.Platform,
		Version: p.Version, CoreVersion: p.CoreVersion, UIVersion: p.UIVersion, DeviceFamily: p.DeviceFamily,
		ModelIdentifier: p.ModelIdentifier, Caps: p.Caps, Commands: p.Commands, RemoteIP: p.RemoteIP,
		Silent: p.Silent, TS: n.now().UnixMilli(),
	}
	_, r.IsRepair = n.paired[p.NodeID]
	n.pend[r.RequestID] = r
	return *r, true, n.saveLocked()
}

func (n *PairStore) list() ([]wire.NodePairRequest, []wire.PairedNode, error) {
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

func (n *PairStore) approve(requestID string) (wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return wire.PairedNode{}, err
	}
	r := n.pend[requestID]
	if r == nil {
		return wire.PairedNode{}, ErrUnknownRequest
	}
	now := n.now().UnixMilli()
	p := &wire.PairedNode{
		NodeID: r.NodeID, Token: strings.ReplaceAll(rpc.NewID(), "-", ""), DisplayName: r.DisplayName,
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

func (n *PairStore) reject(requestID string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return "", err
	}
	r := n.pend[requestID]
	if r == nil {
		return "", ErrUnknownRequest
	}
	delete(n.pend, requestID)
	return r.NodeID, n.saveLocked()
}

// Verify returns the paired node when token is its token (constant time),
// nil when it is not.
func (n *PairStore) Verify(nodeID, token string) (*wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return nil, err
	}
	p := n.paired[nodeID]
	if p == nil || subtle.ConstantTimeCompare([]byte(token), []byte(p.Token)) != 1 {
		return nil, nil
	}
	cp := *p
	return &cp, nil
}

// Rename sets the display name of a paired node (node.rename); the node id
// is trimmed as the original normalises it. It returns nil for an unknown
// node.
func (n *PairStore) Rename(nodeID, displayName string) (*wire.PairedNode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.loadLocked(); err != nil {
		return nil, err
	}
	p := n.paired[strings.TrimSpace(nodeID)]
	if p == nil {
		return nil, nil
	}
	p.DisplayName = displayName
	if err := n.saveLocked(); err != nil {
		return nil, err
	}
	cp := *p
	return &cp, nil
}
