package gateway

import (
	"sync"
	"time"
)

// liveNodes are the connected role-node clients, keyed by node id (device
// id, else client id), and the node.invoke calls waiting for their result.
type liveNodes struct {
	mu      sync.Mutex
	byID    map[string]*conn
	pending map[string]chan invokeResult
}

type invokeResult struct {
	nodeID string
	params nodeInvokeResultParams
	gone   bool // the node disconnected
}

func (l *liveNodes) init() {
	l.byID = map[string]*conn{}
	l.pending = map[string]chan invokeResult{}
}

func (l *liveNodes) add(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[c.nodeID] = c
}

func (l *liveNodes) remove(id string, c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID[id] == c {
		delete(l.byID, id)
	}
}

func (l *liveNodes) get(id string) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byID[id]
}

// nodePairStore is the legacy node-pairing store under <state>/nodes/.
type nodePairStore struct {
	dir string
	now func() time.Time
	mu  sync.Mutex
}

func newNodePairStore(stateDir string, now func() time.Time) *nodePairStore {
	return &nodePairStore{dir: stateDir, now: now}
}
