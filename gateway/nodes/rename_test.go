package nodes

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// node.rename changes the paired node's displayName in paired.json (where
// the original's node.pair.list reads it) and answers {nodeId, displayName};
// an unknown node and a blank name are INVALID_REQUEST with the original's
// messages.
func TestNodeRename(t *testing.T) {
	dir := t.TempDir()
	pairs := NewPairStore(dir, time.Now)
	reg := rpc.NewRegistry()
	Register(reg, Deps{Nodes: NewRegistry(), Pairs: pairs, Devices: fakeDevices{}, Broadcast: nopBroadcast{}, Now: time.Now})
	req := call(t, reg, "node.pair.request", map[string]any{"nodeId": "n1", "displayName": "old"})
	var r wire.NodePairRequestResult
	if err := json.Unmarshal(req, &r); err != nil {
		t.Fatal(err)
	}
	call(t, reg, "node.pair.approve", map[string]any{"requestId": r.Request.RequestID})

	got := call(t, reg, "node.rename", map[string]any{"nodeId": " n1 ", "displayName": "  Lab Mac  "})
	if string(got) != `{"nodeId":"n1","displayName":"Lab Mac"}` {
		t.Fatalf("node.rename = %s", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "nodes", "paired.json"))
	if err != nil || !strings.Contains(string(b), `"displayName": "Lab Mac"`) {
		t.Fatalf("paired.json = %s (%v)", b, err)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"nodeId": "nope", "displayName": "x"}, "unknown nodeId"},
		{map[string]any{"nodeId": "n1", "displayName": "   "}, "displayName required"},
	} {
		p, _ := json.Marshal(tc.params)
		_, e := reg.Lookup("node.rename").Handler(rpc.NewCall("node.rename", json.RawMessage(`"1"`), p, &rpc.Client{Role: wire.RoleOperator}, nil))
		if e == nil || e.Code != wire.ErrInvalidRequest || e.Message != tc.want {
			t.Errorf("%v: error = %+v, want INVALID_REQUEST %q", tc.params, e, tc.want)
		}
	}
}

// nopBroadcast drops the node.pair.* events; rename sends none.
type nopBroadcast struct{}

func (nopBroadcast) Broadcast(string, any, rpc.Delivery) {}
