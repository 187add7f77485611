//go:build !windows

package exec_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/agent/tools/exec"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// approver is a scripted Approver: it records requests and answers with
// verdict, or blocks until ctx ends when block is set.
type approver struct {
	mu      sync.Mutex
	reqs    []exec.ApprovalRequest
	verdict exec.Verdict
	block   bool
}

func (a *approver) Approve(ctx context.Context, r exec.ApprovalRequest) exec.Verdict {
	a.mu.Lock()
	a.reqs = append(a.reqs, r)
	block, v := a.block, a.verdict
	a.mu.Unlock()
	if block {
		<-ctx.Done()
		return exec.Verdict{Reason: "exec denied: aborted"}
	}
	return v
}

func allow() *approver { return &approver{verdict: exec.Verdict{Allowed: true}} }

var lastProcs *exec.Processes

func newRegistry(t *testing.T, ap exec.Approver, maxOut int) (*tools.Registry, string) {
	t.Helper()
	ws := t.TempDir()
	lastProcs = exec.NewProcesses(nil)
	et, pt := exec.New(exec.Options{Approver: ap, MaxOutputChars: maxOut, Processes: lastProcs})
	reg := tools.New(tools.Options{Workspace: ws, Extra: []tools.Tool{et, pt}, MaxOutputChars: 1 << 20})
	return reg, ws
}

var sess = agent.Session{Key: "agent:main:main", AgentID: "main", SessionID: "s1"}

func call(t *testing.T, reg *tools.Registry, ctx context.Context, name string, args any) agent.ToolResult {
	t.Helper()
	b, _ := json.Marshal(args)
	res, err := reg.Call(ctx, sess, llm.Content{Type: llm.ContentToolCall, ID: "c1", Name: name, Arguments: b})
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	return res
}

func text(r agent.ToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

func TestDeniedCommandStartsNoProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		ap   exec.Approver
	}{
		{"denied", &approver{verdict: exec.Verdict{Reason: "exec denied (id=x, user-denied)"}}},
		{"no approver", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, ws := newRegistry(t, tc.ap, 0)
			res := call(t, reg, context.Background(), "exec", map[string]any{"command": "touch created.txt"})
			if !res.IsError || !strings.Contains(text(res), "exec denied") {
				t.Fatalf("result = %+v", res)
			}
			if _, err := os.Stat(filepath.Join(ws, "created.txt")); !os.IsNotExist(err) {
				t.Fatalf("a denied command ran: %v", err)
			}
		})
	}
}

func TestAllowedCommandRunsInWorkspaceWithEnv(t *testing.T) {
	ap := allow()
	reg, ws := newRegistry(t, ap, 0)
	os.Mkdir(filepath.Join(ws, "sub"), 0o755)
	res := call(t, reg, context.Background(), "exec", map[string]any{"command": `pwd; echo "$FOO"; touch made.txt`,
		"workdir": "sub", "env": map[string]string{"FOO": "bar"}})
	if res.IsError {
		t.Fatalf("result = %+v", res)
	}
	real, _ := filepath.EvalSymlinks(filepath.Join(ws, "sub"))
	if got := text(res); !strings.Contains(got, real) || !strings.Contains(got, "bar") {
		t.Fatalf("output = %q", got)
	}
	if _, err := os.Stat(filepath.Join(ws, "sub", "made.txt")); err != nil {
		t.Fatal(err)
	}
	if len(ap.reqs) != 1 || ap.reqs[0].Command == "" || ap.reqs[0].Cwd != real || ap.reqs[0].Security != "allowlist" || ap.reqs[0].Ask != "on-miss" {
		t.Fatalf("approval request = %+v", ap.reqs)
	}
}

func TestWorkdirOutsideWorkspaceRefused(t *testing.T) {
	ap := allow()
	reg, ws := newRegistry(t, ap, 0)
	os.Symlink("/", filepath.Join(ws, "root"))
	for _, wd := range []string{"..", "/etc", "root", "root/etc"} {
		res := call(t, reg, context.Background(), "exec", map[string]any{"command": "true", "workdir": wd})
		if !res.IsError || !strings.Contains(text(res), "outside the workspace") {
			t.Errorf("workdir %q: %+v", wd, res)
		}
	}
	if len(ap.reqs) != 0 {
		t.Fatalf("approver asked for a refused workdir: %+v", ap.reqs)
	}
}

func TestForbiddenEnvRefused(t *testing.T) {
	reg, _ := newRegistry(t, allow(), 0)
	res := call(t, reg, context.Background(), "exec", map[string]any{"command": "true", "env": map[string]string{"BASH_ENV": "/tmp/x"}})
	if !res.IsError || !strings.Contains(text(res), "BASH_ENV") {
		t.Fatalf("result = %+v", res)
	}
}

