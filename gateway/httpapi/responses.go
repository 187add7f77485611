package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clawdbot/clawdbot/gateway/llm"
)

// responsesKeys are the body keys /v1/responses accepts (the original's
// strict schema): the first group is used, the second accepted and
// ignored.
var responsesKeys = []string{"model", "input", "instructions", "tools", "tool_choice", "stream", "max_output_tokens", "max_tool_calls", "user",
	"temperature", "top_p", "metadata", "store", "previous_response_id", "reasoning", "truncation"}

// responsesRequest is a validated /v1/responses body.
type responsesRequest struct {
	Model        string
	Input        json.RawMessage
	Instructions string
	Tools        []llm.Tool
	ToolChoice   json.RawMessage
	Stream       bool
	MaxOutput    int
	User         string
}

// badRequest is a validation failure, answered as 400
// invalid_request_error with its message.
type badRequest string

func (b badRequest) Error() string { return string(b) }

// parseResponsesRequest validates body as the original's zod schema does,
// reporting the first issue as "<path>: <message>".
//
// Function tools are accepted in both shapes: the chat-completions shape
// {type:"function", function:{name, description?, parameters?}} (the only
// one the original accepts) and the flat shape of the OpenAI Responses
// API {type:"function", name, description?, parameters?} that openai-go
// and the OpenAI SDKs send. tool_choice likewise takes {type:"function",
// function:{name}} or {type:"function", name}.
func parseResponsesRequest(raw map[string]json.RawMessage) (responsesRequest, error) {
	var req responsesRequest
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(responsesKeys, k) {
			return req, badRequest(fmt.Sprintf(": Unrecognized key: %q", k))
		}
	}
	str := func(k string, required bool) (string, error) {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			if required {
				return "", badRequest(k + ": Invalid input: expected string, received undefined")
			}
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", badRequest(k + ": Invalid input: expected string, received " + jsType(v))
		}
		return s, nil
	}
	var err error
	if req.Model, err = str("model", true); err != nil {
		return req, err
	}
	in, ok := raw["input"]
	if !ok {
		return req, badRequest("input: Invalid input")
	}
	req.Input = in
	if req.Instructions, err = str("instructions", false); err != nil {
		return req, err
	}
	if req.User, err = str("user", false); err != nil {
		return req, err
	}
	if v, ok := raw["stream"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &req.Stream) != nil {
			return req, badRequest("stream: Invalid input: expected boolean, received " + jsType(v))
		}
	}
	if v, ok := raw["max_output_tokens"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &req.MaxOutput) != nil || req.MaxOutput <= 0 {
			return req, badRequest("max_output_tokens: Invalid input: expected a positive integer")
		}
	}
	if v, ok := raw["tools"]; ok && string(v) != "null" {
		if req.Tools, err = parseTools(v); err != nil {
			return req, err
		}
	}
	req.ToolChoice = raw["tool_choice"]
	return req, nil
}

func jsType(v json.RawMessage) string {
	switch {
	case len(v) == 0:
		return "undefined"
	case v[0] == '"':
		return "string"
	case v[0] == '{':
		return "object"
	case v[0] == '[':
		return "array"
	case v[0] == 't' || v[0] == 'f':
		return "boolean"
	case v[0] == 'n':
		return "null"
	}
	return "number"
}

// toolSpec is a function tool in either accepted shape.
type toolSpec struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Function    *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// Bounds of a request's client tools: OpenAI's own limits on the count
// and the names, and a cap on each schema so that the tools cannot crowd
// out the conversation in the model's context.
const (
	MaxClientTools     = 128
	MaxToolNameLen     = 64
	MaxToolSchemaBytes = 64 << 10
)

