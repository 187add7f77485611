package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/clawdbot/clawdbot/gateway/httpapi"
	"github.com/clawdbot/clawdbot/gateway/models"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// These tests run the whole path a client tool takes: the official
// openai-go client → our handler → the real agent runner → the real model
// providers (gateway/models) → a fake upstream (gateway/models/llmtest; a
// fake because no real model can be reached offline) and back.

// peerScript answers as the fake upstream of the peer captures
// (testdata/peer/README.md): "CLIENTTOOL" in the last user message (not
// the follow-up carrying a tool's result) calls the client's get_weather
// tool; a last tool message gets "All good after tool."; anything else
// "Hello from the fake model.".
func peerScript(r llmtest.Request) llmtest.Response {
	last := r.LastUserText()
	switch role := r.LastRole(); {
	case role == "tool" || role == "function_call_output" || strings.Contains(last, `"tool_use_id"`):
		return llmtest.Response{Text: []string{"All", " good", " after", " tool."}, Usage: &llmtest.Usage{Input: 11, Output: 4}}
	case strings.Contains(last, "CLIENTTOOL") && !strings.Contains(last, "Tool:"):
		return llmtest.Response{Text: []string{"Let me", " check."}, Usage: &llmtest.Usage{Input: 11, Output: 2},
			ToolCalls: []llmtest.ToolCall{{ID: "call_fake_2", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	}
	return llmtest.DefaultResponse
}

// newUpstreamEnv is newEnv whose model is the provider of api at a fake
// upstream, configured as the peer captures configure the original.
func newUpstreamEnv(t testing.TB, api string) (*env, *llmtest.Server) {
	var up *llmtest.Server
	if api == models.APIAnthropicMessages {
		up = llmtest.NewAnthropic(t, llmtest.Script{Func: peerScript})
	} else {
		up = llmtest.NewOpenAI(t, llmtest.Script{Func: peerScript})
	}
	cfg := profiles.Config{
		Models: profiles.ModelsConfig{Providers: map[string]profiles.ModelProviderConfig{
			"fake": {BaseURL: up.URL, APIKey: "sk-fake", API: api, Models: []profiles.ModelDefinition{{ID: "fake-model", Name: "Fake"}}}}},
		Agents: profiles.AgentsConfig{Defaults: profiles.AgentDefaults{Model: &profiles.AgentModelConfig{Primary: "fake/fake-model"}}},
	}
	e := newEnv(t, nil)
	e.swapModel(models.New(models.Options{Config: func() profiles.Config { return cfg }, StateDir: t.TempDir(),
		Getenv: func(string) string { return "" }}))
	return e, up
}

var weatherParams = map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}

// upstreamTools are the names of the tools of an upstream request, in the
// shapes of the three APIs.
func upstreamTools(r llmtest.Request) []string {
	var names []string
	tools, _ := r.JSON["tools"].([]any)
	for _, t := range tools {
		m, _ := t.(map[string]any)
		if fn, ok := m["function"].(map[string]any); ok {
			m = fn
		}
		if n, ok := m["name"].(string); ok {
			names = append(names, n)
		}
	}
	return names
}

// upstreamMaxTokens is the answer cap of an upstream request in whichever
// field its API uses.
func upstreamMaxTokens(r llmtest.Request) any {
	for _, k := range []string{"max_completion_tokens", "max_output_tokens", "max_tokens"} {
		if v, ok := r.JSON[k]; ok {
			return v
		}
	}
	return nil
}

// A client tool offered through /v1/chat/completions reaches the model;
// the model's call of it comes back as tool_calls with finish_reason
// tool_calls, without the gateway running anything; the follow-up with
// the tool's result completes; max_tokens reaches the upstream request.
func TestOpenAIClientChatToolCall(t *testing.T) {
	e, up := newUpstreamEnv(t, models.APIOpenAICompletions)
	c := client(e, testToken)
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather",
		Description: openai.String("Current weather of a city"), Parameters: weatherParams})
	params := openai.ChatCompletionNewParams{Model: "clawdbot:main", User: openai.String("tools-user"),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("CLIENTTOOL weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weather}, MaxTokens: openai.Int(50)}

	res, err := c.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("choice %+v", ch)
	}
	call := ch.Message.ToolCalls[0]
	if call.ID != "call_fake_2" || call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` || ch.Message.Content != "Let me check." {
		t.Fatalf("call %+v content %q", call, ch.Message.Content)
	}
	reqs := up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream requests: the turn must stop at the client's tool call", len(reqs))
	}
	if got := upstreamTools(reqs[0]); len(got) != 1 || got[0] != "get_weather" {
		t.Fatalf("upstream tools %v", got)
	}
	if got := upstreamMaxTokens(reqs[0]); got != float64(50) {
		t.Fatalf("upstream max tokens %v", got)
	}

	// The follow-up carries the tool's result; the same user keeps the
	// session, whose transcript now holds the call and its pending result.
	params.Messages = append(params.Messages, ch.Message.ToParam(), openai.ToolMessage("22C and sunny", call.ID))
	res, err = c.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if ch := res.Choices[0]; ch.FinishReason != "stop" || ch.Message.Content != fakeText || len(ch.Message.ToolCalls) != 0 {
		t.Fatalf("follow-up choice %+v", ch)
	}
	reqs = up.Requests()
	follow := reqs[len(reqs)-1]
	if last := follow.LastUserText(); !strings.Contains(last, "Tool:get_weather: 22C and sunny") {
		t.Fatalf("follow-up user text %q", last)
	}
	msgs, _ := follow.JSON["messages"].([]any)
	var roles []string
	for _, m := range msgs {
		roles = append(roles, fmt.Sprint(m.(map[string]any)["role"]))
	}
	if strings.Join(roles, ",") != "system,user,assistant,tool,user" || !strings.Contains(string(follow.Body), "Tool execution delegated to client") {
		t.Fatalf("follow-up upstream roles %v", roles)
	}

	// Streamed, the call arrives as a tool_calls delta.
	params.Messages = params.Messages[:1]
	params.User = openai.String("tools-stream")
	stream := c.Chat.Completions.NewStreaming(t.Context(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if ch := acc.Choices[0]; ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != "get_weather" ||
		ch.Message.ToolCalls[0].ID != "call_fake_2" || ch.Message.Content != "Let me check." {
		t.Fatalf("accumulated %+v", ch)
	}
}

// The same through /v1/responses with the flat tool shape openai-go sends:
// a function_call output item, then the function_call_output follow-up.
func TestOpenAIClientResponsesToolCall(t *testing.T) {
	e, up := newUpstreamEnv(t, models.APIOpenAICompletions)
	c := client(e, testToken)
	params := responses.ResponseNewParams{Model: "clawdbot:main",
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("CLIENTTOOL weather in Paris?")},
		Tools:           []responses.ToolUnionParam{responses.ToolParamOfFunction("get_weather", weatherParams, false)},
		MaxOutputTokens: openai.Int(50)}
	res, err := c.Responses.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	var call responses.ResponseOutputItemUnion
	for _, it := range res.Output {
		if it.Type == "function_call" {
			call = it
		}
	}
	if res.Status != "incomplete" || call.CallID != "call_fake_2" || call.Name != "get_weather" || call.Arguments.OfString != `{"city":"Paris"}` || res.OutputText() != "Let me check." {
		t.Fatalf("status %s output %s", res.Status, res.RawJSON())
	}
	if reqs := up.Requests(); len(reqs) != 1 || upstreamMaxTokens(reqs[0]) != float64(50) {
		t.Fatalf("%d upstream requests, max tokens %v", len(reqs), upstreamMaxTokens(reqs[0]))
	}

	out := responses.ResponseInputItemParamOfFunctionCallOutput("22C and sunny")
	out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
	params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("CLIENTTOOL weather in Paris?", responses.EasyInputMessageRoleUser),
		responses.ResponseInputItemParamOfFunctionCall(call.Arguments.OfString, call.CallID, call.Name),
		out,
	}}
	res, err = c.Responses.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "completed" || res.OutputText() != fakeText {
		t.Fatalf("follow-up %s", res.RawJSON())
	}
	reqs := up.Requests()
	if last := reqs[len(reqs)-1].LastUserText(); !strings.Contains(last, "Tool:call_fake_2: 22C and sunny") {
		t.Fatalf("follow-up user text %q", last)
	}

	stream := c.Responses.NewStreaming(t.Context(), responses.ResponseNewParams{Model: "clawdbot:main",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("CLIENTTOOL weather in Paris?")},
		Tools: params.Tools})
	var done responses.Response
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "response.completed" {
			done = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if done.Status != "incomplete" || len(done.Output) != 2 || done.Output[1].Type != "function_call" || done.Output[1].CallID != "call_fake_2" {
		t.Fatalf("streamed %s", done.RawJSON())
	}
}

// Every provider API carries the client's tools and answer cap to its
// upstream, and every one's tool call ends the turn.
func TestClientToolsReachEveryProvider(t *testing.T) {
	for _, api := range []string{models.APIOpenAICompletions, models.APIOpenAIResponses, models.APIAnthropicMessages} {
		t.Run(api, func(t *testing.T) {
			e, up := newUpstreamEnv(t, api)
			body := `{"model":"clawdbot","input":"CLIENTTOOL weather in Paris?","max_output_tokens":50,
				"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
			status, b := post(t, e, httpapi.PathResponses, testToken, body)
			if status != 200 || !strings.Contains(b, `"type":"function_call"`) || !strings.Contains(b, `"name":"get_weather"`) ||
				!strings.Contains(b, `"arguments":"{\"city\":\"Paris\"}"`) {
				t.Fatalf("%d %s", status, b)
			}
			reqs := up.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d upstream requests", len(reqs))
			}
			if got := upstreamTools(reqs[0]); len(got) != 1 || got[0] != "get_weather" {
				t.Fatalf("upstream tools %v in %s", got, reqs[0].Body)
			}
			if got := upstreamMaxTokens(reqs[0]); got != float64(50) {
				t.Fatalf("upstream max tokens %v", got)
			}
		})
	}
}

