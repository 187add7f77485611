package gateway

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/wire"
)

// healthCacheTTL: a health call without probe answers from a cache younger
// than this (spec §3.3).
const healthCacheTTL = 60 * time.Second

// connectHealthDebounce coalesces the health refresh the original runs
// after every connect: with N clients reconnecting at once it would
// broadcast N health events to N clients (O(N²) frames). We refresh at most
// once per interval, trailing, so every client still gets a fresh health
// event shortly after connecting.
const connectHealthDebounce = 250 * time.Millisecond

// heartbeatPrompt is the default heartbeat prompt reported in health.
const heartbeatPrompt = "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."

// healthState caches the last health summary (wire.HealthSummary, spec
// §3.3) and counts stateVersion.health. There are no channels or agent runs
// yet, so the summary reports the one default agent and the session store
// in the state dir, honestly empty where we have nothing.
type healthState struct {
	mu        sync.Mutex
	version   int64
	cached    *wire.HealthSummary
	cachedAt  time.Time
	scheduled bool
}

func (h *healthState) currentVersion() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version
}

// snapshot is the cached summary for hello-ok ({} when there is none).
func (h *healthState) snapshot() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cached == nil {
		return struct{}{}
	}
	return h.cached
}

// sessionsPath is the default agent's session store.
func (s *Server) sessionsPath() string {
	return filepath.Join(s.opts.StateDir, "agents", "main", "sessions", "sessions.json")
}

// readSessions summarises a sessions.json store (a map of session key to
// entry with updatedAt); a missing store is an empty one. An entry without
// updatedAt reports updatedAt and age as null and sorts last, as in the
// original.
func (s *Server) readSessions(limit int) wire.SessionsSummary {
	path := s.sessionsPath()
	sum := wire.SessionsSummary{Path: path, Recent: []wire.RecentSession{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return sum
	}
	var m map[string]struct {
		UpdatedAt *int64 `json:"updatedAt"`
	}
	if json.Unmarshal(b, &m) != nil {
		return sum
	}
	sum.Count = int64(len(m))
	now := s.now().UnixMilli()
	for k, v := range m {
		r := wire.RecentSession{Key: k, UpdatedAt: v.UpdatedAt}
		if v.UpdatedAt != nil {
			age := now - *v.UpdatedAt
			r.Age = &age
		}
		sum.Recent = append(sum.Recent, r)
	}
	updated := func(r wire.RecentSession) int64 {
		if r.UpdatedAt == nil {
			return math.MinInt64
		}
		return *r.UpdatedAt
	}
	sort.Slice(sum.Recent, func(i, j int) bool { return updated(sum.Recent[i]) > updated(sum.Recent[j]) })
	if len(sum.Recent) > limit {
		sum.Recent = sum.Recent[:limit]
	}
	return sum
}

// refreshHealth builds a new summary, bumps stateVersion.health and
// broadcasts the health event (not dropIfSlow).
func (s *Server) refreshHealth() *wire.HealthSummary {
	start := s.now()
	sess := s.readSessions(5)
	h := &wire.HealthSummary{
		OK: true, TS: start.UnixMilli(), Channels: map[string]json.RawMessage{}, ChannelOrder: []string{},
		ChannelLabels: map[string]string{}, DefaultAgentID: "main",
		Agents: []wire.HealthAgent{{
			AgentID: "main", IsDefault: true,
			Heartbeat: wire.HeartbeatConfig{Enabled: false, Every: "0m", Prompt: heartbeatPrompt, Target: "last", AckMaxChars: 300},
			Sessions:  sess,
		}},
		Sessions:    sess,
		ConfigError: s.configErr.Load(),
	}
	h.DurationMs = s.now().Sub(start).Milliseconds()
	s.health.mu.Lock()
	s.health.version++
	s.health.cached = h
	s.health.cachedAt = s.now()
	s.health.mu.Unlock()
	sv := s.stateVersion()
	s.broadcastSV("health", h, &sv, nil, false)
	return h
}

// SetConfigError records (err != nil) or clears (err == nil) a config file
// the gateway refused to apply, so health and status report it; a change
// refreshes and broadcasts health at once.
func (s *Server) SetConfigError(path string, err error) {
	var next *wire.ConfigError
	if err != nil {
		next = &wire.ConfigError{Path: path, Message: err.Error(), AtMs: s.now().UnixMilli()}
	}
	if prev := s.configErr.Swap(next); prev == nil && next == nil {
		return
	}
	if !s.closing.Load() {
		s.refreshHealth()
	}
}

// healthFor answers the health method: cached when fresh and not probing
// (with a background refresh), else refreshed now.
func (s *Server) healthFor(probe bool) *wire.HealthSummary {
	s.health.mu.Lock()
	cached, at := s.health.cached, s.health.cachedAt
	s.health.mu.Unlock()
	if !probe && cached != nil && s.now().Sub(at) < healthCacheTTL {
		s.healthSoon()
		return cached
	}
	return s.refreshHealth()
}

// healthAfterConnect schedules the coalesced post-connect refresh.
func (s *Server) healthAfterConnect() { s.healthSoon() }

func (s *Server) healthSoon() {
	s.health.mu.Lock()
	if s.health.scheduled {
		s.health.mu.Unlock()
		return
	}
	s.health.scheduled = true
	s.health.mu.Unlock()
	time.AfterFunc(connectHealthDebounce, func() {
		s.health.mu.Lock()
		s.health.scheduled = false
		s.health.mu.Unlock()
		if !s.closing.Load() {
			s.refreshHealth()
		}
	})
}

// selfPresence is the gateway's own presence entry (spec §6).
func selfPresence(host, version string) wire.PresenceEntry {
	ip := primaryIPv4()
	platform, family := platformInfo()
	text := "Gateway: " + host
	if ip != "" {
		text += " (" + ip + ")"
	}
	text += " · app " + version + " · mode gateway · reason self"
	return wire.PresenceEntry{
		Host: host, IP: ip, Version: version, Platform: platform, DeviceFamily: family,
		ModelIdentifier: archName(), Mode: "gateway", Reason: "self", Text: text,
	}
}

func platformInfo() (string, string) {
	rel := kernelRelease()
	switch goruntime.GOOS {
	case "darwin":
		return strings.TrimSpace("macos " + rel), "Mac"
	case "windows":
		return strings.TrimSpace("windows " + rel), "Windows"
	case "linux":
		return strings.TrimSpace("linux " + rel), "Linux"
	}
	return goruntime.GOOS, goruntime.GOOS
}

func archName() string {
	switch goruntime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "ia32"
	}
	return goruntime.GOARCH
}
