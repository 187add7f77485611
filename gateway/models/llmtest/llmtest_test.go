package llmtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
)

// The official SDKs read the fakes' streams as they read the real
// services': text, tool calls and usage come out whole.
func TestOpenAIFakeThroughSDK(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Text: []string{"Checking", " status."}, ToolCalls: []llmtest.ToolCall{{ID: "call_1", Name: "session_status", Arguments: `{"x":1}`}}},
		{Status: 429, RetryAfter: "1"},
	}})
	c := openai.NewClient(option.WithBaseURL(up.URL), option.WithAPIKey("sk-fake"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:         "fake-model",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("TOOLCALL please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	st := c.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	ch := acc.Choices[0]
	if ch.Message.Content != "Checking status." || ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 ||
		ch.Message.ToolCalls[0].Function.Arguments != `{"x":1}` || acc.Usage.PromptTokens != 11 || acc.Usage.CompletionTokens != 6 {
		t.Errorf("accumulated %+v usage %+v", ch, acc.Usage)
	}
	reqs := up.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/chat/completions" || reqs[0].Header.Get("Authorization") != "Bearer sk-fake" ||
		reqs[0].JSON["stream"] != true || reqs[0].LastUserText() != "TOOLCALL please" {
		t.Errorf("recorded %+v", reqs)
	}

	st = c.Chat.Completions.NewStreaming(context.Background(), params)
	for st.Next() {
	}
	var apiErr *openai.Error
	if !errors.As(st.Err(), &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != "1" {
		t.Errorf("429: %v", st.Err())
	}
}

func TestResponsesFakeThroughSDK(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Text: []string{"Hi", " there"}, ToolCalls: []llmtest.ToolCall{{ID: "call_9", Name: "read", Arguments: `{"p":"a"}`}}},
	}})
	c := openai.NewClient(option.WithBaseURL(up.URL), option.WithAPIKey("sk-fake"), option.WithMaxRetries(0))
	st := c.Responses.NewStreaming(context.Background(), responsesParams())
	var text, args string
	var done bool
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text += ev.Delta
		case "response.function_call_arguments.delta":
			args += ev.Delta
		case "response.completed":
			done = ev.Response.Usage.InputTokens == 11
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Hi there" || args != `{"p":"a"}` || !done {
		t.Errorf("text %q args %q completed %v", text, args, done)
	}
}

func TestAnthropicFakeThroughSDK(t *testing.T) {
	up := llmtest.NewAnthropic(t, llmtest.Script{Responses: []llmtest.Response{{
		Thinking: []string{"hmm", "mm"}, Signature: "sig-1", Text: []string{"Hel", "lo"},
		ToolCalls: []llmtest.ToolCall{{ID: "toolu_1", Name: "read", Arguments: `{"p":"a"}`}},
		Usage:     &llmtest.Usage{Input: 5, Output: 7, CacheRead: 3, CacheWrite: 2},
	}}})
	c := anthropic.NewClient(aoption.WithBaseURL(up.URL), aoption.WithAPIKey("sk-ant"), aoption.WithMaxRetries(0))
	st := c.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model: "claude-x", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	})
	var msg anthropic.Message
	for st.Next() {
		if err := msg.Accumulate(st.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 3 || msg.Content[0].Thinking != "hmmmm" || msg.Content[0].Signature != "sig-1" ||
		msg.Content[1].Text != "Hello" || string(msg.Content[2].Input) != `{"p":"a"}` || msg.StopReason != "tool_use" ||
		msg.Usage.CacheReadInputTokens != 3 || msg.Usage.OutputTokens != 7 {
		t.Errorf("accumulated %+v", msg)
	}
	r := up.Requests()[0]
	if r.Path != "/v1/messages" || r.Header.Get("Authorization") != "Bearer sk-ant" || r.LastUserText() != "hi" {
		t.Errorf("recorded %+v", r)
	}
}

// A scripted disconnect ends the body without its terminating event, and
// a hanging stream ends when the client cancels.
func TestDisconnectAndHang(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Text: llmtest.Words(5), DisconnectAfter: 2},
		{Text: []string{"a"}, Hang: true},
	}})
	c := openai.NewClient(option.WithBaseURL(up.URL), option.WithAPIKey("k"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}}
	st := c.Chat.Completions.NewStreaming(context.Background(), params)
	n := 0
	for st.Next() {
		n++
	}
	if n != 3 || st.Err() == nil {
		t.Errorf("disconnect: %d chunks, err %v", n, st.Err())
	}

	ctx, cancel := context.WithCancel(context.Background())
	st = c.Chat.Completions.NewStreaming(ctx, params)
	got := make(chan error, 1)
	go func() {
		for st.Next() {
			if st.Current().Choices[0].Delta.Content == "a" {
				cancel()
			}
		}
		got <- st.Err()
	}()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("hang: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hanging stream did not end on cancel")
	}
	_ = http.StatusOK
}

func responsesParams() responses.ResponseNewParams {
	return responses.ResponseNewParams{Model: "fake-model", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}
}
