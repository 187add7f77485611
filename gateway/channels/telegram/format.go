package telegram

import (
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// A reply is markdown; Telegram wants its HTML subset. Like the original
// (doc/messaging.md §5.2) the markdown is parsed once into plain text plus
// style spans, the plain text is chunked, and each chunk is rendered: so a
// chunk never cuts a tag in half, and the plain-text retry after a parse
// error sends exactly the chunk's text without markers.

type styleKind int

const (
	styleBold styleKind = iota
	styleItalic
	styleStrike
	styleCode
	styleCodeBlock
	styleLink
)

type span struct {
	start, end int // byte offsets into richText.text
	kind       styleKind
	href       string
}

// richText is plain text with style spans that nest properly.
type richText struct {
	text  string
	spans []span
}

// Chunk is one message's worth of a reply: HTML for parse_mode HTML and
// the same text without markup for the retry.
type Chunk struct {
	HTML string
	Text string
}

// MarkdownToChunks converts markdown to Telegram HTML chunks whose visible
// text is at most limit UTF-16 units (Telegram counts in those).
func MarkdownToChunks(markdown string, limit int) []Chunk {
	if limit <= 0 {
		limit = DefaultTextChunkLimit
	}
	rt := parseMarkdown(markdown)
	var out []Chunk
	for _, c := range chunkRichText(rt, limit) {
		if strings.TrimSpace(c.text) == "" {
			continue
		}
		out = append(out, Chunk{HTML: renderHTML(c), Text: c.text})
	}
	return out
}

// MarkdownToHTML converts markdown to Telegram HTML without chunking.
func MarkdownToHTML(markdown string) string { return renderHTML(parseMarkdown(markdown)) }

var (
	fenceRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^\\s{0,3}(```+|~~~+)") })
	headingRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s{0,3}#{1,6}\s+`) })
	quoteRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s{0,3}>\s?`) })
	bulletRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\s*)[-*+]\s+`) })
)

type builder struct {
	sb    strings.Builder
	spans []span
}

func (b *builder) add(s string) { b.sb.WriteString(s) }
func (b *builder) pos() int     { return b.sb.Len() }
func (b *builder) mark(start int, k styleKind, href string) {
	if b.pos() > start {
		b.spans = append(b.spans, span{start: start, end: b.pos(), kind: k, href: href})
	}
}

func parseMarkdown(md string) richText {
	md = strings.ReplaceAll(md, "\r\n", "\n")
	lines := strings.Split(md, "\n")
	var b builder
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if i > 0 {
			b.add("\n")
		}
		if m := fenceRe().FindStringSubmatch(line); m != nil {
			fence := m[1][:3]
			start := b.pos()
			first := true
			for i++; i < len(lines); i++ {
				if strings.HasPrefix(strings.TrimSpace(lines[i]), fence) {
					break
				}
				if !first {
					b.add("\n")
				}
				first = false
				b.add(lines[i])
			}
			b.mark(start, styleCodeBlock, "")
			continue
		}
		line = headingRe().ReplaceAllString(line, "")
		line = quoteRe().ReplaceAllString(line, "")
		line = bulletRe().ReplaceAllString(line, "$1• ")
		parseInline(&b, line)
	}
	return richText{text: b.sb.String(), spans: b.spans}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// parseInline handles `code`, **bold**/__bold__, *italic*/_italic_,
// ~~strike~~, [text](url) and backslash escapes; anything unmatched is
// literal text.
func parseInline(b *builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_~[]()#+-.!>", s[i+1]) >= 0:
			b.add(s[i+1 : i+2])
			i += 2
			continue
		case c == '`':
			if j := strings.IndexByte(s[i+1:], '`'); j > 0 {
				start := b.pos()
				b.add(s[i+1 : i+1+j])
				b.mark(start, styleCode, "")
				i += j + 2
				continue
			}
		case (c == '*' || c == '_' || c == '~') && i+1 < len(s) && s[i+1] == c:
			delim := s[i : i+2]
			if j := strings.Index(s[i+2:], delim); j > 0 && !unicode.IsSpace(rune(s[i+2])) {
				kind := styleBold
				if c == '~' {
					kind = styleStrike
				}
				start := b.pos()
				parseInline(b, s[i+2:i+2+j])
				b.mark(start, kind, "")
				i += j + 4
				continue
			}
		case c == '*' || c == '_':
			if c == '_' && i > 0 && isWordByte(s[i-1]) {
				break
			}
			if i+1 < len(s) && !unicode.IsSpace(rune(s[i+1])) {
				if j := closingSingle(s[i+1:], c); j > 0 {
					start := b.pos()
					parseInline(b, s[i+1:i+1+j])
					b.mark(start, styleItalic, "")
					i += j + 2
					continue
				}
			}
		case c == '[':
			if close := strings.Index(s[i:], "]("); close > 0 {
				if end := strings.IndexByte(s[i+close+2:], ')'); end > 0 {
					href := strings.TrimSpace(s[i+close+2 : i+close+2+end])
					start := b.pos()
					parseInline(b, s[i+1:i+close])
					b.mark(start, styleLink, href)
					i += close + 3 + end
					continue
				}
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.add(s[i : i+size])
		i += size
	}
}

// closingSingle finds a closing single * or _ that is not doubled, not
// after a space and, for _, not inside a word.
func closingSingle(s string, c byte) int {
	for j := 0; j < len(s); j++ {
		if s[j] != c {
			continue
		}
		if j+1 < len(s) && s[j+1] == c {
			j++
			continue
		}
		if j == 0 || unicode.IsSpace(rune(s[j-1])) {
			continue
		}
		if c == '_' && j+1 < len(s) && isWordByte(s[j+1]) {
			continue
		}
		return j
	}
	return -1
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// prefixWithin is the longest byte prefix of s of at most limit UTF-16 units.
func prefixWithin(s string, limit int) int {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > limit {
			return i
		}
	}
	return len(s)
}

