package profiles

import (
	"strings"
	"testing"
)

// The models.* and agents.defaults.model keys of doc/messaging.md §4.2 are
// typed: the original's shapes load, a typo below them is flagged, and a
// plain-string agents.defaults.model fails with the original's message.
func TestModelsConfigKeys(t *testing.T) {
	good := `{
  models: { mode: "merge", providers: { fake: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-fake", api: "openai-completions",
    authHeader: true, headers: { "X-A": "b" },
    models: [ { id: "fake-model", name: "Fake", reasoning: false, input: ["text"], cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 },
                contextWindow: 128000, maxTokens: 4096, compat: { supportsStore: false, maxTokensField: "max_tokens" } } ] } } },
  agents: { defaults: { model: { primary: "fake/fake-model", fallbacks: ["anthropic/claude-opus-4-5"] },
                        models: { "fake/fake-model": { alias: "fast" } } } },
}`
	s := ParseConfig("c.json5", []byte(good), envMap(nil))
	if !s.Valid || len(s.Warnings) != 0 {
		t.Fatalf("issues %v warnings %v", s.Issues, s.Warnings)
	}
	p := s.Config.Models.Providers["fake"]
	if p.BaseURL == "" || len(p.Models) != 1 || p.Models[0].ContextWindow != 128000 || *p.AuthHeader != true ||
		s.Config.Agents.Defaults.Model.Primary != "fake/fake-model" || s.Config.Agents.Defaults.Models["fake/fake-model"].Alias != "fast" {
		t.Errorf("typed view %+v %+v", s.Config.Models, s.Config.Agents.Defaults)
	}

	typo := `{ models: { providers: { fake: { baseUrl: "x", apikey: "k", models: [ { id: "m", name: "m", contextWindw: 1 } ] } } } }`
	s = ParseConfig("c.json5", []byte(typo), envMap(nil))
	var keys []string
	for _, w := range s.UnknownKeys() {
		keys = append(keys, w.Path)
	}
	if strings.Join(keys, ",") != "models.providers.fake.apikey,models.providers.fake.models[0].contextWindw" {
		t.Errorf("unknown keys %v", keys)
	}

	s = ParseConfig("c.json5", []byte(`{ agents: { defaults: { model: "anthropic/claude-opus-4-5" } } }`), envMap(nil))
	if s.Valid || len(s.Issues) != 1 || s.Issues[0].Path != "agents.defaults.model" ||
		s.Issues[0].Message != "Invalid input: expected object, received string" {
		t.Errorf("string model: %v", s.Issues)
	}
}
