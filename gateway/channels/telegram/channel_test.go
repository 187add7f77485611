package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mymmrac/telego"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/telegram/telegramtest"
)

var alice = telegramtest.Sender{ID: 111, Username: "alice", FirstName: "Alice", LastName: "A"}

func TestPollDeliversAndPersistsOffsetAcrossRestart(t *testing.T) {
	srv := telegramtest.New(t)
	dir := t.TempDir()
	first := srv.PushDM(alice, "one")
	second := srv.PushDM(alice, "two")

	host := newHost()
	stop := run(t, newAccount(t, srv, dir, nil), host)
	for _, want := range []string{"one", "two"} {
		m := host.next(t)
		if m.Text != want || m.SenderID != "111" || m.ChatID != "111" || m.ChatType != channels.ChatDM ||
			m.SenderUsername != "alice" || m.SenderName != "Alice A" || m.MessageID == "" || m.AccountID != "default" {
			t.Fatalf("inbound %+v, want text %q from alice", m, want)
		}
	}
	offsetPath := filepath.Join(dir, "telegram", "update-offset-default.json")
	waitFor(t, func() bool { got, ok := ReadOffset(offsetPath); return ok && got == second })
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if st, _ := os.Stat(offsetPath); st.Mode().Perm() != 0o600 {
		t.Fatalf("offset file mode %v", st.Mode())
	}

	// A restart asks for the updates after the persisted one and
	// re-delivers nothing, even when the server still has the old ones.
	third := srv.PushDM(alice, "three")
	host2 := newHost()
	stop2 := run(t, newAccount(t, srv, dir, nil), host2)
	if m := host2.next(t); m.Text != "three" {
		t.Fatalf("after restart got %q, want only %q", m.Text, "three")
	}
	_ = stop2()
	select {
	case m := <-host2.inbound:
		t.Fatalf("re-delivered %q after restart", m.Text)
	default:
	}
	var sawResume bool
	for _, r := range srv.Requests("getUpdates") {
		if r.Str("offset") == itoa(second+1) {
			sawResume = true
		}
		if o, err := strconv.ParseInt(r.Str("offset"), 10, 64); err == nil && o > 0 && o < first {
			t.Errorf("getUpdates offset %s below the first update %d", r.Str("offset"), first)
		}
	}
	if !sawResume {
		t.Errorf("no getUpdates resumed at offset %d", second+1)
	}
	if got, _ := ReadOffset(offsetPath); got != third {
		t.Errorf("offset after restart %d, want %d", got, third)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestPollConflictReportedAndRetried(t *testing.T) {
	srv := telegramtest.New(t)
	srv.SetConflict(true)
	host := newHost()
	run(t, newAccount(t, srv, t.TempDir(), nil), host)
	host.waitStatus(t, "lastError", func(v any) bool {
		s, _ := v.(string)
		return strings.HasPrefix(s, "Conflict: terminated by other getUpdates")
	})
	n := len(srv.Requests("getUpdates"))
	srv.WaitRequests(t, "getUpdates", n+2, 5*time.Second) // still retrying
	srv.SetConflict(false)
	srv.PushDM(alice, "after conflict")
	if m := host.next(t); m.Text != "after conflict" {
		t.Fatalf("got %q", m.Text)
	}
	host.waitStatus(t, "lastError", func(v any) bool { return v == nil })
	if v, _ := host.get("mode"); v != "polling" {
		t.Errorf("mode %v", v)
	}
}

func TestPollRetriesNetworkErrorsAnd5xxWithBackoff(t *testing.T) {
	srv := telegramtest.New(t)
	srv.FailNext("getUpdates", 502, 0, 503, 0)
	c, err := NewClient(telegramtest.Token, ClientOptions{APIRoot: srv.APIRoot()})
	if err != nil {
		t.Fatal(err)
	}
	srv.PushDM(alice, "survived")
	var mu sync.Mutex
	var delays []time.Duration
	var kinds []bool
	recovered := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Poll(ctx, PollOptions{
			Timeout:      time.Second,
			ErrorBackoff: Backoff{Initial: 2 * time.Millisecond, Max: 6 * time.Millisecond, Factor: 2},
			OnError: func(err error, conflict bool, d time.Duration) {
				mu.Lock()
				delays, kinds = append(delays, d), append(kinds, conflict)
				mu.Unlock()
			},
			OnRecovered: func() { mu.Lock(); recovered++; mu.Unlock() },
		}, func(u telego.Update) {
			got <- u.Message.Text
		})
	}()
	select {
	case text := <-got:
		if text != "survived" {
			t.Fatalf("got %q", text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update after the failures")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Poll: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 6 * time.Millisecond, 6 * time.Millisecond}
	if len(delays) != len(want) {
		t.Fatalf("retry delays %v, want %v", delays, want)
	}
	for i := range want {
		if delays[i] != want[i] || kinds[i] {
			t.Errorf("retry %d: delay %v conflict %v, want %v and not a conflict", i, delays[i], kinds[i], want[i])
		}
	}
	if recovered != 1 {
		t.Errorf("OnRecovered called %d times", recovered)
	}
}

func TestPollStopsOnUnauthorized(t *testing.T) {
	srv := telegramtest.New(t)
	c, err := NewClient("999999999:AAHwrongwrongwrongwrongwrongwrongwr", ClientOptions{APIRoot: srv.APIRoot()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Poll(context.Background(), PollOptions{Timeout: time.Second}, func(telego.Update) {})
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Poll with a revoked token: %v", err)
	}
}

func TestNewClientRejectsBadTokenAndRoot(t *testing.T) {
	if _, err := NewClient("not-a-token", ClientOptions{}); err == nil || !strings.Contains(err.Error(), "BotFather") {
		t.Errorf("bad token: %v", err)
	}
	if _, err := NewClient(telegramtest.Token, ClientOptions{APIRoot: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "apiRoot") {
		t.Errorf("bad apiRoot: %v", err)
	}
}

func TestSendChunksAt4000(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), nil)
	// The manager chunks with the plugin's limit; Send gets one chunk each.
	text := strings.Repeat("lorem ipsum dolor sit amet. ", 400) // 11200 chars
	chunks := channels.ChunkText(text, New().Meta().TextChunkLimit, channels.ChunkLength)
	var last channels.SendResult
	for _, ch := range chunks {
		r, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: ch})
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	reqs := srv.Requests("sendMessage")
	if len(reqs) != 3 {
		t.Fatalf("%d sendMessage calls for 11200 chars, want 3", len(reqs))
	}
	total := 0
	for i, r := range reqs {
		n := len([]rune(r.Str("text")))
		if n > 4000 || r.Str("parse_mode") != "HTML" || r.Str("chat_id") != "111" {
			t.Errorf("chunk %d: %d chars, parse_mode %q, chat %q", i, n, r.Str("parse_mode"), r.Str("chat_id"))
		}
		total += strings.Count(r.Str("text"), "lorem")
	}
	if total != 400 {
		t.Errorf("chunks carry %d of 400 sentences", total)
	}
	if last.ChatID != "111" || last.MessageID == "" {
		t.Errorf("result %+v", last)
	}
}

func TestSendRetriesPlainOnHTMLRejection(t *testing.T) {
	srv := telegramtest.New(t)
	srv.SetRejectHTML(true)
	acct := newAccount(t, srv, t.TempDir(), nil)
	r, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "**hi** <there>"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests("sendMessage")
	if len(reqs) != 2 || reqs[0].Str("parse_mode") != "HTML" || reqs[0].Str("text") != "<b>hi</b> &lt;there&gt;" ||
		reqs[1].Str("parse_mode") != "" || reqs[1].Str("text") != "hi <there>" {
		for _, q := range reqs {
			t.Logf("%s %q", q.Str("parse_mode"), q.Str("text"))
		}
		t.Fatal("want an HTML attempt then a plain-text retry")
	}
	if r.MessageID == "" {
		t.Error("no message id")
	}
}

func TestSendTargetsAndErrors(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), map[string]any{"linkPreview": false})
	to, err := acct.ResolveTarget("tg:-100200:topic:7", channels.TargetExplicit)
	if err != nil || to != "-100200:topic:7" {
		t.Fatalf("ResolveTarget = %q, %v", to, err)
	}
	r, err := acct.Send(context.Background(), channels.Outbound{To: to, Text: "hello", ReplyToID: "55"})
	if err != nil {
		t.Fatal(err)
	}
	req := srv.Requests("sendMessage")[0]
	if req.Str("chat_id") != "-100200" || req.Str("message_thread_id") != "7" || !strings.Contains(req.Str("reply_parameters"), `"message_id":55`) ||
		!strings.Contains(req.Str("link_preview_options"), `"is_disabled":true`) {
		t.Errorf("sendMessage params %v", req.Params)
	}
	if r.ChatID != "-100200" {
		t.Errorf("result chat %q", r.ChatID)
	}
	if _, err := acct.ResolveTarget("", channels.TargetExplicit); err == nil {
		t.Error("empty target accepted")
	}
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "  "}); err == nil {
		t.Error("empty text sent")
	}
	// A gone server is the original's network error text, not a crash.
	srv.Close()
	_, err = acct.Send(context.Background(), channels.Outbound{To: "111", Text: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "HttpError: Network request for 'sendMessage' failed!") {
		t.Errorf("offline send: %v", err)
	}
}

