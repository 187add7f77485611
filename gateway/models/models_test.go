package models

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// fastRetry keeps the tests' backoffs short; the policy's shape is the
// same as DefaultRetry's.
var fastRetry = RetryPolicy{Retries: 3, Base: time.Millisecond, Max: 4 * time.Millisecond, MaxRetryAfter: 2 * time.Second}

func fakeProvider(url, api string, models ...string) profiles.ModelProviderConfig {
	pc := profiles.ModelProviderConfig{BaseURL: url, APIKey: "sk-fake", API: api}
	for _, m := range models {
		pc.Models = append(pc.Models, profiles.ModelDefinition{ID: m, Name: m, ContextWindow: 128000, MaxTokens: 4096})
	}
	return pc
}

func resolver(t *testing.T, cfg profiles.Config, env map[string]string) (*Resolver, *[]string) {
	t.Helper()
	var warns []string
	r := New(Options{Config: func() profiles.Config { return cfg }, StateDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }, Warn: func(w string) { warns = append(warns, w) }, Retry: fastRetry})
	return r, &warns
}

func primary(ref string, fallbacks ...string) profiles.AgentsConfig {
	return profiles.AgentsConfig{Defaults: profiles.AgentDefaults{Model: &profiles.AgentModelConfig{Primary: ref, Fallbacks: fallbacks}}}
}

func collect(t *testing.T, sel llm.Selection, req llm.Request) (llm.Message, string, error) {
	t.Helper()
	var text strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := sel.Chain.Stream(ctx, req, func(ev llm.Event) {
		if ev.Kind == llm.EventText {
			text.WriteString(ev.Delta)
		}
	})
	return msg, text.String(), err
}

