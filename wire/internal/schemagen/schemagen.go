// Package schemagen turns the wire types into the JSON Schema files under
// wire/schema/. It lives in an internal package so the reflection library
// (invopop/jsonschema) is linked only into the generator and the staleness
// test, never into the gateway binary.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/invopop/jsonschema"
)

// Types returns every type that gets a schema file, keyed by file base name
// (the Go type name): the frames, connect and hello-ok, the params of every
// schema-validated method, and the outbound event and result payloads.
func Types() map[string]reflect.Type {
	ts := map[string]reflect.Type{}
	add := func(t reflect.Type) { ts[t.Name()] = t }
	for _, t := range wire.SchemaTypes() {
		add(t)
	}
	for _, m := range wire.Methods() {
		if m.Params != nil {
			add(m.Params)
		}
	}
	return ts
}

// Generate returns the schema files, keyed by file name ("ConnectParams.json").
func Generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	names := make([]string, 0)
	types := Types()
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := generateOne(name, types[name])
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		out[name+".json"] = data
	}
	return out, nil
}

func generateOne(name string, t reflect.Type) ([]byte, error) {
	r := &jsonschema.Reflector{
		// Inline everything, as the original's TypeBox schemas are: error
		// paths then need no $ref resolution and read like the original's.
		DoNotReference: true,
		ExpandedStruct: true,
		// additionalProperties:false on every struct: all protocol objects
		// of the original are strict. Free-form values are any/RawMessage.
		AllowAdditionalProperties: false,
		Mapper:                    mapper,
	}
	s := r.ReflectFromType(t)
	s.ID = jsonschema.ID("urn:clawdbot:wire:" + name)
	s.Title = name
	fix(s)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mapper pins the shapes reflection cannot see: the client id and mode
// enums come from the Go lists so the schema cannot drift from them.
func mapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[wire.Nullable]():
		return nullable(&jsonschema.Schema{Type: "string", MinLength: ptr(uint64(1))})
	case reflect.TypeFor[wire.NullableString]():
		return nullable(&jsonschema.Schema{Type: "string"})
	case reflect.TypeFor[wire.NullableLabel]():
		return nullable(&jsonschema.Schema{Type: "string", MinLength: ptr(uint64(1)), MaxLength: ptr(uint64(64))})
	}
	return nil
}

// nullable is TypeBox's Type.Union([s, Type.Null()]).
func nullable(s *jsonschema.Schema) *jsonschema.Schema {
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{s, {Type: "null"}}}
}

func ptr[T any](v T) *T { return &v }

// fix rewrites string enums the way TypeBox emits Literal/Union schemas
// (a single value becomes {const, type:string}; several become anyOf of
// those), so validation messages match the original's AJV output
// ("must be equal to constant; must match a schema in anyOf"). It also
// fills the client id/mode enums from wire.ClientIDs / wire.ClientModes.
func fix(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.Properties != nil {
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			fix(pair.Value)
		}
		if s.Title == "" && isClientInfo(s) {
			setEnum(s, "id", wire.ClientIDs)
			setEnum(s, "mode", wire.ClientModes)
		}
	}
	fix(s.Items)
	fix(s.AdditionalProperties)
	for _, sub := range s.PatternProperties {
		fix(sub)
	}
	for _, sub := range s.AnyOf {
		fix(sub)
	}
	if len(s.Enum) == 1 {
		s.Const = s.Enum[0]
		s.Enum = nil
	} else if len(s.Enum) > 1 {
		for _, v := range s.Enum {
			s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: "string", Const: v})
		}
		s.Enum = nil
		s.Type = ""
	}
}

// isClientInfo recognises the connect client object by its property set.
func isClientInfo(s *jsonschema.Schema) bool {
	_, hasID := s.Properties.Get("id")
	_, hasMode := s.Properties.Get("mode")
	_, hasPlatform := s.Properties.Get("platform")
	return hasID && hasMode && hasPlatform
}

func setEnum(s *jsonschema.Schema, prop string, values []string) {
	p, ok := s.Properties.Get(prop)
	if !ok {
		return
	}
	p.AnyOf = nil
	for _, v := range values {
		p.AnyOf = append(p.AnyOf, &jsonschema.Schema{Type: "string", Const: v})
	}
	p.Type = ""
	p.Enum = nil
}
