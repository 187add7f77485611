package cron

import (
	"encoding/json"
	"io/fs"
	"os"
	"sync"

	"github.com/clawdbot/clawdbot/profiles"
)

// ParseConfig reads cron.enabled, cron.maxConcurrentRuns and cron.store
// from a clawdbot.json (JSON5) document; CLAWDBOT_SKIP_CRON=1 (getenv)
// disables the scheduler as in the original.
func ParseConfig(doc map[string]any, getenv func(string) string) Config {
	c := Config{Enabled: true, MaxConcurrentRuns: 1}
	m, _ := doc["cron"].(map[string]any)
	if v, ok := m["enabled"].(bool); ok && !v {
		c.Enabled = false
	}
	if n, ok := m["maxConcurrentRuns"].(float64); ok && n >= 1 {
		c.MaxConcurrentRuns = int(n)
	}
	c.Store, _ = m["store"].(string)
	if getenv != nil && getenv("CLAWDBOT_SKIP_CRON") == "1" {
		c.Enabled = false
	}
	return c
}

// ConfigFile returns a source of the parsed config document at path that
// re-reads the file only when its size or mtime changes, so a config
// reload applies without a hook. A missing or unreadable file is {}.
func ConfigFile(path string) func() map[string]any {
	var mu sync.Mutex
	var last fs.FileInfo
	cur := map[string]any{}
	return func() map[string]any {
		mu.Lock()
		defer mu.Unlock()
		st, err := os.Stat(path)
		if err != nil {
			last, cur = nil, map[string]any{}
			return cur
		}
		if last != nil && st.Size() == last.Size() && st.ModTime().Equal(last.ModTime()) {
			return cur
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return cur
		}
		js, err := profiles.FormatJSON(raw)
		var doc map[string]any
		if err != nil || json.Unmarshal(js, &doc) != nil || doc == nil {
			doc = map[string]any{}
		}
		last, cur = st, doc
		return cur
	}
}
