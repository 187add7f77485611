package filelog

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr(n int64) *int64 { return &n }

func TestTail(t *testing.T) {
	// Five 6-byte lines: "line1\n" … "line5\n" = 30 bytes.
	five := "line1\nline2\nline3\nline4\nline5\n"
	tests := []struct {
		name      string
		content   string
		cursor    *int64
		limit     int
		maxBytes  int
		lines     []string
		truncated bool
		reset     bool
	}{
		{name: "no cursor whole file", content: five, lines: []string{"line1", "line2", "line3", "line4", "line5"}},
		{name: "no cursor tail on a line boundary keeps first line", content: five, maxBytes: 12,
			lines: []string{"line4", "line5"}, truncated: true},
		{name: "no cursor tail mid-line drops partial first line", content: five, maxBytes: 14,
			lines: []string{"line4", "line5"}, truncated: true},
		{name: "cursor at size returns nothing", content: five, cursor: ptr(30), lines: []string{}},
		{name: "cursor at a line boundary returns the new lines", content: five, cursor: ptr(18),
			lines: []string{"line4", "line5"}},
		{name: "cursor mid-line drops the partial line", content: five, cursor: ptr(20),
			lines: []string{"line5"}},
		{name: "cursor zero reads everything", content: five, cursor: ptr(0),
			lines: []string{"line1", "line2", "line3", "line4", "line5"}},
		{name: "cursor past size resets to the tail", content: five, cursor: ptr(1000),
			lines: []string{"line1", "line2", "line3", "line4", "line5"}, reset: true},
		{name: "cursor past size with a short maxBytes resets and truncates", content: five, cursor: ptr(1000),
			maxBytes: 12, lines: []string{"line4", "line5"}, reset: true, truncated: true},
		{name: "too far behind resets and truncates", content: five, cursor: ptr(0), maxBytes: 12,
			lines: []string{"line4", "line5"}, reset: true, truncated: true},
		{name: "limit keeps the last lines", content: five, limit: 2, lines: []string{"line4", "line5"}},
		{name: "unterminated last line is kept", content: "a\nb", lines: []string{"a", "b"}},
		{name: "only the trailing empty line is dropped", content: "a\n\nb\n", lines: []string{"a", "", "b"}},
		{name: "empty file", content: "", lines: []string{}},
		{name: "empty file with cursor past it resets", content: "", cursor: ptr(10), lines: []string{}, reset: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.log")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Tail(p, tc.cursor, tc.limit, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			want := TailResult{File: p, Cursor: int64(len(tc.content)), Size: int64(len(tc.content)),
				Lines: tc.lines, Truncated: tc.truncated, Reset: tc.reset}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Tail =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestTailMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.log")
	got, err := Tail(p, ptr(55), 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := TailResult{File: p, Lines: []string{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tail = %+v, want %+v", got, want)
	}
}

func TestTailRollingFallback(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "gateway-2026-01-01.log")
	newer := filepath.Join(dir, "gateway-2026-01-03.log")
	foreign := filepath.Join(dir, "clawdbot-2026-01-04.log") // other family: not a candidate
	for i, p := range []string{old, newer, foreign} {
		if err := os.WriteFile(p, []byte(filepath.Base(p)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(time.Duration(i-3) * time.Hour)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Tail(filepath.Join(dir, "gateway-2026-01-05.log"), nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.File != newer || !reflect.DeepEqual(got.Lines, []string{"gateway-2026-01-03.log"}) {
		t.Errorf("fallback picked %s %q, want %s", got.File, got.Lines, newer)
	}

	// A fixed (non-rolling) name never falls back.
	fixed := filepath.Join(dir, "custom.log")
	got, err = Tail(fixed, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.File != fixed || len(got.Lines) != 0 {
		t.Errorf("fixed name: got %+v", got)
	}
}

func TestTailDefaultsAndClamp(t *testing.T) {
	var b strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	p := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, DefaultTailLimit}, {-3, DefaultTailLimit}, {7, 7}, {99999, MaxTailLimit}} {
		got, err := Tail(p, nil, tc.limit, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Lines) != tc.want || got.Lines[len(got.Lines)-1] != "5999" {
			t.Errorf("limit %d: %d lines ending %q, want %d ending 5999", tc.limit, len(got.Lines), got.Lines[len(got.Lines)-1], tc.want)
		}
	}
}

// BenchmarkTailFollow is the steady-state poll of `logs --follow`: a cursor
// near the end of a large file.
func BenchmarkTailFollow(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x.log")
	line := strings.Repeat("x", 199) + "\n"
	if err := os.WriteFile(p, []byte(strings.Repeat(line, 50000)), 0o600); err != nil {
		b.Fatal(err)
	}
	cur := int64(len(line) * 49990)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Tail(p, &cur, 200, 250000); err != nil {
			b.Fatal(err)
		}
	}
}
