package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// End-to-end turns through a real gateway on 127.0.0.1:0 with the REAL
// model resolver (gateway/models, built from the config file as in
// production, Options.Models left nil): the provider is configured in
// clawdbot.json with its baseUrl on a fake upstream and its key in the
// environment. The upstreams are gateway/models/llmtest's real-SSE fakes
// because no real model service can be reached from a test (loopback
// only); everything from the official SDK's HTTP request to the client's
// socket is the real gateway.

// upstreamE2EKey is the fake provider's key, read from the environment
// through the config's ${VAR} substitution.
const upstreamE2EKey = "sk-e2e-fake"

// upstreamGateway starts a gateway whose provider "fake" speaks api at
// up, with chat deltas unthrottled.
func upstreamGateway(t *testing.T, api string, up *llmtest.Server) *Server {
	t.Helper()
	return upstreamGatewayWith(t, api, up, "")
}

// upstreamGatewayWith is upstreamGateway with more agents.defaults
// settings (JSON5 members, each followed by a comma).
func upstreamGatewayWith(t *testing.T, api string, up *llmtest.Server, defaults string) *Server {
	t.Helper()
	t.Setenv("CLAWDBOT_E2E_FAKE_KEY", upstreamE2EKey)
	cfg := fmt.Sprintf(`{
  models: {providers: {fake: {baseUrl: %q, apiKey: "${CLAWDBOT_E2E_FAKE_KEY}", api: %q,
    models: [{id: "fake-model", name: "Fake"}]}}},
  agents: {defaults: {%s model: {primary: "fake/fake-model"}}},
}`, up.URL, api, defaults)
	return chatServer(t, nil, func(o *Options) {
		if err := os.WriteFile(o.ConfigPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		// As the gateway command does: the runtime's config is the file,
		// loaded and ${VAR}-substituted by profiles.
		c, err := profiles.LoadConfig(o.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		o.Runtime.Config = c
		if err := os.MkdirAll(o.Workspace, 0o700); err != nil {
			t.Fatal(err)
		}
	})
}

// upstreamAPIs are the three APIs, with the fake that speaks each and the
// path and auth header the official SDK sends.
var upstreamAPIs = []struct {
	api, path, header, value string
	start                    func(testing.TB, llmtest.Script) *llmtest.Server
}{
	{"openai-completions", "/v1/chat/completions", "Authorization", "Bearer " + upstreamE2EKey, llmtest.NewOpenAI},
	{"openai-responses", "/v1/responses", "Authorization", "Bearer " + upstreamE2EKey, llmtest.NewOpenAI},
	{"anthropic-messages", "/v1/messages", "X-Api-Key", upstreamE2EKey, llmtest.NewAnthropic},
}

// chatTurn sends one chat.send and returns its frames up to the chat
// final, error or aborted.
func chatTurn(t *testing.T, c *testClient, runID, message string) []wsFrame {
	t.Helper()
	send(c, "send-"+runID, "chat.send", map[string]any{"sessionKey": "main", "message": message, "idempotencyKey": runID})
	return collectUntil(t, c, chatFinalOf(runID))
}

func finalText(fs []wsFrame) any {
	msg, _ := fs[len(fs)-1].payload()["message"].(map[string]any)
	if msg == nil {
		return nil
	}
	return msg["content"].([]any)[0].(map[string]any)["text"]
}

// historyOf is chat.history's messages of the main session.
func historyOf(t *testing.T, c *testClient) []map[string]any {
	t.Helper()
	h := c.Call("chat.history", map[string]any{"sessionKey": "main"})
	var out []map[string]any
	for _, m := range h["payload"].(map[string]any)["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func TestChatThroughRealResolverStreams(t *testing.T) {
	for _, tc := range upstreamAPIs {
		t.Run(tc.api, func(t *testing.T) {
			up := tc.start(t, llmtest.Script{Responses: []llmtest.Response{{Text: helloDeltas, Spacing: 2 * time.Millisecond}}})
			s := upstreamGateway(t, tc.api, up)
			c, _ := connectChat(t, s)
			fs := chatTurn(t, c, "run-stream", "hello")
			want := []string{"res started", "agent lifecycle start 1"}
			for i := range helloDeltas {
				want = append(want, fmt.Sprintf("agent assistant %d", i+2), fmt.Sprintf("chat delta %d", i+2))
			}
			want = append(want, "agent lifecycle end 8", "chat final 8")
			if got := summarize(fs, "run-stream"); !slices.Equal(got, want) {
				t.Fatalf("frames:\n got %q\nwant %q\nlast %s", got, want, fs[len(fs)-1].raw)
			}
			if txt := finalText(fs); txt != "Hello from the fake model." {
				t.Errorf("final text %v", txt)
			}
			reqs := up.Requests()
			if len(reqs) != 1 || reqs[0].Path != tc.path || reqs[0].Header.Get(tc.header) != tc.value {
				t.Fatalf("upstream saw %d requests, first %s %s=%q", len(reqs), reqs[0].Path, tc.header, reqs[0].Header.Get(tc.header))
			}
			if u := reqs[0].LastUserText(); !strings.Contains(u, "hello\n[message_id: run-stream]") {
				t.Errorf("upstream user text %q", u)
			}
			h := historyOf(t, c)
			if len(h) != 2 || h[1]["role"] != "assistant" || h[1]["provider"] != "fake" || h[1]["api"] != tc.api {
				t.Errorf("history %v", h)
			}
		})
	}
}

// TestChatThroughRealResolverRateLimited: a 429 with Retry-After is waited
// out and retried on the same provider; the client sees one clean answer.
func TestChatThroughRealResolverRateLimited(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{
		{Status: 429, ErrorMessage: "slow down", RetryAfter: "0.2"},
		{Text: helloDeltas},
	}})
	s := upstreamGateway(t, "openai-completions", up)
	c, _ := connectChat(t, s)
	start := time.Now()
	fs := chatTurn(t, c, "run-429", "hello")
	if finalText(fs) != "Hello from the fake model." || up.Count() != 2 {
		t.Fatalf("final %v after %d upstream requests", finalText(fs), up.Count())
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %v: Retry-After 0.2 s was not honoured", d)
	}
	if got := summarize(fs, "run-429"); got[len(got)-2] != "agent lifecycle end 8" {
		t.Errorf("frames %q", got)
	}
}

// TestChatThroughRealResolverFailures: a failing upstream ends the turn
// with the error as its reply, as the original does (doc/messaging.md §1.2:
// an upstream failure is not an error res): lifecycle end, a chat final,
// and an assistant entry with stopReason "error" in the transcript.
func TestChatThroughRealResolverFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		resp     llmtest.Response
		requests int
		// deltas is how many assistant deltas reach the client first.
		deltas int
		errMsg string
	}{
		// A 500 is retried (3 times, as pi does; the fake's Retry-After
		// keeps the waits short) and then given up.
		{"500", llmtest.Response{Status: 500, ErrorMessage: "upstream exploded", RetryAfter: "0.01"}, 4, 0, "upstream exploded"},
		// A stream that breaks off mid-answer is not retried: its deltas
		// already reached the client.
		{"disconnect", llmtest.Response{Text: helloDeltas, DisconnectAfter: 2}, 1, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{tc.resp}})
			s := upstreamGateway(t, "openai-completions", up)
			c, _ := connectChat(t, s)
			fs := chatTurn(t, c, "run-fail", "hello")
			got := summarize(fs, "run-fail")
			want := []string{"res started", "agent lifecycle start 1"}
			for i := range tc.deltas {
				want = append(want, fmt.Sprintf("agent assistant %d", i+2), fmt.Sprintf("chat delta %d", i+2))
			}
			want = append(want, fmt.Sprintf("agent lifecycle end %d", tc.deltas+2), fmt.Sprintf("chat final %d", tc.deltas+2))
			if !slices.Equal(got, want) {
				t.Fatalf("frames:\n got %q\nwant %q", got, want)
			}
			if up.Count() != tc.requests {
				t.Errorf("%d upstream requests, want %d", up.Count(), tc.requests)
			}
			waitIdle(t, s, "agent:main:main")
			h := historyOf(t, c)
			last := h[len(h)-1]
			if last["role"] != "assistant" || last["stopReason"] != "error" || !strings.Contains(fmt.Sprint(last["errorMessage"]), tc.errMsg) {
				t.Errorf("last history entry %v, want an assistant error entry naming %q", last, tc.errMsg)
			}
		})
	}
}

