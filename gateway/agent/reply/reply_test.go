package reply_test

import (
	"slices"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/agent/reply"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   reply.Options
		want   reply.Payload
		wantOK bool
	}{
		{"plain", "Hello there.", reply.Options{}, reply.Payload{Text: "Hello there."}, true},
		{"no reply", "  NO_REPLY \n", reply.Options{}, reply.Payload{Text: "NO_REPLY"}, false},
		{"no reply inside text is kept", "ok NO_REPLY", reply.Options{}, reply.Payload{Text: "ok NO_REPLY"}, true},
		{"heartbeat ok only in heartbeat runs", "HEARTBEAT_OK", reply.Options{}, reply.Payload{Text: "HEARTBEAT_OK"}, true},
		{"heartbeat ok silent", "HEARTBEAT_OK", reply.Options{Heartbeat: true}, reply.Payload{Text: "HEARTBEAT_OK"}, false},
		{"media line", "Here it is\nMEDIA: https://x.test/a.png\nMEDIA:`/tmp/b.jpg`", reply.Options{},
			reply.Payload{Text: "Here it is", MediaURLs: []string{"https://x.test/a.png", "/tmp/b.jpg"}}, true},
		{"media only", "MEDIA: ./c.mp3", reply.Options{}, reply.Payload{MediaURLs: []string{"./c.mp3"}}, true},
		{"media in a fence is text", "```\nMEDIA: /x\n```", reply.Options{}, reply.Payload{Text: "```\nMEDIA: /x\n```"}, true},
		{"invalid media stays", "MEDIA: not-a-path", reply.Options{}, reply.Payload{Text: "not-a-path"}, true},
		{"reply to current", "[[reply_to_current]] hi", reply.Options{CurrentMessageID: "m1"},
			reply.Payload{Text: "hi", ReplyToID: "m1", ReplyToCurrent: true}, true},
		{"reply to id wins", "[[ reply_to: 42 ]] hi [[reply_to_current]]", reply.Options{CurrentMessageID: "m1"},
			reply.Payload{Text: "hi", ReplyToID: "42", ReplyToCurrent: true}, true},
		{"audio as voice", "[[audio_as_voice]]\nMEDIA: /v.ogg", reply.Options{},
			reply.Payload{MediaURLs: []string{"/v.ogg"}, AudioAsVoice: true}, true},
		{"empty", "   ", reply.Options{}, reply.Payload{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := reply.Parse(tt.in, tt.opts)
			if ok != tt.wantOK || got.Text != tt.want.Text || !slices.Equal(got.MediaURLs, tt.want.MediaURLs) ||
				got.ReplyToID != tt.want.ReplyToID || got.ReplyToCurrent != tt.want.ReplyToCurrent ||
				got.AudioAsVoice != tt.want.AudioAsVoice {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
