package prompt_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent/prompt"
)

func TestBuildReadsBootstrapFilesBounded(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "SOUL.md"), []byte("Be kind.\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "AGENTS.md"), []byte(strings.Repeat("a", 700)+strings.Repeat("z", 400)), 0o644)
	os.WriteFile(filepath.Join(ws, "USER.md"), []byte("  \n"), 0o644)
	now := time.Date(2026, 12, 1, 21, 32, 0, 0, time.UTC)
	got := prompt.Build(prompt.Params{Workspace: ws, AgentID: "main", Model: "fake/m", MaxChars: 1000, Now: now})
	for _, want := range []string{
		"## SOUL.md\nBe kind.",
		"embody its persona",
		"[...truncated, read AGENTS.md for full content...]",
		"…(truncated AGENTS.md: kept 700+200 chars of 1100)…",
		"## TOOLS.md\n[MISSING] Expected at: " + filepath.Join(ws, "TOOLS.md"),
		"Tuesday, December 1, 2026 21:32 UTC",
		"Runtime: agent=main | os=",
		"model=fake/m | thinking=off",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("prompt lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "## USER.md") {
		t.Error("a blank USER.md was injected")
	}
	if strings.Contains(got, strings.Repeat("a", 701)) {
		t.Error("AGENTS.md head not bounded")
	}
}

func TestSubagentSeesOnlyAgentsAndTools(t *testing.T) {
	files := prompt.LoadFiles(t.TempDir(), "agent:main:subagent:x", 0)
	if len(files) != 2 || files[0].Name != "AGENTS.md" || files[1].Name != "TOOLS.md" {
		t.Fatalf("files = %+v", files)
	}
}

// The tools on offer are listed as the original lists them: core tools in
// its order with its summaries, others after them by name with their own
// description; without tools there is no Tooling section.
func TestToolingSection(t *testing.T) {
	p := prompt.Params{Workspace: t.TempDir(), Tools: []prompt.Tool{{Name: "zeta_tool", Summary: "Does zeta"}, {Name: "web_fetch", Summary: "ignored"},
		{Name: "read"}, {Name: "exec"}, {Name: "bare"}}}
	got := prompt.Build(p)
	want := strings.Join([]string{"## Tooling", "Tool availability (filtered by policy):", "Tool names are case-sensitive. Call tools exactly as listed.",
		"- read: Read file contents", "- exec: Run shell commands (pty available for TTY-required CLIs)",
		"- web_fetch: Fetch and extract readable content from a URL", "- bare", "- zeta_tool: Does zeta",
		"TOOLS.md does not control tool availability; it is user guidance for how to use external tools.", "## Tool Call Style"}, "\n")
	if !strings.Contains(got, want) {
		t.Fatalf("prompt:\n%s", got)
	}
	if !strings.HasPrefix(got, "You are a personal assistant running inside Clawdbot.\n## Tooling") {
		t.Fatalf("Tooling is not right after the identity line:\n%s", got[:120])
	}
	p.Tools = nil
	if strings.Contains(prompt.Build(p), "## Tooling") {
		t.Fatal("Tooling section without tools")
	}
}
