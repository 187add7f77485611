package wire

import (
	"strings"
	"testing"
)

// TestCompileNodeRejectsUnimplementedKeywords: a keyword the AJV walker
// does not implement must stop compilation with an error naming it and its
// location, never be skipped (the walker would then accept what the
// original rejects, or word its messages differently).
func TestCompileNodeRejectsUnimplementedKeywords(t *testing.T) {
	cases := []struct {
		name, schema string
		wantErr      string // "" = compiles
	}{
		{"implemented and annotation keywords", `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:x","title":"T","description":"d","$comment":"c",
			"type":"object","required":["a"],"additionalProperties":false,"properties":{"a":{"type":"string","minLength":1,"maxLength":3,"pattern":"^a"},
			"b":{"anyOf":[{"type":"string","const":"x"},{"type":"integer","minimum":0,"maximum":9}]},"c":{"type":"array","items":{"enum":[1,2]},"minItems":0,"maxItems":2},
			"d":{"type":"object","additionalProperties":{"type":"boolean"},"patternProperties":{"^x":true}}}}`, ""},
		{"format", `{"type":"object","properties":{"email":{"type":"string","format":"email"}}}`,
			`schema keyword "format" at /properties/email is not implemented`},
		{"inside anyOf", `{"anyOf":[{"type":"string"},{"type":"number","multipleOf":2}]}`,
			`schema keyword "multipleOf" at /anyOf/1 is not implemented`},
		{"$ref", `{"$ref":"#/$defs/x","$defs":{"x":{"type":"string"}}}`, `schema keyword "$ref" at / is not implemented`},
		{"oneOf at the root", `{"oneOf":[{"type":"string"}]}`, `schema keyword "oneOf" at / is not implemented`},
		{"in items", `{"type":"array","items":{"type":"string","uniqueItems":true}}`, `schema keyword "uniqueItems" at /items is not implemented`},
		{"in additionalProperties", `{"type":"object","additionalProperties":{"exclusiveMinimum":0}}`,
			`schema keyword "exclusiveMinimum" at /additionalProperties is not implemented`},
		{"default is not assumed inert", `{"type":"string","default":"x"}`, `schema keyword "default" at / is not implemented`},
		{"minLength not an integer", `{"type":"string","minLength":"1"}`, `schema keyword "minLength" at /: want a non-negative integer, got string`},
		{"unknown type name", `{"type":"int"}`, `schema keyword "type" at /: unknown type "int"`},
		{"properties not an object", `{"properties":[]}`, `schema keyword "properties" at /: want an object, got array`},
		{"schema not an object", `{"items":3}`, `schema at /items: want an object or a boolean, got number`},
		{"Go-only regexp flags", `{"type":"string","pattern":"(?i)^a$"}`, `pattern "(?i)^a$": a (? group other than (?: means something else`},
		{"lookahead", `{"type":"string","pattern":"^(?=a)"}`, `pattern "^(?=a)": a (? group`},
		{"Go property class", `{"type":"string","pattern":"\\pL"}`, `pattern "\\pL": the escape \p`},
		{"POSIX class", `{"type":"object","patternProperties":{"[[:alpha:]]":true}}`, `pattern "[[:alpha:]]": a POSIX class`},
		{"empty class", `{"type":"string","pattern":"a[]"}`, `pattern "a[]": an empty class`},
		{"\\S in a class", `{"type":"string","pattern":"[\\S]"}`, `pattern "[\\S]": the escape \S`},
		{"backreference", `{"type":"string","pattern":"(a)\\1"}`, `pattern "(a)\\1": the escape \1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := decodeOrdered([]byte(c.schema))
			if err != nil {
				t.Fatal(err)
			}
			_, err = compileNode(doc)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want %q…", err, c.wantErr)
			}
		})
	}
}
