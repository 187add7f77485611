// Package llmtest holds fake model upstreams for tests: an OpenAI-compatible
// server (Chat Completions and Responses) and an Anthropic Messages server,
// both on 127.0.0.1 through net/http/httptest and both speaking real SSE
// framing, so the official SDKs our providers use parse them exactly as
// they parse the real services. They are fakes because the real services
// cannot be reached from a test (no network beyond loopback).
//
// A test scripts what the upstream answers, one Response per request:
//
//	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
//		{Status: 500},                                  // first call fails
//		{Text: []string{"Hel", "lo"}, Spacing: 5 * time.Millisecond},
//	}})
//	// models.providers.fake.baseUrl = up.URL ("http://127.0.0.1:<p>/v1")
//	...
//	reqs := up.Requests() // what we sent, in order
//
// Script.Func, when set, chooses each Response from the request instead
// (for example by a keyword in the last user message, as the fake upstream
// of doc/messaging.md Appendix B does). With neither, every request gets
// DefaultResponse: the Appendix B reply "Hello from the fake model.".
//
// The package is named like net/http/httptest so that it may import
// testing and httptest (gateway/deps_test.go).
package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Response is what the fake sends for one request.
type Response struct {
	// Status, when not 0 or 200, is sent with an error body (ErrorMessage)
	// instead of a stream.
	Status       int
	ErrorMessage string
	// RetryAfter is sent as the Retry-After header when not empty
	// (seconds, e.g. "1", or an HTTP date).
	RetryAfter string

	// Delay passes before the response headers are sent (an upstream that
	// is slow to answer at all).
	Delay time.Duration

	// Thinking deltas come first (Anthropic: a thinking block closed by
	// Signature; OpenAI Chat Completions: delta.reasoning_content).
	Thinking  []string
	Signature string
	// Text deltas follow, Spacing apart (Spacing also separates every
	// other streamed event after the first).
	Text    []string
	Spacing time.Duration
	// ToolCalls are streamed after the text, each one's arguments in two
	// pieces so that a client has to join them.
	ToolCalls []ToolCall

	// StopReason overrides the finish reason; the default is the API's
	// own word for "stop" or, with ToolCalls, for "tool use".
	StopReason string
	// Usage is sent at the end (nil: DefaultUsage).
	Usage *Usage

	// DisconnectAfter > 0 drops the connection after that many text
	// deltas were sent, with no terminating event (a stream that breaks
	// off mid-answer).
	DisconnectAfter int
	// Hang keeps the stream open after the text until the client goes
	// away or the server closes (for abort and timeout tests).
	Hang bool

	// TextSent, when set, receives the time each text delta's write to
	// the connection began (for latency benchmarks: write → emit). The send
	// blocks, so give it room for len(Text) values.
	TextSent chan<- time.Time
}

// ToolCall is one tool call the model makes.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string // a JSON object; "" sends "{}"
}

// Usage is the token count the fake reports.
type Usage struct {
	Input, Output, CacheRead, CacheWrite int64
}

// DefaultUsage is the usage of doc/messaging.md Appendix B.
var DefaultUsage = Usage{Input: 11, Output: 6}

// DefaultResponse is the Appendix B reply, without its 200 ms spacing.
var DefaultResponse = Response{Text: []string{"Hello", " from", " the", " fake", " model", "."}}

// Words is n text deltas "w0 ", "w1 ", ... for tests that need many.
func Words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "w" + strconv.Itoa(i) + " "
	}
	return out
}

// Script says what the fake answers.
type Script struct {
	// Responses answer the requests in order; the last one repeats.
	Responses []Response
	// Func, when set, answers every request instead of Responses.
	Func func(Request) Response
}

// Request is one request the fake received.
type Request struct {
	Method string
	// Path is the URL path, e.g. "/v1/chat/completions".
	Path   string
	Header http.Header
	Body   []byte
	// JSON is Body decoded (nil when it is not a JSON object).
	JSON map[string]any
}

// Decode unmarshals the body into v.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Body, v) }

// LastUserText is the text of the last user message of a Chat
// Completions, Responses or Anthropic Messages body ("" if none): what
// Script.Func looks at to pick a behaviour by keyword.
func (r Request) LastUserText() string {
	var msgs []any
	if m, ok := r.JSON["messages"].([]any); ok {
		msgs = m
	} else if m, ok := r.JSON["input"].([]any); ok {
		msgs = m
	} else if s, ok := r.JSON["input"].(string); ok {
		return s
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m, _ := msgs[i].(map[string]any)
		if m["role"] != "user" {
			continue
		}
		return textOf(m["content"])
	}
	return ""
}

// LastRole is the role of the last message of the body ("tool" after a
// tool result in Chat Completions).
func (r Request) LastRole() string {
	msgs, _ := r.JSON["messages"].([]any)
	if len(msgs) == 0 {
		msgs, _ = r.JSON["input"].([]any)
	}
	if len(msgs) == 0 {
		return ""
	}
	m, _ := msgs[len(msgs)-1].(map[string]any)
	if role, ok := m["role"].(string); ok {
		return role
	}
	t, _ := m["type"].(string)
	return t
}

