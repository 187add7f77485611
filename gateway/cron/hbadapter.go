package cron

import (
	"context"

	"github.com/clawdbot/clawdbot/gateway/cron/heartbeat"
	"github.com/clawdbot/clawdbot/wire"
)

// HeartbeatOf is the heartbeat runner as cron and its methods use it.
func HeartbeatOf(r *heartbeat.Runner) HeartbeatControl { return hbAdapter{r} }

type hbAdapter struct{ r *heartbeat.Runner }

func (a hbAdapter) RequestNow(reason string) { a.r.RequestNow(reason) }
func (a hbAdapter) RunOnce(ctx context.Context, reason string) HeartbeatResult {
	res := a.r.RunOnce(ctx, reason)
	return HeartbeatResult{Status: res.Status, Reason: res.Reason}
}
func (a hbAdapter) Last() *wire.HeartbeatEvent { return a.r.Last() }
func (a hbAdapter) SetEnabled(on bool)         { a.r.SetEnabled(on) }
