package agent

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/profiles"
)

// Config is what the agent runtime reads from clawdbot.json, with the
// original's defaults filled in (doc/messaging.md §4.3, §4.5).
type Config struct {
	// MaxConcurrent is agents.defaults.maxConcurrent: the "main" lane.
	MaxConcurrent int
	// SubagentConcurrent is agents.defaults.subagents.maxConcurrent.
	SubagentConcurrent int
	// CronConcurrent is cron.maxConcurrentRuns.
	CronConcurrent int
	// TimeoutSeconds is agents.defaults.timeoutSeconds.
	TimeoutSeconds int
	// VerboseDefault and ThinkingDefault are agents.defaults.*Default.
	VerboseDefault  string
	ThinkingDefault string
	// BootstrapMaxChars bounds each workspace file in the prompt.
	BootstrapMaxChars int
	// Workspace is agents.defaults.workspace ("" : the Deps default).
	Workspace string
	// DefaultModel is agents.defaults.model.primary.
	DefaultModel string
	// Agents are agents.list (empty: the implicit "main").
	Agents []AgentEntry
	// MainKey is session.mainKey; Scope is session.scope ("per-sender"
	// or "global").
	MainKey, Scope string
	// ResetTriggers are session.resetTriggers.
	ResetTriggers []string
	// Queue is messages.queue.
	QueueMode     string
	QueueDebounce time.Duration
	QueueCap      int
	// AssistantName and AssistantAvatar are ui.assistant.*.
	AssistantName, AssistantAvatar string
}

// AgentEntry is one agents.list[] entry.
type AgentEntry struct {
	ID        string
	Default   bool
	Name      string
	Workspace string
	Model     string
	Identity  *Identity
}

// Identity is agents.list[].identity.
type Identity struct {
	Name   string `json:"name,omitempty"`
	Theme  string `json:"theme,omitempty"`
	Emoji  string `json:"emoji,omitempty"`
	Avatar string `json:"avatar,omitempty"`
}

// Defaults of the original.
const (
	DefaultMaxConcurrent  = 4
	DefaultTimeoutSeconds = 600
	DefaultQueueDebounce  = 1000 * time.Millisecond
	DefaultQueueCap       = 20
)

// DefaultConfig is the config of an empty clawdbot.json.
func DefaultConfig() Config { return ParseConfig(nil) }

// ParseConfig reads the agent settings out of a parsed clawdbot.json
// (profiles.Snapshot.Parsed); missing or ill-typed values take defaults.
func ParseConfig(doc map[string]any) Config {
	c := Config{
		MaxConcurrent: DefaultMaxConcurrent, SubagentConcurrent: 8, CronConcurrent: 1,
		TimeoutSeconds: DefaultTimeoutSeconds, MainKey: "main", Scope: "per-sender",
		ResetTriggers: []string{"/new", "/reset"}, QueueMode: "collect",
		QueueDebounce: DefaultQueueDebounce, QueueCap: DefaultQueueCap,
	}
	defs := obj(obj(doc, "agents"), "defaults")
	if n, ok := num(defs, "maxConcurrent"); ok && n >= 1 {
		c.MaxConcurrent = n
	}
	if n, ok := num(obj(defs, "subagents"), "maxConcurrent"); ok && n >= 1 {
		c.SubagentConcurrent = n
	}
	if n, ok := num(obj(doc, "cron"), "maxConcurrentRuns"); ok && n >= 1 {
		c.CronConcurrent = n
	}
	if n, ok := num(defs, "timeoutSeconds"); ok && n >= 1 {
		c.TimeoutSeconds = n
	}
	if n, ok := num(defs, "bootstrapMaxChars"); ok && n > 0 {
		c.BootstrapMaxChars = n
	}
	c.VerboseDefault = str(defs, "verboseDefault")
	c.ThinkingDefault = str(defs, "thinkingDefault")
	c.Workspace = str(defs, "workspace")
	if m, ok := defs["model"].(string); ok {
		c.DefaultModel = m
	} else {
		c.DefaultModel = str(obj(defs, "model"), "primary")
	}
	if list, ok := obj(doc, "agents")["list"].([]any); ok {
		for _, v := range list {
			m, _ := v.(map[string]any)
			id := NormalizeAgentID(str(m, "id"))
			if m == nil || str(m, "id") == "" {
				continue
			}
			e := AgentEntry{ID: id, Name: str(m, "name"), Workspace: str(m, "workspace")}
			e.Default, _ = m["default"].(bool)
			if s, ok := m["model"].(string); ok {
				e.Model = s
			} else {
				e.Model = str(obj(m, "model"), "primary")
			}
			if idm := obj(m, "identity"); idm != nil {
				e.Identity = &Identity{Name: str(idm, "name"), Theme: str(idm, "theme"), Emoji: str(idm, "emoji"), Avatar: str(idm, "avatar")}
			}
			c.Agents = append(c.Agents, e)
		}
	}
	sess := obj(doc, "session")
	if k := strings.TrimSpace(str(sess, "mainKey")); k != "" {
		c.MainKey = strings.ToLower(k)
	}
	if str(sess, "scope") == "global" {
		c.Scope = "global"
	}
	if tr, ok := sess["resetTriggers"].([]any); ok {
		c.ResetTriggers = nil
		for _, v := range tr {
			if s, ok := v.(string); ok && s != "" {
				c.ResetTriggers = append(c.ResetTriggers, s)
			}
		}
	}
	q := obj(obj(doc, "messages"), "queue")
	if m := normalizeQueueMode(str(q, "mode")); m != "" {
		c.QueueMode = m
	}
	if n, ok := num(q, "debounceMs"); ok && n >= 0 {
		c.QueueDebounce = time.Duration(n) * time.Millisecond
	}
	if n, ok := num(q, "cap"); ok && n >= 1 {
		c.QueueCap = n
	}
	as := obj(obj(doc, "ui"), "assistant")
	c.AssistantName, c.AssistantAvatar = str(as, "name"), str(as, "avatar")
	return c
}

