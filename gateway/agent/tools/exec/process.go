package exec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/llm"
)

// finishedTTL is how long a finished background process stays listed (the
// original's default job TTL).
const finishedTTL = 30 * time.Minute

// Proc is one started command.
type Proc struct {
	ID       string
	Command  string
	Cwd      string
	Scope    string // the session key: process lists only its own
	Pid      int
	Started  time.Time
	cmd      *exec.Cmd
	out      *output
	stdin    io.WriteCloser
	done     chan struct{}
	mu       sync.Mutex
	bg       bool
	ended    time.Time
	exitCode int
	signal   string
	timedOut bool
	killed   bool
}

// Exited reports whether the process ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill stops the process and everything it started.
func (p *Proc) Kill() {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	killTree(p.cmd)
}

func (p *Proc) status() string {
	if !p.Exited() {
		return "running"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exitCode == 0 && p.signal == "" && !p.timedOut {
		return "completed"
	}
	return "failed"
}

func (p *Proc) exitText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signal != "" {
		return "signal " + p.signal
	}
	return fmt.Sprintf("code %d", p.exitCode)
}

// Processes is the table of started commands shared by the exec and
// process tools (the original's bash-process-registry).
type Processes struct {
	mu    sync.Mutex
	procs map[string]*Proc
	now   func() time.Time
}

// NewProcesses returns an empty table.
func NewProcesses(now func() time.Time) *Processes {
	if now == nil {
		now = time.Now
	}
	return &Processes{procs: map[string]*Proc{}, now: now}
}

func newID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (t *Processes) add(p *Proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked()
	for p.ID == "" || t.procs[p.ID] != nil {
		p.ID = newID()
	}
	t.procs[p.ID] = p
}

// sweepLocked forgets processes that finished more than finishedTTL ago
// and foreground ones that finished at all (their output went back to the
// model already).
func (t *Processes) sweepLocked() {
	now := t.now()
	for id, p := range t.procs {
		if !p.Exited() {
			continue
		}
		p.mu.Lock()
		old := !p.bg || now.Sub(p.ended) > finishedTTL
		p.mu.Unlock()
		if old {
			delete(t.procs, id)
		}
	}
}

// Get returns the process id visible in scope.
func (t *Processes) Get(scope, id string) *Proc {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.procs[id]
	if p == nil || p.Scope != scope {
		return nil
	}
	return p
}

// List returns the background processes of scope, newest first.
func (t *Processes) List(scope string) []*Proc {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked()
	var out []*Proc
	for _, p := range t.procs {
		p.mu.Lock()
		bg := p.bg
		p.mu.Unlock()
		if p.Scope == scope && bg {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Proc) int { return b.Started.Compare(a.Started) })
	return out
}

func (t *Processes) remove(id string) {
	t.mu.Lock()
	delete(t.procs, id)
	t.mu.Unlock()
}

// Running counts the processes that have not exited, foreground ones
// included.
func (t *Processes) Running() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.procs {
		if !p.Exited() {
			n++
		}
	}
	return n
}

// KillAll stops every running process (gateway shutdown).
func (t *Processes) KillAll() {
	t.mu.Lock()
	ps := make([]*Proc, 0, len(t.procs))
	for _, p := range t.procs {
		ps = append(ps, p)
	}
	t.mu.Unlock()
	for _, p := range ps {
		if !p.Exited() {
			p.Kill()
		}
	}
}

var processSpec = llm.Tool{
	Name:        "process",
	Description: "Manage running exec sessions: list, poll, log, write, send-keys, submit, paste, kill.",
	Parameters: []byte(`{"type":"object","properties":{` +
		`"action":{"type":"string","description":"Process action"},` +
		`"sessionId":{"type":"string","description":"Session id for actions other than list"},` +
		`"data":{"type":"string","description":"Data to write for write"},` +
		`"keys":{"type":"array","items":{"type":"string"},"description":"Key tokens to send for send-keys"},` +
		`"hex":{"type":"array","items":{"type":"string"},"description":"Hex bytes to send for send-keys"},` +
		`"literal":{"type":"string","description":"Literal string for send-keys"},` +
		`"text":{"type":"string","description":"Text to paste for paste"},` +
		`"bracketed":{"type":"boolean","description":"Wrap paste in bracketed mode"},` +
		`"eof":{"type":"boolean","description":"Close stdin after write"},` +
		`"offset":{"type":"number","description":"Log offset"},` +
		`"limit":{"type":"number","description":"Log length"}},"required":["action"]}`),
}

type processArgs struct {
	Action    string   `json:"action"`
	SessionID string   `json:"sessionId"`
	Data      string   `json:"data"`
	EOF       bool     `json:"eof"`
	Offset    *float64 `json:"offset"`
	Limit     *float64 `json:"limit"`
}

// ProcessTool is the process tool over t.
func ProcessTool(t *Processes) tools.Tool {
	return tools.Func(processSpec, func(ctx context.Context, c *tools.Call) (agent.ToolResult, error) {
		var a processArgs
		if err := c.Decode(&a); err != nil {
			return agent.ToolResult{}, err
		}
		return t.run(c.Session.Key, a), nil
	})
}

