package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/clawdbot/clawdbot/wire"
)

// exec.approvals.node.get/set on a real gateway: a node host is a client
// with role node on a real WebSocket (what the original's node host
// does, played by the test), an operator asks for its approvals file,
// the request reaches the node as node.invoke.request and the node's
// node.invoke.result is the operator's answer.

// connectNodeHost connects a role-node client with id nodeID (one of the
// protocol's client ids) that declares commands.
func connectNodeHost(t *testing.T, s *Server, nodeID string, commands ...string) *testClient {
	t.Helper()
	node := dial(t, s)
	np := connectParams(testToken)
	np["role"] = "node"
	np["client"] = map[string]any{"id": nodeID, "mode": "node", "platform": "linux", "version": "1"}
	np["commands"] = append([]string{}, commands...)
	delete(np, "scopes")
	node.Connect(np)
	return node
}

// operatorWith connects an operator with scopes.
func operatorWith(t *testing.T, s *Server, scopes ...string) *testClient {
	t.Helper()
	c := dial(t, s)
	p := connectParams(testToken)
	p["scopes"] = scopes
	c.Connect(p)
	return c
}

func TestExecApprovalsNodeGetSet(t *testing.T) {
	fileJSON := `{"version":1,"agents":{"main":{"security":"allowlist","allowlist":[{"pattern":"/usr/bin/git"}]}}}`
	snapJSON := `{"path":"/home/n/.clawdbot/exec-approvals.json","exists":true,"hash":"abc","file":` + fileJSON + `}`
	var file map[string]any
	_ = json.Unmarshal([]byte(fileJSON), &file)
	for _, tc := range []struct {
		name   string
		method string
		params map[string]any
		// wantCommand and wantParams are what the node must be asked.
		wantCommand, wantParams string
		// answer is the node's node.invoke.result fields (nil: it
		// disconnects instead).
		answer map[string]any
		// wantPayload is the operator's payload (JSON; "" none), or
		// wantErr the error message and wantNodeErr its nodeError code.
		wantPayload, wantErr, wantNodeErr string
	}{
		{name: "get", method: "exec.approvals.node.get", params: map[string]any{"nodeId": "node-host"},
			wantCommand: "system.execApprovals.get", wantParams: `{}`,
			answer: map[string]any{"ok": true, "payloadJSON": snapJSON}, wantPayload: snapJSON},
		{name: "get answered with payload", method: "exec.approvals.node.get", params: map[string]any{"nodeId": "node-host"},
			wantCommand: "system.execApprovals.get", wantParams: `{}`,
			answer: map[string]any{"ok": true, "payload": json.RawMessage(snapJSON)}, wantPayload: snapJSON},
		{name: "get answered with text", method: "exec.approvals.node.get", params: map[string]any{"nodeId": "node-host"},
			wantCommand: "system.execApprovals.get", wantParams: `{}`,
			answer: map[string]any{"ok": true, "payloadJSON": "not json"}, wantPayload: `{"payloadJSON":"not json"}`},
		{name: "set", method: "exec.approvals.node.set", params: map[string]any{"nodeId": "node-host", "file": file, "baseHash": "abc"},
			wantCommand: "system.execApprovals.set", wantParams: `{"baseHash":"abc","file":` + fileJSON + `}`,
			answer: map[string]any{"ok": true, "payloadJSON": snapJSON}, wantPayload: snapJSON},
		{name: "set answered without payloadJSON", method: "exec.approvals.node.set", params: map[string]any{"nodeId": "node-host", "file": file},
			wantCommand: "system.execApprovals.set", wantParams: `{"file":` + fileJSON + `}`,
			answer: map[string]any{"ok": true, "payload": json.RawMessage(snapJSON)}, wantPayload: ""},
		{name: "node refuses", method: "exec.approvals.node.get", params: map[string]any{"nodeId": "node-host"},
			wantCommand: "system.execApprovals.get", wantParams: `{}`,
			answer:  map[string]any{"ok": false, "error": map[string]any{"code": "UNAVAILABLE", "message": "unknown command: system.execApprovals.get"}},
			wantErr: "unknown command: system.execApprovals.get", wantNodeErr: "UNAVAILABLE"},
		{name: "node fails without a message", method: "exec.approvals.node.set", params: map[string]any{"nodeId": "node-host", "file": file},
			wantCommand: "system.execApprovals.set", wantParams: `{"file":` + fileJSON + `}`,
			answer: map[string]any{"ok": false}, wantErr: "node invoke failed"},
		{name: "node disconnects", method: "exec.approvals.node.get", params: map[string]any{"nodeId": "node-host"},
			wantCommand: "system.execApprovals.get", wantParams: `{}`, wantErr: "node disconnected (system.execApprovals.get)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, nil)
			op := operatorWith(t, s, wire.ScopeAdmin)
			// The node declares nothing: the original does not check the
			// allowlist for these, the node host answers for itself.
			node := connectNodeHost(t, s, "node-host")
			done := make(chan map[string]any, 1)
			go func() { done <- op.Call(tc.method, tc.params) }()

			req := node.ReadEvent(wire.EventNodeInvokeRequest)["payload"].(map[string]any)
			if req["command"] != tc.wantCommand || req["nodeId"] != "node-host" {
				t.Fatalf("node asked %v", req)
			}
			var got, want any
			_ = json.Unmarshal([]byte(req["paramsJSON"].(string)), &got)
			_ = json.Unmarshal([]byte(tc.wantParams), &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("paramsJSON = %s, want %s", req["paramsJSON"], tc.wantParams)
			}
			if _, has := req["timeoutMs"]; has {
				t.Fatalf("request names a timeout the caller did not: %v", req)
			}
			if tc.answer == nil {
				node.WS.CloseNow()
			} else {
				res := map[string]any{"id": req["id"], "nodeId": "node-host"}
				for k, v := range tc.answer {
					res[k] = v
				}
				if ack := node.Call("node.invoke.result", res); ack["ok"] != true {
					t.Fatalf("node.invoke.result = %v", ack)
				}
			}
			res := <-done
			if tc.wantErr != "" {
				code, msg := errOf(t, res)
				if code != wire.ErrUnavailable || msg != tc.wantErr {
					t.Fatalf("error %s %q, want UNAVAILABLE %q", code, msg, tc.wantErr)
				}
				details, _ := res["error"].(map[string]any)["details"].(map[string]any)
				ne, _ := details["nodeError"].(map[string]any)
				if tc.wantNodeErr != "" && (ne == nil || ne["code"] != tc.wantNodeErr) {
					t.Fatalf("details = %v", res["error"])
				}
				return
			}
			if res["ok"] != true {
				t.Fatalf("res = %v", res)
			}
			if tc.wantPayload == "" {
				// The original's undefined payload; the core sends null.
				if p := res["payload"]; p != nil {
					t.Fatalf("payload %v, want none", p)
				}
				return
			}
			var wantP any
			_ = json.Unmarshal([]byte(tc.wantPayload), &wantP)
			if !reflect.DeepEqual(res["payload"], wantP) {
				t.Fatalf("payload = %v, want %s", res["payload"], tc.wantPayload)
			}
		})
	}
}

