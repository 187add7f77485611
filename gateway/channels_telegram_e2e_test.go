package gateway

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram/telegramtest"
	"github.com/clawdbot/clawdbot/gateway/models/llmtest"
	"github.com/clawdbot/clawdbot/profiles"
)

// Telegram end to end through a real gateway on 127.0.0.1:0: the real
// telego client polls a fake Bot API (telegramtest: the real
// api.telegram.org cannot be reached here), the channel manager routes,
// pairs and runs the turn on the real OpenAI provider against llmtest's
// fake upstream (no real model here either), and the reply goes back as
// sendMessage calls.

// telegramGateway starts a gateway whose only channel is Telegram on tg
// and whose model is the fake upstream llm.
func telegramGateway(t testing.TB, tg *telegramtest.Server, llm *llmtest.Server, extra, root map[string]any) *Server {
	t.Helper()
	s := startServer(t, func(o *Options) {
		o.Workspace = filepath.Join(o.StateDir, "workspace")
		o.ChatDeltaInterval = -1
		o.ChannelPlugins = []channels.Plugin{telegram.New(
			telegram.WithPollTimeout(time.Second),
			telegram.WithBackoff(telegram.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2},
				telegram.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2}))}
		tgCfg := map[string]any{"botToken": telegramtest.Token, "apiRoot": tg.APIRoot()}
		for k, v := range extra {
			tgCfg[k] = v
		}
		cfg := map[string]any{
			"models": map[string]any{"providers": map[string]any{"fake": map[string]any{
				"baseUrl": llm.URL, "apiKey": "sk-fake", "api": "openai-completions",
				"models": []any{map[string]any{"id": "fake-model", "name": "Fake Model", "contextWindow": 128000, "maxTokens": 4096}}}}},
			"agents":   map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "fake/fake-model"}}},
			"channels": map[string]any{"telegram": tgCfg},
		}
		for k, v := range root {
			cfg[k] = v
		}
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.ConfigPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		// The model providers come from the runtime config, which Run
		// loads from the file and startServer hands in directly.
		snap, err := profiles.Load(o.ConfigPath)
		if err != nil || snap.Config == nil {
			t.Fatalf("config: %v", err)
		}
		o.Runtime.Config = snap.Config
	})
	// Serve (unlike Run) does not start the channels.
	s.startChannels()
	return s
}

