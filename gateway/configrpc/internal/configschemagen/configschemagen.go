// Package configschemagen builds the config.schema document (the JSON
// Schema of clawdbot.json and its UI hints) from the Go config types in
// profiles. Like wire/internal/schemagen it is internal so the reflection
// library is linked only into the generator and the staleness test; the
// gateway serves the generated file (gateway/configrpc/configschema.json).
//
// The schema: every section profiles.Config types, with the loader's enum
// and range rules, strict (unknown keys are reported by the loader); every
// key of the original that profiles keeps without modelling
// (profiles.ConfigSchemaInfo().Passthrough) as an open value, a whole
// section as an open object. Every node left open (a passthrough key, an
// open section, a free-form list item or map value) is then filled with
// the original's sub-schema for the same path (original-schema.json, its
// base config.schema; README.md says how it was captured), so the
// original's Control UI renders a form for it too: the schema describes
// what the original accepts there, while the loader still passes the
// value through unchanged. Where we type a node, ours is kept. channels
// stays an open object, as in the original's base schema: this gateway
// merges no channel plugin schemas in.
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
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/clawdbot/clawdbot/profiles"
)

//go:embed original-hints.json
var originalHints []byte

//go:embed original-schema.json
var originalSchemaJSON []byte

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
		Schema  map[string]any  `json:"schema"`
		UIHints map[string]Hint `json:"uiHints"`
	}{schema, hints}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Schema is the JSON Schema (draft-07, as the original's) of the config:
// our types, their open nodes filled from the original's schema.
func Schema() (map[string]any, error) {
	b, err := json.Marshal(typed())
	if err != nil {
		return nil, err
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	orig, err := OriginalSchema()
	if err != nil {
		return nil, err
	}
	fill(s, orig)
	return s, nil
}

// typed is the schema of the Go types with the loader's rules, every
// passthrough key an open value.
func typed() *jsonschema.Schema {
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
	return s
}

// OriginalSchema is the original's config schema (original-schema.json)
// as decoded JSON: kept verbatim (its "type": ["string","number"] nodes
// have no place in the reflection library's Schema).
func OriginalSchema() (map[string]any, error) {
	var s map[string]any
	if err := json.Unmarshal(originalSchemaJSON, &s); err != nil {
		return nil, fmt.Errorf("original-schema.json: %w", err)
	}
	return s, nil
}

// Open reports whether a node says nothing about its value's shape: any
// value ({} or true), or an object with no properties whose every other
// key is anything.
func Open(n any) bool {
	switch n := n.(type) {
	case nil:
		return true
	case bool:
		return n
	case map[string]any:
		for k, v := range n {
			switch k {
			case "type":
				if v != "object" {
					return false
				}
			case "properties":
				if p, _ := v.(map[string]any); len(p) > 0 {
					return false
				}
			case "additionalProperties":
				if v != true {
					return false
				}
			case "required":
				if r, _ := v.([]any); len(r) > 0 {
					return false
				}
			case "title", "description":
			default:
				return false
			}
		}
		return true
	}
	return false
}

// objectBranch is the node itself, or the branch of its anyOf that has
// properties (the original's "string or object" shapes), so a walk can
// descend into what we type as the object.
func objectBranch(n map[string]any) map[string]any {
	if _, ok := n["properties"]; ok {
		return n
	}
	branches, _ := n["anyOf"].([]any)
	for _, b := range branches {
		if m, _ := b.(map[string]any); m != nil {
			if _, ok := m["properties"]; ok {
				return m
			}
		}
	}
	for _, b := range branches {
		if m, _ := b.(map[string]any); m != nil {
			if _, ok := m["items"]; ok {
				return m
			}
		}
	}
	return n
}

// Children calls f for every child position of ours — each property, the
// items, a schema-valued additionalProperties — with the original's node
// at the same position (nil when it has none); set replaces ours there.
func Children(ours, orig any, f func(key string, ours, orig any, set func(any))) {
	om, _ := ours.(map[string]any)
	gm, _ := orig.(map[string]any)
	if om == nil || gm == nil {
		return
	}
	gm = objectBranch(gm)
	gprops, _ := gm["properties"].(map[string]any)
	if props, _ := om["properties"].(map[string]any); props != nil {
		for k, v := range props {
			f(k, v, gprops[k], func(x any) { props[k] = x })
		}
	}
	if items, ok := om["items"]; ok {
		f("[]", items, gm["items"], func(x any) { om["items"] = x })
	}
	if ap, ok := om["additionalProperties"].(map[string]any); ok {
		f("*", ap, gm["additionalProperties"], func(x any) { om["additionalProperties"] = x })
	}
}

// fill replaces every open node of ours with the original's node for the
// same path when the original's is not open, and descends where both are.
func fill(ours, orig any) {
	Children(ours, orig, func(_ string, o, g any, set func(any)) {
		if g == nil {
			return
		}
		if Open(o) && !Open(g) {
			set(clone(g))
			return
		}
		fill(o, g)
	})
}

// clone deep-copies a decoded JSON value, so the output never shares (or
// edits) the original's tree.
func clone(v any) any {
	b, _ := json.Marshal(v)
	var c any
	_ = json.Unmarshal(b, &c)
	return c
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
func Hints(schema map[string]any) (map[string]Hint, error) {
	hints := map[string]Hint{}
	if err := json.Unmarshal(originalHints, &hints); err != nil {
		return nil, err
	}
	var walk func(prefix string, s any)
	walk = func(prefix string, s any) {
		m, _ := s.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		for k, v := range props {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if sensitive.MatchString(path) {
				h := hints[path]
				hints[path] = h // created; marked below
			}
			walk(path, v)
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
