package wire

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestWalkerMatchesAJV replays verdicts and messages recorded from the
// original's own validator (AJV 8.20 with its options, formatted by its
// formatValidationErrors; testdata/ajv/oracle.mjs writes golden.json from
// cases.json). The cases probe where a JSON Schema validator working on
// the literal text parts from AJV working on JSON.parse's value: doubles
// (1.0000000000000001 is an integer, 1e400 is Infinity), code-point
// lengths, JavaScript key order, blank property names, duplicate keys;
// plus the keywords no generated schema uses yet (enum, minItems, ...).
func TestWalkerMatchesAJV(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "ajv", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		AJV   string `json:"ajv"`
		Cases []struct {
			Schema  json.RawMessage `json:"schema"` // a schema file's name, or a schema
			Data    string          `json:"data"`
			Valid   bool            `json:"valid"`
			Message string          `json:"message"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("no cases")
	}
	all, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range golden.Cases {
		var node *snode
		var name string
		if json.Unmarshal(c.Schema, &name) == nil {
			node = all[name]
			if node == nil {
				t.Fatalf("case %d: no schema %q", i, name)
			}
		} else {
			doc, err := decodeOrdered(c.Schema)
			if err == nil {
				node, err = compileNode(doc)
			}
			if err != nil {
				t.Fatalf("case %d: schema %s: %v", i, c.Schema, err)
			}
			name = string(c.Schema)
		}
		v, err := decodeOrdered([]byte(c.Data))
		if err != nil {
			t.Fatalf("case %d: data %s: %v", i, c.Data, err)
		}
		var errs []ajvErr
		node.walk(v, "", &errs)
		got := ""
		if len(errs) > 0 {
			got = formatAJV(errs)
		}
		if (len(errs) == 0) != c.Valid || got != c.Message {
			t.Errorf("%s %s:\n got valid=%v %q\nwant valid=%v %q (ajv %s)", name, c.Data, len(errs) == 0, got, c.Valid, c.Message, golden.AJV)
		}
	}
}

// TestJSString pins the number formatting of "must be <= N" to
// JavaScript's Number.prototype.toString.
func TestJSString(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -1: "-1", 5000: "5000", 1.5: "1.5", 0.001: "0.001", 1e-6: "0.000001", 1e-7: "1e-7",
		1e20: "100000000000000000000", 1e21: "1e+21", 1.5e300: "1.5e+300", -2.5e-8: "-2.5e-8", 123456.789: "123456.789",
	} {
		if got := jsString(f); got != want {
			t.Errorf("jsString(%v) = %q, want %q", f, got, want)
		}
	}
}
