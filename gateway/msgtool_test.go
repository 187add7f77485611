package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/channelstest"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
)

// The agent's message tool on a real gateway: the model is the fake
// OpenAI upstream of gateway/models/llmtest and the channel channelstest's
// in-memory plugin (the real services are beyond loopback); between them
// run the real provider, runner, tool registry, channels manager and
// session store.

// messageToolServer is a gateway with the fake channel running and the
// default model on up; extra is merged into the config's top level.
func messageToolServer(t *testing.T, up *llmtest.Server, extra map[string]any) (*Server, *channelstest.Account) {
	t.Helper()
	plugin := channelstest.New(channels.Meta{ID: "fake", Label: "Fake", TextChunkLimit: 200})
	cfg := map[string]any{"channels": map[string]any{"fake": map[string]any{"token": "t", "dmPolicy": "open", "allowFrom": []any{"*"}}}}
	for k, v := range extra {
		cfg[k] = v
	}
	s := chatServer(t, nil, func(o *Options) {
		o.ChannelPlugins = []channels.Plugin{plugin}
		cronToolConfig(t, o, up.URL, cfg)
	})
	s.startChannels()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { a := plugin.Account("default"); return a != nil && a.Running() })
	return s, plugin.Account("default")
}

// chatTurnOn is chatTurnIdle on sessionKey.
func chatTurnOn(t *testing.T, s *Server, c *testClient, sessionKey, runID, message string) {
	t.Helper()
	send(c, "send-"+runID, "chat.send", map[string]any{"sessionKey": sessionKey, "message": message, "idempotencyKey": runID})
	fs := collectUntil(t, c, chatFinalOf(runID))
	if st := fs[len(fs)-1].payload()["state"]; st != "final" {
		t.Fatalf("run %s ended %v: %v", runID, st, fs[len(fs)-1].m)
	}
	waitIdle(t, s, sessionKey)
}

func TestMessageToolThroughAgentTurns(t *testing.T) {
	// Each user message names the tool call the model makes.
	calls := map[string]map[string]any{
		"note":      {"action": "send", "message": "note for you"},
		"picture":   {"action": "send", "media": "https://x.test/a.png"},
		"elsewhere": {"action": "send", "channel": "nope", "target": "1", "message": "x"},
		"notarget":  {"action": "send", "message": "x"},
		"react":     {"action": "react", "messageId": "1", "emoji": "👍"},
	}
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: func(r llmtest.Request) llmtest.Response {
		if r.LastRole() == "tool" {
			return llmtest.Response{Text: []string{"done"}}
		}
		// The word that names a call: the runner wraps the user's text
		// in an envelope and a [message_id: …] line.
		var args map[string]any
		for _, w := range strings.Fields(r.LastUserText()) {
			if args = calls[w]; args != nil {
				break
			}
		}
		if args == nil {
			return llmtest.Response{Text: []string{"?"}}
		}
		b, _ := json.Marshal(args)
		return llmtest.Response{ToolCalls: []llmtest.ToolCall{{ID: "call_msg", Name: "message", Arguments: string(b)}}}
	}})
	s, acct := messageToolServer(t, up, nil)
	c, _ := connectChat(t, s)
	// A DM from 55 on the fake channel is a turn on the main session
	// (dmScope main) whose route, fake/55, is the tool's default channel
	// and target; the tool's send comes first, the reply "done" after it.
	acct.Deliver(channels.Inbound{SenderID: "55", SenderName: "Ann", Text: "note"})
	sent := waitSent(t, acct, 2)
	waitIdle(t, s, "agent:main:main")
	reqs := up.Requests()
	if !contains(toolNamesOf(reqs[0]), "message") {
		t.Fatalf("tools offered = %v", toolNamesOf(reqs[0]))
	}
	if len(sent) != 2 || sent[0].To != "55" || sent[0].Text != "note for you" || sent[1].Text != "done" {
		t.Fatalf("sent %+v; tool said %q", sent, lastToolText(up.Requests()[len(up.Requests())-1]))
	}
	if got := lastToolText(up.Requests()[len(up.Requests())-1]); !strings.Contains(got, `"channel": "fake"`) {
		t.Errorf("tool result %q", got)
	}
	e, _ := s.f.sessions.Get("agent:main:main")
	tr, _ := os.ReadFile(filepath.Join(filepath.Dir(s.f.sessions.Target("agent:main:main").StorePath), e.SessionID+".jsonl"))
	if !strings.Contains(string(tr), `"model":"delivery-mirror"`) || !strings.Contains(string(tr), "note for you") {
		t.Errorf("transcript lacks the delivery mirror: %s", tr)
	}

	// Media only: the attachment goes out with no text.
	acct.Deliver(channels.Inbound{SenderID: "55", SenderName: "Ann", Text: "picture"})
	sent = waitSent(t, acct, 4)
	waitIdle(t, s, "agent:main:main")
	if len(sent) != 4 || sent[2].MediaURL != "https://x.test/a.png" || sent[2].Text != "" {
		t.Fatalf("media send %+v; tool said %q", sent, lastToolText(up.Requests()[len(up.Requests())-1]))
	}

	// Refusals come back to the model as tool errors; nothing is sent.
	for _, tc := range []struct{ session, message, want string }{
		{"main", "elsewhere", "unsupported channel: nope"},
		{"agent:main:fresh", "notarget", "Action send requires a target."},
		// The schema offers send only, as the original's does for
		// channels without other actions: the registry refuses the rest.
		{"main", "react", "action: must be equal to one of the allowed values"},
	} {
		chatTurnOn(t, s, c, tc.session, "run-"+tc.message, tc.message)
		if got := lastToolText(up.Requests()[len(up.Requests())-1]); !strings.Contains(got, tc.want) {
			t.Errorf("%s: tool result %q, want %q", tc.message, got, tc.want)
		}
	}
	if n := len(acct.Sent()); n != 4 {
		t.Errorf("%d sends after the refusals, want 4", n)
	}
}

// tools.deny group:messaging (the original's group of the message tool)
// takes it off the offered tools.
func TestMessageToolPolicyDeny(t *testing.T) {
	up := llmtest.NewOpenAI(t, llmtest.Script{Func: func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Text: []string{"ok"}}
	}})
	s, _ := messageToolServer(t, up, map[string]any{"tools": map[string]any{"deny": []any{"group:messaging"}}})
	c, _ := connectChat(t, s)
	chatTurnOn(t, s, c, "main", "run-deny", "hi")
	names := toolNamesOf(up.Requests()[0])
	if contains(names, "message") || !contains(names, "read") {
		t.Errorf("tools offered = %v", names)
	}
}
