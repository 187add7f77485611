package profiles

import (
	"regexp"
	"strings"
	"sync"
)

// hintRE matches a command that starts with clawdbot, optionally run
// through a package runner, and captures up to the end of "clawdbot".
var hintRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\s*(?:(?:pnpm|npm|bunx|npx)\s+)?clawdbot)(?:\s|$)`)
})

// FormatHint makes a printed fix command target the given profile
// (doc/supervision.md §1.7): for a valid, non-default profile name it inserts
// "--profile <name>" right after "clawdbot" ("--dev" for the dev profile),
// unless the command already has a global --profile or --dev. Anything that
// does not start with clawdbot is returned unchanged.
//
// Unlike the original, a --dev after the command word (the gateway
// subcommand's own dev-bootstrap flag) does not count as a profile flag.
func FormatHint(profile, cmd string) string {
	profile = strings.TrimSpace(profile)
	if profile == "" || strings.EqualFold(profile, "default") || !ValidName(profile) {
		return cmd
	}
	m := hintRE().FindStringSubmatchIndex(cmd)
	if m == nil {
		return cmd
	}
	end := m[3]
	for _, w := range strings.Fields(cmd[end:]) {
		if !strings.HasPrefix(w, "-") {
			break // the command word: later flags are the command's
		}
		if w == "--dev" || w == "--profile" || strings.HasPrefix(w, "--profile=") {
			return cmd
		}
	}
	flag := "--profile " + profile
	if strings.EqualFold(profile, "dev") {
		flag = "--dev"
	}
	return cmd[:end] + " " + flag + cmd[end:]
}
