package approvals

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
)

// Security levels: what may run at all.
const (
	SecurityDeny      = "deny"
	SecurityAllowlist = "allowlist"
	SecurityFull      = "full"
)

// Ask modes: when an operator is asked.
const (
	AskOff    = "off"
	AskOnMiss = "on-miss"
	AskAlways = "always"
)

// DefaultSafeBins are the binaries that run without an allowlist entry as
// long as no argument names a file (stdin filters), as the original's.
var DefaultSafeBins = []string{"jq", "grep", "cut", "sort", "uniq", "head", "tail", "tr", "wc"}

// Overrides are the caller's fallbacks for what the file leaves unset (the
// exec tool passes its configured tools.exec security and ask).
type Overrides struct {
	Security, Ask, AskFallback string
	AutoAllowSkills            *bool
}

// Policy is the effective policy of one agent.
type Policy struct {
	Security, Ask, AskFallback string
	AutoAllowSkills            bool
	// Allowlist is the "*" entries, then the agent's.
	Allowlist []wire.ExecApprovalsAllowlistEntry
}

func normSecurity(v, fb string) string {
	switch v {
	case SecurityDeny, SecurityAllowlist, SecurityFull:
		return v
	}
	return fb
}

func normAsk(v, fb string) string {
	switch v {
	case AskOff, AskOnMiss, AskAlways:
		return v
	}
	return fb
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Resolve is the original's resolveExecApprovalsFromFile: agent entry, then
// "*", then the file's defaults, then the overrides, then deny / on-miss /
// deny.
func Resolve(f wire.ExecApprovalsFile, agentID string, o Overrides) Policy {
	if agentID == "" {
		agentID = DefaultAgentID
	}
	var d wire.ExecApprovalsDefaults
	if f.Defaults != nil {
		d = *f.Defaults
	}
	agent, wild := f.Agents[agentID], f.Agents["*"]
	fbSec := firstSet(o.Security, SecurityDeny)
	fbAsk := firstSet(o.Ask, AskOnMiss)
	fbFallback := firstSet(o.AskFallback, SecurityDeny)
	defSec := normSecurity(d.Security, fbSec)
	defAsk := normAsk(d.Ask, fbAsk)
	defFallback := normSecurity(firstSet(d.AskFallback, fbFallback), fbFallback)
	auto := false
	for _, b := range []*bool{agent.AutoAllowSkills, wild.AutoAllowSkills, d.AutoAllowSkills, o.AutoAllowSkills} {
		if b != nil {
			auto = *b
			break
		}
	}
	p := Policy{
		Security:        normSecurity(firstSet(agent.Security, wild.Security, defSec), defSec),
		Ask:             normAsk(firstSet(agent.Ask, wild.Ask, defAsk), defAsk),
		AskFallback:     normSecurity(firstSet(agent.AskFallback, wild.AskFallback, defFallback), defFallback),
		AutoAllowSkills: auto,
	}
	p.Allowlist = append(append(p.Allowlist, wild.Allowlist...), agent.Allowlist...)
	return p
}

// MinSecurity is the stricter of two security levels.
func MinSecurity(a, b string) string {
	order := map[string]int{SecurityDeny: 0, SecurityAllowlist: 1, SecurityFull: 2}
	if order[a] <= order[b] {
		return a
	}
	return b
}

// MaxAsk is the more asking of two ask modes.
func MaxAsk(a, b string) string {
	order := map[string]int{AskOff: 0, AskOnMiss: 1, AskAlways: 2}
	if order[a] >= order[b] {
		return a
	}
	return b
}

// RequiresApproval is the original's requiresExecApproval.
func RequiresApproval(ask, security string, analysisOK, satisfied bool) bool {
	return ask == AskAlways || (ask == AskOnMiss && security == SecurityAllowlist && (!analysisOK || !satisfied))
}

// Resolution is the executable a command segment starts.
type Resolution struct {
	// Raw is the first word as written; ResolvedPath the file it runs
	// ("" when not found); Name the file's base name.
	Raw, ResolvedPath, Name string
}

// Segment is one simple command of a pipeline.
type Segment struct {
	Raw        string
	Argv       []string
	Resolution Resolution
}

// Analysis is a shell command broken into the simple commands it runs.
type Analysis struct {
	OK       bool
	Reason   string
	Segments []Segment
	// Chains are the &&, || and ; parts, each a pipeline of segments.
	Chains [][]Segment
}

// Analyze splits command the way the original's analyzer does: chain
// operators (&&, ||, ;) outside quotes, then pipelines (|), then words.
// Anything whose effect the analysis cannot see is refused, so such a
// command can only run with explicit approval or security=full:
// redirections, subshells, backgrounding, command substitution. Stricter
// than the original: $( and backticks are refused inside double quotes
// too, where the shell still expands them.
func Analyze(command, cwd string, env map[string]string) Analysis {
	parts := splitChain(command)
	if parts == nil {
		parts = []string{command}
	}
	var a Analysis
	for _, part := range parts {
		pipe, reason := splitPipeline(part)
		if reason != "" {
			return Analysis{Reason: reason}
		}
		var chain []Segment
		for _, raw := range pipe {
			argv, ok := tokenize(raw)
			if !ok || len(argv) == 0 {
				return Analysis{Reason: "unable to parse shell segment"}
			}
			chain = append(chain, Segment{Raw: raw, Argv: argv, Resolution: resolveExecutable(argv[0], cwd, env)})
		}
		a.Chains = append(a.Chains, chain)
		a.Segments = append(a.Segments, chain...)
	}
	a.OK = len(a.Segments) > 0
	if !a.OK {
		a.Reason = "empty command"
	}
	return a
}

// scanQuoted walks s outside quotes and escapes, calling on for every
// unquoted character; on returns "" to keep it, "split" to end a part, or
// a rejection reason. Characters inside double quotes go to onDouble.
func scanQuoted(s string, on func(ch, next byte) string, onDouble func(ch, next byte) string) (parts []string, reason string) {
	var buf strings.Builder
	inS, inD, esc := false, false, false
	push := func() {
		if t := strings.TrimSpace(buf.String()); t != "" {
			parts = append(parts, t)
		}
		buf.Reset()
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case esc:
			esc = false
		case inS:
			inS = ch != '\''
		case inD:
			if ch == '"' {
				inD = false
			} else if onDouble != nil {
				if r := onDouble(ch, next); r != "" {
					return nil, r
				}
			}
		case ch == '\\':
			esc = true
		case ch == '\'':
			inS = true
		case ch == '"':
			inD = true
		default:
			switch r := on(ch, next); r {
			case "":
			case "split":
				push()
				continue
			default:
				return nil, r
			}
		}
		buf.WriteByte(ch)
	}
	if esc || inS || inD {
		return nil, "unterminated shell quote/escape"
	}
	push()
	return parts, ""
}

