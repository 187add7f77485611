package nodes

import (
	"slices"
	"strings"
)

// Platform command allowlists for node.invoke (doc/protocol.md §3.3).
var (
	canvasCmds = []string{"canvas.present", "canvas.hide", "canvas.navigate", "canvas.eval", "canvas.snapshot",
		"canvas.a2ui.push", "canvas.a2ui.pushJSONL", "canvas.a2ui.reset"}
	cameraCmds = []string{"camera.list", "camera.snap", "camera.clip"}
	mobileCmds = slices.Concat(canvasCmds, cameraCmds, []string{"screen.record", "location.get"})
	systemCmds = []string{"system.run", "system.which", "system.notify", "system.execApprovals.get",
		"system.execApprovals.set", "browser.proxy"}
)

func platformAllowlist(platform string) []string {
	p := strings.ToLower(platform)
	switch {
	case strings.HasPrefix(p, "ios") || strings.HasPrefix(p, "ipados"):
		return mobileCmds
	case strings.HasPrefix(p, "android"):
		return slices.Concat(mobileCmds, []string{"sms.send"})
	case strings.HasPrefix(p, "mac") || strings.HasPrefix(p, "darwin"):
		return slices.Concat(mobileCmds, systemCmds)
	case strings.HasPrefix(p, "linux") || strings.HasPrefix(p, "win"):
		return systemCmds
	}
	return slices.Concat(mobileCmds, []string{"sms.send"}, systemCmds)
}

// Policy is the config's say on node commands (gateway.nodes.allowCommands
// and denyCommands); it belongs to a runtime, so a restart applies a new
// one to new connections and calls.
type Policy struct {
	Allow, Deny []string
}

// Allowed = platform defaults + Allow − Deny.
func (p Policy) Allowed(platform string) []string {
	out := slices.Concat(platformAllowlist(platform), p.Allow)
	return slices.DeleteFunc(out, func(c string) bool { return slices.Contains(p.Deny, c) })
}

// Filter keeps the declared commands the policy allows on platform (nil
// when none is).
func (p Policy) Filter(platform string, declared []string) []string {
	allow := p.Allowed(platform)
	var out []string
	for _, cmd := range declared {
		if slices.Contains(allow, cmd) {
			out = append(out, cmd)
		}
	}
	return out
}
