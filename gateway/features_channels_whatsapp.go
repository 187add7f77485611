//go:build !nowhatsapp

package gateway

import (
	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/whatsapp"
)

// whatsappPlugins is the WhatsApp channel. Linking it in costs every start
// its package initialisation and idle RSS even without a WhatsApp account
// (whatsmeow's protobuf descriptors, SQLite; doc/messaging.md §5.3), so
// `-tags nowhatsapp` builds a gateway without it.
func whatsappPlugins() []channels.Plugin { return []channels.Plugin{whatsapp.New()} }
