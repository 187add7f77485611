//lint:file-ignore ST1005 these errors are the original's user-facing texts (web.login.*, send, logout): clients show them verbatim, capitalised and punctuated

package whatsapp

import (
	"errors"
	"regexp"
	"strings"

	"go.mau.fi/whatsmeow/types"
)

// ErrTargetRequired is the original's target error, word for word
// (doc/messaging.md §1.9 and §5.3).
var ErrTargetRequired = errors.New("Delivering to WhatsApp requires target <E.164|group JID> or channels.whatsapp.allowFrom[0]")

var (
	userJIDRe  = regexp.MustCompile(`(?i)^(\d+)(?::\d+)?@s\.whatsapp\.net$`)
	lidJIDRe   = regexp.MustCompile(`(?i)^(\d+)@lid$`)
	groupLocal = regexp.MustCompile(`^[0-9]+(-[0-9]+)*$`)
)

// stripPrefixes removes any number of leading "whatsapp:" prefixes.
func stripPrefixes(v string) string {
	v = strings.TrimSpace(v)
	for {
		if len(v) >= 9 && strings.EqualFold(v[:9], "whatsapp:") {
			v = strings.TrimSpace(v[9:])
			continue
		}
		return v
	}
}

// NormalizeE164 keeps the digits of a phone number behind one "+"
// (the original's normalizeE164: "+1 (555) 000-1111" → "+15550001111").
func NormalizeE164(v string) string {
	v = stripPrefixes(v)
	var b strings.Builder
	b.WriteByte('+')
	for i, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r == '+' && i > 0 {
			continue
		}
	}
	return b.String()
}

// isGroupJID reports a group JID "<digits>(-<digits>)*@g.us".
func isGroupJID(v string) bool {
	lower := strings.ToLower(v)
	if !strings.HasSuffix(lower, "@g.us") {
		return false
	}
	local := v[:len(v)-len("@g.us")]
	return local != "" && groupLocal.MatchString(local)
}

// NormalizeTarget is the original's normalizeWhatsAppTarget: a group JID
// stays a JID, a user JID or number becomes E.164, anything else with an
// "@" (or without digits) is invalid ("").
func NormalizeTarget(v string) string {
	v = stripPrefixes(v)
	if v == "" {
		return ""
	}
	if isGroupJID(v) {
		return v[:len(v)-len("@g.us")] + "@g.us"
	}
	if m := userJIDRe.FindStringSubmatch(v); m != nil {
		return NormalizeE164(m[1])
	}
	if m := lidJIDRe.FindStringSubmatch(v); m != nil {
		return NormalizeE164(m[1])
	}
	if strings.Contains(v, "@") {
		return ""
	}
	if n := NormalizeE164(v); len(n) > 1 {
		return n
	}
	return ""
}

// targetMode mirrors channels.TargetMode without importing it here.
type targetMode string

const (
	modeExplicit  targetMode = "explicit"
	modeImplicit  targetMode = "implicit"
	modeHeartbeat targetMode = "heartbeat"
)

// resolveTarget is outbound.resolveTarget of the original's WhatsApp
// plugin: explicit targets must be valid; an empty target falls back to
// allowFrom[0]; implicit and heartbeat delivery replace an invalid target,
// or a DM target outside a non-wildcard allowFrom, by allowFrom[0].
func resolveTarget(to string, mode targetMode, allowFrom []string) (string, error) {
	var allow []string
	wildcard := false
	for _, e := range allowFrom {
		e = strings.TrimSpace(e)
		if e == "*" {
			wildcard = true
			continue
		}
		if n := NormalizeTarget(e); n != "" {
			allow = append(allow, n)
		}
	}
	fallback := func() (string, error) {
		if len(allow) > 0 {
			return allow[0], nil
		}
		return "", ErrTargetRequired
	}
	if strings.TrimSpace(to) == "" {
		return fallback()
	}
	n := NormalizeTarget(to)
	if mode == modeExplicit || mode == "" {
		if n == "" {
			return "", ErrTargetRequired
		}
		return n, nil
	}
	if n == "" {
		return fallback()
	}
	if isGroupJID(n) || wildcard || len(allow) == 0 {
		return n, nil
	}
	for _, a := range allow {
		if a == n {
			return n, nil
		}
	}
	return fallback()
}

// targetJID is the JID a normalised target sends to: a group JID as is,
// "+<digits>" as <digits>@s.whatsapp.net (the original's toWhatsappJid).
func targetJID(target string) (types.JID, error) {
	if isGroupJID(target) {
		return types.NewJID(target[:len(target)-len("@g.us")], types.GroupServer), nil
	}
	n := NormalizeTarget(target)
	if n == "" || isGroupJID(n) {
		return types.JID{}, ErrTargetRequired
	}
	return types.NewJID(n[1:], types.DefaultUserServer), nil
}

// jidE164 is the E.164 number of a phone-number JID ("" for others).
func jidE164(j types.JID) string {
	if j.Server == types.DefaultUserServer || j.Server == types.HostedServer {
		return "+" + j.User
	}
	return ""
}
