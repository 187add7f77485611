package sessionstore

import (
	"regexp"
	"strings"
	"sync"
)

// Session keys (doc/messaging.md §3.2). The canonical form is
// agent:<agentId>:<rest>; "global" and "unknown" are special bare keys.

// Special bare keys.
const (
	KeyGlobal  = "global"
	KeyUnknown = "unknown"
	// DefaultAgentID and DefaultMainKey are the original's defaults.
	DefaultAgentID = "main"
	DefaultMainKey = "main"
)

// Session kinds as sessions.list and `clawdbot sessions` report them.
const (
	KindDirect  = "direct"
	KindGroup   = "group"
	KindGlobal  = "global"
	KindUnknown = "unknown"
)

// DM scopes (session.dmScope).
const (
	DMScopeMain           = "main"
	DMScopePerPeer        = "per-peer"
	DMScopePerChannelPeer = "per-channel-peer"
)

var (
	validAgentID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`) })
	invalidRun   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9_-]+`) })
)

// NormalizeAgentID is the original's normalizeAgentId: a valid id is
// lowercased; otherwise runs of invalid characters become "-" (leading
// and trailing dashes dropped, 64 characters at most); empty is "main".
func NormalizeAgentID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return DefaultAgentID
	}
	if validAgentID().MatchString(id) {
		return strings.ToLower(id)
	}
	s := invalidRun().ReplaceAllString(strings.ToLower(id), "-")
	s = strings.Trim(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return DefaultAgentID
	}
	return s
}

// NormalizeMainKey is session.mainKey trimmed and lowercased ("main" when
// empty).
func NormalizeMainKey(k string) string {
	k = strings.TrimSpace(k)
	if k == "" {
		return DefaultMainKey
	}
	return strings.ToLower(k)
}

// ParseAgentKey splits agent:<agentId>:<rest> (empty segments ignored, as
// the original's parseAgentSessionKey does); ok is false for any other key.
func ParseAgentKey(key string) (agentID, rest string, ok bool) {
	key = strings.TrimSpace(key)
	if cleanSegments(key) {
		// No empty segment to drop: cut in place (no allocation; this
		// runs per row of sessions.list).
		head, after, found := strings.Cut(key, ":")
		if !found || head != "agent" {
			return "", "", false
		}
		a, rest, found := strings.Cut(after, ":")
		if agentID = strings.TrimSpace(a); !found || agentID == "" {
			return "", "", false
		}
		return agentID, rest, true
	}
	var parts []string
	for p := range strings.SplitSeq(key, ":") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) < 3 || parts[0] != "agent" {
		return "", "", false
	}
	agentID = strings.TrimSpace(parts[1])
	rest = strings.Join(parts[2:], ":")
	if agentID == "" || rest == "" {
		return "", "", false
	}
	return agentID, rest, true
}

// cleanSegments reports whether splitting s at ':' yields no empty
// segment (so dropping empty ones changes nothing).
func cleanSegments(s string) bool {
	return s != "" && s[0] != ':' && s[len(s)-1] != ':' && !strings.Contains(s, "::")
}

// AgentMainKey is agent:<agentId>:<mainKey>, both normalised.
func AgentMainKey(agentID, mainKey string) string {
	return "agent:" + NormalizeAgentID(agentID) + ":" + NormalizeMainKey(mainKey)
}

// MainKey is the gateway's main session key: "global" under
// session.scope "global", else agent:<defaultAgent>:<mainKey>.
func (c *Config) MainKey() string {
	if c.Scope == ScopeGlobal {
		return KeyGlobal
	}
	return AgentMainKey(c.defaultAgent(), c.MainKeyName)
}

// CanonicalKey resolves an alias the way gateway methods do
// (resolveSessionStoreKey): "main", the configured main key,
// agent:<a>:main and agent:<a>:<mainKey> become agent:<a>:<mainKey> (or
// "global" under the global scope); another bare key foo becomes
// agent:<defaultAgent>:foo; other agent keys, "global" and "unknown" are
// kept as given.
func (c *Config) CanonicalKey(key string) string {
	raw := strings.TrimSpace(key)
	if raw == "" || raw == KeyGlobal || raw == KeyUnknown {
		return raw
	}
	mainKey := NormalizeMainKey(c.MainKeyName)
	if agentID, _, ok := ParseAgentKey(raw); ok {
		a := NormalizeAgentID(agentID)
		if raw == "main" || raw == mainKey || raw == AgentMainKey(a, mainKey) || raw == AgentMainKey(a, "main") {
			if c.Scope == ScopeGlobal {
				return KeyGlobal
			}
			return AgentMainKey(a, mainKey)
		}
		return raw
	}
	if raw == "main" || raw == mainKey {
		return c.MainKey()
	}
	if strings.HasPrefix(raw, "agent:") {
		return raw
	}
	return "agent:" + c.defaultAgent() + ":" + raw
}

