package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/wire/client"
)

// cannedCaller answers the chat's calls with fixed JSON per method: the
// model's ordering rules are checked here without a connection (the pty
// tests cover the same paths end to end against recorded frames).
type cannedCaller map[string]string

func (c cannedCaller) Call(_ context.Context, method string, _, result any, _ ...client.CallOption) error {
	if raw, ok := c[method]; ok && result != nil {
		return json.Unmarshal([]byte(raw), result)
	}
	return nil
}

func testTUIModel() *tuiModel {
	return newTUIModel(cannedCaller{
		"chat.history":  `{"sessionKey":"agent:main:main","messages":[{"role":"user","content":[{"type":"text","text":"old question"}]},{"role":"assistant","content":[{"type":"text","text":"old answer"}]}]}`,
		"sessions.list": `{"defaults":{"modelProvider":"fake","model":"fake-model","contextTokens":200000},"sessions":[{"key":"agent:main:main","totalTokens":11}]}`,
	}, "ws://x", tuiFlags{HistoryLimit: 200}, agentConfig{MainKey: "main", Scope: "per-sender", DefaultAgent: "main"})
}

func lineTexts(m *tuiModel) string {
	var s []string
	for _, l := range m.lines {
		s = append(s, l.text)
	}
	return strings.Join(s, "|")
}

// A message typed while the history is on its way is kept below it, not
// wiped by it.
func TestTUIHistoryKeepsNewerLines(t *testing.T) {
	m := testTUIModel()
	m.system("stale line")
	load := m.loadHistory()
	m.send("typed early")
	m.Update(load())
	if got, want := lineTexts(m), "session agent:main:main|old question|old answer|typed early"; got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if m.footer() != "agent main | session main | fake/fake-model | tokens 11/200k" {
		t.Errorf("footer %q", m.footer())
	}
}

// Events of another session, and a finished run's late deltas, are not
// shown.
func TestTUIEventFilter(t *testing.T) {
	m := testTUIModel()
	ev := func(payload string) { m.Update(tuiEventMsg{clientEvent("chat", []byte(payload))}) }
	ev(`{"runId":"r1","sessionKey":"agent:main:other","seq":2,"state":"delta","message":{"role":"assistant","content":[{"type":"text","text":"elsewhere"}]}}`)
	ev(`{"runId":"r1","sessionKey":"agent:main:main","seq":2,"state":"delta","message":{"role":"assistant","content":[{"type":"text","text":"Hel"}]}}`)
	ev(`{"runId":"r1","sessionKey":"agent:main:main","seq":3,"state":"delta","message":{"role":"assistant","content":[{"type":"text","text":"Hello"}]}}`)
	if m.activeRun != "r1" || m.activity != "streaming" {
		t.Errorf("active %q activity %q", m.activeRun, m.activity)
	}
	ev(`{"runId":"r1","sessionKey":"agent:main:main","seq":4,"state":"final","message":{"role":"assistant","content":[{"type":"text","text":"Hello!"}]}}`)
	ev(`{"runId":"r1","sessionKey":"agent:main:main","seq":5,"state":"delta","message":{"role":"assistant","content":[{"type":"text","text":"late"}]}}`)
	ev(`{"runId":"r2","sessionKey":"agent:main:main","seq":1,"state":"error","errorMessage":"boom"}`)
	if got, want := lineTexts(m), "Hello!|run error: boom"; got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if m.activeRun != "" || m.activity != "error" {
		t.Errorf("active %q activity %q after the runs ended", m.activeRun, m.activity)
	}
}

func TestTUIResolveSessionKey(t *testing.T) {
	m := testTUIModel()
	for in, want := range map[string]string{
		"": "agent:main:main", "main": "agent:main:main", "work": "agent:main:work",
		"agent:ops:main": "agent:ops:main", "global": "global", "unknown": "unknown",
	} {
		if got := m.resolveSessionKey(in); got != want {
			t.Errorf("resolveSessionKey(%q) = %q, want %q", in, got, want)
		}
	}
	m.ac.Scope = "global"
	if got := m.resolveSessionKey("work"); got != "global" {
		t.Errorf("global scope: %q", got)
	}
	for in, want := range map[string]string{"agent:main:main": "main", "agent:ops:dm:+1": "dm:+1", "global": "global"} {
		if got := sessionLabel(in); got != want {
			t.Errorf("sessionLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessageText(t *testing.T) {
	for in, want := range map[string]string{
		`{"role":"user","content":"plain"}`: "plain",
		`{"role":"assistant","content":[{"type":"text","text":" a "},{"type":"toolCall","id":"x"},{"type":"text","text":"b"}]}`: "a\nb",
		`{"role":"assistant"}`: "",
	} {
		if got := messageText(json.RawMessage(in)); got != want {
			t.Errorf("messageText(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestTUIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--history-limit", "0"}, "tui: invalid --history-limit 0 (use 1-1000)"},
		{[]string{"--timeout-ms", "-5"}, "tui: invalid --timeout-ms -5 (use a positive number of ms, or leave it out)"},
	} {
		env, _, errb := callTestEnv(t, nil)
		if code := Main(append([]string{"tui"}, tc.args...), env); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if !strings.HasPrefix(errb.String(), "error: "+tc.want+"\n") {
			t.Errorf("%v: stderr %q", tc.args, errb)
		}
	}
}
