package sessionstore

import (
	"strings"
	"time"
)

// Reset modes (session.reset.mode).
const (
	ResetDaily = "daily"
	ResetIdle  = "idle"
)

// Freshness defaults of the original (d:config/sessions/reset.js).
const (
	DefaultResetAtHour = 4
	DefaultIdleMinutes = 60
)

// Policy is the effective reset policy of one session.
type Policy struct {
	Mode   string
	AtHour int
	// IdleMinutes is 0 when no idle expiry applies.
	IdleMinutes int
}

// PolicyFor resolves the reset policy of a session of resetType
// ("dm"|"group"|"thread", see ResetType) on channel, as the original's
// resolveSessionResetPolicy with the channel's resetByChannel entry as
// the override: the override replaces session.reset and resetByType; a
// resetByType entry beats session.reset; the legacy session.idleMinutes
// alone means idle mode.
func (c *Config) PolicyFor(resetType, channel string) Policy {
	var override *ResetPolicy
	if ch := strings.ToLower(strings.TrimSpace(channel)); ch != "" && c.ResetByChannel != nil {
		if p, ok := c.ResetByChannel[ch]; ok {
			override = &p
		}
	}
	base := c.Reset
	var typ *ResetPolicy
	legacy := c.IdleMinutes
	if override != nil {
		base, legacy = override, nil
	} else if p, ok := c.ResetByType[resetType]; ok {
		typ = &p
	}
	explicit := base != nil || c.ResetByType != nil
	pick := func(f func(*ResetPolicy) bool) *ResetPolicy {
		for _, p := range []*ResetPolicy{typ, base} {
			if p != nil && f(p) {
				return p
			}
		}
		return nil
	}
	mode := ResetDaily
	if p := pick(func(p *ResetPolicy) bool { return p.Mode != "" }); p != nil {
		mode = p.Mode
	} else if !explicit && legacy != nil {
		mode = ResetIdle
	}
	at := DefaultResetAtHour
	if p := pick(func(p *ResetPolicy) bool { return p.AtHour != nil }); p != nil {
		at = min(max(*p.AtHour, 0), 23)
	}
	idle := 0
	if p := pick(func(p *ResetPolicy) bool { return p.IdleMinutes != nil }); p != nil {
		idle = max(*p.IdleMinutes, 1)
	} else if legacy != nil {
		idle = max(*legacy, 1)
	} else if mode == ResetIdle {
		idle = DefaultIdleMinutes
	}
	return Policy{Mode: mode, AtHour: at, IdleMinutes: idle}
}

// DailyResetAt is the last daily reset at or before now: today at
// p.AtHour in now's location, or yesterday's when now is earlier.
func (p Policy) DailyResetAt(now time.Time) time.Time {
	y, m, d := now.Date()
	at := time.Date(y, m, d, p.AtHour, 0, 0, 0, now.Location())
	if now.Before(at) {
		at = at.AddDate(0, 0, -1)
	}
	return at
}

// Fresh reports whether a session last updated at updatedAt (Unix ms) is
// still current at now: not before the last daily reset (daily mode) and
// not idle for longer than IdleMinutes (when set; idle may combine with
// daily through a resetByType idleMinutes).
func (p Policy) Fresh(updatedAt int64, now time.Time) bool {
	if p.Mode == ResetDaily && updatedAt < p.DailyResetAt(now).UnixMilli() {
		return false
	}
	if p.IdleMinutes > 0 && now.UnixMilli() > updatedAt+int64(p.IdleMinutes)*60_000 {
		return false
	}
	return true
}
