package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// chatRequest is the part of a Chat Completions body this endpoint reads;
// other fields (temperature, …) are accepted and ignored, as in the
// original. Tools, tool_choice and max_tokens are read here, which the
// original ignores (doc/messaging.md §6.4).
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Stream   bool          `json:"stream"`
	User     string        `json:"user"`
	// Tools are the client's function tools ({type:"function",
	// function:{name, description?, parameters?}}); ToolChoice narrows
	// them as in OpenResponses.
	Tools      json.RawMessage `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
	// MaxTokens (legacy) and MaxCompletionTokens cap the answer; the
	// newer field wins.
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	// StreamOptions.IncludeUsage adds OpenAI's separate usage chunk
	// (choices: []) after the stop chunk.
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Name    string          `json:"name"`
	Content json.RawMessage `json:"content"`
	// ToolCalls (assistant) and ToolCallID (tool) link a tool result to
	// the call it answers.
	ToolCalls []struct {
		ID       string `json:"id"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tool_calls"`
	ToolCallID string `json:"tool_call_id"`
}

// chatText is a message's text: a string, or the text of its parts
// ({type:"text"|"input_text", text} or {input_text}) joined by newlines.
func chatText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type      string  `json:"type"`
		Text      *string `json:"text"`
		InputText *string `json:"input_text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var out []string
	for _, p := range parts {
		switch {
		case (p.Type == "text" || p.Type == "input_text") && p.Text != nil && *p.Text != "":
			out = append(out, *p.Text)
		case p.InputText != nil && *p.InputText != "":
			out = append(out, *p.InputText)
		}
	}
	return strings.Join(out, "\n")
}

// chatPrompt is the original's buildAgentPrompt for Chat Completions:
// system and developer texts become the extra system prompt, the rest the
// message (with a history block for earlier turns).
func chatPrompt(msgs []chatMessage) (message, extra string) {
	var sys []string
	var entries []entry
	// callNames: tool call id → the function's name, so that a tool
	// result without a name is still labelled with its tool.
	callNames := map[string]string{}
	for _, m := range msgs {
		for _, c := range m.ToolCalls {
			if c.ID != "" {
				callNames[c.ID] = c.Function.Name
			}
		}
		role := strings.TrimSpace(m.Role)
		body := strings.TrimSpace(chatText(m.Content))
		if role == "" || body == "" {
			continue
		}
		if role == "system" || role == "developer" {
			sys = append(sys, body)
			continue
		}
		if role == "function" {
			role = "tool"
		}
		var sender string
		switch role {
		case "user":
			sender = "User"
		case "assistant":
			sender = "Assistant"
		case "tool":
			sender = "Tool"
			if n := strings.TrimSpace(cmpOr(m.Name, callNames[m.ToolCallID])); n != "" {
				sender = "Tool:" + n
			}
		default:
			continue
		}
		entries = append(entries, entry{role: role, sender: sender, body: body})
	}
	return buildPrompt(entries), strings.Join(sys, "\n\n")
}

// The Chat Completions response shapes, as typed structs so keys come out
// in OpenAI's order.
type (
	chatCompletion struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []chatChoice `json:"choices"`
		Usage   chatUsage    `json:"usage"`
	}
	chatChoice struct {
		Index        int           `json:"index"`
		Message      chatOutputMsg `json:"message"`
		FinishReason string        `json:"finish_reason"`
	}
	chatOutputMsg struct {
		Role string `json:"role"`
		// Content is null when the model only called tools.
		Content   *string        `json:"content"`
		ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
	}
	chatToolCall struct {
		// Index is set in stream chunks only.
		Index    *int             `json:"index,omitempty"`
		ID       string           `json:"id"`
		Type     string           `json:"type"`
		Function chatToolCallFunc `json:"function"`
	}
	chatToolCallFunc struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	chatUsage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		TotalTokens      int64 `json:"total_tokens"`
	}
	chatChunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []chunkChoice `json:"choices"`
		Usage   *chatUsage    `json:"usage,omitempty"`
	}
	// roleChunk is the first chunk: its choice has no finish_reason key
	// at all, as the original's.
	roleChunk struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []roleChoice `json:"choices"`
	}
	roleChoice struct {
		Index int        `json:"index"`
		Delta chunkDelta `json:"delta"`
	}
	chunkChoice struct {
		Index        int        `json:"index"`
		Delta        chunkDelta `json:"delta"`
		FinishReason *string    `json:"finish_reason"`
	}
	chunkDelta struct {
		Role      string         `json:"role,omitempty"`
		Content   string         `json:"content,omitempty"`
		ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
	}
)

// toChatUsage maps a run's usage to OpenAI's: prompt tokens include the
// cached ones, as OpenAI counts them.
func toChatUsage(u Usage) chatUsage {
	p := u.Input + u.CacheRead + u.CacheWrite
	t := u.Total
	if t == 0 {
		t = p + u.Output
	}
	return chatUsage{PromptTokens: p, CompletionTokens: u.Output, TotalTokens: t}
}

func (h *Handler) serveChat(w http.ResponseWriter, r *http.Request) {
	if !h.gate(w, r) {
		return
	}
	var req chatRequest
	if !readJSON(w, r, h.cfg.ChatMaxBodyBytes, &req) {
		return
	}
	model := req.Model
	if model == "" {
		model = "clawdbot"
	}
	tools, hint, maxTokens, err := chatTools(req)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "invalid_request", err.Error())
		return
	}
	agentID, key, ok := h.target(w, r, model, req.User, "openai")
	if !ok {
		return
	}
	message, extra := chatPrompt(req.Messages)
	if message == "" {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "missing_user_message", "Missing user message in `messages`.")
		return
	}
	if hint != "" {
		extra = strings.TrimPrefix(extra+"\n\n"+hint, "\n\n")
	}
	id := "chatcmpl_" + h.d.NewID()
	created := h.d.Now().Unix()
	turn := Turn{RunID: id, AgentID: agentID, SessionKey: key, Message: message, ExtraSystemPrompt: extra, Channel: "webchat",
		ClientTools: tools, MaxTokens: maxTokens}
	// The run outlives the request: a client that goes away does not
	// abort it (package doc).
	ctx := context.WithoutCancel(r.Context())
	if !req.Stream {
		out := h.d.Agent.Run(ctx, turn)
		if out.Err != "" {
			writeAPIError(w, http.StatusInternalServerError, typeAPI, "agent_error", out.Err)
			return
		}
		choice := chatChoice{Message: chatOutputMsg{Role: "assistant"}, FinishReason: "stop"}
		if len(out.ToolCalls) > 0 {
			choice.FinishReason = "tool_calls"
			choice.Message.ToolCalls = chatCalls(out.ToolCalls, false)
			if text := replyText(out.Texts); text != "" {
				choice.Message.Content = &text
			}
		} else {
			text := joinTexts(out.Texts)
			choice.Message.Content = &text
		}
		writeJSON(w, http.StatusOK, chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
			Choices: []chatChoice{choice}, Usage: toChatUsage(out.Usage)})
		return
	}

	s := startSSE(w)
	chunk := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: make([]chunkChoice, 1)}
	roleSent, sawDelta := false, false
	sendRole := func() {
		if !roleSent {
			roleSent = true
			s.event("", roleChunk{ID: id, Object: chunk.Object, Created: created, Model: model,
				Choices: []roleChoice{{Delta: chunkDelta{Role: "assistant"}}}})
		}
	}
	send := func(content string) {
		sendRole()
		chunk.Choices[0] = chunkChoice{Delta: chunkDelta{Content: content}}
		s.event("", chunk)
	}
	turn.OnDelta = func(d string) {
		if d == "" {
			return
		}
		sawDelta = true
		send(d)
	}
	out := h.d.Agent.Run(ctx, turn)
	if out.Err != "" {
		// OpenAI's stream error frame: clients (openai-go among them)
		// surface it as an error instead of a silent empty answer.
		s.event("", apiError{Error: apiErrorBody{Message: out.Err, Type: typeAPI, Code: "agent_error"}})
		s.done()
		return
	}
	stop := "stop"
	switch {
	case len(out.ToolCalls) > 0:
		sendRole()
		chunk.Choices[0] = chunkChoice{Delta: chunkDelta{ToolCalls: chatCalls(out.ToolCalls, true)}}
		s.event("", chunk)
		stop = "tool_calls"
	case !sawDelta:
		// A model that did not stream still answers (the original's
		// stream is empty then).
		send(joinTexts(out.Texts))
	}
	usage := toChatUsage(out.Usage)
	chunk.Choices[0] = chunkChoice{FinishReason: &stop}
	if req.StreamOptions.IncludeUsage {
		s.event("", chunk)
		chunk.Choices = []chunkChoice{}
		chunk.Usage = &usage
		s.event("", chunk)
	} else {
		chunk.Usage = &usage
		s.event("", chunk)
	}
	s.done()
}

// chatTools reads a Chat Completions body's client tools (bounded as in
// parseTools), tool_choice (the prompt hint it implies) and answer cap.
func chatTools(req chatRequest) (tools []llm.Tool, hint string, maxTokens int, err error) {
	if len(req.Tools) > 0 && string(req.Tools) != "null" {
		if tools, err = parseTools(req.Tools); err != nil {
			return nil, "", 0, err
		}
	}
	if tools, hint, err = applyToolChoice(tools, req.ToolChoice); err != nil {
		return nil, "", 0, err
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_completion_tokens", req.MaxCompletionTokens}, {"max_tokens", req.MaxTokens}} {
		if f.v == nil {
			continue
		}
		if *f.v <= 0 {
			return nil, "", 0, badRequest(f.name + ": Invalid input: expected a positive integer")
		}
		if maxTokens == 0 {
			maxTokens = *f.v
		}
	}
	return tools, hint, maxTokens, nil
}

// chatCalls are a turn's client tool calls in the Chat Completions shape
// (with their index in a stream chunk).
func chatCalls(calls []llm.Content, indexed bool) []chatToolCall {
	out := make([]chatToolCall, 0, len(calls))
	for i, c := range calls {
		args := string(c.Arguments)
		if args == "" {
			args = "{}"
		}
		tc := chatToolCall{ID: c.ID, Type: "function", Function: chatToolCallFunc{Name: c.Name, Arguments: args}}
		if indexed {
			tc.Index = &i
		}
		out = append(out, tc)
	}
	return out
}
