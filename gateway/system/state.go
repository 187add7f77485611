// Package system answers the gateway's own methods: health, status,
// system-presence, system-event and logs.tail, and the heartbeat state they report. Its State
// is process-wide (it outlives runtime swaps): the health cache and
// stateVersion.health, the main session's queue of system events, and the
// config error health and status report.
package system

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clawdbot/clawdbot/gateway/presence"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// healthCacheTTL: a health call without probe answers from a cache younger
// than this (doc/protocol.md §3.3).
const healthCacheTTL = 60 * time.Second

// connectHealthDebounce coalesces the health refresh the original runs
// after every connect: with N clients reconnecting at once it would
// broadcast N health events to N clients (O(N²) frames). We refresh at most
// once per interval, trailing, so every client still gets a fresh health
// event shortly after connecting.
const connectHealthDebounce = 250 * time.Millisecond

// heartbeatPrompt is the default heartbeat prompt reported in health.
const heartbeatPrompt = "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."

// heartbeat is agentID's heartbeat as health and status report it.
func (s *State) heartbeat(agentID string) wire.HeartbeatConfig {
	if s.o.Heartbeat != nil {
		return s.o.Heartbeat(agentID)
	}
	return wire.HeartbeatConfig{Enabled: false, Every: "disabled", Prompt: heartbeatPrompt, Target: "last", AckMaxChars: 300}
}

// Options are what a State needs from the gateway.
type Options struct {
	// Presence is the gateway's presence table (its version is half of
	// stateVersion).
	Presence *presence.Store
	// Broadcast sends the health and presence events.
	Broadcast rpc.Broadcaster
	// StateDir holds the default agent's session store.
	StateDir string
	// Sessions is the session store the summaries read (nil: the default
	// agent's sessions.json under StateDir, read through a private store).
	Sessions *sessionstore.Store
	// DefaultModel is status's sessions.defaults {model, contextTokens}
	// (nil: the original's claude-opus-4-5 and 200000).
	DefaultModel func() (model string, contextTokens int64)
	// Now is the clock.
	Now func() time.Time
	// Stopping reports a gateway shutdown in progress: no health refresh
	// is broadcast then.
	Stopping func() bool
	// Heartbeat is an agent's heartbeat settings as read from the config
	// (agents.defaults.heartbeat and agents.list[].heartbeat); nil reports
	// heartbeats as disabled.
	Heartbeat func(agentID string) wire.HeartbeatConfig
	// HealthChannels fills health's channels, channelOrder and
	// channelLabels from the channel manager (nil: empty).
	HealthChannels func(h *wire.HealthSummary)
	// StatusChannels fills status's channelSummary and linkChannel (nil:
	// empty).
	StatusChannels func(st *wire.StatusSummary)
}

// State is the process-wide state of the system methods.
type State struct {
	o Options

	// The health cache (wire.HealthSummary, doc/protocol.md §3.3) and
	// stateVersion.health. There are no channels or agent runs yet, so the
	// summary reports the one default agent and the session store in the
	// state dir, honestly empty where we have nothing.
	mu        sync.Mutex
	version   int64
	cached    *wire.HealthSummary
	cachedAt  time.Time
	scheduled bool

	// configErr is the config the lifecycle last refused to apply (nil
	// while the file is valid).
	configErr atomic.Pointer[wire.ConfigError]
	// configWarn are the ignored (unknown) keys of the serving config.
	configWarn atomic.Pointer[[]wire.ConfigWarning]
	events     systemEvents
}

// New returns the State; stateVersion.health starts at 1.
func New(o Options) *State {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stopping == nil {
		o.Stopping = func() bool { return false }
	}
	if o.Sessions == nil {
		o.Sessions = sessionstore.New(sessionstore.Options{StateDir: o.StateDir, Now: o.Now})
	}
	if o.DefaultModel == nil {
		o.DefaultModel = func() (string, int64) { return sessionstore.DefaultModel, sessionstore.DefaultContextTokens }
	}
	return &State{o: o, version: 1}
}

// StateVersion is the current {presence, health} version pair.
func (s *State) StateVersion() wire.StateVersion {
	s.mu.Lock()
	h := s.version
	s.mu.Unlock()
	return wire.StateVersion{Presence: s.o.Presence.Version(), Health: h}
}

// HealthSnapshot is the summary hello-ok carries: the cached one, or, for
// a connection that beats Prime (the first one after start), one computed
// now, so hello-ok never carries the empty {} the original sends for its
// first seconds. A refresh is cheap (it reads the session store).
func (s *State) HealthSnapshot() any {
	s.mu.Lock()
	cached := s.cached
	s.mu.Unlock()
	if cached == nil {
		return s.Refresh()
	}
	return cached
}

// Prime computes the first health summary in the background, so the start
// does not wait for it and the first client's hello-ok already has it.
// The gateway calls it once, right after it starts listening.
func (s *State) Prime() {
	go func() {
		s.mu.Lock()
		done := s.cached != nil
		s.mu.Unlock()
		if !done && !s.o.Stopping() {
			s.Refresh()
		}
	}()
}

