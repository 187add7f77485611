package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// chatRequest is the part of a Chat Completions body this endpoint reads;
// other fields (temperature, tools, …) are accepted and ignored, as in
// the original.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Stream   bool          `json:"stream"`
	User     string        `json:"user"`
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
	for _, m := range msgs {
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
			if n := strings.TrimSpace(m.Name); n != "" {
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
		Role    string `json:"role"`
		Content string `json:"content"`
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
	chunkChoice struct {
		Index        int        `json:"index"`
		Delta        chunkDelta `json:"delta"`
		FinishReason *string    `json:"finish_reason"`
	}
	chunkDelta struct {
		Role    string `json:"role,omitempty"`
		Content string `json:"content,omitempty"`
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
	agentID, key, ok := h.target(w, r, model, req.User, "openai")
	if !ok {
		return
	}
	message, extra := chatPrompt(req.Messages)
	if message == "" {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "missing_user_message", "Missing user message in `messages`.")
		return
	}
	id := "chatcmpl_" + h.d.NewID()
	created := h.d.Now().Unix()
	turn := Turn{RunID: id, AgentID: agentID, SessionKey: key, Message: message, ExtraSystemPrompt: extra, Channel: "webchat"}
	// The run outlives the request: a client that goes away does not
	// abort it (package doc).
	ctx := context.WithoutCancel(r.Context())
	if !req.Stream {
		out := h.d.Agent.Run(ctx, turn)
		if out.Err != "" {
			writeAPIError(w, http.StatusInternalServerError, typeAPI, "agent_error", out.Err)
			return
		}
		writeJSON(w, http.StatusOK, chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
			Choices: []chatChoice{{Message: chatOutputMsg{Role: "assistant", Content: joinTexts(out.Texts)}, FinishReason: "stop"}},
			Usage:   toChatUsage(out.Usage)})
		return
	}

	s := startSSE(w)
	chunk := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: make([]chunkChoice, 1)}
	roleSent, sawDelta := false, false
	send := func(content string) {
		if !roleSent {
			roleSent = true
			chunk.Choices[0] = chunkChoice{Delta: chunkDelta{Role: "assistant"}}
			s.event("", chunk)
		}
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
	if !sawDelta {
		// A model that did not stream still answers (the original's
		// stream is empty then).
		send(joinTexts(out.Texts))
	}
	stop := "stop"
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