// DefaultAgentID is the first agents.list entry with default:true, else
// the first entry, else "main" (doc/messaging.md §3.2).
func (c Config) DefaultAgentID() string {
	for _, a := range c.Agents {
		if a.Default {
			return a.ID
		}
	}
	if len(c.Agents) > 0 {
		return c.Agents[0].ID
	}
	return "main"
}

// AgentIDs are the known agent ids (listAgentIds).
func (c Config) AgentIDs() []string {
	if len(c.Agents) == 0 {
		return []string{"main"}
	}
	out := make([]string, 0, len(c.Agents))
	for _, a := range c.Agents {
		out = append(out, a.ID)
	}
	return out
}

// Agent returns the agents.list entry of id.
func (c Config) Agent(id string) (AgentEntry, bool) {
	for _, a := range c.Agents {
		if a.ID == id {
			return a, true
		}
	}
	return AgentEntry{ID: id}, false
}

// MainSessionKey is the main session of agentID: agent:<id>:<mainKey>,
// or "global" under the global scope.
func (c Config) MainSessionKey(agentID string) string {
	if c.Scope == "global" {
		return "global"
	}
	return "agent:" + agentID + ":" + c.MainKey
}

// NormalizeAgentID is the original's normalizeAgentId, the one rule in
// gateway/sessionstore (a copy here once mapped each bad character to "-"
// without collapsing runs, so cron and sessions could disagree on an id).
func NormalizeAgentID(id string) string { return sessionstore.NormalizeAgentID(id) }

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func num(m map[string]any, k string) (int, bool) {
	switch v := m[k].(type) {
	case float64:
		return int(v), true
	case int:
		return v, true
	case int64:
		return int(v), true
	}
	return 0, false
}

// FileConfig returns a Config getter for the config file at path that
// re-reads the file only when its size or mtime changed, so every turn
// sees the current settings without parsing JSON5 per call.
func FileConfig(path string) func() Config {
	var mu sync.Mutex
	var stamp string
	cfg := DefaultConfig()
	return func() Config {
		mu.Lock()
		defer mu.Unlock()
		st, err := os.Stat(path)
		s := ""
		if err == nil {
			s = fmt.Sprint(st.ModTime().UnixNano(), "/", st.Size())
		}
		if s == stamp && stamp != "" {
			return cfg
		}
		stamp = s
		snap, err := profiles.Load(path)
		if err != nil || snap.Parsed == nil {
			cfg = DefaultConfig()
		} else {
			cfg = ParseConfig(snap.Parsed)
		}
		return cfg
	}
}