// BroadcastPresence sends the presence event with the current list.
func (s *State) BroadcastPresence() {
	sv := s.StateVersion()
	s.o.Broadcast.Broadcast(wire.EventPresence, wire.PresenceEvent{Presence: s.o.Presence.List()}, rpc.Delivery{StateVersion: &sv, DropIfSlow: true})
}

// SetConfigError records (err != nil) or clears (err == nil) a config file
// the gateway refused to apply, so health and status report it; a change
// refreshes and broadcasts health at once.
func (s *State) SetConfigError(path string, err error) {
	var next *wire.ConfigError
	if err != nil {
		next = &wire.ConfigError{Path: path, Message: err.Error(), AtMs: s.o.Now().UnixMilli()}
	}
	if prev := s.configErr.Swap(next); prev == nil && next == nil {
		return
	}
	if !s.o.Stopping() {
		s.Refresh()
	}
}

// SetConfigWarnings records the unknown keys of the config the gateway
// serves (at start and after every good reload), so health and status show
// them; a change refreshes and broadcasts health at once. nil or empty
// clears them.
func (s *State) SetConfigWarnings(ws []wire.ConfigWarning) {
	var next *[]wire.ConfigWarning
	if len(ws) > 0 {
		c := slices.Clone(ws)
		next = &c
	}
	prev := s.configWarn.Swap(next)
	if prev == nil && next == nil || prev != nil && next != nil && slices.Equal(*prev, *next) {
		return
	}
	if !s.o.Stopping() {
		s.Refresh()
	}
}

// configWarnings is what health and status carry (nil: none).
func (s *State) configWarnings() []wire.ConfigWarning {
	if p := s.configWarn.Load(); p != nil {
		return *p
	}
	return nil
}

// readSessions summarises the default agent's session store (a missing
// store is an empty one), newest first. An entry without updatedAt
// reports updatedAt and age as null and sorts last, as in the original.
// It reads the store's in-memory index (one stat when the file has not
// changed), never the file itself.
func (s *State) readSessions(limit int) wire.SessionsSummary {
	st := s.o.Sessions
	cfg := st.Config()
	def := cfg.DefaultAgentID()
	sum := wire.SessionsSummary{Path: st.StatePath(def), Recent: []wire.RecentSession{}}
	now := s.o.Now().UnixMilli()
	st.Range(func(key, agentID string, e *sessionstore.Entry) {
		if agentID != def {
			return
		}
		sum.Count++
		r := wire.RecentSession{Key: key}
		if e.UpdatedAt != 0 {
			u, age := e.UpdatedAt, now-e.UpdatedAt
			r.UpdatedAt, r.Age = &u, &age
		}
		sum.Recent = append(sum.Recent, r)
	})
	updated := func(r wire.RecentSession) int64 {
		if r.UpdatedAt == nil {
			return math.MinInt64
		}
		return *r.UpdatedAt
	}
	sort.SliceStable(sum.Recent, func(i, j int) bool { return updated(sum.Recent[i]) > updated(sum.Recent[j]) })
	if len(sum.Recent) > limit {
		sum.Recent = sum.Recent[:limit]
	}
	return sum
}

// Refresh builds a new summary, bumps stateVersion.health and broadcasts
// the health event (never dropped for a slow client).
func (s *State) Refresh() *wire.HealthSummary {
	now := s.o.Now
	start := now()
	sess := s.readSessions(5)
	hb := s.heartbeat("main")
	var hbSeconds int64
	if hb.EveryMs != nil {
		hbSeconds = (*hb.EveryMs + 500) / 1000
	}
	h := &wire.HealthSummary{HeartbeatSeconds: hbSeconds,
		OK: true, TS: start.UnixMilli(), Channels: map[string]json.RawMessage{}, ChannelOrder: []string{},
		ChannelLabels: map[string]string{}, DefaultAgentID: "main",
		Agents: []wire.HealthAgent{{
			AgentID: "main", IsDefault: true,
			Heartbeat: hb,
			Sessions:  sess,
		}},
		Sessions:       sess,
		ConfigError:    s.configErr.Load(),
		ConfigWarnings: s.configWarnings(),
	}
	if s.o.HealthChannels != nil {
		s.o.HealthChannels(h)
	}
	h.DurationMs = now().Sub(start).Milliseconds()
	s.mu.Lock()
	s.version++
	s.cached = h
	s.cachedAt = now()
	s.mu.Unlock()
	sv := s.StateVersion()
	s.o.Broadcast.Broadcast(wire.EventHealth, h, rpc.Delivery{StateVersion: &sv})
	return h
}

// healthFor answers the health method: cached when fresh and not probing
// (with a background refresh), else refreshed now.
func (s *State) healthFor(probe bool) *wire.HealthSummary {
	s.mu.Lock()
	cached, at := s.cached, s.cachedAt
	s.mu.Unlock()
	if !probe && cached != nil && s.o.Now().Sub(at) < healthCacheTTL {
		s.HealthSoon()
		return cached
	}
	return s.Refresh()
}

