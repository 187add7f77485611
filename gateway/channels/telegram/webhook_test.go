package telegram

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels/telegram/telegramtest"
)

func TestWebhookMode(t *testing.T) {
	srv := telegramtest.New(t)
	bound := make(chan string, 1)
	host := newHost()
	acct := newAccount(t, srv, t.TempDir(), map[string]any{"webhookUrl": "https://bot.example/hook", "webhookSecret": "s3cret_token", "webhookPath": "/hook"},
		WithWebhookListen("127.0.0.1:0", func(a string) { bound <- a }))
	run(t, acct, host)
	var addr string
	select {
	case addr = <-bound:
	case <-time.After(5 * time.Second):
		t.Fatal("webhook server never bound")
	}
	srv.WaitRequests(t, "setWebhook", 1, 5*time.Second)
	if url, secret := srv.Webhook(); url != "https://bot.example/hook" || secret != "s3cret_token" {
		t.Fatalf("setWebhook url %q secret %q", url, secret)
	}
	if v, _ := host.get("mode"); v != "webhook" {
		t.Errorf("mode %v", v)
	}
	update := `{"update_id":900,"message":{"message_id":1,"date":1,"chat":{"id":111,"type":"private"},"from":{"id":111,"is_bot":false,"first_name":"A"},"text":"via hook"}}`
	post := func(secret, path, body string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	cases := []struct {
		name, secret, path, body string
		want                     int
	}{
		{"no secret", "", "/hook", update, 401},
		{"wrong secret", "nope", "/hook", update, 401},
		{"other path", "s3cret_token", "/other", update, 404},
		{"bad body", "s3cret_token", "/hook", "{", 400},
		{"good", "s3cret_token", "/hook", update, 200},
		{"redelivery", "s3cret_token", "/hook", update, 200},
	}
	for _, c := range cases {
		if got := post(c.secret, c.path, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if m := host.next(t); m.Text != "via hook" || m.SenderID != "111" {
		t.Fatalf("inbound %+v", m)
	}
	select {
	case m := <-host.inbound:
		t.Fatalf("a re-posted update was delivered twice: %+v", m)
	case <-time.After(50 * time.Millisecond):
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	_ = res.Body.Close()
	if n := len(srv.Requests("getUpdates")); n != 0 {
		t.Errorf("webhook mode polled getUpdates %d times", n)
	}
}

func TestWebhookRequiresSecret(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), map[string]any{"webhookUrl": "https://bot.example/hook"}, WithWebhookListen("127.0.0.1:0", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := acct.Run(ctx, newHost()) // returns by itself, long before the timeout
	if err == nil || !strings.Contains(err.Error(), "webhookSecret is required") {
		t.Fatalf("Run without a webhook secret: %v", err)
	}
}
