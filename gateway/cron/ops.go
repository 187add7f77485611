package cron

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/wire"
)

// ErrUnknownJob is cron.update/run on an id that is not in the store.
var ErrUnknownJob = errors.New("unknown cron job id")

func (s *Service) warnDisabled(action string) {
	if !s.d.Config().Enabled {
		s.d.Log.Warn("cron: scheduler disabled; jobs will not run automatically", "action", action, "storePath", s.d.StorePath)
	}
}

// Status is cron.status.
func (s *Service) Status() (wire.CronStatusResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return wire.CronStatusResult{}, err
	}
	en := s.d.Config().Enabled
	r := wire.CronStatusResult{Enabled: en, StorePath: s.d.StorePath, Jobs: len(s.store.Jobs)}
	if en {
		r.NextWakeAtMs = s.nextWake()
	}
	return r, nil
}

// List is cron.list: enabled jobs (all with includeDisabled) by next run.
func (s *Service) List(includeDisabled bool) ([]wire.CronJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureLoaded(); err != nil {
		return nil, err
	}
	out := []wire.CronJob{}
	for _, j := range s.store.Jobs {
		if includeDisabled || j.Enabled {
			out = append(out, j)
		}
	}
	next := func(j wire.CronJob) int64 {
		if j.State.NextRunAtMs == nil {
			return 0
		}
		return *j.State.NextRunAtMs
	}
	slices.SortStableFunc(out, func(a, b wire.CronJob) int { return compareInt(next(a), next(b)) })
	return out, nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkSpec is the original's assertSupportedJobSpec.
func checkSpec(j *wire.CronJob) error {
	if j.SessionTarget == wire.CronTargetMain && j.Payload.Kind != wire.CronPayloadSystemEvent {
		return errors.New(`main cron jobs require payload.kind="systemEvent"`)
	}
	if j.SessionTarget == wire.CronTargetIsolated && j.Payload.Kind != wire.CronPayloadAgentTurn {
		return errors.New(`isolated cron jobs require payload.kind="agentTurn"`)
	}
	return nil
}

// Add is cron.add.
func (s *Service) Add(in AddInput) (wire.CronJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnDisabled("add")
	if err := s.ensureLoaded(); err != nil {
		return wire.CronJob{}, err
	}
	now := s.nowMs()
	j := wire.CronJob{ID: wire.NewID(), Name: strings.TrimSpace(in.Name), Description: strings.TrimSpace(in.Description),
		Enabled: in.Enabled == nil || *in.Enabled, DeleteAfterRun: in.DeleteAfterRun, CreatedAtMs: now, UpdatedAtMs: now,
		Schedule: *in.Schedule, SessionTarget: in.SessionTarget, WakeMode: in.WakeMode, Payload: *in.Payload, Isolation: in.Isolation}
	if in.AgentID != nil && strings.TrimSpace(*in.AgentID) != "" {
		j.AgentID = NormalizeAgentID(*in.AgentID)
	}
	if err := checkSpec(&j); err != nil {
		return wire.CronJob{}, err
	}
	j.State.NextRunAtMs = computeJobNext(&j, now)
	s.store.Jobs = append(s.store.Jobs, j)
	if err := s.persist(); err != nil {
		s.store.Jobs = s.store.Jobs[:len(s.store.Jobs)-1]
		return wire.CronJob{}, err
	}
	s.armLocked()
	s.emit(wire.CronEvent{JobID: j.ID, Action: "added", NextRunAtMs: j.State.NextRunAtMs})
	return j, nil
}

// Update is cron.update: the original's applyJobPatch.
func (s *Service) Update(id string, p Patch) (wire.CronJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnDisabled("update")
	if err := s.ensureLoaded(); err != nil {
		return wire.CronJob{}, err
	}
	idx := s.indexOf(id)
	if idx < 0 {
		return wire.CronJob{}, fmt.Errorf("%w: %s", ErrUnknownJob, id)
	}
	j := s.store.Jobs[idx] // a copy: the store changes only when all of the patch applies
	if p.Name != nil {
		j.Name = strings.TrimSpace(*p.Name)
	}
	if p.Description != nil {
		j.Description = strings.TrimSpace(*p.Description)
	}
	if p.Enabled != nil {
		j.Enabled = *p.Enabled
	}
	if p.DeleteAfterRun != nil {
		j.DeleteAfterRun = p.DeleteAfterRun
	}
	if p.Schedule != nil {
		j.Schedule = *p.Schedule
	}
	if p.SessionTarget != "" {
		j.SessionTarget = p.SessionTarget
	}
	if p.WakeMode != "" {
		j.WakeMode = p.WakeMode
	}
	if p.Payload != nil {
		merged, err := mergePayload(j.Payload, *p.Payload)
		if err != nil {
			return wire.CronJob{}, err
		}
		j.Payload = merged
	}
	if p.Isolation != nil {
		j.Isolation = p.Isolation
	}
	if st := p.State; st != nil {
		mergeState(&j.State, st)
	}
	if p.AgentID != nil {
		var v *string
		_ = json.Unmarshal(*p.AgentID, &v)
		j.AgentID = ""
		if v != nil && strings.TrimSpace(*v) != "" {
			j.AgentID = NormalizeAgentID(*v)
		}
	}
	if err := checkSpec(&j); err != nil {
		return wire.CronJob{}, err
	}
	now := s.nowMs()
	j.UpdatedAtMs = now
	if j.Enabled {
		j.State.NextRunAtMs = computeJobNext(&j, now)
	} else {
		j.State.NextRunAtMs, j.State.RunningAtMs = nil, nil
	}
	prev := s.store.Jobs[idx]
	s.store.Jobs[idx] = j
	if err := s.persist(); err != nil {
		s.store.Jobs[idx] = prev
		return wire.CronJob{}, err
	}
	s.armLocked()
	s.emit(wire.CronEvent{JobID: id, Action: "updated", NextRunAtMs: j.State.NextRunAtMs})
	return j, nil
}

func mergeState(dst *wire.CronJobState, p *wire.CronJobState) {
	if p.NextRunAtMs != nil {
		dst.NextRunAtMs = p.NextRunAtMs
	}
	if p.RunningAtMs != nil {
		dst.RunningAtMs = p.RunningAtMs
	}
	if p.LastRunAtMs != nil {
		dst.LastRunAtMs = p.LastRunAtMs
	}
	if p.LastStatus != "" {
		dst.LastStatus = p.LastStatus
	}
	if p.LastError != "" {
		dst.LastError = p.LastError
	}
	if p.LastDurationMs != nil {
		dst.LastDurationMs = p.LastDurationMs
	}
}

// mergePayload is the original's mergeCronPayload: same kind merges field
// by field, another kind replaces the payload (and must be complete).
func mergePayload(cur, p wire.CronPayload) (wire.CronPayload, error) {
	if p.Kind != cur.Kind {
		switch p.Kind {
		case wire.CronPayloadSystemEvent:
			if p.Text == "" {
				return cur, errors.New(`cron.update payload.kind="systemEvent" requires text`)
			}
		default:
			if p.Message == "" {
				return cur, errors.New(`cron.update payload.kind="agentTurn" requires message`)
			}
		}
		return p, nil
	}
	if p.Kind == wire.CronPayloadSystemEvent {
		if p.Text != "" {
			cur.Text = p.Text
		}
		return cur, nil
	}
	for _, f := range []struct{ dst, src *string }{{&cur.Message, &p.Message}, {&cur.Model, &p.Model},
		{&cur.Thinking, &p.Thinking}, {&cur.Channel, &p.Channel}, {&cur.To, &p.To}} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	if p.TimeoutSeconds != nil {
		cur.TimeoutSeconds = p.TimeoutSeconds
	}
	if p.Deliver != nil {
		cur.Deliver = p.Deliver
	}
	if p.BestEffortDeliver != nil {
		cur.BestEffortDeliver = p.BestEffortDeliver
	}
	return cur, nil
}

// Remove is cron.remove.
func (s *Service) Remove(id string) (wire.CronRemoveResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnDisabled("remove")
	if err := s.ensureLoaded(); err != nil {
		return wire.CronRemoveResult{}, err
	}
	idx := s.indexOf(id)
	if idx < 0 {
		return wire.CronRemoveResult{OK: true, Removed: false}, nil
	}
	prev := slices.Clone(s.store.Jobs)
	s.store.Jobs = slices.Delete(s.store.Jobs, idx, idx+1)
	if err := s.persist(); err != nil {
		s.store.Jobs = prev
		return wire.CronRemoveResult{}, err
	}
	s.armLocked()
	s.emit(wire.CronEvent{JobID: id, Action: "removed"})
	return wire.CronRemoveResult{OK: true, Removed: true}, nil
}

// Run is cron.run: mode "force" runs the job now, "due" (the default)
// only when it is due. It returns when the run has finished, as the
// original's does. A job already running is not started twice.
func (s *Service) Run(id, mode string) (wire.CronRunResult, error) {
	s.mu.Lock()
	s.warnDisabled("run")
	if err := s.ensureLoaded(); err != nil {
		s.mu.Unlock()
		return wire.CronRunResult{}, err
	}
	idx := s.indexOf(id)
	if idx < 0 {
		s.mu.Unlock()
		return wire.CronRunResult{}, fmt.Errorf("%w: %s", ErrUnknownJob, id)
	}
	j := s.store.Jobs[idx]
	forced := mode == "force"
	due := forced || j.Enabled && j.State.NextRunAtMs != nil && s.nowMs() >= *j.State.NextRunAtMs
	if !due {
		s.mu.Unlock()
		return wire.CronRunResult{OK: true, Ran: false, Reason: "not-due"}, nil
	}
	if s.inflight[id] {
		s.mu.Unlock()
		return wire.CronRunResult{OK: true, Ran: false, Reason: "already-running"}, nil
	}
	s.inflight[id] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.runSlot(id, forced)
	return wire.CronRunResult{OK: true, Ran: true}, nil
}
