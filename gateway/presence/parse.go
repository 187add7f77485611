package presence

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// nodeTextRE is the original's parsePresence pattern: every part is
// required, the host has no spaces, and it is case-insensitive. A text that
// does not match it is stored as text only.
var nodeTextRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)Node:\s*([^ (]+)\s*\(([^)]+)\)\s*·\s*app\s*([^·]+?)\s*·\s*last input\s*([0-9]+)s ago\s*·\s*mode\s*([^·]+?)\s*·\s*reason\s*(.+)$`)
})

// NodeText is what a system-event beacon's text says about its sender.
type NodeText struct {
	Host, IP, Version, Mode, Reason string
	LastInputSeconds                *float64 // nil when the text did not match
}

// ParseNodeText parses "Node: <host> (<ip>) · app <ver> · last input <N>s
// ago · mode <mode> · reason <reason>" (doc/protocol.md §6). ok is false, and the
// result empty, when text does not have that shape.
func ParseNodeText(text string) (n NodeText, ok bool) {
	m := nodeTextRE().FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return NodeText{}, false
	}
	n = NodeText{
		Host: strings.TrimSpace(m[1]), IP: strings.TrimSpace(m[2]), Version: strings.TrimSpace(m[3]),
		Mode: strings.TrimSpace(m[5]), Reason: strings.TrimSpace(m[6]),
	}
	if v, err := strconv.ParseFloat(m[4], 64); err == nil {
		n.LastInputSeconds = &v
	}
	return n, true
}

// SystemEventKey is the presence key of a system-event (doc/protocol.md §6): the first
// of deviceId, instanceId (both trimmed and lowercased), the host parsed
// from the text (lowercased), the parsed ip, the first 64 characters of the
// trimmed text, and the gateway's own key.
func (s *Store) SystemEventKey(deviceID, instanceID, text string) string {
	if k := strings.ToLower(strings.TrimSpace(deviceID)); k != "" {
		return k
	}
	if k := strings.ToLower(strings.TrimSpace(instanceID)); k != "" {
		return k
	}
	n, _ := ParseNodeText(text)
	if n.Host != "" {
		return strings.ToLower(n.Host)
	}
	if n.IP != "" {
		return n.IP
	}
	if t := []rune(strings.TrimSpace(text)); len(t) > 0 {
		if len(t) > 64 {
			t = t[:64]
		}
		return string(t)
	}
	return s.selfKey
}
