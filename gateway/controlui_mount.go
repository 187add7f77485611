package gateway

import (
	"github.com/clawdbot/clawdbot/gateway/controlui"
	"github.com/clawdbot/clawdbot/profiles"
)

// newControlUI builds the Control UI of a runtime from
// gateway.controlUi (enabled by default; doc/protocol.md §7). nil when it
// is disabled or its base path is unusable; the latter is logged with the
// fix, and the rest of the gateway runs without the UI. auth is the
// runtime's auth mode (the page connects at once when it needs no secret).
func (s *Server) newControlUI(cfg *profiles.Config, auth string) *controlui.Handler {
	var ui profiles.ControlUIConfig
	if cfg != nil {
		ui = cfg.Gateway.ControlUI
	}
	if ui.Enabled != nil && !*ui.Enabled {
		return nil
	}
	h, err := controlui.New(controlui.Options{BasePath: ui.BasePath, OpenAccess: auth == AuthNone})
	if err != nil {
		s.callLog.Warn("control ui disabled: " + err.Error())
		return nil
	}
	return h
}