func TestExecApprovalsNodeRefusals(t *testing.T) {
	s := startServer(t, nil)
	admin := operatorWith(t, s, wire.ScopeAdmin)
	reader := operatorWith(t, s, wire.ScopeRead)
	for _, tc := range []struct {
		name     string
		c        *testClient
		method   string
		params   map[string]any
		code     string
		msg      string
		nodeCode string
	}{
		{"not connected", admin, "exec.approvals.node.get", map[string]any{"nodeId": "gone"}, wire.ErrUnavailable, "node not connected", "NOT_CONNECTED"},
		{"set not connected", admin, "exec.approvals.node.set", map[string]any{"nodeId": "gone", "file": map[string]any{"version": 1}}, wire.ErrUnavailable, "node not connected", "NOT_CONNECTED"},
		{"blank nodeId", admin, "exec.approvals.node.get", map[string]any{"nodeId": "  "}, wire.ErrInvalidRequest, "nodeId required", ""},
		{"file of the wrong version", admin, "exec.approvals.node.set", map[string]any{"nodeId": "n", "file": map[string]any{"version": 2}}, wire.ErrInvalidRequest, "", ""},
		{"needs admin", reader, "exec.approvals.node.get", map[string]any{"nodeId": "n"}, wire.ErrInvalidRequest, "missing scope: operator.admin", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.c.Call(tc.method, tc.params)
			code, msg := errOf(t, res)
			if code != tc.code || tc.msg != "" && msg != tc.msg {
				t.Fatalf("error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
			if tc.nodeCode != "" {
				details, _ := res["error"].(map[string]any)["details"].(map[string]any)
				ne, _ := details["nodeError"].(map[string]any)
				if ne["code"] != tc.nodeCode || ne["message"] != tc.msg {
					t.Fatalf("details = %v", res["error"])
				}
			}
		})
	}
}

// node.invoke shares Registry.Invoke: a node that does not answer times
// out with the original's TIMEOUT nodeError, the timeout the caller named
// is passed on, and a payloadJSON that is not JSON comes back wrapped as
// the original's safeParseJson wraps it.
func TestNodeInvokeTimeoutAndTextPayload(t *testing.T) {
	s := startServer(t, nil)
	op := operatorWith(t, s, wire.ScopeAdmin)
	node := connectNodeHost(t, s, "node-host", "system.run")

	done := make(chan map[string]any, 1)
	go func() {
		done <- op.Call("node.invoke", map[string]any{"nodeId": "node-host", "command": "system.run", "timeoutMs": 50, "idempotencyKey": "k1"})
	}()
	req := node.ReadEvent(wire.EventNodeInvokeRequest)["payload"].(map[string]any)
	if req["timeoutMs"] != float64(50) || req["paramsJSON"] != nil {
		t.Fatalf("request = %v", req)
	}
	res := <-done
	code, msg := errOf(t, res)
	ne, _ := res["error"].(map[string]any)["details"].(map[string]any)["nodeError"].(map[string]any)
	if code != wire.ErrUnavailable || msg != "node invoke timed out" || ne["code"] != "TIMEOUT" {
		t.Fatalf("timeout = %v", res)
	}
	// A late result is acknowledged as ignored.
	if ack := node.Call("node.invoke.result", map[string]any{"id": req["id"], "nodeId": "node-host", "ok": true}); ack["payload"].(map[string]any)["ignored"] != true {
		t.Fatalf("late result = %v", ack)
	}

	go func() {
		done <- op.Call("node.invoke", map[string]any{"nodeId": "node-host", "command": "system.run", "idempotencyKey": "k2"})
	}()
	req = node.ReadEvent(wire.EventNodeInvokeRequest)["payload"].(map[string]any)
	if _, has := req["timeoutMs"]; has {
		t.Fatalf("request names a timeout the caller did not: %v", req)
	}
	node.Call("node.invoke.result", map[string]any{"id": req["id"], "nodeId": "node-host", "ok": true, "payloadJSON": "plain text"})
	res = <-done
	p := res["payload"].(map[string]any)
	if p["payloadJSON"] != "plain text" || p["payload"].(map[string]any)["payloadJSON"] != "plain text" {
		t.Fatalf("invoke = %v", res)
	}
}
