package telegram

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mymmrac/telego"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram/telegramtest"
)

func TestParseUpdate(t *testing.T) {
	bot := BotIdentity{ID: 42, Username: "MyBot"}
	from := `"from":{"id":7,"is_bot":false,"first_name":"Bo","username":"bo"}`
	group := `"chat":{"id":-100,"type":"supergroup"}`
	cases := []struct {
		name, update string
		ok           bool
		chatType     channels.ChatType
		mentioned    bool
		thread       string
	}{
		{"dm", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},` + from + `,"text":"hi"}}`, true, channels.ChatDM, false, ""},
		{"group plain", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"hi all"}}`, true, channels.ChatGroup, false, ""},
		{"mention entity", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"😀 @mybot hi","entities":[{"type":"mention","offset":3,"length":6}]}}`, true, channels.ChatGroup, true, ""},
		{"other mention", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"@mybotx hi","entities":[{"type":"mention","offset":0,"length":7}]}}`, true, channels.ChatGroup, false, ""},
		{"text mention", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"Bot hi","entities":[{"type":"text_mention","offset":0,"length":3,"user":{"id":42,"is_bot":true,"first_name":"B"}}]}}`, true, channels.ChatGroup, true, ""},
		{"command", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"/status@MyBot","entities":[{"type":"bot_command","offset":0,"length":13}]}}`, true, channels.ChatGroup, true, ""},
		{"no entities", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"hey @mybot, look"}}`, true, channels.ChatGroup, true, ""},
		{"reply to bot", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"yes","reply_to_message":{"message_id":4,"date":1,` + group + `,"from":{"id":42,"is_bot":true,"first_name":"B"}}}}`, true, channels.ChatGroup, true, ""},
		{"topic", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"text":"t","is_topic_message":true,"message_thread_id":9}}`, true, channels.ChatGroup, false, "9"},
		{"photo caption", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},` + from + `,"photo":[{"file_id":"a","file_unique_id":"b","width":1,"height":1}],"caption":"look"}}`, true, channels.ChatDM, false, ""},
		{"own message", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,"from":{"id":42,"is_bot":true,"first_name":"B"},"text":"me"}}`, false, "", false, ""},
		{"channel post", `{"update_id":1,"channel_post":{"message_id":5,"date":1,"chat":{"id":-5,"type":"channel"},"text":"news"}}`, false, "", false, ""},
		{"service message", `{"update_id":1,"message":{"message_id":5,"date":1,` + group + `,` + from + `,"new_chat_title":"x"}}`, false, "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var u telego.Update
			if err := json.Unmarshal([]byte(c.update), &u); err != nil {
				t.Fatal(err)
			}
			in, ok := ParseUpdate(u, bot)
			if ok != c.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if in.ChatType != c.chatType || in.MentionedBot != c.mentioned || in.ThreadID != c.thread || in.SenderID != "7" || in.SenderUsername != "bo" || in.MessageID != "5" {
				t.Fatalf("inbound %+v", in)
			}
		})
	}
}

func TestGroupMentionThroughPolling(t *testing.T) {
	srv := telegramtest.New(t)
	host := newHost()
	run(t, newAccount(t, srv, t.TempDir(), nil), host)
	srv.PushGroup(-100500, alice, "no mention", false)
	srv.PushGroup(-100500, alice, "with mention", true)
	srv.PushReplyToBot(-100500, alice, "a reply", 77)
	want := []struct {
		text      string
		mentioned bool
	}{{"no mention", false}, {"@" + telegramtest.BotUsername + " with mention", true}, {"a reply\n\n[Replying to Fake id:77]\nearlier\n[/Replying]", true}}
	for _, w := range want {
		m := host.next(t)
		if m.Text != w.text || m.MentionedBot != w.mentioned || m.ChatType != channels.ChatGroup || m.ChatID != "-100500" {
			t.Fatalf("inbound %+v, want %q mentioned=%v", m, w.text, w.mentioned)
		}
	}
}

func TestInboundPhotoIsDownloaded(t *testing.T) {
	srv := telegramtest.New(t)
	dir := t.TempDir()
	srv.AddFile("ph1", "photos/file_1.jpg", []byte("\xff\xd8\xff fake jpeg"))
	srv.AddFile("big", "photos/big.jpg", make([]byte, 2<<20))
	host := newHost()
	run(t, newAccount(t, srv, dir, map[string]any{"mediaMaxMb": 1}), host)
	srv.PushPhotoDM(alice, "ph1", "look")
	m := host.next(t)
	if m.Text != "look" || len(m.Media) != 1 || m.Media[0].Kind != "image" || m.Media[0].Path == "" {
		t.Fatalf("inbound %+v", m)
	}
	if filepath.Dir(m.Media[0].Path) != filepath.Join(dir, "media", "inbound") || filepath.Ext(m.Media[0].Path) != ".jpg" {
		t.Errorf("media saved at %s", m.Media[0].Path)
	}
	b, err := os.ReadFile(m.Media[0].Path)
	if err != nil || string(b) != "\xff\xd8\xff fake jpeg" {
		t.Fatalf("downloaded %q, %v", b, err)
	}
	// Over mediaMaxMb: delivered with the placeholder only.
	srv.PushPhotoDM(alice, "big", "too big")
	if m := host.next(t); m.Text != "too big" || len(m.Media) != 1 || m.Media[0].Path != "" {
		t.Fatalf("oversize inbound %+v", m)
	}
}

func TestParseUpdateReplyAndForwardContext(t *testing.T) {
	bot := BotIdentity{ID: 42, Username: "MyBot"}
	cases := []struct{ name, update, want string }{
		{"reply", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"Bo"},"text":"agreed",
			"reply_to_message":{"message_id":4,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":9,"is_bot":false,"first_name":"Cy","last_name":"D"},"text":"lunch?"}}}`,
			"agreed\n\n[Replying to Cy D id:4]\nlunch?\n[/Replying]"},
		{"reply to photo", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"Bo"},"text":"nice",
			"reply_to_message":{"message_id":4,"date":1,"chat":{"id":7,"type":"private"},"photo":[{"file_id":"a","file_unique_id":"b","width":1,"height":1}]}}}`,
			"nice\n\n[Replying to unknown sender id:4]\n<media:image>\n[/Replying]"},
		{"forward from user", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"Bo"},"text":"fyi",
			"forward_origin":{"type":"user","date":1700000000,"sender_user":{"id":3,"is_bot":false,"first_name":"Ann","username":"ann"}}}}`,
			"[Forwarded from Ann (@ann) at 2023-11-14T22:13:20.000Z]\nfyi"},
		{"forward from channel", `{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"Bo"},"text":"news",
			"forward_origin":{"type":"channel","date":0,"chat":{"id":-100,"type":"channel","title":"Daily"},"message_id":3,"author_signature":"Ed"}}}`,
			"[Forwarded from Daily (Ed)]\nnews"},
	}
	for _, c := range cases {
		var u telego.Update
		if err := json.Unmarshal([]byte(c.update), &u); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		in, ok := ParseUpdate(u, bot)
		if !ok || in.Text != c.want {
			t.Errorf("%s: text %q, want %q", c.name, in.Text, c.want)
		}
	}
}
