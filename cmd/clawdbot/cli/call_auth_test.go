package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplicitCredentialIsChecked runs `gateway call` against a real
// gateway on 127.0.0.1:0. Once the CLI holds a device token, an explicit
// --token or --password must still be sent and checked (a wrong one fails
// like any auth error), while the ambient credentials (config, env) keep
// deferring to the stored device token as the original does.
func TestExplicitCredentialIsChecked(t *testing.T) {
	g := startTestGateway(t, "right", "")
	url := g.url

	vars := map[string]string{}
	env, out, errb := callTestEnv(t, vars)
	call := func(args ...string) (int, string) {
		t.Helper()
		out.Reset()
		errb.Reset()
		code := Main(append([]string{"gateway", "call", "health", "--url", url, "--timeout", "5000"}, args...), env)
		return code, errb.String()
	}

	if code, stderr := call("--token", "right"); code != ExitOK {
		t.Fatalf("right --token: exit %d: %s", code, stderr)
	}
	cache := filepath.Join(env.Home, ".clawdbot", "identity", "device-auth.json")
	if b, err := os.ReadFile(cache); err != nil || !strings.Contains(string(b), `"token"`) {
		t.Fatalf("no device token cached after the first call: %v %s", err, b)
	}

	const mismatch = "error: Gateway call failed: gateway closed (1008): unauthorized: gateway token mismatch"
	const missing = "error: Gateway call failed: gateway closed (1008): unauthorized: gateway token missing"
	tests := []struct {
		name   string
		args   []string
		env    string // CLAWDBOT_GATEWAY_TOKEN
		code   int
		stderr string // prefix
	}{
		{"wrong --token", []string{"--token", "wrong"}, "", ExitFailure, mismatch},
		// Token mode ignores a password; what matters is that the stored
		// device token is not slipped in behind the explicit credential.
		{"--password alone", []string{"--password", "pw"}, "", ExitFailure, missing},
		{"right --token", []string{"--token", "right"}, "", ExitOK, ""},
		// The failed explicit calls did not use the stored token, so it
		// is still there and still lets the CLI in.
		{"stored device token", nil, "", ExitOK, ""},
		{"wrong env token defers to the device token", nil, "wrong", ExitOK, ""},
		{"wrong --token beats the env", []string{"--token", "wrong"}, "right", ExitFailure, mismatch},
	}
	for _, tc := range tests {
		vars["CLAWDBOT_GATEWAY_TOKEN"] = tc.env
		code, stderr := call(tc.args...)
		if code != tc.code || !strings.HasPrefix(stderr, tc.stderr) {
			t.Errorf("%s: exit %d stderr %q, want %d and %q…", tc.name, code, stderr, tc.code, tc.stderr)
		}
	}
}
