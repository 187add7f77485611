package profiles

// A small JSON5 parser that keeps byte offsets and key order.
//
// We do not use a JSON5 library (github.com/titanous/json5 was considered)
// because config errors must name the key path and line:column of the
// offending value, unknown keys must be reported with their position, and
// merge-patched files should keep the user's key order. All three need a tree
// that remembers where each value came from, which a decode-into-struct
// library does not expose.

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input (config.set over RPC) cannot
// exhaust the stack.
const maxDepth = 512

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is one parsed JSON5 value with the byte offset where it starts.
type node struct {
	kind    nodeKind
	off     int
	end     int  // byte offset just past the value (0 for built nodes)
	quote   byte // a string's quote character in the source (0 for built nodes)
	b       bool
	num     string // canonical JSON number text
	str     string
	elems   []*node
	members []member
}

// member is one key of an object, in source order.
type member struct {
	key      string
	keyOff   int
	keyQuote byte // the key's quote character, 0 when unquoted or built
	val      *node
}

// get returns the value of key (the last one if duplicated), or nil.
func (n *node) get(key string) *node {
	for i := len(n.members) - 1; i >= 0; i-- {
		if n.members[i].key == key {
			return n.members[i].val
		}
	}
	return nil
}

// set replaces key's value in place (keeping its position) or appends it.
func (n *node) set(key string, v *node) {
	for i := range n.members {
		if n.members[i].key == key {
			n.members[i].val = v
			return
		}
	}
	n.members = append(n.members, member{key: key, val: v})
}

// del removes every occurrence of key.
func (n *node) del(key string) {
	out := n.members[:0]
	for _, m := range n.members {
		if m.key != key {
			out = append(out, m)
		}
	}
	n.members = out
}

// SyntaxError is a JSON5 syntax error at a byte offset of the input.
type SyntaxError struct {
	Offset int
	Line   int // 1-based
	Column int // 1-based, in characters
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

type parser struct {
	src   []byte
	pos   int
	depth int
	err   error // the first error; parsing stops at it
}

// parseJSON5 parses a whole JSON5 document. Whitespace-only input yields nil
// and no error; callers decide what an empty document means.
func parseJSON5(src []byte) (*node, error) {
	p := &parser{src: src}
	p.skipSpace()
	if p.err != nil {
		return nil, p.err
	}
	if p.pos >= len(p.src) {
		return nil, nil
	}
	n := p.value()
	if p.err != nil {
		return nil, p.err
	}
	p.skipSpace()
	if p.err != nil {
		return nil, p.err
	}
	if p.pos < len(p.src) {
		return nil, p.fail(p.pos, "unexpected %s after the top-level value", p.describeAt(p.pos))
	}
	return n, nil
}

func (p *parser) fail(off int, format string, args ...any) error {
	if p.err == nil {
		line, col := lineCol(p.src, off)
		p.err = &SyntaxError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	return p.err
}

// lineCol converts a byte offset into a 1-based line and character column.
func lineCol(src []byte, off int) (int, int) {
	if off > len(src) {
		off = len(src)
	}
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(src[start:off])
}

func (p *parser) describeAt(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	if r == utf8.RuneError {
		return "invalid UTF-8"
	}
	return strconv.QuoteRune(r)
}

// skipSpace skips JSON5 whitespace and comments.
func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.pos++
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '*':
			end := bytes.Index(p.src[p.pos+2:], []byte("*/"))
			if end < 0 {
				p.fail(p.pos, "unterminated /* comment")
				return
			}
			p.pos += 2 + end + 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == '\uFEFF' || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Zs, r) {
				p.pos += size
				continue
			}
			return
		default:
			return
		}
	}
}

func (p *parser) value() *node {
	n := p.value1()
	if n != nil && p.err == nil {
		n.end = p.pos
	}
	return n
}

func (p *parser) value1() *node {
	if p.err != nil {
		return nil
	}
	if p.pos >= len(p.src) {
		p.fail(p.pos, "unexpected end of input, expected a value")
		return nil
	}
	start := p.pos
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"' || c == '\'':
		s := p.string()
		return &node{kind: kindString, off: start, str: s, quote: c}
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		word := p.identWord()
		switch word {
		case "true", "false":
			return &node{kind: kindBool, off: start, b: word == "true"}
		case "null":
			return &node{kind: kindNull, off: start}
		case "Infinity", "NaN":
			p.fail(start, "%s is not allowed in clawdbot config (use a finite number)", word)
			return nil
		case "":
			p.fail(start, "unexpected %s, expected a value", p.describeAt(start))
			return nil
		default:
			p.fail(start, "unexpected word %q, expected a value (quote strings)", word)
			return nil
		}
	}
}

func (p *parser) enter(off int) bool {
	p.depth++
	if p.depth > maxDepth {
		p.fail(off, "nesting deeper than %d levels", maxDepth)
		return false
	}
	return true
}

