// Package nodes is the node side of the gateway: the registry of connected
// role-node clients and the node.invoke calls waiting on them, the command
// allowlist (platform defaults ± gateway.nodes.*), the legacy node-pairing
// store under <state>/nodes/, and the node.* and node.pair.* methods.
package nodes

import (
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Node is one connected role-node client, registered by the handshake.
type Node struct {
	// Conn is its connection (identity, and where node.invoke.request goes).
	Conn rpc.Conn
	// Connect is its connect params.
	Connect *wire.ConnectParams
	// Commands are its declared commands filtered to the allowlist.
	Commands []string
	// ConnectedAtMs is when its handshake completed.
	ConnectedAtMs int64
}

// ID is the node id: the device id, else the client id.
func (n *Node) ID() string { return n.Conn.Identity().NodeID }

// Registry holds the connected nodes, keyed by node id, and the
// node.invoke calls waiting for their result. One per gateway process.
type Registry struct {
	mu      sync.Mutex
	byID    map[string]*Node
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

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byID: map[string]*Node{}, pending: map[string]pendingInvoke{}}
}

// Add registers a connected node; a reconnect under the same id replaces
// the previous connection.
func (l *Registry) Add(n *Node) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[n.ID()] = n
}

// Remove drops the node connection c registered under id (a newer
// connection under the same id stays) and fails the invokes waiting on it.
func (l *Registry) Remove(id string, c rpc.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.byID[id]; n == nil || n.Conn != c {
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

// get is the connected node with id, or nil.
func (l *Registry) get(id string) *Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byID[id]
}

// connected lists the connected nodes.
func (l *Registry) connected() []*Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Node, 0, len(l.byID))
	for _, n := range l.byID {
		out = append(out, n)
	}
	return out
}

// wait registers an invoke id waiting on nodeID; done unregisters it.
func (l *Registry) wait(id, nodeID string) (ch chan invokeResult, done func()) {
	ch = make(chan invokeResult, 1)
	l.mu.Lock()
	l.pending[id] = pendingInvoke{nodeID: nodeID, ch: ch}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.pending, id)
		l.mu.Unlock()
	}
}

// deliver hands a node.invoke.result to the invoke waiting on it; false
// when none waits (unknown id, or another node's).
func (l *Registry) deliver(p wire.NodeInvokeResultParams) bool {
	l.mu.Lock()
	pi, ok := l.pending[p.ID]
	l.mu.Unlock()
	if !ok || pi.nodeID != p.NodeID {
		return false
	}
	select {
	case pi.ch <- invokeResult{params: p}:
	default:
	}
	return true
}

// HasMobileNode reports whether an iOS, iPadOS or Android node is
// connected: talk mode needs one when a webchat client asks for it.
func (l *Registry) HasMobileNode() bool {
	for _, n := range l.connected() {
		p := strings.ToLower(strings.TrimSpace(n.Connect.Client.Platform))
		if strings.HasPrefix(p, "ios") || strings.HasPrefix(p, "ipados") || strings.HasPrefix(p, "android") {
			return true
		}
	}
	return false
}
