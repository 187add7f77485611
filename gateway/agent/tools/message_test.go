package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent"
)

// recordingMessenger is a Messenger over a fixed route that records the
// sends; the real one (the channels manager) is exercised by the
// gateway's message tool tests.
type recordingMessenger struct {
	channel, to, account string
	sent                 []OutboundMessage
	fail                 error
}

func (m *recordingMessenger) Route(string) (string, string, string) {
	return m.channel, m.to, m.account
}

func (m *recordingMessenger) Send(_ context.Context, o OutboundMessage) (json.RawMessage, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	m.sent = append(m.sent, o)
	return json.RawMessage(`{"messageId":"1","channel":"` + o.Channel + `"}`), nil
}

func TestMessageToolRun(t *testing.T) {
	for _, tc := range []struct {
		name, args string
		route      [3]string
		fail       error
		want       OutboundMessage // zero: nothing sent
		wantErr    string
	}{
		{name: "current route", args: `{"action":"send","message":"hi"}`, route: [3]string{"fake", "55", "acc"},
			want: OutboundMessage{Channel: "fake", To: "55", AccountID: "acc", Message: "hi"}},
		{name: "explicit target", args: `{"action":"send","target":"9","message":"hi"}`, route: [3]string{"fake", "55", ""},
			want: OutboundMessage{Channel: "fake", To: "9", Message: "hi"}},
		{name: "legacy to", args: `{"action":"send","to":"7","message":"hi"}`, route: [3]string{"fake", "55", ""},
			want: OutboundMessage{Channel: "fake", To: "7", Message: "hi"}},
		{name: "other channel keeps no target", args: `{"action":"send","channel":"telegram","message":"hi"}`,
			route: [3]string{"fake", "55", ""}, wantErr: "Action send requires a target."},
		{name: "media from path", args: `{"action":"send","target":"1","path":"/tmp/a.png","gifPlayback":true}`,
			route: [3]string{"fake", "", ""}, want: OutboundMessage{Channel: "fake", To: "1", MediaURL: "/tmp/a.png", GifPlayback: true}},
		{name: "no message", args: `{"action":"send","target":"1"}`, route: [3]string{"fake", "", ""}, wantErr: "message required"},
		{name: "no route", args: `{"action":"send","message":"hi"}`, wantErr: "Action send requires a target."},
		{name: "unsupported action", args: `{"action":"poll","target":"1"}`, route: [3]string{"fake", "1", ""},
			wantErr: "Message action poll is not supported by this gateway"},
		{name: "unknown action", args: `{"action":"dance"}`, wantErr: "Unknown action: dance"},
		{name: "thread refused", args: `{"action":"send","target":"1","message":"hi","threadId":"3"}`, route: [3]string{"fake", "", ""},
			wantErr: "threadId is not supported by this gateway"},
		{name: "no action", args: `{}`, wantErr: "action required"},
		{name: "remote gateway", args: `{"action":"send","gatewayUrl":"ws://x","message":"hi"}`, wantErr: "gatewayUrl/gatewayToken are not supported"},
		{name: "send error", args: `{"action":"send","target":"1","message":"hi"}`, route: [3]string{"fake", "", ""},
			fail: errors.New("unsupported channel: fake"), wantErr: "unsupported channel: fake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &recordingMessenger{channel: tc.route[0], to: tc.route[1], account: tc.route[2], fail: tc.fail}
			res, err := messageTool(m).Run(context.Background(), &Call{ID: "c1", Name: "message", Args: json.RawMessage(tc.args),
				Session: agent.Session{Key: "agent:main:main"}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || len(m.sent) != 0 {
					t.Fatalf("err %v, sent %+v; want %q", err, m.sent, tc.wantErr)
				}
				return
			}
			if err != nil || res.IsError || len(m.sent) != 1 {
				t.Fatalf("res %+v err %v sent %+v", res, err, m.sent)
			}
			got := m.sent[0]
			if !strings.HasPrefix(got.IdempotencyKey, "message-tool:") {
				t.Errorf("idempotency key %q", got.IdempotencyKey)
			}
			got.IdempotencyKey = ""
			if got != tc.want {
				t.Errorf("sent %+v, want %+v", got, tc.want)
			}
		})
	}
}

// dryRun answers the original's dry-run payload and sends nothing.
func TestMessageToolDryRun(t *testing.T) {
	m := &recordingMessenger{channel: "fake", to: "5"}
	res, err := messageTool(m).Run(context.Background(), &Call{Name: "message", Args: json.RawMessage(`{"action":"send","message":"x","dryRun":true}`)})
	if err != nil || len(m.sent) != 0 || !strings.Contains(res.Content[0].Text, `"dryRun": true`) {
		t.Fatalf("res %+v err %v sent %+v", res, err, m.sent)
	}
}
