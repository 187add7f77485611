// Package configschemagen builds the config.schema document (the JSON
// Schema of clawdbot.json and its UI hints) from the Go config types in
// profiles. Like wire/internal/schemagen it is internal so the reflection
// library is linked only into the generator and the staleness test; the
// gateway serves the generated file (gateway/configrpc/configschema.json).
//
// The schema: every section profiles.Config types, with the loader's enum
// and range rules, strict (unknown keys are reported by the loader); every
// key of the original that profiles keeps without modelling
// (profiles.ConfigSchemaInfo().Passthrough) as an open value — a whole
// section as an open object, as the original sends channels — so the
// original's Control UI renders a form for what is typed and offers Raw
// mode for the rest. channels and plugins are open objects too: this
// gateway loads no channel or plugin schemas to merge in.
//
// The UI hints are the original's (original-hints.json, the uiHints of its
// config.schema answer, clawdbot 2026.1.24: group labels and order, field
// labels, help and placeholders), with the original's sensitive rule (a
// path matching token/password/secret/api key) applied to every hint and
// every path of our schema.
package configschemagen

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/clawdbot/clawdbot/profiles"
)

//go:embed original-hints.json
var originalHints []byte

// Hint is one UI hint (the original's ConfigUiHint).
type Hint struct {
	Label        string `json:"label,omitempty"`
	Help         string `json:"help,omitempty"`
	Group        string `json:"group,omitempty"`
	Order        *int   `json:"order,omitempty"`
	Advanced     bool   `json:"advanced,omitempty"`
	Sensitive    bool   `json:"sensitive,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	ItemTemplate any    `json:"itemTemplate,omitempty"`
}

// sensitive is the original's SENSITIVE_PATTERNS.
var sensitive = regexp.MustCompile(`(?i)token|password|secret|api.?key`)

// Generate returns the file: {"schema": ..., "uiHints": ...}, indented.
func Generate() ([]byte, error) {
	schema, err := Schema()
	if err != nil {
		return nil, err
	}
	hints, err := Hints(schema)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Schema  *jsonschema.Schema `json:"schema"`
		UIHints map[string]Hint    `json:"uiHints"`
	}{schema, hints}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Schema is the JSON Schema (draft-07, as the original's) of the config.
func Schema() (*jsonschema.Schema, error) {
	r := &jsonschema.Reflector{
		DoNotReference: true, ExpandedStruct: true,
		AllowAdditionalProperties:  false,
		RequiredFromJSONSchemaTags: true, // every config key is optional
		Mapper:                     mapper,
	}
	s := r.ReflectFromType(reflect.TypeFor[profiles.Config]())
	s.Version = "http://json-schema.org/draft-07/schema#"
	s.ID = ""
	s.Title = "ClawdbotConfig"
	info := profiles.ConfigSchemaInfo()
	for _, p := range info.Passthrough {
		if strings.HasPrefix(p, "$") || legacy[strings.Split(p, ".")[0]] {
			continue
		}
		insert(s, strings.Split(p, "."))
	}
	for p, values := range info.Enums {
		if n := at(s, p); n != nil {
			n.Type = ""
			for _, v := range values {
				n.AnyOf = append(n.AnyOf, &jsonschema.Schema{Type: "string", Const: v})
			}
		}
	}
	for p, r := range info.Ranges {
		if n := at(s, p); n != nil {
			n.Minimum, n.Maximum = json.Number(itoa(r[0])), json.Number(itoa(r[1]))
		}
	}
	sortProperties(s)
	return s, nil
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

// legacy are passthrough sections that the original's own schema no
// longer has (its legacy migrations move them): kept in a file, but not
// offered as settings. $schema/$include are directives, skipped too.
var legacy = map[string]bool{"agent": true, "identity": true, "memory": true, "routing": true}

// mapper: free-form values (json.RawMessage, the channels and env maps)
// are open, as the original's stripped channel schema.
func mapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[json.RawMessage]():
		return &jsonschema.Schema{}
	case reflect.TypeFor[map[string]json.RawMessage]():
		return openObject()
	case reflect.TypeFor[[]json.RawMessage]():
		return &jsonschema.Schema{Type: "array", Items: openObject()}
	}
	return nil
}

func openObject() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", AdditionalProperties: jsonschema.TrueSchema}
}

// at is the schema of a dotted path, nil when it has none.
func at(s *jsonschema.Schema, path string) *jsonschema.Schema {
	for _, k := range strings.Split(path, ".") {
		if s == nil || s.Properties == nil {
			return nil
		}
		s, _ = s.Properties.Get(k)
	}
	return s
}

// insert adds a passthrough path: a top-level section is an open object,
// a key inside a typed object any value.
func insert(s *jsonschema.Schema, keys []string) {
	for i, k := range keys {
		if s.Properties == nil {
			return // under an open value already
		}
		child, ok := s.Properties.Get(k)
		if !ok {
			child = &jsonschema.Schema{}
			if i == 0 {
				child = openObject()
			}
			s.Properties.Set(k, child)
		}
		s = child
	}
}

// sortProperties orders every object's properties by key, so the file
// does not depend on the order passthrough keys were inserted in (the
// Control UI orders sections by its own hints).
func sortProperties(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.Properties != nil {
		var keys []string
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			keys = append(keys, p.Key)
		}
		sorted := append([]string(nil), keys...)
		sort.Strings(sorted)
		props := jsonschema.NewProperties()
		for _, k := range sorted {
			v, _ := s.Properties.Get(k)
			sortProperties(v)
			props.Set(k, v)
		}
		s.Properties = props
	}
	sortProperties(s.Items)
	if s.AdditionalProperties != nil && s.AdditionalProperties != jsonschema.TrueSchema {
		sortProperties(s.AdditionalProperties)
	}
}

// Hints are the original's hints plus sensitive:true on every hint or
// schema path the original's rule matches.
func Hints(schema *jsonschema.Schema) (map[string]Hint, error) {
	hints := map[string]Hint{}
	if err := json.Unmarshal(originalHints, &hints); err != nil {
		return nil, err
	}
	var walk func(prefix string, s *jsonschema.Schema)
	walk = func(prefix string, s *jsonschema.Schema) {
		if s == nil || s.Properties == nil {
			return
		}
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			path := p.Key
			if prefix != "" {
				path = prefix + "." + p.Key
			}
			if sensitive.MatchString(path) {
				h := hints[path]
				hints[path] = h // created; marked below
			}
			walk(path, p.Value)
		}
	}
	walk("", schema)
	for k, h := range hints {
		if sensitive.MatchString(k) {
			h.Sensitive = true
			hints[k] = h
		}
	}
	return hints, nil
}