func TestTelegramEndToEnd(t *testing.T) {
	tg := telegramtest.New(t)
	// 100 deltas of ~110 chars: 11 k chars, three 4000-char chunks.
	var reply []string
	for _, w := range llmtest.Words(100) {
		reply = append(reply, w+strings.Repeat("lorem ", 18))
	}
	llm := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Text: reply}}})
	s := telegramGateway(t, tg, llm, nil, nil)
	alice := telegramtest.Sender{ID: 4242, Username: "alice", FirstName: "Alice"}

	// An unknown DM gets the pairing code, once.
	tg.PushDM(alice, "hello?")
	sent := tg.WaitRequests(t, "sendMessage", 1, 10*time.Second)
	reqs, err := s.f.channels.Pairing().List("telegram")
	if err != nil || len(reqs) != 1 || len(reqs[0].Code) != 8 || reqs[0].ID != "4242" {
		t.Fatalf("pairing requests %+v, %v", reqs, err)
	}
	want := channels.PairingReply(telegram.New().Meta(), "4242", reqs[0].Code)
	if got := sent[0].Str("text"); sent[0].Str("chat_id") != "4242" || (got != want && !strings.Contains(want, got)) {
		t.Fatalf("pairing reply %q to %s, want %q", got, sent[0].Str("chat_id"), want)
	}
	if !strings.Contains(sent[0].Str("text"), "Pairing code: "+reqs[0].Code) || !strings.Contains(sent[0].Str("text"), "clawdbot pairing approve telegram "+reqs[0].Code) {
		t.Fatalf("pairing reply lacks the code: %q", sent[0].Str("text"))
	}
	p, _ := s.f.channels.Pairing().PairingPath("telegram")
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("pairing file %s: %v", p, err)
	}
	tg.PushDM(alice, "hello again?")
	time.Sleep(300 * time.Millisecond) // a second reply would come within one poll
	if n := len(tg.Requests("sendMessage")); n != 1 {
		t.Fatalf("a pending sender got %d replies, want the one pairing reply", n)
	}
	if llm.Count() != 0 {
		t.Fatal("an unapproved sender reached the model")
	}
	// At most 3 pending requests: senders 2 and 3 get codes, the 4th none.
	// One at a time: chats are handled concurrently, so a batch would race
	// for the last slot.
	for id := int64(1); id <= 2; id++ {
		tg.PushDM(telegramtest.Sender{ID: 9000 + id}, "me too")
		tg.WaitRequests(t, "sendMessage", int(1+id), 10*time.Second)
	}
	tg.PushDM(telegramtest.Sender{ID: 9003}, "me too")
	time.Sleep(300 * time.Millisecond)
	if got := tg.Requests("sendMessage"); len(got) != 3 || got[2].Str("chat_id") != "9002" {
		t.Fatalf("%d pairing replies (last to %s), want 3 with none to the 4th sender", len(got), got[len(got)-1].Str("chat_id"))
	}

	// Approve; the next DM runs the agent and the reply comes back chunked.
	if _, ok, err := s.f.channels.Pairing().Approve("telegram", strings.ToLower(reqs[0].Code)); err != nil || !ok {
		t.Fatalf("approve: %v %v", ok, err)
	}
	tg.PushDM(alice, "what is up")
	sent = tg.WaitRequests(t, "sendMessage", 6, 20*time.Second)
	if llm.Count() != 1 || !strings.Contains(llm.Requests()[0].LastUserText(), "what is up") {
		t.Fatalf("model requests %d; last user text %q", llm.Count(), llm.Requests()[0].LastUserText())
	}
	var joined strings.Builder
	for i, r := range sent[3:] {
		text := r.Str("text")
		if n := len([]rune(text)); n > 4000 || r.Str("parse_mode") != "HTML" || r.Str("chat_id") != "4242" {
			t.Errorf("chunk %d: %d chars, parse_mode %q, chat %s", i, n, r.Str("parse_mode"), r.Str("chat_id"))
		}
		joined.WriteString(text + " ")
	}
	if got, want := strings.Fields(joined.String()), strings.Fields(strings.Join(reply, "")); len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Errorf("chunks carry %d words, want %d", len(got), len(want))
	}
	typing := tg.Requests("sendChatAction")
	if len(typing) == 0 || typing[0].Str("action") != "typing" || !typing[0].At.Before(sent[3].At) {
		t.Errorf("no typing before the reply: %+v", typing)
	}
}

