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

func TestSkillsSectionBeforeWorkspace(t *testing.T) {
	block := "<available_skills>\n  <skill>\n    <name>x</name>\n  </skill>\n</available_skills>"
	got := prompt.Build(prompt.Params{Workspace: t.TempDir(), SkillsPrompt: "\n\n" + block})
	i, j := strings.Index(got, "## Skills (mandatory)"), strings.Index(got, "## Workspace")
	if i < 0 || j < i || !strings.Contains(got, block) {
		t.Fatalf("prompt = %s", got)
	}
	if strings.Contains(prompt.Build(prompt.Params{Workspace: t.TempDir()}), "## Skills") {
		t.Fatal("skills section without skills")
	}
}
