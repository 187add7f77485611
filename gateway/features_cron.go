package gateway

import (
	"os"

	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/cron/heartbeat"
	"github.com/clawdbot/clawdbot/gateway/system"
	"github.com/clawdbot/clawdbot/wire"
)

// cronFeature is the process-wide state of the cron feature: the
// scheduler and the heartbeat runner, both started in the background
// after the listener is up (startCron) so the cold start does not wait
// for jobs.json.
type cronFeature struct {
	svc *cron.Service
	hb  *heartbeat.Runner
	// events is the main session's system-event queue with the config
	// that formats its lines (chat turns drain it too).
	events mainEvents
}

// mainEvents is the system-event queue of gateway/system as cron and the
// heartbeat see it. There is one main-session queue today, so agentID is
// not used. doc is the config its lines' times are formatted by (nil:
// the machine's zone).
type mainEvents struct {
	s   *system.State
	doc func() map[string]any
}

func (m mainEvents) Enqueue(_ string, text string) { m.s.Enqueue(text) }

// Drain takes the queued events as the lines of a "System:" block.
func (m mainEvents) Drain(string) []string {
	var envelope, user string
	if m.doc != nil {
		d, _ := m.doc()["agents"].(map[string]any)
		d, _ = d["defaults"].(map[string]any)
		envelope, _ = d["envelopeTimezone"].(string)
		user, _ = d["userTimezone"].(string)
	}
	return system.SystemLines(m.s.Drain(), envelope, user)
}

func newCronFeature(s *Server, sys *system.State) cronFeature {
	o := s.opts
	doc := cron.ConfigFile(o.ConfigPath)
	cfg := func() cron.Config { return cron.ParseConfig(doc(), os.Getenv) }
	ev := mainEvents{sys, doc}
	hb := heartbeat.New(heartbeat.Deps{Config: doc, Turns: agentTurns{s}, Events: ev, Broadcast: s,
		Workspace: func(string) string { return defaultWorkspace(doc()) }})
	home, _ := os.UserHomeDir()
	svc := cron.New(cron.Deps{StorePath: cron.StorePath(o.StateDir, cfg().Store, home), Config: cfg,
		Agent: agentTurns{s}, Heartbeat: cron.HeartbeatOf(hb), Events: ev, Broadcast: s})
	return cronFeature{svc: svc, hb: hb, events: ev}
}

// defaultWorkspace is agents.defaults.workspace or ~/clawd, the
// original's default (HEARTBEAT.md is read there).
func defaultWorkspace(doc map[string]any) string {
	if a, ok := doc["agents"].(map[string]any); ok {
		if d, ok := a["defaults"].(map[string]any); ok {
			if w, ok := d["workspace"].(string); ok && w != "" {
				return w
			}
		}
	}
	h, _ := os.UserHomeDir()
	return h + string(os.PathSeparator) + "clawd"
}

// heartbeatSummary is health's and status's view of an agent's heartbeat.
func heartbeatSummary(configPath string) func(string) wire.HeartbeatConfig {
	doc := cron.ConfigFile(configPath)
	return func(agentID string) wire.HeartbeatConfig { return heartbeat.Summary(doc(), agentID) }
}

// startCron starts the scheduler and the heartbeat runner in the
// background.
func (s *Server) startCron() {
	go func() {
		if s.closing.Load() {
			return
		}
		s.f.cron.hb.Start()
		if err := s.f.cron.svc.Start(); err != nil {
			s.callLog.Error("cron: start failed", "err", err)
		}
	}()
}

// stopCron stops both and waits for runs in flight.
func (s *Server) stopCron() {
	s.f.cron.svc.Stop()
	s.f.cron.hb.Stop()
}
