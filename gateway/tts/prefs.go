package tts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/clawdbot/clawdbot/profiles"
)

// prefs is the prefs file {"tts": {auto, provider, enabled, maxLength,
// summarize, ...}}, kept as generic JSON so keys this package does not use
// (and the original's other settings) survive a write.
type prefs map[string]any

var prefsMu sync.Mutex // serialises read-modify-write of the prefs file

// readPrefs reads path; a missing or broken file is empty, as the original.
func readPrefs(path string) prefs {
	if path == "" {
		return prefs{}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return prefs{}
	}
	var p prefs
	if json.Unmarshal(b, &p) != nil || p == nil {
		return prefs{}
	}
	return p
}

func (p prefs) tts() map[string]any {
	t, _ := p["tts"].(map[string]any)
	return t
}

// auto is the prefs' auto mode ("" when it has none): tts.auto, else the
// legacy tts.enabled boolean.
func (p prefs) auto() string {
	t := p.tts()
	if a, _ := t["auto"].(string); normalizeAuto(a) != "" {
		return normalizeAuto(a)
	}
	if e, ok := t["enabled"].(bool); ok {
		if e {
			return "always"
		}
		return "off"
	}
	return ""
}

func (p prefs) provider() string { s, _ := p.tts()["provider"].(string); return s }

// updatePrefs applies fn to the tts object of the file and writes it back
// atomically (temp + rename), creating its directory.
func updatePrefs(path string, fn func(t map[string]any)) error {
	if path == "" {
		return errors.New("tts prefs cannot be stored: the gateway has no state directory")
	}
	prefsMu.Lock()
	defer prefsMu.Unlock()
	p := readPrefs(path)
	t := p.tts()
	if t == nil {
		t = map[string]any{}
	}
	fn(t)
	p["tts"] = t
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return profiles.WriteFileAtomic(path, b, 0o600)
}
