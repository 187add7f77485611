package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// JSONAppender is a payload that encodes itself by appending to a buffer,
// byte-for-byte what json.Marshal would produce for it. Large results on
// hot paths (sessions.list) implement it: json.Marshal of a value with a
// MarshalJSON method re-scans the method's output to compact it, which
// for a big result costs as much as encoding it; AppendPayload does not.
type JSONAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

// AppendPayload appends the JSON of v: through AppendJSON when v is a
// JSONAppender (trusted to be compact, HTML-escaped JSON), else
// json.Marshal.
func AppendPayload(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(JSONAppender); ok {
		return a.AppendJSON(dst)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string exactly as json.Marshal writes
// it: <, > and & escaped as \u003c…, U+2028/U+2029 escaped, invalid UTF-8
// replaced by \ufffd, control characters as \b \f \n \r \t or \u00XX.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendRaw appends raw JSON as json.Marshal writes a json.RawMessage:
// compacted, HTML characters escaped; nil as null. Invalid JSON is an
// error, as it is for json.Marshal.
func AppendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if plainJSON(raw) && json.Valid(raw) {
		// Already compact with nothing to escape (what the session store
		// holds): copied as is.
		return append(dst, raw...), nil
	}
	// Compact straight onto dst (Compact leaves it unchanged on error).
	out := bytes.NewBuffer(dst)
	if err := json.Compact(out, raw); err != nil {
		return dst, err
	}
	b := out.Bytes()
	if !bytes.ContainsAny(b[len(dst):], "<>&\u2028\u2029") {
		return b, nil
	}
	esc := bytes.NewBuffer(dst[:len(dst):len(dst)])
	json.HTMLEscape(esc, b[len(dst):])
	return esc.Bytes(), nil
}

// plainJSON reports that raw has no byte json.Marshal would change: no
// whitespace (not even inside strings, to keep the check a byte scan), no
// HTML character, no 0xE2 (the lead byte of U+2028/U+2029).
func plainJSON(raw []byte) bool {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return false
		}
	}
	return true
}

// rowWriter appends the fields of one JSON object, tracking the comma.
type rowWriter struct {
	b     []byte
	first bool
	err   error
}

func (w *rowWriter) name(n string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, n...)
	w.b = append(w.b, '"', ':')
}

func (w *rowWriter) str(n, v string) {
	w.name(n)
	w.b = AppendString(w.b, v)
}

func (w *rowWriter) optStr(n, v string) {
	if v != "" {
		w.str(n, v)
	}
}

func (w *rowWriter) optRaw(n string, v json.RawMessage) {
	if len(v) == 0 {
		return
	}
	w.name(n)
	if w.err == nil {
		w.b, w.err = AppendRaw(w.b, v)
	}
}

func (w *rowWriter) optBool(n string, v *bool) {
	if v != nil {
		w.name(n)
		w.b = strconv.AppendBool(w.b, *v)
	}
}

func (w *rowWriter) optInt(n string, v *int64) {
	if v != nil {
		w.name(n)
		w.b = strconv.AppendInt(w.b, *v, 10)
	}
}

// AppendJSON appends r as json.Marshal encodes it (fields in declaration
// order, omitempty honoured), without reflection: sessions.list encodes a
// thousand of these per call.
func (r *SessionRow) AppendJSON(dst []byte) ([]byte, error) {
	w := rowWriter{b: append(dst, '{'), first: true}
	w.str("key", r.Key)
	w.str("kind", r.Kind)
	w.optStr("label", r.Label)
	w.optStr("displayName", r.DisplayName)
	w.optStr("channel", r.Channel)
	w.optStr("subject", r.Subject)
	w.optStr("groupChannel", r.GroupChannel)
	w.optStr("space", r.Space)
	w.optStr("chatType", r.ChatType)
	w.optRaw("origin", r.Origin)
	w.name("updatedAt")
	if r.UpdatedAt == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = strconv.AppendInt(w.b, *r.UpdatedAt, 10)
	}
	w.optStr("sessionId", r.SessionID)
	w.optBool("systemSent", r.SystemSent)
	w.optBool("abortedLastRun", r.AbortedLastRun)
	w.optStr("thinkingLevel", r.ThinkingLevel)
	w.optStr("verboseLevel", r.VerboseLevel)
	w.optStr("reasoningLevel", r.ReasoningLevel)
	w.optStr("elevatedLevel", r.ElevatedLevel)
	w.optStr("sendPolicy", r.SendPolicy)
	w.optInt("inputTokens", r.InputTokens)
	w.optInt("outputTokens", r.OutputTokens)
	w.name("totalTokens")
	w.b = strconv.AppendInt(w.b, r.TotalTokens, 10)
	w.optStr("responseUsage", r.ResponseUsage)
	w.optStr("modelProvider", r.ModelProvider)
	w.optStr("model", r.Model)
	w.optInt("contextTokens", r.ContextTokens)
	w.optRaw("deliveryContext", r.DeliveryContext)
	w.optStr("lastChannel", r.LastChannel)
	w.optStr("lastTo", r.LastTo)
	w.optStr("lastAccountId", r.LastAccountID)
	w.optStr("derivedTitle", r.DerivedTitle)
	w.optStr("lastMessagePreview", r.LastMessagePreview)
	if w.err != nil {
		return dst, w.err
	}
	return append(w.b, '}'), nil
}

// AppendJSON appends d as json.Marshal encodes it.
func (d *SessionsDefaults) AppendJSON(dst []byte) ([]byte, error) {
	w := rowWriter{b: append(dst, '{'), first: true}
	w.name("modelProvider")
	w.nullableStr(d.ModelProvider)
	w.name("model")
	w.nullableStr(d.Model)
	w.name("contextTokens")
	if d.ContextTokens == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = strconv.AppendInt(w.b, *d.ContextTokens, 10)
	}
	return append(w.b, '}'), nil
}

func (w *rowWriter) nullableStr(v *string) {
	if v == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = AppendString(w.b, *v)
}
