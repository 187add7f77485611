package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

func init() {
	exits := []ExitCode{{ExitOK, "done (also 'Already allowlisted.' and 'Pattern not found.')"},
		{ExitFailure, "not reachable, refused, bad input, or the gateway refused the change"}, {Code: ExitUsage}}
	Register(&Command{Path: "approvals get", Summary: "show the exec approvals policy", Run: runApprovalsGet, Exits: exits})
	Register(&Command{Path: "approvals set", Summary: "replace the exec approvals policy with a JSON file", Run: runApprovalsSet, Exits: exits})
	Register(&Command{Path: "approvals allowlist add", Summary: "add a glob pattern to an agent's exec allowlist", Run: runAllowlistAdd, Exits: exits})
	Register(&Command{Path: "approvals allowlist remove", Summary: "remove a glob pattern from an agent's exec allowlist", Run: runAllowlistRemove, Exits: exits})
}

// approvalsFlags are the original's flags of every approvals command.
// Unlike the original, which edits the local file unless --gateway or
// --node is given, these commands always go through the gateway: it owns
// the file, its lock and the base-hash check, so a CLI edit cannot race
// an allow-always decision. --gateway is accepted for compatibility.
type approvalsFlags struct {
	cf      clientFlags
	node    string
	gateway bool
	json    bool
}

func (f *approvalsFlags) register(env *Env, path, usage string) *pflag.FlagSet {
	fs := env.FlagSet(path, usage)
	fs.StringVar(&f.node, "node", "", "target node id (its own approvals file, through the gateway)")
	fs.BoolVar(&f.gateway, "gateway", false, "target the gateway's approvals (the default here)")
	fs.BoolVar(&f.json, "json", false, "print the snapshot as JSON")
	f.cf.register(fs, true)
	return fs
}

type approvalsTarget struct {
	t     gatewayTarget
	label string
	f     *approvalsFlags
}

func (a approvalsTarget) load(env *Env) (wire.ExecApprovalsSnapshot, int, bool) {
	method, params := "exec.approvals.get", map[string]any{}
	if a.f.node != "" {
		method, params = "exec.approvals.node.get", map[string]any{"nodeId": a.f.node}
	}
	var snap wire.ExecApprovalsSnapshot
	raw, err := callGateway(env, a.t, a.f.cf.timeout(), method, params)
	if err != nil {
		return snap, reportGatewayError(env, a.t, "Exec approvals", err), false
	}
	if err := json.Unmarshal(raw, &snap); err != nil || snap.Hash == "" {
		return snap, env.Fail(ExitFailure, CodeBadResponse, "Exec approvals hash missing; reload and retry.", ""), false
	}
	return snap, 0, true
}

func (a approvalsTarget) save(env *Env, f wire.ExecApprovalsFile, hash string) int {
	method, params := "exec.approvals.set", map[string]any{"file": f, "baseHash": hash}
	if a.f.node != "" {
		method, params["nodeId"] = "exec.approvals.node.set", a.f.node
	}
	raw, err := callGateway(env, a.t, a.f.cf.timeout(), method, params)
	if err != nil {
		return reportGatewayError(env, a.t, "Exec approvals", err)
	}
	return a.print(env, raw, true)
}

func (a approvalsTarget) print(env *Env, raw json.RawMessage, saved bool) int {
	if a.f.json {
		fmt.Fprintln(env.Stdout, string(raw))
		return ExitOK
	}
	var snap wire.ExecApprovalsSnapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return env.Fail(ExitFailure, CodeBadResponse, "unexpected exec approvals result: "+err.Error(), "")
	}
	if saved {
		fmt.Fprintf(env.Stdout, "Target: %s\n", a.label)
	}
	renderApprovals(env.Stdout, snap, a.label, time.Now())
	return ExitOK
}