var history = llm.Request{
	System: "You are a test.",
	Messages: []llm.Message{
		{Role: llm.RoleUser, Content: []llm.Content{llm.Text("TOOLCALL please")}},
		{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text("Checking."),
			{Type: llm.ContentToolCall, ID: "call_1", Name: "session_status", Arguments: json.RawMessage(`{}`)}}, StopReason: llm.StopToolUse},
		{Role: llm.RoleToolResult, ToolCallID: "call_1", ToolName: "session_status", Content: []llm.Content{llm.Text("ok")}},
	},
	Tools: []llm.Tool{{Name: "session_status", Description: "status", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
}

// openai-completions sends what pi-ai sends (doc/messaging.md §4.2) and
// maps the stream back: text, tool calls, usage, stop reasons.
func TestOpenAICompletions(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Text: []string{"All good", " after tool."}, Usage: &llmtest.Usage{Input: 20, Output: 5, CacheRead: 4}},
		{Text: []string{"Look"}, ToolCalls: []llmtest.ToolCall{{ID: "call_2", Name: "read", Arguments: `{"path":"a"}`}}},
		{Text: []string{"cut"}, StopReason: "length"},
	}})
	pc := fakeProvider(up.URL, APIOpenAICompletions, "fake-model")
	pc.Headers = map[string]string{"X-Custom": "yes"}
	pc.Models[0].Cost = &profiles.ModelCost{Input: 1e6, Output: 2e6}
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{"fake": pc}}, Agents: primary("fake/fake-model")}
	r, _ := resolver(t, cfg, nil)
	sel, err := r.Resolve("main", "")
	if err != nil {
		t.Fatal(err)
	}
	if sel.Primary.String() != "fake/fake-model" || sel.ContextWindow != 128000 || sel.MaxTokens != 4096 {
		t.Errorf("selection %+v", sel)
	}
	msg, text, err := collect(t, sel, history)
	if err != nil {
		t.Fatal(err)
	}
	if text != "All good after tool." || msg.PlainText() != text || msg.StopReason != llm.StopStop || msg.API != APIOpenAICompletions ||
		msg.Provider != "fake" || msg.Model != "fake-model" || msg.Usage.Input != 20 || msg.Usage.CacheRead != 4 || msg.Usage.Output != 5 ||
		msg.Usage.TotalTokens != 29 || msg.Usage.Cost.Total != 20+10 {
		t.Errorf("message %+v usage %+v", msg, msg.Usage)
	}
	got := up.Requests()[0]
	var body struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		Store         *bool  `json:"store"`
		MaxTokens     int    `json:"max_completion_tokens"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
		Messages []map[string]any `json:"messages"`
		Tools    []map[string]any `json:"tools"`
	}
	if err := got.Decode(&body); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Authorization") != "Bearer sk-fake" || got.Header.Get("X-Custom") != "yes" || body.Model != "fake-model" ||
		!body.Stream || body.Store == nil || *body.Store || body.MaxTokens != 4096 || !body.StreamOptions.IncludeUsage || len(body.Tools) != 1 {
		t.Errorf("request headers %v body %s", got.Header, got.Body)
	}
	roles := []string{}
	for _, m := range body.Messages {
		roles = append(roles, m["role"].(string))
	}
	if strings.Join(roles, ",") != "system,user,assistant,tool" {
		t.Errorf("roles %v", roles)
	}
	asst, _ := json.Marshal(body.Messages[2])
	if !strings.Contains(string(asst), `"content":[{"text":"Checking.","type":"text"}]`) || !strings.Contains(string(asst), `"tool_calls":[{"function":{"arguments":"{}","name":"session_status"},"id":"call_1","type":"function"}]`) {
		t.Errorf("assistant history %s", asst)
	}
	if body.Messages[3]["tool_call_id"] != "call_1" {
		t.Errorf("tool message %v", body.Messages[3])
	}

	var calls []llm.Content
	msg, err = sel.Chain.Stream(context.Background(), llm.Request{Messages: history.Messages[:1]}, func(ev llm.Event) {
		if ev.Kind == llm.EventToolCall {
			calls = append(calls, *ev.ToolCall)
		}
	})
	if err != nil || msg.StopReason != llm.StopToolUse || len(calls) != 1 || calls[0].ID != "call_2" || string(calls[0].Arguments) != `{"path":"a"}` ||
		len(msg.ToolCalls()) != 1 {
		t.Errorf("tool call: %v %+v %+v", err, msg, calls)
	}
	msg, _, err = collect(t, sel, llm.Request{Messages: history.Messages[:1]})
	if err != nil || msg.StopReason != llm.StopLength {
		t.Errorf("length: %v %+v", err, msg)
	}
}

func TestOpenAIResponses(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Text: []string{"Hi", " there"}, ToolCalls: []llmtest.ToolCall{{ID: "call_9", Name: "read", Arguments: `{"p":"a"}`}}},
	}})
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"openai": {BaseURL: up.URL}}}, Agents: primary("openai/gpt-5")}
	r, _ := resolver(t, cfg, map[string]string{"OPENAI_API_KEY": "sk-env"})
	sel, err := r.Resolve("main", "")
	if err != nil {
		t.Fatal(err)
	}
	msg, text, err := collect(t, sel, history)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Hi there" || msg.StopReason != llm.StopToolUse || len(msg.ToolCalls()) != 1 || msg.API != APIOpenAIResponses || msg.Usage.Input != 11 {
		t.Errorf("message %+v", msg)
	}
	got := up.Requests()[0]
	if got.Path != "/v1/responses" || got.Header.Get("Authorization") != "Bearer sk-env" || got.JSON["instructions"] != "You are a test." || got.JSON["store"] != false {
		t.Errorf("request %s %v", got.Body, got.Header)
	}
	if !strings.Contains(string(got.Body), `"type":"function_call_output"`) || !strings.Contains(string(got.Body), `"call_id":"call_1"`) {
		t.Errorf("input items %s", got.Body)
	}
}

func TestAnthropicMessages(t *testing.T) {
	up := llmtest.NewAnthropic(t, llmtest.Script{Responses: []llmtest.Response{{
		Thinking: []string{"hmm", "mm"}, Signature: "sig-1", Text: []string{"Hel", "lo"},
		ToolCalls: []llmtest.ToolCall{{ID: "toolu_1", Name: "read", Arguments: `{"p":"a"}`}},
		Usage:     &llmtest.Usage{Input: 5, Output: 7, CacheRead: 3, CacheWrite: 2},
	}}})
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"anthropic": {BaseURL: up.URL, Models: []profiles.ModelDefinition{{ID: "claude-opus-4-5", Name: "Opus", Reasoning: true}}}}}}
	r, _ := resolver(t, cfg, map[string]string{"ANTHROPIC_API_KEY": "sk-ant"})
	sel, err := r.Resolve("main", "")
	if err != nil {
		t.Fatal(err)
	}
	if sel.Primary.String() != "anthropic/claude-opus-4-5" || sel.ContextWindow != DefaultContextWindow {
		t.Errorf("default selection %+v", sel)
	}
	req := history
	req.Thinking = llm.ThinkingLow
	req.Messages = append([]llm.Message(nil), history.Messages...)
	req.Messages[1].Content = append([]llm.Content{{Type: llm.ContentThinking, Thinking: "earlier", ThinkingSignature: "sig-0"}}, req.Messages[1].Content...)
	var thinking string
	msg, err := sel.Chain.Stream(context.Background(), req, func(ev llm.Event) {
		if ev.Kind == llm.EventThinking {
			thinking += ev.Delta
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if thinking != "hmmmm" || len(msg.Content) != 3 || msg.Content[0].ThinkingSignature != "sig-1" || msg.Content[1].Text != "Hello" ||
		msg.Content[2].Name != "read" || msg.StopReason != llm.StopToolUse || msg.Usage.CacheRead != 3 || msg.Usage.CacheWrite != 2 || msg.Usage.Output != 7 {
		t.Errorf("message %+v usage %+v", msg, msg.Usage)
	}
	got := up.Requests()[0]
	if got.Header.Get("X-Api-Key") != "sk-ant" || got.Header.Get("Authorization") != "" || got.Path != "/v1/messages" {
		t.Errorf("headers %v", got.Header)
	}
	body := string(got.Body)
	for _, want := range []string{`"system":[{"text":"You are a test.","type":"text"}]`, `"signature":"sig-0"`, `"type":"tool_result"`, `"tool_use_id":"call_1"`, `"thinking":{"budget_tokens":2048,"type":"enabled"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
}

