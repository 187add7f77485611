// Package heartbeat is the gateway's heartbeat runner (the original's
// infra/heartbeat-*): a periodic agent turn per heartbeat agent in its
// main session with the heartbeat prompt ("Read HEARTBEAT.md if it
// exists…"), whose HEARTBEAT_OK replies stay silent and whose other
// replies go to the heartbeat target; the heartbeat event and the last
// event for last-heartbeat; wake requests coalesced as in the original.
// It belongs to the cron feature (cron's wakeMode "now" runs it).
package heartbeat

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// Defaults of the original.
const (
	DefaultEvery  = "30m"
	DefaultTarget = "last"
	// DefaultPrompt is the heartbeat prompt when none is configured.
	DefaultPrompt = "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."
)

// ActiveHours limits heartbeats to a daily window.
type ActiveHours struct {
	Start, End, Timezone string
}

// Settings are one agent's merged heartbeat settings (agents.defaults.
// heartbeat overridden by agents.list[].heartbeat).
type Settings struct {
	Every       string
	Target      string
	To          string
	Prompt      string
	Model       string
	Session     string
	AckMaxChars int
	ActiveHours *ActiveHours
	// IncludeReasoning delivers "Reasoning:" payloads too.
	IncludeReasoning bool
}

// Agent is an agent with heartbeats.
type Agent struct {
	ID       string
	Settings Settings
	// Interval is 0 when every is empty, zero or invalid (disabled).
	Interval time.Duration
}

var durationRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$`) })

// ParseDuration is the original's parseDurationMs with minutes as the
// default unit ("30" is 30m).
func ParseDuration(raw string) (time.Duration, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	m := durationRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with ms, s, m, h or d (e.g. 30m)", raw)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v < 0 {
		return 0, errors.New("invalid duration " + strconv.Quote(raw))
	}
	mult := map[string]float64{"ms": 1, "s": 1e3, "m": 6e4, "h": 3.6e6, "d": 8.64e7, "": 6e4}[m[2]]
	return time.Duration(math.Round(v*mult)) * time.Millisecond, nil
}

func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// normalizeID is the original's normalizeAgentId, the one rule in
// gateway/sessionstore (a copy here once mapped each bad character to "-"
// without collapsing runs, so cron and sessions could disagree on an id).
func normalizeID(s string) string { return sessionstore.NormalizeAgentID(s) }

func list(doc map[string]any) []map[string]any {
	raw, _ := obj(doc, "agents")["list"].([]any)
	var out []map[string]any
	for _, v := range raw {
		if m, ok := v.(map[string]any); ok && str(m, "id") != "" {
			out = append(out, m)
		}
	}
	return out
}

// DefaultAgentID is the agent marked default, else the first listed, else
// "main".
func DefaultAgentID(doc map[string]any) string {
	l := list(doc)
	for _, m := range l {
		if d, _ := m["default"].(bool); d {
			return normalizeID(str(m, "id"))
		}
	}
	if len(l) > 0 {
		return normalizeID(str(l[0], "id"))
	}
	return "main"
}

// AgentIDs are the configured agents (the default one alone when none are
// listed), in list order.
func AgentIDs(doc map[string]any) []string {
	l := list(doc)
	if len(l) == 0 {
		return []string{"main"}
	}
	var out []string
	for _, m := range l {
		out = append(out, normalizeID(str(m, "id")))
	}
	return out
}

func readSettings(dst *Settings, m map[string]any) {
	if m == nil {
		return
	}
	if _, ok := m["every"]; ok {
		dst.Every = str(m, "every")
	}
	for k, p := range map[string]*string{"target": &dst.Target, "to": &dst.To, "prompt": &dst.Prompt, "model": &dst.Model, "session": &dst.Session} {
		if v := str(m, k); v != "" {
			*p = v
		}
	}
	if n, ok := m["ackMaxChars"].(float64); ok {
		dst.AckMaxChars = max(0, int(n))
	}
	if b, ok := m["includeReasoning"].(bool); ok {
		dst.IncludeReasoning = b
	}
	if a := obj(m, "activeHours"); a != nil {
		dst.ActiveHours = &ActiveHours{Start: str(a, "start"), End: str(a, "end"), Timezone: str(a, "timezone")}
	}
}

// explicit reports agents.list entries that carry a heartbeat block: then
// only those agents beat, else only the default agent does.
func explicit(doc map[string]any) bool {
	for _, m := range list(doc) {
		if m["heartbeat"] != nil {
			return true
		}
	}
	return false
}

// Enabled reports whether agentID beats (the original's
// isHeartbeatEnabledForAgent).
func Enabled(doc map[string]any, agentID string) bool {
	id := normalizeID(agentID)
	if explicit(doc) {
		for _, m := range list(doc) {
			if m["heartbeat"] != nil && normalizeID(str(m, "id")) == id {
				return true
			}
		}
		return false
	}
	return id == DefaultAgentID(doc)
}

// Resolve merges the settings of agentID.
func Resolve(doc map[string]any, agentID string) Settings {
	s := Settings{Every: DefaultEvery, Target: DefaultTarget, AckMaxChars: DefaultAckMaxChars}
	readSettings(&s, obj(obj(obj(doc, "agents"), "defaults"), "heartbeat"))
	for _, m := range list(doc) {
		if normalizeID(str(m, "id")) == normalizeID(agentID) {
			readSettings(&s, obj(m, "heartbeat"))
		}
	}
	if strings.TrimSpace(s.Prompt) == "" {
		s.Prompt = DefaultPrompt
	}
	s.Prompt = strings.TrimSpace(s.Prompt)
	return s
}

// Interval is every as a duration (0: disabled).
func (s Settings) Interval() time.Duration {
	d, err := ParseDuration(s.Every)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// Agents are the agents that beat, with their settings.
func Agents(doc map[string]any) []Agent {
	var out []Agent
	for _, id := range AgentIDs(doc) {
		if !Enabled(doc, id) {
			continue
		}
		s := Resolve(doc, id)
		if iv := s.Interval(); iv > 0 {
			out = append(out, Agent{ID: id, Settings: s, Interval: iv})
		}
	}
	return out
}

// Summary is agentID's heartbeat as health reports it (the original's
// resolveHeartbeatSummaryForAgent): every "disabled" and everyMs null
// for an agent that does not beat.
func Summary(doc map[string]any, agentID string) wire.HeartbeatConfig {
	s := Resolve(doc, agentID)
	if !Enabled(doc, agentID) {
		d := Resolve(map[string]any{"agents": map[string]any{"defaults": obj(doc, "agents")["defaults"]}}, "")
		return wire.HeartbeatConfig{Enabled: false, Every: "disabled", Prompt: d.Prompt, Target: d.Target, Model: d.Model, AckMaxChars: int64(d.AckMaxChars)}
	}
	h := wire.HeartbeatConfig{Enabled: true, Every: s.Every, Prompt: s.Prompt, Target: s.Target, Model: s.Model, AckMaxChars: int64(s.AckMaxChars)}
	if iv := s.Interval(); iv > 0 {
		ms := iv.Milliseconds()
		h.EveryMs = &ms
	}
	return h
}

var hhmm = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([01]\d|2[0-3]|24):([0-5]\d)$`) })

func minutes(raw string, allow24 bool) (int, bool) {
	m := hhmm().FindStringSubmatch(raw)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	if h == 24 {
		if !allow24 || mi != 0 {
			return 0, false
		}
		return 24 * 60, true
	}
	return h*60 + mi, true
}

// InActiveHours reports whether now is inside the window (always, without
// a valid one). userTZ is agents.defaults.userTimezone.
func (s Settings) InActiveHours(now time.Time, userTZ string) bool {
	a := s.ActiveHours
	if a == nil {
		return true
	}
	start, ok1 := minutes(a.Start, false)
	end, ok2 := minutes(a.End, true)
	if !ok1 || !ok2 || start == end {
		return true
	}
	loc := time.Local
	tz := strings.TrimSpace(a.Timezone)
	if tz == "" || tz == "user" {
		tz = userTZ
	}
	if tz != "" && tz != "local" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	t := now.In(loc)
	cur := t.Hour()*60 + t.Minute()
	if end > start {
		return cur >= start && cur < end
	}
	return cur >= start || cur < end
}
