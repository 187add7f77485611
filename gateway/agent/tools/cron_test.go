package tools

import (
	"strings"
	"testing"
)

// The reminder context counts as JavaScript does (UTF-16 units), so the
// original's 220 and 700 limits mean the same text here.
func TestTruncateUTF16(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "hello", 5, "hello"},
		{"cut", "hello world", 8, "hello..."},
		{"trailing space trimmed", "hello world", 9, "hello..."},
		{"astral rune is two units", strings.Repeat("😀", 3), 5, "😀..."},
		{"never half a pair", "a😀😀", 4, "a..."},
		{"empty budget", "abcdef", 3, "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncateUTF16(tc.in, tc.max); got != tc.want {
				t.Fatalf("truncateUTF16(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if utf16Len(truncateUTF16(tc.in, tc.max)) > max(tc.max, 3) {
				t.Fatalf("result over %d units", tc.max)
			}
		})
	}
}
