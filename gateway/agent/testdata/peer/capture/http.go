package main

// HTTP capture mode (-mode http): sends the /v1 exchanges below to the gateway's HTTP port and
// records, per exchange, the request, the response (status, headers, body or SSE events with
// receive times) and the requests the gateway made to the fake upstream meanwhile. One file per
// exchange: exchange-<name>.json.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type httpReq struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
	// BodyText is a body that is not JSON (the malformed-JSON exchanges).
	BodyText string `json:"bodyText,omitempty"`
}

type sseEvent struct {
	TMs      float64         `json:"t_ms"`
	Event    string          `json:"event,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	DataText string          `json:"dataText,omitempty"`
}

type httpResp struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	// TransferEncoding is what Go's client took out of the headers.
	TransferEncoding []string        `json:"transferEncoding,omitempty"`
	Body             json.RawMessage `json:"body,omitempty"`
	BodyText         string          `json:"bodyText,omitempty"`
	Events           []sseEvent      `json:"events,omitempty"`
	Error            string          `json:"error,omitempty"`
	TMs              float64         `json:"t_ms"`
}

type exchangeFile struct {
	Name     string   `json:"name"`
	Note     string   `json:"note"`
	Request  httpReq  `json:"request"`
	Response httpResp `json:"response"`
	// Upstream are the requests the gateway sent to the fake model during the exchange, with the
	// system prompt cut to its "## Group Chat Context" section (the extra system prompt; the rest is
	// the original's own prompt) and the built-in tools of the original listed by name only.
	Upstream []json.RawMessage `json:"upstream"`
}

type exchangeSpec struct {
	name, note string
	req        httpReq
}

func jsonBody(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

var weatherTool = map[string]any{"type": "function", "function": map[string]any{"name": "get_weather",
	"description": "Current weather of a city",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required": []string{"city"}}}}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}

func httpExchanges(tok string) []exchangeSpec {
	h := bearer(tok)
	chat := func(name, note string, body map[string]any) exchangeSpec {
		return exchangeSpec{name, note, httpReq{Method: "POST", Path: "/v1/chat/completions", Headers: h, Body: jsonBody(body)}}
	}
	resp := func(name, note string, body map[string]any) exchangeSpec {
		return exchangeSpec{name, note, httpReq{Method: "POST", Path: "/v1/responses", Headers: h, Body: jsonBody(body)}}
	}
	sysUser := []any{map[string]any{"role": "system", "content": "be brief"}, map[string]any{"role": "user", "content": "hi there"}}
	return []exchangeSpec{
		chat("chat-nonstream", "plain completion", map[string]any{"model": "clawdbot:main", "messages": sysUser, "user": "peer-chat-1"}),
		chat("chat-stream", "plain completion, streamed", map[string]any{"model": "clawdbot:main", "messages": sysUser, "user": "peer-chat-2", "stream": true}),
		chat("chat-client-tools", "client tools and max_tokens (the original ignores both)", map[string]any{"model": "clawdbot:main",
			"messages": []any{map[string]any{"role": "user", "content": "CLIENTTOOL weather in Paris?"}}, "user": "peer-chat-3",
			"tools": []any{weatherTool}, "max_tokens": 50}),
		resp("responses-nonstream", "plain response", map[string]any{"model": "clawdbot:main", "input": "hi there", "instructions": "be brief", "user": "peer-resp-1"}),
		resp("responses-stream", "plain response, streamed", map[string]any{"model": "clawdbot:main", "input": "hi there", "instructions": "be brief", "user": "peer-resp-2", "stream": true}),
		resp("responses-client-tool", "the model calls a client tool; max_output_tokens", map[string]any{"model": "clawdbot:main",
			"input": "CLIENTTOOL weather in Paris?", "tools": []any{weatherTool}, "max_output_tokens": 50, "user": "peer-resp-3"}),
		resp("responses-client-tool-stream", "the model calls a client tool, streamed", map[string]any{"model": "clawdbot:main",
			"input": "CLIENTTOOL weather in Paris?", "tools": []any{weatherTool}, "user": "peer-resp-4", "stream": true}),
		resp("responses-tool-output", "the follow-up carrying the client tool's result", map[string]any{"model": "clawdbot:main",
			"input": []any{
				map[string]any{"type": "message", "role": "user", "content": "CLIENTTOOL weather in Paris?"},
				map[string]any{"type": "function_call", "call_id": "call_client_1", "name": "get_weather", "arguments": `{"city":"Paris"}`},
				map[string]any{"type": "function_call_output", "call_id": "call_client_1", "output": "22C and sunny"},
			}, "tools": []any{weatherTool}, "user": "peer-resp-5"}),
		chat("chat-tool-output", "the follow-up carrying a tool's result", map[string]any{"model": "clawdbot:main",
			"messages": []any{
				map[string]any{"role": "user", "content": "CLIENTTOOL weather in Paris?"},
				map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{"id": "call_client_1", "type": "function",
					"function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}},
				map[string]any{"role": "tool", "tool_call_id": "call_client_1", "content": "22C and sunny"},
			}, "tools": []any{weatherTool}, "user": "peer-chat-4"}),
		{"chat-401", "wrong bearer", httpReq{Method: "POST", Path: "/v1/chat/completions", Headers: bearer("wrong-token"),
			Body: jsonBody(map[string]any{"model": "clawdbot", "messages": sysUser})}},
		{"chat-400-bad-json", "malformed JSON", httpReq{Method: "POST", Path: "/v1/chat/completions", Headers: h, BodyText: "{bad json"}},
		{"responses-400-bad-json", "malformed JSON", httpReq{Method: "POST", Path: "/v1/responses", Headers: h, BodyText: "{bad json"}},
		{"chat-405", "GET", httpReq{Method: "GET", Path: "/v1/chat/completions", Headers: map[string]string{"Authorization": "Bearer " + tok}}},
		chat("chat-400-no-user", "no user message", map[string]any{"model": "clawdbot", "messages": []any{map[string]any{"role": "system", "content": "x"}}}),
		// Only meaningful with the endpoints disabled (ENDPOINTS=0 run_http.sh).
		chat("chat-404-disabled", "chatCompletions disabled", map[string]any{"model": "clawdbot", "messages": sysUser}),
		resp("responses-404-disabled", "responses disabled", map[string]any{"model": "clawdbot", "input": "hi"}),
	}
}

func runHTTP(base, tok string, want map[string]bool) {
	var builtin map[string]bool
	for _, ex := range httpExchanges(tok) {
		if len(want) > 0 && !want[ex.name] {
			continue
		}
		if len(want) == 0 && strings.HasSuffix(ex.name, "-disabled") {
			continue
		}
		log.Printf("exchange %s", ex.name)
		http.Get(*upCtl + "?name=" + ex.name)
		out := exchangeFile{Name: ex.name, Note: ex.note, Request: ex.req}
		out.Response = doHTTP(base, ex.req)
		// Stream endings may come before the run's end: give the run time to finish.
		time.Sleep(1500 * time.Millisecond)
		reqs := fetchUpstream(ex.name)
		if builtin == nil && len(reqs) > 0 {
			builtin = map[string]bool{}
			for _, n := range toolNames(reqs[0]) {
				builtin[n] = true
			}
		}
		for _, r := range reqs {
			out.Upstream = append(out.Upstream, summarize(r, builtin))
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		_ = os.WriteFile(filepath.Join(*outDir, "exchange-"+ex.name+".json"), append(b, '\n'), 0o644)
	}
}

func doHTTP(base string, hr httpReq) httpResp {
	var body io.Reader
	switch {
	case hr.BodyText != "":
		body = strings.NewReader(hr.BodyText)
	case len(hr.Body) > 0:
		body = bytes.NewReader(hr.Body)
	}
	req, _ := http.NewRequest(hr.Method, base+hr.Path, body)
	for k, v := range hr.Headers {
		req.Header.Set(k, v)
	}
	t0 := time.Now()
	c := &http.Client{Timeout: 120 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		return httpResp{Error: err.Error(), TMs: ms(time.Since(t0))}
	}
	defer res.Body.Close()
	out := httpResp{Status: res.StatusCode, Headers: res.Header, TransferEncoding: res.TransferEncoding}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		rd := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := rd.ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				d := line[len("data: "):]
				if json.Valid([]byte(d)) {
					ev.Data = json.RawMessage(d)
				} else {
					ev.DataText = d
				}
			case line == "" && (ev.Event != "" || ev.Data != nil || ev.DataText != ""):
				ev.TMs = ms(time.Since(t0))
				out.Events = append(out.Events, ev)
				ev = sseEvent{}
			case line != "":
				out.Events = append(out.Events, sseEvent{TMs: ms(time.Since(t0)), DataText: "raw: " + line})
			}
			if err != nil {
				if err != io.EOF {
					out.Error = err.Error()
				}
				break
			}
		}
	} else {
		b, err := io.ReadAll(res.Body)
		if err != nil {
			out.Error = err.Error()
		}
		if json.Valid(b) {
			out.Body = b
		} else {
			out.BodyText = string(b)
		}
	}
	out.TMs = ms(time.Since(t0))
	return out
}

func fetchUpstream(name string) []*upReq {
	res, err := http.Get(strings.TrimSuffix(*upCtl, "/_scenario") + "/_requests?name=" + name)
	if err != nil {
		log.Printf("upstream requests: %v", err)
		return nil
	}
	defer res.Body.Close()
	var out []*upReq
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out
}

func toolNames(r *upReq) []string {
	var b struct {
		Tools []struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	_ = json.Unmarshal(r.Body, &b)
	var out []string
	for _, t := range b.Tools {
		out = append(out, t.Function.Name)
	}
	return out
}

// summarize cuts an upstream request to what a comparison needs (see exchangeFile.Upstream).
func summarize(r *upReq, builtin map[string]bool) json.RawMessage {
	var body map[string]any
	if json.Unmarshal(r.Body, &body) != nil {
		b, _ := json.Marshal(r)
		return b
	}
	if msgs, ok := body["messages"].([]any); ok && len(msgs) > 0 {
		if m, ok := msgs[0].(map[string]any); ok && m["role"] == "system" {
			s, _ := m["content"].(string)
			cut := map[string]any{"length": len(s)}
			if i := strings.Index(s, "## Group Chat Context\n"); i >= 0 {
				sec := s[i+len("## Group Chat Context\n"):]
				if j := strings.Index(sec, "\n#"); j >= 0 {
					sec = sec[:j]
				}
				cut["groupChatContext"] = strings.TrimSpace(sec)
			}
			m["content"] = cut
		}
	}
	if tools, ok := body["tools"].([]any); ok {
		var names []string
		var extra []any
		for _, t := range tools {
			tm, _ := t.(map[string]any)
			fn, _ := tm["function"].(map[string]any)
			n, _ := fn["name"].(string)
			if builtin[n] {
				names = append(names, n)
			} else {
				extra = append(extra, t)
			}
		}
		body["tools"] = map[string]any{"builtinNames": names, "others": extra}
	}
	hdr := map[string]string{}
	for _, k := range []string{"Authorization", "User-Agent", "Accept", "Content-Type", "X-Stainless-Retry-Count"} {
		if v := r.Headers[k]; len(v) > 0 {
			hdr[k] = v[0]
		}
	}
	b, _ := json.Marshal(map[string]any{"seq": r.Seq, "t_ms": r.TMs, "method": r.Method, "path": r.Path, "headers": hdr,
		"body": body, "script": r.Script, "outcome": r.Outcome, "chunksWritten": r.ChunksOut})
	return b
}
