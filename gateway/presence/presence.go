// Package presence keeps the gateway's presence list (doc/protocol.md §6):
// entries keyed by device id / instance id / connection id, expired 5
// minutes after their last update, capped at 200, listed newest first, plus
// a gateway self entry that never expires. The clock is injectable so expiry
// is testable without sleeping.
//
// Every entry is bounded, since the whole list goes into every hello-ok and
// presence event: each string field is cut to MaxFieldBytes (text to
// MaxTextBytes), roles and scopes keep at most MaxListItems values, and the
// list as a whole keeps at most MaxBytes of field data, dropping the oldest
// entries past it. The original has none of these bounds; the gateway
// rejects over-long connect fields before they get here, so the cuts only
// ever apply to system-event beacons.
package presence

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// TTL is how long an entry survives without an update.
const TTL = 5 * time.Minute

// MaxEntries bounds the list; beyond it the oldest entries are dropped.
const MaxEntries = 200

// Size bounds of stored entries (see the package doc).
const (
	// MaxFieldBytes bounds each string field but text (host, ip,
	// version, platform, ...), and each role and scope.
	MaxFieldBytes = 256
	// MaxTextBytes bounds text: a beacon's "Node: … · reason …" line is
	// under 200 bytes.
	MaxTextBytes = 1024
	// MaxListItems bounds roles and scopes, unioned over reconnects.
	MaxListItems = 32
	// MaxBytes bounds the field data of the whole list (the self entry
	// aside): 200 typical entries take about 100 KiB.
	MaxBytes = 256 * 1024
)

// Store is a concurrency-safe presence list.
type Store struct {
	mu      sync.Mutex
	now     func() time.Time
	self    wire.PresenceEntry
	selfKey string
	entries map[string]wire.PresenceEntry
	bytes   int // sum of entrySize over entries
	version int64
}

// New makes a store whose self entry is self (its Host, lowercased, is the
// key). now is the clock (nil: time.Now).
func New(self wire.PresenceEntry, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, self: self, selfKey: strings.ToLower(self.Host), entries: map[string]wire.PresenceEntry{}, version: 1}
}

// Version is the presence stateVersion counter (starts at 1).
func (s *Store) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Bump increments the presence version and returns the new value.
func (s *Store) Bump() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	return s.version
}

// Update merges patch into the entry under key (lowercased by the caller
// where the spec says so): non-empty fields of patch win, roles and scopes
// are unioned, ts is set to now, and text is kept when patch has none.
func (s *Store) Update(key string, patch wire.PresenceEntry) wire.PresenceEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.selfKey {
		return s.self
	}
	old := s.entries[key]
	e := merge(old, clamp(patch))
	e.Text = withDefaultText(e, old)
	e.TS = s.now().UnixMilli()
	e = clamp(e)
	s.putLocked(key, e)
	s.pruneLocked()
	return e
}

// Set records a client's connect (doc/protocol.md §6): the entry's fields become e's
// (an empty field clears the stored one, as the original's object spread
// of explicit undefineds does), roles and scopes are unioned with the
// stored ones, ts is set to now, and text is kept when e has none.
func (s *Store) Set(key string, e wire.PresenceEntry) wire.PresenceEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.selfKey {
		return s.self
	}
	old := s.entries[key]
	e = clamp(e)
	e.Roles = union(old.Roles, e.Roles)
	e.Scopes = union(old.Scopes, e.Scopes)
	if e.Text == "" {
		e.Text = old.Text
	}
	e.Text = withDefaultText(e, old)
	e.TS = s.now().UnixMilli()
	e = clamp(e)
	s.putLocked(key, e)
	s.pruneLocked()
	return e
}

// withDefaultText is e's text, or the original's default "Node: <host> ·
// mode <mode>" (unknown for a missing part) when it has none, so a stored
// entry always has text: an entry created by a disconnect after the
// connect's entry expired has no host or mode.
func withDefaultText(e, old wire.PresenceEntry) string {
	if e.Text != "" {
		return e.Text
	}
	or := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return "unknown"
	}
	return "Node: " + or(e.Host, old.Host) + " · mode " + or(e.Mode, old.Mode)
}

// Get returns the entry under key.
func (s *Store) Get(key string) (wire.PresenceEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	return e, ok
}