func TestSendMedia(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), nil)
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "a *cat*", MediaURL: "https://example.com/cat.jpg"}); err != nil {
		t.Fatal(err)
	}
	p := srv.Requests("sendPhoto")
	if len(p) != 1 || p[0].Str("photo") != "https://example.com/cat.jpg" || p[0].Str("caption") != "a <i>cat</i>" || p[0].Str("parse_mode") != "HTML" {
		t.Fatalf("sendPhoto %+v", p)
	}
	file := filepath.Join(t.TempDir(), "notes.pdf")
	if err := os.WriteFile(file, []byte("%PDF-1.4 fake"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", CaptionLimit+10)
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: long, MediaURL: file}); err != nil {
		t.Fatal(err)
	}
	d := srv.Requests("sendDocument")
	if len(d) != 1 || d[0].Files["document"].Name != "notes.pdf" || d[0].Files["document"].Size != 13 || d[0].Str("caption") != "" {
		t.Fatalf("sendDocument %+v", d)
	}
	if m := srv.Requests("sendMessage"); len(m) != 1 || len(m[0].Str("text")) != CaptionLimit+10 {
		t.Fatalf("an over-long caption should follow as text: %+v", m)
	}
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", MediaURL: filepath.Join(t.TempDir(), "nope.png")}); err == nil || !strings.Contains(err.Error(), "readable file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestTypingAndProbe(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), nil)
	if err := acct.(channels.Typer).Typing(context.Background(), "-100", "9"); err != nil {
		t.Fatal(err)
	}
	a := srv.Requests("sendChatAction")
	if len(a) != 1 || a[0].Str("action") != "typing" || a[0].Str("chat_id") != "-100" || a[0].Str("message_thread_id") != "9" {
		t.Fatalf("sendChatAction %+v", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p := acct.(channels.Prober).Probe(ctx)
	bot, _ := p.Fields["bot"].(*ProbeBot)
	if !p.OK || p.Error != "" || bot == nil || bot.Username != telegramtest.BotUsername || bot.ID != telegramtest.BotID {
		t.Fatalf("probe %+v", p)
	}
	srv.Close()
	p = acct.(channels.Prober).Probe(ctx)
	if p.OK || p.Error == "" || p.Status != nil {
		t.Fatalf("offline probe %+v", p)
	}
}

type recordingEditor struct{ deleted [][]string }

func (r *recordingEditor) DeletePath(path ...string) error {
	r.deleted = append(r.deleted, path)
	return nil
}

func TestLogout(t *testing.T) {
	cases := []struct {
		name, section, env string
		wantDeleted        string
		cleared, loggedOut bool
		wantEnvToken       bool
	}{
		{"config token", `{"botToken":"123:x"}`, "", "channels.telegram.botToken", true, true, false},
		{"env remains", `{"botToken":"123:x"}`, "9:y", "channels.telegram.botToken", true, false, true},
		{"nothing to clear", `{}`, "", "", false, true, false},
		{"account entry too", `{"botToken":"1:a","accounts":{"default":{"botToken":"2:b"}}}`, "", "channels.telegram.botToken channels.telegram.accounts.default.botToken", true, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := func(k string) string {
				if k == TokenEnv {
					return c.env
				}
				return ""
			}
			acct, err := New().NewAccount(channels.AccountConfig{Channel: "telegram", AccountID: "default", Section: []byte(c.section), Merged: []byte(c.section), Getenv: env})
			if err != nil {
				t.Fatal(err)
			}
			ed := &recordingEditor{}
			res, err := acct.(channels.LogoutAccounter).LogoutAccount(context.Background(), ed)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ed.deleted {
				got = append(got, strings.Join(p, "."))
			}
			if strings.Join(got, " ") != c.wantDeleted || res.Cleared != c.cleared ||
				res.Fields["loggedOut"] != c.loggedOut || res.Fields["envToken"] != c.wantEnvToken {
				t.Fatalf("deleted %v result %+v", got, res)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	srv := telegramtest.New(t)
	d := newAccount(t, srv, t.TempDir(), map[string]any{"groups": map[string]any{"-100": map[string]any{"requireMention": false}}}).Describe()
	if !d.Enabled || !d.Configured || d.Fields["tokenSource"] != "config" || d.Fields["mode"] != "polling" || d.Fields["allowUnmentionedGroups"] != true {
		t.Fatalf("describe %+v", d)
	}
	acct, _ := New().NewAccount(channels.AccountConfig{AccountID: "default", Section: []byte(`{}`), Getenv: func(string) string { return "" }})
	d = acct.Describe()
	if d.Configured || d.NotConfiguredReason != "not configured" || d.Fields["tokenSource"] != "none" {
		t.Fatalf("unconfigured describe %+v", d)
	}
	if err := acct.Run(context.Background(), newHost()); err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") {
		t.Fatalf("Run without a token: %v", err)
	}
}

func TestSendWaitsOutRateLimit(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), nil)
	srv.RateLimitNext("sendMessage", 0, 0)
	r, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "after flood"})
	if err != nil || r.MessageID == "" {
		t.Fatalf("send after two 429s: %+v %v", r, err)
	}
	if n := len(srv.Requests("sendMessage")); n != 3 {
		t.Fatalf("%d sendMessage calls, want 2 limited + 1", n)
	}
	srv.RateLimitNext("sendMessage", 3600)
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "x"}); err == nil || !strings.Contains(err.Error(), "Too Many Requests") {
		t.Fatalf("an hour-long retry_after should fail at once: %v", err)
	}
}

