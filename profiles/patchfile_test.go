package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPatchFile(t *testing.T) {
	patch := map[string]any{"gateway": map[string]any{"auth": map[string]any{"token": "t1"}}}
	tests := []struct {
		name    string
		before  string // "" = no file
		want    string // substring of the file after
		wantErr string
	}{
		{name: "missing file starts from {}", want: `"token": "t1"`},
		{name: "keeps the other keys and the user's style", before: "{gateway: {port: 1234}, logging: {level: 'info'}}", want: `{gateway: {port: 1234, auth: {token: 't1'}}, logging: {level: 'info'}}`},
		{name: "keeps comments", before: "{\n  // mine\n  gateway: {port: 1234},\n}\n", want: "{\n  // mine\n  gateway: {port: 1234, auth: {token: \"t1\"}},\n}\n"},
		{name: "broken file is refused, not replaced", before: "{gateway: {port: ", wantErr: "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clawdbot.json")
			if tt.before != "" {
				if err := os.WriteFile(path, []byte(tt.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := PatchFile(path, func(string) string { return "" }, patch)
			after, _ := os.ReadFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if string(after) != tt.before {
					t.Fatalf("file changed on error: %q", after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(after), tt.want) {
				t.Fatalf("file after patch:\n%s", after)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func TestNewGatewayToken(t *testing.T) {
	a, err := NewGatewayToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewGatewayToken()
	if len(a) != 2*GatewayTokenBytes || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("tokens %q %q: want two different %d-char lowercase hex strings", a, b, 2*GatewayTokenBytes)
	}
}
