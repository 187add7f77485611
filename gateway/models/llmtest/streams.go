package llmtest

import "fmt"

// chatCompletions streams chat.completion.chunk events as OpenAI does:
// a role chunk, content (and reasoning) deltas, tool call deltas, the
// finish chunk, a usage chunk when stream_options.include_usage asked for
// one, and "[DONE]".
func (s *stream) chatCompletions() {
	if s.failed(fmt.Sprintf(`{"error":{"message":%q,"type":"server_error"}}`, s.errMessage())) {
		return
	}
	model, _ := s.reqJSON()["model"].(string)
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1796160721, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
	}
	s.begin()
	if !s.event("", chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
		return
	}
	for _, th := range s.resp.Thinking {
		if !s.event("", chunk(map[string]any{"reasoning_content": th}, nil)) {
			return
		}
	}
	for _, t := range s.resp.Text {
		if !s.text("", chunk(map[string]any{"content": t}, nil)) {
			return
		}
	}
	if s.resp.Hang {
		s.hang()
		return
	}
	for i, tc := range s.resp.ToolCalls {
		a1, a2 := args(tc)
		first := map[string]any{"index": i, "id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": a1}}
		if !s.event("", chunk(map[string]any{"tool_calls": []any{first}}, nil)) {
			return
		}
		second := map[string]any{"index": i, "function": map[string]any{"arguments": a2}}
		if !s.event("", chunk(map[string]any{"tool_calls": []any{second}}, nil)) {
			return
		}
	}
	finish := s.resp.StopReason
	if finish == "" {
		finish = "stop"
		if len(s.resp.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	if !s.event("", chunk(map[string]any{}, finish)) {
		return
	}
	if so, _ := s.reqJSON()["stream_options"].(map[string]any); so["include_usage"] == true {
		u := s.usage()
		usage := map[string]any{
			"prompt_tokens": u.Input + u.CacheRead, "completion_tokens": u.Output, "total_tokens": u.Input + u.CacheRead + u.Output,
			"prompt_tokens_details": map[string]any{"cached_tokens": u.CacheRead},
		}
		if !s.event("", map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1796160721, "model": model, "choices": []any{}, "usage": usage}) {
			return
		}
	}
	s.event("", "[DONE]")
}

func (s *stream) reqJSON() map[string]any { return s.req.JSON }

