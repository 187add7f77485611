package sessionstore

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/profiles"
)

// Session scopes (session.scope).
const (
	ScopePerSender = "per-sender"
	ScopeGlobal    = "global"
)

// The original's model defaults (d:agents/defaults.js), used where the
// config names no model.
const (
	DefaultProvider      = "anthropic"
	DefaultModel         = "claude-opus-4-5"
	DefaultContextTokens = 200000
)

// ResetPolicy is one session.reset block: mode "daily" or "idle", the
// daily reset hour (local time) and the idle timeout. Nil pointers are
// "not set here".
type ResetPolicy struct {
	Mode        string `json:"mode,omitempty"`
	AtHour      *int   `json:"atHour,omitempty"`
	IdleMinutes *int   `json:"idleMinutes,omitempty"`
}

// Config is what the session store and the session methods read from
// clawdbot.json: the session section, the agent list and the default
// model. The zero value is the original's defaults.
type Config struct {
	// Scope is session.scope ("per-sender" or "global").
	Scope string
	// MainKeyName is session.mainKey as written (see NormalizeMainKey).
	MainKeyName string
	// DMScope is session.dmScope.
	DMScope string
	// IdentityLinks is session.identityLinks {canonical: [ids]}.
	IdentityLinks map[string][]string
	identityOrder []string
	// StorePath is session.store: a fixed path, or a template with
	// {agentId}; empty for the default layout.
	StorePath string
	// Reset, ResetByType (dm|group|thread), ResetByChannel and the legacy
	// IdleMinutes are the freshness settings (doc/protocol.md §3.5).
	Reset          *ResetPolicy
	ResetByType    map[string]ResetPolicy
	ResetByChannel map[string]ResetPolicy
	IdleMinutes    *int
	// Agents are the ids of agents.list in order; DefaultAgent the one
	// marked default (else the first, else "main").
	Agents       []string
	DefaultAgent string
	// ModelProvider and Model are agents.defaults.model.primary split at
	// the first "/" (the original's defaults when unset); ContextTokens is
	// agents.defaults.contextTokens (0: unset).
	ModelProvider string
	Model         string
	ContextTokens int64
	// ThinkingDefault is agents.defaults.thinkingDefault.
	ThinkingDefault string
}

func (c *Config) defaultAgent() string {
	if c.DefaultAgent != "" {
		return NormalizeAgentID(c.DefaultAgent)
	}
	return DefaultAgentID
}

// DefaultAgentID is the default agent's normalised id.
func (c *Config) DefaultAgentID() string { return c.defaultAgent() }

