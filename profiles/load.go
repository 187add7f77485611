package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Snapshot is one read of clawdbot.json: the raw bytes, what they parse to,
// the typed view and everything wrong with them. It is the shape config.get
// returns (doc/protocol.md §3.5) and what the reload watcher diffs.
type Snapshot struct {
	// Path is the file that was read.
	Path string
	// Exists is false when the file is missing; the snapshot is then an
	// empty, valid config.
	Exists bool
	// Raw is the file content as read (nil when missing).
	Raw []byte
	// Hash is Hash(Raw): the base hash for config.set/apply/patch.
	Hash string
	// Parsed is the document as written (before ${ENV} substitution); nil
	// when it does not parse to an object.
	Parsed map[string]any
	// Config is the typed view after ${ENV} substitution; nil when the file
	// does not parse or a value has the wrong type. It may be non-nil while
	// Valid is false (e.g. an unknown enum value), for diagnostics.
	Config *Config
	// Valid is true when there are no Issues.
	Valid bool
	// Issues are errors: syntax, types, enum values, ranges, missing ${ENV}.
	Issues []Issue
	// Warnings do not make the config invalid: unknown keys, duplicate keys.
	Warnings []Issue

	root     *node
	resolved *node // root after ${ENV} substitution (nil when it does not parse)
}

