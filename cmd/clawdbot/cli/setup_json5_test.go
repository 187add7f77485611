package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// setup splices what it adds into the user's JSON5 and keeps everything
// else byte for byte; an empty or comment-only file is filled, its comments
// kept. The previous file is the .bak.
func TestSetupKeepsTheUsersJSON5(t *testing.T) {
	tests := []struct {
		name, before string
		want         *regexp.Regexp
	}{
		{
			name:   "hand-written file",
			before: "// mine\n{\n  gateway: {\n    mode: 'remote', // a laptop\n    port: 20000,\n  },\n  models: {providers: {x: {}}}, /* later */\n}\n",
			want: regexp.MustCompile(`^// mine\n\{\n  gateway: \{\n    mode: 'remote', // a laptop\n    port: 20000,\n    auth: \{\n      mode: 'token',\n      token: '[0-9a-f]{64}',\n    \},\n  \},\n` +
				`  models: \{providers: \{x: \{\}\}\}, /\* later \*/\n  agents: \{\n    defaults: \{\n      workspace: '[^']+',\n    \},\n  \},\n\}\n$`),
		},
		{
			name:   "comment-only file",
			before: "// fill me in\n",
			want:   regexp.MustCompile(`^// fill me in\n\{\n  "gateway": \{\n    "mode": "local",\n    "bind": "loopback",\n    "auth": \{\n      "mode": "token",\n      "token": "[0-9a-f]{64}"\n    \}\n  \},\n  "agents": \{`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			cfg := filepath.Join(home, ".clawdbot", "clawdbot.json")
			os.MkdirAll(filepath.Dir(cfg), 0o700)
			os.WriteFile(cfg, []byte(tt.before), 0o600)
			env, out, errb := testEnv(home, nil)
			if code := Main([]string{"setup"}, env); code != ExitOK {
				t.Fatalf("exit %d:\n%s\n%s", code, out, errb)
			}
			b, _ := os.ReadFile(cfg)
			if !tt.want.Match(b) {
				t.Errorf("config after setup:\n%s", b)
			}
			if bak, _ := os.ReadFile(cfg + ".bak"); string(bak) != tt.before {
				t.Errorf(".bak = %q", bak)
			}
			if !strings.Contains(out.String(), "previous version: "+cfg+".bak") {
				t.Errorf("stdout does not name the .bak:\n%s", out)
			}
		})
	}
}