func TestErrorsNeverShowTheToken(t *testing.T) {
	srv := telegramtest.New(t)
	acct := newAccount(t, srv, t.TempDir(), nil)
	srv.Close()
	_, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "x"})
	if err == nil || strings.Contains(err.Error(), telegramtest.Token) || !strings.Contains(err.Error(), "<bot-token>") {
		t.Fatalf("offline send error: %v", err)
	}
	p := acct.(channels.Prober).Probe(context.Background())
	if p.OK || strings.Contains(p.Error, telegramtest.Token) {
		t.Fatalf("offline probe error: %q", p.Error)
	}
	host := newHost()
	run(t, acct, host)
	host.waitStatus(t, "lastError", func(v any) bool { s, _ := v.(string); return s != "" })
	if v, _ := host.get("lastError"); strings.Contains(v.(string), telegramtest.Token) {
		t.Fatalf("lastError shows the token: %v", v)
	}
	host.mu.Lock()
	defer host.mu.Unlock()
	for _, l := range host.logs {
		if strings.Contains(l, telegramtest.Token) {
			t.Fatalf("log line shows the token: %s", l)
		}
	}
}

func TestProxyCarriesTheCalls(t *testing.T) {
	srv := telegramtest.New(t)
	// An HTTP forward proxy on loopback: it sees absolute-URI requests.
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Path)
		mu.Unlock()
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = res.Body.Close() }()
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(proxy.Close)
	acct := newAccount(t, srv, t.TempDir(), map[string]any{"proxy": proxy.URL})
	if _, err := acct.Send(context.Background(), channels.Outbound{To: "111", Text: "via proxy"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) != 1 || !strings.HasSuffix(proxied[0], "/sendMessage") {
		t.Fatalf("proxy saw %v", proxied)
	}
	bad := newAccount(t, srv, t.TempDir(), map[string]any{"proxy": "not a url"})
	if _, err := bad.Send(context.Background(), channels.Outbound{To: "111", Text: "x"}); err == nil || !strings.Contains(err.Error(), "channels.telegram.proxy") {
		t.Fatalf("bad proxy: %v", err)
	}
}
