package approvals_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/approvals"
	"github.com/clawdbot/clawdbot/wire"
)

// BenchmarkCheckAllowlisted is the approval overhead of an exec call whose
// command is on the allowlist: policy read (cached), analysis, PATH
// lookup, match, and the throttled lastUsed record.
func BenchmarkCheckAllowlisted(b *testing.B) {
	if runtime.GOOS == "windows" {
		b.Skip("executable bits")
	}
	dir := b.TempDir()
	tool := bin(b, dir, "deploy")
	f := wire.ExecApprovalsFile{Version: 1, Agents: map[string]wire.ExecApprovalsAgent{
		"main": {Allowlist: []wire.ExecApprovalsAllowlistEntry{{Pattern: filepath.Join(dir, "*")}}}}}
	s := approvals.NewStore(b.TempDir(), nil)
	snap, _ := s.Get()
	if _, err := s.Set(f, snap.Hash); err != nil {
		b.Fatal(err)
	}
	m := approvals.NewManager(s, nil, nil)
	req := approvals.CheckRequest{AgentID: "main", Command: "deploy --env prod | grep ok", Cwd: dir,
		Env: map[string]string{"PATH": dir + ":/usr/bin:/bin"}}
	if r := m.Check(context.Background(), req, nil); !r.Allowed {
		b.Fatalf("not allowed: %+v (%s)", r, tool)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := m.Check(context.Background(), req, nil); !r.Allowed {
			b.Fatal(r.Reason)
		}
	}
}
