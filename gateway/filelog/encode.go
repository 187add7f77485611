package filelog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// isoMillis is the timestamp layout of the "time" and _meta.date fields,
// matching JavaScript's Date.toISOString.
const isoMillis = "2006-01-02T15:04:05.000Z"

// attrCtx is what WithAttrs/WithGroup accumulated: the subsystem and module
// names (kept apart because they form _meta.name) and the other attrs with
// their keys already qualified by the open groups.
type attrCtx struct {
	subsystem, module string
	prefix            string // "g1.g2." for open groups
	attrs             []slog.Attr
}

func (c attrCtx) withAttrs(as []slog.Attr) attrCtx {
	c.attrs = append([]slog.Attr(nil), c.attrs...)
	for _, a := range as {
		c.add(a)
	}
	return c
}

func (c attrCtx) withGroup(name string) attrCtx {
	if name != "" {
		c.prefix += name + "."
	}
	return c
}

// add records one attr, lifting subsystem/module names out of the attrs.
func (c *attrCtx) add(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if c.prefix == "" && a.Value.Kind() == slog.KindString {
		switch a.Key {
		case SubsystemKey:
			c.subsystem = a.Value.String()
			return
		case ModuleKey:
			c.module = a.Value.String()
			return
		}
	}
	if a.Equal(slog.Attr{}) {
		return
	}
	a.Key = c.prefix + a.Key
	c.attrs = append(c.attrs, a)
}

// collect merges the handler context with the record's own attrs.
func (c attrCtx) collect(r slog.Record) attrCtx {
	if r.NumAttrs() == 0 {
		return c
	}
	c.attrs = append([]slog.Attr(nil), c.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		c.add(a)
		return true
	})
	return c
}

// metaName is the _meta.name of a line: the JSON of {"subsystem","module"}
// for a named part of the gateway, else "clawdbot" like the original's
// root logger.
func (c attrCtx) metaName() (string, bool) {
	if c.subsystem == "" && c.module == "" {
		return "clawdbot", false
	}
	var b bytes.Buffer
	b.WriteByte('{')
	if c.subsystem != "" {
		b.WriteString(`"subsystem":`)
		appendString(&b, c.subsystem)
	}
	if c.module != "" {
		if c.subsystem != "" {
			b.WriteByte(',')
		}
		b.WriteString(`"module":`)
		appendString(&b, c.module)
	}
	b.WriteByte('}')
	return b.String(), true
}

// tslog level ids and names, so _meta matches what the original writes.
func levelInfo(l slog.Level) (int, string) {
	switch {
	case l < slog.LevelDebug:
		return 1, "TRACE"
	case l < slog.LevelInfo:
		return 2, "DEBUG"
	case l < slog.LevelWarn:
		return 3, "INFO"
	case l < slog.LevelError:
		return 4, "WARN"
	case l < slog.LevelError+4:
		return 5, "ERROR"
	default:
		return 6, "FATAL"
	}
}

func encodeJSONLine(hc attrCtx, r slog.Record, t time.Time) []byte {
	c := hc.collect(r)
	name, named := c.metaName()
	var args [][]byte
	if named {
		args = append(args, jsonString(name))
	}
	if len(c.attrs) > 0 {
		var b bytes.Buffer
		appendAttrsObject(&b, c.attrs)
		args = append(args, b.Bytes())
	}
	args = append(args, jsonString(r.Message))

	ts := t.UTC().Format(isoMillis)
	id, lname := levelInfo(r.Level)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range args {
		fmt.Fprintf(&b, `"%d":`, i)
		b.Write(a)
		b.WriteByte(',')
	}
	b.WriteString(`"_meta":{"name":`)
	appendString(&b, name)
	b.WriteString(`,"date":"` + ts + `","logLevelId":` + strconv.Itoa(id) + `,"logLevelName":"` + lname + `"}`)
	b.WriteString(`,"time":"` + ts + `","level":"` + strings.ToLower(lname) + `","msg":`)
	appendString(&b, r.Message)
	b.WriteString("}\n")
	return b.Bytes()
}

