package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

func init() {
	Register(&Command{Path: "sessions", Summary: "list the stored conversation sessions", Run: runSessions, Exits: sessionsExits})
}

var sessionsExits = []ExitCode{
	{ExitOK, "listed (also when there are none)"},
	{ExitFailure, "bad --active value, or the session store cannot be read"},
	{Code: ExitUsage},
}

// sessionsRow is one --json row, in the original's key order
// (doc/messaging.md §3.3; d:commands/sessions.js).
type sessionsRow struct {
	Key             string `json:"key"`
	Kind            string `json:"kind"`
	UpdatedAt       *int64 `json:"updatedAt"`
	AgeMs           *int64 `json:"ageMs"`
	SessionID       string `json:"sessionId,omitempty"`
	SystemSent      *bool  `json:"systemSent,omitempty"`
	AbortedLastRun  *bool  `json:"abortedLastRun,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
	VerboseLevel    string `json:"verboseLevel,omitempty"`
	ReasoningLevel  string `json:"reasoningLevel,omitempty"`
	ElevatedLevel   string `json:"elevatedLevel,omitempty"`
	ResponseUsage   string `json:"responseUsage,omitempty"`
	GroupActivation string `json:"groupActivation,omitempty"`
	InputTokens     *int64 `json:"inputTokens,omitempty"`
	OutputTokens    *int64 `json:"outputTokens,omitempty"`
	TotalTokens     *int64 `json:"totalTokens,omitempty"`
	Model           string `json:"model"`
	ContextTokens   int64  `json:"contextTokens"`
}

type sessionsOutput struct {
	Path          string        `json:"path"`
	Count         int           `json:"count"`
	ActiveMinutes *int          `json:"activeMinutes"`
	Sessions      []sessionsRow `json:"sessions"`
}

// runSessions lists the default agent's session store. Like the original
// it reads the file directly, without the gateway: the store is a local
// file both can read, and the command works while no gateway runs.
func runSessions(env *Env, args []string) int {
	var asJSON bool
	var active, store string
	fs := env.FlagSet("sessions", "sessions [--json] [--active MINUTES] [--store PATH]")
	fs.BoolVar(&asJSON, "json", false, "print the sessions as JSON")
	fs.StringVar(&active, "active", "", "only sessions updated within the last MINUTES")
	fs.StringVar(&store, "store", "", "read this sessions.json instead of the default agent's")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	var activeMinutes *int
	if fs.Changed("active") {
		n, err := strconv.Atoi(strings.TrimSpace(active))
		if err != nil || n <= 0 {
			return env.Fail(ExitFailure, CodeFailed, "--active must be a positive integer (minutes)", "")
		}
		activeMinutes = &n
	}
	p, err := env.ResolveProfile(0)
	if err != nil {
		return env.Errorf("%v", err)
	}
	raw, _ := os.ReadFile(p.ConfigPath)
	cfg := sessionstore.ParseConfig(raw)
	path := store
	if path == "" {
		path = cfg.StorePathFor(p.StateDir, p.Home, cfg.DefaultAgentID())
	}
	rows, err := sessionstore.ReadStoreFile(path)
	if err != nil {
		return env.Errorf("%v", err)
	}
	now := time.Now().UnixMilli()
	ctxTokens := cfg.ContextTokens
	if ctxTokens == 0 {
		ctxTokens = sessionstore.DefaultContextTokens
	}
	out := sessionsOutput{Path: path, ActiveMinutes: activeMinutes, Sessions: []sessionsRow{}}
	for _, r := range rows {
		e := r.Entry
		row := sessionsRow{Key: r.Key, Kind: sessionstore.Kind(r.Key, &e), SessionID: e.SessionID,
			SystemSent: e.SystemSent, AbortedLastRun: e.AbortedLastRun, ThinkingLevel: e.ThinkingLevel,
			VerboseLevel: e.VerboseLevel, ReasoningLevel: e.ReasoningLevel, ElevatedLevel: e.ElevatedLevel,
			ResponseUsage: e.ResponseUsage, GroupActivation: e.GroupActivation, InputTokens: e.InputTokens,
			OutputTokens: e.OutputTokens, TotalTokens: e.TotalTokens, Model: e.Model, ContextTokens: ctxTokens}
		if row.Model == "" {
			row.Model = cfg.Model
		}
		if e.ContextTokens != nil {
			row.ContextTokens = *e.ContextTokens
		}
		if e.UpdatedAt != 0 {
			u, age := e.UpdatedAt, now-e.UpdatedAt
			row.UpdatedAt, row.AgeMs = &u, &age
		}
		if activeMinutes != nil && (row.UpdatedAt == nil || now-*row.UpdatedAt > int64(*activeMinutes)*60_000) {
			continue
		}
		out.Sessions = append(out.Sessions, row)
	}
	slices.SortStableFunc(out.Sessions, func(a, b sessionsRow) int { return int(cmpUpdated(b) - cmpUpdated(a)) })
	out.Count = len(out.Sessions)
	if asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		env.Stdout.Write(buf.Bytes())
		return ExitOK
	}
	w := env.Stdout
	fmt.Fprintf(w, "Session store: %s\n", path)
	fmt.Fprintf(w, "Sessions listed: %d\n", out.Count)
	if activeMinutes != nil {
		fmt.Fprintf(w, "Filtered to last %d minute(s)\n", *activeMinutes)
	}
	if out.Count == 0 {
		fmt.Fprintln(w, "No sessions found.")
		return ExitOK
	}
	fmt.Fprintln(w, strings.Join([]string{pad("Kind", 6), pad("Key", 26), pad("Age", 9), pad("Model", 14), pad("Tokens (ctx %)", 20), "Flags"}, " "))
	for _, r := range out.Sessions {
		var total int64
		switch {
		case r.TotalTokens != nil:
			total = *r.TotalTokens
		default:
			if r.InputTokens != nil {
				total += *r.InputTokens
			}
			if r.OutputTokens != nil {
				total += *r.OutputTokens
			}
		}
		line := strings.Join([]string{pad(r.Kind, 6), pad(truncateKey(r.Key), 26), pad(formatAge(r.AgeMs), 9),
			pad(r.Model, 14), tokensCell(total, r.ContextTokens), flagsCell(r)}, " ")
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return ExitOK
}

func cmpUpdated(r sessionsRow) int64 {
	if r.UpdatedAt == nil {
		return 0
	}
	return min(max(*r.UpdatedAt, -(1<<50)), 1<<50)
}

func pad(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func truncateKey(k string) string {
	if len(k) <= 26 {
		return k
	}
	return k[:16] + "..." + k[len(k)-6:]
}

// formatAge is the original's formatAge (rounded minutes, hours, days).
func formatAge(ms *int64) string {
	if ms == nil || *ms <= 0 {
		return "unknown"
	}
	minutes := math.Round(float64(*ms) / 60000)
	switch {
	case minutes < 1:
		return "just now"
	case minutes < 60:
		return fmt.Sprintf("%dm ago", int(minutes))
	}
	hours := math.Round(minutes / 60)
	if hours < 48 {
		return fmt.Sprintf("%dh ago", int(hours))
	}
	return fmt.Sprintf("%dd ago", int(math.Round(hours/24)))
}

// kTokens is (v/1000).toFixed(v >= 10000 ? 0 : 1) + "k".
func kTokens(v int64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.0fk", float64(v)/1000)
	}
	return fmt.Sprintf("%.1fk", float64(v)/1000)
}

func tokensCell(total, ctx int64) string {
	if total == 0 {
		return pad("-", 20)
	}
	label := kTokens(total) + "/?" + " (?%)"
	if ctx > 0 {
		pct := min(999, int64(math.Round(float64(total)/float64(ctx)*100)))
		label = fmt.Sprintf("%s/%s (%d%%)", kTokens(total), kTokens(ctx), pct)
	}
	return pad(label, 20)
}

func flagsCell(r sessionsRow) string {
	var f []string
	add := func(cond bool, s string) {
		if cond {
			f = append(f, s)
		}
	}
	add(r.ThinkingLevel != "", "think:"+r.ThinkingLevel)
	add(r.VerboseLevel != "", "verbose:"+r.VerboseLevel)
	add(r.ReasoningLevel != "", "reasoning:"+r.ReasoningLevel)
	add(r.ElevatedLevel != "", "elev:"+r.ElevatedLevel)
	add(r.ResponseUsage != "", "usage:"+r.ResponseUsage)
	add(r.GroupActivation != "", "activation:"+r.GroupActivation)
	add(sessionstore.Flag(r.SystemSent), "system")
	add(sessionstore.Flag(r.AbortedLastRun), "aborted")
	add(r.SessionID != "", "id:"+r.SessionID)
	return strings.Join(f, " ")
}
