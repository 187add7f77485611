package ports

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Force timing: poll every 100 ms; escalate to SIGKILL after termGrace;
// give up killGrace after that. Variables so tests can shorten them.
var (
	pollInterval = 100 * time.Millisecond
	termGrace    = 2 * time.Second
	killGrace    = 2 * time.Second
)

// ForceFree frees port for `gateway --force`: every listener gets SIGTERM,
// then SIGKILL if it still listens after termGrace, and ForceFree returns
// once lsof sees no listener (or fails after killGrace more). Each step is
// logged through logf in the original's words ("force: killed pid <pid>
// (<cmd>) on port <n>", ...). It returns the listeners it signalled.
//
// A listener that a service manager started (CLAWDBOT_SERVICE_MARKER in its
// environment) is not killed: the manager would start it again and race us
// for the port (supervision spec §10 item 9). The error names the stop
// command instead.
func ForceFree(ctx context.Context, port int, logf func(format string, args ...any)) ([]Listener, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ls, err := lsof(ctx, port, "pc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	targets := ls[:0]
	for _, l := range ls {
		if l.PID == self {
			continue // our own listener (an in-process restart) is never a target
		}
		enrich(ctx, &l)
		if l.Supervised() {
			return nil, fmt.Errorf("port %d is held by pid %s, which a service manager would restart if killed; "+
				"stop it with '%s' instead of --force", port, describe(l), StopCommand(l.Profile))
		}
		targets = append(targets, l)
	}
	if len(targets) == 0 {
		logf("force: no listeners on port %d", port)
		return nil, nil
	}
	start := time.Now()
	for _, l := range targets {
		if err := terminate(l.PID); err != nil {
			return targets, fmt.Errorf("failed to kill pid %d (%s): %w", l.PID, l.Command, err)
		}
		logf("force: killed pid %d (%s) on port %d", l.PID, l.Command, port)
	}
	left, err := waitFree(ctx, port, termGrace)
	if err != nil {
		return targets, err
	}
	if len(left) > 0 {
		logf("force: escalated to SIGKILL while freeing port %d", port)
		for _, l := range left {
			if err := kill(l.PID); err != nil {
				return targets, fmt.Errorf("failed to kill pid %d (%s): %w", l.PID, l.Command, err)
			}
		}
		if left, err = waitFree(ctx, port, killGrace); err != nil {
			return targets, err
		}
		if len(left) > 0 {
			pids := make([]string, len(left))
			for i, l := range left {
				pids[i] = strconv.Itoa(l.PID)
			}
			return targets, fmt.Errorf("port %d still has listeners after --force: %s", port, strings.Join(pids, ", "))
		}
	}
	logf("force: waited %dms for port %d to free", time.Since(start).Milliseconds(), port)
	return targets, nil
}

// waitFree polls lsof until nothing (except us) listens on port or d passed;
// it returns what still listens.
func waitFree(ctx context.Context, port int, d time.Duration) ([]Listener, error) {
	deadline := time.Now().Add(d)
	self := os.Getpid()
	for {
		ls, err := lsof(ctx, port, "pc")
		if err != nil {
			return nil, err
		}
		others := ls[:0]
		for _, l := range ls {
			if l.PID != self {
				others = append(others, l)
			}
		}
		if len(others) == 0 || time.Now().After(deadline) {
			return others, nil
		}
		select {
		case <-ctx.Done():
			return others, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}
