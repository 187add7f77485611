package models

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// Auth-profile rotation as the original's embedded runner does it
// (d:agents/pi-embedded-runner/run.js, d:agents/auth-profiles/*.js;
// doc/messaging.md §4.2): a provider with several credentials in the
// agent's auth-profiles.json uses them in the original's order; a rate
// limit, auth or billing failure puts the profile in cooldown (recorded
// in the file's usageStats, as the original records it) and the next
// usable profile is tried; a success records lastGood and lastUsed and
// clears the profile's error state.

// authProfile is one usable credential of a provider.
type authProfile struct {
	id, key string
}

// authStats is one profile's usageStats entry, fields raw so that a
// field this code does not model survives a rewrite.
type authStats map[string]json.RawMessage

func (s authStats) num(name string) int64 {
	var n float64
	if json.Unmarshal(s[name], &n) != nil {
		return 0
	}
	return int64(n)
}

func (s authStats) setNum(name string, n int64) {
	s[name], _ = json.Marshal(n)
}

// unusableUntil is the later of cooldownUntil and disabledUntil (0: none).
func (s authStats) unusableUntil() int64 {
	return max(s.num("cooldownUntil"), s.num("disabledUntil"))
}

// authFile is auth-profiles.json. The original writes exactly these keys,
// in this order (saveAuthProfileStore); profiles is kept verbatim.
type authFile struct {
	Version    json.RawMessage      `json:"version"`
	Profiles   json.RawMessage      `json:"profiles"`
	Order      json.RawMessage      `json:"order,omitempty"`
	LastGood   map[string]string    `json:"lastGood,omitempty"`
	UsageStats map[string]authStats `json:"usageStats,omitempty"`
}

type authCredential struct {
	Type     string  `json:"type"`
	Provider string  `json:"provider"`
	Key      string  `json:"key"`
	Token    string  `json:"token"`
	Access   string  `json:"access"`
	Expires  float64 `json:"expires"`
}

// secret is the credential's key for an API call ("" when unusable at
// now, as resolveAuthProfileOrder filters).
func (c authCredential) secret(now time.Time) string {
	switch c.Type {
	case "api_key":
		return strings.TrimSpace(c.Key)
	case "token":
		if c.Expires > 0 && float64(now.UnixMilli()) >= c.Expires {
			return ""
		}
		return strings.TrimSpace(c.Token)
	case "oauth":
		return strings.TrimSpace(c.Access)
	}
	return ""
}

func readAuthFile(path string) (authFile, bool) {
	var f authFile
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &f) != nil || len(f.Profiles) == 0 {
		return authFile{}, false
	}
	return f, true
}

// profileIDs are the keys of the profiles object in file order (the
// original's Object.entries order).
func profileIDs(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var ids []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ids
		}
		ids = append(ids, t.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ids
		}
	}
	return ids
}

// authOrder is resolveAuthProfileOrder without the config's auth section:
// the file's order[provider] when set (kept as written, profiles in
// cooldown moved last), else the provider's profiles by type (oauth,
// token, api_key) and least recently used first, those in cooldown last
// (soonest usable first).
func authOrder(f authFile, provider string, now time.Time) []authProfile {
	var creds map[string]authCredential
	if json.Unmarshal(f.Profiles, &creds) != nil {
		return nil
	}
	ids := profileIDs(f.Profiles)
	explicit := false
	if len(f.Order) > 0 {
		var order map[string][]string
		if json.Unmarshal(f.Order, &order) == nil {
			for k, v := range order {
				if NormalizeProvider(k) == provider {
					ids, explicit = v, true
				}
			}
		}
	}
	type scored struct {
		p               authProfile
		typeScore       int
		lastUsed, until int64
	}
	var avail, cooling []scored
	seen := map[string]bool{}
	for _, id := range ids {
		c, ok := creds[id]
		if !ok || seen[id] || NormalizeProvider(c.Provider) != provider {
			continue
		}
		seen[id] = true
		key := c.secret(now)
		if key == "" {
			// Unusable, or an oauth profile with only a refresh token
			// (refreshing is not done here).
			continue
		}
		st := f.UsageStats[id]
		s := scored{p: authProfile{id: id, key: key}, typeScore: map[string]int{"oauth": 0, "token": 1, "api_key": 2}[c.Type],
			lastUsed: st.num("lastUsed"), until: st.unusableUntil()}
		if s.until > now.UnixMilli() {
			cooling = append(cooling, s)
		} else {
			avail = append(avail, s)
		}
	}
	if !explicit {
		slices.SortStableFunc(avail, func(a, b scored) int {
			if a.typeScore != b.typeScore {
				return a.typeScore - b.typeScore
			}
			return cmp.Compare(a.lastUsed, b.lastUsed)
		})
	}
	slices.SortStableFunc(cooling, func(a, b scored) int { return cmp.Compare(a.until, b.until) })
	var out []authProfile
	for _, s := range append(avail, cooling...) {
		out = append(out, s.p)
	}
	return out
}

// rotation is a candidate's walk through its provider's auth profiles for
// one turn (nil: the key does not come from auth profiles).
type rotation struct {
	path     string
	provider string
	profiles []authProfile
	idx      int
	now      func() time.Time
}

