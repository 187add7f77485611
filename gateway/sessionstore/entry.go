package sessionstore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Entry is one session of sessions.json (doc/messaging.md §3.3). The fields
// this gateway reads or writes are typed; everything else an entry holds
// (the original's skillsSnapshot, systemPromptReport, queue settings, fields
// of later releases) is kept verbatim in Extra, so that loading and saving a
// store the original wrote never drops data.
//
// Optional booleans and numbers are pointers: the original tells "absent"
// from false/0 (sessions.reset writes systemSent:false and tokens 0;
// sessions.compact deletes the token fields).
type Entry struct {
	SessionID   string `json:"sessionId,omitempty"`
	UpdatedAt   int64  `json:"updatedAt,omitempty"` // Unix ms
	SessionFile string `json:"sessionFile,omitempty"`

	SystemSent      *bool  `json:"systemSent,omitempty"`
	AbortedLastRun  *bool  `json:"abortedLastRun,omitempty"`
	CompactionCount *int64 `json:"compactionCount,omitempty"`

	ChatType        string          `json:"chatType,omitempty"`
	Channel         string          `json:"channel,omitempty"`
	Label           string          `json:"label,omitempty"`
	Origin          json.RawMessage `json:"origin,omitempty"`
	DeliveryContext json.RawMessage `json:"deliveryContext,omitempty"`
	LastChannel     string          `json:"lastChannel,omitempty"`
	LastTo          string          `json:"lastTo,omitempty"`
	LastAccountID   string          `json:"lastAccountId,omitempty"`
	LastThreadID    json.RawMessage `json:"lastThreadId,omitempty"` // string or number

	ModelProvider string `json:"modelProvider,omitempty"`
	Model         string `json:"model,omitempty"`
	ContextTokens *int64 `json:"contextTokens,omitempty"`
	InputTokens   *int64 `json:"inputTokens,omitempty"`
	OutputTokens  *int64 `json:"outputTokens,omitempty"`
	TotalTokens   *int64 `json:"totalTokens,omitempty"`

	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
	VerboseLevel    string `json:"verboseLevel,omitempty"`
	ReasoningLevel  string `json:"reasoningLevel,omitempty"`
	ElevatedLevel   string `json:"elevatedLevel,omitempty"`
	ResponseUsage   string `json:"responseUsage,omitempty"`
	SendPolicy      string `json:"sendPolicy,omitempty"`
	GroupActivation string `json:"groupActivation,omitempty"`

	ModelOverride             string `json:"modelOverride,omitempty"`
	ProviderOverride          string `json:"providerOverride,omitempty"`
	AuthProfileOverride       string `json:"authProfileOverride,omitempty"`
	AuthProfileOverrideSource string `json:"authProfileOverrideSource,omitempty"`

	DisplayName  string `json:"displayName,omitempty"`
	Subject      string `json:"subject,omitempty"`
	GroupID      string `json:"groupId,omitempty"`
	GroupChannel string `json:"groupChannel,omitempty"`
	Space        string `json:"space,omitempty"`
	SpawnedBy    string `json:"spawnedBy,omitempty"`
	QueueMode    string `json:"queueMode,omitempty"`
	ExecHost     string `json:"execHost,omitempty"`
	ExecSecurity string `json:"execSecurity,omitempty"`
	ExecAsk      string `json:"execAsk,omitempty"`
	ExecNode     string `json:"execNode,omitempty"`

	// Extra are the entry's other fields, raw and compacted, sorted by
	// name; a known field whose value has an unexpected type is kept here
	// too, unchanged.
	Extra []Field `json:"-"`
}

// Field is one field of an entry kept raw.
type Field struct {
	Name  string
	Value json.RawMessage
}

// ExtraField is the raw value of the entry's unmodelled field name (nil
// when absent).
func (e *Entry) ExtraField(name string) json.RawMessage {
	for _, f := range e.Extra {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// SetExtra sets (value non-nil) or deletes (nil) an unmodelled field. It
// copies Extra first, so an Entry copied out of the store never changes
// the store's own.
func (e *Entry) SetExtra(name string, value json.RawMessage) {
	out := make([]Field, 0, len(e.Extra)+1)
	for _, f := range e.Extra {
		if f.Name != name {
			out = append(out, f)
		}
	}
	if value != nil {
		out = append(out, Field{name, value})
		slices.SortFunc(out, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	}
	e.Extra = out
}

// Clone is a copy of e that shares no mutable slice with it.
func (e Entry) Clone() Entry {
	e.Extra = slices.Clone(e.Extra)
	return e
}

// legacyRenames are the original's on-load migrations (doc/messaging.md §3.1): an old
// name moves to the new one when the new one is absent.
var legacyRenames = [][2]string{{"provider", "channel"}, {"lastProvider", "lastChannel"}, {"room", "groupChannel"}}

// entryFields maps a JSON name to the index of its Entry field.
var entryFields = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[Entry]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
})

// UnmarshalJSON decodes field by field, so that one odd value keeps the
// rest of the entry (the odd value stays in Extra, unchanged).
func (e *Entry) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, r := range legacyRenames {
		if v, ok := raw[r[0]]; ok {
			if _, has := raw[r[1]]; !has && len(v) > 0 && v[0] == '"' {
				raw[r[1]] = v
			}
			delete(raw, r[0])
		}
	}
	*e = Entry{}
	idx := entryFields()
	ev := reflect.ValueOf(e).Elem()
	for name, v := range raw {
		if i, ok := idx[name]; ok {
			if string(v) == "null" {
				continue
			}
			f := ev.Field(i)
			if json.Unmarshal(v, f.Addr().Interface()) == nil {
				if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8 {
					f.SetBytes(compact(v))
				}
				continue
			}
			f.SetZero()
		}
		e.Extra = append(e.Extra, Field{name, compact(v)})
	}
	slices.SortFunc(e.Extra, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func compact(v json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return slices.Clone(v)
	}
	return slices.Clip(buf.Bytes())
}

// MarshalJSON writes the typed fields in declaration order, then Extra.
// HTML characters are not escaped, as JSON.stringify does not.
func (e Entry) MarshalJSON() ([]byte, error) {
	type plain Entry
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain(e)); err != nil {
		return nil, err
	}
	out := bytes.TrimRight(buf.Bytes(), "\n")
	if len(e.Extra) == 0 {
		return out, nil
	}
	out = out[:len(out)-1] // drop '}'
	idx := entryFields()
	for _, f := range e.Extra {
		if i, known := idx[f.Name]; known && !reflect.ValueOf(e).Field(i).IsZero() {
			continue // the typed field wins
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		name, _ := json.Marshal(f.Name)
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, f.Value...)
	}
	return append(out, '}'), nil
}

// Bool is a pointer to b, for the optional flags of Entry.
func Bool(b bool) *bool { return &b }

// Int is a pointer to n, for the optional numbers of Entry.
func Int(n int64) *int64 { return &n }

// Flag is the value of an optional flag (false when absent).
func Flag(p *bool) bool { return p != nil && *p }
