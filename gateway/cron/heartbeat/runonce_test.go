package heartbeat

import (
	"context"
	"errors"
	"testing"
)

// failingTurns is an agent runner whose every turn fails.
type failingTurns struct{}

func (failingTurns) Busy() bool { return false }
func (failingTurns) RunHeartbeat(context.Context, Turn) (Reply, error) {
	return Reply{}, errors.New("model upstream down")
}

// A heartbeat whose turn fails reports the failure, so a wake-now cron
// job records an error instead of "skipped: disabled" (the original's
// runHeartbeatOnce answers {status:"failed", reason}).
func TestRunOnceReportsAFailedTurn(t *testing.T) {
	r := New(Deps{Turns: failingTurns{}, Workspace: func(string) string { return t.TempDir() }})
	res := r.RunOnce(context.Background(), "cron:job-1")
	if res.Status != "failed" || res.Reason != "model upstream down" {
		t.Fatalf("RunOnce = %+v, want failed with the turn's error", res)
	}
	if e := r.Last(); e == nil || e.Status != "failed" {
		t.Fatalf("event = %+v", e)
	}
	// The interval path keeps its not-due answer for the scheduler.
	if res := r.RunOnce(context.Background(), "interval"); res.Status != "skipped" || res.Reason != "not-due" {
		t.Fatalf("interval RunOnce = %+v", res)
	}
}
