package channels

import (
	"encoding/json"
	"slices"
)

// LoadContext is what a plugin reads at start-up to decide whether the
// gateway loads it: the config document, the environment and the state
// dir (for credentials an earlier login left).
type LoadContext struct {
	Root     json.RawMessage
	Getenv   func(string) string
	StateDir string
}

// Loader is implemented by plugins that, like the original's bundled
// channel plugins, load only when the config enables them
// (doc/messaging.md §1.1); the gateway decides once, at start-up. A
// plugin without it is always loaded.
type Loader interface {
	Loaded(LoadContext) bool
}

// PluginGate applies the original's plugin switches to plugin id
// (doc/messaging.md §1.1): plugins.enabled:false, plugins.deny and a
// plugins.allow without id keep it out; plugins.entries.<id>.enabled
// decides when set. decided is false when none of them settles it, and
// the plugin's own auto-enable rule applies.
func PluginGate(root json.RawMessage, id string) (enabled, decided bool) {
	var doc struct {
		Plugins struct {
			Enabled *bool    `json:"enabled"`
			Allow   []string `json:"allow"`
			Deny    []string `json:"deny"`
			Entries map[string]struct {
				Enabled *bool `json:"enabled"`
			} `json:"entries"`
		} `json:"plugins"`
	}
	_ = json.Unmarshal(root, &doc)
	pl := doc.Plugins
	switch {
	case pl.Enabled != nil && !*pl.Enabled,
		slices.Contains(pl.Deny, id),
		len(pl.Allow) > 0 && !slices.Contains(pl.Allow, id):
		return false, true
	}
	if e, ok := pl.Entries[id]; ok && e.Enabled != nil {
		return *e.Enabled, true
	}
	return false, false
}

// HasSection reports whether channels.<id> of root is an object with at
// least one key (the original's auto-enable rule for a configured
// channel).
func HasSection(root json.RawMessage, id string) bool {
	var doc struct {
		Channels map[string]json.RawMessage `json:"channels"`
	}
	if json.Unmarshal(root, &doc) != nil {
		return false
	}
	var section map[string]json.RawMessage
	return json.Unmarshal(doc.Channels[id], &section) == nil && len(section) > 0
}
