package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/httpapi"
)

const hookTok = "hook-token-123"

// Every row of the hooks status table (doc/messaging.md §6.3).
func TestHookStatuses(t *testing.T) {
	e := newEnv(t, nil)
	tok := map[string]string{"X-Clawdbot-Token": hookTok}
	for _, tc := range []struct {
		name, method, path, auth, body string
		hdr                            map[string]string
		status                         int
		want                           string
	}{
		{"no token before method", "GET", "/hooks/wake", "", "", nil, 401, "Unauthorized"},
		{"wrong token", "POST", "/hooks/wake", "nope", `{"text":"x"}`, nil, 401, "Unauthorized"},
		{"gateway token is not the hook token", "POST", "/hooks/wake", testToken, `{"text":"x"}`, nil, 401, "Unauthorized"},
		{"method", "GET", "/hooks/wake", "", "", tok, 405, "Method Not Allowed"},
		{"bare base", "POST", "/hooks", "", "", tok, 404, "Not Found"},
		{"wake no text", "POST", "/hooks/wake", "", `{}`, tok, 400, `{"ok":false,"error":"text required"}`},
		{"wake", "POST", "/hooks/wake", "", `{"text":"ping"}`, tok, 200, `{"ok":true,"mode":"now"}`},
		{"wake query token", "POST", "/hooks/wake?token=" + hookTok, "", `{"text":"ping","mode":"next-heartbeat"}`, nil, 200, `{"ok":true,"mode":"next-heartbeat"}`},
		{"agent channel", "POST", "/hooks/agent", hookTok, `{"message":"m","channel":"telegram"}`, nil, 400, `{"ok":false,"error":"channel must be last"}`},
		{"agent empty model", "POST", "/hooks/agent", hookTok, `{"message":"m","model":""}`, nil, 400, `{"ok":false,"error":"model required"}`},
		{"agent no message", "POST", "/hooks/agent", hookTok, `{}`, nil, 400, `message required`},
		{"agent delivery target", "POST", "/hooks/agent", hookTok, `{"message":"m","to":"12345"}`, nil, 400, "delivery to a channel target is not available"},
		{"agent", "POST", "/hooks/agent", hookTok, `{"message":"hook run","name":"Test","deliver":false}`, nil, 202, `{"ok":true,"runId":"`},
		{"unmapped", "POST", "/hooks/other", hookTok, `{}`, nil, 404, "Not Found"},
		{"bad json", "POST", "/hooks/wake", hookTok, `{bad`, nil, 400, `"error":"SyntaxError:`},
		{"oversize", "POST", "/hooks/wake", hookTok, `{"text":"` + strings.Repeat("z", httpapi.DefaultHooksMaxBodyBytes) + `"}`, nil, 413, `{"ok":false,"error":"payload too large"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, e, tc.method, tc.path, tc.auth, tc.body, tc.hdr)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Fatalf("%d %s, want %d containing %s", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	ev, beats := e.sys.snapshot()
	if !slices.Contains(ev, "agent:main:main ping") || !slices.Contains(beats, "hook:wake") {
		t.Fatalf("events %q beats %q", ev, beats)
	}
}

// /hooks/agent: the 202's run id is the run's id, and the summary lands in
// the main session.
func TestHookAgentRunID(t *testing.T) {
	e := newEnv(t, nil)
	r := do(t, e, "POST", "/hooks/agent", hookTok, `{"message":"hook run","name":"Test","sessionKey":"hook:fixed"}`, nil)
	var body struct{ RunID string }
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		ev, _ := e.sys.snapshot()
		return slices.Contains(ev, "agent:main:main Hook Test: "+fakeText)
	})
	if w := e.runner.Wait(t.Context(), body.RunID, time.Second); w.Status != "ok" {
		t.Fatalf("agent.wait on the hook's run id: %+v", w)
	}
	if len(e.sessions.transcript("agent:main:hook:fixed")) != 2 {
		t.Fatalf("sessions %v", e.sessions.keys())
	}
}

// Mappings: match by path and source, templates over payload, headers,
// query and path, the wake action, a transform (which cannot run here).
func TestHookMappings(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		f := false
		c.Hooks.Mappings = []httpapi.Mapping{
			{ID: "gh", MatchPath: "github", MatchSource: "gh", Action: "agent", WakeMode: "now", Name: "GitHub {{repo.name}}",
				SessionKey: "hook:gh:{{commits[0].id}}", Deliver: &f,
				MessageTemplate: "push to {{payload.repo.name}} by {{headers.x-user}} ({{query.kind}}, {{path}}): {{commits[1].msg}} {{commits}} {{missing}}"},
			{ID: "ping", MatchPath: "ping", Action: "wake", WakeMode: "next-heartbeat", TextTemplate: "ping {{n}}"},
			{ID: "empty", MatchPath: "empty", Action: "agent", MessageTemplate: "{{nothing}}"},
			{ID: "js", MatchPath: "js", Action: "agent", MessageTemplate: "x", Transform: "t.js"},
		}
	})
	body := `{"source":"gh","repo":{"name":"clawdbot"},"commits":[{"id":"c1","msg":"one"},{"id":"c2","msg":"two"}]}`
	r := do(t, e, "POST", "/hooks/github?kind=push", hookTok, body, map[string]string{"X-User": "ann"})
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(e.sessions.transcript("agent:main:hook:gh:c1")) == 2 })
	got := e.sessions.transcript("agent:main:hook:gh:c1")[0].PlainText()
	want := `push to clawdbot by ann (push, github): two [{"id":"c1","msg":"one"},{"id":"c2","msg":"two"}] `
	if got != want {
		t.Fatalf("message %q\nwant %q", got, want)
	}
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		ev, _ := e.sys.snapshot()
		return slices.Contains(ev, "agent:main:main Hook GitHub clawdbot: "+fakeText)
	})
	for _, tc := range []struct {
		path, body, want string
		status           int
	}{
		{"/hooks/github", `{"source":"other"}`, "Not Found", 404},
		{"/hooks/ping", `{"n":3}`, `{"ok":true,"mode":"next-heartbeat"}`, 200},
		{"/hooks/empty", `{}`, "hook mapping requires message", 400},
		{"/hooks/js", `{}`, "transform module (t.js)", 500},
	} {
		if r := do(t, e, "POST", tc.path, hookTok, tc.body, nil); r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Fatalf("%s: %d %s", tc.path, r.status, r.body)
		}
	}
	if ev, _ := e.sys.snapshot(); !slices.Contains(ev, "agent:main:main ping 3") {
		t.Fatalf("events %q", ev)
	}
}