// splitChain splits on &&, || and ; outside quotes; nil when there is no
// chain or it is malformed (an empty part), as the original.
func splitChain(command string) []string {
	found, bad := false, false
	var parts []string
	var buf strings.Builder
	inS, inD, esc := false, false, false
	push := func() {
		t := strings.TrimSpace(buf.String())
		buf.Reset()
		if t == "" {
			bad = true
			return
		}
		parts = append(parts, t)
	}
	for i := 0; i < len(command); i++ {
		ch := command[i]
		switch {
		case esc:
			esc = false
		case inS:
			inS = ch != '\''
		case inD:
			inD = ch != '"'
		case ch == '\\':
			esc = true
		case ch == '\'':
			inS = true
		case ch == '"':
			inD = true
		case (ch == '&' || ch == '|') && i+1 < len(command) && command[i+1] == ch:
			push()
			found = true
			i++
			continue
		case ch == ';':
			push()
			found = true
			continue
		}
		buf.WriteByte(ch)
	}
	last := strings.TrimSpace(buf.String())
	if !found || bad || last == "" {
		return nil
	}
	return append(parts, last)
}

// splitPipeline splits one chain part on | and refuses what the analysis
// cannot follow.
func splitPipeline(command string) ([]string, string) {
	splits := 0
	parts, reason := scanQuoted(command, func(ch, next byte) string {
		switch {
		case ch == '|' && next == '|':
			return "unsupported shell token: ||"
		case ch == '|' && next == '&':
			return "unsupported shell token: |&"
		case ch == '|':
			splits++
			return "split"
		case ch == '&' || ch == ';' || ch == '>' || ch == '<' || ch == '`' || ch == '\n' || ch == '\r' || ch == '(' || ch == ')':
			return "unsupported shell token: " + string(ch)
		case ch == '$' && next == '(':
			return "unsupported shell token: $()"
		}
		return ""
	}, func(ch, next byte) string {
		if ch == '`' {
			return "unsupported shell token: `"
		}
		if ch == '$' && next == '(' {
			return "unsupported shell token: $()"
		}
		return ""
	})
	if reason != "" {
		return nil, reason
	}
	if len(parts) == 0 {
		return nil, "empty command"
	}
	if len(parts) != splits+1 {
		return nil, "empty pipeline segment"
	}
	return parts, ""
}