func TestTelegramEndToEndPlainRetryAndSend(t *testing.T) {
	tg := telegramtest.New(t)
	tg.SetRejectHTML(true)
	llm := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{{Text: []string{"**bold** ", "answer"}}}})
	s := telegramGateway(t, tg, llm, map[string]any{"dmPolicy": "open", "allowFrom": []any{"*"}}, nil)
	tg.PushDM(telegramtest.Sender{ID: 77}, "hi")
	sent := tg.WaitRequests(t, "sendMessage", 2, 10*time.Second)
	if sent[0].Str("parse_mode") != "HTML" || sent[1].Str("parse_mode") != "" || sent[1].Str("text") != "bold answer" {
		t.Fatalf("want HTML then plain: %q/%q, %q/%q", sent[0].Str("parse_mode"), sent[0].Str("text"), sent[1].Str("parse_mode"), sent[1].Str("text"))
	}

	// send over the protocol to a chat id with a topic.
	tg.SetRejectHTML(false)
	c := dial(t, s)
	c.Connect(connectParams(testToken))
	res := c.Call("send", map[string]any{"channel": "telegram", "to": "-100999:topic:7", "message": "from send", "idempotencyKey": "tg-send-1"})
	if res["ok"] != true {
		t.Fatalf("send: %v", res)
	}
	out, _ := res["payload"].(map[string]any)
	last := tg.Requests("sendMessage")
	r := last[len(last)-1]
	if r.Str("chat_id") != "-100999" || r.Str("message_thread_id") != "7" || r.Str("text") != "from send" ||
		out["chatId"] != "-100999" || out["messageId"] == "" || out["channel"] != "telegram" {
		t.Fatalf("send result %v; request %v", out, r.Params)
	}

	// channels.status with probe: the account row as in doc/messaging.md §1.14.
	st := c.Call("channels.status", map[string]any{"probe": true, "timeoutMs": 2000})
	payload, _ := st["payload"].(map[string]any)
	rows, _ := payload["channelAccounts"].(map[string]any)["telegram"].([]any)
	if len(rows) != 1 {
		t.Fatalf("channels.status: %v", st)
	}
	row := rows[0].(map[string]any)
	probe, _ := row["probe"].(map[string]any)
	bot, _ := probe["bot"].(map[string]any)
	if row["configured"] != true || row["tokenSource"] != "config" || row["running"] != true || row["mode"] != "polling" ||
		row["lastError"] != nil || row["lastProbeAt"] == nil || probe["ok"] != true || bot["username"] != telegramtest.BotUsername {
		t.Fatalf("telegram account row %v", row)
	}
	summary, _ := payload["channels"].(map[string]any)["telegram"].(map[string]any)
	var keys []string
	for k := range summary {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "configured,lastError,lastProbeAt,lastStartAt,lastStopAt,mode,probe,running,tokenSource" {
		t.Fatalf("channels.telegram summary keys %v", keys)
	}
}

// BenchmarkTelegramInboundToReply is one DM update → the reply's
// sendMessage through the real gateway, with an instant fake model
// upstream. The poller is already waiting in getUpdates when the update
// is pushed, so the figure excludes any polling interval. The session is
// reset between iterations (off the clock) so every turn is the same
// size instead of replaying a history that grows with b.N.
func BenchmarkTelegramInboundToReply(b *testing.B) {
	tg := telegramtest.New(b)
	llm := llmtest.NewOpenAI(b, llmtest.Script{Responses: []llmtest.Response{llmtest.DefaultResponse}})
	s := telegramGateway(b, tg, llm, map[string]any{"dmPolicy": "open", "allowFrom": []any{"*"}}, nil)
	c := dial(b, s)
	c.Connect(connectParams(testToken))
	tg.WaitRequests(b, "getUpdates", 1, 10*time.Second)
	sender := telegramtest.Sender{ID: 5150}
	b.ResetTimer()
	for i := range b.N {
		tg.PushDM(sender, "ping")
		tg.WaitRequests(b, "sendMessage", i+1, 10*time.Second)
		b.StopTimer()
		if res := c.Call("sessions.reset", map[string]any{"key": "main"}); res["ok"] != true {
			b.Fatalf("sessions.reset: %v", res)
		}
		b.StartTimer()
	}
}

func TestTelegramEndToEndGroupMentionGate(t *testing.T) {
	tg := telegramtest.New(t)
	llm := llmtest.NewOpenAI(t, llmtest.Script{Responses: []llmtest.Response{llmtest.DefaultResponse}})
	telegramGateway(t, tg, llm, map[string]any{"groupPolicy": "open"}, nil)
	member := telegramtest.Sender{ID: 31, Username: "member"}
	tg.PushGroup(-100777, member, "just chatting", false)
	tg.PushGroup(-100777, member, "what do you think?", true)
	sent := tg.WaitRequests(t, "sendMessage", 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(tg.Requests("sendMessage")); n != 1 || sent[0].Str("chat_id") != "-100777" || sent[0].Str("text") != "Hello from the fake model." {
		t.Fatalf("%d replies, first %v; want one answer to the mention", n, sent[0].Params)
	}
	if llm.Count() != 1 || !strings.Contains(llm.Requests()[0].LastUserText(), "what do you think?") {
		t.Fatalf("model saw %d turns: %q", llm.Count(), llm.Requests()[0].LastUserText())
	}
}
