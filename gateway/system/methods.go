package system

import (
	"encoding/json"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Deps are what the system methods need.
type Deps struct {
	// State is the process-wide State (New).
	State *State
	// LogFile is the file logs.tail reads (today's file log).
	LogFile func() string
}

// Register adds health, status, system-presence, system-event and
// logs.tail (last-heartbeat is the cron feature's, with the heartbeat runner) to reg.
func Register(reg *rpc.Registry, d Deps) {
	h := &handlers{s: d.State, logFile: d.LogFile}
	reg.Handle("health", h.health)
	reg.Handle("status", h.status)
	reg.Handle("system-presence", h.systemPresence)
	reg.Handle("system-event", h.systemEvent)
	reg.Handle("logs.tail", h.logsTail)
}

type handlers struct {
	s       *State
	logFile func() string
}

func (h *handlers) health(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.HealthParams
	_ = json.Unmarshal(c.Params, &p) // params [] or junk: like the original, ignore
	return h.s.healthFor(p.Probe != nil && *p.Probe), nil
}

// status answers status (doc/protocol.md §3.3) in the original's shape.
func (h *handlers) status(*rpc.Call) (any, *wire.ErrorShape) {
	sess := h.s.readSessions(10)
	recent := statusRows(sess.Recent)
	model, ctxTokens := h.s.o.DefaultModel()
	st := &wire.StatusSummary{
		Heartbeat:      h.statusHeartbeat(),
		ChannelSummary: []string{}, QueuedSystemEvents: h.s.events.list(),
		Sessions: wire.StatusSessions{
			Paths: []string{sess.Path}, Count: sess.Count,
			Defaults: wire.SessionDefaultsModel{Model: model, ContextTokens: ctxTokens},
			Recent:   recent,
			ByAgent:  []wire.StatusAgentSession{{AgentID: "main", Path: sess.Path, Count: sess.Count, Recent: recent}},
		},
		ConfigError:    h.s.configErr.Load(),
		ConfigWarnings: h.s.configWarnings(),
	}
	if h.s.o.StatusChannels != nil {
		h.s.o.StatusChannels(st)
	}
	return st, nil
}

// statusHeartbeat is status's heartbeat block from the config.
func (h *handlers) statusHeartbeat() wire.StatusHeartbeat {
	hb := h.s.heartbeat("main")
	return wire.StatusHeartbeat{DefaultAgentID: "main",
		Agents: []wire.StatusHeartbeatAgent{{AgentID: "main", Enabled: hb.Enabled, Every: hb.Every, EveryMs: hb.EveryMs}}}
}

// statusRows turns session summaries into status's recent rows. The wire
// keeps those rows raw because the original's carry many optional
// per-session fields; without a session runtime we have only key,
// updatedAt and age, so a row is exactly a wire.RecentSession.
func statusRows(recent []wire.RecentSession) []json.RawMessage {
	rows := make([]json.RawMessage, 0, len(recent))
	for _, r := range recent {
		b, err := json.Marshal(r)
		if err != nil {
			continue // cannot happen: strings and integers only
		}
		rows = append(rows, b)
	}
	return rows
}

func (h *handlers) systemPresence(*rpc.Call) (any, *wire.ErrorShape) {
	return h.s.o.Presence.List(), nil
}

func (h *handlers) systemEvent(c *rpc.Call) (any, *wire.ErrorShape) {
	// Not schema-validated, like the original: only text is checked.
	var p wire.SystemEventParams
	if json.Unmarshal(c.Params, &p) != nil || strings.TrimSpace(p.Text) == "" {
		return nil, rpc.Invalid("text required")
	}
	text := strings.TrimSpace(p.Text)
	pres := h.s.o.Presence
	// The beacon shape and the key rules live in the presence package.
	n, _ := presence.ParseNodeText(text)
	host, ip, version, mode, reason := n.Host, n.IP, n.Version, n.Mode, n.Reason
	key := pres.SystemEventKey(p.DeviceID, p.InstanceID, text)
	// Explicit params win over fields parsed from the text, which win over
	// the stored entry (Update keeps stored values for empty fields).
	pick := func(explicit, parsed string) string {
		if explicit != "" {
			return explicit
		}
		return parsed
	}
	if p.LastInputSeconds != nil {
		n.LastInputSeconds = p.LastInputSeconds
	}
	e := wire.PresenceEntry{
		Host: pick(p.Host, host), IP: pick(p.IP, ip), Version: pick(p.Version, version),
		Platform: p.Platform, DeviceFamily: p.DeviceFamily, ModelIdentifier: p.ModelIdentifier,
		Mode: pick(p.Mode, mode), LastInputSeconds: n.LastInputSeconds, Reason: pick(p.Reason, reason),
		Text: text, DeviceID: p.DeviceID, InstanceID: p.InstanceID, Roles: p.Roles, Scopes: p.Scopes,
	}
	prev, _ := pres.Get(key)
	pres.Update(key, e)
	if strings.HasPrefix(text, "Node:") {
		if summary := nodeChangeSummary(prev, e); summary != "" {
			h.s.events.push(summary)
		}
	} else {
		h.s.events.push(text)
	}
	pres.Bump()
	h.s.BroadcastPresence()
	return wire.OKResult{OK: true}, nil
}

// nodeChangeSummary describes what a "Node:" beacon changed (host, ip,
// version, mode, or a reason other than periodic/heartbeat), "" if nothing.
func nodeChangeSummary(prev, e wire.PresenceEntry) string {
	var parts []string
	if e.Host != "" && e.Host != prev.Host {
		parts = append(parts, "host "+e.Host)
	}
	if e.IP != "" && e.IP != prev.IP {
		parts = append(parts, "ip "+e.IP)
	}
	if e.Version != "" && e.Version != prev.Version {
		parts = append(parts, "app "+e.Version)
	}
	if e.Mode != "" && e.Mode != prev.Mode {
		parts = append(parts, "mode "+e.Mode)
	}
	if r := e.Reason; r != "" && !strings.HasPrefix(r, "periodic") && r != "heartbeat" {
		parts = append(parts, "reason "+r)
	}
	if len(parts) == 0 {
		return ""
	}
	name := e.Host
	if name == "" {
		name = e.IP
	}
	return "Node: " + name + " (" + strings.Join(parts, ", ") + ")"
}

func (h *handlers) logsTail(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.LogsTailParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	limit, maxBytes := 0, 0
	if p.Limit != nil {
		limit = int(*p.Limit)
	}
	if p.MaxBytes != nil {
		maxBytes = int(*p.MaxBytes)
	}
	res, err := filelog.Tail(h.logFile(), p.Cursor, limit, maxBytes)
	if err != nil {
		return nil, rpc.Unavailable("log read failed: " + err.Error())
	}
	return res, nil
}
