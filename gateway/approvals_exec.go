package gateway

import (
	"context"
	"time"

	"github.com/clawdbot/clawdbot/gateway/agent/tools/exec"
	"github.com/clawdbot/clawdbot/gateway/approvals"
)

// execApprover is the exec tool's Approver over the approvals manager:
// the two features share no types, so the core translates. Wire it into
// exec.New when the agent's tool registry is built.
type execApprover struct {
	m *approvals.Manager
	// skillBins lists the eligible skills' binaries (autoAllowSkills).
	skillBins approvals.SkillBins
	// timeout bounds the wait for an operator (0: the original's 120 s).
	timeout time.Duration
}

// Approve asks the policy, and the operators if it says so, and waits.
func (a execApprover) Approve(ctx context.Context, r exec.ApprovalRequest) exec.Verdict {
	res := a.m.Check(ctx, approvals.CheckRequest{AgentID: r.AgentID, SessionKey: r.SessionKey, Command: r.Command,
		Cwd: r.Cwd, Env: r.Env, Security: r.Security, Ask: r.Ask, SafeBins: r.SafeBins, Timeout: a.timeout}, a.skillBins)
	return exec.Verdict{Allowed: res.Allowed, Reason: res.Reason}
}

var _ exec.Approver = execApprover{}
