package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An empty, whitespace-only or comment-only file is a parse error, as in
// the original (its JSON5.parse throws on it): reading it as {} would start
// or reload a gateway with every setting reset and no auth. The same holds
// for config.set/config.apply raw input, which goes through ParseConfig.
func TestEmptyConfigIsAParseError(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line, col int
	}{
		{"empty", "", 1, 1},
		{"whitespace", "  \n\t\n", 3, 1},
		{"line comment", "// nothing here yet\n", 2, 1},
		{"block comment", "/* { gateway: {} } */", 1, 22},
		{"bom only", "\uFEFF", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := ParseConfig("clawdbot.json", []byte(tt.in), nil)
			if snap.Valid || snap.Config != nil || snap.Parsed != nil {
				t.Fatalf("valid=%v config=%v parsed=%v: want an invalid snapshot with neither", snap.Valid, snap.Config, snap.Parsed)
			}
			if len(snap.Issues) != 1 {
				t.Fatalf("issues = %v, want one", snap.Issues)
			}
			is := snap.Issues[0]
			if is.Path != "" || !strings.HasPrefix(is.Message, "JSON5 parse failed: ") || is.Line != tt.line || is.Column != tt.col {
				t.Errorf("issue = %+v, want path \"\", a 'JSON5 parse failed: ' message at %d:%d", is, tt.line, tt.col)
			}

			// Loading the file: exists, invalid, LoadConfig refuses it.
			path := filepath.Join(t.TempDir(), "clawdbot.json")
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Load(path)
			if err != nil || !s.Exists || s.Valid {
				t.Fatalf("Load: exists=%v valid=%v err=%v", s.Exists, s.Valid, err)
			}
			if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "JSON5 parse failed") {
				t.Errorf("LoadConfig err = %v, want the parse failure", err)
			}
			// A patch never replaces it either (the user's comments stay).
			if err := PatchFile(path, nil, map[string]any{"gateway": map[string]any{"port": 1}}); err == nil {
				t.Errorf("PatchFile on an empty config succeeded")
			}
			if b, _ := os.ReadFile(path); string(b) != tt.in {
				t.Errorf("file changed: %q", b)
			}
		})
	}
}