// authHeader:true sends the key as a Bearer token on anthropic-messages.
func TestAnthropicAuthHeader(t *testing.T) {
	up := llmtest.NewAnthropic(t, llmtest.Script{})
	yes := true
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"proxy": {BaseURL: up.URL, APIKey: "tok", API: APIAnthropicMessages, AuthHeader: &yes}}}, Agents: primary("proxy/m")}
	r, _ := resolver(t, cfg, nil)
	sel, err := r.Resolve("main", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, text, err := collect(t, sel, history); err != nil || text != "Hello from the fake model." {
		t.Fatalf("%q %v", text, err)
	}
	if h := up.Requests()[0].Header; h.Get("Authorization") != "Bearer tok" || h.Get("X-Api-Key") != "" {
		t.Errorf("headers %v", h)
	}
}

// The chain retries 5xx and 429 (honouring Retry-After), then falls over
// to the next candidate, and names every candidate tried when nothing
// worked.
func TestChainRetriesAndFallbacks(t *testing.T) {
	flaky := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Status: 500}, {Status: 429, RetryAfter: "0.05"}, llmtest.DefaultResponse}})
	dead := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Status: 503, ErrorMessage: "down"}}})
	authFail := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Status: 401, ErrorMessage: "bad key"}}})
	backup := llmtest.NewOpenAI(t, llmtest.Script{})
	providers := map[string]profiles.ModelProviderConfig{
		"flaky": fakeProvider(flaky.URL, APIOpenAICompletions), "dead": fakeProvider(dead.URL, APIOpenAICompletions),
		"auth": fakeProvider(authFail.URL, APIOpenAICompletions), "backup": fakeProvider(backup.URL, APIOpenAICompletions),
	}
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: providers}, Agents: primary("flaky/m", "backup/m")}
	r, _ := resolver(t, cfg, nil)
	sel, _ := r.Resolve("main", "")
	start := time.Now()
	msg, text, err := collect(t, sel, history)
	if err != nil || text != "Hello from the fake model." || msg.Provider != "flaky" || flaky.Count() != 3 || backup.Count() != 0 {
		t.Errorf("retry: %v %q %s, flaky got %d", err, text, msg.Provider, flaky.Count())
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("Retry-After not honoured: %v", time.Since(start))
	}

	cfg.Agents = primary("dead/m", "auth/m", "backup/m")
	r, _ = resolver(t, cfg, nil)
	sel, _ = r.Resolve("main", "")
	msg, _, err = collect(t, sel, history)
	if err != nil || msg.Provider != "backup" || dead.Count() != 4 || authFail.Count() != 1 {
		t.Errorf("fallback: %v %s dead %d auth %d", err, msg.Provider, dead.Count(), authFail.Count())
	}

	cfg.Agents = primary("auth/m", "dead/m", "nokey/m")
	r, _ = resolver(t, cfg, nil)
	sel, _ = r.Resolve("main", "")
	_, _, err = collect(t, sel, history)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindConfig || !strings.Contains(e.Error(), "(tried auth/m, dead/m, nokey/m)") {
		t.Errorf("all failed: %v", err)
	}
}