func TestNeverEndingCommandIsKilledAtTimeout(t *testing.T) {
	reg, ws := newRegistry(t, allow(), 0)
	start := time.Now()
	res := call(t, reg, context.Background(), "exec", map[string]any{
		"command": "(sleep 30; touch late.txt) & sleep 30", "timeout": 0.5, "yieldMs": 60000})
	if !res.IsError || !strings.Contains(text(res), "timed out after 0.5 seconds") {
		t.Fatalf("result = %+v", res)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	// The whole group died: the background child never gets to touch.
	if _, err := os.Stat(filepath.Join(ws, "late.txt")); !os.IsNotExist(err) {
		t.Fatal("a child of the timed-out command survived")
	}
}

func TestFloodingCommandIsCapped(t *testing.T) {
	reg, _ := newRegistry(t, allow(), 10_000)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// ~200 MB of output.
	res := call(t, reg, context.Background(), "exec", map[string]any{
		"command": "head -c 200000000 /dev/zero | tr '\\0' 'x'; echo; echo END", "yieldMs": 120000})
	if res.IsError {
		t.Fatalf("result = %.300s", text(res))
	}
	got := text(res)
	if len(got) > 12_000 || !strings.Contains(got, "bytes of output omitted") || !strings.HasSuffix(got, "END") {
		t.Fatalf("output not capped head+tail: len %d, %q...%q", len(got), got[:100], got[len(got)-100:])
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 50<<20 {
		t.Fatalf("heap grew by %d bytes", grown)
	}
}

func TestAbortKillsRunningCommand(t *testing.T) {
	reg, _ := newRegistry(t, allow(), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan agent.ToolResult, 1)
	procs := lastProcs
	go func() { done <- call(t, reg, ctx, "exec", map[string]any{"command": "sleep 30", "yieldMs": 60000}) }()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return procs.Running() == 1 })
	cancel()
	select {
	case res := <-done:
		if !res.IsError || !strings.Contains(strings.ToLower(text(res)), "aborted") {
			t.Fatalf("result = %+v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("abort did not end the call")
	}
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return procs.Running() == 0 })
}

func TestAbortWhileWaitingForApprovalStartsNothing(t *testing.T) {
	ap := &approver{block: true}
	reg, ws := newRegistry(t, ap, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan agent.ToolResult, 1)
	go func() { done <- call(t, reg, ctx, "exec", map[string]any{"command": "touch x.txt"}) }()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { ap.mu.Lock(); defer ap.mu.Unlock(); return len(ap.reqs) == 1 })
	cancel()
	res := <-done
	if !res.IsError {
		t.Fatalf("result = %+v", res)
	}
	if _, err := os.Stat(filepath.Join(ws, "x.txt")); !os.IsNotExist(err) {
		t.Fatal("command ran after abort")
	}
}

func TestBackgroundProcessListedPolledKilled(t *testing.T) {
	reg, _ := newRegistry(t, allow(), 0)
	res := call(t, reg, context.Background(), "exec", map[string]any{"command": "echo started; sleep 30", "background": true})
	if res.IsError || !strings.Contains(text(res), "Command still running") {
		t.Fatalf("result = %+v", res)
	}
	var d struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(res.Details, &d)
	list := call(t, reg, context.Background(), "process", map[string]any{"action": "list"})
	if !strings.Contains(text(list), d.SessionID) || !strings.Contains(text(list), "running") {
		t.Fatalf("list = %q", text(list))
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		return strings.Contains(text(call(t, reg, context.Background(), "process", map[string]any{"action": "log", "sessionId": d.SessionID})), "started")
	})
	kill := call(t, reg, context.Background(), "process", map[string]any{"action": "kill", "sessionId": d.SessionID})
	if !strings.Contains(text(kill), "Killed session") {
		t.Fatalf("kill = %q", text(kill))
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		p := call(t, reg, context.Background(), "process", map[string]any{"action": "poll", "sessionId": d.SessionID})
		return strings.Contains(text(p), "Process exited with signal")
	})
	// Another session does not see it.
	other := sess
	other.Key = "agent:main:other"
	b, _ := json.Marshal(map[string]any{"action": "poll", "sessionId": d.SessionID})
	r, _ := reg.Call(context.Background(), other, llm.Content{Type: llm.ContentToolCall, ID: "c2", Name: "process", Arguments: b})
	if !strings.Contains(text(r), "No session found") {
		t.Fatalf("other session saw it: %q", text(r))
	}
}

func TestFailingCommandIsToolError(t *testing.T) {
	reg, _ := newRegistry(t, allow(), 0)
	res := call(t, reg, context.Background(), "exec", map[string]any{"command": "echo oops; exit 3"})
	if !res.IsError || !strings.Contains(text(res), "oops") || !strings.Contains(text(res), "Command exited with code 3") {
		t.Fatalf("result = %+v", res)
	}
}
