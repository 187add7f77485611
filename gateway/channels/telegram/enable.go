package telegram

import (
	"encoding/json"
	"slices"
	"strings"
)

// Loaded reports whether the gateway loads the Telegram plugin for the
// config document root, as the original decides at start-up
// (doc/messaging.md §1.1): the channel plugins are bundled but disabled,
// plugins.enabled:false, plugins.deny and a plugins.allow without
// "telegram" keep it out, plugins.entries.telegram.enabled decides when
// set, and otherwise it is auto-enabled when TELEGRAM_BOT_TOKEN is set or
// channels.telegram has any key. Without the plugin, send to telegram is
// "unsupported channel" and channels.status does not list it.
func (p *Plugin) Loaded(root json.RawMessage, getenv func(string) string) bool {
	var doc struct {
		Plugins struct {
			Enabled *bool    `json:"enabled"`
			Allow   []string `json:"allow"`
			Deny    []string `json:"deny"`
			Entries map[string]struct {
				Enabled *bool `json:"enabled"`
			} `json:"entries"`
		} `json:"plugins"`
		Channels map[string]json.RawMessage `json:"channels"`
	}
	_ = json.Unmarshal(root, &doc)
	pl := doc.Plugins
	const id = "telegram"
	switch {
	case pl.Enabled != nil && !*pl.Enabled:
		return false
	case slices.Contains(pl.Deny, id):
		return false
	case len(pl.Allow) > 0 && !slices.Contains(pl.Allow, id):
		return false
	}
	if e, ok := pl.Entries[id]; ok && e.Enabled != nil {
		return *e.Enabled
	}
	if getenv != nil && strings.TrimSpace(getenv(TokenEnv)) != "" {
		return true
	}
	var section map[string]json.RawMessage
	return json.Unmarshal(doc.Channels[id], &section) == nil && len(section) > 0
}
