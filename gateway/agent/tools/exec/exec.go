// Package exec is the agent's exec tool (the original's bash tool, named
// "exec" with its schema) and the process tool that lists, polls and kills
// the commands exec left running in the background.
//
// Every exec call is put to an Approver (the exec approvals policy, which
// the core wires in from gateway/approvals) and waits for its verdict
// before anything is started: no approval, no process. A started command
// runs through the user's shell in its own process group, inside the
// agent's workspace, with a timeout (killing the whole group), a bounded
// output buffer (head and tail kept, the middle dropped, whatever the
// command writes), and stops when the run is aborted unless it was
// already moved to the background.
package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// ApprovalRequest is one command put to the Approver.
type ApprovalRequest struct {
	AgentID, SessionKey string
	Command, Cwd        string
	// Env is the environment the command would run with.
	Env map[string]string
	// Security and Ask are the tool's levels: tools.exec.security/ask
	// combined with the call's own (stricter wins).
	Security, Ask string
	// SafeBins is tools.exec.safeBins (nil: the default list).
	SafeBins []string
}

// Verdict is the Approver's answer; Reason says why not.
type Verdict struct {
	Allowed bool
	Reason  string
}

// Approver decides whether a command may run, asking an operator when the
// policy says so; it blocks until then (or ctx ends, which must deny).
type Approver interface {
	Approve(ctx context.Context, r ApprovalRequest) Verdict
}

// Defaults of the original (bash-tools.exec.js).
const (
	DefaultMaxOutputChars     = 200_000
	DefaultPendingOutputChars = 30_000
	DefaultTimeout            = 1800 * time.Second
	DefaultYield              = 10 * time.Second
)

