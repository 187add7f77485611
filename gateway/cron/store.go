package cron

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/wire"
)

// StorePath is where jobs live: cron.store (a leading ~ is the home dir)
// or <state>/cron/jobs.json, as in the original.
func StorePath(stateDir, configured, home string) string {
	if p := strings.TrimSpace(configured); p != "" {
		if strings.HasPrefix(p, "~") && home != "" {
			p = home + p[1:]
		}
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(stateDir, "cron", "jobs.json")
}

// LoadStore reads jobs.json. A missing file is an empty store. A file that
// is not JSON/JSON5 is an error: the original would treat it as empty and
// overwrite it on the next save, losing the user's jobs; we refuse to
// touch it instead. Jobs without a name get the original's inferred name
// and legacy payload fields (provider) are migrated; changed reports that
// either happened, so the caller persists the cleaned file.
func LoadStore(path string) (st wire.CronStore, changed bool, err error) {
	st = wire.CronStore{Version: 1, Jobs: []wire.CronJob{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return st, false, nil
	}
	var doc struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		js, err5 := profiles.FormatJSON(raw)
		if err5 != nil {
			return st, false, fmt.Errorf("cron store %s is not valid JSON5 (%v); fix or move it aside, it is left untouched", path, err5)
		}
		if err := json.Unmarshal(js, &doc); err != nil {
			return st, false, fmt.Errorf("cron store %s: %v; fix or move it aside, it is left untouched", path, err)
		}
	}
	for _, r := range doc.Jobs {
		if bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
			continue // the original filters out falsy entries
		}
		j, mutated, err := decodeStoredJob(r)
		if err != nil {
			return st, false, fmt.Errorf("cron store %s: a job is malformed (%v); fix or move the file aside, it is left untouched", path, err)
		}
		changed = changed || mutated
		st.Jobs = append(st.Jobs, j)
	}
	return st, changed, nil
}

// decodeStoredJob reads one stored job with the original's load-time
// clean-ups (name, description, payload.provider).
func decodeStoredJob(raw json.RawMessage) (wire.CronJob, bool, error) {
	var j wire.CronJob
	if err := json.Unmarshal(raw, &j); err != nil {
		return j, false, err
	}
	var legacy struct {
		Payload struct {
			Provider string `json:"provider"`
		} `json:"payload"`
	}
	_ = json.Unmarshal(raw, &legacy)
	mutated := false
	if name := strings.TrimSpace(j.Name); name == "" {
		j.Name = InferName(j)
		mutated = true
	} else {
		j.Name = name
	}
	if d := strings.TrimSpace(j.Description); d != j.Description {
		j.Description = d
		mutated = true
	}
	if migratePayload(&j.Payload, legacy.Payload.Provider) || legacy.Payload.Provider != "" {
		mutated = true
	}
	return j, mutated, nil
}

// migratePayload is the original's legacy payload migration: channel is
// lower-cased and the old provider field becomes channel.
func migratePayload(p *wire.CronPayload, provider string) bool {
	next := strings.ToLower(strings.TrimSpace(p.Channel))
	if next == "" {
		next = strings.ToLower(strings.TrimSpace(provider))
	}
	if next != "" && next != p.Channel {
		p.Channel = next
		return true
	}
	return false
}

// SaveStore writes the store atomically (temp file + rename, so a crash
// leaves the old or the new file, never a torn one) and then refreshes
// jobs.json.bak as the original does. The file is 0600: payloads may
// carry private text.
func SaveStore(path string, st wire.CronStore) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if st.Jobs == nil {
		st.Jobs = []wire.CronJob{}
	}
	st.Version = 1
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := profiles.WriteFileAtomic(path, b, 0o600); err != nil {
		return err
	}
	_ = profiles.WriteFileAtomic(path+".bak", b, 0o600) // best effort, like the original's copy
	return nil
}

// InferName is the original's name for a job stored without one: the
// first line of its text (60 chars), else a description of its schedule.
func InferName(j wire.CronJob) string {
	text := j.Payload.Text
	if j.Payload.Kind == wire.CronPayloadAgentTurn {
		text = j.Payload.Message
	}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return truncate(l, 60)
		}
	}
	switch j.Schedule.Kind {
	case wire.CronExpr:
		if j.Schedule.Expr != "" {
			return "Cron: " + truncate(j.Schedule.Expr, 52)
		}
	case wire.CronEvery:
		if j.Schedule.EveryMs != nil {
			return fmt.Sprintf("Every: %dms", *j.Schedule.EveryMs)
		}
	case wire.CronAt:
		return "One-shot"
	}
	return "Cron job"
}

// truncate cuts s to n characters, the last being "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:max(0, n-1)]), " \t\n") + "…"
}
