// Package prompt builds the system prompt of an agent turn the way the
// original does (messaging spec §4.1): a fixed preamble, the workspace's
// bootstrap files (AGENTS.md, SOUL.md, TOOLS.md, IDENTITY.md, USER.md,
// HEARTBEAT.md, BOOTSTRAP.md) as "Project Context", each bounded to
// agents.defaults.bootstrapMaxChars (70 % head + 20 % tail when longer),
// the silent-reply rules, the current date and time and a runtime line.
package prompt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// BootstrapFiles are the workspace files read into every prompt, in the
// original's order.
var BootstrapFiles = []string{"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"}

// subagentFiles are what a subagent session sees (the original's
// SUBAGENT_BOOTSTRAP_ALLOWLIST).
var subagentFiles = map[string]bool{"AGENTS.md": true, "TOOLS.md": true}

// DefaultMaxChars is the default bootstrapMaxChars.
const DefaultMaxChars = 20000

// readLimit bounds what is read of one file, whatever its size, so a
// huge file in the workspace cannot make a turn read gigabytes.
const readLimit = 4 << 20

// Params are the inputs of one prompt.
type Params struct {
	Workspace  string
	SessionKey string
	AgentID    string
	// Model is the "provider/model" of the turn; DefaultModel the
	// configured primary.
	Model, DefaultModel string
	Channel             string
	Thinking            string
	MaxChars            int
	Now                 time.Time
	// Extra is the agent call's extraSystemPrompt.
	Extra string
	// Host is the machine name in the runtime line.
	Host string
	// SkillsPrompt is the <available_skills> block of the eligible skills
	// (gateway/skills); "" leaves the Skills section out.
	SkillsPrompt string
}

// File is one bootstrap file as injected.
type File struct {
	Name, Content string
	Missing       bool
	Truncated     bool
}

// LoadFiles reads the bootstrap files of workspace, bounded to maxChars.
func LoadFiles(workspace, sessionKey string, maxChars int) []File {
	if maxChars <= 0 {
		maxChars = DefaultMaxChars
	}
	sub := strings.HasPrefix(sessionKey, "subagent:") || strings.Contains(sessionKey, ":subagent:")
	var out []File
	for _, name := range BootstrapFiles {
		if sub && !subagentFiles[name] {
			continue
		}
		path := filepath.Join(workspace, name)
		content, err := readBounded(path)
		if err != nil {
			out = append(out, File{Name: name, Content: "[MISSING] Expected at: " + path, Missing: true})
			continue
		}
		c, trunc := trim(content, name, maxChars)
		if c == "" {
			continue
		}
		out = append(out, File{Name: name, Content: c, Truncated: trunc})
	}
	return out
}

func readBounded(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, readLimit))
	return string(b), err
}

// trim keeps the first 70 % and last 20 % of a file longer than maxChars
// (in characters, as the original counts), with the original's marker.
func trim(content, name string, maxChars int) (string, bool) {
	t := strings.TrimRight(content, " \t\r\n")
	n := utf8.RuneCountInString(t)
	if n <= maxChars {
		return t, false
	}
	r := []rune(t)
	head, tail := maxChars*7/10, maxChars*2/10
	marker := fmt.Sprintf("\n[...truncated, read %s for full content...]\n…(truncated %s: kept %d+%d chars of %d)…\n", name, name, head, tail, n)
	return string(r[:head]) + "\n" + marker + "\n" + string(r[n-tail:]), true
}

// Build is the system prompt for p.
func Build(p Params) string {
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	add("You are a personal assistant running inside Clawdbot.", "")
	if sp := strings.TrimSpace(p.SkillsPrompt); sp != "" {
		// The original's buildSkillsSection, placed before the workspace.
		add("## Skills (mandatory)",
			"Before replying: scan <available_skills> <description> entries.",
			"- If exactly one skill clearly applies: read its SKILL.md at <location> with `read`, then follow it.",
			"- If multiple could apply: choose the most specific one, then read/follow it.",
			"- If none clearly apply: do not read any SKILL.md.",
			"Constraints: never read more than one skill up front; only read after selecting.",
			sp, "")
	}
	add("## Workspace", "Your working directory is: "+p.Workspace, "")
	add("## Reply Tags",
		"To reply to the current message natively, start your reply with [[reply_to_current]]; use [[reply_to:<id>]] for a specific message.",
		"To send a file or image, put it on its own line as MEDIA: <url-or-path>.", "")
	if p.Extra != "" {
		add("## Extra Instructions", p.Extra, "")
	}
	files := LoadFiles(p.Workspace, p.SessionKey, p.MaxChars)
	if len(files) > 0 {
		add("# Project Context", "", "The following project context files have been loaded:")
		for _, f := range files {
			if f.Name == "SOUL.md" && !f.Missing {
				add("If SOUL.md is present, embody its persona and tone. Avoid stiff, generic replies; follow its guidance unless higher-priority instructions override it.")
				break
			}
		}
		add("")
		for _, f := range files {
			add("## "+f.Name, "", f.Content, "")
		}
	}
	add("## Silent Replies", "When you have nothing to say, respond with ONLY: NO_REPLY", "")
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	zone, _ := now.Zone()
	add("## Current Date & Time", now.Format("Monday, January 2, 2006 15:04 ")+zone, "Time zone: "+now.Location().String(), "")
	rt := []string{}
	if p.AgentID != "" {
		rt = append(rt, "agent="+p.AgentID)
	}
	if p.Host != "" {
		rt = append(rt, "host="+p.Host)
	}
	rt = append(rt, fmt.Sprintf("os=%s (%s)", runtime.GOOS, runtime.GOARCH))
	if p.Model != "" {
		rt = append(rt, "model="+p.Model)
	}
	if p.DefaultModel != "" {
		rt = append(rt, "default_model="+p.DefaultModel)
	}
	if p.Channel != "" {
		rt = append(rt, "channel="+p.Channel, "capabilities=none")
	}
	th := p.Thinking
	if th == "" {
		th = "off"
	}
	rt = append(rt, "thinking="+th)
	add("## Runtime", "Runtime: "+strings.Join(rt, " | "))
	var b strings.Builder
	for i, l := range lines {
		if l == "" {
			continue // the original filters empty lines out
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
	}
	return b.String()
}