// TestChatThroughRealResolverToolRoundTrip: the model calls a tool, the
// gateway runs it and calls the model again with the result, for each API.
func TestChatThroughRealResolverToolRoundTrip(t *testing.T) {
	for _, tc := range upstreamAPIs {
		t.Run(tc.api, func(t *testing.T) {
			var n atomic.Int32
			up := tc.start(t, llmtest.Script{Func: func(llmtest.Request) llmtest.Response {
				if n.Add(1) == 1 {
					return llmtest.Response{Text: []string{"Checking."}, ToolCalls: []llmtest.ToolCall{{ID: "call_ls_1", Name: "ls", Arguments: `{"path":"."}`}}}
				}
				return llmtest.Response{Text: []string{"All good", " after tool."}}
			}})
			s := upstreamGateway(t, tc.api, up)
			if err := os.WriteFile(s.opts.Workspace+"/marker-e2e.txt", []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			c, _ := connectChat(t, s)
			fs := chatTurn(t, c, "run-tool", "list the workspace")
			if got := finalText(fs); got == nil || !strings.Contains(got.(string), "All good after tool.") {
				t.Fatalf("final text %v (%q)", got, summarize(fs, "run-tool"))
			}
			reqs := up.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d upstream requests, want the tool call and the follow-up", len(reqs))
			}
			if !strings.Contains(string(reqs[1].Body), "call_ls_1") || !strings.Contains(string(reqs[1].Body), "marker-e2e.txt") {
				t.Errorf("the follow-up request does not carry the tool result: %.600s", reqs[1].Body)
			}
			waitIdle(t, s, "agent:main:main")
			var roles []string
			for _, m := range historyOf(t, c) {
				roles = append(roles, m["role"].(string))
			}
			if !slices.Equal(roles, []string{"user", "assistant", "toolResult", "assistant"}) {
				t.Errorf("history roles %v", roles)
			}
		})
	}
}

