package main

// Fake OpenAI-compatible upstream: POST /v1/chat/completions (stream SSE), scripted by keywords
// in the last user message. Every request (headers + body) is recorded per scenario.

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

type upReq struct {
	Seq       int                 `json:"seq"`
	Time      string              `json:"time"`
	TMs       float64             `json:"t_ms"`
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Headers   map[string][]string `json:"headers"`
	Body      json.RawMessage     `json:"body,omitempty"`
	BodyText  string              `json:"bodyText,omitempty"`
	Script    string              `json:"script"`
	Outcome   string              `json:"outcome,omitempty"`
	ChunksOut int                 `json:"chunksWritten"`
	EndMs     float64             `json:"end_t_ms"`
}

type upstream struct {
	mu       sync.Mutex
	outDir   string
	scenario string
	start    time.Time
	reqs     map[string][]*upReq
	seq      int
}

func (u *upstream) flush(name string) {
	b, _ := json.MarshalIndent(u.reqs[name], "", "  ")
	_ = os.WriteFile(filepath.Join(u.outDir, "upstream-requests-"+name+".json"), append(b, '\n'), 0o644)
}

func textOf(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(content, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func runUpstream(addr, outDir string) {
	u := &upstream{outDir: outDir, scenario: "unscoped", start: time.Now(), reqs: map[string][]*upReq{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/_scenario", func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.scenario = r.URL.Query().Get("name")
		u.start = time.Now()
		u.mu.Unlock()
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/_requests", func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		b, _ := json.Marshal(u.reqs[r.URL.Query().Get("name")])
		u.mu.Unlock()
		w.Write(b)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seq++
		rec := &upReq{Seq: u.seq, Time: time.Now().UTC().Format(time.RFC3339Nano), TMs: ms(time.Since(u.start)), Method: r.Method, Path: r.URL.Path, Headers: r.Header}
		if json.Valid(body) {
			rec.Body = body
		} else {
			rec.BodyText = string(body)
		}
		name := u.scenario
		u.reqs[name] = append(u.reqs[name], rec)
		start := u.start
		u.mu.Unlock()
		defer func() {
			u.mu.Lock()
			rec.EndMs = ms(time.Since(start))
			u.flush(name)
			u.mu.Unlock()
		}()
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			rec.Script = "404"
			http.Error(w, `{"error":{"message":"not found"}}`, 404)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Stream   bool   `json:"stream"`
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		lastRole, lastUser := "", ""
		if n := len(req.Messages); n > 0 {
			lastRole = req.Messages[n-1].Role
		}
		for i := len(req.Messages) - 1; i >= 0; i-- {
			if req.Messages[i].Role == "user" {
				lastUser = textOf(req.Messages[i].Content)
				break
			}
		}
		script := "plain"
		switch {
		case lastRole == "tool":
			script = "after-tool"
		case strings.Contains(lastUser, "CLIENTTOOL") && !strings.Contains(lastUser, "Tool:"):
			// A call of the HTTP client's get_weather tool (-mode http); not after the tool's result.
			script = "clienttool"
		case strings.Contains(lastUser, "FAIL500"):
			script = "fail500"
		case strings.Contains(lastUser, "SLOW"):
			script = "slow"
		case strings.Contains(lastUser, "TOOLCALL"):
			script = "toolcall"
		case strings.Contains(lastUser, "FAST"):
			script = "fast"
		}
		rec.Script = script
		if script == "fail500" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"message":"upstream exploded","type":"server_error"}}`)
			rec.Outcome = "500"
			return
		}
		if !req.Stream {
			rec.Outcome = "non-stream-unsupported"
			http.Error(w, `{"error":{"message":"fake upstream supports stream:true only"}}`, 400)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		fl := w.(http.Flusher)
		created := time.Now().Unix()
		id := fmt.Sprintf("chatcmpl-fake-%d", rec.Seq)
		send := func(v any) bool {
			b, _ := json.Marshal(v)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return false
			}
			fl.Flush()
			rec.ChunksOut++
			return r.Context().Err() == nil
		}
		chunk := func(delta map[string]any, finish any) map[string]any {
			return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		var deltas []string
		gap := 200 * time.Millisecond
		switch script {
		case "plain":
			deltas = []string{"Hello", " from", " the", " fake", " model", "."}
		case "after-tool":
			deltas = []string{"All", " good", " after", " tool."}
		case "toolcall":
			deltas = []string{"Checking", " status."}
		case "clienttool":
			deltas = []string{"Let me", " check."}
		case "slow":
			for i := 1; i <= 20; i++ {
				deltas = append(deltas, fmt.Sprintf("w%d ", i))
			}
			gap = 500 * time.Millisecond
		case "fast":
			for i := 1; i <= 40; i++ {
				deltas = append(deltas, fmt.Sprintf("f%d ", i))
			}
			gap = 30 * time.Millisecond
		}
		if !send(chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
			rec.Outcome = "client-gone"
			return
		}
		for _, d := range deltas {
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				rec.Outcome = "client-gone"
				return
			}
			if !send(chunk(map[string]any{"content": d}, nil)) {
				rec.Outcome = "client-gone"
				return
			}
		}
		finish := "stop"
		if script == "clienttool" {
			finish = "tool_calls"
			send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_fake_2", "type": "function",
				"function": map[string]any{"name": "get_weather", "arguments": ""}}}}, nil))
			send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": `{"city":"Paris"}`}}}}, nil))
		}
		if script == "toolcall" {
			finish = "tool_calls"
			send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_fake_1", "type": "function",
				"function": map[string]any{"name": "session_status", "arguments": ""}}}}, nil))
			send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": "{}"}}}}, nil))
		}
		send(chunk(map[string]any{}, finish))
		out := len(deltas)
		send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model, "choices": []any{},
			"usage": map[string]any{"prompt_tokens": 11, "completion_tokens": out, "total_tokens": 11 + out}})
		fmt.Fprint(w, "data: [DONE]\n\n")
		fl.Flush()
		rec.Outcome = "ok"
	})
	srv := &http.Server{Addr: addr, Handler: mux}
	log.Printf("fake upstream on %s", addr)
	log.Fatal(srv.ListenAndServe())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