// ParseConfig reads the parts of a clawdbot.json (JSON5) the session
// store uses. A file that does not parse, or a section of the wrong type,
// gives the defaults for what it could not read: sessions must keep
// working while the config error is reported elsewhere.
func ParseConfig(raw []byte) Config {
	var c Config
	c.ModelProvider, c.Model = DefaultProvider, DefaultModel
	if len(raw) == 0 {
		return c
	}
	js := raw
	if !json.Valid(js) {
		var err error
		if js, err = profiles.FormatJSON(raw); err != nil {
			return c
		}
	}
	var doc struct {
		Session json.RawMessage `json:"session"`
		Agents  struct {
			Defaults struct {
				Model           json.RawMessage `json:"model"`
				ContextTokens   *float64        `json:"contextTokens"`
				ThinkingDefault *string         `json:"thinkingDefault"`
			} `json:"defaults"`
			List []json.RawMessage `json:"list"`
		} `json:"agents"`
	}
	if json.Unmarshal(js, &doc) != nil {
		return c
	}
	var s struct {
		Scope          *string                    `json:"scope"`
		MainKey        *string                    `json:"mainKey"`
		DMScope        *string                    `json:"dmScope"`
		IdentityLinks  map[string]json.RawMessage `json:"identityLinks"`
		Store          *string                    `json:"store"`
		Reset          json.RawMessage            `json:"reset"`
		ResetByType    map[string]json.RawMessage `json:"resetByType"`
		ResetByChannel map[string]json.RawMessage `json:"resetByChannel"`
		IdleMinutes    *float64                   `json:"idleMinutes"`
	}
	if len(doc.Session) > 0 && json.Unmarshal(doc.Session, &s) == nil {
		c.Scope, c.MainKeyName, c.DMScope, c.StorePath = deref(s.Scope), deref(s.MainKey), deref(s.DMScope), strings.TrimSpace(deref(s.Store))
		for k, v := range s.IdentityLinks {
			var ids []string
			if json.Unmarshal(v, &ids) == nil {
				if c.IdentityLinks == nil {
					c.IdentityLinks = map[string][]string{}
				}
				c.IdentityLinks[k] = ids
				c.identityOrder = append(c.identityOrder, k)
			}
		}
		slices.Sort(c.identityOrder)
		if p, ok := parseReset(s.Reset); ok {
			c.Reset = &p
		}
		c.ResetByType = parseResets(s.ResetByType)
		c.ResetByChannel = parseResets(s.ResetByChannel)
		if s.IdleMinutes != nil {
			n := int(*s.IdleMinutes)
			c.IdleMinutes = &n
		}
	}
	for _, a := range doc.Agents.List {
		var ag struct {
			ID      string `json:"id"`
			Default bool   `json:"default"`
		}
		if json.Unmarshal(a, &ag) != nil || strings.TrimSpace(ag.ID) == "" {
			continue
		}
		c.Agents = append(c.Agents, NormalizeAgentID(ag.ID))
		if ag.Default && c.DefaultAgent == "" {
			c.DefaultAgent = NormalizeAgentID(ag.ID)
		}
	}
	if c.DefaultAgent == "" && len(c.Agents) > 0 {
		c.DefaultAgent = c.Agents[0]
	}
	var primary string
	var m struct {
		Primary string `json:"primary"`
	}
	if json.Unmarshal(doc.Agents.Defaults.Model, &m) == nil {
		primary = m.Primary
	} else {
		_ = json.Unmarshal(doc.Agents.Defaults.Model, &primary)
	}
	if p, model, ok := strings.Cut(strings.TrimSpace(primary), "/"); ok && p != "" && model != "" {
		c.ModelProvider, c.Model = p, model
	} else if primary = strings.TrimSpace(primary); primary != "" {
		c.Model = primary
	}
	if doc.Agents.Defaults.ContextTokens != nil {
		c.ContextTokens = int64(*doc.Agents.Defaults.ContextTokens)
	}
	c.ThinkingDefault = deref(doc.Agents.Defaults.ThinkingDefault)
	return c
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func parseReset(raw json.RawMessage) (ResetPolicy, bool) {
	var p struct {
		Mode        string   `json:"mode"`
		AtHour      *float64 `json:"atHour"`
		IdleMinutes *float64 `json:"idleMinutes"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || string(raw) == "null" {
		return ResetPolicy{}, false
	}
	out := ResetPolicy{Mode: p.Mode}
	if p.AtHour != nil {
		n := int(*p.AtHour)
		out.AtHour = &n
	}
	if p.IdleMinutes != nil {
		n := int(*p.IdleMinutes)
		out.IdleMinutes = &n
	}
	return out, true
}

func parseResets(m map[string]json.RawMessage) map[string]ResetPolicy {
	var out map[string]ResetPolicy
	for k, v := range m {
		if p, ok := parseReset(v); ok {
			if out == nil {
				out = map[string]ResetPolicy{}
			}
			out[k] = p
		}
	}
	return out
}

// StorePathFor is the sessions.json of agentID under stateDir:
// session.store (with {agentId} expanded, ~ expanded against home) or
// <stateDir>/agents/<agentId>/sessions/sessions.json.
func (c *Config) StorePathFor(stateDir, home, agentID string) string {
	agentID = NormalizeAgentID(agentID)
	if c.StorePath != "" {
		p := strings.ReplaceAll(c.StorePath, "{agentId}", agentID)
		if p == "~" || strings.HasPrefix(p, "~/") {
			p = filepath.Join(home, p[1:])
		}
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(stateDir, "agents", agentID, "sessions", "sessions.json")
}

// FixedStore reports a session.store without {agentId}: one file for all
// agents.
func (c *Config) FixedStore() bool {
	return c.StorePath != "" && !strings.Contains(c.StorePath, "{agentId}")
}

// ConfigFile returns a Config source for Options.Config that reads the
// config file at path and re-reads it only when its size or mtime
// changes (a stat per call), so config reloads apply without a hook.
func ConfigFile(path string) func() Config {
	var mu sync.Mutex
	var last fs.FileInfo
	cur := ParseConfig(nil)
	return func() Config {
		mu.Lock()
		defer mu.Unlock()
		st, err := os.Stat(path)
		if err != nil {
			last, cur = nil, ParseConfig(nil)
			return cur
		}
		if last != nil && st.Size() == last.Size() && st.ModTime().Equal(last.ModTime()) {
			return cur
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return cur
		}
		last, cur = st, ParseConfig(raw)
		return cur
	}
}