// TestChatSystemBlockThroughGateway: a system event queued through the
// system-event method reaches the model at the start of the next
// main-session chat turn as the original's "System:" block, once.
func TestChatSystemBlockThroughGateway(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{})
	s := upstreamGatewayWith(t, "openai-completions", up, `envelopeTimezone: "utc",`)
	c, _ := connectChat(t, s)
	if r := c.Call("system-event", map[string]any{"text": "Reminder: water the plants"}); r["ok"] != true {
		t.Fatalf("system-event: %v", r)
	}
	chatTurn(t, c, "run-sys-1", "hello")
	waitIdle(t, s, "agent:main:main")
	chatTurn(t, c, "run-sys-2", "again")
	reqs := up.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	first := reqs[0].LastUserText()
	if !regexp.MustCompile(`^System: \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] Reminder: water the plants\n\nhello\n\[message_id: run-sys-1\]$`).MatchString(first) {
		t.Errorf("first turn's user text %q", first)
	}
	if second := reqs[1].LastUserText(); second != "again\n[message_id: run-sys-2]" {
		t.Errorf("second turn's user text %q, want no System block", second)
	}
	// The transcript keeps what the model saw, as the original's does.
	if h := historyOf(t, c); len(h) < 1 || !strings.Contains(fmt.Sprint(h[0]["content"]), "System: [") {
		t.Errorf("history %v", h)
	}
}

// TestChatAuthProfileRotationThroughGateway: with two auth profiles for
// the provider, the first rate limited, the turn is answered with the
// second and the first's cooldown is in the agent's auth-profiles.json.
func TestChatAuthProfileRotationThroughGateway(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: func(r llmtest.Request) llmtest.Response {
		if r.Header.Get("Authorization") == "Bearer sk-profile-2" {
			return llmtest.Response{Text: helloDeltas}
		}
		return llmtest.Response{Status: 429, ErrorMessage: "rate limited"}
	}})
	s := upstreamGateway(t, "openai-completions", up)
	path := filepath.Join(s.opts.StateDir, "agents", "main", "agent", "auth-profiles.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(`{"version":1,"profiles":{"fake:one":{"type":"api_key","provider":"fake","key":"sk-profile-1"},"fake:two":{"type":"api_key","provider":"fake","key":"sk-profile-2"}}}`), 0o600)
	c, _ := connectChat(t, s)
	fs := chatTurn(t, c, "run-rotate", "hello")
	if finalText(fs) != "Hello from the fake model." || up.Count() != 2 {
		t.Fatalf("final %v after %d upstream requests", finalText(fs), up.Count())
	}
	var saved struct {
		LastGood   map[string]string
		UsageStats map[string]map[string]any
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.LastGood["fake"] != "fake:two" || saved.UsageStats["fake:one"]["cooldownUntil"] == nil || saved.UsageStats["fake:one"]["errorCount"] != 1.0 {
		t.Errorf("auth-profiles.json after the turn:\n%s", b)
	}
}
