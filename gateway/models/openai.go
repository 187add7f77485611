package models

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// openAIOptions are the openai-go request options for sp: its base URL,
// key (none for a keyless local server) and headers, with the SDK's own
// retries off because the chain retries. The services are built from them
// directly rather than through openai.NewClient, which would link every
// service of the API (files, audio, batches, ...) into the binary, and
// would start from the OPENAI_* environment, so a stray OPENAI_BASE_URL
// could redirect a configured provider.
func openAIOptions(sp spec) []option.RequestOption {
	opts := []option.RequestOption{option.WithBaseURL(sp.baseURL), option.WithMaxRetries(0)}
	if sp.client != nil {
		opts = append(opts, option.WithHTTPClient(sp.client))
	}
	if sp.apiKey != "" {
		opts = append(opts, option.WithAPIKey(sp.apiKey))
	} else {
		opts = append(opts, option.WithHeaderDel("authorization"))
	}
	for k, v := range sp.headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return opts
}

// openAICompletions speaks openai-completions (doc/messaging.md §4.2):
// OpenAI, OpenRouter, Ollama, vLLM, LM Studio, llama.cpp server.
type openAICompletions struct {
	sp     spec
	client openai.ChatCompletionService
}

func newOpenAICompletions(sp spec) *openAICompletions {
	return &openAICompletions{sp: sp, client: openai.NewChatCompletionService(openAIOptions(sp)...)}
}

// chatParams builds the body pi-ai sends: the system prompt as a system
// message, user content as parts, assistant history as text parts plus
// tool_calls, tool results as role "tool", stream_options.include_usage,
// store:false and max_completion_tokens.
func (p *openAICompletions) chatParams(req llm.Request) openai.ChatCompletionNewParams {
	model := req.Model
	if model == "" {
		model = p.sp.ref.Model
	}
	var msgs []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, openai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleUser:
			var parts []openai.ChatCompletionContentPartUnionParam
			for _, c := range m.Content {
				switch c.Type {
				case llm.ContentText:
					parts = append(parts, openai.TextContentPart(c.Text))
				case llm.ContentImage:
					parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{
						URL: "data:" + c.MimeType + ";base64," + c.Data}))
				}
			}
			msgs = append(msgs, openai.UserMessage(parts))
		case llm.RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			var parts []openai.ChatCompletionAssistantMessageParamContentArrayOfContentPartUnion
			for _, c := range m.Content {
				switch c.Type {
				case llm.ContentText:
					if c.Text != "" {
						parts = append(parts, openai.ChatCompletionAssistantMessageParamContentArrayOfContentPartUnion{
							OfText: &openai.ChatCompletionContentPartTextParam{Text: c.Text}})
					}
				case llm.ContentToolCall:
					args := string(c.Arguments)
					if args == "" {
						args = "{}"
					}
					a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
						OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: c.ID,
							Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: args}}})
				}
			}
			if len(parts) > 0 {
				a.Content.OfArrayOfContentParts = parts
			}
			if len(parts) == 0 && len(a.ToolCalls) == 0 {
				continue // an empty (e.g. errored) turn says nothing upstream
			}
			msgs = append(msgs, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case llm.RoleToolResult:
			msgs = append(msgs, openai.ToolMessage(m.PlainText(), m.ToolCallID))
		}
	}
	params := openai.ChatCompletionNewParams{
		Model:         model,
		Messages:      msgs,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if s := p.sp.compat.SupportsStore; s == nil || *s {
		params.Store = openai.Bool(false)
	}
	maxTokens := int64(req.MaxTokens)
	if maxTokens == 0 {
		maxTokens = int64(p.sp.maxTokens)
	}
	if maxTokens > 0 {
		if p.sp.compat.MaxTokensField == "max_tokens" {
			params.MaxTokens = openai.Int(maxTokens)
		} else {
			params.MaxCompletionTokens = openai.Int(maxTokens)
		}
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if e := reasoningEffort(req.Thinking); e != "" && p.sp.reasoning &&
		(p.sp.compat.SupportsReasoningEffort == nil || *p.sp.compat.SupportsReasoningEffort) {
		params.ReasoningEffort = shared.ReasoningEffort(e)
	}
	for _, t := range req.Tools {
		var schema map[string]any
		_ = json.Unmarshal(t.Parameters, &schema)
		fd := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fd.Description = openai.String(t.Description)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fd))
	}
	return params
}