// A stream that already emitted text is not retried or fallen over (the
// client would see the text twice); the partial message comes back with
// the error. A stream that broke before any text is retried.
func TestChainNoDuplicateText(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Text: llmtest.Words(4), DisconnectAfter: 2}, llmtest.DefaultResponse}})
	backup := llmtest.NewOpenAI(t, llmtest.Script{})
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"up": fakeProvider(up.URL, APIOpenAICompletions), "backup": fakeProvider(backup.URL, APIOpenAICompletions)}}, Agents: primary("up/m", "backup/m")}
	r, _ := resolver(t, cfg, nil)
	sel, _ := r.Resolve("main", "")
	msg, text, err := collect(t, sel, history)
	if e := llm.AsError(err); err == nil || e.Kind != llm.KindServer || text != "w0 w1 " || msg.PlainText() != "w0 w1 " || up.Count() != 1 || backup.Count() != 0 {
		t.Errorf("partial: %v %q %+v", err, text, msg)
	}

	// Broken before any text: a 500 then a good answer is retried.
	early := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Status: 502}, llmtest.DefaultResponse}})
	cfg.Models.Providers["up"] = fakeProvider(early.URL, APIOpenAICompletions)
	r, _ = resolver(t, cfg, nil)
	sel, _ = r.Resolve("main", "")
	if _, text, err := collect(t, sel, history); err != nil || text != "Hello from the fake model." || early.Count() != 2 {
		t.Errorf("early failure: %v %q", err, text)
	}
}

