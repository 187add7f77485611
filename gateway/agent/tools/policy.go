package tools

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// nameAliases are the original's tool name aliases (tool-policy.js).
var nameAliases = map[string]string{"bash": "exec", "apply-patch": "apply_patch"}

// Groups are the original's tool groups (tool-policy.js TOOL_GROUPS),
// usable in tools.allow/deny as "group:<name>".
var Groups = map[string][]string{
	"group:memory":     {"memory_search", "memory_get"},
	"group:web":        {"web_search", "web_fetch"},
	"group:fs":         {"read", "write", "edit", "apply_patch"},
	"group:runtime":    {"exec", "process"},
	"group:sessions":   {"sessions_list", "sessions_history", "sessions_send", "sessions_spawn", "session_status"},
	"group:ui":         {"browser", "canvas"},
	"group:automation": {"cron", "gateway"},
	"group:messaging":  {"message"},
	"group:nodes":      {"nodes"},
	"group:clawdbot": {"browser", "canvas", "nodes", "cron", "message", "gateway", "agents_list", "sessions_list",
		"sessions_history", "sessions_send", "sessions_spawn", "session_status", "memory_search", "memory_get",
		"web_search", "web_fetch", "image"},
}

// profiles are the original's tool profiles (tools.profile); "full" has
// no policy.
var profiles = map[string][]string{
	"minimal":   {"session_status"},
	"coding":    {"group:fs", "group:runtime", "group:sessions", "group:memory", "image"},
	"messaging": {"group:messaging", "sessions_list", "sessions_history", "sessions_send", "session_status"},
}

// NormalizeName is the original's normalizeToolName: trimmed, lowercase,
// aliases resolved ("bash" is exec).
func NormalizeName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := nameAliases[n]; ok {
		return a
	}
	return n
}

// Policy is the chain of allow/deny lists that applies to one agent, in
// the original's order: profile, tools.allow/deny, agents.list[].tools
// (each a filter; a tool must pass all).
type Policy struct {
	layers []layer
}

type layer struct {
	allow, deny []pattern
}

type pattern struct {
	all   bool
	exact string
	re    *regexp.Regexp
}

func (p pattern) match(name string) bool {
	switch {
	case p.all:
		return true
	case p.re != nil:
		return p.re.MatchString(name)
	}
	return p.exact == name
}

// Allows reports whether the tool name passes every layer.
func (p Policy) Allows(name string) bool {
	n := NormalizeName(name)
	for _, l := range p.layers {
		if !l.allows(n) {
			return false
		}
	}
	return true
}

// allows is makeToolPolicyMatcher: deny wins, an empty allow list allows
// all, and apply_patch passes an allow list that has exec.
func (l layer) allows(n string) bool {
	if matchAny(n, l.deny) {
		return false
	}
	if len(l.allow) == 0 || matchAny(n, l.allow) {
		return true
	}
	return n == "apply_patch" && matchAny("exec", l.allow)
}

func matchAny(n string, ps []pattern) bool {
	for _, p := range ps {
		if p.match(n) {
			return true
		}
	}
	return false
}

// knownTools are the tool names an allow list must mention for it to be
// kept: the original drops an allow list naming only unknown (plugin)
// tools, so that it does not disable every core tool
// (stripPluginOnlyAllowlist).
var knownTools = func() map[string]bool {
	m := map[string]bool{"exec": true, "process": true, "ls": true, "find": true, "grep": true}
	for _, g := range Groups {
		for _, n := range g {
			m[n] = true
		}
	}
	return m
}()

// PolicyFor is the tool policy of agentID in the parsed config doc.
func PolicyFor(doc map[string]any, agentID string) Policy {
	global := obj(doc, "tools")
	agentTools := obj(agentEntry(doc, agentID), "tools")
	var p Policy
	profile := str(agentTools, "profile")
	if profile == "" {
		profile = str(global, "profile")
	}
	if allow, ok := profiles[profile]; ok {
		p.add(allow, nil)
	}
	for _, t := range []map[string]any{global, agentTools} {
		allow, hasAllow := strList(t, "allow")
		deny, hasDeny := strList(t, "deny")
		if !hasAllow && !hasDeny {
			continue
		}
		if hasAllow && !mentionsKnown(allow) {
			allow = nil
		}
		p.add(allow, deny)
	}
	return p
}

func mentionsKnown(list []string) bool {
	for _, n := range expand(list) {
		if knownTools[n] {
			return true
		}
	}
	return false
}

func (p *Policy) add(allow, deny []string) {
	p.layers = append(p.layers, layer{allow: compile(allow), deny: compile(deny)})
}

// expand normalizes a list and expands its groups (expandToolGroups).
func expand(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range list {
		n := NormalizeName(v)
		names := []string{n}
		if g, ok := Groups[n]; ok {
			names = g
		}
		for _, x := range names {
			if x != "" && !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

func compile(list []string) []pattern {
	var out []pattern
	for _, n := range expand(list) {
		switch {
		case n == "*":
			out = append(out, pattern{all: true})
		case strings.Contains(n, "*"):
			q := regexp.QuoteMeta(n)
			out = append(out, pattern{re: regexp.MustCompile("^" + strings.ReplaceAll(q, `\*`, ".*") + "$")})
		default:
			out = append(out, pattern{exact: n})
		}
	}
	return out
}

// agentEntry is the agents.list[] entry of agentID (nil: none).
func agentEntry(doc map[string]any, agentID string) map[string]any {
	id := sessionstore.NormalizeAgentID(agentID)
	list, _ := obj(doc, "agents")["list"].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		if s := str(m, "id"); s != "" && sessionstore.NormalizeAgentID(s) == id {
			return m
		}
	}
	return nil
}

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return strings.TrimSpace(v)
}

func boolean(m map[string]any, k string) bool {
	v, _ := m[k].(bool)
	return v
}

// strList is m[k] as a list of strings and whether it was a list.
func strList(m map[string]any, k string) ([]string, bool) {
	raw, ok := m[k].([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, v := range raw {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out, true
}

// expandHome resolves a leading "~" as the original's resolveUserPath.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}
