package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// Under --json every command reports its errors on stdout in one shape,
// {"ok":false,"error":{"code","message","fix"}}, so a script reads stdout
// alone; stderr stays empty. (The service actions' runtime failures keep
// the original's action shape, {"ok":false,"action",...,"error":"..."},
// which the macOS app reads; their usage errors use this shape.)
func TestJSONErrorsHaveOneShape(t *testing.T) {
	down := callClosedPort(t)
	f := newStatusFixture(t)
	f.serve(t, f.port)
	up := strconv.Itoa(f.port)
	badProfile := map[string]string{"CLAWDBOT_PROFILE": "a/b"}
	downEnv := map[string]string{"CLAWDBOT_GATEWAY_PORT": down}
	tests := []struct {
		name string
		args []string
		vars map[string]string
		exit int
		code string // the error code, "" for any
		typ  string // "type" (logs only)
	}{
		{"gateway call, gateway down", []string{"gateway", "call", "health", "--json"}, downEnv, ExitFailure, CodeUnreachable, ""},
		{"gateway call, method error", []string{"gateway", "call", "no.such.method", "--json", "--token", statusToken, "--url", "ws://127.0.0.1:" + up}, nil, ExitFailure, "INVALID_REQUEST", ""},
		{"gateway call, wrong token", []string{"gateway", "call", "health", "--json", "--token", "wrong-token-0123456789", "--url", "ws://127.0.0.1:" + up}, nil, ExitFailure, CodeRefused, ""},
		{"gateway call, missing method", []string{"gateway", "call", "--json"}, nil, ExitUsage, CodeUsage, ""},
		{"gateway call, bad params", []string{"gateway", "call", "health", "--params", "{", "--json"}, nil, ExitUsage, CodeUsage, ""},
		{"health, gateway down", []string{"health", "--json"}, downEnv, ExitFailure, CodeUnreachable, ""},
		{"health, unknown flag", []string{"health", "--json", "--bogus"}, nil, ExitUsage, CodeUsage, ""},
		{"health, unknown flag before --json", []string{"health", "--bogus", "--json"}, nil, ExitUsage, CodeUsage, ""},
		{"gateway health, gateway down", []string{"gateway", "health", "--json"}, downEnv, ExitFailure, CodeUnreachable, ""},
		{"logs, gateway down", []string{"logs", "--json"}, downEnv, ExitFailure, CodeUnreachable, "error"},
		{"logs, bad limit", []string{"logs", "--json", "--limit", "0"}, nil, ExitUsage, CodeUsage, "error"},
		{"status, bad profile", []string{"status", "--json"}, badProfile, ExitFailure, CodeFailed, ""},
		{"gateway status, bad profile", []string{"gateway", "status", "--json"}, badProfile, ExitFailure, CodeFailed, ""},
		{"doctor, bad profile", []string{"doctor", "--json"}, badProfile, ExitFailure, CodeFailed, ""},
		{"setup, bad profile", []string{"setup", "--json"}, badProfile, ExitFailure, CodeFailed, ""},
		{"config validate, bad profile", []string{"config", "validate", "--json"}, badProfile, ExitFailure, CodeFailed, ""},
		{"version, extra argument", []string{"version", "--json", "x"}, nil, ExitUsage, CodeUsage, ""},
		{"gateway install, port 0", []string{"gateway", "install", "--json", "--port", "0"}, nil, ExitUsage, CodeUsage, ""},
		{"gateway start, unknown flag", []string{"gateway", "start", "--json", "--bogus"}, nil, ExitUsage, CodeUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out, errb := callTestEnv(t, tt.vars)
			code := Main(tt.args, env)
			if code != tt.exit {
				t.Errorf("exit %d, want %d", code, tt.exit)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr %q, want nothing under --json", errb)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("stdout is %d lines, want one JSON object:\n%s", len(lines), out)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			want := map[string]bool{"ok": true, "error": true}
			if tt.typ != "" {
				want["type"] = true
				if got["type"] != tt.typ {
					t.Errorf("type = %v, want %q", got["type"], tt.typ)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("unexpected key %q in %s", k, lines[0])
				}
			}
			if got["ok"] != false {
				t.Errorf("ok = %v, want false", got["ok"])
			}
			e, _ := got["error"].(map[string]any)
			if len(e) != 3 {
				t.Fatalf("error = %v, want exactly code, message, fix", got["error"])
			}
			for _, k := range []string{"code", "message", "fix"} {
				if _, ok := e[k].(string); !ok {
					t.Errorf("error.%s is %v, want a string", k, e[k])
				}
			}
			if tt.code != "" && e["code"] != tt.code {
				t.Errorf("error.code = %v, want %q (%v)", e["code"], tt.code, e["message"])
			}
			if e["message"] == "" {
				t.Errorf("empty error.message")
			}
		})
	}
}
