package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
)

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, e *env, method, path, auth, body string, hdr map[string]string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}
}

// Every status of the /v1 endpoints (doc/messaging.md §6.1, §6.2), plus ours
// where the original misbehaves (413, 404 unknown agent, stream end).
func TestV1Statuses(t *testing.T) {
	e := newEnv(t, nil)
	big := `{"model":"clawdbot","messages":[{"role":"user","content":"` + strings.Repeat("x", httpapi.DefaultChatMaxBodyBytes) + `"}]}`
	user := `{"model":"clawdbot","messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		name, method, path, auth, body string
		hdr                            map[string]string
		status                         int
		want                           string
	}{
		{"no bearer", "POST", "/v1/chat/completions", "", user, nil, 401, `{"error":{"message":"Unauthorized","type":"unauthorized","code":"invalid_api_key"}}`},
		{"wrong bearer", "POST", "/v1/responses", "nope", `{}`, nil, 401, `"type":"unauthorized"`},
		{"auth before method", "GET", "/v1/chat/completions", "", "", nil, 401, `"Unauthorized"`},
		{"method", "GET", "/v1/chat/completions", testToken, "", nil, 405, "Method Not Allowed"},
		{"malformed json", "POST", "/v1/chat/completions", testToken, `{bad`, nil, 400, `"code":"invalid_json"`},
		{"oversize", "POST", "/v1/chat/completions", testToken, big, nil, 413, `"code":"payload_too_large"`},
		{"no user message", "POST", "/v1/chat/completions", testToken, `{"messages":[{"role":"system","content":"x"}]}`, nil, 400, "Missing user message in `messages`."},
		{"unknown agent by model", "POST", "/v1/chat/completions", testToken, `{"model":"clawdbot:ghost","messages":[{"role":"user","content":"hi"}]}`, nil, 404, `"code":"agent_not_found"`},
		{"unknown agent by header", "POST", "/v1/responses", testToken, `{"model":"x","input":"hi"}`, map[string]string{"x-clawdbot-agent-id": "ghost"}, 404, `unknown agent \"ghost\"`},
		{"unknown path", "POST", "/v1/models", testToken, `{}`, nil, 404, "Not Found"},
		{"ok", "POST", "/v1/chat/completions", testToken, user, nil, 200, `"content":"Hello from the fake model."`},
		{"responses model missing", "POST", "/v1/responses", testToken, `{"input":"x"}`, nil, 400, "model: Invalid input: expected string, received undefined"},
		{"responses extra key", "POST", "/v1/responses", testToken, `{"model":"m","input":"x","foo":1}`, nil, 400, `: Unrecognized key: \"foo\"`},
		{"responses bad item", "POST", "/v1/responses", testToken, `{"model":"m","input":[{"type":"nope"}]}`, nil, 400, "input: Invalid input"},
		{"responses required no tools", "POST", "/v1/responses", testToken, `{"model":"m","input":"x","tool_choice":"required"}`, nil, 400, "tool_choice=required but no tools were provided"},
		{"responses unknown tool", "POST", "/v1/responses", testToken, `{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, nil, 400, "tool_choice requested unknown tool: g"},
		{"responses flat and nested tools", "POST", "/v1/responses", testToken, `{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"function","function":{"name":"g"}}],"tool_choice":{"type":"function","name":"g"}}`, nil, 200, `"status":"completed"`},
		{"responses no message", "POST", "/v1/responses", testToken, `{"model":"m","input":[{"type":"message","role":"system","content":"x"}]}`, nil, 400, "Missing user message in `input`."},
		{"responses image url", "POST", "/v1/responses", testToken, `{"model":"m","input":[{"type":"message","role":"user","content":[{"type":"input_image","source":{"type":"url","url":"http://x/y.png"}}]}]}`, nil, 400, "input_image by URL is not supported"},
		{"responses run failure", "POST", "/v1/responses", testToken, `{"model":"m","input":"FAIL"}`, nil, 500, `"status":"failed"`},
		{"chat run failure", "POST", "/v1/chat/completions", testToken, `{"messages":[{"role":"user","content":"FAIL"}]}`, nil, 500, `"type":"api_error"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, e, tc.method, tc.path, tc.auth, tc.body, tc.hdr)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Fatalf("%d %s, want %d containing %s", r.status, r.body, tc.status, tc.want)
			}
			if tc.status == 405 && r.header.Get("Allow") != "POST" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