func approvalsStart(env *Env, f *approvalsFlags, path, usage string, nargs int, args []string) (approvalsTarget, []string, int, bool) {
	fs := f.register(env, path, usage)
	if code, ok := env.Parse(fs, args, nargs); !ok {
		return approvalsTarget{}, nil, code, false
	}
	if fs.NArg() != nargs {
		return approvalsTarget{}, nil, env.Usagef(path, "%s: usage: clawdbot %s", path, usage), false
	}
	t, err := resolveGatewayTarget(env, f.cf)
	if err != nil {
		return approvalsTarget{}, nil, env.Errorf("%v", err), false
	}
	label := "gateway"
	if f.node != "" {
		label = "node:" + f.node
	}
	return approvalsTarget{t: t, label: label, f: f}, fs.Args(), 0, true
}

func runApprovalsGet(env *Env, args []string) int {
	var f approvalsFlags
	a, _, code, ok := approvalsStart(env, &f, "approvals get", "approvals get [--node ID] [--json]", 0, args)
	if !ok {
		return code
	}
	snap, code, ok := a.load(env)
	if !ok {
		return code
	}
	raw, _ := json.Marshal(snap)
	return a.print(env, raw, false)
}

func runApprovalsSet(env *Env, args []string) int {
	var f approvalsFlags
	var file string
	var stdin bool
	fs := f.register(env, "approvals set", "approvals set (--file PATH | --stdin) [--node ID] [--json]")
	fs.StringVar(&file, "file", "", "path to the JSON (or JSON5) file to upload")
	fs.BoolVar(&stdin, "stdin", false, "read the JSON from stdin")
	if code, ok := env.Parse(fs, args, 0); !ok {
		return code
	}
	if file == "" && !stdin {
		return env.Fail(ExitFailure, CodeFailed, "Provide --file or --stdin.", "")
	}
	if file != "" && stdin {
		return env.Fail(ExitFailure, CodeFailed, "Use either --file or --stdin (not both).", "")
	}
	var raw []byte
	var err error
	if stdin {
		raw, err = io.ReadAll(io.LimitReader(env.Stdin, 16<<20))
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return env.Fail(ExitFailure, CodeFailed, "cannot read approvals JSON: "+err.Error(), "")
	}
	var next wire.ExecApprovalsFile
	if err := decodeJSON5(raw, &next); err != nil {
		return env.Fail(ExitFailure, CodeFailed, "Failed to parse approvals JSON: "+err.Error(), "fix the file; it must be a version 1 exec-approvals object")
	}
	next.Version = 1
	t, err := resolveGatewayTarget(env, f.cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	a := approvalsTarget{t: t, label: "gateway", f: &f}
	if f.node != "" {
		a.label = "node:" + f.node
	}
	snap, code, ok := a.load(env)
	if !ok {
		return code
	}
	return a.save(env, next, snap.Hash)
}

// decodeJSON5 accepts the JSON5 the original's set reads (comments,
// trailing commas) by normalising it through the config parser.
func decodeJSON5(raw []byte, v any) error {
	norm, err := profiles.FormatJSON(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(norm, v)
}

func agentKey(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "*"
	}
	return s
}

func allowlistEdit(env *Env, args []string, add bool) int {
	var f approvalsFlags
	var agent string
	path, verb := "approvals allowlist remove", "remove"
	if add {
		path, verb = "approvals allowlist add", "add"
	}
	fs := f.register(env, path, "approvals allowlist "+verb+" <pattern> [--agent ID] [--node ID] [--json]")
	fs.StringVar(&agent, "agent", "", `agent id (defaults to "*")`)
	if code, ok := env.Parse(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		return env.Fail(ExitFailure, CodeFailed, "Pattern required.", "")
	}
	pattern := strings.TrimSpace(fs.Arg(0))
	t, err := resolveGatewayTarget(env, f.cf)
	if err != nil {
		return env.Errorf("%v", err)
	}
	a := approvalsTarget{t: t, label: "gateway", f: &f}
	if f.node != "" {
		a.label = "node:" + f.node
	}
	snap, code, ok := a.load(env)
	if !ok {
		return code
	}
	file := snap.File
	file.Version = 1
	file.Socket = nil // keep the gateway's socket settings
	if file.Agents == nil {
		file.Agents = map[string]wire.ExecApprovalsAgent{}
	}
	key := agentKey(agent)
	ag := file.Agents[key]
	idx := -1
	for i, e := range ag.Allowlist {
		if strings.TrimSpace(e.Pattern) == pattern {
			idx = i
		}
	}
	if add {
		if idx >= 0 {
			fmt.Fprintln(env.Stdout, "Already allowlisted.")
			return ExitOK
		}
		now := time.Now().UnixMilli()
		ag.Allowlist = append(ag.Allowlist, wire.ExecApprovalsAllowlistEntry{Pattern: pattern, LastUsedAt: &now})
		file.Agents[key] = ag
	} else {
		if idx < 0 {
			fmt.Fprintln(env.Stdout, "Pattern not found.")
			return ExitOK
		}
		ag.Allowlist = append(ag.Allowlist[:idx:idx], ag.Allowlist[idx+1:]...)
		if len(ag.Allowlist) == 0 && ag.Security == "" && ag.Ask == "" && ag.AskFallback == "" && ag.AutoAllowSkills == nil {
			delete(file.Agents, key)
		} else {
			file.Agents[key] = ag
		}
	}
	return a.save(env, file, snap.Hash)
}

func runAllowlistAdd(env *Env, args []string) int    { return allowlistEdit(env, args, true) }
func runAllowlistRemove(env *Env, args []string) int { return allowlistEdit(env, args, false) }

func approvalAge(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm", s/60)
	case s < 86400:
		return fmt.Sprintf("%dh", s/3600)
	}
	return fmt.Sprintf("%dd", s/86400)
}

