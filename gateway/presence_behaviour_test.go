package gateway

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawdbot/clawdbot/gateway/presence"
)

func presenceByKey(t *testing.T, list []any, field, value string) map[string]any {
	t.Helper()
	for _, e := range list {
		if m := e.(map[string]any); m[field] == value {
			return m
		}
	}
	return nil
}

// system-event parses the beacon text as the original does (doc/protocol.md §6): all
// parts required, "last input <N>s ago" becomes lastInputSeconds; a text
// without that shape is keyed by itself and adds no host.
func TestSystemEventBeacon(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	beacon := "Node: Mac-Studio (192.168.1.5) · app 2026.1.24 · last input 42s ago · mode ui · reason periodic"
	// The presence event comes before the res, as in the capture.
	c.Send(map[string]any{"type": "req", "id": "se", "method": "system-event", "params": map[string]any{"text": beacon}})
	ev := c.ReadEvent("presence")
	if res := c.ReadRes(); res["ok"] != true {
		t.Fatalf("system-event = %v", res)
	}
	e := presenceByKey(t, ev["payload"].(map[string]any)["presence"].([]any), "text", beacon)
	if e == nil || e["host"] != "Mac-Studio" || e["ip"] != "192.168.1.5" || e["version"] != "2026.1.24" ||
		e["lastInputSeconds"] != float64(42) || e["mode"] != "ui" || e["reason"] != "periodic" {
		t.Fatalf("beacon entry = %v", e)
	}
	// No "last input": not a beacon in the original's eyes.
	partial := "Node: lab (10.0.0.9) · app 1.2 · mode ui · reason launch"
	c.Send(map[string]any{"type": "req", "id": "se2", "method": "system-event", "params": map[string]any{"text": partial}})
	c.ReadRes()
	list := c.Call("system-presence", nil)["payload"].([]any)
	e = presenceByKey(t, list, "text", partial)
	if e == nil || e["host"] != nil || e["ip"] != nil || e["mode"] != nil {
		t.Fatalf("partial beacon entry = %v", e)
	}
}

// A client connected longer than the presence TTL without a beacon drops
// out of the list; its disconnect then recreates the entry, which still has
// text (the original's default "Node: unknown · mode unknown").
func TestDisconnectAfterPresenceExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	s := startServer(t, func(o *Options) { o.Now = clk.Now })
	obs := dial(t, s)
	obs.Connect(connectParams(testToken))
	ui := dial(t, s)
	p := connectParams(testToken)
	p["client"] = map[string]any{"id": "gateway-client", "mode": "ui", "platform": "linux", "version": "1", "instanceId": "quiet-1"}
	ui.Connect(p)
	clk.Add(presence.TTL + time.Second)
	if l := obs.Call("system-presence", nil)["payload"].([]any); len(l) != 1 {
		t.Fatalf("expired entry still listed: %v", l)
	}
	ui.WS.Close(websocket.StatusNormalClosure, "")
	ev := obs.ReadEvent("presence")
	e := presenceByKey(t, ev["payload"].(map[string]any)["presence"].([]any), "reason", "disconnect")
	if e == nil || e["text"] != "Node: unknown · mode unknown" {
		t.Fatalf("disconnect entry = %v", e)
	}
}

// A reconnect replaces the connect fields (a field the client no longer
// sends is gone), unions roles and scopes, and leaves no ip for a local
// client (doc/protocol.md §6).
func TestReconnectReplacesPresenceFields(t *testing.T) {
	s := startServer(t, nil)
	obs := dial(t, s)
	obs.Connect(connectParams(testToken))
	connect := func(client map[string]any, scopes []string) *testClient {
		c := dial(t, s)
		p := connectParams(testToken)
		p["client"] = client
		p["scopes"] = scopes
		c.Connect(p)
		return c
	}
	c1 := connect(map[string]any{"id": "clawdbot-macos", "mode": "ui", "platform": "macos", "version": "1", "deviceFamily": "Mac", "instanceId": "Inst-R"}, []string{"operator.read"})
	c1.WS.Close(websocket.StatusNormalClosure, "")
	obs.ReadEvent("presence")
	connect(map[string]any{"id": "clawdbot-macos", "mode": "ui", "platform": "macos", "version": "2", "instanceId": "Inst-R"}, []string{"operator.write"})
	list := obs.Call("system-presence", nil)["payload"].([]any)
	e := presenceByKey(t, list, "instanceId", "Inst-R")
	if e == nil || e["deviceFamily"] != nil || e["version"] != "2" || e["reason"] != "connect" || e["ip"] != nil {
		t.Fatalf("reconnected entry = %v", e)
	}
	if sc := e["scopes"].([]any); len(sc) != 2 {
		t.Fatalf("scopes not unioned: %v", e)
	}
}