func encodeTextLine(hc attrCtx, r slog.Record, t time.Time) []byte {
	c := hc.collect(r)
	_, lname := levelInfo(r.Level)
	var b bytes.Buffer
	b.WriteString(t.Format("2006-01-02T15:04:05.000Z07:00"))
	b.WriteByte(' ')
	b.WriteString(strings.ToLower(lname))
	if c.subsystem != "" {
		b.WriteString(" " + c.subsystem)
	} else if c.module != "" {
		b.WriteString(" " + c.module)
	}
	b.WriteString(" " + r.Message)
	for _, a := range c.attrs {
		b.WriteString(" " + a.Key + "=")
		var v bytes.Buffer
		appendValue(&v, a.Value)
		s := v.String()
		// Strings print bare unless they need quotes to stay one token.
		if a.Value.Kind() == slog.KindString && !needsQuote(a.Value.String()) {
			s = a.Value.String()
		}
		b.WriteString(s)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	appendString(&b, s)
	return b.Bytes()
}

func appendString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // cannot fail for a string
	// json.Marshal escapes <, > and & for HTML; log lines are not HTML.
	enc = bytes.ReplaceAll(enc, []byte(`\u003c`), []byte("<"))
	enc = bytes.ReplaceAll(enc, []byte(`\u003e`), []byte(">"))
	enc = bytes.ReplaceAll(enc, []byte(`\u0026`), []byte("&"))
	b.Write(enc)
}

func appendAttrsObject(b *bytes.Buffer, as []slog.Attr) {
	b.WriteByte('{')
	n := 0
	for _, a := range as {
		if a.Key == "" && a.Value.Kind() != slog.KindGroup {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		appendString(b, a.Key)
		b.WriteByte(':')
		appendValue(b, a.Value)
	}
	b.WriteByte('}')
}

func appendValue(b *bytes.Buffer, v slog.Value) {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		appendString(b, v.String())
	case slog.KindInt64:
		b.WriteString(strconv.FormatInt(v.Int64(), 10))
	case slog.KindUint64:
		b.WriteString(strconv.FormatUint(v.Uint64(), 10))
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case slog.KindBool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case slog.KindDuration:
		appendString(b, v.Duration().String())
	case slog.KindTime:
		appendString(b, v.Time().UTC().Format(time.RFC3339Nano))
	case slog.KindGroup:
		appendAttrsObject(b, v.Group())
	default:
		x := v.Any()
		if err, ok := x.(error); ok {
			appendString(b, err.Error())
			return
		}
		enc, err := json.Marshal(x)
		if err != nil {
			appendString(b, fmt.Sprint(x))
			return
		}
		b.Write(enc)
	}
}

// Entry is one parsed log line, as `clawdbot logs` shows it.
type Entry struct {
	Time      string
	Level     string
	Subsystem string
	Module    string
	Message   string
}

// ParseLine reads one file-log line with the original reader's rules
// (doc/supervision.md §8.1): time from "time" (fallback _meta.date), level
// from _meta.logLevelName lower-cased, subsystem and module from the JSON in
// _meta.name, and the message as every numeric-key value joined by spaces
// (non-strings JSON-encoded). ok is false for a line that is not a JSON
// object; callers show it raw.
func ParseLine(line string) (e Entry, ok bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil || m == nil {
		return Entry{}, false
	}
	var meta struct {
		Name         *string `json:"name"`
		Date         string  `json:"date"`
		LogLevelName string  `json:"logLevelName"`
	}
	if raw, has := m["_meta"]; has {
		_ = json.Unmarshal(raw, &meta)
	}
	_ = json.Unmarshal(m["time"], &e.Time)
	if e.Time == "" {
		e.Time = meta.Date
	}
	e.Level = strings.ToLower(meta.LogLevelName)
	if meta.Name != nil && strings.HasPrefix(strings.TrimSpace(*meta.Name), "{") {
		var n map[string]any
		if json.Unmarshal([]byte(*meta.Name), &n) == nil {
			e.Subsystem, _ = n["subsystem"].(string)
			e.Module, _ = n["module"].(string)
		}
	}
	type kv struct {
		k   int
		raw json.RawMessage
	}
	var parts []kv
	for k, raw := range m {
		if k == "" || strings.TrimLeft(k, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		parts = append(parts, kv{n, raw})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].k < parts[j].k })
	msgs := make([]string, 0, len(parts))
	for _, p := range parts {
		var s string
		if json.Unmarshal(p.raw, &s) == nil {
			msgs = append(msgs, s)
			continue
		}
		var c bytes.Buffer
		if json.Compact(&c, p.raw) == nil {
			msgs = append(msgs, c.String())
		} else {
			msgs = append(msgs, string(p.raw))
		}
	}
	e.Message = strings.Join(msgs, " ")
	return e, true
}