// List prunes expired entries and returns the list newest first, self entry
// included (its ts refreshed to now so it never expires).
func (s *Store) List() []wire.PresenceEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	now := s.now().UnixMilli()
	out := make([]wire.PresenceEntry, 0, len(s.entries)+1)
	self := s.self
	self.TS = now
	out = append(out, self)
	for _, e := range s.entries {
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS > out[j].TS })
	return out
}

func (s *Store) putLocked(key string, e wire.PresenceEntry) {
	if old, ok := s.entries[key]; ok {
		s.bytes -= entrySize(old)
	}
	s.entries[key] = e
	s.bytes += entrySize(e)
}

func (s *Store) deleteLocked(key string) {
	if old, ok := s.entries[key]; ok {
		s.bytes -= entrySize(old)
		delete(s.entries, key)
	}
}

// pruneLocked drops expired entries, then the oldest ones while the list
// is over MaxEntries or MaxBytes.
func (s *Store) pruneLocked() {
	cutoff := s.now().Add(-TTL).UnixMilli()
	for k, e := range s.entries {
		if e.TS < cutoff {
			s.deleteLocked(k)
		}
	}
	if len(s.entries) <= MaxEntries && s.bytes <= MaxBytes {
		return
	}
	type kv struct {
		k  string
		ts int64
	}
	all := make([]kv, 0, len(s.entries))
	for k, e := range s.entries {
		all = append(all, kv{k, e.TS})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ts < all[j].ts })
	for _, x := range all {
		if len(s.entries) <= MaxEntries && s.bytes <= MaxBytes {
			return
		}
		s.deleteLocked(x.k)
	}
}

// entrySize is the field data of e, what MaxBytes counts: the JSON
// encoding is this plus keys and quotes, under 300 bytes more.
func entrySize(e wire.PresenceEntry) int {
	n := len(e.Host) + len(e.IP) + len(e.Version) + len(e.Platform) + len(e.DeviceFamily) +
		len(e.ModelIdentifier) + len(e.Mode) + len(e.Reason) + len(e.Text) + len(e.DeviceID) + len(e.InstanceID)
	for _, v := range e.Roles {
		n += len(v)
	}
	for _, v := range e.Scopes {
		n += len(v)
	}
	for _, v := range e.Tags {
		n += len(v)
	}
	return n
}

// clamp cuts e's fields to the size bounds (see the package doc).
func clamp(e wire.PresenceEntry) wire.PresenceEntry {
	for _, f := range []*string{&e.Host, &e.IP, &e.Version, &e.Platform, &e.DeviceFamily,
		&e.ModelIdentifier, &e.Mode, &e.Reason, &e.DeviceID, &e.InstanceID} {
		*f = cut(*f, MaxFieldBytes)
	}
	e.Text = cut(e.Text, MaxTextBytes)
	e.Roles = clampList(e.Roles)
	e.Scopes = clampList(e.Scopes)
	e.Tags = clampList(e.Tags)
	return e
}

// clampList keeps at most MaxListItems values, each cut to MaxFieldBytes;
// it copies only when something changes.
func clampList(l []string) []string {
	over := len(l) > MaxListItems
	for _, v := range l {
		over = over || len(v) > MaxFieldBytes
	}
	if !over {
		return l
	}
	out := make([]string, 0, min(len(l), MaxListItems))
	for _, v := range l[:min(len(l), MaxListItems)] {
		out = append(out, cut(v, MaxFieldBytes))
	}
	return out
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func merge(old, p wire.PresenceEntry) wire.PresenceEntry {
	e := old
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&e.Host, p.Host)
	set(&e.IP, p.IP)
	set(&e.Version, p.Version)
	set(&e.Platform, p.Platform)
	set(&e.DeviceFamily, p.DeviceFamily)
	set(&e.ModelIdentifier, p.ModelIdentifier)
	set(&e.Mode, p.Mode)
	set(&e.Reason, p.Reason)
	set(&e.Text, p.Text)
	set(&e.DeviceID, p.DeviceID)
	set(&e.InstanceID, p.InstanceID)
	if p.LastInputSeconds != nil {
		e.LastInputSeconds = p.LastInputSeconds
	}
	e.Roles = union(old.Roles, p.Roles)
	e.Scopes = union(old.Scopes, p.Scopes)
	return e
}

func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