func (p *parser) object() *node {
	n := &node{kind: kindObject, off: p.pos}
	if !p.enter(p.pos) {
		return nil
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	for {
		p.skipSpace()
		if p.err != nil {
			return nil
		}
		if p.pos >= len(p.src) {
			p.fail(n.off, "unterminated object (missing '}')")
			return nil
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return n
		}
		keyOff := p.pos
		var key string
		var keyQuote byte
		switch c := p.src[p.pos]; {
		case c == '"' || c == '\'':
			key, keyQuote = p.string(), c
		default:
			key = p.identWord()
			if key == "" {
				p.fail(keyOff, "unexpected %s, expected a key or '}'", p.describeAt(keyOff))
				return nil
			}
		}
		if p.err != nil {
			return nil
		}
		p.skipSpace()
		if p.err != nil {
			return nil
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			p.fail(p.pos, "expected ':' after key %q, got %s", key, p.describeAt(p.pos))
			return nil
		}
		p.pos++
		p.skipSpace()
		v := p.value()
		if p.err != nil {
			return nil
		}
		n.members = append(n.members, member{key: key, keyOff: keyOff, keyQuote: keyQuote, val: v})
		p.skipSpace()
		if p.err != nil {
			return nil
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			continue
		}
		if p.pos >= len(p.src) {
			p.fail(n.off, "unterminated object (missing '}')")
		} else {
			p.fail(p.pos, "expected ',' or '}' after the value of %q, got %s", key, p.describeAt(p.pos))
		}
		return nil
	}
}

func (p *parser) array() *node {
	n := &node{kind: kindArray, off: p.pos}
	if !p.enter(p.pos) {
		return nil
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	for {
		p.skipSpace()
		if p.err != nil {
			return nil
		}
		if p.pos >= len(p.src) {
			p.fail(n.off, "unterminated array (missing ']')")
			return nil
		}
		if p.src[p.pos] == ']' {
			p.pos++
			return n
		}
		v := p.value()
		if p.err != nil {
			return nil
		}
		n.elems = append(n.elems, v)
		p.skipSpace()
		if p.err != nil {
			return nil
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			continue
		}
		if p.pos >= len(p.src) {
			p.fail(n.off, "unterminated array (missing ']')")
		} else {
			p.fail(p.pos, "expected ',' or ']' in array, got %s", p.describeAt(p.pos))
		}
		return nil
	}
}

// identWord reads an ECMAScript-style identifier (an unquoted key or a
// literal word); it returns "" when none starts at pos.
func (p *parser) identWord() string {
	start := p.pos
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRune(p.src[p.pos:])
		ok := r == '_' || r == '$' || unicode.IsLetter(r) ||
			(p.pos > start && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Pc, r)))
		if !ok || r == utf8.RuneError {
			break
		}
		p.pos += size
	}
	return string(p.src[start:p.pos])
}

func (p *parser) string() string {
	quote := p.src[p.pos]
	start := p.pos
	p.pos++
	var sb strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.fail(start, "unterminated string")
			return ""
		}
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return sb.String()
		case c == '\n' || c == '\r':
			p.fail(start, "unterminated string (newline inside a string; use \\n)")
			return ""
		case c == '\\':
			p.escape(&sb)
			if p.err != nil {
				return ""
			}
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				p.fail(p.pos, "invalid UTF-8 in string")
				return ""
			}
			sb.WriteRune(r)
			p.pos += size
		}
	}
}

func (p *parser) escape(sb *strings.Builder) {
	at := p.pos
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		p.fail(at, "unterminated string")
		return
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case 'b':
		sb.WriteByte('\b')
	case 'f':
		sb.WriteByte('\f')
	case 'n':
		sb.WriteByte('\n')
	case 'r':
		sb.WriteByte('\r')
	case 't':
		sb.WriteByte('\t')
	case 'v':
		sb.WriteByte('\v')
	case '0':
		if p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.fail(at, "octal escapes are not allowed")
			return
		}
		sb.WriteByte(0)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		p.fail(at, "invalid escape \\%c", c)
	case '\n': // line continuation
	case '\r':
		if p.pos < len(p.src) && p.src[p.pos] == '\n' {
			p.pos++
		}
	case 'x':
		v, ok := p.hex(2)
		if !ok {
			p.fail(at, "invalid \\x escape (want two hex digits)")
			return
		}
		sb.WriteRune(rune(v))
	case 'u':
		v, ok := p.hex(4)
		if !ok {
			p.fail(at, "invalid \\u escape (want four hex digits)")
			return
		}
		r := rune(v)
		if utf16.IsSurrogate(r) && p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
			save := p.pos
			p.pos += 2
			if v2, ok := p.hex(4); ok {
				if d := utf16.DecodeRune(r, rune(v2)); d != utf8.RuneError {
					sb.WriteRune(d)
					return
				}
			}
			p.pos = save
		}
		sb.WriteRune(r)
	default:
		// Any other escaped character stands for itself (\' \" \\ \/ ...),
		// including U+2028/U+2029 line continuations.
		p.pos--
		r, size := utf8.DecodeRune(p.src[p.pos:])
		p.pos += size
		if r == '\u2028' || r == '\u2029' {
			return
		}
		sb.WriteRune(r)
	}
}

