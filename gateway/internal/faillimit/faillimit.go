// Package faillimit counts failed authentication attempts per client
// address: after MaxFails failures within Window the address is refused
// until the window has passed. The WebSocket handshake (package gateway)
// and the HTTP API's bearer check (gateway/httpapi) share it, so both
// doors of the port apply one rule. The table is capped at TableSize
// addresses (the oldest entry is evicted), so a flood of addresses cannot
// grow it without bound.
package faillimit

import (
	"sync"
	"time"
)

// Limits of a Limiter.
const (
	MaxFails  = 20
	Window    = time.Minute
	TableSize = 4096
)

// Limiter is safe for concurrent use.
type Limiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*entry
}

type entry struct {
	first time.Time
	n     int
}

// New returns an empty limiter (now nil: time.Now).
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, m: map[string]*entry{}}
}

// Blocked reports whether addr has used up its failures in this window.
func (l *Limiter) Blocked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[addr]
	if e == nil {
		return false
	}
	if l.now().Sub(e.first) > Window {
		delete(l.m, addr)
		return false
	}
	return e.n >= MaxFails
}

// Fail counts one failure of addr.
func (l *Limiter) Fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.m[addr]
	if e == nil || now.Sub(e.first) > Window {
		if e == nil && len(l.m) >= TableSize {
			var oldK string
			var oldT time.Time
			for k, v := range l.m {
				if oldK == "" || v.first.Before(oldT) {
					oldK, oldT = k, v.first
				}
			}
			delete(l.m, oldK)
		}
		e = &entry{first: now}
		l.m[addr] = e
	}
	e.n++
}
