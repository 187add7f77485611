package channels_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// call runs method on a registry holding the manager's methods.
func (f *fixture) call(t *testing.T, method string, params any) (any, *wire.ErrorShape) {
	t.Helper()
	reg := rpc.NewRegistry()
	channels.Register(reg, f.m)
	b, _ := json.Marshal(params)
	return reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), b, &rpc.Client{}, nil))
}

func sessionsFixture(t *testing.T, raw string) (*fixture, *sessionstore.Store) {
	t.Helper()
	var store *sessionstore.Store
	f := newFixture(t, raw, func(d *channels.Deps) {
		store = sessionstore.New(sessionstore.Options{StateDir: d.StateDir})
		d.Sessions = store
	})
	return f, store
}

func TestSendErrors(t *testing.T) {
	f, _ := sessionsFixture(t, `{"channels":{"fake":{"token":"t"}}}`)
	f.m.Start()
	cases := []struct {
		name   string
		params map[string]any
		code   string
		msg    string
	}{
		{"unknown channel", map[string]any{"channel": "nope"}, wire.ErrInvalidRequest, "unsupported channel: nope"},
		{"default channel whatsapp not loaded", map[string]any{}, wire.ErrInvalidRequest, "unsupported channel: whatsapp"},
		{"bad target", map[string]any{"channel": "fake", "to": "invalid"}, wire.ErrInvalidRequest, "Error: Delivering to Fake requires target <id>"},
		{"unknown account", map[string]any{"channel": "fake", "accountId": "zz"}, wire.ErrInvalidRequest, "unknown fake account: zz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]any{"to": "123", "message": "hi", "idempotencyKey": "k-" + tc.name}
			for k, v := range tc.params {
				p[k] = v
			}
			for i := range 2 { // not cached: the same answer, re-evaluated
				_, e := f.call(t, "send", p)
				if e == nil || e.Code != tc.code || e.Message != tc.msg {
					t.Fatalf("try %d: %+v, want %s %q", i, e, tc.code, tc.msg)
				}
			}
		})
	}
	// Request errors are not cached: fixing the channel with the same key works.
	p := map[string]any{"channel": "nope", "to": "123", "message": "hi", "idempotencyKey": "retry"}
	if _, e := f.call(t, "send", p); e == nil {
		t.Fatal("want an error")
	}
	p["channel"] = "FK" // alias, case-insensitive
	if res, e := f.call(t, "send", p); e != nil || res.(wire.SendResult).Channel != "fake" {
		t.Fatalf("retry = %v %v", res, e)
	}
}

func TestSendDeliveryAndDedupe(t *testing.T) {
	f, store := sessionsFixture(t, `{"channels":{"fake":{"token":"t"}}}`)
	f.m.Start()
	acct := f.plugin.Account("default")
	// textChunkLimit 10 (the plugin default here): the text goes in chunks;
	// MEDIA: lines become attachments.
	p := map[string]any{"channel": "fake", "to": "fake:123", "message": "hello there world", "idempotencyKey": "a"}
	res, e := f.call(t, "send", p)
	if e != nil {
		t.Fatal(e)
	}
	got := res.(wire.SendResult)
	if got.RunID != "a" || got.MessageID != "3" || got.ChatID != "123" || got.Channel != "fake" {
		t.Errorf("result %+v (want the last chunk's)", got)
	}
	if sent := acct.Sent(); len(sent) != 3 || sent[0].Text != "hello" || sent[2].Text != "world" || sent[0].To != "123" {
		t.Errorf("sent %+v", sent)
	}
	// A duplicate gets the cached result without sending again.
	res2, _ := f.call(t, "send", p)
	if res2.(wire.SendResult) != got || len(acct.Sent()) != 3 {
		t.Errorf("duplicate sent again or answered differently: %+v", res2)
	}
	// The DM target (dmScope main) mirrors into the main session.
	e2, ok := store.Get("agent:main:main")
	if !ok || e2.LastChannel != "fake" || e2.LastTo != "123" {
		t.Fatalf("main session %+v %v", e2, ok)
	}
	tr, _ := os.ReadFile(store.Target("agent:main:main").StorePath[:len(store.Target("agent:main:main").StorePath)-len("sessions.json")] + e2.SessionID + ".jsonl")
	if !strings.Contains(string(tr), `"model":"delivery-mirror"`) || !strings.Contains(string(tr), "hello there world") {
		t.Errorf("transcript lacks the mirror: %s", tr)
	}

	// Media by MEDIA: line: the first attachment carries the caption.
	_, e = f.call(t, "send", map[string]any{"channel": "fake", "to": "9", "message": "look\nMEDIA: https://x.test/a.png",
		"idempotencyKey": "m"})
	if e != nil {
		t.Fatal(e)
	}
	last := acct.Sent()[len(acct.Sent())-1]
	if last.MediaURL != "https://x.test/a.png" || last.Text != "look" {
		t.Errorf("media send %+v", last)
	}

	// A delivery failure is UNAVAILABLE and cached; NOT_LINKED when the
	// plugin says so.
	acct.SendErr = errors.New("HttpError: Network request for 'sendMessage' failed!")
	p = map[string]any{"channel": "fake", "to": "1", "message": "x", "idempotencyKey": "fail"}
	_, e = f.call(t, "send", p)
	if e == nil || e.Code != wire.ErrUnavailable || e.Message != "HttpError: Network request for 'sendMessage' failed!" {
		t.Fatalf("failure = %+v", e)
	}
	acct.SendErr = nil
	if _, e = f.call(t, "send", p); e == nil || e.Code != wire.ErrUnavailable {
		t.Errorf("cached failure not replayed: %+v", e)
	}
	acct.Linked = false
	_, e = f.call(t, "send", map[string]any{"channel": "fake", "to": "1", "message": "x", "idempotencyKey": "nl"})
	if e == nil || e.Code != wire.ErrNotLinked {
		t.Errorf("not linked = %+v", e)
	}
}

