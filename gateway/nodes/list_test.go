package nodes

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// fakeConn is a connected node's connection: node.list only reads its
// identity, so nothing here needs a socket.
type fakeConn struct{ who rpc.Client }

func (c *fakeConn) SendEvent(string, any) {}
func (c *fakeConn) Identity() *rpc.Client { return &c.who }
func (d fakeDevices) HasRole(id, _ string) bool {
	return slices.ContainsFunc(d, func(p PairedDevice) bool { return p.DeviceID == id })
}
func (d fakeDevices) NodeDevices() []PairedDevice { return d }

// fakeDevices stands in for the device pairing store (its own tests cover
// it); here only its node records matter.
type fakeDevices []PairedDevice

func call(t *testing.T, reg *rpc.Registry, method string, params any) json.RawMessage {
	t.Helper()
	p, _ := json.Marshal(params)
	res, e := reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), p, &rpc.Client{Role: wire.RoleOperator}, nil))
	if e != nil {
		t.Fatalf("%s: %v", method, e.Message)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// node.list and node.describe carry what the original's do: remoteIp for
// every live node (loopback included), and, for a paired node that is
// connected, the pairing record's displayName, platform and remoteIp where
// the live session has none (live ?? paired); ties sort by nodeId.
func TestNodeListFields(t *testing.T) {
	reg := rpc.NewRegistry()
	nodes := NewRegistry()
	devs := fakeDevices{
		{DeviceID: "dev-paired", DisplayName: "Lab Pi", Platform: "linux", RemoteIP: "10.0.0.7"},
		{DeviceID: "dev-offline", DisplayName: "same", RemoteIP: "10.0.0.8"},
	}
	Register(reg, Deps{Nodes: nodes, Devices: devs, Now: time.Now})
	nodes.Add(&Node{
		Conn:    &fakeConn{who: rpc.Client{Role: wire.RoleNode, DeviceID: "dev-paired", NodeID: "dev-paired", Local: true, RemoteIP: "127.0.0.1"}},
		Connect: &wire.ConnectParams{Client: wire.ClientInfo{ID: "node-host", Mode: "node", Version: "1"}}, ConnectedAtMs: 1,
	})
	nodes.Add(&Node{
		Conn:    &fakeConn{who: rpc.Client{Role: wire.RoleNode, NodeID: "node-host", Local: true, RemoteIP: "127.0.0.1"}},
		Connect: &wire.ConnectParams{Client: wire.ClientInfo{ID: "node-host", DisplayName: "same", Mode: "node", Platform: "macos"}}, ConnectedAtMs: 2,
	})
	var list wire.NodeListResult
	if err := json.Unmarshal(call(t, reg, "node.list", map[string]any{}), &list); err != nil {
		t.Fatal(err)
	}
	byID := map[string]wire.NodeInfo{}
	var order []string
	for _, n := range list.Nodes {
		byID[n.NodeID] = n
		order = append(order, n.NodeID)
	}
	if want := []string{"dev-paired", "node-host", "dev-offline"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	p := byID["dev-paired"]
	if p.RemoteIP != "127.0.0.1" || p.DisplayName != "Lab Pi" || p.Platform != "linux" || !p.Paired || !p.Connected {
		t.Errorf("paired live node = %+v", p)
	}
	if n := byID["node-host"]; n.RemoteIP != "127.0.0.1" || n.Paired {
		t.Errorf("unpaired live node = %+v", n)
	}
	if o := byID["dev-offline"]; o.RemoteIP != "10.0.0.8" || o.Connected {
		t.Errorf("offline paired node = %+v", o)
	}
	var d wire.NodeDescribeResult
	if err := json.Unmarshal(call(t, reg, "node.describe", map[string]any{"nodeId": "node-host"}), &d); err != nil {
		t.Fatal(err)
	}
	if d.RemoteIP != "127.0.0.1" || d.TS == 0 {
		t.Errorf("describe = %+v", d)
	}
}
