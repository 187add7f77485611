package models

import (
	"context"
	"encoding/json"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// anthropicMessages speaks anthropic-messages through anthropic-sdk-go:
// streaming text, thinking blocks with their signatures, tool_use blocks,
// and usage with the cache tokens.
type anthropicMessages struct {
	sp     spec
	client anthropic.MessageService
}

func newAnthropic(sp spec) *anthropicMessages {
	// The SDK's environment defaults (ANTHROPIC_API_KEY, profiles,
	// ANTHROPIC_BASE_URL) are skipped: the resolver already chose the key
	// and the base URL from the owner's config.
	opts := []aoption.RequestOption{aoption.WithoutEnvironmentDefaults(), aoption.WithBaseURL(sp.baseURL), aoption.WithMaxRetries(0)}
	if sp.client != nil {
		opts = append(opts, aoption.WithHTTPClient(sp.client))
	}
	if sp.apiKey != "" {
		if sp.authHeader {
			opts = append(opts, aoption.WithHeader("authorization", "Bearer "+sp.apiKey))
		} else {
			// Anthropic's own header, as the original's SDK sends it;
			// authHeader:true asks for a Bearer token instead.
			opts = append(opts, aoption.WithHeader("x-api-key", sp.apiKey))
		}
	}
	for k, v := range sp.headers {
		opts = append(opts, aoption.WithHeader(k, v))
	}
	// The messages service alone, not anthropic.NewClient: the client
	// would link every service of the API (beta, files, skills, ...) into
	// the binary.
	return &anthropicMessages{sp: sp, client: anthropic.NewMessageService(opts...)}
}

// thinkingBudget is the token budget of each thinking level.
func thinkingBudget(level string) int64 {
	switch level {
	case llm.ThinkingMinimal:
		return 1024
	case llm.ThinkingLow:
		return 2048
	case llm.ThinkingMedium:
		return 8192
	case llm.ThinkingHigh, llm.ThinkingXHigh:
		return 16384
	}
	return 0
}

func (p *anthropicMessages) params(req llm.Request) anthropic.MessageNewParams {
	model := req.Model
	if model == "" {
		model = p.sp.ref.Model
	}
	maxTokens := int64(req.MaxTokens)
	if maxTokens == 0 {
		maxTokens = int64(p.sp.maxTokens)
	}
	params := anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: maxTokens}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	for _, m := range req.Messages {
		var blocks []anthropic.ContentBlockParamUnion
		for _, c := range m.Content {
			switch c.Type {
			case llm.ContentText:
				if c.Text != "" {
					blocks = append(blocks, anthropic.NewTextBlock(c.Text))
				}
			case llm.ContentImage:
				blocks = append(blocks, anthropic.NewImageBlockBase64(c.MimeType, c.Data))
			case llm.ContentThinking:
				// A thinking block goes back only with its signature;
				// without one the API refuses it, so it is left out.
				if c.ThinkingSignature != "" && m.Role == llm.RoleAssistant {
					blocks = append(blocks, anthropic.NewThinkingBlock(c.ThinkingSignature, c.Thinking))
				}
			case llm.ContentToolCall:
				args := c.Arguments
				if len(args) == 0 {
					args = json.RawMessage("{}")
				}
				blocks = append(blocks, anthropic.NewToolUseBlock(c.ID, args, c.Name))
			}
		}
		switch m.Role {
		case llm.RoleUser:
			if len(blocks) > 0 {
				params.Messages = append(params.Messages, anthropic.NewUserMessage(blocks...))
			}
		case llm.RoleAssistant:
			if len(blocks) > 0 {
				params.Messages = append(params.Messages, anthropic.NewAssistantMessage(blocks...))
			}
		case llm.RoleToolResult:
			params.Messages = append(params.Messages, anthropic.NewUserMessage(
				anthropic.NewToolResultBlock(m.ToolCallID, m.PlainText(), m.IsError)))
		}
	}
	for _, t := range req.Tools {
		var schema struct {
			Properties any      `json:"properties"`
			Required   []string `json:"required"`
		}
		_ = json.Unmarshal(t.Parameters, &schema)
		tp := anthropic.ToolParam{Name: t.Name, InputSchema: anthropic.ToolInputSchemaParam{Properties: schema.Properties, Required: schema.Required}}
		if t.Description != "" {
			tp.Description = anthropic.String(t.Description)
		}
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &tp})
	}
	if b := thinkingBudget(req.Thinking); b > 0 && p.sp.reasoning {
		params.Thinking = anthropic.ThinkingConfigParamOfEnabled(b)
		if params.MaxTokens <= b {
			params.MaxTokens = b + 1024
		}
	}
	// This SDK version's MessageNewParams has no temperature field, so
	// req.Temperature is not sent on this API.
	return params
}