// current is the profile in use.
func (r *rotation) current() authProfile { return r.profiles[r.idx] }

// failureReason is the original's failover reason for a profile
// (classifyFailoverReason): "" when the error says nothing about the
// credential (a server error, a bad request), so the profile is kept.
func failureReason(e *llm.Error) string {
	m := strings.ToLower(e.Message)
	switch {
	case e.Status == 402 || strings.Contains(m, "billing") || strings.Contains(m, "insufficient credits") || strings.Contains(m, "credit balance"):
		return "billing"
	case e.Kind == llm.KindRateLimit || e.Status == 529:
		return "rate_limit"
	case e.Kind == llm.KindAuth:
		return "auth"
	}
	return ""
}

// fail records reason against the current profile and moves to the next
// one not in cooldown; false when there is none left.
func (r *rotation) fail(reason string) bool {
	id := r.current().id
	r.update(func(f *authFile, now int64) {
		st := f.stats(id)
		window := int64(24 * time.Hour / time.Millisecond)
		count := st.num("errorCount")
		var counts map[string]int64
		if last := st.num("lastFailureAt"); last > 0 && now-last > window {
			count, counts = 0, map[string]int64{}
		} else if json.Unmarshal(st["failureCounts"], &counts) != nil || counts == nil {
			counts = map[string]int64{}
		}
		count++
		counts[reason]++
		st.setNum("errorCount", count)
		st["failureCounts"], _ = json.Marshal(counts)
		st.setNum("lastFailureAt", now)
		if reason == "billing" {
			// 5 h doubling per billing failure, at most 24 h.
			d := min(int64(5*time.Hour/time.Millisecond)<<min(counts["billing"]-1, 10), int64(24*time.Hour/time.Millisecond))
			st.setNum("disabledUntil", now+d)
			st["disabledReason"], _ = json.Marshal("billing")
		} else {
			st.setNum("cooldownUntil", now+CooldownFor(count).Milliseconds())
		}
	})
	now := r.now()
	stats := r.statsNow()
	for next := r.idx + 1; next < len(r.profiles); next++ {
		if stats[r.profiles[next].id].unusableUntil() > now.UnixMilli() {
			continue
		}
		r.idx = next
		return true
	}
	return false
}

// succeeded records lastGood and lastUsed and clears the profile's error
// state (markAuthProfileGood, markAuthProfileUsed).
func (r *rotation) succeeded() {
	id := r.current().id
	r.update(func(f *authFile, now int64) {
		if f.LastGood == nil {
			f.LastGood = map[string]string{}
		}
		f.LastGood[r.provider] = id
		st := f.stats(id)
		st.setNum("lastUsed", now)
		st.setNum("errorCount", 0)
		for _, k := range []string{"cooldownUntil", "disabledUntil", "disabledReason", "failureCounts"} {
			delete(st, k)
		}
	})
}

func (f *authFile) stats(id string) authStats {
	if f.UsageStats == nil {
		f.UsageStats = map[string]authStats{}
	}
	st := f.UsageStats[id]
	if st == nil {
		st = authStats{}
		f.UsageStats[id] = st
	}
	return st
}

func (r *rotation) statsNow() map[string]authStats {
	f, _ := readAuthFile(r.path)
	return f.UsageStats
}

// CooldownFor is the original's rate-limit cooldown after n consecutive
// failures: 1 min, 5 min, 25 min, then 1 h.
func CooldownFor(n int64) time.Duration {
	d := time.Minute
	for range min(max(n, 1)-1, 3) {
		d *= 5
	}
	return min(d, time.Hour)
}

// update re-reads the file under the original's lock, applies fn and
// writes it back (temp + rename, 0600). Failing to lock, it writes
// without the lock, as the original does; a file that no longer parses
// is left alone.
func (r *rotation) update(fn func(f *authFile, nowMs int64)) {
	release, locked := lockAuthFile(r.path)
	if locked {
		defer release()
	}
	f, ok := readAuthFile(r.path)
	if !ok {
		return
	}
	fn(&f, r.now().UnixMilli())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(f) != nil {
		return
	}
	tmp := fmt.Sprintf("%s.%d.%d.tmp", r.path, os.Getpid(), time.Now().UnixNano())
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return
	}
	if os.Rename(tmp, r.path) != nil {
		os.Remove(tmp)
	}
}

// authLockStale is proper-lockfile's stale age as the original sets it.
const authLockStale = 30 * time.Second

// lockAuthFile takes the original's lock on path: proper-lockfile's
// directory <path>.lock, considered stale after 30 s. It waits at most
// about 2 s.
func lockAuthFile(path string) (release func(), ok bool) {
	lock := path + ".lock"
	wait := 25 * time.Millisecond
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := os.Mkdir(lock, 0o700)
		if err == nil {
			return func() { os.Remove(lock) }, true
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, false
		}
		if st, err := os.Stat(lock); err == nil && time.Since(st.ModTime()) > authLockStale {
			os.Remove(lock)
			continue
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		time.Sleep(wait)
		wait = min(wait*2, 400*time.Millisecond)
	}
}
