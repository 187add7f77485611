// Package voice holds the voice settings the gateway shares between its
// clients: talk mode (talk.mode, relayed as the talk.mode event) and the
// voice-wake trigger words (voicewake.get/set, stored in
// <state>/settings/voicewake.json like the original, announced with the
// voicewake.changed event so every app and node picks them up).
package voice

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/internal/statefile"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
)

// DefaultTriggers are the wake words when none are stored (the original's).
var DefaultTriggers = []string{"clawd", "claude", "computer"}

// Trigger limits of voicewake.set, as the original cuts them.
const (
	maxTriggers     = 32
	maxTriggerRunes = 64
)

// Store is the voice-wake settings file. Writes are serialised, as the
// original's in-process lock does.
type Store struct {
	path string
	now  func() time.Time
	mu   sync.Mutex
	mem  *Settings // the settings when there is no state dir
}

// NewStore returns the store at <stateDir>/settings/voicewake.json (in
// memory only when stateDir is "").
func NewStore(stateDir string, now func() time.Time) *Store {
	s := &Store{now: now}
	if stateDir != "" {
		s.path = filepath.Join(stateDir, "settings", "voicewake.json")
	}
	return s
}

// Settings is the file's content.
type Settings struct {
	Triggers    []string `json:"triggers"`
	UpdatedAtMs int64    `json:"updatedAtMs"`
}

// Load reads the settings. A missing or unreadable file gives the default
// triggers, as the original (a broken file must not take the wake words
// away from the apps; the next set rewrites it).
func (s *Store) Load() (Settings, error) {
	if s.path == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.mem != nil {
			return Settings{Triggers: slices.Clone(s.mem.Triggers), UpdatedAtMs: s.mem.UpdatedAtMs}, nil
		}
		return Settings{Triggers: slices.Clone(DefaultTriggers)}, nil
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{Triggers: slices.Clone(DefaultTriggers)}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	var raw struct {
		Triggers    []any   `json:"triggers"`
		UpdatedAtMs float64 `json:"updatedAtMs"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return Settings{Triggers: slices.Clone(DefaultTriggers)}, nil
	}
	out := Settings{Triggers: sanitize(raw.Triggers, false)}
	if raw.UpdatedAtMs > 0 {
		out.UpdatedAtMs = int64(raw.UpdatedAtMs)
	}
	return out, nil
}

// Set stores triggers (normalised as voicewake.set does) and returns what
// was stored.
func (s *Store) Set(triggers []any) (Settings, error) {
	next := Settings{Triggers: sanitize(triggers, true), UpdatedAtMs: s.now().UnixMilli()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		s.mem = &Settings{Triggers: slices.Clone(next.Triggers), UpdatedAtMs: next.UpdatedAtMs}
		return next, nil
	}
	return next, statefile.Write(s.path, next)
}

// sanitize keeps the non-blank strings, trimmed; with limit, at most 32 of
// them cut to 64 characters. None left means the defaults.
func sanitize(in []any, limit bool) []string {
	out := []string{}
	for _, v := range in {
		str, _ := v.(string)
		str = strings.TrimSpace(str)
		if str == "" {
			continue
		}
		if limit {
			if len(out) == maxTriggers {
				break
			}
			if r := []rune(str); len(r) > maxTriggerRunes {
				str = string(r[:maxTriggerRunes])
			}
		}
		out = append(out, str)
	}
	if len(out) == 0 {
		return slices.Clone(DefaultTriggers)
	}
	return out
}

// Deps are what the voice methods need.
type Deps struct {
	// Store is the voice-wake settings file.
	Store *Store
	// Broadcast sends talk.mode and voicewake.changed.
	Broadcast rpc.Broadcaster
	// MobileNodeConnected reports an iOS/Android node online: a webchat
	// client may only switch talk mode when one is.
	MobileNodeConnected func() bool
	// Now stamps talk.mode's ts.
	Now func() time.Time
}

// Register adds talk.mode, voicewake.get and voicewake.set.
func Register(reg *rpc.Registry, d Deps) {
	reg.Handle("talk.mode", d.talkMode)
	reg.Handle("voicewake.get", d.wakeGet)
	reg.Handle("voicewake.set", d.wakeSet)
}

// talkMode relays a talk-mode switch to every client (the event goes out
// before the res, as the original broadcasts first). It stores nothing:
// the apps keep their own talk state.
func (d Deps) talkMode(c *rpc.Call) (any, *wire.ErrorShape) {
	if isWebchat(c.Client) && (d.MobileNodeConnected == nil || !d.MobileNodeConnected()) {
		return nil, rpc.Unavailable("talk disabled: no connected iOS/Android nodes")
	}
	var p wire.TalkModeParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	ev := wire.TalkModeEvent{Enabled: p.Enabled, Phase: p.Phase, TS: d.Now().UnixMilli()}
	d.Broadcast.Broadcast(wire.EventTalkMode, ev, rpc.Delivery{DropIfSlow: true})
	return ev, nil
}

// isWebchat is the original's isWebchatClient: mode webchat or the
// webchat-ui client id.
func isWebchat(c *rpc.Client) bool {
	if c == nil {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(c.Info.Mode), "webchat") ||
		strings.EqualFold(strings.TrimSpace(c.Info.ID), "webchat-ui")
}

func (d Deps) wakeGet(*rpc.Call) (any, *wire.ErrorShape) {
	s, err := d.Store.Load()
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	return wire.VoiceWakeResult{Triggers: s.Triggers}, nil
}

// wakeSet stores the triggers and announces them (voicewake.changed
// before the res, as the original). Its params are not schema-validated
// in the original; only triggers matters.
func (d Deps) wakeSet(c *rpc.Call) (any, *wire.ErrorShape) {
	var p struct {
		Triggers json.RawMessage `json:"triggers"`
	}
	_ = json.Unmarshal(c.Params, &p)
	var list []any
	if len(p.Triggers) == 0 || p.Triggers[0] != '[' || json.Unmarshal(p.Triggers, &list) != nil {
		return nil, rpc.Invalid("voicewake.set requires triggers: string[]")
	}
	s, err := d.Store.Set(list)
	if err != nil {
		return nil, rpc.Unavailable(err.Error())
	}
	res := wire.VoiceWakeResult{Triggers: s.Triggers}
	d.Broadcast.Broadcast(wire.EventVoicewakeChanged, res, rpc.Delivery{DropIfSlow: true})
	return res, nil
}