func textOf(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, part := range v {
			p, _ := part.(map[string]any)
			if s, ok := p["text"].(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}

// Server is a running fake upstream.
type Server struct {
	// URL is the base URL to configure: "http://127.0.0.1:<port>/v1" for
	// the OpenAI fake (the SDK appends "/chat/completions" or
	// "/responses"), "http://127.0.0.1:<port>" for the Anthropic fake
	// (the SDK appends "/v1/messages"). Both fakes answer any path ending
	// in those names.
	URL string

	srv    *httptest.Server
	script Script
	done   chan struct{}

	mu   sync.Mutex
	reqs []Request
}

// NewOpenAI starts an OpenAI-compatible fake; it stops when t ends.
func NewOpenAI(t testing.TB, s Script) *Server {
	f := start(t, s)
	f.URL = f.srv.URL + "/v1"
	return f
}

// NewAnthropic starts an Anthropic Messages fake; it stops when t ends.
func NewAnthropic(t testing.TB, s Script) *Server {
	f := start(t, s)
	f.URL = f.srv.URL
	return f
}

func start(t testing.TB, s Script) *Server {
	t.Helper()
	f := &Server{script: s, done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Close ends hanging streams and stops the server; it is safe to call
// more than once.
func (f *Server) Close() {
	f.mu.Lock()
	select {
	case <-f.done:
		f.mu.Unlock()
		return
	default:
		close(f.done)
	}
	f.mu.Unlock()
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// Requests returns a copy of the requests received so far, in order.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Count is the number of requests received so far.
func (f *Server) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	_ = json.Unmarshal(body, &req.JSON)

	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()

	var resp Response
	switch {
	case f.script.Func != nil:
		resp = f.script.Func(req)
	case len(f.script.Responses) > 0:
		resp = f.script.Responses[min(n, len(f.script.Responses)-1)]
	default:
		resp = DefaultResponse
	}
	st := &stream{w: w, r: r, req: req, done: f.done, resp: resp}
	if !st.sleep(resp.Delay) {
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		st.chatCompletions()
	case strings.HasSuffix(r.URL.Path, "/responses"):
		st.responses()
	case strings.HasSuffix(r.URL.Path, "/messages"):
		st.anthropic()
	default:
		http.Error(w, `{"error":{"message":"llmtest: no such endpoint"}}`, http.StatusNotFound)
	}
}

// stream writes one SSE response.
type stream struct {
	w     http.ResponseWriter
	r     *http.Request
	req   Request
	done  chan struct{}
	resp  Response
	sent  int // events written
	texts int // text deltas written
	// lastWrite is when the last event's write began.
	lastWrite time.Time
}

// sleep waits d unless the client or the server goes away first.
func (s *stream) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.r.Context().Done():
	case <-s.done:
	}
	return false
}

// failed writes the error response when Status asks for one.
func (s *stream) failed(body string) bool {
	if s.resp.Status == 0 || s.resp.Status == http.StatusOK {
		return false
	}
	if s.resp.RetryAfter != "" {
		s.w.Header().Set("Retry-After", s.resp.RetryAfter)
	}
	s.w.Header().Set("Content-Type", "application/json")
	s.w.WriteHeader(s.resp.Status)
	_, _ = io.WriteString(s.w, body)
	return true
}

func (s *stream) errMessage() string {
	if s.resp.ErrorMessage != "" {
		return s.resp.ErrorMessage
	}
	return "upstream exploded"
}

func (s *stream) begin() {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	s.w.WriteHeader(http.StatusOK)
	s.flush()
}

func (s *stream) flush() {
	if fl, ok := s.w.(http.Flusher); ok {
		fl.Flush()
	}
}

// event writes one SSE event (name "" for a data-only event) after the
// script's spacing; false means stop (client gone, or a scripted
// disconnect happened).
func (s *stream) event(name string, data any) bool {
	if s.sent > 0 && !s.sleep(s.resp.Spacing) {
		return false
	}
	var b bytes.Buffer
	if name != "" {
		fmt.Fprintf(&b, "event: %s\n", name)
	}
	switch d := data.(type) {
	case string:
		fmt.Fprintf(&b, "data: %s\n\n", d)
	default:
		j, _ := json.Marshal(d)
		fmt.Fprintf(&b, "data: %s\n\n", j)
	}
	s.lastWrite = time.Now()
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return false
	}
	s.flush()
	s.sent++
	return true
}

// text writes one text delta event and then, if the script says so,
// drops the connection.
func (s *stream) text(name string, data any) bool {
	if !s.event(name, data) {
		return false
	}
	s.texts++
	if s.resp.TextSent != nil {
		s.resp.TextSent <- s.lastWrite
	}
	if s.resp.DisconnectAfter > 0 && s.texts >= s.resp.DisconnectAfter {
		s.disconnect()
		return false
	}
	return true
}

// disconnect closes the TCP connection under the response, so the client
// sees the body end without its terminating chunk.
func (s *stream) disconnect() {
	if hj, ok := s.w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// hang holds the stream open until the client or the server goes away.
func (s *stream) hang() {
	select {
	case <-s.r.Context().Done():
	case <-s.done:
	}
}

func (s *stream) usage() Usage {
	if s.resp.Usage != nil {
		return *s.resp.Usage
	}
	return DefaultUsage
}

func args(tc ToolCall) (string, string) {
	a := tc.Arguments
	if a == "" {
		a = "{}"
	}
	half := len(a) / 2
	return a[:half], a[half:]
}
