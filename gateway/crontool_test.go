package gateway

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clawdbot/clawdbot/gateway/agent"
	"github.com/clawdbot/clawdbot/gateway/agent/tools"
	"github.com/clawdbot/clawdbot/gateway/cron"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// The agent's cron tool on a real gateway: turns go to the fake OpenAI
// upstream of gateway/models/llmtest (a fake because the real service is
// beyond loopback) through the real provider, runner, tool registry and
// scheduler; the jobs the model makes are read back with cron.* over the
// WebSocket.

// cronToolConfig writes a config whose default model is the fake upstream
// at url, with the scheduler's timer off (cron.enabled false) so that only
// the tool's cron run executes a job; extra is merged at the top level.
// The runtime gets it as the CLI would hand it over.
func cronToolConfig(t *testing.T, o *Options, url string, extra map[string]any) {
	t.Helper()
	cfg := map[string]any{
		"models": map[string]any{"providers": map[string]any{"fake": map[string]any{
			"baseUrl": url, "apiKey": "sk-fake", "api": "openai-completions",
			"models": []any{map[string]any{"id": "m", "name": "m", "contextWindow": 128000, "maxTokens": 4096}}}}},
		"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "fake/m"}}},
		"cron":   map[string]any{"enabled": false},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(o.ConfigPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := profiles.Load(o.ConfigPath)
	if err != nil || snap.Config == nil {
		t.Fatalf("load config: %v", err)
	}
	o.Runtime.Config = snap.Config
}

// lastToolText is the content of the last message of a Chat Completions
// request when it is a tool result ("" otherwise): what the model was
// told the tool answered.
func lastToolText(r llmtest.Request) string {
	msgs, _ := r.JSON["messages"].([]any)
	if len(msgs) == 0 {
		return ""
	}
	m, _ := msgs[len(msgs)-1].(map[string]any)
	if m["role"] != "tool" {
		return ""
	}
	switch c := m["content"].(type) {
	case string:
		return c
	case []any:
		var b strings.Builder
		for _, p := range c {
			if pm, ok := p.(map[string]any); ok {
				s, _ := pm["text"].(string)
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}

func toolNamesOf(r llmtest.Request) []string {
	var out []string
	ts, _ := r.JSON["tools"].([]any)
	for _, t := range ts {
		f, _ := t.(map[string]any)["function"].(map[string]any)
		if n, ok := f["name"].(string); ok {
			out = append(out, n)
		}
	}
	return out
}

// chatTurnIdle sends message to the main session and waits for the run's end and the session is idle again.
func chatTurnIdle(t *testing.T, s *Server, c *testClient, runID, message string) {
	t.Helper()
	send(c, "send-"+runID, "chat.send", map[string]any{"sessionKey": "main", "message": message, "idempotencyKey": runID})
	fs := collectUntil(t, c, chatFinalOf(runID))
	if st := fs[len(fs)-1].payload()["state"]; st != "final" {
		t.Fatalf("run %s ended %v: %v", runID, st, fs[len(fs)-1].m)
	}
	waitIdle(t, s, "agent:main:main")
}

func TestCronToolThroughAgentTurns(t *testing.T) {
	var atMs atomic.Int64
	runRe := regexp.MustCompile(`run job (\S+)`)
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: func(r llmtest.Request) llmtest.Response {
		if r.LastRole() == "tool" {
			return llmtest.Response{Text: []string{"done"}}
		}
		user := r.LastUserText()
		var args any
		switch {
		case strings.Contains(user, "remind me"):
			at := time.Now().Add(700 * time.Millisecond).UnixMilli()
			atMs.Store(at)
			args = map[string]any{"action": "add", "contextMessages": 10, "job": map[string]any{"name": "stand up",
				"schedule": map[string]any{"kind": "at", "atMs": at}, "payload": map[string]any{"kind": "systemEvent", "text": "Reminder: stand up"}}}
		case runRe.MatchString(user):
			args = map[string]any{"action": "run", "jobId": runRe.FindStringSubmatch(user)[1]}
		case strings.Contains(user, "broken"):
			args = map[string]any{"action": "update", "patch": map[string]any{"enabled": false}}
		default:
			return llmtest.Response{Text: []string{"?"}}
		}
		b, _ := json.Marshal(args)
		return llmtest.Response{ToolCalls: []llmtest.ToolCall{{ID: "call_cron", Name: "cron", Arguments: string(b)}}}
	}})
	s := chatServer(t, nil, func(o *Options) { cronToolConfig(t, o, up.URL, nil) })
	c, _ := connectChat(t, s)

	// A long first message: the reminder's context line is cut to 220.
	long := "remind me " + strings.Repeat("x", 400)
	chatTurnIdle(t, s, c, "run-add", long)
	reqs := up.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model requests, want tool call + answer", len(reqs))
	}
	if !contains(toolNamesOf(reqs[0]), "cron") {
		t.Fatalf("tools offered = %v", toolNamesOf(reqs[0]))
	}
	var added map[string]any
	if err := json.Unmarshal([]byte(lastToolText(reqs[1])), &added); err != nil || added["id"] == nil {
		t.Fatalf("add result the model saw = %q (%v)", lastToolText(reqs[1]), err)
	}
	id := added["id"].(string)

	// The job is the scheduler's: cron.list shows it, with the session's
	// agent and the reminder context appended to its text.
	list := c.Call("cron.list", map[string]any{})["payload"].(map[string]any)["jobs"].([]any)
	if len(list) != 1 {
		t.Fatalf("cron.list = %v", list)
	}
	job := list[0].(map[string]any)
	text := job["payload"].(map[string]any)["text"].(string)
	base, ctxLines, ok := strings.Cut(text, "\n\nRecent context:\n")
	if job["id"] != id || job["agentId"] != "main" || base != "Reminder: stand up" || !ok {
		t.Fatalf("job = %v", job)
	}
	line := strings.Split(ctxLines, "\n")[0]
	if !strings.HasPrefix(line, "- User: remind me xxx") || !strings.HasSuffix(line, "...") || utf8.RuneCountInString(line) != len("- User: ")+220 {
		t.Fatalf("context line (%d chars) = %q", len(line), line)
	}
	if len(ctxLines) > 700 {
		t.Fatalf("context is %d chars, over the 700 cap", len(ctxLines))
	}

	// Once the job is due, the tool's run executes it.
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return time.Now().UnixMilli() > atMs.Load() })
	chatTurnIdle(t, s, c, "run-run", "please run job "+id)
	reqs = up.Requests()
	if got := lastToolText(reqs[len(reqs)-1]); !strings.Contains(got, `"ran": true`) {
		t.Fatalf("run result the model saw = %q", got)
	}
	runs := c.Call("cron.runs", map[string]any{"id": id})["payload"].(map[string]any)["entries"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["status"] != "ok" {
		t.Fatalf("cron.runs = %v", runs)
	}

	// A call the tool refuses is a tool error the model reads; the run
	// goes on to its answer.
	chatTurnIdle(t, s, c, "run-bad", "broken call")
	reqs = up.Requests()
	if got := lastToolText(reqs[len(reqs)-1]); got != "jobId required (id accepted for backward compatibility)" {
		t.Fatalf("error result the model saw = %q", got)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// cronToolHarness is the tool set the core builds, with the scheduler of
// s, and the session a turn would run in.
func cronToolHarness(s *Server) (*tools.Registry, agent.Session) {
	reg := tools.New(tools.Options{Workspace: s.opts.Workspace, Config: cron.ConfigFile(s.opts.ConfigPath),
		Store: s.f.sessions, Cron: &cronScheduler{s: s}})
	return reg, agent.Session{Key: "agent:main:main", AgentID: "main"}
}

func callCronTool(t *testing.T, reg *tools.Registry, sess agent.Session, args string) agent.ToolResult {
	t.Helper()
	res, err := reg.Call(context.Background(), sess, llm.Content{Type: llm.ContentToolCall, ID: "c1", Name: "cron", Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("Call(%s): %v", args, err)
	}
	return res
}

func TestCronToolActionsAndErrors(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.Workspace = filepath.Join(o.StateDir, "workspace")
		cronToolConfig(t, o, "http://127.0.0.1:9/v1", nil)
	})
	reg, sess := cronToolHarness(s)
	every := `{"action":"add","job":{"name":"tick","schedule":{"kind":"every","everyMs":60000},"payload":{"kind":"systemEvent","text":"tick"},"agentId":"ops"}}`
	res := callCronTool(t, reg, sess, every)
	var job map[string]any
	if res.IsError || json.Unmarshal(res.Details, &job) != nil || job["agentId"] != "ops" {
		t.Fatalf("add = %+v", res)
	}
	id := job["id"].(string)
	for _, tc := range []struct {
		name, args string
		isError    bool
		want       string // a substring of the result text
	}{
		{"status", `{"action":"status"}`, false, `"jobs": 1`},
		{"list", `{"action":"list"}`, false, `"id": "` + id + `"`},
		{"update by id", `{"action":"update","id":"` + id + `","patch":{"enabled":false}}`, false, `"enabled": false`},
		{"list hides disabled", `{"action":"list"}`, false, `"jobs": []`},
		{"list includeDisabled", `{"action":"list","includeDisabled":true}`, false, `"name": "tick"`},
		{"run not due", `{"action":"run","jobId":"` + id + `"}`, false, `"reason": "not-due"`},
		{"runs", `{"action":"runs","jobId":"` + id + `"}`, false, `"entries": []`},
		{"wake", `{"action":"wake","text":"hello","mode":"bogus-is-schema-error"}`, true, "Validation failed"},
		{"wake default mode", `{"action":"wake","text":"hello"}`, false, `"ok": true`},
		{"wake needs text", `{"action":"wake","text":"  "}`, true, "text required"},
		{"add needs job", `{"action":"add"}`, true, "job required"},
		{"add bad job", `{"action":"add","job":{"name":"x"}}`, true, "invalid cron.add params"},
		{"update needs id", `{"action":"update","patch":{}}`, true, "jobId required (id accepted for backward compatibility)"},
		{"update needs patch", `{"action":"update","jobId":"` + id + `"}`, true, "patch required"},
		{"remove unknown", `{"action":"remove","jobId":"nope"}`, false, `"removed": false`},
		{"run unknown", `{"action":"run","jobId":"nope"}`, true, "unknown cron job id"},
		{"unknown action", `{"action":"explode"}`, true, "Validation failed"},
		{"not JSON", `{"action":`, true, "not valid JSON"},
		{"job not an object", `{"action":"add","job":[1]}`, true, "Validation failed"},
		{"contextMessages over 10", `{"action":"list","contextMessages":11}`, true, "Validation failed"},
		{"remote gateway", `{"action":"status","gatewayUrl":"ws://10.0.0.1:18789"}`, true, "not supported"},
		{"remove", `{"action":"remove","jobId":"` + id + `"}`, false, `"removed": true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := callCronTool(t, reg, sess, tc.args)
			text := res.Content[0].Text
			if res.IsError != tc.isError || !strings.Contains(text, tc.want) {
				t.Fatalf("isError=%v text=%q, want isError=%v containing %q", res.IsError, text, tc.isError, tc.want)
			}
		})
	}
}

func TestCronToolHonoursToolPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tools   map[string]any
		offered bool
	}{
		{"default", nil, true},
		{"deny group:automation", map[string]any{"deny": []any{"group:automation"}}, false},
		{"deny cron", map[string]any{"deny": []any{"cron"}}, false},
		{"coding profile", map[string]any{"profile": "coding"}, false},
		{"coding profile plus automation", map[string]any{"profile": "coding", "allow": []any{"group:automation", "group:fs"}}, false},
		{"allow group:clawdbot", map[string]any{"allow": []any{"group:clawdbot"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, func(o *Options) {
				extra := map[string]any{}
				if tc.tools != nil {
					extra["tools"] = tc.tools
				}
				cronToolConfig(t, o, "http://127.0.0.1:9/v1", extra)
			})
			reg, sess := cronToolHarness(s)
			var names []string
			for _, sp := range reg.Specs(sess) {
				names = append(names, sp.Name)
			}
			if contains(names, "cron") != tc.offered {
				t.Fatalf("offered %v, want cron offered=%v", names, tc.offered)
			}
			res := callCronTool(t, reg, sess, `{"action":"status"}`)
			if res.IsError == tc.offered {
				t.Fatalf("status: %+v", res)
			}
			if !tc.offered && res.Content[0].Text != "Tool cron not found" {
				t.Fatalf("denied call = %q", res.Content[0].Text)
			}
		})
	}
}
