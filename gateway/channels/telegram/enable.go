package telegram

import (
	"strings"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// Loaded reports whether the gateway loads the Telegram plugin, as the
// original decides at start-up (doc/messaging.md §1.1): the plugin
// switches (channels.PluginGate) first, and otherwise it is auto-enabled
// when TELEGRAM_BOT_TOKEN is set or channels.telegram has any key.
// Without the plugin, send to telegram is "unsupported channel" and
// channels.status does not list it.
func (p *Plugin) Loaded(lc channels.LoadContext) bool {
	if enabled, decided := channels.PluginGate(lc.Root, "telegram"); decided {
		return enabled
	}
	if lc.Getenv != nil && strings.TrimSpace(lc.Getenv(TokenEnv)) != "" {
		return true
	}
	return channels.HasSection(lc.Root, "telegram")
}