// Options configure the tools.
type Options struct {
	// Approver is consulted before every command; nil denies everything.
	Approver Approver
	// Processes is the table shared with the process tool (nil: a new one).
	Processes *Processes
	// MaxOutputChars bounds the output kept per command (head + tail).
	MaxOutputChars int
	// UpdateInterval throttles tool update events (0: 500 ms).
	UpdateInterval time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Tool is the exec tool.
type Tool struct {
	o Options
}

// New returns the exec tool and the process tool over the same table.
func New(o Options) (*Tool, tools.Tool) {
	if o.Processes == nil {
		o.Processes = NewProcesses(o.Now)
	}
	if o.MaxOutputChars <= 0 {
		o.MaxOutputChars = DefaultMaxOutputChars
	}
	if o.UpdateInterval <= 0 {
		o.UpdateInterval = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Tool{o: o}, ProcessTool(o.Processes)
}

var execSpec = llm.Tool{
	Name:        "exec",
	Description: "Execute shell commands with background continuation. Use yieldMs/background to continue later via process tool. Use pty=true for TTY-required commands (terminal UIs, coding agents).",
	Parameters: []byte(`{"type":"object","properties":{` +
		`"command":{"type":"string","description":"Shell command to execute"},` +
		`"workdir":{"type":"string","description":"Working directory (defaults to cwd)"},` +
		`"env":{"type":"object","additionalProperties":{"type":"string"}},` +
		`"yieldMs":{"type":"number","description":"Milliseconds to wait before backgrounding (default 10000)"},` +
		`"background":{"type":"boolean","description":"Run in background immediately"},` +
		`"timeout":{"type":"number","description":"Timeout in seconds (optional, kills process on expiry)"},` +
		`"pty":{"type":"boolean","description":"Run in a pseudo-terminal (PTY) when available (TTY-required CLIs, coding agents)"},` +
		`"elevated":{"type":"boolean","description":"Run on the host with elevated permissions (if allowed)"},` +
		`"host":{"type":"string","description":"Exec host (sandbox|gateway|node)."},` +
		`"security":{"type":"string","description":"Exec security mode (deny|allowlist|full)."},` +
		`"ask":{"type":"string","description":"Exec ask mode (off|on-miss|always)."},` +
		`"node":{"type":"string","description":"Node id/name for host=node."}},"required":["command"]}`),
}

// Spec is the original's exec schema.
func (t *Tool) Spec() llm.Tool { return execSpec }

// CallTimeout is 0: exec bounds itself (the approval wait, then its own
// timeout parameter), so the registry's default must not cut it short.
func (t *Tool) CallTimeout(*tools.Call) time.Duration { return 0 }

type execArgs struct {
	Command    string            `json:"command"`
	Workdir    string            `json:"workdir"`
	Env        map[string]string `json:"env"`
	YieldMs    *float64          `json:"yieldMs"`
	Background bool              `json:"background"`
	Timeout    *float64          `json:"timeout"`
	PTY        bool              `json:"pty"`
	Elevated   *bool             `json:"elevated"`
	Host       string            `json:"host"`
	Security   string            `json:"security"`
	Ask        string            `json:"ask"`
	Node       string            `json:"node"`
}

// settings are tools.exec.* of the config.
type settings struct {
	Security, Ask   string
	TimeoutSec      float64
	BackgroundMs    float64
	SafeBins        []string
	PathPrepend     []string
	NoBackground    bool
	Env             map[string]string
	safeBinsPresent bool
}

func readSettings(doc map[string]any, agentID string) settings {
	var s settings
	ex, _ := dig(doc, "tools", "exec").(map[string]any)
	if a := agentTools(doc, agentID); a != nil {
		if ae, ok := a["exec"].(map[string]any); ok {
			merged := map[string]any{}
			for k, v := range ex {
				merged[k] = v
			}
			for k, v := range ae {
				merged[k] = v
			}
			ex = merged
		}
	}
	s.Security, _ = ex["security"].(string)
	s.Ask, _ = ex["ask"].(string)
	s.TimeoutSec, _ = ex["timeoutSec"].(float64)
	s.BackgroundMs, _ = ex["backgroundMs"].(float64)
	if v, ok := ex["allowBackground"].(bool); ok && !v {
		s.NoBackground = true
	}
	if list, ok := ex["safeBins"].([]any); ok {
		s.safeBinsPresent = true
		s.SafeBins = []string{}
		for _, b := range list {
			if str, ok := b.(string); ok {
				s.SafeBins = append(s.SafeBins, str)
			}
		}
	}
	if list, ok := ex["pathPrepend"].([]any); ok {
		for _, b := range list {
			if str, ok := b.(string); ok && strings.TrimSpace(str) != "" && !slices.Contains(s.PathPrepend, strings.TrimSpace(str)) {
				s.PathPrepend = append(s.PathPrepend, strings.TrimSpace(str))
			}
		}
	}
	s.Env = map[string]string{}
	env, _ := doc["env"].(map[string]any)
	for k, v := range env {
		if str, ok := v.(string); ok && k != "shellEnv" && k != "vars" {
			s.Env[k] = str
		}
	}
	if vars, ok := env["vars"].(map[string]any); ok {
		for k, v := range vars {
			if str, ok := v.(string); ok {
				s.Env[k] = str
			}
		}
	}
	return s
}

func dig(doc map[string]any, keys ...string) any {
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func agentTools(doc map[string]any, agentID string) map[string]any {
	list, _ := dig(doc, "agents", "list").([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["id"] == agentID {
			t, _ := m["tools"].(map[string]any)
			return t
		}
	}
	return nil
}

// forbiddenEnv are variables a call may not set: they change what an
// allowlisted binary or the shell itself executes (preloaded libraries,
// bash's startup file), which would bypass the approval of the command
// text. The owner can still set them in env.vars.
func forbiddenEnv(k string) bool {
	u := strings.ToUpper(k)
	return strings.HasPrefix(u, "LD_") || strings.HasPrefix(u, "DYLD_") || strings.HasPrefix(u, "BASH_FUNC_") ||
		u == "BASH_ENV" || u == "ENV" || u == "SHELLOPTS" || u == "BASHOPTS" || u == "PS4" || u == "PROMPT_COMMAND"
}

// workdir resolves the call's workdir inside the workspace: relative
// paths are taken from the workspace, and the result, symlinks resolved,
// must stay inside it.
func workdir(workspace, wd string) (string, error) {
	if workspace == "" {
		return "", errors.New("exec: no workspace for this agent")
	}
	root, err := filepath.EvalSymlinks(workspace)
	if err != nil {
		return "", fmt.Errorf("exec: workspace %s is not available (%v); create it or set agents.defaults.workspace", workspace, err)
	}
	target := root
	if wd = strings.TrimSpace(wd); wd != "" {
		if strings.HasPrefix(wd, "~") {
			if h, err := os.UserHomeDir(); err == nil {
				wd = filepath.Join(h, wd[1:])
			}
		}
		if !filepath.IsAbs(wd) {
			wd = filepath.Join(root, wd)
		}
		target, err = filepath.EvalSymlinks(wd)
		if err != nil {
			return "", fmt.Errorf("exec: workdir %q is unavailable", wd)
		}
	}
	rel, err := filepath.Rel(root, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("exec: workdir %q is outside the workspace %s", wd, root)
	}
	st, err := os.Stat(target)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("exec: workdir %q is not a directory", wd)
	}
	return target, nil
}

// environment is the gateway's environment, then env.vars, then the
// call's env, with tools.exec.pathPrepend in front of PATH.
func environment(s settings, call map[string]string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	for k, v := range s.Env {
		env[k] = v
	}
	for k, v := range call {
		if forbiddenEnv(k) {
			return nil, fmt.Errorf("exec: env %s may not be set by a tool call; set it in the config's env.vars", k)
		}
		env[k] = v
	}
	if len(s.PathPrepend) > 0 {
		parts := append([]string{}, s.PathPrepend...)
		for _, p := range filepath.SplitList(env["PATH"]) {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
		env["PATH"] = strings.Join(parts, string(filepath.ListSeparator))
	}
	return env, nil
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// shell is the original's getShellConfig choice.
func shell(env map[string]string) string {
	if runtime.GOOS == "windows" {
		return "powershell.exe"
	}
	sh := strings.TrimSpace(env["SHELL"])
	if filepath.Base(sh) == "fish" {
		for _, alt := range []string{"bash", "sh"} {
			if p, err := osexec.LookPath(alt); err == nil {
				return p
			}
		}
	}
	if sh == "" {
		return "sh"
	}
	return sh
}

func normLevel(v string, allowed ...string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

func minSecurity(a, b string) string {
	order := map[string]int{"deny": 0, "allowlist": 1, "full": 2}
	if b == "" || order[a] <= order[b] {
		return a
	}
	return b
}

func maxAsk(a, b string) string {
	order := map[string]int{"off": 0, "on-miss": 1, "always": 2}
	if b == "" || order[a] >= order[b] {
		return a
	}
	return b
}

// toolMessage is an error whose text is the original's message to the
// model, capitalised and punctuated as the original words it.
type toolMessage string

func (m toolMessage) Error() string { return string(m) }

// Run executes one exec call.
func (t *Tool) Run(ctx context.Context, c *tools.Call) (agent.ToolResult, error) {
	var a execArgs
	if err := c.Decode(&a); err != nil {
		return agent.ToolResult{}, err
	}
	if strings.TrimSpace(a.Command) == "" {
		return agent.ToolResult{}, toolMessage("Provide a command to start.")
	}
	var warnings []string
	if a.Elevated != nil && *a.Elevated {
		return agent.ToolResult{}, errors.New("elevated is not available right now (runtime=direct).\nFailing gates: enabled (tools.elevated.enabled / agents.list[].tools.elevated.enabled)")
	}
	if h := strings.ToLower(strings.TrimSpace(a.Host)); h != "" && h != "gateway" {
		return agent.ToolResult{}, fmt.Errorf("exec host not allowed (requested %s; this gateway runs exec on host=gateway only)", h)
	}
	if a.PTY {
		warnings = append(warnings, "Warning: PTY is not available here; running without one.")
	}
	s := readSettings(c.Doc, c.Session.AgentID)
	cwd, err := workdir(c.Workspace, a.Workdir)
	if err != nil {
		return agent.ToolResult{}, err
	}
	env, err := environment(s, a.Env)
	if err != nil {
		return agent.ToolResult{}, err
	}
	sec := normLevel(s.Security, "deny", "allowlist", "full")
	if sec == "" {
		sec = "allowlist"
	}
	sec = minSecurity(sec, normLevel(a.Security, "deny", "allowlist", "full"))
	ask := normLevel(s.Ask, "off", "on-miss", "always")
	if ask == "" {
		ask = "on-miss"
	}
	ask = maxAsk(ask, normLevel(a.Ask, "off", "on-miss", "always"))
	req := ApprovalRequest{AgentID: c.Session.AgentID, SessionKey: c.Session.Key, Command: a.Command, Cwd: cwd,
		Env: env, Security: sec, Ask: ask}
	if s.safeBinsPresent {
		req.SafeBins = s.SafeBins
	}
	if t.o.Approver == nil {
		return agent.ToolResult{}, errors.New("exec denied: no approval policy is available")
	}
	if v := t.o.Approver.Approve(ctx, req); !v.Allowed {
		if v.Reason == "" {
			v.Reason = "exec denied"
		}
		return agent.ToolResult{}, errors.New(v.Reason)
	}
	if ctx.Err() != nil {
		return agent.ToolResult{}, errors.New("exec aborted before start")
	}
	timeout := DefaultTimeout
	if s.TimeoutSec > 0 {
		timeout = time.Duration(s.TimeoutSec * float64(time.Second))
	}
	if a.Timeout != nil {
		timeout = time.Duration(*a.Timeout * float64(time.Second))
	}
	yield := DefaultYield
	if s.BackgroundMs > 0 {
		yield = time.Duration(s.BackgroundMs) * time.Millisecond
	}
	if a.YieldMs != nil {
		yield = time.Duration(*a.YieldMs) * time.Millisecond
	}
	yield = min(max(yield, 10*time.Millisecond), 120*time.Second)
	if a.Background {
		yield = 0
	}
	if s.NoBackground {
		if a.Background || a.YieldMs != nil {
			warnings = append(warnings, "Warning: background execution is disabled; running synchronously.")
		}
		yield = -1
	}
	p, err := t.start(a.Command, cwd, env, c.Session.Key, timeout)
	if err != nil {
		return agent.ToolResult{}, fmt.Errorf("exec: cannot start %s: %v", shell(env), err)
	}
	return t.wait(ctx, c, p, yield, timeout, warnings)
}

func (t *Tool) start(command, cwd string, env map[string]string, scope string, timeout time.Duration) (*Proc, error) {
	cmd := shellCommand(command, shell(env))
	cmd.Dir = cwd
	cmd.Env = envList(env)
	out := newOutput(t.o.MaxOutputChars, min(DefaultPendingOutputChars, t.o.MaxOutputChars))
	cmd.Stdout, cmd.Stderr = out, out
	// A background child that keeps the pipes open must not hold Wait
	// (and so the tool) after the shell exited.
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Command: command, Cwd: cwd, Scope: scope, Pid: cmd.Process.Pid, Started: t.o.Now(), cmd: cmd, out: out,
		stdin: stdin, done: make(chan struct{})}
	t.o.Processes.add(p)
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() {
			p.mu.Lock()
			p.timedOut = true
			p.mu.Unlock()
			killTree(cmd)
		})
	}
	go func() {
		_ = cmd.Wait()
		if timer != nil {
			timer.Stop()
		}
		// Whatever the shell left behind in its group goes with it.
		killTree(cmd)
		p.mu.Lock()
		p.ended = t.o.Now()
		if ps := cmd.ProcessState; ps != nil {
			p.exitCode = ps.ExitCode()
			p.signal = exitSignal(ps)
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (t *Tool) wait(ctx context.Context, c *tools.Call, p *Proc, yield, timeout time.Duration, warnings []string) (agent.ToolResult, error) {
	warn := ""
	if len(warnings) > 0 {
		warn = strings.Join(warnings, "\n") + "\n\n"
	}
	var yieldC <-chan time.Time
	if yield >= 0 {
		yt := time.NewTimer(yield)
		defer yt.Stop()
		yieldC = yt.C
	}
	tick := time.NewTicker(t.o.UpdateInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return t.finished(p, timeout, warn)
		case <-yieldC:
			p.mu.Lock()
			p.bg = true
			p.mu.Unlock()
			d, _ := json.Marshal(map[string]any{"status": "running", "sessionId": p.ID, "pid": p.Pid,
				"startedAt": p.Started.UnixMilli(), "cwd": p.Cwd, "tail": p.out.Tail(2000)})
			return agent.ToolResult{Content: []llm.Content{llm.Text(fmt.Sprintf("%sCommand still running (session %s, pid %d). "+
				"Use process (list/poll/log/write/kill/clear/remove) for follow-up.", warn, p.ID, p.Pid))}, Details: d}, nil
		case <-ctx.Done():
			// Abort stops a foreground command and all it started.
			p.Kill()
			<-p.done
			return agent.ToolResult{}, toolMessage(fmt.Sprintf("Command aborted (%v)", context.Cause(ctx)))
		case <-tick.C:
			d, _ := json.Marshal(map[string]any{"status": "running", "sessionId": p.ID, "pid": p.Pid,
				"startedAt": p.Started.UnixMilli(), "cwd": p.Cwd})
			c.Update(agent.ToolResult{Content: []llm.Content{llm.Text(warn + p.out.Tail(2000))}, Details: d})
		}
	}
}

func (t *Tool) finished(p *Proc, timeout time.Duration, warn string) (agent.ToolResult, error) {
	agg := strings.TrimSpace(p.out.String())
	p.mu.Lock()
	code, sig, timedOut, killed, dur := p.exitCode, p.signal, p.timedOut, p.killed, p.ended.Sub(p.Started)
	p.mu.Unlock()
	t.o.Processes.remove(p.ID)
	if code != 0 || sig != "" || timedOut {
		var reason string
		switch {
		case timedOut:
			reason = fmt.Sprintf("Command timed out after %g seconds", timeout.Seconds())
		case sig != "" && killed:
			reason = "Command killed"
		case sig != "":
			reason = "Command aborted by signal " + sig
		default:
			reason = fmt.Sprintf("Command exited with code %d", code)
		}
		if agg != "" {
			reason = agg + "\n\n" + reason
		}
		return agent.ToolResult{}, errors.New(warn + reason)
	}
	text := agg
	if text == "" {
		text = "(no output)"
	}
	d, _ := json.Marshal(map[string]any{"status": "completed", "exitCode": code, "durationMs": dur.Milliseconds(),
		"aggregated": agg, "cwd": p.Cwd})
	return agent.ToolResult{Content: []llm.Content{llm.Text(warn + text)}, Details: d}, nil
}
