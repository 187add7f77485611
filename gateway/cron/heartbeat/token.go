package heartbeat

import (
	"regexp"
	"strings"
	"sync"
)

// Token is the reply that means "nothing needs attention".
const Token = "HEARTBEAT_OK"

// DefaultAckMaxChars: text next to the token up to this length is still
// an ack (agents.defaults.heartbeat.ackMaxChars).
const DefaultAckMaxChars = 300

// Stripped is a reply with the heartbeat token removed.
type Stripped struct {
	// Skip: the reply is an ack only (nothing to deliver).
	Skip bool
	// Text is what is left to deliver.
	Text string
	// DidStrip: the token was found at an edge and removed.
	DidStrip bool
}

var (
	htmlTag    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<[^>]*>`) })
	nbsp       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)&nbsp;`) })
	leadMarks  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^[*`~_]+") })
	trailMarks = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("[*`~_]+$") })
	spaces     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })
)

// StripToken is the original's stripHeartbeatToken in heartbeat mode: the
// token at either edge (also inside light HTML/Markdown such as
// **HEARTBEAT_OK**) is removed; what remains, if at most ackMaxChars
// long, is an ack.
func StripToken(raw string, ackMaxChars int) Stripped {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		return Stripped{Skip: true}
	}
	norm := htmlTag().ReplaceAllString(trimmed, " ")
	norm = nbsp().ReplaceAllString(norm, " ")
	norm = trailMarks().ReplaceAllString(leadMarks().ReplaceAllString(norm, ""), "")
	if !strings.Contains(trimmed, Token) && !strings.Contains(norm, Token) {
		return Stripped{Text: trimmed}
	}
	orig, origDid := stripEdges(trimmed)
	n, nDid := stripEdges(norm)
	text, did := n, nDid
	if origDid && orig != "" {
		text, did = orig, true
	}
	if !did {
		return Stripped{Text: trimmed}
	}
	if text == "" {
		return Stripped{Skip: true, DidStrip: true}
	}
	rest := strings.TrimSpace(text)
	if len([]rune(rest)) <= max(0, ackMaxChars) {
		return Stripped{Skip: true, DidStrip: true}
	}
	return Stripped{Text: rest, DidStrip: true}
}

func stripEdges(raw string) (string, bool) {
	text := strings.TrimSpace(raw)
	if text == "" || !strings.Contains(text, Token) {
		return text, false
	}
	did := false
	for changed := true; changed; {
		changed = false
		next := strings.TrimSpace(text)
		if strings.HasPrefix(next, Token) {
			text = strings.TrimLeft(next[len(Token):], " \t\r\n")
			did, changed = true, true
			continue
		}
		if strings.HasSuffix(next, Token) {
			text = strings.TrimRight(next[:len(next)-len(Token)], " \t\r\n")
			did, changed = true, true
		}
	}
	return strings.TrimSpace(spaces().ReplaceAllString(text, " ")), did
}

// ContentEmpty is the original's isHeartbeatContentEffectivelyEmpty: a
// HEARTBEAT.md of only blank lines, Markdown headers and empty list items
// has nothing to do (a heartbeat is skipped then).
func ContentEmpty(content string) bool {
	for _, l := range strings.Split(content, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || headerLine().MatchString(t) || emptyItem().MatchString(t) {
			continue
		}
		return false
	}
	return true
}

var (
	headerLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#+(\s|$)`) })
	emptyItem  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[-*+]\s*(\[[\sXx]?\]\s*)?$`) })
)
