package supervise

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf16"
)

// The original ran its Windows gateway as a Scheduled Task, not a service
// (doc/supervision.md §3.4): `schtasks /Create /SC ONLOGON /RL LIMITED /TN
// "Clawdbot Gateway[ (P)]" /TR "<state>\gateway.cmd"`, where gateway.cmd
// sets the environment (the token included, in plain text) and runs node.
// doctor finds such a task and migrates it to our service; these helpers
// read it.

// OriginalTaskName is the original's Scheduled Task name for profile (doc/supervision.md
// §2.1): "Clawdbot Gateway", or "Clawdbot Gateway (P)" for a named profile.
func OriginalTaskName(profile string) string {
	p := strings.TrimSpace(profile)
	if p == "" || strings.EqualFold(p, "default") {
		return "Clawdbot Gateway"
	}
	return "Clawdbot Gateway (" + p + ")"
}

// OriginalTaskScript is the name of the original's wrapper script in the
// state dir.
const OriginalTaskScript = "gateway.cmd"

// ScheduledTask is what a task's XML says about how it runs.
type ScheduledTask struct {
	// Name is the task's path without the leading backslash.
	Name string
	// Command is the program the task runs (unquoted); for the original's
	// task, the gateway.cmd path.
	Command    string
	Arguments  string
	WorkingDir string
	// OnLogon says a logon trigger starts it (the original's /SC ONLOGON).
	OnLogon  bool
	Enabled  bool
	UserID   string
	RunLevel string
}

// taskXML is the part of the Task Scheduler schema we read.
type taskXML struct {
	URI      string `xml:"RegistrationInfo>URI"`
	Triggers struct {
		Logon []struct {
			Enabled string `xml:"Enabled"`
		} `xml:"LogonTrigger"`
	} `xml:"Triggers"`
	Enabled string `xml:"Settings>Enabled"`
	Exec    []struct {
		Command          string `xml:"Command"`
		Arguments        string `xml:"Arguments"`
		WorkingDirectory string `xml:"WorkingDirectory"`
	} `xml:"Actions>Exec"`
	Principal struct {
		UserID   string `xml:"UserId"`
		RunLevel string `xml:"RunLevel"`
	} `xml:"Principals>Principal"`
}