func textDetails(text string, details map[string]any) agent.ToolResult {
	res := tools.JSONResult(details)
	res.Content = []llm.Content{llm.Text(text)}
	return res
}

func failed(text string) agent.ToolResult {
	return textDetails(text, map[string]any{"status": "failed"})
}

func (t *Processes) run(scope string, a processArgs) agent.ToolResult {
	now := t.now()
	if a.Action == "list" {
		var lines []string
		var sessions []map[string]any
		for _, p := range t.List(scope) {
			end := now
			if p.Exited() {
				p.mu.Lock()
				end = p.ended
				p.mu.Unlock()
			}
			st := p.status()
			sessions = append(sessions, map[string]any{"sessionId": p.ID, "status": st, "pid": p.Pid,
				"startedAt": p.Started.UnixMilli(), "runtimeMs": end.Sub(p.Started).Milliseconds(), "cwd": p.Cwd,
				"command": p.Command, "tail": p.out.Tail(2000), "truncated": p.out.Truncated()})
			lines = append(lines, fmt.Sprintf("%s %-9s %s :: %s", p.ID, st, formatDuration(end.Sub(p.Started)), truncateMiddle(p.Command, 120)))
		}
		text := strings.Join(lines, "\n")
		if text == "" {
			text = "No running or recent sessions."
		}
		if sessions == nil {
			sessions = []map[string]any{}
		}
		return textDetails(text, map[string]any{"status": "completed", "sessions": sessions})
	}
	if a.SessionID == "" {
		return failed("sessionId is required for this action.")
	}
	p := t.Get(scope, a.SessionID)
	if p == nil {
		return failed("No session found for " + a.SessionID)
	}
	p.mu.Lock()
	bg := p.bg
	p.mu.Unlock()
	switch a.Action {
	case "poll":
		if !bg {
			return failed(fmt.Sprintf("Session %s is not backgrounded.", a.SessionID))
		}
		out := strings.TrimSpace(p.out.Drain())
		if out == "" {
			out = "(no new output)"
		}
		st := p.status()
		d := map[string]any{"status": st, "sessionId": p.ID, "aggregated": p.out.String()}
		if p.Exited() {
			d["exitCode"] = p.exitCode
			return textDetails(out+"\n\nProcess exited with "+p.exitText()+".", d)
		}
		return textDetails(out+"\n\nProcess still running.", d)
	case "log":
		slice, total := sliceLines(p.out.String(), a.Offset, a.Limit)
		if slice == "" {
			slice = "(no output yet)"
		}
		return textDetails(slice, map[string]any{"status": p.status(), "sessionId": p.ID, "totalLines": total,
			"truncated": p.out.Truncated()})
	case "write":
		if p.Exited() || p.stdin == nil {
			return failed(fmt.Sprintf("Session %s stdin is not writable.", a.SessionID))
		}
		if _, err := io.WriteString(p.stdin, a.Data); err != nil {
			return failed(fmt.Sprintf("Session %s stdin is not writable.", a.SessionID))
		}
		suffix := ""
		if a.EOF {
			p.stdin.Close()
			suffix = " (stdin closed)"
		}
		return textDetails(fmt.Sprintf("Wrote %d bytes to session %s%s.", len(a.Data), a.SessionID, suffix),
			map[string]any{"status": "running", "sessionId": p.ID})
	case "send-keys", "submit", "paste":
		return failed(a.Action + " needs a PTY, which this gateway does not provide; use write.")
	case "kill":
		if p.Exited() {
			return failed("No active session found for " + a.SessionID)
		}
		p.Kill()
		return textDetails("Killed session "+a.SessionID+".", map[string]any{"status": "failed", "name": truncateMiddle(p.Command, 48)})
	case "clear":
		if !p.Exited() {
			return failed("No finished session found for " + a.SessionID)
		}
		t.remove(p.ID)
		return textDetails("Cleared session "+a.SessionID+".", map[string]any{"status": "completed"})
	case "remove":
		if !p.Exited() {
			p.Kill()
		}
		t.remove(p.ID)
		return textDetails("Removed session "+a.SessionID+".", map[string]any{"status": "completed"})
	}
	return failed("Unknown action " + a.Action)
}

// sliceLines is the original's sliceLogLines: offset/limit in lines; a
// limit without offset means the last limit lines.
func sliceLines(text string, offset, limit *float64) (string, int) {
	if text == "" {
		return "", 0
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	n := len(lines)
	start := 0
	if offset != nil && *offset > 0 {
		start = min(int(*offset), n)
	}
	if limit != nil && offset == nil {
		start = max(n-int(max(*limit, 0)), 0)
	}
	end := n
	if limit != nil {
		end = min(start+int(max(*limit, 0)), n)
	}
	return strings.Join(lines[start:end], "\n"), n
}

func formatDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms < 1000 {
		return fmt.Sprintf("%dms", ms)
	}
	s := ms / 1000
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

func truncateMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	half := (n - 3) / 2
	return string(r[:half]) + "..." + string(r[len(r)-half:])
}
