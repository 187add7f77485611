package wire_test

import (
	"bytes"
	"io/fs"
	"sort"
	"testing"

	"github.com/clawdbot/clawdbot/wire"
	"github.com/clawdbot/clawdbot/wire/internal/schemagen"
)

// TestSchemaUpToDate regenerates the schema in memory and compares it with
// the checked-in (embedded) files.
func TestSchemaUpToDate(t *testing.T) {
	want, err := schemagen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	entries, err := fs.ReadDir(wire.SchemaFS(), "schema")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(wire.SchemaFS(), "schema/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = b
	}
	var stale []string
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no longer generated)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Fatalf("wire/schema is stale (%v); run `make schema` and commit the result", stale)
	}
}

// Every validated method has a schema file, so ValidateParams never falls
// back to "no schema".
func TestEveryValidatedMethodHasSchema(t *testing.T) {
	for _, m := range wire.Methods() {
		if m.Params == nil {
			continue
		}
		if _, err := fs.Stat(wire.SchemaFS(), "schema/"+m.Params.Name()+".json"); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if !m.Strict {
			t.Errorf("%s: validated params must be strict", m.Name)
		}
	}
}
