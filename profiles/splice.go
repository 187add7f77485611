package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PatchText applies an RFC 7386 merge patch to the JSON5 document raw and
// keeps everything the patch does not change byte for byte: comments, key
// order, quoting, trailing commas, blank lines. Changed values are spliced
// into the original text at the positions the parser recorded; a new key is
// inserted at the end of its object with the indentation of its siblings and
// the document's quoting and trailing-comma style; a deleted key takes its
// line with it. A document without a value (empty, or only comments) gets
// the object appended after its comments.
//
// The result is re-parsed and compared with MergePatch's: should the splice
// ever disagree (a layout this editor does not handle), the document is
// written as MergePatch writes it (standard JSON, comments lost) rather
// than wrong; Save keeps the previous file as .bak either way.
func PatchText(raw, patch []byte) ([]byte, error) {
	out, _, err := patchText(raw, patch)
	return out, err
}

// patchText is PatchText, also reporting whether it had to fall back to
// MergePatch (the golden tests require that it did not).
func patchText(raw, patch []byte) (out []byte, fellBack bool, err error) {
	root, err := parseJSON5(raw)
	if err != nil {
		return nil, false, fmt.Errorf("merge patch: target: %w", err)
	}
	p, err := parseJSON5(patch)
	if err != nil {
		return nil, false, fmt.Errorf("merge patch: patch: %w", err)
	}
	if p == nil {
		return nil, false, errors.New("merge patch: the patch is empty")
	}
	want := mergePatch(root, p)
	st := detectStyle(raw, root)
	switch {
	case root == nil:
		// Only comments or nothing: keep them, add the document after.
		var b bytes.Buffer
		b.Write(raw)
		if len(raw) > 0 && raw[len(raw)-1] != '\n' {
			b.WriteByte('\n')
		}
		st.render(&b, want, "", false)
		b.WriteByte('\n')
		out = b.Bytes()
	case root.kind != kindObject || p.kind != kindObject:
		// The whole document is replaced: nothing of it survives to keep.
		var b bytes.Buffer
		b.Write(raw[:root.off])
		st.render(&b, want, "", false)
		b.Write(raw[root.end:])
		out = b.Bytes()
	default:
		e := &editor{src: raw, st: st, root: root}
		e.object(root, p)
		if out, err = e.apply(); err != nil {
			out = nil
		}
	}
	if out != nil && sameDocument(out, want) {
		return out, false, nil
	}
	fallback, err := MergePatch(raw, patch)
	return fallback, true, err
}

// sameDocument reports whether src parses to the same document as want.
func sameDocument(src []byte, want *node) bool {
	got, err := parseJSON5(src)
	if err != nil || got == nil {
		return false
	}
	var a, b bytes.Buffer
	encodeJSON(&a, got, "", "")
	encodeJSON(&b, want, "", "")
	return bytes.Equal(a.Bytes(), b.Bytes())
}

// style is how the document is written, for the text we add.
type style struct {
	quote          byte   // ' or "
	unquotedKeys   bool   // keys that are identifiers are written bare
	unit           string // one level of indentation
	trailingCommas bool   // multi-line objects end with a comma
	eol            string // "\n" or "\r\n"
}

// detectStyle takes the majority of what the document does.
func detectStyle(src []byte, root *node) style {
	st := style{quote: '"', unit: "  ", eol: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		st.eol = "\r\n"
	}
	var single, double, bare, quoted, trailing, notTrailing int
	unitFound := false
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		switch n.kind {
		case kindString:
			if n.quote == '\'' {
				single++
			} else {
				double++
			}
		case kindArray:
			for _, e := range n.elems {
				walk(e, depth+1)
			}
		case kindObject:
			for _, m := range n.members {
				switch m.keyQuote {
				case 0:
					bare++
				case '\'':
					single++
					quoted++
				default:
					double++
					quoted++
				}
				if !unitFound && depth == 0 {
					if ind, ok := lineIndent(src, m.keyOff); ok && ind != "" {
						base, _ := lineIndent(src, n.off)
						if strings.HasPrefix(ind, base) && len(ind) > len(base) {
							st.unit, unitFound = ind[len(base):], true
						}
					}
				}
				walk(m.val, depth+1)
			}
			if len(n.members) > 0 && bytes.IndexByte(src[n.off:n.end], '\n') >= 0 {
				if commaAfter(src, n.members[len(n.members)-1].val.end, n.end-1) >= 0 {
					trailing++
				} else {
					notTrailing++
				}
			}
		}
	}
	if root != nil {
		walk(root, 0)
	}
	if single > double {
		st.quote = '\''
	}
	st.unquotedKeys = bare > quoted
	st.trailingCommas = trailing > notTrailing
	return st
}

