package profiles

import "strings"

// clawdbotEnd is the end of "clawdbot" in a command that starts with it,
// optionally run through a package runner (pnpm, npm, bunx, npx) and
// followed by a space or the end; -1 for any other command. It is the
// pattern ^(\s*(?:(?:pnpm|npm|bunx|npx)\s+)?clawdbot)(?:\s|$) as plain
// code: the banner of every named-profile gateway formats a hint, and
// compiling and running the regexp cost ~47 KB before the listener.
func clawdbotEnd(cmd string) int {
	i := skipRE2Space(cmd, 0)
	for _, runner := range []string{"pnpm", "npm", "bunx", "npx"} {
		if strings.HasPrefix(cmd[i:], runner) {
			j := i + len(runner)
			if k := skipRE2Space(cmd, j); k > j {
				if end := clawdbotWordEnd(cmd, k); end >= 0 {
					return end
				}
			}
		}
	}
	return clawdbotWordEnd(cmd, i)
}

// clawdbotWordEnd is the end of "clawdbot" at cmd[i:] when a space or the
// end follows it, else -1.
func clawdbotWordEnd(cmd string, i int) int {
	const word = "clawdbot"
	if !strings.HasPrefix(cmd[i:], word) {
		return -1
	}
	end := i + len(word)
	if end < len(cmd) && !isRE2Space(cmd[end]) {
		return -1
	}
	return end
}

// skipRE2Space skips what the regexp \s matches (ASCII \t \n \f \r and space).
func skipRE2Space(s string, i int) int {
	for i < len(s) && isRE2Space(s[i]) {
		i++
	}
	return i
}

func isRE2Space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

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
	end := clawdbotEnd(cmd)
	if end < 0 {
		return cmd
	}
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