func reasoningEffort(level string) string {
	switch level {
	case llm.ThinkingMinimal, llm.ThinkingLow:
		return "low"
	case llm.ThinkingMedium:
		return "medium"
	case llm.ThinkingHigh, llm.ThinkingXHigh:
		return "high"
	}
	return ""
}

// Stream implements llm.Provider.
func (p *openAICompletions) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	params := p.chatParams(req)
	st := p.client.NewStreaming(ctx, params)
	defer st.Close()
	b := newBuilder(p.sp, params.Model)
	type call struct{ id, name, args string }
	var calls []*call
	finish := ""
	for st.Next() {
		ch := st.Current()
		if ch.JSON.Usage.Valid() {
			cached := ch.Usage.PromptTokensDetails.CachedTokens
			b.usage.Input, b.usage.CacheRead, b.usage.Output = ch.Usage.PromptTokens-cached, cached, ch.Usage.CompletionTokens
		}
		if len(ch.Choices) == 0 {
			continue
		}
		c := ch.Choices[0]
		if r, ok := c.Delta.JSON.ExtraFields["reasoning_content"]; ok {
			var s string
			if json.Unmarshal([]byte(r.Raw()), &s) == nil && s != "" {
				b.thinking(s, emit)
			}
		}
		if c.Delta.Content != "" {
			b.text(c.Delta.Content, emit)
		}
		for _, tc := range c.Delta.ToolCalls {
			i := int(tc.Index)
			for len(calls) <= i {
				calls = append(calls, &call{})
			}
			if tc.ID != "" {
				calls[i].id = tc.ID
			}
			if tc.Function.Name != "" {
				calls[i].name = tc.Function.Name
			}
			calls[i].args += tc.Function.Arguments
		}
		if c.FinishReason != "" {
			finish = c.FinishReason
		}
	}
	if err := st.Err(); err != nil {
		return b.failed(), mapErr(ctx, p.sp.ref, err)
	}
	if finish == "" {
		return b.failed(), &llm.Error{Kind: llm.KindServer, Provider: p.sp.ref.Provider, Model: p.sp.ref.Model,
			Message: "the model's stream ended before its answer was complete"}
	}
	for _, c := range calls {
		b.toolCall(c.id, c.name, c.args, emit)
	}
	switch finish {
	case "stop":
		b.msg.StopReason = llm.StopStop
	case "tool_calls", "function_call":
		b.msg.StopReason = llm.StopToolUse
	case "length":
		b.msg.StopReason = llm.StopLength
	default:
		b.msg.StopReason = llm.StopError
		b.msg.ErrorMessage = "finish_reason " + finish
	}
	return b.done(), nil
}

// builder accumulates one assistant message from streamed pieces. Text
// and thinking grow in strings.Builders (bufs, parallel to msg.Content) so
// a long answer costs O(n), not a copy of the whole text per delta.
type builder struct {
	sp    spec
	msg   llm.Message
	usage llm.Usage
	bufs  []*strings.Builder
	// indices of the open thinking and text blocks (-1: none yet)
	thinkIdx, textIdx int
}

func newBuilder(sp spec, model string) *builder {
	return &builder{sp: sp, thinkIdx: -1, textIdx: -1, msg: llm.Message{Role: llm.RoleAssistant,
		API: sp.api, Provider: sp.ref.Provider, Model: model}}
}

// open appends a block of type typ and returns its index.
func (b *builder) open(typ string) int {
	b.msg.Content = append(b.msg.Content, llm.Content{Type: typ})
	for len(b.bufs) < len(b.msg.Content) {
		b.bufs = append(b.bufs, nil)
	}
	b.bufs[len(b.msg.Content)-1] = &strings.Builder{}
	return len(b.msg.Content) - 1
}