var xmlDecl = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*<\?xml[^>]*\?>`) })

// ParseTaskXML reads the output of `schtasks /Query /TN <name> /XML`. It
// accepts UTF-16 (with a byte-order mark, as the Task Scheduler stores and
// exports it) and the 8-bit text schtasks writes into a pipe, whose
// declaration still says encoding="UTF-16".
func ParseTaskXML(data []byte) (ScheduledTask, error) {
	text, err := decodeTaskText(data)
	if err != nil {
		return ScheduledTask{}, err
	}
	text = xmlDecl().ReplaceAllString(text, "")
	var x taskXML
	if err := xml.Unmarshal([]byte(text), &x); err != nil {
		return ScheduledTask{}, fmt.Errorf("task xml: %w", err)
	}
	if len(x.Exec) == 0 {
		return ScheduledTask{}, errors.New("task xml: the task has no Exec action")
	}
	t := ScheduledTask{
		Name:       strings.TrimPrefix(strings.TrimSpace(x.URI), `\`),
		Command:    unquoteCmd(strings.TrimSpace(x.Exec[0].Command)),
		Arguments:  strings.TrimSpace(x.Exec[0].Arguments),
		WorkingDir: unquoteCmd(strings.TrimSpace(x.Exec[0].WorkingDirectory)),
		Enabled:    !strings.EqualFold(strings.TrimSpace(x.Enabled), "false"),
		UserID:     strings.TrimSpace(x.Principal.UserID),
		RunLevel:   strings.TrimSpace(x.Principal.RunLevel),
	}
	for _, l := range x.Triggers.Logon {
		if !strings.EqualFold(strings.TrimSpace(l.Enabled), "false") {
			t.OnLogon = true
		}
	}
	return t, nil
}

// decodeTaskText turns UTF-16 (BOM-marked, either order) or UTF-8 into a
// string.
func decodeTaskText(b []byte) (string, error) {
	var order func([]byte) uint16
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		order = func(p []byte) uint16 { return uint16(p[0]) | uint16(p[1])<<8 }
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		order = func(p []byte) uint16 { return uint16(p[1]) | uint16(p[0])<<8 }
	default:
		return string(bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})), nil
	}
	b = b[2:]
	if len(b)%2 != 0 {
		return "", errors.New("task xml: truncated UTF-16")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// ParseTaskScript reads the original's gateway.cmd (doc/supervision.md §3.4) the way the
// original read it back: `@echo` and `rem` lines skipped, `set K=V` into
// Env, `cd /d DIR` into WorkingDir, and the first other line is the command
// line. Platform is Windows; Name is unknown (the task holds it).
func ParseTaskScript(data []byte) (Spec, error) {
	s := Spec{Platform: Windows, Scope: ScopeUser, Env: map[string]string{}}
	text := strings.ReplaceAll(strings.TrimPrefix(string(data), "\uFEFF"), "\r\n", "\n")
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		low := strings.ToLower(line)
		switch {
		case line == "", strings.HasPrefix(low, "@echo"), strings.HasPrefix(low, "rem ") || low == "rem", strings.HasPrefix(low, "::"):
		case strings.HasPrefix(low, "set "):
			kv := strings.TrimSpace(line[4:])
			kv = strings.TrimSuffix(strings.TrimPrefix(kv, `"`), `"`) // set "K=V"
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				s.Env[k] = v
			}
		case strings.HasPrefix(low, "cd /d "):
			s.WorkingDir = unquoteCmd(strings.TrimSpace(line[6:]))
		case s.Program == "":
			words := splitCmdLine(line)
			if len(words) == 0 {
				continue
			}
			s.Program, s.Args = words[0], words[1:]
		}
	}
	if s.Program == "" {
		return Spec{}, errors.New("task script has no command line")
	}
	if s.Args == nil {
		s.Args = []string{}
	}
	s.fillFromEnv()
	return s, nil
}

// splitCmdLine splits a cmd.exe command line into words the way the
// original quoted them: double quotes group, `\"` inside quotes is a quote.
func splitCmdLine(line string) []string {
	var words []string
	var cur strings.Builder
	in, has := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\\' && in && i+1 < len(line) && line[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			in, has = !in, true
		case (ch == ' ' || ch == '\t') && !in:
			if has || cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if has || cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}

func unquoteCmd(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// ErrTaskNotFound is returned by QueryScheduledTask for a task that does
// not exist.
var ErrTaskNotFound = errors.New("scheduled task not found")

// QueryScheduledTask asks the Task Scheduler for a task's definition with
// `schtasks /Query /TN <name> /XML` through the exec seam. A missing task
// is ErrTaskNotFound ("ERROR: The system cannot find the file specified.").
func QueryScheduledTask(ctx context.Context, r Runner, name string) (ScheduledTask, error) {
	out, err := run(ctx, r, "schtasks", "/Query", "/TN", name, "/XML")
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Out.Text()), "cannot find") {
			return ScheduledTask{}, fmt.Errorf("%w: %s", ErrTaskNotFound, name)
		}
		return ScheduledTask{}, err
	}
	t, err := ParseTaskXML([]byte(out.Stdout))
	if err != nil {
		return ScheduledTask{}, err
	}
	if t.Name == "" {
		t.Name = name
	}
	return t, nil
}

// EndScheduledTask stops a task's running instance (`schtasks /End`); a
// task that is not running is not an error.
func EndScheduledTask(ctx context.Context, r Runner, name string) error {
	_, err := run(ctx, r, "schtasks", "/End", "/TN", name)
	var ce *CommandError
	if errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Out.Text()), "not running") {
		return nil
	}
	return err
}

// RunScheduledTask starts a task (`schtasks /Run`).
func RunScheduledTask(ctx context.Context, r Runner, name string) error {
	_, err := run(ctx, r, "schtasks", "/Run", "/TN", name)
	return err
}

// DeleteScheduledTask removes a task (`schtasks /Delete /F`).
func DeleteScheduledTask(ctx context.Context, r Runner, name string) error {
	_, err := run(ctx, r, "schtasks", "/Delete", "/F", "/TN", name)
	return err
}
