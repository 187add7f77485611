package gateway

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"

	"github.com/clawdbot/clawdbot/gateway/filelog"
	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/wire"
)

func (s *Server) registerCoreMethods(rt *runtime) {
	rt.register(&method{name: "health", handle: s.mHealth})
	rt.register(&method{name: "status", handle: s.mStatus})
	rt.register(&method{name: "system-presence", handle: s.mSystemPresence})
	rt.register(&method{name: "system-event", handle: s.mSystemEvent})
	rt.register(&method{name: "last-heartbeat", handle: s.mLastHeartbeat})
	rt.register(&method{name: "logs.tail", handle: s.mLogsTail})
}

func (s *Server) mHealth(cl *call) (any, *wire.ErrorShape) {
	var p wire.HealthParams
	_ = json.Unmarshal(cl.params, &p) // params [] or junk: like the original, ignore
	return s.healthFor(p.Probe != nil && *p.Probe), nil
}

// mStatus answers status (spec §3.3) in the original's shape.
func (s *Server) mStatus(cl *call) (any, *wire.ErrorShape) {
	sess := s.readSessions(10)
	s.sysEvents.mu.Lock()
	queued := append([]string{}, s.sysEvents.queue...)
	s.sysEvents.mu.Unlock()
	recent := statusRows(sess.Recent)
	return &wire.StatusSummary{
		Heartbeat:      wire.StatusHeartbeat{DefaultAgentID: "main", Agents: []wire.StatusHeartbeatAgent{{AgentID: "main", Every: "0m"}}},
		ChannelSummary: []string{}, QueuedSystemEvents: queued,
		Sessions: wire.StatusSessions{
			Paths: []string{sess.Path}, Count: sess.Count,
			Defaults: wire.SessionDefaultsModel{Model: "claude-opus-4-5", ContextTokens: 200000},
			Recent:   recent,
			ByAgent:  []wire.StatusAgentSession{{AgentID: "main", Path: sess.Path, Count: sess.Count, Recent: recent}},
		},
		ConfigError: s.configErr.Load(),
	}, nil
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

func (s *Server) mSystemPresence(cl *call) (any, *wire.ErrorShape) {
	return s.presence.List(), nil
}

func (s *Server) mLastHeartbeat(cl *call) (any, *wire.ErrorShape) {
	// No heartbeat runner yet: the original answers null until a heartbeat
	// has run.
	return wire.NullPayload, nil
}

// systemEvents is the main session's queue of system events (text lines
// the next agent turn will see); status reports it. Bounded like the
// original's per-session queue.
type systemEvents struct {
	mu    sync.Mutex
	queue []string
}

const maxQueuedSystemEvents = 20

func (q *systemEvents) push(text string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.queue); n > 0 && q.queue[n-1] == text {
		return // the original skips consecutive duplicates
	}
	q.queue = append(q.queue, text)
	if len(q.queue) > maxQueuedSystemEvents {
		q.queue = q.queue[len(q.queue)-maxQueuedSystemEvents:]
	}
}

func (s *Server) mSystemEvent(cl *call) (any, *wire.ErrorShape) {
	// Not schema-validated, like the original: only text is checked.
	var p wire.SystemEventParams
	if json.Unmarshal(cl.params, &p) != nil || strings.TrimSpace(p.Text) == "" {
		return nil, invalid("text required")
	}
	text := strings.TrimSpace(p.Text)
	// The beacon shape and the key rules live in the presence package.
	n, _ := presence.ParseNodeText(text)
	host, ip, version, mode, reason := n.Host, n.IP, n.Version, n.Mode, n.Reason
	key := s.presence.SystemEventKey(p.DeviceID, p.InstanceID, text)
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
	prev, _ := s.presence.Get(key)
	s.presence.Update(key, e)
	if strings.HasPrefix(text, "Node:") {
		if summary := nodeChangeSummary(prev, e); summary != "" {
			s.sysEvents.push(summary)
		}
	} else {
		s.sysEvents.push(text)
	}
	s.presence.Bump()
	s.broadcastPresence()
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

func (s *Server) logFile() string {
	if s.opts.LogFile != nil {
		return s.opts.LogFile()
	}
	return filelog.DayPath(filepath.Join(s.opts.StateDir, "logs"), s.now())
}

func (s *Server) mLogsTail(cl *call) (any, *wire.ErrorShape) {
	var p wire.LogsTailParams
	if e := cl.decode(&p); e != nil {
		return nil, e
	}
	limit, maxBytes := 0, 0
	if p.Limit != nil {
		limit = int(*p.Limit)
	}
	if p.MaxBytes != nil {
		maxBytes = int(*p.MaxBytes)
	}
	res, err := filelog.Tail(s.logFile(), p.Cursor, limit, maxBytes)
	if err != nil {
		return nil, errShape(wire.ErrUnavailable, "log read failed: "+err.Error())
	}
	return res, nil
}
