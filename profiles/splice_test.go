package profiles

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Golden before/patch/after files: PatchText keeps every byte it does not
// change (comments, order, quotes, trailing commas), inserts new keys in
// the document's style, and agrees with MergePatch on the content.
func TestPatchTextGolden(t *testing.T) {
	befores, _ := filepath.Glob(filepath.Join("testdata", "splice", "*.before.json5"))
	if len(befores) == 0 {
		t.Fatal("no golden files")
	}
	for _, before := range befores {
		name := strings.TrimSuffix(filepath.Base(before), ".before.json5")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(before)
			if err != nil {
				t.Fatal(err)
			}
			patch, err := os.ReadFile(filepath.Join("testdata", "splice", name+".patch.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, fellBack, err := patchText(raw, patch)
			if err != nil {
				t.Fatal(err)
			}
			if fellBack {
				t.Errorf("fell back to a JSON rewrite")
			}
			want, err := MergePatch(raw, patch)
			if err != nil {
				t.Fatal(err)
			}
			if formatted, err := FormatJSON(got); err != nil || !bytes.Equal(formatted, want) {
				t.Errorf("content differs from MergePatch (%v):\n%s\nwant\n%s", err, formatted, want)
			}
			afterPath := filepath.Join("testdata", "splice", name+".after.json5")
			if *update {
				if err := os.WriteFile(afterPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			after, err := os.ReadFile(afterPath)
			if err != nil {
				t.Fatalf("%v (run go test ./profiles -run TestPatchTextGolden -update)", err)
			}
			if !bytes.Equal(got, after) {
				t.Errorf("got:\n%s\nwant (%s):\n%s", got, afterPath, after)
			}
		})
	}
}

// Every line of the before file that the patch does not touch survives.
func TestPatchTextKeepsComments(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "splice", "comments.before.json5"))
	got, err := PatchText(raw, []byte(`{"gateway": {"auth": {"token": "new-token"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.Contains(line, "old-token") && !strings.Contains(string(got), line) {
			t.Errorf("line %q lost:\n%s", line, got)
		}
	}
	if !strings.Contains(string(got), "token: 'new-token', // rotated monthly") {
		t.Errorf("value not spliced in place with its quote style and comment:\n%s", got)
	}
}
