// Package lanes is the agent runtime's command queue (doc/messaging.md §4.5):
// named FIFO lanes, each with a concurrency limit. Every run takes two
// slots: its session lane ("session:<key>", concurrency 1, so one run per
// session in arrival order) and, inside it, a global lane ("main" =
// agents.defaults.maxConcurrent, "cron", "subagent", any other name 1).
package lanes

import (
	"container/list"
	"context"
	"sync"
)

// Lanes holds every lane of the process. Idle lanes are forgotten, so
// session lanes do not accumulate.
type Lanes struct {
	mu    sync.Mutex
	lanes map[string]*lane
	// Limit returns the concurrency of a lane name (read when the lane
	// is created); nil means 1 for every lane.
	limit func(name string) int
}

type lane struct {
	limit   int
	active  int
	waiters *list.List // of chan struct{}, FIFO
}

// New returns an empty set of lanes whose concurrency limit returns.
func New(limit func(name string) int) *Lanes {
	return &Lanes{lanes: map[string]*lane{}, limit: limit}
}

// SessionLane is the lane name of a session's runs.
func SessionLane(key string) string { return "session:" + key }

// Acquire waits for a slot in lane name, in arrival order, and returns
// the function that gives it back (call it exactly once). It fails only
// when ctx ends first; the caller then holds nothing.
func (l *Lanes) Acquire(ctx context.Context, name string) (release func(), err error) {
	l.mu.Lock()
	ln := l.lanes[name]
	if ln == nil {
		lim := 1
		if l.limit != nil {
			lim = max(l.limit(name), 1)
		}
		ln = &lane{limit: lim, waiters: list.New()}
		l.lanes[name] = ln
	}
	if ln.active < ln.limit && ln.waiters.Len() == 0 {
		ln.active++
		l.mu.Unlock()
		return l.releaser(name, ln), nil
	}
	ch := make(chan struct{})
	el := ln.waiters.PushBack(ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return l.releaser(name, ln), nil
	case <-ctx.Done():
		l.mu.Lock()
		select {
		case <-ch:
			// Granted while we gave up: hand the slot on.
			l.mu.Unlock()
			l.releaser(name, ln)()
		default:
			ln.waiters.Remove(el)
			l.forgetLocked(name, ln)
			l.mu.Unlock()
		}
		return nil, context.Cause(ctx)
	}
}

func (l *Lanes) releaser(name string, ln *lane) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if front := ln.waiters.Front(); front != nil {
				ln.waiters.Remove(front)
				close(front.Value.(chan struct{})) // the slot passes on; active unchanged
				return
			}
			ln.active--
			l.forgetLocked(name, ln)
		})
	}
}

func (l *Lanes) forgetLocked(name string, ln *lane) {
	if ln.active == 0 && ln.waiters.Len() == 0 && l.lanes[name] == ln {
		delete(l.lanes, name)
	}
}

// Busy reports whether lane name has a run holding or waiting for a slot.
func (l *Lanes) Busy(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ln := l.lanes[name]
	return ln != nil && (ln.active > 0 || ln.waiters.Len() > 0)
}

// Waiting is the number of acquirers queued in lane name.
func (l *Lanes) Waiting(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln := l.lanes[name]; ln != nil {
		return ln.waiters.Len()
	}
	return 0
}

// Len is the number of lanes in use.
func (l *Lanes) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lanes)
}