// Concurrent duplicates share one delivery.
func TestSendInFlightShared(t *testing.T) {
	f, _ := sessionsFixture(t, `{"channels":{"fake":{"token":"t"}}}`)
	f.m.Start()
	var wg sync.WaitGroup
	results := make([]any, 8)
	for i := range results {
		wg.Go(func() {
			results[i], _ = f.call(t, "send", map[string]any{"channel": "fake", "to": "1", "message": "x", "idempotencyKey": "same"})
		})
	}
	wg.Wait()
	if n := len(f.plugin.Account("default").Sent()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	for _, r := range results {
		if r != results[0] {
			t.Errorf("results differ: %v vs %v", r, results[0])
		}
	}
}

func TestChunkText(t *testing.T) {
	cases := []struct {
		text  string
		limit int
		mode  channels.ChunkMode
		want  []string
	}{
		{"", 10, channels.ChunkLength, nil},
		{"short", 10, channels.ChunkLength, []string{"short"}},
		{"aaaa bbbb cccc", 10, channels.ChunkLength, []string{"aaaa bbbb", "cccc"}},
		{"para one\n\npara two", 12, channels.ChunkLength, []string{"para one", "para two"}},
		{"a\n\nb", 100, channels.ChunkNewline, []string{"a", "b"}},
		{"a\n\nb", 100, channels.ChunkLength, []string{"a\n\nb"}},
		{"xxxxxxxxxxxx", 5, channels.ChunkLength, []string{"xxxxx", "xxxxx", "xx"}},
		{"ééééé", 2, channels.ChunkLength, []string{"éé", "éé", "é"}},
	}
	for _, tc := range cases {
		got := channels.ChunkText(tc.text, tc.limit, tc.mode)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("ChunkText(%q, %d, %s) = %q, want %q", tc.text, tc.limit, tc.mode, got, tc.want)
		}
	}
}

func TestMergeAccount(t *testing.T) {
	section := json.RawMessage(`{"botToken":"base","dmPolicy":"open","accounts":{"Work Bot":{"botToken":"w","allowFrom":["1"]}}}`)
	if ids := channels.AccountIDs(section); len(ids) != 1 || ids[0] != "work-bot" {
		t.Fatalf("ids %v", ids)
	}
	var m map[string]any
	_ = json.Unmarshal(channels.MergeAccount(section, "work-bot"), &m)
	if m["botToken"] != "w" || m["dmPolicy"] != "open" || m["accounts"] != nil || m["allowFrom"] == nil {
		t.Errorf("merged %v", m)
	}
	if ids := channels.AccountIDs(json.RawMessage(`{}`)); len(ids) != 1 || ids[0] != "default" {
		t.Errorf("ids of empty %v", ids)
	}
}
