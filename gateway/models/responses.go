package models

import (
	"context"
	"encoding/json"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// openAIResponses speaks openai-responses (the Responses API) through
// openai-go: the system prompt as instructions, the conversation as input
// items, function calls and their outputs as their own items.
type openAIResponses struct {
	sp     spec
	client responses.ResponseService
}

func newOpenAIResponses(sp spec) *openAIResponses {
	return &openAIResponses{sp: sp, client: responses.NewResponseService(openAIOptions(sp)...)}
}

func (p *openAIResponses) params(req llm.Request) responses.ResponseNewParams {
	model := req.Model
	if model == "" {
		model = p.sp.ref.Model
	}
	var items responses.ResponseInputParam
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleUser:
			var parts responses.ResponseInputMessageContentListParam
			for _, c := range m.Content {
				switch c.Type {
				case llm.ContentText:
					parts = append(parts, responses.ResponseInputContentParamOfInputText(c.Text))
				case llm.ContentImage:
					img := responses.ResponseInputContentParamOfInputImage(responses.ResponseInputImageDetailAuto)
					img.OfInputImage.ImageURL = openai.String("data:" + c.MimeType + ";base64," + c.Data)
					parts = append(parts, img)
				}
			}
			if len(parts) > 0 {
				items = append(items, responses.ResponseInputItemParamOfMessage(parts, responses.EasyInputMessageRoleUser))
			}
		case llm.RoleAssistant:
			if t := m.PlainText(); t != "" {
				items = append(items, responses.ResponseInputItemParamOfMessage(t, responses.EasyInputMessageRoleAssistant))
			}
			for _, c := range m.ToolCalls() {
				args := string(c.Arguments)
				if args == "" {
					args = "{}"
				}
				items = append(items, responses.ResponseInputItemParamOfFunctionCall(args, c.ID, c.Name))
			}
		case llm.RoleToolResult:
			out := responses.ResponseInputItemParamOfFunctionCallOutput(m.PlainText())
			out.OfFunctionCallOutput.CallID = openai.String(m.ToolCallID)
			items = append(items, out)
		}
	}
	params := responses.ResponseNewParams{
		Model: shared.ResponsesModel(model),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: items},
		Store: openai.Bool(false),
	}
	if req.System != "" {
		params.Instructions = openai.String(req.System)
	}
	maxTokens := int64(req.MaxTokens)
	if maxTokens == 0 {
		maxTokens = int64(p.sp.maxTokens)
	}
	if maxTokens > 0 {
		params.MaxOutputTokens = openai.Int(maxTokens)
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if e := reasoningEffort(req.Thinking); e != "" && p.sp.reasoning {
		params.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffort(e)}
	}
	for _, t := range req.Tools {
		var schema map[string]any
		_ = json.Unmarshal(t.Parameters, &schema)
		tool := responses.ToolParamOfFunction(t.Name, schema, false)
		if t.Description != "" {
			tool.OfFunction.Description = openai.String(t.Description)
		}
		params.Tools = append(params.Tools, tool)
	}
	return params
}

// Stream implements llm.Provider.
func (p *openAIResponses) Stream(ctx context.Context, req llm.Request, emit func(llm.Event)) (llm.Message, error) {
	params := p.params(req)
	st := p.client.NewStreaming(ctx, params)
	defer st.Close()
	b := newBuilder(p.sp, string(params.Model))
	status := ""
	errMsg := ""
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "response.output_text.delta":
			b.text(ev.Delta, emit)
		case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
			b.thinking(ev.Delta, emit)
		case "response.output_item.done":
			if it := ev.Item; it.Type == "function_call" {
				b.toolCall(it.CallID, it.Name, it.Arguments.OfString, emit)
			}
		case "response.completed", "response.incomplete", "response.failed":
			r := ev.Response
			status = string(r.Status)
			if r.Error.Message != "" {
				errMsg = r.Error.Message
			}
			cached := r.Usage.InputTokensDetails.CachedTokens
			b.usage.Input, b.usage.CacheRead, b.usage.Output = r.Usage.InputTokens-cached, cached, r.Usage.OutputTokens
		case "error":
			errMsg = ev.Message
			status = "failed"
		}
	}
	if err := st.Err(); err != nil {
		return b.failed(), mapErr(ctx, p.sp.ref, err)
	}
	switch status {
	case "completed":
		b.msg.StopReason = llm.StopStop
		if len(b.msg.ToolCalls()) > 0 {
			b.msg.StopReason = llm.StopToolUse
		}
	case "incomplete":
		b.msg.StopReason = llm.StopLength
	case "failed":
		return b.failed(), &llm.Error{Kind: llm.KindServer, Provider: p.sp.ref.Provider, Model: p.sp.ref.Model, Message: errMsg}
	default:
		return b.failed(), &llm.Error{Kind: llm.KindServer, Provider: p.sp.ref.Provider, Model: p.sp.ref.Model,
			Message: "the model's stream ended before its answer was complete"}
	}
	return b.done(), nil
}
