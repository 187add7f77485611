package profiles

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzPatchText: for any document that parses and any object patch,
// PatchText never panics, and its output parses to MergePatch's content.
func FuzzPatchText(f *testing.F) {
	befores, _ := filepath.Glob(filepath.Join("testdata", "splice", "*.before.json5"))
	for _, b := range befores {
		raw, _ := os.ReadFile(b)
		patch, _ := os.ReadFile(b[:len(b)-len(".before.json5")] + ".patch.json")
		f.Add(raw, patch)
	}
	f.Add([]byte("{a: {b: 1,}, // c\n}"), []byte(`{"a": {"b": null, "c": {"d": [1, {"e": 2}]}}}`))
	f.Add([]byte("{a:1,a:2}"), []byte(`{"a": null}`))
	f.Add([]byte("{\n  a: 1 /* x */ ,\n  b: 2 // y\n}"), []byte(`{"b": null, "c": 3}`))
	f.Fuzz(func(t *testing.T, raw, patch []byte) {
		if _, err := parseJSON5(raw); err != nil {
			return
		}
		p, err := parseJSON5(patch)
		if err != nil || p == nil {
			return
		}
		out, err := PatchText(raw, patch)
		if err != nil {
			t.Fatalf("PatchText: %v", err)
		}
		want, err := MergePatch(raw, patch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FormatJSON(out)
		if err != nil || string(got) != string(want) {
			t.Fatalf("content %s (%v), want %s\nfrom %q + %q → %q", got, err, want, raw, patch, out)
		}
	})
}
