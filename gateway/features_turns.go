package gateway

import (
	"context"
	"errors"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/cron/heartbeat"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// Adapters from the agent runner to the features that start turns of
// their own: cron's isolated jobs and heartbeats, and the HTTP API. The
// features share no types with gateway/agent, so the core translates.
// Each reads s.f.agent at call time: the runner is built after them.

// agentTurns runs cron's agentTurn jobs and heartbeats on the runner.
type agentTurns struct{ s *Server }

func (a agentTurns) cfg() agent.Config { return agent.FileConfig(a.s.opts.ConfigPath)() }

// mainKey is the default agent's main session.
func (a agentTurns) mainKey() string {
	c := a.cfg()
	return c.MainSessionKey(c.DefaultAgentID())
}

// run resolves key, applies the model override and runs one turn.
func (a agentTurns) run(ctx context.Context, key, model string, t agent.Turn) (agent.Outcome, error) {
	s, err := agentSessions{a.s.f.sessions}.Resolve(key)
	if err != nil {
		return agent.Outcome{}, err
	}
	if model != "" {
		s.ModelOverride = model
	}
	t.Session = s
	if t.RunID == "" {
		t.RunID = rpc.NewID()
	}
	o := a.s.f.agent.Run(ctx, t)
	if o.Err != nil {
		return o, errors.New(o.Err.Message)
	}
	return o, nil
}

// payloadTexts are the texts of o's payloads and whether any has media.
func payloadTexts(ps []wire.AgentPayload) ([]string, bool) {
	var texts []string
	media := false
	for _, p := range ps {
		texts = append(texts, p.Text)
		media = media || p.MediaURL != nil || len(p.MediaURLs) > 0
	}
	return texts, media
}

// RunIsolated runs a job in its own session, agent:<id>:cron:<jobId>.
func (a agentTurns) RunIsolated(ctx context.Context, r cron.IsolatedRun) (cron.TurnResult, error) {
	id := r.AgentID
	if id == "" {
		id = a.cfg().DefaultAgentID()
	}
	o, err := a.run(ctx, "agent:"+id+":"+r.SessionKey, r.Model,
		agent.Turn{Message: r.Message, Thinking: r.Thinking, Timeout: r.Timeout, Lane: r.Lane})
	texts, media := payloadTexts(o.Payloads)
	return cron.TurnResult{Texts: texts, HasMedia: media}, err
}

// Busy reports a turn in flight on the main session (a heartbeat waits).
func (a agentTurns) Busy() bool { return !a.s.f.agent.Idle(a.mainKey()) }

// RunHeartbeat runs a heartbeat turn in heartbeat.session or the main one.
func (a agentTurns) RunHeartbeat(ctx context.Context, t heartbeat.Turn) (heartbeat.Reply, error) {
	key := t.Session
	if key == "" {
		key = a.mainKey()
	}
	o, err := a.run(ctx, key, t.Model, agent.Turn{Message: t.Message})
	texts, media := payloadTexts(o.Payloads)
	return heartbeat.Reply{Texts: texts, HasMedia: media}, err
}

var (
	_ cron.AgentTurns = agentTurns{}
	_ heartbeat.Turns = agentTurns{}
)

// httpTurns is httpapi.Agent and httpapi.System over the runner, the
// system-event queue and the heartbeat.
type httpTurns struct{ agentTurns }

func (h httpTurns) KnownAgent(id string) bool {
	for _, k := range h.cfg().AgentIDs() {
		if k == id {
			return true
		}
	}
	return false
}

func (h httpTurns) MainSessionKey() string { return h.mainKey() }

func (h httpTurns) Run(ctx context.Context, t httpapi.Turn) httpapi.Outcome {
	at := agent.Turn{RunID: t.RunID, Message: t.Message, Images: t.Images, Thinking: t.Thinking, Timeout: t.Timeout,
		Lane: t.Lane, ExtraSystemPrompt: t.ExtraSystemPrompt, Channel: t.Channel, ClientTools: t.ClientTools, MaxTokens: t.MaxTokens}
	if on := t.OnDelta; on != nil {
		at.OnEvent = func(e agent.Event) {
			if e.Stream == agent.StreamAssistant {
				on(e.Delta)
			}
		}
	}
	o, err := h.run(ctx, t.SessionKey, t.Model, at)
	out := httpapi.Outcome{Aborted: o.Aborted, ToolCalls: o.ToolCalls}
	out.Texts, _ = payloadTexts(o.Payloads)
	if err != nil {
		out.Err = err.Error()
	}
	if am := o.Meta.AgentMeta; am != nil && am.Usage != nil {
		u := am.Usage
		out.Usage = httpapi.Usage{Input: u.Input, Output: u.Output, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite, Total: u.Total}
	}
	return out
}

func (h httpTurns) EnqueueSystemEvent(sessionKey, text string) {
	mainEvents{s: h.s.f.system}.Enqueue(sessionKey, text)
}

func (h httpTurns) RequestHeartbeat(reason string) { h.s.f.cron.hb.RequestNow(reason) }

var (
	_ httpapi.Agent  = httpTurns{}
	_ httpapi.System = httpTurns{}
)