// parseTools reads a request's function tools (either shape, see
// parseResponsesRequest), bounded by MaxClientTools, MaxToolNameLen and
// MaxToolSchemaBytes.
func parseTools(v json.RawMessage) ([]llm.Tool, error) {
	var specs []toolSpec
	if json.Unmarshal(v, &specs) != nil {
		return nil, badRequest("tools: Invalid input: expected an array of function tools")
	}
	if len(specs) > MaxClientTools {
		return nil, badRequest(fmt.Sprintf("tools: %d tools is over the limit of %d: offer fewer tools", len(specs), MaxClientTools))
	}
	out := make([]llm.Tool, 0, len(specs))
	for i, s := range specs {
		if s.Type != "function" {
			return nil, badRequest(fmt.Sprintf("tools.%d.type: Invalid input: expected \"function\"", i))
		}
		t := llm.Tool{Name: s.Name, Description: s.Description, Parameters: s.Parameters}
		if s.Function != nil {
			t = llm.Tool{Name: s.Function.Name, Description: s.Function.Description, Parameters: s.Function.Parameters}
		}
		if strings.TrimSpace(t.Name) == "" {
			return nil, badRequest(fmt.Sprintf("tools.%d.function.name: Invalid input: expected string, received undefined", i))
		}
		if !validToolName(t.Name) {
			return nil, badRequest(fmt.Sprintf("tools.%d.function.name: %q must be 1 to %d letters, digits, _ or -", i, t.Name, MaxToolNameLen))
		}
		if len(t.Parameters) == 0 || string(t.Parameters) == "null" {
			t.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		if len(t.Parameters) > MaxToolSchemaBytes {
			return nil, badRequest(fmt.Sprintf("tools.%d.function.parameters: the schema of %d bytes is over the limit of %d", i, len(t.Parameters), MaxToolSchemaBytes))
		}
		if t.Parameters[0] != '{' {
			return nil, badRequest(fmt.Sprintf("tools.%d.function.parameters: Invalid input: expected object, received %s", i, jsType(t.Parameters)))
		}
		for _, prev := range out {
			if prev.Name == t.Name {
				return nil, badRequest(fmt.Sprintf("tools.%d.function.name: %q is offered twice", i, t.Name))
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// validToolName: [A-Za-z0-9_-]{1,MaxToolNameLen}, what OpenAI and
// Anthropic accept.
func validToolName(n string) bool {
	if n == "" || len(n) > MaxToolNameLen {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// applyToolChoice narrows tools by tool_choice and returns the prompt hint
// it implies (the original's applyToolChoice).
func applyToolChoice(tools []llm.Tool, raw json.RawMessage) ([]llm.Tool, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return tools, "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto":
			return tools, "", nil
		case "none":
			return nil, "", nil
		case "required":
			if len(tools) == 0 {
				return nil, "", badRequest("tool_choice=required but no tools were provided")
			}
			return tools, "You must call one of the available tools before responding.", nil
		}
		return nil, "", badRequest("tool_choice: Invalid input")
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &o) != nil || o.Type != "function" {
		return nil, "", badRequest("tool_choice: Invalid input")
	}
	name := o.Name
	if o.Function != nil {
		name = o.Function.Name
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", badRequest("tool_choice.function.name is required")
	}
	var matched []llm.Tool
	for _, t := range tools {
		if t.Name == name {
			matched = append(matched, t)
		}
	}
	if len(matched) == 0 {
		return nil, "", badRequest("tool_choice requested unknown tool: " + name)
	}
	return matched, "You must call the " + name + " tool before responding.", nil
}

// inputItem is one item of an input list.
type inputItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	CallID  string          `json:"call_id"`
	Output  json.RawMessage `json:"output"`
}

// contentPart is one part of a message item's content.
type contentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL string `json:"image_url"`
	Source   *struct {
		Type      string `json:"type"`
		URL       string `json:"url"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		Filename  string `json:"filename"`
	} `json:"source"`
	// The OpenAI shape of an inline file.
	FileData string `json:"file_data"`
	Filename string `json:"filename"`
}

// responsesPrompt is the original's buildAgentPrompt for OpenResponses,
// plus the images and file contexts of the input.
type responsesPrompt struct {
	message string
	system  []string
	images  []llm.Content
	files   []string
}

var imageMimes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

func parseInput(raw json.RawMessage) (responsesPrompt, error) {
	var p responsesPrompt
	var s string
	if json.Unmarshal(raw, &s) == nil {
		p.message = s
		return p, nil
	}
	var items []inputItem
	if json.Unmarshal(raw, &items) != nil {
		return p, badRequest("input: Invalid input")
	}
	var entries []entry
	for i, it := range items {
		if it.Type == "" && it.Role != "" {
			// OpenAI's "easy" message form has no type; the original
			// rejects it, the OpenAI API (and so this one) takes it.
			it.Type = "message"
		}
		switch it.Type {
		case "message":
			switch it.Role {
			case "system", "developer", "user", "assistant":
			default:
				return p, badRequest(fmt.Sprintf("input.%d.role: Invalid input", i))
			}
			text, err := p.messageContent(it.Content, i)
			if err != nil {
				return p, err
			}
			text = strings.TrimSpace(text)
			if text == "" {
				continue
			}
			switch it.Role {
			case "system", "developer":
				p.system = append(p.system, text)
			case "assistant":
				entries = append(entries, entry{role: "assistant", sender: "Assistant", body: text})
			default:
				entries = append(entries, entry{role: "user", sender: "User", body: text})
			}
		case "function_call_output":
			out := chatText(it.Output)
			entries = append(entries, entry{role: "tool", sender: "Tool:" + it.CallID, body: out})
		case "function_call", "reasoning", "item_reference":
			// Not part of the prompt, as in the original.
		default:
			return p, badRequest("input: Invalid input")
		}
	}
	p.message = buildPrompt(entries)
	return p, nil
}

// messageContent is the text of a message item's content; images and
// files are collected into p. Only inline (base64) images and text files
// are taken: fetching a URL would make the gateway reach out to the
// network on a client's behalf, which this gateway does not do.
func (p *responsesPrompt) messageContent(raw json.RawMessage, item int) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []contentPart
	if json.Unmarshal(raw, &parts) != nil {
		return "", badRequest(fmt.Sprintf("input.%d.content: Invalid input", item))
	}
	var texts []string
	for _, c := range parts {
		switch c.Type {
		case "input_text", "output_text":
			if c.Text != "" {
				texts = append(texts, c.Text)
			}
		case "input_image":
			img, err := inlineImage(c)
			if err != nil {
				return "", err
			}
			p.images = append(p.images, img)
		case "input_file":
			f, err := inlineFile(c)
			if err != nil {
				return "", err
			}
			p.files = append(p.files, f)
		default:
			return "", badRequest(fmt.Sprintf("input.%d.content: Invalid input", item))
		}
	}
	return strings.Join(texts, "\n"), nil
}

func inlineImage(c contentPart) (llm.Content, error) {
	var mime, data string
	switch {
	case c.Source != nil && c.Source.Type == "base64":
		mime, data = c.Source.MediaType, c.Source.Data
	case strings.HasPrefix(c.ImageURL, "data:"):
		mime, data, _ = parseDataURL(c.ImageURL)
	case c.Source != nil && c.Source.Type == "url", c.ImageURL != "":
		return llm.Content{}, badRequest("input_image by URL is not supported by this gateway: send it inline (source {type:\"base64\", media_type, data})")
	default:
		return llm.Content{}, badRequest("input_image must have 'source.url' or 'source.data'")
	}
	if !slices.Contains(imageMimes, mime) {
		return llm.Content{}, badRequest(fmt.Sprintf("input_image media type %q is not allowed (jpeg, png, gif, webp)", mime))
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return llm.Content{}, badRequest("input_image data is not valid base64")
	}
	return llm.Content{Type: "image", Data: data, MimeType: mime}, nil
}

func inlineFile(c contentPart) (string, error) {
	var mime, data, name string
	switch {
	case c.Source != nil && c.Source.Type == "base64":
		mime, data, name = c.Source.MediaType, c.Source.Data, c.Source.Filename
	case strings.HasPrefix(c.FileData, "data:"):
		mime, data, _ = parseDataURL(c.FileData)
		name = c.Filename
	case c.Source != nil && c.Source.Type == "url":
		return "", badRequest("input_file by URL is not supported by this gateway: send it inline (source {type:\"base64\", media_type, data, filename})")
	default:
		return "", badRequest("input_file must have 'source.url' or 'source.data'")
	}
	if !textMime(mime) {
		return "", badRequest(fmt.Sprintf("input_file media type %q is not supported: send a text file (text/*, application/json)", mime))
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", badRequest("input_file data is not valid base64")
	}
	if name == "" {
		name = "file"
	}
	return fmt.Sprintf("<file name=%q>\n%s\n</file>", name, b), nil
}

func textMime(m string) bool {
	m, _, _ = strings.Cut(m, ";")
	return strings.HasPrefix(m, "text/") || m == "application/json" || m == "application/xml" || m == "application/x-yaml"
}

func parseDataURL(u string) (mime, data string, ok bool) {
	rest := strings.TrimPrefix(u, "data:")
	head, data, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(head, ";base64") {
		return "", "", false
	}
	return strings.TrimSuffix(head, ";base64"), data, true
}

// The response resource and its parts (doc/messaging.md §6.2).
type (
	responseObject struct {
		ID        string          `json:"id"`
		Object    string          `json:"object"`
		CreatedAt int64           `json:"created_at"`
		Status    string          `json:"status"`
		Model     string          `json:"model"`
		Output    []any           `json:"output"`
		Usage     responsesUsage  `json:"usage"`
		Error     *responseErrObj `json:"error,omitempty"`
	}
	responsesUsage struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		TotalTokens  int64 `json:"total_tokens"`
	}
	responseErrObj struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	messageItem struct {
		Type    string       `json:"type"`
		ID      string       `json:"id"`
		Role    string       `json:"role"`
		Content []outputText `json:"content"`
		Status  string       `json:"status"`
	}
	outputText struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Annotations []any  `json:"annotations"`
	}
	functionCallItem struct {
		Type      string `json:"type"`
		ID        string `json:"id"`
		CallID    string `json:"call_id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
		Status    string `json:"status"`
	}
)

func toResponsesUsage(u Usage) responsesUsage {
	t := u.Total
	if t == 0 {
		t = u.Input + u.Output + u.CacheRead + u.CacheWrite
	}
	return responsesUsage{InputTokens: u.Input, OutputTokens: u.Output, TotalTokens: t}
}

func textItem(id, text, status string) messageItem {
	return messageItem{Type: "message", ID: id, Role: "assistant", Content: []outputText{{Type: "output_text", Text: text, Annotations: []any{}}}, Status: status}
}

func (h *Handler) callItems(calls []llm.Content) []any {
	out := make([]any, 0, len(calls))
	for _, c := range calls {
		args := string(c.Arguments)
		if args == "" {
			args = "{}"
		}
		out = append(out, functionCallItem{Type: "function_call", ID: "call_" + h.d.NewID(), CallID: c.ID, Name: c.Name, Arguments: args, Status: "completed"})
	}
	return out
}

func (h *Handler) serveResponses(w http.ResponseWriter, r *http.Request) {
	if !h.gate(w, r) {
		return
	}
	var raw map[string]json.RawMessage
	if !readJSON(w, r, h.cfg.ResponsesMaxBodyBytes, &raw) {
		return
	}
	req, err := parseResponsesRequest(raw)
	var prompt responsesPrompt
	if err == nil {
		prompt, err = parseInput(req.Input)
	}
	var tools []llm.Tool
	var hint string
	if err == nil {
		tools, hint, err = applyToolChoice(req.Tools, req.ToolChoice)
	}
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "invalid_request", err.Error())
		return
	}
	agentID, key, ok := h.target(w, r, req.Model, req.User, "openresponses")
	if !ok {
		return
	}
	if strings.TrimSpace(prompt.message) == "" {
		writeAPIError(w, http.StatusBadRequest, typeInvalid, "missing_user_message", "Missing user message in `input`.")
		return
	}
	var extra []string
	for _, s := range append(append([]string{req.Instructions}, strings.Join(prompt.system, "\n\n"), hint), prompt.files...) {
		if strings.TrimSpace(s) != "" {
			extra = append(extra, s)
		}
	}
	id := "resp_" + h.d.NewID()
	itemID := "msg_" + h.d.NewID()
	created := h.d.Now().Unix()
	turn := Turn{RunID: id, AgentID: agentID, SessionKey: key, Message: prompt.message, Images: prompt.images,
		ExtraSystemPrompt: strings.Join(extra, "\n\n"), Channel: "webchat", MaxTokens: req.MaxOutput, ClientTools: tools}
	resp := responseObject{ID: id, Object: "response", CreatedAt: created, Model: req.Model, Output: []any{}}
	ctx := context.WithoutCancel(r.Context())
	if !req.Stream {
		out := h.d.Agent.Run(ctx, turn)
		resp.Usage = toResponsesUsage(out.Usage)
		switch {
		case out.Err != "":
			// The original's shape for a failed run: a whole response
			// object with status "failed".
			resp.Status, resp.Error = "failed", &responseErrObj{Code: "api_error", Message: out.Err}
			writeJSON(w, http.StatusInternalServerError, resp)
		case len(out.ToolCalls) > 0:
			// The text the model wrote before its calls comes first, as
			// in the stream (the original sends the first call only).
			resp.Status = "incomplete"
			if text := replyText(out.Texts); text != "" {
				resp.Output = append(resp.Output, textItem(itemID, text, "completed"))
			}
			resp.Output = append(resp.Output, h.callItems(out.ToolCalls)...)
			writeJSON(w, http.StatusOK, resp)
		default:
			resp.Status, resp.Output = "completed", []any{textItem(itemID, joinTexts(out.Texts), "completed")}
			writeJSON(w, http.StatusOK, resp)
		}
		return
	}
	h.streamResponse(ctx, w, turn, resp, itemID)
}

// streamEvent is one OpenResponses stream event; unused fields are left
// out.
type streamEvent struct {
	Type           string          `json:"type"`
	SequenceNumber int             `json:"sequence_number"`
	Response       *responseObject `json:"response,omitempty"`
	OutputIndex    *int            `json:"output_index,omitempty"`
	ItemID         string          `json:"item_id,omitempty"`
	ContentIndex   *int            `json:"content_index,omitempty"`
	Item           any             `json:"item,omitempty"`
	Part           *outputText     `json:"part,omitempty"`
	Delta          *string         `json:"delta,omitempty"`
	Text           *string         `json:"text,omitempty"`
	Logprobs       []any           `json:"logprobs,omitempty"`
}

// streamResponse runs turn and streams it as the original's event
// sequence (doc/messaging.md §6.2), with a sequence_number on every event
// (OpenAI sends one; the original does not). A failed run ends with
// response.failed and [DONE]: the stream always terminates.
func (h *Handler) streamResponse(ctx context.Context, w http.ResponseWriter, turn Turn, resp responseObject, itemID string) {
	s := startSSE(w)
	seq := 0
	zero, one := 0, 1
	emit := func(ev streamEvent) {
		ev.SequenceNumber = seq
		seq++
		s.event(ev.Type, ev)
	}
	resp.Status = "in_progress"
	emit(streamEvent{Type: "response.created", Response: &resp})
	emit(streamEvent{Type: "response.in_progress", Response: &resp})
	emit(streamEvent{Type: "response.output_item.added", OutputIndex: &zero, Item: textItem(itemID, "", "in_progress")})
	emit(streamEvent{Type: "response.content_part.added", ItemID: itemID, OutputIndex: &zero, ContentIndex: &zero,
		Part: &outputText{Type: "output_text", Text: "", Annotations: []any{}}})
	var text strings.Builder
	turn.OnDelta = func(d string) {
		if d == "" {
			return
		}
		text.WriteString(d)
		emit(streamEvent{Type: "response.output_text.delta", ItemID: itemID, OutputIndex: &zero, ContentIndex: &zero, Delta: &d, Logprobs: []any{}})
	}
	out := h.d.Agent.Run(ctx, turn)
	resp.Usage = toResponsesUsage(out.Usage)
	if out.Err != "" {
		resp.Status, resp.Error = "failed", &responseErrObj{Code: "api_error", Message: out.Err}
		emit(streamEvent{Type: "response.failed", Response: &resp})
		s.done()
		return
	}
	full := text.String()
	if full == "" && len(out.ToolCalls) == 0 {
		full = joinTexts(out.Texts)
		emit(streamEvent{Type: "response.output_text.delta", ItemID: itemID, OutputIndex: &zero, ContentIndex: &zero, Delta: &full, Logprobs: []any{}})
	}
	item := textItem(itemID, full, "completed")
	emit(streamEvent{Type: "response.output_text.done", ItemID: itemID, OutputIndex: &zero, ContentIndex: &zero, Text: &full, Logprobs: []any{}})
	emit(streamEvent{Type: "response.content_part.done", ItemID: itemID, OutputIndex: &zero, ContentIndex: &zero,
		Part: &outputText{Type: "output_text", Text: full, Annotations: []any{}}})
	emit(streamEvent{Type: "response.output_item.done", OutputIndex: &zero, Item: item})
	resp.Output = []any{item}
	resp.Status = "completed"
	if len(out.ToolCalls) > 0 {
		for i, c := range h.callItems(out.ToolCalls) {
			idx := one + i
			emit(streamEvent{Type: "response.output_item.added", OutputIndex: &idx, Item: c})
			emit(streamEvent{Type: "response.output_item.done", OutputIndex: &idx, Item: c})
			resp.Output = append(resp.Output, c)
		}
		resp.Status = "incomplete"
	}
	emit(streamEvent{Type: "response.completed", Response: &resp})
	s.done()
}
