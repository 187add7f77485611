package whatsapp

import (
	"os"
	"path/filepath"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// Loaded reports whether the gateway loads the WhatsApp plugin, as the
// original decides at start-up (doc/messaging.md §1.1): the plugin
// switches (channels.PluginGate) first; otherwise it is auto-enabled when
// channels.whatsapp has any key or an account has a store from an
// earlier login (the original looks for Baileys' creds.json). A fresh
// gateway therefore answers health and hello-ok without WhatsApp, as the
// original's does.
func (p *Plugin) Loaded(lc channels.LoadContext) bool {
	if enabled, decided := channels.PluginGate(lc.Root, "whatsapp"); decided {
		return enabled
	}
	if channels.HasSection(lc.Root, "whatsapp") {
		return true
	}
	if lc.StateDir == "" {
		return false
	}
	accounts, err := os.ReadDir(filepath.Join(lc.StateDir, "credentials", "whatsapp"))
	if err != nil {
		return false
	}
	for _, a := range accounts {
		if a.IsDir() && StoreExists(filepath.Join(lc.StateDir, "credentials", "whatsapp", a.Name())) {
			return true
		}
	}
	return false
}
