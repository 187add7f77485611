package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// models set edits agents.defaults.model.primary and keeps the user's
// JSON5; models status and list show the result and which keys are
// present, never a key.
func TestModelsCommands(t *testing.T) {
	home := t.TempDir()
	cfgPath := filepath.Join(home, "c.json5")
	orig := `{
  // my models
  models: { providers: { fake: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-secret-value', api: 'openai-completions',
    models: [ { id: 'fake-model', name: 'Fake Model', contextWindow: 128000 } ] } } },
  agents: { defaults: { model: { fallbacks: ['fake/fake-model'] }, models: { 'fake/fake-model': { alias: 'fast' } } } },
}
`
	if err := os.WriteFile(cfgPath, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CLAWDBOT_CONFIG_PATH": cfgPath, "CLAWDBOT_STATE_DIR": filepath.Join(home, "state"), "OPENAI_API_KEY": "sk-openai-secret"}
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(home, vars)
		return Main(args, env), out.String(), errb.String()
	}

	code, out, errb := run("models", "status")
	if code != ExitOK || !strings.Contains(out, "Default       : anthropic/claude-opus-4-5") || !strings.Contains(out, "Fallbacks (1) : fake/fake-model") ||
		!strings.Contains(out, "- anthropic: missing (set ANTHROPIC_API_KEY") || !strings.Contains(out, "- openai: key present (env:OPENAI_API_KEY)") ||
		!strings.Contains(out, "- fake: key present (config)") || !strings.Contains(out, "fast -> fake/fake-model") {
		t.Errorf("status %d:\n%s\n%s", code, out, errb)
	}
	if strings.Contains(out+errb, "secret") {
		t.Errorf("status printed a key:\n%s%s", out, errb)
	}

	code, out, errb = run("models", "set", "fast")
	if code != ExitOK || !strings.Contains(out, "Default model: fake/fake-model") {
		t.Fatalf("set %d: %s %s", code, out, errb)
	}
	b, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(b), "// my models") || !strings.Contains(string(b), `primary: "fake/fake-model"`) && !strings.Contains(string(b), `"primary": "fake/fake-model"`) && !strings.Contains(string(b), `primary: 'fake/fake-model'`) {
		t.Errorf("config after set:\n%s", b)
	}

	code, out, _ = run("models", "list")
	if code != ExitOK || !strings.Contains(out, "fake/fake-model") || !strings.Contains(out, "default,fallback#1,alias:fast") ||
		!strings.Contains(out, "128k") {
		t.Errorf("list %d:\n%s", code, out)
	}
	code, out, _ = run("models", "list", "--json")
	if code != ExitOK || !strings.Contains(out, `"key": "fake/fake-model"`) || !strings.Contains(out, `"available": true`) {
		t.Errorf("list --json %d:\n%s", code, out)
	}

	if code, _, errb = run("models", "set"); code != ExitUsage || !strings.Contains(errb, "models set needs a model") {
		t.Errorf("set without a model: %d %s", code, errb)
	}
}