func (b *builder) text(s string, emit func(llm.Event)) {
	if b.textIdx < 0 {
		b.textIdx = b.open(llm.ContentText)
	}
	b.bufs[b.textIdx].WriteString(s)
	emit(llm.Event{Kind: llm.EventText, Delta: s})
}

func (b *builder) thinking(s string, emit func(llm.Event)) {
	if b.thinkIdx < 0 {
		b.thinkIdx = b.open(llm.ContentThinking)
	}
	b.bufs[b.thinkIdx].WriteString(s)
	emit(llm.Event{Kind: llm.EventThinking, Delta: s})
}

func (b *builder) toolCall(id, name, args string, emit func(llm.Event)) {
	args = strings.TrimSpace(args)
	if args == "" || !json.Valid([]byte(args)) {
		args = "{}"
	}
	c := llm.Content{Type: llm.ContentToolCall, ID: id, Name: name, Arguments: json.RawMessage(args)}
	b.msg.Content = append(b.msg.Content, c)
	emit(llm.Event{Kind: llm.EventToolCall, ToolCall: &c})
}

// done stamps usage, cost and time on the message.
func (b *builder) done() llm.Message {
	u := b.usage
	u.TotalTokens = u.Input + u.Output + u.CacheRead + u.CacheWrite
	cost := llm.Cost{}
	if c := b.sp.cost; c != nil {
		cost.Input = float64(u.Input) * c.Input / 1e6
		cost.Output = float64(u.Output) * c.Output / 1e6
		cost.CacheRead = float64(u.CacheRead) * c.CacheRead / 1e6
		cost.CacheWrite = float64(u.CacheWrite) * c.CacheWrite / 1e6
		cost.Total = cost.Input + cost.Output + cost.CacheRead + cost.CacheWrite
	}
	u.Cost = &cost
	b.msg.Usage = &u
	for i, buf := range b.bufs {
		if buf == nil {
			continue
		}
		if b.msg.Content[i].Type == llm.ContentThinking {
			b.msg.Content[i].Thinking = buf.String()
		} else {
			b.msg.Content[i].Text = buf.String()
		}
	}
	if b.msg.Content == nil {
		b.msg.Content = []llm.Content{}
	}
	b.msg.Timestamp = time.Now().UnixMilli()
	return b.msg
}

// failed is the partial message of a failed stream.
func (b *builder) failed() llm.Message {
	m := b.done()
	m.StopReason = llm.StopError
	return m
}

// mapErr turns an SDK or transport error into an *llm.Error.
func mapErr(ctx context.Context, ref llm.Ref, err error) *llm.Error {
	if ctx.Err() != nil {
		return ctxError(ctx, ref)
	}
	e := &llm.Error{Provider: ref.Provider, Model: ref.Model, Err: err}
	var oe *openai.Error
	var ae *anthropic.Error
	var ne net.Error
	switch {
	case errors.As(err, &oe):
		e.Status, e.Message = oe.StatusCode, oe.Message
		e.RetryAfter = headerRetryAfter(oe.Response)
	case errors.As(err, &ae):
		e.Status = ae.StatusCode
		var body struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal([]byte(ae.RawJSON()), &body) == nil {
			e.Message = body.Error.Message
		}
		e.RetryAfter = headerRetryAfter(ae.Response)
	case errors.As(err, &ne):
		e.Kind, e.Message = llm.KindNetwork, "cannot reach the model provider: "+err.Error()
		return e
	default:
		e.Kind, e.Message = llm.KindServer, "the model's stream broke off: "+err.Error()
		return e
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	e.Kind = classifyStatus(e.Status, e.Message)
	if e.Kind == llm.KindAuth {
		e.Fix = keyFix(ref.Provider)
	}
	return e
}

func headerRetryAfter(r *http.Response) time.Duration {
	if r == nil {
		return 0
	}
	if ms := r.Header.Get("Retry-After-Ms"); ms != "" {
		if d, err := time.ParseDuration(ms + "ms"); err == nil {
			return d
		}
	}
	return retryAfter(r.Header.Get("Retry-After"), time.Now())
}