// lineIndent returns the whitespace that starts off's line and whether
// only whitespace precedes off on it.
func lineIndent(src []byte, off int) (string, bool) {
	start := lineStart(src, off)
	pre := src[start:off]
	i := 0
	for i < len(pre) && (pre[i] == ' ' || pre[i] == '\t') {
		i++
	}
	return string(pre[:i]), i == len(pre)
}

func lineStart(src []byte, off int) int { return bytes.LastIndexByte(src[:off], '\n') + 1 }

// skipSpaceComments returns the offset of the first byte at or after off
// that is neither whitespace nor inside a comment (or limit).
func skipSpaceComments(src []byte, off, limit int) int {
	p := &parser{src: src[:limit], pos: off}
	p.skipSpace()
	return p.pos
}

// commaAfter returns the offset of the comma that follows a value ending at
// off (comments and whitespace between are allowed), or -1.
func commaAfter(src []byte, off, limit int) int {
	if i := skipSpaceComments(src, off, limit); i < limit && src[i] == ',' {
		return i
	}
	return -1
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// editor collects the edits of one patch.
type editor struct {
	src   []byte
	st    style
	root  *node
	edits []edit
}

func (e *editor) add(start, end int, text string) {
	e.edits = append(e.edits, edit{start, end, text})
}

// apply performs the edits; overlapping ones are a bug of the editor and
// make PatchText fall back.
func (e *editor) apply() ([]byte, error) {
	sort.SliceStable(e.edits, func(i, j int) bool { return e.edits[i].start < e.edits[j].start })
	var b bytes.Buffer
	pos := 0
	for _, ed := range e.edits {
		if ed.start < pos {
			return nil, errors.New("overlapping edits")
		}
		b.Write(e.src[pos:ed.start])
		b.WriteString(ed.text)
		pos = ed.end
	}
	b.Write(e.src[pos:])
	return b.Bytes(), nil
}

// memberIndent is the indentation of obj's members: that of its first
// member when it starts its line, else one unit more than obj's line.
func (e *editor) memberIndent(obj *node) string {
	if len(obj.members) > 0 {
		if ind, ok := lineIndent(e.src, obj.members[0].keyOff); ok {
			return ind
		}
	}
	base, _ := lineIndent(e.src, obj.off)
	return base + e.st.unit
}

// object splices patch (an object) into obj.
func (e *editor) object(obj, patch *node) {
	type add struct {
		key string
		val *node
	}
	var adds []add
	deleted := map[int]bool{}
	for _, pm := range dedupMembers(patch.members) {
		if pm.val.kind == kindNull {
			for i, m := range obj.members {
				if m.key == pm.key {
					deleted[i] = true
				}
			}
			continue
		}
		idx := -1
		for i := len(obj.members) - 1; i >= 0; i-- {
			if obj.members[i].key == pm.key {
				idx = i
				break
			}
		}
		if idx < 0 {
			adds = append(adds, add{pm.key, mergePatch(nil, pm.val)})
			continue
		}
		cur := obj.members[idx].val
		if pm.val.kind == kindObject && cur.kind == kindObject {
			e.object(cur, pm.val)
			continue
		}
		nv := mergePatch(cur, pm.val)
		var b bytes.Buffer
		st := e.st
		if cur.kind == kindString && cur.quote != 0 {
			st.quote = cur.quote // keep this value's own quoting
		}
		st.render(&b, nv, e.memberIndent(obj), !e.multiline(obj))
		e.add(cur.off, cur.end, b.String())
	}
	e.deleteMembers(obj, deleted)
	if len(adds) == 0 {
		return
	}

	// The members that stay, to attach the new ones after.
	var live []member
	for i, m := range obj.members {
		if !deleted[i] {
			live = append(live, m)
		}
	}
	closeAt := obj.end - 1
	// An empty object grows to several lines in a multi-line document, and
	// always at the top level ({} becomes a config one reads line by line).
	ml := e.multiline(obj) || (len(live) == 0 && (e.multilineDoc() || obj == e.root))
	ind := e.memberIndent(obj)
	base, _ := lineIndent(e.src, obj.off)
	if len(obj.members) == 0 {
		ind = base + e.st.unit
	}
	member := func(a add) string {
		var b bytes.Buffer
		e.st.writeKey(&b, a.key)
		b.WriteString(": ")
		e.st.render(&b, a.val, ind, !ml)
		return b.String()
	}
	eol := e.st.eol

	if len(live) == 0 {
		// An empty object (or one whose members all go): write the new
		// members inside its braces, keeping any comment there.
		var b bytes.Buffer
		_, closeStartsLine := lineIndent(e.src, closeAt)
		if !ml {
			b.WriteString(" ")
			for i, a := range adds {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(member(a))
			}
			b.WriteString(" ")
			e.add(closeAt, closeAt, b.String())
			return
		}
		for i, a := range adds {
			if !closeStartsLine || i > 0 {
				b.WriteString(eol)
			}
			b.WriteString(ind + member(a))
			if i < len(adds)-1 || e.st.trailingCommas {
				b.WriteString(",")
			}
		}
		if closeStartsLine {
			b.WriteString(eol)
			e.add(lineStart(e.src, closeAt), lineStart(e.src, closeAt), b.String())
			return
		}
		b.WriteString(eol + base)
		e.add(closeAt, closeAt, b.String())
		return
	}

	last := live[len(live)-1]
	comma := commaAfter(e.src, last.val.end, closeAt)
	trailing := comma >= 0
	if !ml {
		var b bytes.Buffer
		for _, a := range adds {
			if trailing {
				b.WriteString(" " + member(a) + ",")
			} else {
				b.WriteString(", " + member(a))
			}
		}
		at := last.val.end
		if trailing {
			at = comma + 1
		}
		e.add(at, at, b.String())
		return
	}
	if !trailing {
		e.add(last.val.end, last.val.end, ",")
	}
	var b bytes.Buffer
	_, closeStartsLine := lineIndent(e.src, closeAt)
	for i, a := range adds {
		if !closeStartsLine {
			b.WriteString(eol)
		}
		b.WriteString(ind + member(a))
		if trailing || i < len(adds)-1 {
			b.WriteString(",")
		}
		if closeStartsLine {
			b.WriteString(eol)
		}
	}
	if closeStartsLine {
		at := lineStart(e.src, closeAt)
		e.add(at, at, b.String())
		return
	}
	at := last.val.end
	if trailing {
		at = comma + 1
	}
	e.add(at, at, b.String())
}

// deleteMembers removes the marked members with their comma and, when a
// member had its line to itself, the line.
func (e *editor) deleteMembers(obj *node, deleted map[int]bool) {
	if len(deleted) == 0 {
		return
	}
	closeAt := obj.end - 1
	// The last member that stays: a deleted member after it takes the
	// comma before it along, so no dangling comma is left... unless the
	// object had trailing commas, which its comma keeps.
	lastLive := -1
	for i := range obj.members {
		if !deleted[i] {
			lastLive = i
		}
	}
	for i, m := range obj.members {
		if !deleted[i] {
			continue
		}
		start, stop := m.keyOff, m.val.end
		if c := commaAfter(e.src, m.val.end, closeAt); c >= 0 {
			stop = c + 1
		} else if i > lastLive && lastLive >= 0 {
			// The new last member loses its separating comma.
			prev := obj.members[lastLive]
			if c := commaAfter(e.src, prev.val.end, closeAt); c >= 0 {
				e.add(c, c+1, "")
			}
		}
		// A comment after the member on its line is the member's: it goes.
		if rest := e.src[stop:]; true {
			i := 0
			for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
				i++
			}
			if bytes.HasPrefix(rest[i:], []byte("//")) {
				if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
					stop += nl
					if nl > 0 && rest[nl-1] == '\r' {
						stop--
					}
				} else {
					stop = len(e.src)
				}
			}
		}
		if ind, ok := lineIndent(e.src, start); ok {
			rest := e.src[stop:]
			nl := bytes.IndexByte(rest, '\n')
			if nl >= 0 && len(bytes.TrimSpace(rest[:nl])) == 0 {
				start, stop = start-len(ind), stop+nl+1
			}
		}
		e.add(start, stop, "")
	}
}