// tokenize splits a simple command into words, removing quotes and
// escapes.
func tokenize(seg string) ([]string, bool) {
	var out []string
	var buf strings.Builder
	inS, inD, esc := false, false, false
	for i := 0; i < len(seg); i++ {
		ch := seg[i]
		switch {
		case esc:
			buf.WriteByte(ch)
			esc = false
		case inS:
			if ch == '\'' {
				inS = false
			} else {
				buf.WriteByte(ch)
			}
		case inD:
			if ch == '"' {
				inD = false
			} else {
				buf.WriteByte(ch)
			}
		case ch == '\\':
			esc = true
		case ch == '\'':
			inS = true
		case ch == '"':
			inD = true
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f':
			if buf.Len() > 0 {
				out = append(out, buf.String())
				buf.Reset()
			}
		default:
			buf.WriteByte(ch)
		}
	}
	if esc || inS || inD {
		return nil, false
	}
	if buf.Len() > 0 {
		out = append(out, buf.String())
	}
	return out, true
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || st.Mode().Perm()&0o111 != 0
}

// resolveExecutable finds the file raw runs: a path (relative to cwd) or
// a PATH lookup with env's PATH, else the gateway's.
func resolveExecutable(raw, cwd string, env map[string]string) Resolution {
	r := Resolution{Raw: raw, Name: raw}
	exp := expandHome(raw)
	if strings.ContainsAny(exp, `/\`) {
		if !filepath.IsAbs(exp) {
			exp = filepath.Join(cwdOr(cwd), exp)
		}
		if isExecutable(exp) {
			r.ResolvedPath, r.Name = exp, filepath.Base(exp)
		}
		return r
	}
	path, ok := env["PATH"]
	if !ok {
		path = os.Getenv("PATH")
	}
	exts := []string{""}
	if runtime.GOOS == "windows" && filepath.Ext(exp) == "" {
		exts = strings.Split(strings.ToLower(firstSet(os.Getenv("PATHEXT"), ".EXE;.CMD;.BAT;.COM")), ";")
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		for _, ext := range exts {
			c := filepath.Join(dir, exp+ext)
			if isExecutable(c) {
				r.ResolvedPath, r.Name = c, filepath.Base(c)
				return r
			}
		}
	}
	return r
}

func cwdOr(cwd string) string {
	if strings.TrimSpace(cwd) != "" {
		return cwd
	}
	wd, _ := os.Getwd()
	return wd
}

// candidatePath is the path an allowlist pattern is matched against: the
// resolved file, or a path-like first word even when it does not exist.
func candidatePath(r Resolution, cwd string) string {
	if r.ResolvedPath != "" {
		return r.ResolvedPath
	}
	exp := expandHome(strings.TrimSpace(r.Raw))
	if !strings.ContainsAny(exp, `/\`) {
		return ""
	}
	if filepath.IsAbs(exp) {
		return exp
	}
	return filepath.Join(cwdOr(cwd), exp)
}

// matchTarget lowercases and uses forward slashes, as the original does
// before matching.
func matchTarget(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	return strings.ToLower(s)
}

// globMatch matches target against a glob where ** is any run, * a run
// without '/', and ? one character; both are already normalised.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	starP, starS, starAny := -1, 0, false
	for sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; {
			case c == '*' && px+1 < len(pat) && pat[px+1] == '*':
				starP, starS, starAny = px, sx, true
				px += 2
				continue
			case c == '*':
				starP, starS, starAny = px, sx, false
				px++
				continue
			case c == '?' || c == s[sx]:
				px++
				sx++
				continue
			}
		}
		if starP >= 0 && (starAny || s[starS] != '/') {
			starS++
			sx = starS
			px = starP + 1
			if starAny {
				px = starP + 2
			}
			continue
		}
		return false
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// MatchAllowlist returns the first entry whose path pattern matches the
// resolved path (patterns without a path separator or ~ never match: a
// bare name would allow any binary of that name anywhere).
func MatchAllowlist(entries []wire.ExecApprovalsAllowlistEntry, resolvedPath string) *wire.ExecApprovalsAllowlistEntry {
	if resolvedPath == "" {
		return nil
	}
	target := matchTarget(resolvedPath)
	for i := range entries {
		p := strings.TrimSpace(entries[i].Pattern)
		if p == "" || !strings.ContainsAny(p, `/\~`) {
			continue
		}
		if globMatch(matchTarget(expandHome(p)), target) {
			return &entries[i]
		}
	}
	return nil
}

func isPathLike(v string) bool {
	v = strings.TrimSpace(v)
	switch {
	case v == "" || v == "-":
		return false
	case strings.HasPrefix(v, "./"), strings.HasPrefix(v, "../"), strings.HasPrefix(v, "~"), strings.HasPrefix(v, "/"):
		return true
	}
	return len(v) >= 3 && ((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) && v[1] == ':' && (v[2] == '\\' || v[2] == '/')
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// isSafeBinUsage: a safe bin, resolved on PATH, with no argument naming a
// file (so it can only filter its stdin).
func isSafeBinUsage(seg Segment, safe map[string]bool, cwd string) bool {
	if len(safe) == 0 || seg.Resolution.ResolvedPath == "" {
		return false
	}
	name := strings.ToLower(seg.Resolution.Name)
	if !safe[name] && !(runtime.GOOS == "windows" && safe[strings.TrimSuffix(name, filepath.Ext(name))]) {
		return false
	}
	dir := cwdOr(cwd)
	for _, tok := range seg.Argv[1:] {
		if tok == "" || tok == "-" {
			continue
		}
		if strings.HasPrefix(tok, "-") {
			if eq := strings.IndexByte(tok, '='); eq > 0 {
				if v := tok[eq+1:]; v != "" && (isPathLike(v) || exists(filepath.Join(dir, v))) {
					return false
				}
			}
			continue
		}
		if isPathLike(tok) || exists(filepath.Join(dir, tok)) {
			return false
		}
	}
	return true
}

// Evaluation is whether an analysed command is covered by the allowlist.
type Evaluation struct {
	Satisfied bool
	Matches   []wire.ExecApprovalsAllowlistEntry
}

// EvalParams are the inputs of Evaluate.
type EvalParams struct {
	Allowlist       []wire.ExecApprovalsAllowlistEntry
	SafeBins        map[string]bool
	Cwd             string
	SkillBins       map[string]bool
	AutoAllowSkills bool
}

// Evaluate reports whether every segment of every chain part is allowed:
// by an allowlist pattern, as a safe bin, or as a skill's binary when
// autoAllowSkills is on.
func Evaluate(a Analysis, p EvalParams) Evaluation {
	if !a.OK || len(a.Segments) == 0 {
		return Evaluation{}
	}
	allowSkills := p.AutoAllowSkills && len(p.SkillBins) > 0
	var ev Evaluation
	for _, seg := range a.Segments {
		m := MatchAllowlist(p.Allowlist, candidatePath(seg.Resolution, p.Cwd))
		if m != nil {
			ev.Matches = append(ev.Matches, *m)
			continue
		}
		if isSafeBinUsage(seg, p.SafeBins, p.Cwd) {
			continue
		}
		if allowSkills && p.SkillBins[seg.Resolution.Name] {
			continue
		}
		return Evaluation{}
	}
	ev.Satisfied = true
	return ev
}

// SafeBinSet normalises a safe bin list (nil: the defaults).
func SafeBinSet(list []string) map[string]bool {
	if list == nil {
		list = DefaultSafeBins
	}
	out := map[string]bool{}
	for _, b := range list {
		if b = strings.ToLower(strings.TrimSpace(b)); b != "" {
			out[b] = true
		}
	}
	return out
}
