package cron

import (
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/cron/heartbeat"
	"github.com/clawdbot/clawdbot/wire"
)

// heartbeatWaitMax bounds how long a wakeMode "now" main job waits for a
// busy main lane (the original's 2 minutes, retried every 250 ms).
const (
	heartbeatWaitMax   = 2 * time.Minute
	heartbeatWaitRetry = 250 * time.Millisecond
)

// summaryMax bounds a run's summary (the original's 2000 chars).
const summaryMax = 2000

// runPayload runs a job's payload; it never holds s.mu.
func (s *Service) runPayload(j wire.CronJob) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = outcome{status: wire.CronStatusError, err: fmt.Sprint(r)}
		}
	}()
	if j.SessionTarget == wire.CronTargetMain {
		return s.runMain(j)
	}
	if j.Payload.Kind != wire.CronPayloadAgentTurn {
		return outcome{status: wire.CronStatusSkipped, err: "isolated job requires payload.kind=agentTurn"}
	}
	return s.runIsolated(j)
}

// runMain queues a systemEvent job's text for the main session and wakes
// the heartbeat (at once for wakeMode "now", waiting for a busy lane).
func (s *Service) runMain(j wire.CronJob) outcome {
	text := ""
	if j.Payload.Kind == wire.CronPayloadSystemEvent {
		text = strings.TrimSpace(j.Payload.Text)
	}
	if text == "" {
		msg := `main job requires payload.kind="systemEvent"`
		if j.Payload.Kind == wire.CronPayloadSystemEvent {
			msg = "main job requires non-empty systemEvent text"
		}
		return outcome{status: wire.CronStatusSkipped, err: msg}
	}
	if s.d.Events != nil {
		s.d.Events.Enqueue(j.AgentID, text)
	}
	hb := s.d.Heartbeat
	if hb == nil {
		return outcome{status: wire.CronStatusOK, summary: text}
	}
	if j.WakeMode != wire.WakeNow {
		hb.RequestNow("cron:" + j.ID)
		return outcome{status: wire.CronStatusOK, summary: text}
	}
	waitStart := s.d.Clock.Now()
	for {
		res := hb.RunOnce(s.ctx, "cron:"+j.ID)
		if res.Status != "skipped" || res.Reason != "requests-in-flight" {
			switch res.Status {
			case "ran":
				return outcome{status: wire.CronStatusOK, summary: text}
			case "skipped":
				return outcome{status: wire.CronStatusSkipped, err: res.Reason, summary: text}
			}
			return outcome{status: wire.CronStatusError, err: res.Reason, summary: text}
		}
		if s.d.Clock.Now().Sub(waitStart) > heartbeatWaitMax {
			return outcome{status: wire.CronStatusSkipped, err: "timeout waiting for main lane to become idle", summary: text}
		}
		select {
		case <-s.ctx.Done():
			return outcome{status: wire.CronStatusError, err: "gateway stopping", summary: text}
		case <-time.After(heartbeatWaitRetry):
		}
	}
}

// runIsolated runs an agentTurn job in its own session (a fresh session
// id every run, key cron:<jobId>) on the cron lane, then delivers as the
// original decides: delivery is requested by deliver:true, or by a "to"
// with deliver unset. This gateway has no messaging channels, so a
// requested delivery of a reply that is not a bare HEARTBEAT_OK fails
// the run with the reason (bestEffortDeliver: skipped), never a fake
// success; the reply stays in the job's session transcript.
func (s *Service) runIsolated(j wire.CronJob) outcome {
	if s.d.Agent == nil {
		return outcome{status: wire.CronStatusError, err: "agent runtime unavailable: isolated cron jobs need the agent runner"}
	}
	p := j.Payload
	now := s.d.Clock.Now()
	msg := strings.TrimSpace(fmt.Sprintf("[cron:%s %s] %s", j.ID, j.Name, p.Message))
	msg += "\nCurrent time: " + now.Format("Monday, January 2, 2006 15:04 MST") + " (" + now.Location().String() + ")"
	var timeout time.Duration
	if p.TimeoutSeconds != nil {
		timeout = time.Duration(*p.TimeoutSeconds) * time.Second
	}
	res, err := s.d.Agent.RunIsolated(s.ctx, IsolatedRun{Job: j, AgentID: j.AgentID, SessionKey: "cron:" + j.ID,
		Message: msg, Lane: "cron", Timeout: timeout, Thinking: p.Thinking, Model: p.Model})
	if err != nil {
		return outcome{status: wire.CronStatusError, err: err.Error()}
	}
	var summary, output string
	for i := len(res.Texts) - 1; i >= 0; i-- {
		if t := strings.TrimSpace(res.Texts[i]); t != "" {
			output = t
			summary = t
			if r := []rune(t); len(r) > summaryMax {
				summary = string(r[:summaryMax]) + "…"
			}
			break
		}
	}
	deliver := p.Deliver != nil && *p.Deliver || p.Deliver == nil && strings.TrimSpace(p.To) != ""
	if deliver && !heartbeatOnly(res) {
		if p.BestEffortDeliver != nil && *p.BestEffortDeliver {
			return outcome{status: wire.CronStatusSkipped, summary: "Delivery skipped (" + s.d.NoDelivery + ").", output: output}
		}
		return outcome{status: wire.CronStatusError, err: s.d.NoDelivery, summary: summary, output: output}
	}
	return outcome{status: wire.CronStatusOK, summary: summary, output: output}
}

// heartbeatOnly: every payload is a HEARTBEAT_OK ack (nothing to deliver).
func heartbeatOnly(r TurnResult) bool {
	if r.HasMedia {
		return false
	}
	for _, t := range r.Texts {
		if !heartbeat.StripToken(t, heartbeat.DefaultAckMaxChars).Skip {
			return false
		}
	}
	return true
}