// Client tools are bounded and checked before any turn runs.
func TestClientToolBounds(t *testing.T) {
	e := newEnv(t, nil)
	tool := func(name, params string) string {
		return `{"type":"function","function":{"name":"` + name + `","parameters":` + params + `}}`
	}
	many := make([]string, httpapi.MaxClientTools+1)
	for i := range many {
		many[i] = tool(fmt.Sprintf("t%d", i), `{}`)
	}
	big := `{"type":"object","description":"` + strings.Repeat("x", httpapi.MaxToolSchemaBytes) + `"}`
	for _, tc := range []struct {
		name, path, tools, extra, want string
	}{
		{"too many", httpapi.PathChatCompletions, strings.Join(many, ","), "", "over the limit of 128"},
		{"bad name", httpapi.PathChatCompletions, tool("get weather", `{}`), "", "must be 1 to 64 letters"},
		{"long name", httpapi.PathResponses, tool(strings.Repeat("n", 65), `{}`), "", "must be 1 to 64 letters"},
		{"schema too big", httpapi.PathResponses, tool("f", big), "", "is over the limit of 65536"},
		{"schema not an object", httpapi.PathChatCompletions, tool("f", `[1]`), "", "expected object, received array"},
		{"twice", httpapi.PathChatCompletions, tool("f", `{}`) + "," + tool("f", `{}`), "", `is offered twice`},
		{"unknown choice", httpapi.PathChatCompletions, tool("f", `{}`), `,"tool_choice":{"type":"function","function":{"name":"g"}}`, "unknown tool: g"},
		{"max_tokens 0", httpapi.PathChatCompletions, tool("f", `{}`), `,"max_tokens":0`, "max_tokens: Invalid input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"clawdbot","tools":[` + tc.tools + `]` + tc.extra
			if tc.path == httpapi.PathChatCompletions {
				body += `,"messages":[{"role":"user","content":"hi"}]}`
			} else {
				body += `,"input":"hi"}`
			}
			status, b := post(t, e, tc.path, testToken, body)
			if status != 400 || !strings.Contains(b, tc.want) {
				t.Fatalf("%d %s, want 400 with %q", status, b, tc.want)
			}
			if n := len(e.model.requests); n != 0 {
				t.Fatalf("%d model calls for a refused request", n)
			}
		})
	}
}

func post(t testing.TB, e *env, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