func (p *parser) hex(n int) (uint64, bool) {
	if p.pos+n > len(p.src) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+n]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += n
	return v, true
}

// number parses a JSON5 number and stores it as canonical JSON text.
func (p *parser) number() *node {
	start := p.pos
	neg := false
	if c := p.src[p.pos]; c == '+' || c == '-' {
		neg = c == '-'
		p.pos++
	}
	if w := p.peekWord(); w == "Infinity" || w == "NaN" {
		p.fail(start, "%s is not allowed in clawdbot config (use a finite number)", w)
		return nil
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if p.pos+1 < len(p.src) && p.src[p.pos] == '0' && (p.src[p.pos+1] == 'x' || p.src[p.pos+1] == 'X') {
		p.pos += 2
		ds := p.pos
		for p.pos < len(p.src) && isHex(p.src[p.pos]) {
			p.pos++
		}
		v, err := strconv.ParseUint(string(p.src[ds:p.pos]), 16, 64)
		if err != nil || v > 1<<53 {
			p.fail(start, "invalid hexadecimal number")
			return nil
		}
		return p.endNumber(start, &node{kind: kindNumber, off: start, num: sign + strconv.FormatUint(v, 10)})
	}
	intStart := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	intPart := string(p.src[intStart:p.pos])
	if len(intPart) > 1 && intPart[0] == '0' {
		p.fail(start, "numbers must not have leading zeros")
		return nil
	}
	frac := ""
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		fs := p.pos
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		frac = string(p.src[fs:p.pos])
	}
	if intPart == "" && frac == "" {
		p.fail(start, "invalid number")
		return nil
	}
	if intPart == "" {
		intPart = "0"
	}
	exp := ""
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		es := p.pos
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		ds := p.pos
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		if p.pos == ds {
			p.fail(start, "invalid number exponent")
			return nil
		}
		exp = "e" + string(p.src[es:p.pos])
	}
	text := sign + intPart
	if frac != "" {
		text += "." + frac
	}
	text += exp
	if f, err := strconv.ParseFloat(text, 64); err != nil || math.IsInf(f, 0) {
		p.fail(start, "number out of range")
		return nil
	}
	// An integral value is written as an integer ("1e3" → "1000") so it
	// decodes into int fields.
	if f, _ := strconv.ParseFloat(text, 64); f == math.Trunc(f) && math.Abs(f) <= 1<<53 && (frac != "" || exp != "") {
		text = strconv.FormatInt(int64(f), 10)
	}
	return p.endNumber(start, &node{kind: kindNumber, off: start, num: text})
}

// endNumber rejects a number glued to letters ("12abc").
func (p *parser) endNumber(start int, n *node) *node {
	if p.pos < len(p.src) {
		r, _ := utf8.DecodeRune(p.src[p.pos:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$' {
			p.fail(start, "invalid number")
			return nil
		}
	}
	return n
}

func (p *parser) peekWord() string {
	save := p.pos
	w := p.identWord()
	p.pos = save
	return w
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// encodeJSON writes n as standard JSON, keeping key order. indent "" gives
// compact output.
func encodeJSON(buf *bytes.Buffer, n *node, indent, prefix string) {
	if n == nil {
		buf.WriteString("null")
		return
	}
	switch n.kind {
	case kindNull:
		buf.WriteString("null")
	case kindBool:
		buf.WriteString(strconv.FormatBool(n.b))
	case kindNumber:
		buf.WriteString(n.num)
	case kindString:
		writeJSONString(buf, n.str)
	case kindArray:
		if len(n.elems) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteByte('[')
		inner := prefix + indent
		for i, e := range n.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, indent, inner)
			encodeJSON(buf, e, indent, inner)
		}
		newline(buf, indent, prefix)
		buf.WriteByte(']')
	case kindObject:
		ms := dedupMembers(n.members)
		if len(ms) == 0 {
			buf.WriteString("{}")
			return
		}
		buf.WriteByte('{')
		inner := prefix + indent
		for i, m := range ms {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, indent, inner)
			writeJSONString(buf, m.key)
			buf.WriteByte(':')
			if indent != "" {
				buf.WriteByte(' ')
			}
			encodeJSON(buf, m.val, indent, inner)
		}
		newline(buf, indent, prefix)
		buf.WriteByte('}')
	}
}

// dedupMembers keeps the last value of a duplicated key, at the position of
// its first occurrence (JSON5 semantics: the last one wins).
func dedupMembers(ms []member) []member {
	seen := make(map[string]int, len(ms))
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		if i, ok := seen[m.key]; ok {
			out[i].val = m.val
			continue
		}
		seen[m.key] = len(out)
		out = append(out, m)
	}
	return out
}

func newline(buf *bytes.Buffer, indent, prefix string) {
	if indent == "" {
		return
	}
	buf.WriteByte('\n')
	buf.WriteString(prefix)
}

const hexDigits = "0123456789abcdef"

func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			buf.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				buf.WriteByte(hexDigits[(r>>uint(shift))&0xF])
			}
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}