// responses streams the OpenAI Responses API events: response.created, a
// reasoning item, a message item with output_text deltas, function_call
// items with argument deltas, and response.completed with usage.
func (s *stream) responses() {
	if s.failed(fmt.Sprintf(`{"error":{"message":%q,"type":"server_error"}}`, s.errMessage())) {
		return
	}
	model, _ := s.reqJSON()["model"].(string)
	seq := 0
	ev := func(typ string, fields map[string]any) map[string]any {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		return fields
	}
	resp := func(status string, output []any) map[string]any {
		return map[string]any{"id": "resp_fake", "object": "response", "created_at": 1796160721, "status": status, "model": model, "output": output}
	}
	s.begin()
	if !s.event("response.created", ev("response.created", map[string]any{"response": resp("in_progress", []any{})})) {
		return
	}
	var output []any
	idx := 0
	if len(s.resp.Thinking) > 0 {
		item := map[string]any{"id": "rs_fake", "type": "reasoning", "summary": []any{}}
		if !s.event("response.output_item.added", ev("response.output_item.added", map[string]any{"output_index": idx, "item": item})) {
			return
		}
		full := ""
		for _, th := range s.resp.Thinking {
			full += th
			if !s.event("response.reasoning_summary_text.delta", ev("response.reasoning_summary_text.delta", map[string]any{"item_id": "rs_fake", "output_index": idx, "summary_index": 0, "delta": th})) {
				return
			}
		}
		done := map[string]any{"id": "rs_fake", "type": "reasoning", "summary": []any{map[string]any{"type": "summary_text", "text": full}}}
		if !s.event("response.output_item.done", ev("response.output_item.done", map[string]any{"output_index": idx, "item": done})) {
			return
		}
		output = append(output, done)
		idx++
	}
	if len(s.resp.Text) > 0 || s.resp.Hang {
		item := map[string]any{"id": "msg_fake", "type": "message", "role": "assistant", "status": "in_progress", "content": []any{}}
		if !s.event("response.output_item.added", ev("response.output_item.added", map[string]any{"output_index": idx, "item": item})) {
			return
		}
		part := map[string]any{"type": "output_text", "text": "", "annotations": []any{}}
		if !s.event("response.content_part.added", ev("response.content_part.added", map[string]any{"item_id": "msg_fake", "output_index": idx, "content_index": 0, "part": part})) {
			return
		}
		full := ""
		for _, t := range s.resp.Text {
			full += t
			if !s.text("response.output_text.delta", ev("response.output_text.delta", map[string]any{"item_id": "msg_fake", "output_index": idx, "content_index": 0, "delta": t, "logprobs": []any{}})) {
				return
			}
		}
		if s.resp.Hang {
			s.hang()
			return
		}
		if !s.event("response.output_text.done", ev("response.output_text.done", map[string]any{"item_id": "msg_fake", "output_index": idx, "content_index": 0, "text": full, "logprobs": []any{}})) {
			return
		}
		done := map[string]any{"id": "msg_fake", "type": "message", "role": "assistant", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": full, "annotations": []any{}}}}
		if !s.event("response.output_item.done", ev("response.output_item.done", map[string]any{"output_index": idx, "item": done})) {
			return
		}
		output = append(output, done)
		idx++
	}
	for i, tc := range s.resp.ToolCalls {
		id := fmt.Sprintf("fc_fake_%d", i)
		a1, a2 := args(tc)
		item := map[string]any{"id": id, "type": "function_call", "call_id": tc.ID, "name": tc.Name, "arguments": "", "status": "in_progress"}
		if !s.event("response.output_item.added", ev("response.output_item.added", map[string]any{"output_index": idx, "item": item})) {
			return
		}
		for _, a := range []string{a1, a2} {
			if !s.event("response.function_call_arguments.delta", ev("response.function_call_arguments.delta", map[string]any{"item_id": id, "output_index": idx, "delta": a})) {
				return
			}
		}
		if !s.event("response.function_call_arguments.done", ev("response.function_call_arguments.done", map[string]any{"item_id": id, "output_index": idx, "arguments": a1 + a2, "name": tc.Name})) {
			return
		}
		done := map[string]any{"id": id, "type": "function_call", "call_id": tc.ID, "name": tc.Name, "arguments": a1 + a2, "status": "completed"}
		if !s.event("response.output_item.done", ev("response.output_item.done", map[string]any{"output_index": idx, "item": done})) {
			return
		}
		output = append(output, done)
		idx++
	}
	u := s.usage()
	final := resp("completed", output)
	typ := "response.completed"
	if s.resp.StopReason == "length" || s.resp.StopReason == "max_output_tokens" {
		final["status"] = "incomplete"
		final["incomplete_details"] = map[string]any{"reason": "max_output_tokens"}
		typ = "response.incomplete"
	}
	final["usage"] = map[string]any{
		"input_tokens": u.Input + u.CacheRead, "output_tokens": u.Output, "total_tokens": u.Input + u.CacheRead + u.Output,
		"input_tokens_details": map[string]any{"cached_tokens": u.CacheRead}, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
	}
	s.event(typ, ev(typ, map[string]any{"response": final}))
}

// anthropic streams Anthropic Messages events: message_start with the
// input usage, a thinking block with its signature, a text block, tool_use
// blocks with input_json deltas, message_delta with the stop reason and
// output usage, and message_stop.
func (s *stream) anthropic() {
	errType := "api_error"
	switch s.resp.Status {
	case 429:
		errType = "rate_limit_error"
	case 401:
		errType = "authentication_error"
	case 400:
		errType = "invalid_request_error"
	case 529:
		errType = "overloaded_error"
	}
	if s.failed(fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q}}`, errType, s.errMessage())) {
		return
	}
	model, _ := s.reqJSON()["model"].(string)
	u := s.usage()
	s.begin()
	start := map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": u.Input, "output_tokens": 1, "cache_read_input_tokens": u.CacheRead, "cache_creation_input_tokens": u.CacheWrite},
	}}
	if !s.event("message_start", start) {
		return
	}
	idx := 0
	block := func(cb map[string]any, deltas []map[string]any, isText bool) bool {
		if !s.event("content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": cb}) {
			return false
		}
		for _, d := range deltas {
			ev := map[string]any{"type": "content_block_delta", "index": idx, "delta": d}
			ok := false
			if isText {
				ok = s.text("content_block_delta", ev)
			} else {
				ok = s.event("content_block_delta", ev)
			}
			if !ok {
				return false
			}
		}
		if isText && s.resp.Hang {
			s.hang()
			return false
		}
		if !s.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx}) {
			return false
		}
		idx++
		return true
	}
	if len(s.resp.Thinking) > 0 {
		var ds []map[string]any
		for _, th := range s.resp.Thinking {
			ds = append(ds, map[string]any{"type": "thinking_delta", "thinking": th})
		}
		ds = append(ds, map[string]any{"type": "signature_delta", "signature": s.resp.Signature})
		if !block(map[string]any{"type": "thinking", "thinking": "", "signature": ""}, ds, false) {
			return
		}
	}
	if len(s.resp.Text) > 0 || s.resp.Hang {
		var ds []map[string]any
		for _, t := range s.resp.Text {
			ds = append(ds, map[string]any{"type": "text_delta", "text": t})
		}
		if !block(map[string]any{"type": "text", "text": ""}, ds, true) {
			return
		}
	}
	for _, tc := range s.resp.ToolCalls {
		a1, a2 := args(tc)
		ds := []map[string]any{{"type": "input_json_delta", "partial_json": a1}, {"type": "input_json_delta", "partial_json": a2}}
		if !block(map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": map[string]any{}}, ds, false) {
			return
		}
	}
	stop := s.resp.StopReason
	if stop == "" {
		stop = "end_turn"
		if len(s.resp.ToolCalls) > 0 {
			stop = "tool_use"
		}
	}
	if !s.event("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": u.Output}}) {
		return
	}
	s.event("message_stop", map[string]any{"type": "message_stop"})
}