// A disabled endpoint does not exist: 404, whatever the auth.
func TestDisabledEndpoints(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.ChatCompletions, c.Responses, c.Hooks = false, false, httpapi.Hooks{} })
	for _, p := range []string{"/v1/chat/completions", "/v1/responses", "/hooks/wake"} {
		if r := do(t, e, "POST", p, testToken, `{}`, nil); r.status != 404 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
}

// Session selection (§6.1): the header verbatim, else <prefix>-user:<user>,
// else a fresh stateless key; system messages become the extra prompt and
// earlier turns a history block.
func TestChatSessionAndPrompt(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"model":"agent:work","messages":[{"role":"system","content":"sys A"},{"role":"user","content":"q1"},{"role":"assistant","content":"a1"},{"role":"user","content":[{"type":"text","text":"q2"}]}]}`
	if r := do(t, e, "POST", "/v1/chat/completions", testToken, body, map[string]string{"x-clawdbot-session-key": "agent:work:custom"}); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got := lastUser(e.model.lastRequest())
	want := "[Chat messages since your last reply - for context]\nUser: q1\nAssistant: a1\n\n[Current message - respond to this]\nUser: q2"
	if got != want {
		t.Fatalf("message %q\nwant %q", got, want)
	}
	if len(e.sessions.transcript("agent:work:custom")) != 2 {
		t.Fatalf("sessions %v", e.sessions.keys())
	}
}

// The chat stream: lazy role chunk, one chunk per delta, a stop chunk with
// usage, [DONE].
func TestChatStreamFrames(t *testing.T) {
	e := newEnv(t, nil)
	r := do(t, e, "POST", "/v1/chat/completions", testToken, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream; charset=utf-8" || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	frames := strings.Split(strings.TrimSuffix(r.body, "\n\n"), "\n\n")
	if len(frames) != 1+len(fakeDeltas)+2 || frames[len(frames)-1] != "data: [DONE]" {
		t.Fatalf("frames %q", frames)
	}
	var last struct {
		Choices []struct {
			FinishReason *string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(frames[len(frames)-2], "data: ")), &last); err != nil {
		t.Fatal(err)
	}
	if *last.Choices[0].FinishReason != "stop" || last.Usage.TotalTokens != 17 {
		t.Fatalf("stop chunk %s", frames[len(frames)-2])
	}
}

// A client that goes away mid-stream does not abort the run: the reply
// reaches the transcript.
func TestDisconnectKeepsTheRun(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"stream":true,"user":"gone","messages":[{"role":"user","content":"SLOW"}]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := res.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	res.Body.Close() // the client leaves while the model waits
	close(e.model.release)
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		tr := e.sessions.transcript("agent:main:openai-user:gone")
		return len(tr) == 2 && tr[1].PlainText() == fakeText
	})
}

// Oversize bodies are a clean 413 even when the client streams the body
// without a length: the response is readable, no reset.
func TestOversizeChunkedBody(t *testing.T) {
	e := newEnv(t, nil)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"model":"m","input":"`))
		_, _ = pw.Write(bytes.Repeat([]byte("y"), httpapi.DefaultChatMaxBodyBytes+10))
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", pr)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(b), "payload too large") {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

// Repeated bad bearers from one address are refused with 429.
func TestBadTokenRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	for range httpapi.MaxFails {
		if r := do(t, e, "POST", "/v1/chat/completions", "bad", `{}`, nil); r.status != 401 {
			t.Fatalf("%d", r.status)
		}
	}
	r := do(t, e, "POST", "/v1/chat/completions", testToken, `{}`, nil)
	if r.status != 429 || !strings.Contains(r.body, "rate_limit_error") || r.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d %s", httpapi.MaxFails, r.status, r.body)
	}
}
