//go:build nowhatsapp

package gateway

import "github.com/clawdbot/clawdbot/gateway/channels"

// whatsappPlugins is empty in a gateway built with -tags nowhatsapp: no
// whatsmeow, no SQLite in the binary (doc/messaging.md §5.3).
func whatsappPlugins() []channels.Plugin { return nil }
