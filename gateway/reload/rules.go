// Package reload decides what a config change means for a running gateway
// and notices when the config file changes (doc/protocol.md §9).
//
// The pipeline is: Watcher (file changed, debounced) → the caller re-reads the
// config → Diff(old, new) gives dotted paths → Plan(paths, mode) says which
// hot actions to run and whether the gateway must restart in process. The
// rule table is data (Rules) so it can be read, tested and extended in one
// place.
package reload

import "strings"

// ActionType is what a changed path requires.
type ActionType string

// Action types.
const (
	// Noop: the value is read dynamically (or not at all) by the gateway;
	// nothing needs to happen.
	Noop ActionType = "noop"
	// Hot: a subsystem is reloaded or restarted in place; connections stay.
	Hot ActionType = "hot"
	// Restart: the gateway must restart in process (SIGUSR1 path).
	Restart ActionType = "restart"
)

// Hot action kinds (Action.Kind for Hot actions). Channel restarts are
// "channel:<id>".
const (
	KindHooks     = "hooks"     // reload the hooks config
	KindGmail     = "gmail"     // restart the Gmail watcher (also reloads hooks)
	KindHeartbeat = "heartbeat" // restart the heartbeat runner
	KindCron      = "cron"      // restart the cron service
	KindBrowser   = "browser"   // restart browser control
)

// ChannelKind is the hot kind that restarts channel id.
func ChannelKind(id string) string { return "channel:" + id }

// Action is the classification of one changed path.
type Action struct {
	Type ActionType
	// Kind names the hot action (only for Hot).
	Kind string
	// Rule is the prefix that matched ("" when no rule matched and the
	// catch-all restart applied).
	Rule string
}

// Rule maps config path prefixes to an action. A path matches a prefix when
// it equals it or continues with "." (so "hooks" matches "hooks.token" but not
// "hooksX").
type Rule struct {
	Prefixes []string
	Action   Action
}

func rule(t ActionType, kind string, prefixes ...string) Rule {
	return Rule{Prefixes: prefixes, Action: Action{Type: t, Kind: kind}}
}

// channelRules are the channel plugins whose config changes restart only
// that channel (doc/protocol.md §9.2 item 7).
var channelIDs = []string{
	"telegram", "discord", "slack", "signal", "imessage", "bluebubbles", "googlechat", "line",
	"matrix", "mattermost", "msteams", "nextcloud-talk", "nostr", "tlon", "zalo", "zalouser",
}

// Rules is the table of doc/protocol.md §9.2 in order; the first matching
// prefix wins. Paths that match nothing restart the gateway.
var Rules = buildRules()

func buildRules() []Rule {
	rs := []Rule{
		rule(Noop, "", "gateway.remote", "gateway.reload"),
		rule(Hot, KindGmail, "hooks.gmail"),
		rule(Hot, KindHooks, "hooks"),
		rule(Hot, KindHeartbeat, "agents.defaults.heartbeat", "agent.heartbeat"),
		rule(Hot, KindCron, "cron"),
		rule(Hot, KindBrowser, "browser"),
	}
	for _, id := range channelIDs {
		rs = append(rs, rule(Hot, ChannelKind(id), "channels."+id))
	}
	rs = append(rs,
		// WhatsApp's live settings sit under "web"; channels.whatsapp is read
		// dynamically by the web channel.
		rule(Hot, ChannelKind("whatsapp"), "web"),
		rule(Noop, "", "channels.whatsapp"),
		rule(Noop, "", "identity", "wizard", "logging", "models", "agents", "tools", "bindings",
			"audio", "agent", "routing", "messages", "session", "talk", "skills", "ui"),
		rule(Restart, "", "plugins", "gateway", "discovery", "canvasHost"),
	)
	return rs
}

// matches reports whether path is prefix or lies below it.
func matches(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+".")
}

// Classify returns the action a change at path requires: the first rule
// whose prefix matches, else Restart (unknown keys such as commands.*, env,
// auth are assumed to need a restart, as in the original).
func Classify(path string) Action {
	for _, r := range Rules {
		for _, p := range r.Prefixes {
			if matches(path, p) {
				a := r.Action
				a.Rule = p
				return a
			}
		}
	}
	return Action{Type: Restart}
}
