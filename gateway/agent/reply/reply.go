// Package reply turns a model's answer text into reply payloads the way
// the original does (doc/messaging.md §4.4): MEDIA: lines become media URLs,
// [[reply_to_current]] / [[reply_to:<id>]] set the reply target,
// [[audio_as_voice]] marks audio for a voice note, and a reply that is
// exactly NO_REPLY (or HEARTBEAT_OK in heartbeat runs) is silent.
package reply

import (
	"regexp"
	"strings"
	"sync"
)

// Silent reply tokens.
const (
	NoReply     = "NO_REPLY"
	HeartbeatOK = "HEARTBEAT_OK"
)

// Payload is one reply, after post-processing.
type Payload struct {
	Text      string
	MediaURLs []string
	// ReplyToID is the explicit [[reply_to:<id>]] target, or the current
	// message id for [[reply_to_current]].
	ReplyToID      string
	ReplyToCurrent bool
	AudioAsVoice   bool
}

var (
	audioTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\[\[\s*audio_as_voice\s*\]\]`) })
	replyTag = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\[\[\s*(?:reply_to_current|reply_to\s*:\s*([^\]\n]+))\s*\]\]`)
	})
	spaces   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[ \t]+`) })
	nlSpaces = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[ \t]*\n[ \t]*`) })
	mediaTok = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("(?i)\\bMEDIA:\\s*`?([^\\n]+)`?") })
)

// Options tune Parse.
type Options struct {
	// CurrentMessageID is what [[reply_to_current]] resolves to.
	CurrentMessageID string
	// Heartbeat also silences HEARTBEAT_OK.
	Heartbeat bool
}

// Parse post-processes one assistant text block. ok is false when the
// block is silent or has nothing to send.
func Parse(text string, o Options) (p Payload, ok bool) {
	body, media := splitMedia(text)
	body = audioTag().ReplaceAllStringFunc(body, func(string) string { p.AudioAsVoice = true; return " " })
	var explicit string
	body = replyTag().ReplaceAllStringFunc(body, func(m string) string {
		sub := replyTag().FindStringSubmatch(m)
		if sub[1] == "" {
			p.ReplyToCurrent = true
		} else if id := strings.TrimSpace(sub[1]); id != "" {
			explicit = id
		}
		return " "
	})
	body = strings.TrimSpace(nlSpaces().ReplaceAllString(spaces().ReplaceAllString(body, " "), "\n"))
	p.Text, p.MediaURLs = body, media
	switch {
	case explicit != "":
		p.ReplyToID = explicit
	case p.ReplyToCurrent:
		p.ReplyToID = strings.TrimSpace(o.CurrentMessageID)
	}
	if IsSilent(p.Text, o.Heartbeat) && len(media) == 0 {
		return p, false
	}
	return p, p.Text != "" || len(media) > 0
}

// IsSilent reports whether text is exactly a silent token.
func IsSilent(text string, heartbeat bool) bool {
	t := strings.TrimSpace(text)
	return t == NoReply || (heartbeat && t == HeartbeatOK)
}

// splitMedia takes MEDIA: tokens off lines that start with one (outside
// fenced code blocks) and returns the rest of the text and the media.
func splitMedia(raw string) (string, []string) {
	raw = strings.TrimRight(raw, " \t\r\n")
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	var media, kept []string
	inFence := false
	for line := range strings.SplitSeq(raw, "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			inFence = !inFence
			kept = append(kept, line)
			continue
		}
		if inFence || !strings.HasPrefix(trimmed, "MEDIA:") {
			kept = append(kept, line)
			continue
		}
		var rest []string
		for _, m := range mediaTok().FindAllStringSubmatch(line, -1) {
			payload := m[1]
			if u, ok := unwrapQuoted(payload); ok {
				if c := normalize(cleanCandidate(u)); validMedia(c, true) {
					media = append(media, c)
					continue
				}
			}
			found := false
			var invalid []string
			for part := range strings.FieldsSeq(payload) {
				if c := normalize(cleanCandidate(part)); validMedia(c, false) {
					media = append(media, c)
					found = true
				} else {
					invalid = append(invalid, part)
				}
			}
			if !found {
				if c := normalize(cleanCandidate(strings.TrimSpace(payload))); validMedia(c, true) {
					media = append(media, c)
					continue
				}
			}
			rest = append(rest, invalid...)
		}
		if l := strings.TrimSpace(strings.Join(rest, " ")); l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n"), media
}

func unwrapQuoted(v string) (string, bool) {
	t := strings.TrimSpace(v)
	if len(t) < 2 || t[0] != t[len(t)-1] || !strings.ContainsRune("\"'`", rune(t[0])) {
		return "", false
	}
	return strings.TrimSpace(t[1 : len(t)-1]), true
}

func cleanCandidate(s string) string {
	s = strings.TrimLeft(s, "`\"'[{(")
	return strings.TrimRight(s, "`\"'\\})],")
}

func normalize(s string) string { return strings.TrimPrefix(s, "file://") }

func validMedia(c string, allowSpaces bool) bool {
	if c == "" || len(c) > 4096 || (!allowSpaces && strings.ContainsAny(c, " \t\n")) {
		return false
	}
	l := strings.ToLower(c)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") ||
		strings.HasPrefix(c, "/") || strings.HasPrefix(c, "./") || strings.HasPrefix(c, "../") ||
		strings.HasPrefix(c, "~")
}

// StripTags removes the reply and audio directive tags from streamed text
// and trims it: the "text" of an assistant event (doc/messaging.md §2.1).
func StripTags(s string) string {
	s = audioTag().ReplaceAllString(s, " ")
	s = replyTag().ReplaceAllString(s, " ")
	return strings.TrimSpace(s)
}