// chunkRichText splits at paragraph breaks, then newlines, then spaces,
// preferring breaks outside code blocks; a chunk's spans are clipped to it.
func chunkRichText(rt richText, limit int) []richText {
	var out []richText
	start := 0
	text := rt.text
	for start < len(text) {
		rest := text[start:]
		if utf16Len(rest) <= limit {
			out = append(out, clip(rt, start, len(text)))
			break
		}
		window := rest[:prefixWithin(rest, limit)]
		cut := breakPoint(rt, start, window)
		end := start + cut
		out = append(out, clip(rt, start, end))
		start = end
		for start < len(text) && (text[start] == '\n' || text[start] == ' ') {
			start++
		}
	}
	return out
}

func breakPoint(rt richText, base int, window string) int {
	inCode := func(p int) bool {
		for _, s := range rt.spans {
			if s.kind == styleCodeBlock && base+p > s.start && base+p < s.end {
				return true
			}
		}
		return false
	}
	for _, sep := range []string{"\n\n", "\n", " "} {
		for w := window; ; {
			i := strings.LastIndex(w, sep)
			if i <= 0 {
				break
			}
			if !inCode(i) {
				return i
			}
			w = w[:i]
		}
	}
	for _, sep := range []string{"\n", " "} {
		if i := strings.LastIndex(window, sep); i > 0 {
			return i
		}
	}
	if len(window) == 0 {
		_, size := utf8.DecodeRuneInString(rt.text[base:])
		return size
	}
	return len(window)
}

func clip(rt richText, a, b int) richText {
	text := strings.TrimRight(rt.text[a:b], " \n")
	b = a + len(text)
	var spans []span
	for _, s := range rt.spans {
		st, en := max(s.start, a), min(s.end, b)
		if en > st {
			spans = append(spans, span{start: st - a, end: en - a, kind: s.kind, href: s.href})
		}
	}
	return richText{text: text, spans: spans}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func openTag(s span) string {
	switch s.kind {
	case styleBold:
		return "<b>"
	case styleItalic:
		return "<i>"
	case styleStrike:
		return "<s>"
	case styleCode:
		return "<code>"
	case styleCodeBlock:
		return "<pre><code>"
	default:
		return `<a href="` + attrEscaper.Replace(s.href) + `">`
	}
}

func closeTag(s span) string {
	switch s.kind {
	case styleBold:
		return "</b>"
	case styleItalic:
		return "</i>"
	case styleStrike:
		return "</s>"
	case styleCode:
		return "</code>"
	case styleCodeBlock:
		return "</code></pre>"
	default:
		return "</a>"
	}
}

func renderHTML(rt richText) string {
	spans := make([]span, 0, len(rt.spans))
	for _, s := range rt.spans {
		if s.kind == styleLink && s.href == "" {
			continue
		}
		spans = append(spans, s)
	}
	// Outer spans first at the same start, so tags nest.
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var sb strings.Builder
	var stack []span
	next := 0
	pos := 0
	for pos <= len(rt.text) {
		for len(stack) > 0 && stack[len(stack)-1].end <= pos {
			sb.WriteString(closeTag(stack[len(stack)-1]))
			stack = stack[:len(stack)-1]
		}
		for next < len(spans) && spans[next].start <= pos {
			s := spans[next]
			next++
			// A span crossing an open one would mis-nest; drop its markup.
			if len(stack) > 0 && s.end > stack[len(stack)-1].end {
				continue
			}
			sb.WriteString(openTag(s))
			stack = append(stack, s)
		}
		if pos == len(rt.text) {
			break
		}
		// Text up to the next boundary.
		stop := len(rt.text)
		if len(stack) > 0 {
			stop = min(stop, stack[len(stack)-1].end)
		}
		if next < len(spans) {
			stop = min(stop, spans[next].start)
		}
		if stop <= pos {
			_, size := utf8.DecodeRuneInString(rt.text[pos:])
			stop = pos + size
		}
		sb.WriteString(htmlEscaper.Replace(rt.text[pos:stop]))
		pos = stop
	}
	for len(stack) > 0 {
		sb.WriteString(closeTag(stack[len(stack)-1]))
		stack = stack[:len(stack)-1]
	}
	return sb.String()
}

// ChunkMarkdown splits markdown like channels.ChunkText but keeps code
// fences whole per message: a chunk that ends inside a fence closes it, and
// the next one reopens it with the same fence and language, so each chunk
// renders on its own.
func ChunkMarkdown(text string, limit int, mode channels.ChunkMode) []string {
	if limit <= 0 {
		limit = DefaultTextChunkLimit
	}
	// Room for the closing and reopening fence lines.
	inner := max(limit-16, limit/2)
	chunks := channels.ChunkText(text, inner, mode)
	out := make([]string, 0, len(chunks))
	open := "" // the fence line of an open code block, "" when outside
	for _, c := range chunks {
		if open != "" {
			c = open + "\n" + c
		}
		open = fenceStateAfter(c)
		if open != "" {
			c += "\n" + fenceRe().FindStringSubmatch(open)[1]
		}
		out = append(out, c)
	}
	return out
}

// fenceStateAfter returns the fence line left open at the end of s.
func fenceStateAfter(s string) string {
	open := ""
	for _, line := range strings.Split(s, "\n") {
		m := fenceRe().FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch {
		case open == "":
			open = strings.TrimSpace(line)
		case strings.HasPrefix(strings.TrimSpace(line), fenceRe().FindStringSubmatch(open)[1][:3]):
			open = ""
		}
	}
	return open
}
