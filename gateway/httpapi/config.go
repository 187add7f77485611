package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
)

// Body limits (doc/messaging.md §6.1–6.3).
const (
	DefaultChatMaxBodyBytes      = 1 << 20
	DefaultResponsesMaxBodyBytes = 20 << 20
	DefaultHooksMaxBodyBytes     = 256 << 10
	DefaultHooksPath             = "/hooks"
)

// Config is the HTTP API part of one runtime's config.
type Config struct {
	// Auth is the gateway auth the /v1 bearer is checked against.
	Auth Auth
	// ChatCompletions and Responses enable the endpoints
	// (gateway.http.endpoints.*.enabled, off by default).
	ChatCompletions, Responses bool
	// ChatMaxBodyBytes and ResponsesMaxBodyBytes cap request bodies.
	ChatMaxBodyBytes, ResponsesMaxBodyBytes int64
	// Hooks is hooks.*.
	Hooks Hooks
}

// Auth is the resolved gateway auth.
type Auth struct {
	// Mode is none, token or password.
	Mode            string
	Token, Password string
}

// Hooks is the resolved hooks.* config.
type Hooks struct {
	Enabled bool
	// Token is what a hook request must carry (Bearer, X-Clawdbot-Token
	// or ?token=).
	Token string
	// Path is the base path, without a trailing slash (default /hooks).
	Path         string
	MaxBodyBytes int64
	// Mappings are hooks.mappings then the presets' mappings, in order.
	Mappings []Mapping
}

// Mapping is one hooks.mappings entry (the original's hooks-mapping.js):
// the first whose match.path equals the sub-path and whose match.source
// equals payload.source wins. Templates are "{{expr}}" as Render reads them.
type Mapping struct {
	ID                            string
	MatchPath, MatchSource        string
	Action                        string // agent (default) | wake
	WakeMode                      string // now (default) | next-heartbeat
	Name, SessionKey              string
	MessageTemplate, TextTemplate string
	Deliver                       *bool
	Channel, To, Model, Thinking  string
	TimeoutSeconds                int
	// Transform is the transform module, which this gateway cannot run
	// (it is JavaScript): a matching request gets a 500 naming it.
	Transform string
}

// rawMapping is a mapping as written in clawdbot.json.
type rawMapping struct {
	ID    string `json:"id"`
	Match *struct {
		Path   string `json:"path"`
		Source string `json:"source"`
	} `json:"match"`
	Action          string `json:"action"`
	WakeMode        string `json:"wakeMode"`
	Name            string `json:"name"`
	SessionKey      string `json:"sessionKey"`
	MessageTemplate string `json:"messageTemplate"`
	TextTemplate    string `json:"textTemplate"`
	Deliver         *bool  `json:"deliver"`
	Channel         string `json:"channel"`
	To              string `json:"to"`
	Model           string `json:"model"`
	Thinking        string `json:"thinking"`
	TimeoutSeconds  int    `json:"timeoutSeconds"`
	Transform       *struct {
		Module string `json:"module"`
		Export string `json:"export"`
	} `json:"transform"`
}

// gmailPreset is the original's "gmail" preset mapping.
var gmailPreset = Mapping{ID: "gmail", MatchPath: "gmail", Action: "agent", WakeMode: "now", Name: "Gmail",
	SessionKey:      "hook:gmail:{{messages[0].id}}",
	MessageTemplate: "New email from {{messages[0].from}}\nSubject: {{messages[0].subject}}\n{{messages[0].snippet}}\n{{messages[0].body}}"}

// ParseConfig builds the HTTP API config of c (nil: all off) with the
// resolved gateway auth. Its errors are the original's startup errors.
func ParseConfig(c *profiles.Config, auth Auth) (Config, error) {
	out := Config{Auth: auth, ChatMaxBodyBytes: DefaultChatMaxBodyBytes, ResponsesMaxBodyBytes: DefaultResponsesMaxBodyBytes}
	if c == nil {
		return out, nil
	}
	ep := c.Gateway.HTTP.Endpoints
	out.ChatCompletions = ep.ChatCompletions.Enabled
	if ep.ChatCompletions.MaxBodyBytes > 0 {
		out.ChatMaxBodyBytes = int64(ep.ChatCompletions.MaxBodyBytes)
	}
	out.Responses = ep.Responses.Enabled
	if ep.Responses.MaxBodyBytes > 0 {
		out.ResponsesMaxBodyBytes = int64(ep.Responses.MaxBodyBytes)
	}
	h, err := parseHooks(c.Hooks)
	if err != nil {
		return out, err
	}
	out.Hooks = h
	return out, nil
}

func parseHooks(c profiles.HooksConfig) (Hooks, error) {
	if !c.Enabled {
		return Hooks{}, nil
	}
	h := Hooks{Enabled: true, Token: strings.TrimSpace(c.Token), MaxBodyBytes: DefaultHooksMaxBodyBytes}
	if h.Token == "" {
		return Hooks{}, errors.New("hooks.enabled requires hooks.token")
	}
	p := strings.TrimSpace(c.Path)
	if p == "" {
		p = DefaultHooksPath
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	if p == "/" || p == "" {
		return Hooks{}, errors.New("hooks.path may not be '/'")
	}
	if p == "/v1" || strings.HasPrefix(p, "/v1/") {
		return Hooks{}, fmt.Errorf("hooks.path %q overlaps the /v1 endpoints: choose another path", p)
	}
	h.Path = p
	if c.MaxBodyBytes > 0 {
		h.MaxBodyBytes = int64(c.MaxBodyBytes)
	}
	if len(c.Mappings) > 0 && string(c.Mappings) != "null" {
		var raw []rawMapping
		if err := json.Unmarshal(c.Mappings, &raw); err != nil {
			return Hooks{}, fmt.Errorf("hooks.mappings: %v (expected a list of {match:{path,source}, action, messageTemplate, …})", err)
		}
		for i, m := range raw {
			h.Mappings = append(h.Mappings, normalizeMapping(m, i))
		}
	}
	for _, p := range c.Presets {
		if p == "gmail" {
			h.Mappings = append(h.Mappings, gmailPreset)
		}
	}
	return h, nil
}

func normalizeMapping(m rawMapping, i int) Mapping {
	out := Mapping{ID: strings.TrimSpace(m.ID), Action: m.Action, WakeMode: m.WakeMode, Name: m.Name, SessionKey: m.SessionKey,
		MessageTemplate: m.MessageTemplate, TextTemplate: m.TextTemplate, Deliver: m.Deliver, Channel: m.Channel, To: m.To,
		Model: m.Model, Thinking: m.Thinking, TimeoutSeconds: m.TimeoutSeconds}
	if out.ID == "" {
		out.ID = fmt.Sprintf("mapping-%d", i+1)
	}
	if m.Match != nil {
		out.MatchPath = normalizeMatchPath(m.Match.Path)
		out.MatchSource = strings.TrimSpace(m.Match.Source)
	}
	if out.Action == "" {
		out.Action = "agent"
	}
	if out.WakeMode == "" {
		out.WakeMode = "now"
	}
	if m.Transform != nil {
		out.Transform = m.Transform.Module
		if out.Transform == "" {
			out.Transform = "(no module)"
		}
	}
	return out
}

func normalizeMatchPath(p string) string {
	return strings.TrimRight(strings.TrimLeft(strings.TrimSpace(p), "/"), "/")
}