// Abort and timeout end a hanging stream promptly with the right kind,
// and are never retried.
func TestChainAbortAndTimeout(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Text: []string{"a"}, Hang: true}}})
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"up": fakeProvider(up.URL, APIOpenAICompletions)}}, Agents: primary("up/m")}
	r, _ := resolver(t, cfg, nil)
	sel, _ := r.Resolve("main", "")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := sel.Chain.Stream(ctx, history, func(ev llm.Event) { cancel() })
	if e := llm.AsError(err); e.Kind != llm.KindAborted {
		t.Errorf("abort: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = sel.Chain.Stream(ctx, history, func(llm.Event) {})
	if e := llm.AsError(err); e.Kind != llm.KindTimeout || up.Count() != 2 {
		t.Errorf("timeout: %v after %d calls", err, up.Count())
	}
}

// Network failures are retried and reported as such.
func TestChainNetworkError(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{})
	url := up.URL
	up.Close()
	cfg := profiles.Config{Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"gone": fakeProvider(url, APIOpenAICompletions)}}, Agents: primary("gone/m")}
	r, _ := resolver(t, cfg, nil)
	sel, _ := r.Resolve("main", "")
	_, _, err := collect(t, sel, history)
	if e := llm.AsError(err); e.Kind != llm.KindNetwork {
		t.Errorf("network: %v (%s)", err, e.Kind)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	ap := AuthProfilesPath(dir, "work")
	if err := os.MkdirAll(filepath.Dir(ap), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ap, []byte(`{"version":1,"profiles":{"openrouter:default":{"type":"api_key","provider":"openrouter","key":"sk-or"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	agents := profiles.AgentsConfig{
		Defaults: profiles.AgentDefaults{Model: &profiles.AgentModelConfig{Primary: "z.ai/glm-4", Fallbacks: []string{"fast", "claude-x"}},
			Models: map[string]profiles.AgentModelEntry{"openrouter/fast-model": {Alias: "fast"}, "zai/glm-4": {}, "ollama/llama3": {}}},
		List: []json.RawMessage{json.RawMessage(`{"id":"work","model":"openrouter/other"}`), json.RawMessage(`{"id":"obj","model":{"primary":"ollama/llama3","fallbacks":[]}}`)},
	}
	cfg := profiles.Config{Agents: agents, Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
		"zai": {BaseURL: "https://zai.example/v1", APIKey: "ZAI_KEY"}}}}
	var warns []string
	r := New(Options{Config: func() profiles.Config { return cfg }, StateDir: dir, Retry: fastRetry,
		Getenv: func(k string) string { return map[string]string{"ZAI_KEY": "from-env", "ANTHROPIC_API_KEY": "a"}[k] },
		Warn:   func(w string) { warns = append(warns, w) }})
	for _, tc := range []struct {
		agent, override, primary, fallbacks string
	}{
		{"main", "", "zai/glm-4", "openrouter/fast-model,anthropic/claude-x"},
		{"main", "ollama/llama3", "ollama/llama3", "openrouter/fast-model,anthropic/claude-x"},
		{"main", "openai/not-allowed", "zai/glm-4", "openrouter/fast-model,anthropic/claude-x"},
		{"main", "fast", "openrouter/fast-model", "anthropic/claude-x"},
		{"work", "", "openrouter/other", "openrouter/fast-model,anthropic/claude-x"},
		{"obj", "", "ollama/llama3", ""},
	} {
		sel, err := r.Resolve(tc.agent, tc.override)
		if err != nil {
			t.Errorf("%s %s: %v", tc.agent, tc.override, err)
			continue
		}
		var fb []string
		for _, f := range sel.Fallbacks {
			fb = append(fb, f.String())
		}
		if sel.Primary.String() != tc.primary || strings.Join(fb, ",") != tc.fallbacks {
			t.Errorf("%s %q: %s [%s], want %s [%s]", tc.agent, tc.override, sel.Primary, strings.Join(fb, ","), tc.primary, tc.fallbacks)
		}
	}
	if !strings.Contains(strings.Join(warns, "\n"), `model "claude-x" has no provider; using anthropic/claude-x`) ||
		!strings.Contains(strings.Join(warns, "\n"), "openai/not-allowed is not in agents.defaults.models") {
		t.Errorf("warnings %q", warns)
	}
	c, err := r.candidate(cfg, "main", llm.Ref{Provider: "zai", Model: "glm-4"})
	if err != nil || c.spec.apiKey != "from-env" || c.spec.api != APIOpenAICompletions {
		t.Errorf("zai key: %v %+v", err, c.spec)
	}
	c, err = r.candidate(cfg, "work", llm.Ref{Provider: "openrouter", Model: "x"})
	if err != nil || c.spec.apiKey != "sk-or" || c.spec.baseURL != "https://openrouter.ai/api/v1" {
		t.Errorf("auth profile key: %v %+v", err, c.spec)
	}
	if ok, src := r.KeyStatus("work", "openrouter"); !ok || src != SourceAuthProfile {
		t.Errorf("key status %v %s", ok, src)
	}
}

// With no key anywhere the error names what to set, at once.
func TestMissingKey(t *testing.T) {
	for _, tc := range []struct{ model, want string }{
		{"", "ANTHROPIC_API_KEY"},
		{"openai/gpt-5", "OPENAI_API_KEY"},
		{"openrouter/x", "OPENROUTER_API_KEY"},
		{"nosuch/x", "add models.providers.nosuch"},
	} {
		cfg := profiles.Config{}
		if tc.model != "" {
			cfg.Agents = primary(tc.model)
		}
		r, _ := resolver(t, cfg, nil)
		_, err := r.Resolve("main", "")
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.KindConfig || !strings.Contains(e.Error(), tc.want) {
			t.Errorf("%s: %v", tc.model, err)
		}
	}
	r, _ := resolver(t, profiles.Config{Agents: primary("ollama/llama3")}, nil)
	sel, err := r.Resolve("main", "")
	if err != nil || sel.Primary.String() != "ollama/llama3" {
		t.Errorf("ollama needs no key: %v", err)
	}
}
