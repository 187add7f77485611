package rpc

import (
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// Dedupe limits (doc/protocol.md §5): one map per process, shared by every
// connection, entries kept 5 minutes, at most 1000 of them.
const (
	DedupeTTL = 5 * time.Minute
	DedupeMax = 1000
)

// DedupeEntry is one remembered answer of an idempotent method: the
// payload and error it was (or is, while the work runs) answered with.
type DedupeEntry struct {
	TS      time.Time
	Payload any
	Err     *wire.ErrorShape
}

// Dedupe is the idempotency cache of the methods that take an
// idempotencyKey (agent, chat.send, send, poll). Keys carry the method's
// prefix ("agent:<idem>"). It is safe for concurrent use; LoadOrStore is
// what merges concurrent duplicates: exactly one caller stores, the
// others see what it stored.
//
// Unlike the original, which sweeps every 60 s and may briefly exceed
// both limits, expiry is checked on every read and the size bound on
// every write, so the limits hold at all times.
type Dedupe struct {
	mu      sync.Mutex
	entries map[string]DedupeEntry
	ttl     time.Duration
	max     int
	now     func() time.Time
}

// NewDedupe returns an empty cache with the spec's TTL and size (now nil:
// time.Now).
func NewDedupe(now func() time.Time) *Dedupe {
	if now == nil {
		now = time.Now
	}
	return &Dedupe{entries: map[string]DedupeEntry{}, ttl: DedupeTTL, max: DedupeMax, now: now}
}

// Load returns the live entry under key.
func (d *Dedupe) Load(key string) (DedupeEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loadLocked(key)
}

func (d *Dedupe) loadLocked(key string) (DedupeEntry, bool) {
	e, ok := d.entries[key]
	if !ok {
		return DedupeEntry{}, false
	}
	if d.now().Sub(e.TS) >= d.ttl {
		delete(d.entries, key)
		return DedupeEntry{}, false
	}
	return e, true
}

// Store remembers payload and err under key (replacing what was there).
func (d *Dedupe) Store(key string, payload any, err *wire.ErrorShape) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.storeLocked(key, payload, err)
}

func (d *Dedupe) storeLocked(key string, payload any, err *wire.ErrorShape) {
	d.entries[key] = DedupeEntry{TS: d.now(), Payload: payload, Err: err}
	if len(d.entries) > d.max {
		d.pruneLocked()
	}
}

// LoadOrStore returns the live entry under key and true, or stores
// payload and err and returns them with false.
func (d *Dedupe) LoadOrStore(key string, payload any, err *wire.ErrorShape) (DedupeEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.loadLocked(key); ok {
		return e, true
	}
	d.storeLocked(key, payload, err)
	return d.entries[key], false
}

// Delete forgets key.
func (d *Dedupe) Delete(key string) {
	d.mu.Lock()
	delete(d.entries, key)
	d.mu.Unlock()
}

// Len is the number of entries held (live or not yet pruned).
func (d *Dedupe) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// pruneLocked drops expired entries, then the oldest until the map is at
// its bound (the original's sweep).
func (d *Dedupe) pruneLocked() {
	now := d.now()
	for k, e := range d.entries {
		if now.Sub(e.TS) >= d.ttl {
			delete(d.entries, k)
		}
	}
	for len(d.entries) > d.max {
		var oldK string
		var oldT time.Time
		for k, e := range d.entries {
			if oldK == "" || e.TS.Before(oldT) {
				oldK, oldT = k, e.TS
			}
		}
		delete(d.entries, oldK)
	}
}
