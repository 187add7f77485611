//go:build !windows

package gateway

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/agent/tools/exec"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/wire"
)

func connectScopes(t *testing.T, s *Server, scopes ...string) *testClient {
	t.Helper()
	c := dial(t, s)
	p := connectParams(testToken)
	p["scopes"] = scopes
	c.Connect(p)
	return c
}

func TestExecApprovalsGetSetOverRPC(t *testing.T) {
	s := startServer(t, nil)
	admin := connectScopes(t, s, wire.ScopeAdmin)
	res := admin.Call("exec.approvals.get", map[string]any{})
	if res["ok"] != true {
		t.Fatalf("get = %v", res)
	}
	snap := res["payload"].(map[string]any)
	file := snap["file"].(map[string]any)
	if snap["exists"] != true || snap["path"] != filepath.Join(s.opts.StateDir, "exec-approvals.json") {
		t.Fatalf("snapshot = %v", snap)
	}
	if sock := file["socket"].(map[string]any); sock["token"] != nil {
		t.Fatalf("token not redacted: %v", sock)
	}
	set := func(hash any) map[string]any {
		p := map[string]any{"file": map[string]any{"version": 1, "agents": map[string]any{"main": map[string]any{
			"security": "allowlist", "allowlist": []any{map[string]any{"pattern": "/usr/bin/git"}}}}}}
		if hash != nil {
			p["baseHash"] = hash
		}
		return admin.Call("exec.approvals.set", p)
	}
	if _, msg := errOf(t, set(nil)); !strings.Contains(msg, "base hash required") {
		t.Fatalf("set without hash: %s", msg)
	}
	res = set(snap["hash"])
	if res["ok"] != true {
		t.Fatalf("set = %v", res)
	}
	got := res["payload"].(map[string]any)["file"].(map[string]any)["agents"].(map[string]any)["main"].(map[string]any)
	entry := got["allowlist"].([]any)[0].(map[string]any)
	if entry["pattern"] != "/usr/bin/git" || entry["id"] == "" {
		t.Fatalf("stored = %v", got)
	}
	// Schema: an unknown field is refused as the original's AJV would.
	bad := admin.Call("exec.approvals.set", map[string]any{"file": map[string]any{"version": 2}})
	if code, _ := errOf(t, bad); code != wire.ErrInvalidRequest {
		t.Fatalf("version 2 = %v", bad)
	}
	// An operator without admin cannot read the policy.
	approver := connectScopes(t, s, wire.ScopeApprovals)
	if _, msg := errOf(t, approver.Call("exec.approvals.get", map[string]any{})); !strings.Contains(msg, "operator.admin") {
		t.Fatalf("approvals scope read the policy: %s", msg)
	}
	// No node hosts here: honest UNAVAILABLE.
	if code, _ := errOf(t, admin.Call("exec.approvals.node.get", map[string]any{"nodeId": "n1"})); code != wire.ErrUnavailable {
		t.Fatalf("node.get code = %s", code)
	}
}

func TestExecApprovalRequestTimesOutAndResolves(t *testing.T) {
	s := startServer(t, nil)
	admin := connectScopes(t, s, wire.ScopeAdmin)
	res := admin.Call("exec.approval.request", map[string]any{"command": "ls", "timeoutMs": 50})
	p := res["payload"].(map[string]any)
	if res["ok"] != true || p["decision"] != nil || p["id"] == "" {
		t.Fatalf("timed-out request = %v", res)
	}
	if _, msg := errOf(t, admin.Call("exec.approval.resolve", map[string]any{"id": p["id"], "decision": "allow-once"})); msg != "unknown approval id" {
		t.Fatalf("resolve after timeout: %s", msg)
	}
	if _, msg := errOf(t, admin.Call("exec.approval.resolve", map[string]any{"id": "x", "decision": "maybe"})); msg != "invalid decision" {
		t.Fatalf("bad decision: %s", msg)
	}
}

// execHarness is the exec tool wired to the server's approvals manager the
// way the core wires it for agent runs.
func execHarness(t *testing.T, s *Server, approvalTimeout time.Duration) (*tools.Registry, string) {
	ws := t.TempDir()
	et, pt := exec.New(exec.Options{Approver: execApprover{m: s.f.approvals, timeout: approvalTimeout}})
	return tools.New(tools.Options{Workspace: ws, Extra: []tools.Tool{et, pt}}), ws
}