// HealthSoon schedules the coalesced trailing refresh (after a connect,
// after a cached health answer).
func (s *State) HealthSoon() {
	s.mu.Lock()
	if s.scheduled {
		s.mu.Unlock()
		return
	}
	s.scheduled = true
	s.mu.Unlock()
	time.AfterFunc(connectHealthDebounce, func() {
		s.mu.Lock()
		s.scheduled = false
		s.mu.Unlock()
		if !s.o.Stopping() {
			s.Refresh()
		}
	})
}

// systemEvents is the main session's queue of system events (text lines
// the next agent turn will see); status reports it. Bounded like the
// original's per-session queue.
type systemEvents struct {
	mu    sync.Mutex
	queue []string
	at    []time.Time // when each line was queued
}

const maxQueuedSystemEvents = 20

func (q *systemEvents) push(text string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.queue); n > 0 && q.queue[n-1] == text {
		return // the original skips consecutive duplicates
	}
	q.queue = append(q.queue, text)
	q.at = append(q.at, time.Now())
	if len(q.queue) > maxQueuedSystemEvents {
		q.queue = q.queue[len(q.queue)-maxQueuedSystemEvents:]
		q.at = q.at[len(q.at)-maxQueuedSystemEvents:]
	}
}

// Enqueue queues a system event line for the main session (wake, cron,
// system-event, hooks): the next heartbeat or main-session chat turn
// takes it (Drain).
func (s *State) Enqueue(text string) {
	if t := strings.TrimSpace(text); t != "" {
		s.events.push(t)
	}
}

// Event is one queued system event and when it was queued.
type Event struct {
	Text string
	At   time.Time
}

// Drain takes the queued system events, oldest first, and empties the
// queue (the original's drainSystemEventEntries).
func (s *State) Drain() []Event {
	q := &s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Event, 0, len(q.queue))
	for i, t := range q.queue {
		out = append(out, Event{Text: t, At: q.at[i]})
	}
	q.queue, q.at = nil, nil
	return out
}

// SystemLines are events as the original's prependSystemEvents puts them
// into the next turn's prompt, each to be written "System: <line>":
// "[<time>] <text>", where a line naming a heartbeat or a periodic
// reason is dropped and a "Node:" line loses its " · last input …" part.
// envelopeTZ is agents.defaults.envelopeTimezone ("" or local/host: the
// machine's zone; utc/gmt: 2006-01-02T15:04:05Z; user: userTZ, the
// agents.defaults.userTimezone; else an IANA name).
func SystemLines(events []Event, envelopeTZ, userTZ string) []string {
	var out []string
	for _, e := range events {
		t := strings.TrimSpace(e.Text)
		lower := strings.ToLower(t)
		if t == "" || strings.Contains(lower, "reason periodic") || strings.Contains(lower, "heartbeat") {
			continue
		}
		if strings.HasPrefix(t, "Node:") {
			t = strings.TrimSpace(lastInput().ReplaceAllString(t, ""))
		}
		out = append(out, "["+EventTime(e.At, envelopeTZ, userTZ)+"] "+t)
	}
	return out
}

// lastInput is the part of a "Node:" presence line the original drops.
var lastInput = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i) · last input [^·]+`) })

// EventTime formats a system event's time as the original's
// formatSystemEventTimestamp (see SystemLines for the zones).
func EventTime(t time.Time, envelopeTZ, userTZ string) string {
	z := strings.TrimSpace(envelopeTZ)
	switch strings.ToLower(z) {
	case "utc", "gmt":
		return t.UTC().Format("2006-01-02T15:04:05Z")
	case "", "local", "host":
		return zoned(t.Local())
	case "user":
		z = strings.TrimSpace(userTZ)
	}
	if loc, err := time.LoadLocation(z); err == nil && z != "" {
		return zoned(t.In(loc))
	}
	return zoned(t.Local())
}

// intlShortNames are the zone abbreviations Intl's en-US "short" style
// writes; every other zone it writes as GMT+H[:MM].
var intlShortNames = map[string]bool{"UTC": true, "GMT": true, "EST": true, "EDT": true, "CST": true, "CDT": true,
	"MST": true, "MDT": true, "PST": true, "PDT": true, "AKST": true, "AKDT": true, "HST": true, "HDT": true}

// zoned is Intl's "YYYY-MM-DD HH:MM:SS <short zone>" (en-US).
func zoned(t time.Time) string {
	name, off := t.Zone()
	if !intlShortNames[name] || (name == "GMT" && off != 0) {
		name = "GMT"
		if off != 0 {
			sign := "+"
			if off < 0 {
				sign, off = "-", -off
			}
			name += sign + strconv.Itoa(off/3600)
			if m := off % 3600 / 60; m != 0 {
				name += fmt.Sprintf(":%02d", m)
			}
		}
	}
	return t.Format("2006-01-02 15:04:05") + " " + name
}

func (q *systemEvents) list() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string{}, q.queue...)
}