// multiline reports whether obj spans more than one line.
func (e *editor) multiline(obj *node) bool {
	return bytes.IndexByte(e.src[obj.off:obj.end], '\n') >= 0
}

// multilineDoc reports whether the document spans more than one line (an
// empty {} in it then grows to several lines).
func (e *editor) multilineDoc() bool {
	return bytes.IndexByte(bytes.TrimSpace(e.src), '\n') >= 0
}

// render writes n in the document's style. indent is the indentation of
// the line n starts on; inline writes it on one line.
func (st style) render(b *bytes.Buffer, n *node, indent string, inline bool) {
	switch n.kind {
	case kindString:
		st.writeString(b, n.str)
	case kindArray:
		if len(n.elems) == 0 {
			b.WriteString("[]")
			return
		}
		scalar := true
		for _, el := range n.elems {
			scalar = scalar && el.kind != kindObject && el.kind != kindArray
		}
		if inline || scalar {
			b.WriteByte('[')
			for i, el := range n.elems {
				if i > 0 {
					b.WriteString(", ")
				}
				st.render(b, el, indent, true)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('[')
		inner := indent + st.unit
		for i, el := range n.elems {
			b.WriteString(st.eol + inner)
			st.render(b, el, inner, false)
			if i < len(n.elems)-1 || st.trailingCommas {
				b.WriteByte(',')
			}
		}
		b.WriteString(st.eol + indent + "]")
	case kindObject:
		ms := dedupMembers(n.members)
		if len(ms) == 0 {
			b.WriteString("{}")
			return
		}
		if inline {
			b.WriteByte('{')
			for i, m := range ms {
				if i > 0 {
					b.WriteString(", ")
				}
				st.writeKey(b, m.key)
				b.WriteString(": ")
				st.render(b, m.val, indent, true)
			}
			b.WriteByte('}')
			return
		}
		b.WriteByte('{')
		inner := indent + st.unit
		for i, m := range ms {
			b.WriteString(st.eol + inner)
			st.writeKey(b, m.key)
			b.WriteString(": ")
			st.render(b, m.val, inner, false)
			if i < len(ms)-1 || st.trailingCommas {
				b.WriteByte(',')
			}
		}
		b.WriteString(st.eol + indent + "}")
	default:
		encodeJSON(b, n, "", "")
	}
}

// writeKey writes an object key bare when the document does and the key is
// an identifier, else quoted.
func (st style) writeKey(b *bytes.Buffer, k string) {
	if st.unquotedKeys && isIdentifier(k) {
		b.WriteString(k)
		return
	}
	st.writeString(b, k)
}

// writeString writes s in the style's quotes.
func (st style) writeString(b *bytes.Buffer, s string) {
	if st.quote != '\'' {
		writeJSONString(b, s)
		return
	}
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}

// isIdentifier reports whether k can be an unquoted JSON5 key (and is not
// a word a reader could take for a literal).
func isIdentifier(k string) bool {
	if k == "" || k == "true" || k == "false" || k == "null" || k == "Infinity" || k == "NaN" {
		return false
	}
	for i, r := range k {
		if r == utf8.RuneError {
			return false
		}
		ok := r == '_' || r == '$' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))
		if !ok {
			return false
		}
	}
	return true
}