// renderApprovals prints the original's summary and allowlist tables.
func renderApprovals(w io.Writer, snap wire.ExecApprovalsSnapshot, target string, now time.Time) {
	f := snap.File
	var defs []string
	if d := f.Defaults; d != nil {
		for _, kv := range [][2]string{{"security", d.Security}, {"ask", d.Ask}, {"askFallback", d.AskFallback}} {
			if kv[1] != "" {
				defs = append(defs, kv[0]+"="+kv[1])
			}
		}
		if d.AutoAllowSkills != nil {
			defs = append(defs, map[bool]string{true: "autoAllowSkills=on", false: "autoAllowSkills=off"}[*d.AutoAllowSkills])
		}
	}
	var rows [][]string
	agents := make([]string, 0, len(f.Agents))
	for k := range f.Agents {
		agents = append(agents, k)
	}
	sort.Strings(agents)
	for _, id := range agents {
		for _, e := range f.Agents[id].Allowlist {
			if strings.TrimSpace(e.Pattern) == "" {
				continue
			}
			used := "unknown"
			if e.LastUsedAt != nil {
				used = approvalAge(now.Sub(time.UnixMilli(*e.LastUsedAt))) + " ago"
			}
			rows = append(rows, []string{target, id, e.Pattern, used})
		}
	}
	sock := "default"
	if f.Socket != nil && f.Socket.Path != "" {
		sock = f.Socket.Path
	}
	defText := "none"
	if len(defs) > 0 {
		defText = strings.Join(defs, ", ")
	}
	exists := map[bool]string{true: "yes", false: "no"}[snap.Exists]
	fmt.Fprintln(w, "Approvals")
	printTable(w, []string{"Field", "Value"}, [][]string{{"Target", target}, {"Path", snap.Path}, {"Exists", exists},
		{"Hash", snap.Hash}, {"Version", fmt.Sprint(max(f.Version, 1))}, {"Socket", sock}, {"Defaults", defText},
		{"Agents", fmt.Sprint(len(f.Agents))}, {"Allowlist", fmt.Sprint(len(rows))}})
	fmt.Fprintln(w)
	if len(rows) == 0 {
		fmt.Fprintln(w, "No allowlist entries.")
		return
	}
	fmt.Fprintln(w, "Allowlist")
	printTable(w, []string{"Target", "Agent", "Pattern", "Last Used"}, rows)
}

// printTable prints left-aligned columns.
func printTable(w io.Writer, head []string, rows [][]string) {
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(cells)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(head)
	for _, r := range rows {
		line(r)
	}
}
