package doctor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// errorPatterns are the gateway's startup refusals worth quoting (doc/supervision.md §5.1
// item 7, plus this gateway's own wording).
var errorPatterns = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)refusing to bind gateway|gateway auth mode|gateway start blocked|failed to bind gateway socket|tailscale .* requires|another gateway instance is already listening|port \d+ is held by|gateway already running|invalid config|missing config`)
})

// maxLogTail bounds how much of a log file LastGatewayError reads.
const maxLogTail = 64 << 10

// LastGatewayError finds the gateway's last error line when its service runs
// but the port is closed. Unlike the original (macOS log files only, doc/supervision.md
// §10.8) it reads, in order: the launchd stderr/stdout files, the systemd
// journal (journalctl --user-unit), and the gateway's own file log
// (<state>/logs/gateway-*.log). The first source with a matching line wins;
// otherwise the last error-level line, else the last non-empty line.
func LastGatewayError(ctx context.Context, c *Context, inst supervise.Spec, svc profiles.Profile) string {
	var sources [][]string
	if inst.StderrPath != "" {
		sources = append(sources, tailLines(inst.StderrPath))
	}
	if inst.StdoutPath != "" {
		sources = append(sources, tailLines(inst.StdoutPath))
	}
	if c.Platform == supervise.Systemd && c.Runner != nil && inst.Name != "" {
		jctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		args := []string{"--user-unit", inst.Name, "-n", "200", "--no-pager", "-o", "cat"}
		if inst.Scope == supervise.ScopeSystem {
			args[0] = "--unit"
		}
		if out, err := c.Runner.Run(jctx, "journalctl", args...); err == nil && out.Code == 0 {
			sources = append(sources, splitLines(out.Stdout))
		}
		cancel()
	}
	if dir := svc.LogDir(); dir != "" {
		if files, _ := filepath.Glob(filepath.Join(dir, "gateway-*.log")); len(files) > 0 {
			sort.Strings(files) // gateway-YYYY-MM-DD.log: the newest sorts last
			sources = append(sources, fileLogMessages(tailLines(files[len(files)-1])))
		}
	}
	for _, lines := range sources {
		for i := len(lines) - 1; i >= 0; i-- {
			if errorPatterns().MatchString(lines[i]) {
				return strings.TrimSpace(lines[i])
			}
		}
	}
	for _, lines := range sources {
		for i := len(lines) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" {
				return l
			}
		}
	}
	return ""
}

func tailLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	off := int64(0)
	if fi.Size() > maxLogTail {
		off = fi.Size() - maxLogTail
	}
	buf := make([]byte, fi.Size()-off)
	n, _ := f.ReadAt(buf, off)
	lines := splitLines(string(buf[:n]))
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // partial first line
	}
	return lines
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// fileLogMessages keeps the warn/error lines of the gateway's JSON file log,
// rendered as "level: msg".
func fileLogMessages(lines []string) []string {
	var out []string
	for _, l := range lines {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(l), &rec) != nil || rec.Msg == "" {
			continue
		}
		if rec.Level == "error" || rec.Level == "warn" || rec.Level == "fatal" {
			out = append(out, rec.Level+": "+rec.Msg)
		}
	}
	return out
}
