package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The gateway's exit codes are what its supervisor acts on: 78 means "do not
// restart" (RestartPreventExitStatus=78), so every configuration that can
// never start must exit 78, and a bad flag is a usage error (2), not 78.
func TestGatewayExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		config string // written to ~/.clawdbot/clawdbot.json when set
		args   []string
		vars   map[string]string
		code   int
		stderr string
	}{
		{name: "port out of range", args: []string{"--port", "70000", "--allow-unconfigured"}, code: ExitUsage, stderr: "invalid --port 70000 (use 1-65535"},
		{name: "port not a number", args: []string{"--port", "abc", "--allow-unconfigured"}, code: ExitUsage, stderr: `invalid argument "abc" for "--port"`},
		{name: "port zero", args: []string{"--port", "0", "--allow-unconfigured"}, code: ExitUsage, stderr: "invalid --port 0 (use 1-65535"},
		{name: "port negative", args: []string{"--port=-1", "--allow-unconfigured"}, code: ExitUsage, stderr: "invalid --port -1"},
		{name: "bad --auth", args: []string{"--auth", "none", "--allow-unconfigured"}, code: ExitUsage, stderr: `invalid --auth "none"`},
		{name: "password mode without password", args: []string{"--auth", "password", "--allow-unconfigured"}, code: ExitConfig, stderr: "no password is set"},
		{name: "token mode without token", config: `{gateway: {mode: "local", auth: {mode: "token"}}}`, code: ExitConfig, stderr: "no token is set"},
		{name: "password mode in config without password", config: `{gateway: {mode: "local", auth: {mode: "password"}}}`, code: ExitConfig, stderr: "no password is set"},
		{name: "port from env out of range is config", args: []string{"--allow-unconfigured"}, vars: map[string]string{"CLAWDBOT_GATEWAY_PORT": "70000"}, code: ExitConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.config != "" {
				dir := filepath.Join(home, ".clawdbot")
				os.MkdirAll(dir, 0o700)
				if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env, out, errb := testEnv(home, tt.vars)
			code := Main(append([]string{"gateway"}, tt.args...), env)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			if !strings.Contains(errb.String(), tt.stderr) || !strings.HasPrefix(errb.String(), "error: ") {
				t.Errorf("stderr %q: want an error: line containing %q", errb, tt.stderr)
			}
		})
	}
}
