package approvals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// CheckRequest is one command the exec tool wants to run on the gateway
// host.
type CheckRequest struct {
	AgentID, SessionKey string
	Command, Cwd        string
	// Env is the command's environment (its PATH resolves executables).
	Env map[string]string
	// Security and Ask are the tool's configured levels (tools.exec.* and
	// the call's own, already combined); "" means allowlist / on-miss, the
	// original's defaults for host=gateway.
	Security, Ask string
	// SafeBins overrides DefaultSafeBins when non-nil.
	SafeBins []string
	// Timeout bounds the wait for an operator (0: DefaultTimeout).
	Timeout time.Duration
}

// CheckResult is the verdict: Allowed, or why not (a one-line reason the
// model gets as the tool's error).
type CheckResult struct {
	Allowed bool
	Reason  string
	// Decision is the operator's decision when one was asked ("" if not
	// asked or timed out); ApprovalID the request's id.
	Decision, ApprovalID string
}

// recordEvery bounds how often a repeated allowlisted command rewrites the
// file to refresh lastUsedAt: an agent running grep in a loop should not
// fsync the policy file on every call.
const recordEvery = time.Minute

// SkillBins, when set, lists the binaries of the eligible skills (allowed
// without an entry when autoAllowSkills is on).
type SkillBins func() []string

// Check applies the policy to r, asking the operators when it says so, and
// waits. The process must not start unless the result is Allowed. The
// flow is the original's gateway host path of the exec tool, except that
// the tool waits for the decision instead of running the command later in
// the background.
func (m *Manager) Check(ctx context.Context, r CheckRequest, skills SkillBins) CheckResult {
	file, err := m.Store.current()
	if err != nil {
		return CheckResult{Reason: "exec denied: cannot read exec approvals: " + err.Error()}
	}
	sec := normSecurity(r.Security, SecurityAllowlist)
	ask := normAsk(r.Ask, AskOnMiss)
	pol := Resolve(file, r.AgentID, Overrides{Security: sec, Ask: ask})
	sec = MinSecurity(sec, pol.Security)
	ask = MaxAsk(ask, pol.Ask)
	if sec == SecurityDeny {
		return CheckResult{Reason: "exec denied: host=gateway security=deny"}
	}
	an := Analyze(r.Command, r.Cwd, r.Env)
	ep := EvalParams{Allowlist: pol.Allowlist, SafeBins: SafeBinSet(r.SafeBins), Cwd: r.Cwd, AutoAllowSkills: pol.AutoAllowSkills}
	if pol.AutoAllowSkills && skills != nil {
		ep.SkillBins = map[string]bool{}
		for _, b := range skills() {
			ep.SkillBins[b] = true
		}
	}
	ev := Evaluate(an, ep)
	satisfied := sec == SecurityAllowlist && an.OK && ev.Satisfied
	res := CheckResult{}
	if RequiresApproval(ask, sec, an.OK, satisfied) {
		req := wire.ExecApprovalRequest{Command: r.Command, Cwd: strPtr(r.Cwd), Host: strPtr("gateway"),
			Security: strPtr(sec), Ask: strPtr(ask), AgentID: strPtr(r.AgentID), SessionKey: strPtr(r.SessionKey)}
		if len(an.Segments) > 0 {
			req.ResolvedPath = strPtr(an.Segments[0].Resolution.ResolvedPath)
		}
		rec, decision, err := m.Request(ctx, "", req, r.Timeout)
		res.ApprovalID, res.Decision = rec.ID, decision
		if err != nil {
			res.Reason = fmt.Sprintf("exec denied (id=%s): %v", rec.ID, err)
			return res
		}
		approved, denied := false, ""
		switch decision {
		case wire.DecisionDeny:
			denied = "user-denied"
		case "":
			switch pol.AskFallback {
			case SecurityFull:
				approved = true
			case SecurityAllowlist:
				if satisfied {
					approved = true
				} else {
					denied = "approval-timeout (allowlist-miss)"
				}
			default:
				denied = "approval-timeout"
			}
		case wire.DecisionAllowOnce:
			approved = true
		case wire.DecisionAllowAlways:
			approved = true
			if sec == SecurityAllowlist {
				m.addAllowlist(r.AgentID, an.Segments)
			}
		}
		if sec == SecurityAllowlist && !satisfied && !approved && denied == "" {
			denied = "allowlist-miss"
		}
		if denied != "" {
			res.Reason = fmt.Sprintf("exec denied (id=%s, %s)", rec.ID, denied)
			return res
		}
	} else if sec == SecurityAllowlist && !satisfied {
		if !an.OK && an.Reason != "" {
			return CheckResult{Reason: "exec denied: allowlist miss (" + an.Reason + ")"}
		}
		return CheckResult{Reason: "exec denied: allowlist miss"}
	}
	if len(ev.Matches) > 0 {
		path := ""
		if len(an.Segments) > 0 {
			path = an.Segments[0].Resolution.ResolvedPath
		}
		m.recordUse(r.AgentID, ev.Matches, r.Command, path)
	}
	res.Allowed = true
	return res
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// addAllowlist is allow-always: each segment's resolved path becomes a
// pattern of the agent (the original's addAllowlistEntry).
func (m *Manager) addAllowlist(agentID string, segs []Segment) {
	if agentID == "" {
		agentID = DefaultAgentID
	}
	now := m.now().UnixMilli()
	_ = m.Store.update(func(f *wire.ExecApprovalsFile) bool {
		a := f.Agents[agentID]
		changed := false
		for _, s := range segs {
			p := strings.TrimSpace(s.Resolution.ResolvedPath)
			if p == "" || hasPattern(a.Allowlist, p) {
				continue
			}
			a.Allowlist = append(a.Allowlist, wire.ExecApprovalsAllowlistEntry{ID: wire.NewID(), Pattern: p, LastUsedAt: &now})
			changed = true
		}
		f.Agents[agentID] = a
		return changed
	})
}

func hasPattern(list []wire.ExecApprovalsAllowlistEntry, p string) bool {
	for _, e := range list {
		if e.Pattern == p {
			return true
		}
	}
	return false
}

// recordUse stamps lastUsedAt/lastUsedCommand/lastResolvedPath on the
// matched entries of the agent (entries inherited from "*" are not
// copied into it, as the original only rewrites the agent's own list).
func (m *Manager) recordUse(agentID string, matches []wire.ExecApprovalsAllowlistEntry, command, path string) {
	if agentID == "" {
		agentID = DefaultAgentID
	}
	now := m.now()
	hit := map[string]bool{}
	for _, e := range matches {
		hit[e.Pattern] = true
	}
	_ = m.Store.update(func(f *wire.ExecApprovalsFile) bool {
		a, ok := f.Agents[agentID]
		if !ok {
			return false
		}
		changed := false
		for i, e := range a.Allowlist {
			if !hit[e.Pattern] {
				continue
			}
			fresh := e.LastUsedAt != nil && now.Sub(time.UnixMilli(*e.LastUsedAt)) < recordEvery
			if fresh && e.LastUsedCommand == command && e.LastResolvedPath == path {
				continue
			}
			ms := now.UnixMilli()
			a.Allowlist[i].LastUsedAt, a.Allowlist[i].LastUsedCommand, a.Allowlist[i].LastResolvedPath = &ms, command, path
			changed = true
		}
		f.Agents[agentID] = a
		return changed
	})
}