// Stream implements llm.Provider.
func (p *anthropicMessages) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	params := p.params(req)
	st := p.client.NewStreaming(ctx, params)
	defer st.Close()
	b := newBuilder(p.sp, string(params.Model))
	type block struct {
		typ, id, name, args string
		idx                 int // in b.msg.Content, for thinking
	}
	blocks := map[int64]*block{}
	stop := ""
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "message_start":
			u := ev.Message.Usage
			b.usage.Input, b.usage.CacheRead, b.usage.CacheWrite = u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens
			b.usage.Output = u.OutputTokens
		case "content_block_start":
			cb := ev.ContentBlock
			bl := &block{typ: cb.Type, id: cb.ID, name: cb.Name, idx: -1}
			blocks[ev.Index] = bl
			if cb.Type == "text" {
				b.textIdx = -1 // each text block of the answer is its own content block
			}
			if cb.Type == "thinking" {
				b.thinkIdx = -1
			}
		case "content_block_delta":
			bl := blocks[ev.Index]
			if bl == nil {
				continue
			}
			switch ev.Delta.Type {
			case "text_delta":
				b.text(ev.Delta.Text, emit)
			case "thinking_delta":
				b.thinking(ev.Delta.Thinking, emit)
				bl.idx = b.thinkIdx
			case "signature_delta":
				if bl.idx < 0 {
					b.thinkIdx = b.open(llm.ContentThinking)
					bl.idx = b.thinkIdx
				}
				b.msg.Content[bl.idx].ThinkingSignature += ev.Delta.Signature
			case "input_json_delta":
				bl.args += ev.Delta.PartialJSON
			}
		case "content_block_stop":
			if bl := blocks[ev.Index]; bl != nil && bl.typ == "tool_use" {
				b.toolCall(bl.id, bl.name, bl.args, emit)
			}
		case "message_delta":
			if ev.Delta.StopReason != "" {
				stop = string(ev.Delta.StopReason)
			}
			if ev.Usage.OutputTokens > 0 {
				b.usage.Output = ev.Usage.OutputTokens
			}
			if ev.Usage.InputTokens > 0 {
				b.usage.Input = ev.Usage.InputTokens
			}
		}
	}
	if err := st.Err(); err != nil {
		return b.failed(), mapErr(ctx, p.sp.ref, err)
	}
	if stop == "" {
		return b.failed(), &llm.Error{Kind: llm.KindServer, Provider: p.sp.ref.Provider, Model: p.sp.ref.Model,
			Message: "the model's stream ended before its answer was complete"}
	}
	switch stop {
	case "end_turn", "stop_sequence", "pause_turn":
		b.msg.StopReason = llm.StopStop
	case "tool_use":
		b.msg.StopReason = llm.StopToolUse
	case "max_tokens", "model_context_window_exceeded":
		b.msg.StopReason = llm.StopLength
	default:
		b.msg.StopReason = llm.StopError
		b.msg.ErrorMessage = "stop_reason " + stop
	}
	return b.done(), nil
}
