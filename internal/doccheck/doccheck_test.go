package doccheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRepoCitations is the check itself: every § a comment in this module
// cites exists in doc/, and no comment carries an issue number.
func TestRepoCitations(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cites) == 0 {
		t.Fatal("no citations found; the scanner is broken")
	}
	for _, p := range r.Problems {
		t.Errorf("%s", p)
	}
	for _, m := range r.Issues {
		t.Errorf("issue number in a comment (comments say why, not which ticket): %s", m)
	}
}

// TestFixture pins what the checker finds and resolves on a small module.
func TestFixture(t *testing.T) {
	r, err := Check(filepath.Join("testdata", "mod"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Cites {
		got = append(got, fmt.Sprintf("%s:%d %s §%s %s", c.File, c.Line, c.Doc, c.Section, c.Form))
	}
	want := []string{
		"gateway/a.go:4 protocol §1.5 named",
		"gateway/a.go:4 protocol §1 bare",
		"gateway/a.go:4 protocol §10.2 bare spec",
		"gateway/a.go:7 protocol §7 bare spec",
		"gateway/a.go:7 protocol §1.6 explicit",
		"gateway/a.go:8 supervision §1.1 named",
		// The last document named earlier in the file, not the package's.
		"gateway/a.go:12 supervision §1.5 bare spec",
		"other/b.go:1  §1 bare spec",
	}
	if !slices.Equal(got, want) {
		t.Errorf("citations:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	wantProblems := []string{"no §7 in doc/protocol.md", "no §1.6 in doc/protocol.md",
		"doc/supervision.md does not exist", "doc/supervision.md does not exist", "cannot tell which document"}
	if len(r.Problems) != len(wantProblems) {
		t.Fatalf("problems: %q", r.Problems)
	}
	for i, p := range r.Problems {
		if !strings.Contains(p, wantProblems[i]) {
			t.Errorf("problem %d = %q, want it to say %q", i, p, wantProblems[i])
		}
	}
	var mentions []string
	for _, m := range r.Issues {
		mentions = append(mentions, fmt.Sprintf("%d %s", m.Line, m.Text))
	}
	if want := []string{"15 issue #9", "15 (#10"}; !slices.Equal(mentions, want) {
		t.Errorf("mentions = %q, want %q", mentions, want)
	}
	if !r.Failed() {
		t.Error("a module with missing sections passed")
	}
}

func TestSections(t *testing.T) {
	secs, err := Sections(filepath.Join("testdata", "mod", "doc", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1", "1.5", "10", "10.1", "10.2"} {
		if !secs[s] {
			t.Errorf("no §%s in %v", s, secs)
		}
	}
	if secs["7"] || secs["1.1"] {
		t.Errorf("sections from a code fence or list under a subsectioned heading: %v", secs)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "doc", "protocol.md")); err != nil {
		t.Fatal(err)
	}
}
