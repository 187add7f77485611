package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

func client(e *env, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(e.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

// The official client reaches the agent through /v1/chat/completions.
func TestOpenAIClientChatCompletions(t *testing.T) {
	e := newEnv(t, nil)
	c := client(e, testToken)
	params := openai.ChatCompletionNewParams{Model: "clawdbot:main", User: openai.String("alice"),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hi there")}}

	res, err := c.Chat.Completions.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 1 || res.Choices[0].Message.Content != fakeText || res.Choices[0].FinishReason != "stop" {
		t.Fatalf("completion %+v", res.Choices)
	}
	if res.Model != "clawdbot:main" || !strings.HasPrefix(res.ID, "chatcmpl_") || res.Usage.PromptTokens != 11 || res.Usage.CompletionTokens != 6 || res.Usage.TotalTokens != 17 {
		t.Fatalf("id %q model %q usage %+v", res.ID, res.Model, res.Usage)
	}
	if got := e.model.lastRequest(); !strings.Contains(got.System, "be brief") || lastUser(got) != "hi there" {
		t.Fatalf("model saw system %q user %q", got.System[max(0, len(got.System)-40):], lastUser(got))
	}
	if tr := e.sessions.transcript("agent:main:openai-user:alice"); len(tr) != 2 {
		t.Fatalf("transcript of the user's session: %d entries", len(tr))
	}

	stream := c.Chat.Completions.NewStreaming(t.Context(), params, option.WithJSONSet("stream_options", map[string]any{"include_usage": true}))
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != fakeText || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("accumulated %+v", acc.Choices)
	}
	if acc.Usage.TotalTokens != 17 || chunks != 1+len(fakeDeltas)+2 {
		t.Fatalf("usage %+v after %d chunks", acc.Usage, chunks)
	}
}

// The official client reaches the agent through /v1/responses.
func TestOpenAIClientResponses(t *testing.T) {
	e := newEnv(t, nil)
	c := client(e, testToken)
	params := responses.ResponseNewParams{Model: "clawdbot:main", Instructions: openai.String("answer in English"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi there")}}
	res, err := c.Responses.New(t.Context(), params)
	if err != nil {
		t.Fatal(err)
	}
	if res.OutputText() != fakeText || res.Status != "completed" || res.Usage.InputTokens != 11 || res.Usage.TotalTokens != 17 {
		t.Fatalf("response %q status %q usage %+v", res.OutputText(), res.Status, res.Usage)
	}
	if !strings.Contains(e.model.lastRequest().System, "answer in English") {
		t.Fatal("instructions did not reach the system prompt")
	}

	items := responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("hello", responses.EasyInputMessageRoleUser)}}
	stream := c.Responses.NewStreaming(t.Context(), responses.ResponseNewParams{Model: "agent:work", Input: items})
	var types []string
	var text strings.Builder
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		if len(types) == 0 || types[len(types)-1] != ev.Type {
			types = append(types, ev.Type)
		}
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta " +
		"response.output_text.done response.content_part.done response.output_item.done response.completed"
	if strings.Join(types, " ") != want {
		t.Fatalf("events %v", types)
	}
	if text.String() != fakeText || final.OutputText() != fakeText || final.Usage.TotalTokens != 17 {
		t.Fatalf("streamed %q final %q usage %+v", text.String(), final.OutputText(), final.Usage)
	}
	found := false
	for _, k := range e.sessions.keys() {
		found = found || strings.HasPrefix(k, "agent:work:openresponses:")
	}
	if !found {
		t.Fatalf("no stateless session of agent work in %v", e.sessions.keys())
	}
}

// A wrong key is a 401 in the OpenAI error shape, for the official client.
func TestOpenAIClientWrongKey(t *testing.T) {
	e := newEnv(t, nil)
	c := client(e, "wrong")
	_, err := c.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "clawdbot",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Type != "unauthorized" || apiErr.Message != "Unauthorized" {
		t.Fatalf("err %v", err)
	}
}

// A run that fails mid-stream ends the client's stream with an error.
func TestOpenAIClientStreamError(t *testing.T) {
	e := newEnv(t, nil)
	c := client(e, testToken)
	stream := c.Chat.Completions.NewStreaming(t.Context(), openai.ChatCompletionNewParams{Model: "clawdbot",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("FAIL now")}})
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "Unknown model") {
		t.Fatalf("stream err %v", err)
	}
	rs := c.Responses.NewStreaming(t.Context(), responses.ResponseNewParams{Model: "clawdbot",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("FAIL now")}})
	var last string
	for rs.Next() {
		last = rs.Current().Type
	}
	if err := rs.Err(); err != nil || last != "response.failed" {
		t.Fatalf("responses stream ended with %q, err %v", last, err)
	}
}