// Issue is one problem found in a config file, with its key path and, when
// known, the line and column of the offending key or value.
type Issue struct {
	File    string `json:"-"`
	Path    string `json:"path"` // dotted key path, arrays as [i]; "" for the whole document
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`   // 1-based, 0 if unknown
	Column  int    `json:"column,omitempty"` // 1-based, in characters
	// Kind tells warnings apart (IssueUnknownKey, IssueDuplicateKey); ""
	// for errors. Not part of the wire shape.
	Kind IssueKind `json:"-"`
}

// IssueKind classifies a warning.
type IssueKind string

// Warning kinds.
const (
	IssueUnknownKey   IssueKind = "unknown-key"
	IssueDuplicateKey IssueKind = "duplicate-key"
)

// UnknownKeys are the config's unknown-key warnings, in file order, each
// with its key path, line:column and did-you-mean ("unknown key (ignored;
// did you mean gateway.port?)"), exactly what 'clawdbot config validate'
// prints. The gateway logs one warning per key at start and on every
// reload and shows them in health/status; they never stop it. A nil or
// unparsable snapshot has none.
func (s *Snapshot) UnknownKeys() []Issue {
	if s == nil {
		return nil
	}
	var out []Issue
	for _, w := range s.Warnings {
		if w.Kind == IssueUnknownKey {
			out = append(out, w)
		}
	}
	return out
}

// String formats the issue as `file:line:col: path: message`, leaving out
// the parts that are unknown.
func (i Issue) String() string {
	var b strings.Builder
	if i.File != "" {
		b.WriteString(i.File)
		if i.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", i.Line, i.Column)
		}
		b.WriteString(": ")
	}
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// EmptyConfigMessage is the issue for a config without a value (empty,
// whitespace or comments only). It starts like the original's parse errors
// ("JSON5 parse failed: ...") so scripts matching that keep working.
const EmptyConfigMessage = "JSON5 parse failed: no value in the file (it is empty or only comments); a config is one JSON5 object, e.g. {gateway: {mode: 'local'}}"

// ConfigError is returned for a config that exists but is invalid. Its
// message is the first issue, so a command can print it as one line.
type ConfigError struct {
	Path   string
	Issues []Issue
}

func (e *ConfigError) Error() string {
	if len(e.Issues) == 0 {
		return "invalid config " + e.Path
	}
	msg := e.Issues[0].String()
	if n := len(e.Issues) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// IsEmptyDocument reports whether the file exists but holds no value (empty,
// whitespace or comments only): invalid, yet nothing in it a writer could
// clobber except comments, which PatchText keeps. setup fills such a file.
func (s *Snapshot) IsEmptyDocument() bool {
	return s != nil && s.Exists && len(s.Issues) == 1 && s.Issues[0].Message == EmptyConfigMessage
}

// Err returns a *ConfigError when the snapshot is invalid, else nil.
func (s *Snapshot) Err() error {
	if s.Valid {
		return nil
	}
	return &ConfigError{Path: s.Path, Issues: s.Issues}
}

// LoadConfig reads and validates the config at path. A missing file gives an
// error wrapping os.ErrNotExist; an invalid one a *ConfigError naming the key
// path and line:column. ${ENV} references are resolved from the process
// environment.
func LoadConfig(path string) (*Config, error) {
	snap, err := Load(path)
	if err != nil {
		return nil, err
	}
	if !snap.Exists {
		return nil, fmt.Errorf("config %s: %w", path, os.ErrNotExist)
	}
	if err := snap.Err(); err != nil {
		return nil, err
	}
	return snap.Config, nil
}

// Load reads the config at path into a Snapshot, resolving ${ENV} from the
// process environment. A missing file is not an error (Exists is false); an
// invalid one is reported in Issues, not as an error. The error is only for
// a file that exists but cannot be read.
func Load(path string) (*Snapshot, error) { return LoadEnv(path, os.Getenv) }

// LoadEnv is Load with an explicit environment for ${ENV} substitution.
func LoadEnv(path string, getenv func(string) string) (*Snapshot, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Snapshot{
			Path: path, Hash: Hash(nil), Parsed: map[string]any{},
			Config: &Config{}, Valid: true, root: &node{kind: kindObject},
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, raw, getenv), nil
}

// ParseConfig builds a Snapshot from raw JSON5 bytes (a file's content or a
// config.set payload); path only labels issues. Input without a value
// (empty, whitespace or comments only) is a parse error, EmptyConfigMessage.
func ParseConfig(path string, raw []byte, getenv func(string) string) *Snapshot {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := &Snapshot{Path: path, Exists: true, Raw: raw, Hash: Hash(raw)}
	root, err := parseJSON5(raw)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			s.Issues = append(s.Issues, Issue{File: path, Message: "syntax error: " + se.Msg, Line: se.Line, Column: se.Column})
		} else {
			s.Issues = append(s.Issues, Issue{File: path, Message: err.Error()})
		}
		return s
	}
	if root == nil {
		// The original's JSON5.parse throws on a document without a value,
		// and so do we: reading it as {} would start (or hot-reload) a
		// gateway with every setting reset and no auth.
		line, col := lineCol(raw, len(raw))
		s.Issues = append(s.Issues, Issue{File: path, Line: line, Column: col, Message: EmptyConfigMessage})
		return s
	}
	if root.kind != kindObject {
		line, col := lineCol(raw, root.off)
		s.Issues = append(s.Issues, Issue{File: path, Message: "the config must be a JSON object ({...}), got " + describe(root), Line: line, Column: col})
		return s
	}
	s.root = root
	s.Parsed = toAny(root).(map[string]any)

	v := &validator{src: raw, file: path, pos: map[string]int{"": root.off}}
	v.walk(root, reflect.TypeOf(Config{}), "")
	resolved := v.substitute(root, "", configEnvFallback(root, getenv))
	s.resolved = resolved
	if len(v.issues) == 0 {
		var buf bytes.Buffer
		encodeJSON(&buf, resolved, "", "")
		var cfg Config
		if err := json.Unmarshal(buf.Bytes(), &cfg); err != nil {
			v.issues = append(v.issues, v.issue("", "cannot decode: "+err.Error()))
		} else {
			s.Config = &cfg
			v.checkRules(resolved)
			v.checkConfig(&cfg)
		}
	}
	sortIssues(v.issues)
	sortIssues(v.warnings)
	s.Issues, s.Warnings = v.issues, v.warnings
	s.Valid = len(s.Issues) == 0
	return s
}

func sortIssues(is []Issue) {
	sort.SliceStable(is, func(a, b int) bool {
		if is[a].Line != is[b].Line {
			return is[a].Line < is[b].Line
		}
		return is[a].Column < is[b].Column
	})
}

// validator walks the parsed tree against the typed Config and collects
// issues with positions.
type validator struct {
	src      []byte
	file     string
	pos      map[string]int // key path → byte offset of its value
	issues   []Issue
	warnings []Issue
}

func (v *validator) issue(path, msg string) Issue {
	it := Issue{File: v.file, Path: path, Message: msg}
	// Use the nearest ancestor with a known position.
	for p := path; ; p = parentPath(p) {
		if off, ok := v.pos[p]; ok {
			it.Line, it.Column = lineCol(v.src, off)
			break
		}
		if p == "" {
			break
		}
	}
	return it
}

func (v *validator) issueAt(path string, off int, msg string) Issue {
	line, col := lineCol(v.src, off)
	return Issue{File: v.file, Path: path, Message: msg, Line: line, Column: col}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// toAny converts a tree to the values encoding/json would decode into an
// any (numbers as float64); it is cheaper than encoding and decoding.
func toAny(n *node) any {
	switch n.kind {
	case kindBool:
		return n.b
	case kindNumber:
		f, _ := strconv.ParseFloat(n.num, 64)
		return f
	case kindString:
		return n.str
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			out[i] = toAny(e)
		}
		return out
	case kindObject:
		out := make(map[string]any, len(n.members))
		for _, m := range n.members {
			out[m.key] = toAny(m.val) // a later duplicate wins
		}
		return out
	}
	return nil
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// walk checks that n fits type t and reports unknown keys below structs.
func (v *validator) walk(n *node, t reflect.Type, path string) {
	v.pos[path] = n.off
	if n.kind == kindNull || t == rawMessageType {
		return // null leaves a field unset, as encoding/json does
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.kind != kindObject {
			msg := "expected object, got " + describe(n)
			if zod, ok := zodObjectPaths[path]; ok && n.kind == kindString {
				msg = zod // the original's own words for this mistake
			}
			v.issues = append(v.issues, v.issueAt(path, n.off, msg))
			return
		}
		fields := jsonFields(t)
		seen := map[string]int{}
		for _, m := range n.members {
			p := joinPath(path, m.key)
			if prev, dup := seen[m.key]; dup {
				w := v.issueAt(p, m.keyOff, fmt.Sprintf("duplicate key (the later one wins; first at offset %d)", prev))
				w.Kind = IssueDuplicateKey
				v.warnings = append(v.warnings, w)
			}
			seen[m.key] = m.keyOff
			if f, ok := fields[m.key]; ok {
				v.walk(m.val, f, p)
				continue
			}
			v.pos[p] = m.val.off
			if knownPassthrough(p) {
				continue
			}
			w := v.issueAt(p, m.keyOff, unknownKeyMessage(p, m.key, fields))
			w.Kind = IssueUnknownKey
			v.warnings = append(v.warnings, w)
		}
	case reflect.Map:
		if n.kind != kindObject {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected object, got "+describe(n)))
			return
		}
		for _, m := range n.members {
			v.walk(m.val, t.Elem(), joinPath(path, m.key))
		}
	case reflect.Slice:
		if n.kind != kindArray {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected array, got "+describe(n)))
			return
		}
		for i, e := range n.elems {
			v.walk(e, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.String:
		if n.kind != kindString {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected string, got "+describe(n)))
		}
	case reflect.Bool:
		if n.kind != kindBool {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected boolean, got "+describe(n)))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.kind != kindNumber {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected integer, got "+describe(n)))
			return
		}
		if _, err := strconv.ParseInt(n.num, 10, 64); err != nil {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected integer, got "+describe(n)))
		}
	case reflect.Float32, reflect.Float64:
		if n.kind != kindNumber {
			v.issues = append(v.issues, v.issueAt(path, n.off, "expected number, got "+describe(n)))
		}
	case reflect.Interface:
		// any value
	}
}

// movedKeys are keys people put in the wrong place; the original ignores
// gateway.token with a hint, and so do we.
var movedKeys = map[string]string{
	"gateway.token":    "gateway.auth.token",
	"gateway.password": "gateway.auth.password",
	"gateway.authMode": "gateway.auth.mode",
	"workspace":        "agents.defaults.workspace",
}

// unknownKeyMessage explains an unknown key, suggesting where it belongs or
// the sibling it is probably a misspelling of.
func unknownKeyMessage(path, key string, fields map[string]reflect.Type) string {
	if to, ok := movedKeys[path]; ok {
		return "unknown key (ignored; did you mean " + to + "?)"
	}
	best, bestD := "", 3
	for f := range fields {
		if d := editDistance(strings.ToLower(key), strings.ToLower(f)); d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	if best != "" && bestD <= 2 && bestD < len(key) {
		return "unknown key (ignored; did you mean " + joinPath(parentPath(path), best) + "?)"
	}
	return "unknown key (ignored; check the spelling)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// jsonFields maps the JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// describe names a value's type for "expected X, got Y" messages.
func describe(n *node) string {
	switch n.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean " + strconv.FormatBool(n.b)
	case kindNumber:
		return "number " + n.num
	case kindString:
		s := n.str
		if len([]rune(s)) > 40 {
			s = string([]rune(s)[:40]) + "…"
		}
		return "string " + strconv.Quote(s)
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// passthrough lists keys of the original clawdbot config that this
// implementation does not model. They are kept verbatim in the file (and in
// Snapshot.Parsed) and are not reported as unknown; anything else under a
// typed section is, so a typo like gateway.prot does not go unnoticed.
var passthrough = map[string]bool{
	// top-level sections of the original schema
	"$schema": true, "$include": true, "meta": true, "auth": true, "wizard": true, "diagnostics": true,
	"update": true, "browser": true, "ui": true, "models": true, "nodeHost": true, "tools": true,
	"bindings": true, "broadcast": true, "audio": true, "media": true, "messages": true,
	"approvals": true, "session": true, "cron": true, "web": true, "discovery": true, "talk": true,
	"skills": true, "plugins": true, "memory": true, "identity": true, "routing": true, "agent": true,
	// gateway.*
	"gateway.tailscale": true, "gateway.tls": true, "gateway.auth.allowTailscale": true,
	"gateway.controlUi.root": true, "gateway.nodes.browser": true,
	// commands.*
	"commands.native": true, "commands.nativeSkills": true, "commands.text": true, "commands.bash": true,
	"commands.bashForegroundMs": true, "commands.config": true, "commands.debug": true,
	"commands.useAccessGroups": true,
	// hooks.*
	"hooks.presets": true, "hooks.transformsDir": true, "hooks.internal": true,
	// logging.*
	"logging.consoleLevel": true, "logging.consoleStyle": true, "logging.redactSensitive": true,
	"logging.redactPatterns": true,
	// models.*
	"models.bedrockDiscovery": true,
	// agents.defaults.*
	"agents.defaults.model": true, "agents.defaults.imageModel": true, "agents.defaults.models": true,
	"agents.defaults.repoRoot": true, "agents.defaults.bootstrapMaxChars": true,
	"agents.defaults.userTimezone": true, "agents.defaults.timeFormat": true,
	"agents.defaults.contextPruning": true, "agents.defaults.compaction": true,
	"agents.defaults.thinkingDefault": true, "agents.defaults.verboseDefault": true,
	"agents.defaults.elevatedDefault": true, "agents.defaults.blockStreamingDefault": true,
	"agents.defaults.blockStreamingBreak": true, "agents.defaults.blockStreamingChunk": true,
	"agents.defaults.blockStreamingCoalesce": true, "agents.defaults.humanDelay": true,
	"agents.defaults.timeoutSeconds": true, "agents.defaults.mediaMaxMb": true,
	"agents.defaults.typingIntervalSeconds": true, "agents.defaults.typingMode": true,
	"agents.defaults.heartbeat": true, "agents.defaults.maxConcurrent": true,
	"agents.defaults.subagents": true, "agents.defaults.sandbox": true,
	"agents.defaults.memorySearch": true, "agents.defaults.contextTokens": true,
	"agents.defaults.cliBackends": true, "agents.defaults.envelopeTimezone": true,
	"agents.defaults.envelopeTimestamp": true, "agents.defaults.envelopeElapsed": true,
}

// zodObjectPaths are objects that people often write as a string, with
// the message the original's schema gives for it (doc/messaging.md §4.2).
var zodObjectPaths = map[string]string{
	"agents.defaults.model": "Invalid input: expected object, received string",
}

func knownPassthrough(path string) bool { return passthrough[path] }

// Enumerations and ranges checked on the document (so an explicit 0 port is
// caught, which the typed view cannot tell from "unset").
var (
	enumRules = map[string][]string{
		"gateway.mode":        {"local", "remote"},
		"gateway.bind":        {"loopback", "lan", "tailnet", "auto", "custom"},
		"gateway.auth.mode":   {"token", "password"},
		"gateway.reload.mode": {"off", "hot", "restart", "hybrid"},
		"logging.level":       {"silent", "fatal", "error", "warn", "info", "debug", "trace"},
	}
	rangeRules = map[string][2]int64{
		"gateway.port":              {1, 65535},
		"canvasHost.port":           {1, 65535},
		"gateway.reload.debounceMs": {0, 3_600_000},
		"hooks.maxBodyBytes":        {1, 1 << 40},
		"gateway.http.endpoints.chatCompletions.maxBodyBytes": {1, 1 << 40},
		"gateway.http.endpoints.responses.maxBodyBytes":       {1, 1 << 40},
	}
)

// checkRules applies enumRules and rangeRules to the resolved tree.
func (v *validator) checkRules(root *node) {
	for path, allowed := range enumRules {
		n := lookupPath(root, path)
		if n == nil || n.kind != kindString {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || n.str == a
		}
		if !ok {
			v.issues = append(v.issues, v.issueAt(path, n.off,
				fmt.Sprintf("invalid value %q (use one of: %s)", n.str, strings.Join(allowed, ", "))))
		}
	}
	for path, r := range rangeRules {
		n := lookupPath(root, path)
		if n == nil || n.kind != kindNumber {
			continue
		}
		x, err := strconv.ParseInt(n.num, 10, 64)
		if err == nil && (x < r[0] || x > r[1]) {
			v.issues = append(v.issues, v.issueAt(path, n.off,
				fmt.Sprintf("%d is out of range (use %d-%d)", x, r[0], r[1])))
		}
	}
}

// checkConfig applies rules that span fields or parse values.
func (v *validator) checkConfig(c *Config) {
	g := c.Gateway
	if g.Bind == "custom" && strings.TrimSpace(g.CustomBindHost) == "" {
		v.issues = append(v.issues, v.issue("gateway.bind", `"custom" needs gateway.customBindHost (an IPv4 address)`))
	}
	if h := strings.TrimSpace(g.CustomBindHost); h != "" {
		if ip := net.ParseIP(h); ip == nil || ip.To4() == nil {
			v.issues = append(v.issues, v.issue("gateway.customBindHost", fmt.Sprintf("%q is not an IPv4 address", h)))
		}
	}
	for i, p := range g.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				v.issues = append(v.issues, v.issue("gateway.trustedProxies["+strconv.Itoa(i)+"]",
					fmt.Sprintf("%q is not an IP address or CIDR", p)))
			}
		}
	}
}

// lookupPath finds the value at a dotted path of object keys.
func lookupPath(root *node, path string) *node {
	n := root
	for _, k := range strings.Split(path, ".") {
		if n == nil || n.kind != kindObject {
			return nil
		}
		n = n.get(k)
	}
	return n
}

// substitute returns a copy of n with ${VAR} references in string values
// replaced from getenv (doc/protocol.md §3.5). Only upper-case names are
// references; $${VAR} is a literal ${VAR}. A reference to an unset or empty
// variable is an issue, as in the original.
func (v *validator) substitute(n *node, path string, getenv func(string) string) *node {
	switch n.kind {
	case kindString:
		if !strings.Contains(n.str, "${") {
			return n
		}
		out, missing := expandEnv(n.str, getenv)
		for _, name := range missing {
			v.issues = append(v.issues, v.issueAt(path, n.off,
				fmt.Sprintf("environment variable %s is not set (referenced as ${%s}; set it or write $${%s} for a literal)", name, name, name)))
		}
		c := *n
		c.str = out
		return &c
	case kindArray:
		c := *n
		c.elems = make([]*node, len(n.elems))
		for i, e := range n.elems {
			c.elems[i] = v.substitute(e, path+"["+strconv.Itoa(i)+"]", getenv)
		}
		return &c
	case kindObject:
		c := *n
		c.members = make([]member, len(n.members))
		for i, m := range n.members {
			c.members[i] = member{key: m.key, keyOff: m.keyOff, val: v.substitute(m.val, joinPath(path, m.key), getenv)}
		}
		return &c
	}
	return n
}

// expandEnv replaces ${NAME} (NAME = [A-Z_][A-Z0-9_]*) and unescapes $${NAME}.
func expandEnv(s string, getenv func(string) string) (string, []string) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			if name, n := envRef(s[i+1:]); n > 0 {
				b.WriteString("${" + name + "}")
				i += 1 + n
				continue
			}
		}
		if strings.HasPrefix(s[i:], "${") {
			if name, n := envRef(s[i:]); n > 0 {
				val := getenv(name)
				if val == "" {
					missing = append(missing, name)
				}
				b.WriteString(val)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), missing
}

// envRef parses "${NAME}" at the start of s and returns NAME and its length.
func envRef(s string) (string, int) {
	if !strings.HasPrefix(s, "${") {
		return "", 0
	}
	end := strings.IndexByte(s, '}')
	if end < 3 {
		return "", 0
	}
	name := s[2:end]
	for i, c := range name {
		if !(c == '_' || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return "", 0
		}
	}
	return name, end + 1
}
