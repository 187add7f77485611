package approvals_test

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

	"github.com/clawdbot/clawdbot/gateway/approvals"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// bin makes an executable named name in a fresh PATH dir.
func bin(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeAndAllowlist(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executable bits")
	}
	dir := t.TempDir()
	tool := bin(t, dir, "mytool")
	bin(t, dir, "other")
	bin(t, dir, "grep")
	env := map[string]string{"PATH": dir}
	list := []wire.ExecApprovalsAllowlistEntry{{Pattern: filepath.Join(dir, "my*")}, {Pattern: "other"}}
	safe := approvals.SafeBinSet(nil)
	for _, tc := range []struct {
		cmd       string
		ok, allow bool
	}{
		{"mytool --flag", true, true},
		{"mytool a && mytool b", true, true},
		{"mytool | grep x", true, true},              // grep is a safe bin on stdin
		{"mytool | grep x /etc/passwd", true, false}, // a file argument: not safe
		{"other", true, false},                       // a bare-name pattern never matches
		{"mytool; other", true, false},
		{"mytool > out.txt", false, false},
		{"mytool $(other)", false, false},
		{`mytool "$(other)"`, false, false}, // stricter than the original
		{"mytool `other`", false, false},
		{"mytool &", false, false},
		{"mytool 'unterminated", false, false},
		{"nosuch", true, false},
		{`"` + tool + `" x`, true, true},
	} {
		an := approvals.Analyze(tc.cmd, dir, env)
		ev := approvals.Evaluate(an, approvals.EvalParams{Allowlist: list, SafeBins: safe, Cwd: dir})
		if an.OK != tc.ok || ev.Satisfied != tc.allow {
			t.Errorf("%q: ok=%v (%s) allowed=%v, want %v %v", tc.cmd, an.OK, an.Reason, ev.Satisfied, tc.ok, tc.allow)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	yes := true
	f := wire.ExecApprovalsFile{Version: 1, Defaults: &wire.ExecApprovalsDefaults{Ask: "always"},
		Agents: map[string]wire.ExecApprovalsAgent{
			"*":    {Security: "full", Allowlist: []wire.ExecApprovalsAllowlistEntry{{Pattern: "/a"}}},
			"main": {Ask: "off", AutoAllowSkills: &yes, Allowlist: []wire.ExecApprovalsAllowlistEntry{{Pattern: "/b"}}},
		}}
	p := approvals.Resolve(f, "main", approvals.Overrides{Security: "allowlist"})
	if p.Security != "full" || p.Ask != "off" || p.AskFallback != "deny" || !p.AutoAllowSkills || len(p.Allowlist) != 2 || p.Allowlist[0].Pattern != "/a" {
		t.Fatalf("main = %+v", p)
	}
	p = approvals.Resolve(f, "ops", approvals.Overrides{})
	if p.Security != "full" || p.Ask != "always" {
		t.Fatalf("ops = %+v", p)
	}
	p = approvals.Resolve(wire.ExecApprovalsFile{Version: 1}, "", approvals.Overrides{})
	if p.Security != "deny" || p.Ask != "on-miss" || p.AskFallback != "deny" {
		t.Fatalf("empty = %+v", p)
	}
}

func TestStoreGetSetBaseHashAndMode(t *testing.T) {
	dir := t.TempDir()
	s := approvals.NewStore(dir, nil)
	snap, err := s.Get()
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Exists || snap.File.Socket == nil || snap.File.Socket.Token != "" || snap.File.Socket.Path != filepath.Join(dir, "exec-approvals.sock") {
		t.Fatalf("snapshot = %+v", snap)
	}
	st, _ := os.Stat(filepath.Join(dir, approvals.FileName))
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", st.Mode())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, approvals.FileName))
	var disk wire.ExecApprovalsFile
	if json.Unmarshal(raw, &disk) != nil || disk.Socket.Token == "" || !strings.HasSuffix(string(raw), "}\n") {
		t.Fatalf("file = %s", raw)
	}
	next := wire.ExecApprovalsFile{Version: 1, Agents: map[string]wire.ExecApprovalsAgent{"default": {Security: "full"}}}
	if _, err := s.Set(next, ""); err == nil || !strings.Contains(err.Error(), "base hash required") {
		t.Fatalf("set without hash: %v", err)
	}
	if _, err := s.Set(next, "nope"); err == nil || !strings.Contains(err.Error(), "changed since last load") {
		t.Fatalf("set with a stale hash: %v", err)
	}
	got, err := s.Set(next, snap.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash == snap.Hash || got.File.Agents["main"].Security != "full" {
		t.Fatalf("after set = %+v", got)
	}
	raw2, _ := os.ReadFile(filepath.Join(dir, approvals.FileName))
	json.Unmarshal(raw2, &disk)
	if disk.Socket.Token == "" || disk.Socket.Token != mustToken(t, raw) {
		t.Fatal("set lost the socket token")
	}
}

func mustToken(t *testing.T, raw []byte) string {
	var f wire.ExecApprovalsFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Socket.Token
}

// events records broadcasts.
type events struct {
	mu  sync.Mutex
	evs []string
	ch  chan wire.ExecApprovalRequestedEvent
}

func (e *events) Broadcast(ev string, payload any, _ rpc.Delivery) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	if r, ok := payload.(wire.ExecApprovalRequestedEvent); ok && e.ch != nil {
		e.ch <- r
	}
}

func newManager(t *testing.T, f *wire.ExecApprovalsFile) (*approvals.Manager, *events, string) {
	t.Helper()
	dir := t.TempDir()
	s := approvals.NewStore(dir, nil)
	if f != nil {
		snap, _ := s.Get()
		if _, err := s.Set(*f, snap.Hash); err != nil {
			t.Fatal(err)
		}
	}
	ev := &events{ch: make(chan wire.ExecApprovalRequestedEvent, 4)}
	return approvals.NewManager(s, ev, nil), ev, dir
}

func TestCheckAsksAndAppliesDecision(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executable bits")
	}
	for _, tc := range []struct {
		decision string
		allowed  bool
	}{
		{wire.DecisionAllowOnce, true},
		{wire.DecisionAllowAlways, true},
		{wire.DecisionDeny, false},
	} {
		t.Run(tc.decision, func(t *testing.T) {
			m, ev, _ := newManager(t, nil)
			pathDir := t.TempDir()
			tool := bin(t, pathDir, "deploy")
			req := approvals.CheckRequest{AgentID: "main", Command: "deploy --now", Cwd: pathDir, Env: map[string]string{"PATH": pathDir}}
			done := make(chan approvals.CheckResult, 1)
			go func() { done <- m.Check(context.Background(), req, nil) }()
			r := <-ev.ch
			if r.Request.Command != "deploy --now" || r.Request.ResolvedPath == nil || *r.Request.ResolvedPath != tool || *r.Request.Security != "allowlist" {
				t.Fatalf("requested = %+v", r)
			}
			if !m.Resolve(r.ID, tc.decision, "tester") {
				t.Fatal("resolve: unknown id")
			}
			res := <-done
			if res.Allowed != tc.allowed || res.Decision != tc.decision {
				t.Fatalf("result = %+v", res)
			}
			// allow-always adds the resolved path: the next call does not ask.
			if tc.decision == wire.DecisionAllowAlways {
				res := m.Check(context.Background(), req, nil)
				if !res.Allowed || res.ApprovalID != "" {
					t.Fatalf("second call = %+v", res)
				}
			}
			if m.Resolve(r.ID, tc.decision, "") {
				t.Fatal("resolved twice")
			}
		})
	}
}

func TestCheckTimeoutDenies(t *testing.T) {
	m, ev, _ := newManager(t, nil)
	res := m.Check(context.Background(), approvals.CheckRequest{Command: "rm -rf /tmp/x", Timeout: 50 * time.Millisecond}, nil)
	if res.Allowed || !strings.Contains(res.Reason, "approval-timeout") {
		t.Fatalf("result = %+v", res)
	}
	<-ev.ch
	if len(m.Pending()) != 0 {
		t.Fatal("timed-out request still pending")
	}
}

func TestCheckPolicyWithoutAsking(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   wire.ExecApprovalsFile
		req    approvals.CheckRequest
		allow  bool
		reason string
	}{
		{"deny", wire.ExecApprovalsFile{Version: 1, Defaults: &wire.ExecApprovalsDefaults{Security: "deny"}},
			approvals.CheckRequest{Command: "ls"}, false, "security=deny"},
		{"full", wire.ExecApprovalsFile{Version: 1, Agents: map[string]wire.ExecApprovalsAgent{"main": {Security: "full"}}},
			approvals.CheckRequest{Command: "anything > x", Security: "full"}, true, ""},
		{"ask off miss", wire.ExecApprovalsFile{Version: 1, Defaults: &wire.ExecApprovalsDefaults{Ask: "off"}},
			approvals.CheckRequest{Command: "nosuchbinary", Ask: "off"}, false, "allowlist miss"},
		{"tool stricter than file", wire.ExecApprovalsFile{Version: 1, Defaults: &wire.ExecApprovalsDefaults{Security: "full"}},
			approvals.CheckRequest{Command: "x", Security: "deny"}, false, "security=deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ev, _ := newManager(t, &tc.file)
			res := m.Check(context.Background(), tc.req, nil)
			if res.Allowed != tc.allow || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("result = %+v", res)
			}
			if len(ev.evs) != 0 {
				t.Fatalf("asked: %v", ev.evs)
			}
		})
	}
}

func TestRequestDuplicateIDAndContext(t *testing.T) {
	m, ev, _ := newManager(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := m.Request(ctx, "fixed", wire.ExecApprovalRequest{Command: "x"}, time.Minute)
		errc <- err
	}()
	<-ev.ch
	if _, _, err := m.Request(context.Background(), "fixed", wire.ExecApprovalRequest{Command: "y"}, time.Minute); err != approvals.ErrDuplicateID {
		t.Fatalf("duplicate: %v", err)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled request returned no error")
	}
	gatewaytest.WaitFor(t, time.Second, func() bool { return len(m.Pending()) == 0 })
}