// AgentOf is the agent whose store holds the canonical key: the key's own
// agent, else the default agent.
func (c *Config) AgentOf(canonical string) string {
	if agentID, _, ok := ParseAgentKey(canonical); ok {
		return NormalizeAgentID(agentID)
	}
	return c.defaultAgent()
}

// Peer describes the sender of an inbound message, for PeerKey.
type Peer struct {
	AgentID string
	// Kind is "dm" (default), "group" or "channel".
	Kind    string
	Channel string
	PeerID  string
}

// PeerKey is the session key of a channel conversation
// (buildAgentPeerSessionKey). A DM follows session.dmScope: "main" gives
// agent:<id>:main (the literal "main", not session.mainKey — the original
// does this, doc/messaging.md §8 item 3), "per-peer" agent:<id>:dm:<peer>,
// "per-channel-peer" agent:<id>:<channel>:dm:<peer>; session.identityLinks
// replace the peer by its canonical name outside "main". Groups and
// channels are agent:<id>:<channel>:<kind>:<peer>.
func (c *Config) PeerKey(p Peer) string {
	agent := NormalizeAgentID(p.AgentID)
	kind := p.Kind
	if kind == "" {
		kind = "dm"
	}
	if kind == "dm" {
		scope := c.DMScope
		if scope == "" {
			scope = DMScopeMain
		}
		peer := strings.TrimSpace(p.PeerID)
		if scope != DMScopeMain {
			if linked := c.linkedPeer(p.Channel, peer); linked != "" {
				peer = linked
			}
		}
		peer = strings.ToLower(peer)
		switch {
		case scope == DMScopePerChannelPeer && peer != "":
			ch := strings.ToLower(strings.TrimSpace(p.Channel))
			if ch == "" {
				ch = "unknown"
			}
			return "agent:" + agent + ":" + ch + ":dm:" + peer
		case scope == DMScopePerPeer && peer != "":
			return "agent:" + agent + ":dm:" + peer
		}
		return AgentMainKey(agent, "main")
	}
	ch := strings.ToLower(strings.TrimSpace(p.Channel))
	if ch == "" {
		ch = "unknown"
	}
	peer := strings.ToLower(strings.TrimSpace(p.PeerID))
	if peer == "" {
		peer = "unknown"
	}
	return "agent:" + agent + ":" + ch + ":" + kind + ":" + peer
}

func (c *Config) linkedPeer(channel, peer string) string {
	if peer == "" || len(c.IdentityLinks) == 0 {
		return ""
	}
	cands := map[string]bool{strings.ToLower(peer): true}
	if ch := strings.ToLower(strings.TrimSpace(channel)); ch != "" {
		cands[ch+":"+strings.ToLower(peer)] = true
	}
	for _, canonical := range c.identityOrder {
		for _, id := range c.IdentityLinks[canonical] {
			if cands[strings.ToLower(strings.TrimSpace(id))] {
				return strings.TrimSpace(canonical)
			}
		}
	}
	return ""
}

// ThreadKey is base:thread:<threadId> (lowercased id); base when threadID
// is empty.
func ThreadKey(base, threadID string) string {
	threadID = strings.TrimSpace(threadID)
	if threadID == "" {
		return base
	}
	return base + ":thread:" + strings.ToLower(threadID)
}

// IsThreadKey reports a :thread: or :topic: session.
func IsThreadKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, ":thread:") || strings.Contains(k, ":topic:")
}

// Kind classifies a key as the original's classifySessionKey does.
func Kind(key string, e *Entry) string {
	switch key {
	case KeyGlobal:
		return KindGlobal
	case KeyUnknown:
		return KindUnknown
	}
	if e != nil && (e.ChatType == "group" || e.ChatType == "channel") {
		return KindGroup
	}
	if strings.Contains(key, ":group:") || strings.Contains(key, ":channel:") {
		return KindGroup
	}
	return KindDirect
}

// GroupKey is the channel, kind ("group"|"channel") and id of a group
// session key (parseGroupKey); ok false for other keys.
func GroupKey(key string) (channel, kind, id string, ok bool) {
	rest := key
	if _, r, isAgent := ParseAgentKey(key); isAgent {
		rest = r
	}
	if cleanSegments(rest) {
		ch, after, found := strings.Cut(rest, ":")
		kind, id, found2 := strings.Cut(after, ":")
		if found && found2 && (kind == "group" || kind == "channel") {
			return ch, kind, id, true
		}
		return "", "", "", false
	}
	var parts []string
	for p := range strings.SplitSeq(rest, ":") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) >= 3 && (parts[1] == "group" || parts[1] == "channel") {
		return parts[0], parts[1], strings.Join(parts[2:], ":"), true
	}
	return "", "", "", false
}

// ResetType is the reset category of a session: "thread", "group" or "dm"
// (resolveSessionResetType).
func ResetType(key string, isGroup, isThread bool) string {
	if isThread || IsThreadKey(key) {
		return "thread"
	}
	k := strings.ToLower(key)
	if isGroup || strings.Contains(k, ":group:") || strings.Contains(k, ":channel:") {
		return "group"
	}
	return "dm"
}
