package supervise

import "strings"

// Legacy launchd labels and systemd unit prefixes (doc/supervision.md §2.1:
// the 2026.1.24 legacy list plus the clawdis names it had dropped; §0: the
// moltbot names that came after). One list serves Scan's classification and
// doctor's migration.
var (
	legacyLabels = []string{
		"com.steipete.clawdbot.gateway", "com.steipete.clawdis.gateway", "com.clawdis.gateway", "bot.molt.gateway",
	}
	legacyLabelPrefixes = []string{"bot.molt."}
	legacyUnitPrefixes  = []string{"clawdis-gateway", "moltbot-gateway"}
)

// LegacyName reports whether a launchd label or systemd unit name (with or
// without .service) is a legacy gateway name, and the profile the name
// encodes ("" for the default).
func LegacyName(pl Platform, name string) (profile string, ok bool) {
	switch pl {
	case Launchd:
		for _, l := range legacyLabels {
			if name == l {
				return "", true
			}
		}
		for _, p := range legacyLabelPrefixes {
			if rest, found := strings.CutPrefix(name, p); found && rest != "" && !strings.Contains(rest, "node") {
				return rest, true
			}
		}
	case Systemd:
		base := strings.TrimSuffix(name, ".service")
		for _, p := range legacyUnitPrefixes {
			if rest, found := strings.CutPrefix(base, p); found && (rest == "" || strings.HasPrefix(rest, "-")) {
				return strings.TrimPrefix(rest, "-"), true
			}
		}
	}
	return "", false
}
