// Package prompt builds the system prompt of an agent turn the way the
// original does (doc/messaging.md §4.1): a fixed preamble, the workspace's
// bootstrap files (AGENTS.md, SOUL.md, TOOLS.md, IDENTITY.md, USER.md,
// HEARTBEAT.md, BOOTSTRAP.md) as "Project Context", the tools on offer
// with the original's one-line summaries ("## Tooling"), each bounded to
// agents.defaults.bootstrapMaxChars (70 % head + 20 % tail when longer),
// the silent-reply rules, the current date and time and a runtime line.
package prompt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	// Tools are the tools offered this turn (after policy); with none the
	// Tooling section is left out. A tool without a core summary is
	// listed with its Summary.
	Tools []Tool
}

// Tool is one tool as the prompt lists it.
type Tool struct {
	Name, Summary string
}

// coreToolSummaries and toolOrder are the original's (system-prompt.js).
var coreToolSummaries = map[string]string{
	"read":             "Read file contents",
	"write":            "Create or overwrite files",
	"edit":             "Make precise edits to files",
	"apply_patch":      "Apply multi-file patches",
	"grep":             "Search file contents for patterns",
	"find":             "Find files by glob pattern",
	"ls":               "List directory contents",
	"exec":             "Run shell commands (pty available for TTY-required CLIs)",
	"process":          "Manage background exec sessions",
	"web_search":       "Search the web (Brave API)",
	"web_fetch":        "Fetch and extract readable content from a URL",
	"browser":          "Control web browser",
	"canvas":           "Present/eval/snapshot the Canvas",
	"nodes":            "List/describe/notify/camera/screen on paired nodes",
	"cron":             "Manage cron jobs and wake events (use for reminders; when scheduling a reminder, write the systemEvent text as something that will read like a reminder when it fires, and mention that it is a reminder depending on the time gap between setting and firing; include recent context in reminder text if appropriate)",
	"message":          "Send messages and channel actions",
	"gateway":          "Restart, apply config, or run updates on the running Clawdbot process",
	"agents_list":      "List agent ids allowed for sessions_spawn",
	"sessions_list":    "List other sessions (incl. sub-agents) with filters/last",
	"sessions_history": "Fetch history for another session/sub-agent",
	"sessions_send":    "Send a message to another session/sub-agent",
	"sessions_spawn":   "Spawn a sub-agent session",
	"session_status":   "Show a /status-equivalent status card (usage + time + Reasoning/Verbose/Elevated); use for model-use questions (📊 session_status); optional per-session model override",
	"image":            "Analyze an image with the configured image model",
}

var toolOrder = []string{"read", "write", "edit", "apply_patch", "grep", "find", "ls", "exec", "process", "web_search", "web_fetch",
	"browser", "canvas", "nodes", "cron", "message", "gateway", "agents_list", "sessions_list", "sessions_history", "sessions_send",
	"session_status", "image"}

// toolLines lists tools in the original's order, the others after them
// sorted by name.
func toolLines(tools []Tool) []string {
	byName := map[string]Tool{}
	for _, t := range tools {
		n := strings.ToLower(strings.TrimSpace(t.Name))
		if _, ok := byName[n]; !ok && n != "" {
			byName[n] = t
		}
	}
	line := func(n string) string {
		t := byName[n]
		sum := coreToolSummaries[n]
		if sum == "" {
			sum = strings.TrimSpace(t.Summary)
		}
		if sum == "" {
			return "- " + t.Name
		}
		return "- " + t.Name + ": " + sum
	}
	var out []string
	known := map[string]bool{}
	for _, n := range toolOrder {
		known[n] = true
		if _, ok := byName[n]; ok {
			out = append(out, line(n))
		}
	}
	var extra []string
	for n := range byName {
		if !known[n] {
			extra = append(extra, n)
		}
	}
	slices.Sort(extra)
	for _, n := range extra {
		out = append(out, line(n))
	}
	return out
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
	if len(p.Tools) > 0 {
		add("## Tooling", "Tool availability (filtered by policy):", "Tool names are case-sensitive. Call tools exactly as listed.")
		add(toolLines(p.Tools)...)
		add("TOOLS.md does not control tool availability; it is user guidance for how to use external tools.", "")
		add("## Tool Call Style",
			"Default: do not narrate routine, low-risk tool calls (just call the tool).",
			"Narrate only when it helps: multi-step work, complex/challenging problems, sensitive actions (e.g., deletions), or when the user explicitly asks.",
			"Keep narration brief and value-dense; avoid repeating obvious steps.",
			"Use plain human language for narration unless in a technical context.", "")
	}
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
