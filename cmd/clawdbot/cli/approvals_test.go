package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/wire"
)

// TestApprovalsCommandsThroughGateway runs get, allowlist add/remove and
// set against a real gateway on loopback and checks the file it owns.
func TestApprovalsCommandsThroughGateway(t *testing.T) {
	g := startTestGateway(t, "right", "")
	state := g.state
	url := g.url
	env, out, errb := callTestEnv(t, map[string]string{})
	run := func(args ...string) (int, string) {
		t.Helper()
		out.Reset()
		errb.Reset()
		code := Main(append(args, "--url", url, "--token", "right"), env)
		return code, out.String() + errb.String()
	}
	disk := func() wire.ExecApprovalsFile {
		raw, err := os.ReadFile(filepath.Join(state, "exec-approvals.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f wire.ExecApprovalsFile
		json.Unmarshal(raw, &f)
		return f
	}
	if code, o := run("approvals", "get"); code != ExitOK || !strings.Contains(o, "No allowlist entries.") {
		t.Fatalf("get: %d %s", code, o)
	}
	if code, o := run("approvals", "allowlist", "add", "~/bin/rg", "--agent", "main"); code != ExitOK || !strings.Contains(o, "~/bin/rg") {
		t.Fatalf("add: %d %s", code, o)
	}
	if f := disk(); len(f.Agents["main"].Allowlist) != 1 || f.Socket.Token == "" {
		t.Fatalf("file after add = %+v", f)
	}
	if code, o := run("approvals", "allowlist", "add", "~/bin/rg", "--agent", "main"); code != ExitOK || !strings.Contains(o, "Already allowlisted.") {
		t.Fatalf("add twice: %d %s", code, o)
	}
	if code, o := run("approvals", "allowlist", "remove", "~/bin/rg", "--agent", "main"); code != ExitOK {
		t.Fatalf("remove: %d %s", code, o)
	}
	if f := disk(); len(f.Agents) != 0 {
		t.Fatalf("file after remove = %+v", f)
	}
	src := filepath.Join(t.TempDir(), "a.json5")
	os.WriteFile(src, []byte("{ // comment\n defaults: {security: 'full'}, }"), 0o600)
	if code, o := run("approvals", "set", "--file", src, "--json"); code != ExitOK || !strings.Contains(o, `"security":"full"`) {
		t.Fatalf("set: %d %s", code, o)
	}
	if code, o := run("approvals", "set"); code != ExitFailure || !strings.Contains(o, "Provide --file or --stdin.") {
		t.Fatalf("set without input: %d %s", code, o)
	}
}
