package sessions

import (
	"bytes"
	goflag "flag"
	"os"
	"path/filepath"
	"testing"
)

var update = goflag.Bool("update", false, "rewrite testdata/list_golden.txt from the current sessions.list")

// listGoldenCalls are the sessions.list params the golden file pins, over
// testdata/list_store.json: every row field, derived fields (kind,
// channel, displayName, totalTokens, the deliveryContext fallback), HTML
// and line-separator characters the encoder escapes, legacy and bare keys,
// and every filter.
var listGoldenCalls = []string{
	`{}`,
	`{"includeGlobal":true,"includeUnknown":true}`,
	`{"includeDerivedTitles":true,"includeLastMessage":true,"includeGlobal":true,"includeUnknown":true}`,
	`{"includeDerivedTitles":true,"limit":2}`,
	`{"search":"ALICE"}`,
	`{"search":"bb7de001"}`,
	`{"label":"carol"}`,
	`{"spawnedBy":"agent:main:main"}`,
	`{"agentId":"MAIN","limit":3}`,
	`{"activeMinutes":1}`,
}

// TestListGolden pins the bytes sessions.list puts on the wire: the file
// was written by the reflection encoder (json.Marshal of wire's row
// structs) before the hand-ordered one replaced it, so a pass proves the
// two encode every case here identically.
func TestListGolden(t *testing.T) {
	f := newFixture(t)
	store, err := os.ReadFile(filepath.Join("testdata", "list_store.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "sessions.json"), store, 0o600); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, p := range listGoldenCalls {
		b, e := f.call(t, "sessions.list", p)
		if e != nil {
			t.Fatalf("sessions.list %s: %s", p, e.Message)
		}
		got.WriteString(p + "\n" + string(b) + "\n")
	}
	golden := filepath.Join("testdata", "list_golden.txt")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}