func runExec(reg *tools.Registry, command string) <-chan agent.ToolResult {
	out := make(chan agent.ToolResult, 1)
	go func() {
		args, _ := json.Marshal(map[string]any{"command": command})
		res, err := reg.Call(context.Background(), agent.Session{Key: "agent:main:main", AgentID: "main"},
			llm.Content{Type: llm.ContentToolCall, ID: "t1", Name: "exec", Arguments: args})
		if err != nil {
			res = agent.ToolResult{IsError: true, Content: []llm.Content{llm.Text(err.Error())}}
		}
		out <- res
	}()
	return out
}

func TestExecWaitsForOperatorDecisionOverRPC(t *testing.T) {
	for _, tc := range []struct {
		decision string
		ran      bool
	}{
		{wire.DecisionAllowOnce, true},
		{wire.DecisionAllowAlways, true},
		{wire.DecisionDeny, false},
	} {
		t.Run(tc.decision, func(t *testing.T) {
			s := startServer(t, nil)
			operator := connectScopes(t, s, wire.ScopeApprovals)
			reader := connectScopes(t, s, wire.ScopeRead)
			reg, ws := execHarness(t, s, 0)
			marker := filepath.Join(ws, "ran.txt")
			done := runExec(reg, "touch ran.txt")

			ev := operator.ReadEvent(wire.EventExecApprovalRequested)["payload"].(map[string]any)
			req := ev["request"].(map[string]any)
			if !strings.Contains(req["command"].(string), "touch ran.txt") || req["host"] != "gateway" || req["agentId"] != "main" {
				t.Fatalf("requested = %v", ev)
			}
			// Waiting: nothing started before the decision.
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Fatal("command ran before approval")
			}
			// The resolved event is broadcast before the response is sent.
			operator.Send(map[string]any{"type": "req", "id": "res1", "method": "exec.approval.resolve",
				"params": map[string]any{"id": ev["id"], "decision": tc.decision}})
			var resolved map[string]any
			for gotRes := false; !gotRes || resolved == nil; {
				f := operator.Read()
				switch {
				case f["type"] == "res" && f["id"] == "res1":
					if f["ok"] != true {
						t.Fatalf("resolve = %v", f)
					}
					gotRes = true
				case f["type"] == "event" && f["event"] == wire.EventExecApprovalResolved:
					resolved = f["payload"].(map[string]any)
				}
			}
			if resolved["decision"] != tc.decision || resolved["resolvedBy"] != "cli" {
				t.Fatalf("resolved = %v", resolved)
			}
			var out agent.ToolResult
			select {
			case out = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("exec did not finish after the decision")
			}
			_, err := os.Stat(marker)
			if ran := err == nil; ran != tc.ran || out.IsError == tc.ran {
				t.Fatalf("ran=%v isError=%v %+v", ran, out.IsError, out)
			}
			if !tc.ran && !strings.Contains(out.Content[0].Text, "user-denied") {
				t.Fatalf("denial = %q", out.Content[0].Text)
			}
			if tc.decision == wire.DecisionAllowAlways {
				f, _ := s.f.approvals.Store.Get()
				list := f.File.Agents["main"].Allowlist
				if len(list) != 1 || filepath.Base(list[0].Pattern) != "touch" {
					t.Fatalf("allowlist = %+v", list)
				}
				// Now allowlisted: runs without asking.
				os.Remove(marker)
				if r := <-runExec(reg, "touch ran.txt"); r.IsError {
					t.Fatalf("second run = %+v", r)
				}
			}
			// A read-only operator never saw the approval events.
			reader.Send(map[string]any{"type": "req", "id": "h1", "method": "health"})
			for {
				f := reader.Read()
				if f["type"] == "event" && strings.HasPrefix(f["event"].(string), "exec.approval") {
					t.Fatalf("read-only client got %v", f["event"])
				}
				if f["type"] == "res" && f["id"] == "h1" {
					break
				}
			}
		})
	}
}

func TestExecApprovalTimeoutDeniesWithoutProcess(t *testing.T) {
	s := startServer(t, nil)
	operator := connectScopes(t, s, wire.ScopeApprovals)
	reg, ws := execHarness(t, s, 50*time.Millisecond)
	out := <-runExec(reg, "touch late.txt")
	if !out.IsError || !strings.Contains(out.Content[0].Text, "approval-timeout") {
		t.Fatalf("result = %+v", out)
	}
	operator.ReadEvent(wire.EventExecApprovalRequested)
	if _, err := os.Stat(filepath.Join(ws, "late.txt")); !os.IsNotExist(err) {
		t.Fatal("command ran without approval")
	}
	if n := len(s.f.approvals.Pending()); n != 0 {
		t.Fatalf("%d requests still pending", n)
	}
}
