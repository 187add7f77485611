package ports

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Force timing: poll every 100 ms; escalate to SIGKILL after termGrace (or
// gatewayGrace when this profile's own gateway is among the targets: its
// graceful stop, which tells clients to reconnect, takes up to 5 s); give up
// killGrace after that. Variables so tests can shorten them.
var (
	pollInterval = 100 * time.Millisecond
	termGrace    = 2 * time.Second
	gatewayGrace = 6 * time.Second
	killGrace    = 2 * time.Second
)

// ForceFree frees port: every listener gets SIGTERM, then SIGKILL if it
// still listens after termGrace, and ForceFree returns once nothing (but
// us) listens (or fails after killGrace more). Each step is logged through
// logf in the original's words ("force: killed pid <pid> (<cmd>) on port
// <n>", ...), with the user and command line of what was terminated. It
// returns the listeners it signalled.
//
// A listener that a service manager started (CLAWDBOT_SERVICE_MARKER in its
// environment) is not killed: the manager would start it again and race us
// for the port (doc/supervision.md §10 item 9). The error names the stop
// command instead. Nothing is signalled unless every target may be.
func ForceFree(ctx context.Context, port int, logf func(format string, args ...any)) ([]Listener, error) {
	_, killed, err := takeOver(ctx, port, nil, logf)
	return killed, err
}

// TakeOver is `gateway --force`: it terminates whatever stops this gateway
// from starting and returns the single-instance lock for configPath. That
// is every listener on port and, when the lock is held, the process that
// holds it: this profile's gateway running in the foreground, on this port
// or another (the common case is running the same gateway twice). It waits,
// bounded, until the port is free and the lock is ours. A supervised
// holder is refused as in ForceFree. With CLAWDBOT_ALLOW_MULTI_GATEWAY=1
// the lock is not taken and only the port is freed.
func TakeOver(ctx context.Context, port int, configPath string, getenv func(string) string, logf func(format string, args ...any)) (*Lock, []Listener, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return takeOver(ctx, port, &lockTarget{configPath: configPath, getenv: getenv}, logf)
}

// lockTarget is the lock TakeOver must end up holding.
type lockTarget struct {
	configPath string
	getenv     func(string) string
	held       *Lock
	owner      *Listener // the live holder, when the lock was taken
}

func takeOver(ctx context.Context, port int, lt *lockTarget, logf func(format string, args ...any)) (_ *Lock, _ []Listener, err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if lt != nil {
		if err := lt.acquire(ctx); err != nil {
			return nil, nil, err
		}
		defer func() {
			if err != nil {
				lt.held.Release()
				lt.held = nil
			}
		}()
	}
	targets, err := portTargets(ctx, port)
	if err != nil {
		return nil, nil, err
	}
	grace := termGrace
	if lt != nil && lt.owner != nil {
		o := *lt.owner
		if o.Supervised() {
			return nil, nil, fmt.Errorf("this profile's gateway runs as pid %s, which a service manager would restart if killed; "+
				"stop it with '%s' instead of --force", describe(o), StopCommand(o.Profile))
		}
		if !containsPID(targets, o.PID) {
			targets = append(targets, o)
		}
		grace = gatewayGrace
	}
	if len(targets) == 0 {
		logf("force: no listeners on port %d", port)
		return lt.lock(), nil, nil
	}
	start := time.Now()
	for _, l := range targets {
		if err := terminate(l.PID); err != nil {
			return nil, targets, fmt.Errorf("failed to kill pid %d (%s): %w", l.PID, l.Command, err)
		}
		logf("%s", killedLine(l, port, lt))
	}
	left, err := waitGone(ctx, port, lt, grace)
	if err != nil {
		return nil, targets, err
	}
	if len(left) > 0 {
		logf("force: escalated to SIGKILL while freeing port %d", port)
		for _, l := range left {
			if err := kill(l.PID); err != nil {
				return nil, targets, fmt.Errorf("failed to kill pid %d (%s): %w", l.PID, l.Command, err)
			}
		}
		if left, err = waitGone(ctx, port, lt, killGrace); err != nil {
			return nil, targets, err
		}
		if len(left) > 0 {
			pids := make([]string, len(left))
			for i, l := range left {
				pids[i] = strconv.Itoa(l.PID)
			}
			return nil, targets, fmt.Errorf("port %d still has listeners after --force: %s", port, strings.Join(pids, ", "))
		}
	}
	if lt != nil && lt.held == nil {
		// The owner is gone but the lock is not ours: a process it started
		// inherited the descriptor.
		l, err := AcquireLock(lt.configPath, lt.getenv)
		if err != nil {
			return nil, targets, fmt.Errorf("after --force: %w", err)
		}
		lt.held = l // released just now
	}
	logf("force: waited %dms for port %d to free", time.Since(start).Milliseconds(), port)
	return lt.lock(), targets, nil
}

func (lt *lockTarget) lock() *Lock {
	if lt == nil {
		return nil
	}
	return lt.held
}

// acquire takes the lock, or records its live owner as a target. A holder
// that is mid-start may not have written its pid yet: the lock file is
// re-read for a moment before giving up.
func (lt *lockTarget) acquire(ctx context.Context) error {
	var lockErr error
	for deadline := time.Now().Add(10 * pollInterval); ; {
		l, err := AcquireLock(lt.configPath, lt.getenv)
		if err == nil {
			lt.held = l
			return nil
		}
		if !errors.Is(err, ErrLocked) {
			return err
		}
		lockErr = err
		info, rerr := ReadLock(LockPath(lt.configPath, lt.getenv))
		if rerr == nil && info.PID > 0 && info.PID != os.Getpid() && OwnerAlive(info) {
			o := Listener{PID: info.PID}
			enrich(ctx, &o)
			lt.owner = &o
			return nil
		}
		if time.Now().After(deadline) {
			// An owner we cannot identify is not one we may kill.
			return lockErr
		}
		select {
		case <-ctx.Done():
			return lockErr
		case <-time.After(pollInterval):
		}
	}
}

// portTargets lists the listeners on port that --force would terminate,
// or the reason it must not start: a supervised listener, or one it cannot
// see (and so could not free the port from).
func portTargets(ctx context.Context, port int) ([]Listener, error) {
	ls, hidden, err := listeners(ctx, port)
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	targets := ls[:0]
	for _, l := range ls {
		if l.PID == self {
			continue // our own listener (an in-process restart) is never a target
		}
		if l.Supervised() {
			return nil, fmt.Errorf("port %d is held by pid %s, which a service manager would restart if killed; "+
				"stop it with '%s' instead of --force", port, describe(l), StopCommand(l.Profile))
		}
		targets = append(targets, l)
	}
	if len(hidden) > 0 {
		return nil, fmt.Errorf("port %d is held by a process of user %s (%s) that this user cannot see or signal; "+
			"%s, or choose another port with --port", port, hidden[0].User, hidden[0].Address, NoDetailsFix)
	}
	return targets, nil
}

// killedLine is the log line for one terminated process: the original's
// words, then who it was, so an operator can tell what --force ended.
func killedLine(l Listener, port int, lt *lockTarget) string {
	where := fmt.Sprintf("on port %d", port)
	if lt != nil && lt.owner != nil && lt.owner.PID == l.PID && l.Address == "" {
		where = "(this profile's running gateway)"
	}
	user := l.User
	if user == "" {
		user = "?"
	}
	cl := shortCommandLine(l.CommandLine)
	if cl == "" {
		cl = l.Command
	}
	return fmt.Sprintf("force: killed pid %d (%s) %s; user %s: %s", l.PID, l.Command, where, user, cl)
}

// waitGone polls until nothing (except us) listens on port and, for
// TakeOver, the lock is ours, or d passed; it returns what is still in the
// way.
func waitGone(ctx context.Context, port int, lt *lockTarget, d time.Duration) ([]Listener, error) {
	deadline := time.Now().Add(d)
	self := os.Getpid()
	for {
		ls, _, err := findListeners(ctx, port)
		if err != nil {
			return nil, err
		}
		others := ls[:0]
		for _, l := range ls {
			if l.PID != self {
				others = append(others, l)
			}
		}
		if lt != nil && lt.held == nil {
			l, err := AcquireLock(lt.configPath, lt.getenv)
			switch {
			case err == nil:
				lt.held = l
			case !errors.Is(err, ErrLocked):
				return nil, err
			case alive(lt.owner.PID) && !containsPID(others, lt.owner.PID):
				others = append(others, *lt.owner)
			}
		}
		lockDone := lt == nil || lt.held != nil || !alive(lt.owner.PID)
		if (len(others) == 0 && lockDone) || time.Now().After(deadline) {
			return others, nil
		}
		select {
		case <-ctx.Done():
			return others, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func containsPID(ls []Listener, pid int) bool {
	for _, l := range ls {
		if l.PID == pid {
			return true
		}
	}
	return false
}
