package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AJV compiles "pattern" and "patternProperties" as ECMAScript regular
// expressions with the u flag (unicodeRegExp defaults to true); Go's RE2
// syntax reads most of them the same way, but not all:
//   - "." excludes \n only in Go, every line terminator (\n \r U+2028
//     U+2029) in ECMAScript: TypeBox's "^(.*)$" refuses a key with "\r";
//   - \s is ASCII in Go, Unicode white space plus U+FEFF in ECMAScript;
//   - Go-only syntax ((?i) flags, \pL, [[:alpha:]], \Q…\E, \A, \z) and
//     ECMAScript-only syntax (lookaround, backreferences, \cX, [] and [^])
//     either means something else or does not compile on one side.
//
// ecmaToGo translates the first two and refuses the rest, so a pattern the
// walker accepts matches exactly the strings AJV's would. \d \w \b and
// their negations are ASCII-only on both sides (no i flag), and ^ $ anchor
// the whole input on both (no m flag).
func ecmaToGo(src string) (*regexp.Regexp, error) {
	const space = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`
	bad := func(what string) (*regexp.Regexp, error) {
		return nil, fmt.Errorf("pattern %q: %s means something else in Go than in AJV's ECMAScript (wire/ecmare.go); rewrite it", src, what)
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 >= len(src) {
				return bad("a trailing backslash")
			}
			i++
			e := src[i]
			switch {
			case e == 's' && !inClass:
				b.WriteString("[" + space + "]")
			case e == 'S' && !inClass:
				b.WriteString("[^" + space + "]")
			case e == 's' && inClass:
				b.WriteString(space)
			case strings.IndexByte("dDwW", e) >= 0, strings.IndexByte("tnrfv", e) >= 0:
				b.WriteByte('\\')
				b.WriteByte(e)
			case (e == 'b' || e == 'B') && !inClass:
				b.WriteByte('\\')
				b.WriteByte(e)
			case e == 'u':
				hex := ""
				if strings.HasPrefix(src[i+1:], "{") {
					end := strings.IndexByte(src[i+1:], '}')
					if end < 0 {
						return bad(`an unterminated \u{`)
					}
					hex, i = src[i+2:i+1+end], i+1+end
				} else if i+4 < len(src) {
					hex, i = src[i+1:i+5], i+4
				}
				n, err := strconv.ParseUint(hex, 16, 32)
				if err != nil || (n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff {
					return bad(`a \u escape that is not one code point`)
				}
				fmt.Fprintf(&b, `\x{%x}`, n)
			case e == '0' && (i+1 >= len(src) || src[i+1] < '0' || src[i+1] > '9'):
				b.WriteString(`\x00`)
			case strings.IndexByte(`^$\.*+?()[]{}|/`, e) >= 0 || (e == '-' && inClass):
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				return bad(`the escape \` + string(e))
			}
		case inClass:
			if c == '[' && i+1 < len(src) && strings.IndexByte(":.=", src[i+1]) >= 0 {
				return bad("a POSIX class")
			}
			if c == ']' {
				inClass = false
			}
			if c == '[' {
				b.WriteString(`\[`)
			} else {
				b.WriteByte(c)
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if strings.HasPrefix(src[i+1:], "^") {
				b.WriteByte('^')
				i++
			}
			if strings.HasPrefix(src[i+1:], "]") {
				return bad("an empty class ([] or [^])")
			}
		case c == '.':
			b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
		case c == '(' && strings.HasPrefix(src[i+1:], "?"):
			if !strings.HasPrefix(src[i+1:], "?:") {
				return bad("a (? group other than (?:")
			}
			b.WriteString("(?:")
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	if inClass {
		return bad("an unterminated class")
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	return re, nil
}
