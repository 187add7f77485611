package gateway

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/channelstest"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/profiles"
)

// Channels end to end through a real gateway on 127.0.0.1:0: the channel
// is channelstest's in-memory plugin (Telegram and WhatsApp cannot be
// reached from a test), the model is the fake of chat_e2e_test.go;
// between them run the real manager, pairing store, router, agent runner
// and session store.

func channelServer(t *testing.T, config string, m *fakeModel) (*Server, *channelstest.Plugin) {
	t.Helper()
	plugin := channelstest.New(channels.Meta{ID: "fake", Label: "Fake", TextChunkLimit: 12})
	s := chatServer(t, m, func(o *Options) {
		o.ChannelPlugins = []channels.Plugin{plugin}
		if err := os.WriteFile(o.ConfigPath, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	s.startChannels()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool { a := plugin.Account("default"); return a != nil && a.Running() })
	return s, plugin
}

func waitSent(t *testing.T, a *channelstest.Account, n int) []channels.Outbound {
	t.Helper()
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return len(a.Sent()) >= n })
	return a.Sent()
}

func TestChannelInboundPairingThenAgentReply(t *testing.T) {
	m := newFakeModel("Hello from", " the fake model.")
	s, plugin := channelServer(t, `{"channels":{"fake":{"token":"t"}}}`, m)
	acct := plugin.Account("default")

	// An unknown DM sender gets the pairing code, and no turn runs.
	acct.Deliver(channels.Inbound{SenderID: "4242", SenderName: "Ann", Text: "hi"})
	sent := waitSent(t, acct, 1)
	if !strings.Contains(sent[0].Text, "Pairing code: ") || sent[0].To != "4242" {
		t.Fatalf("first reply %+v", sent[0])
	}
	if n := len(m.requests()); n != 0 {
		t.Fatalf("%d model requests before approval", n)
	}
	reqs, err := s.f.channels.Pairing().List("fake")
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending %+v %v", reqs, err)
	}
	// The files are where the original's CLI looks.
	if _, err := os.Stat(filepath.Join(s.opts.StateDir, "credentials", "fake-pairing.json")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.f.channels.Pairing().Approve("fake", reqs[0].Code); !ok || err != nil {
		t.Fatal(ok, err)
	}

	// Approved: the next DM is a turn on the main session, answered in
	// chunks of textChunkLimit (12) through the plugin.
	acct.Deliver(channels.Inbound{SenderID: "4242", SenderName: "Ann", Text: "what now?"})
	sent = waitSent(t, acct, 3)
	var texts []string
	for _, o := range sent[1:] {
		texts = append(texts, o.Text)
		if o.To != "4242" {
			t.Errorf("reply to %q", o.To)
		}
	}
	if strings.Join(texts, "|") != "Hello from|the fake|model." {
		t.Errorf("reply chunks %q", texts)
	}
	reqsSeen := m.requests()
	if len(reqsSeen) != 1 {
		t.Fatalf("%d model requests", len(reqsSeen))
	}
	last := reqsSeen[0].Messages[len(reqsSeen[0].Messages)-1].PlainText()
	if !strings.Contains(last, "what now?") || !strings.Contains(last, "[Fake Ann id:4242") {
		t.Errorf("model saw %q", last)
	}
	if acct.Typings() == 0 {
		t.Error("no typing indicator")
	}
	e, ok := s.f.sessions.Get("agent:main:main")
	if !ok || e.LastChannel != "fake" || e.LastTo != "4242" {
		t.Errorf("main session route %+v", e)
	}
}

// channels.status, send and the health section over the wire.
func TestChannelMethodsOverTheWire(t *testing.T) {
	s, plugin := channelServer(t, `{"channels":{"fake":{"token":"t"}}}`, newFakeModel("x"))
	c := dial(t, s)
	hello := c.Connect(connectParams(testToken))
	// A QR-login plugin is loaded: web.login.* follow the core methods.
	methods := hello["features"].(map[string]any)["methods"].([]any)
	if n := len(methods); n < 2 || methods[n-2] != "web.login.start" || methods[n-1] != "web.login.wait" {
		t.Errorf("hello-ok methods end %v", methods[max(0, n-3):])
	}

	res := c.Call("channels.status", map[string]any{"probe": true, "timeoutMs": 5000})
	if res["ok"] != true {
		t.Fatalf("channels.status %v", res)
	}
	p := res["payload"].(map[string]any)
	if order := p["channelOrder"].([]any); len(order) != 1 || order[0] != "fake" {
		t.Errorf("channelOrder %v", order)
	}
	row := p["channelAccounts"].(map[string]any)["fake"].([]any)[0].(map[string]any)
	if row["running"] != true || row["configured"] != true || row["probe"].(map[string]any)["ok"] != true {
		t.Errorf("account row %v", row)
	}

	res = c.Call("send", map[string]any{"channel": "fake", "to": "77", "message": "ping", "idempotencyKey": "s1"})
	if res["ok"] != true || res["payload"].(map[string]any)["chatId"] != "77" || res["payload"].(map[string]any)["runId"] != "s1" {
		t.Fatalf("send %v", res)
	}
	if sent := plugin.Account("default").Sent(); len(sent) != 1 || sent[0].Text != "ping" {
		t.Errorf("sent %+v", sent)
	}
	res = c.Call("send", map[string]any{"channel": "nope", "to": "77", "message": "ping", "idempotencyKey": "s2"})
	if code, msg := errOf(t, res); code != "INVALID_REQUEST" || msg != "unsupported channel: nope" {
		t.Errorf("unknown channel %s %s", code, msg)
	}

	res = c.Call("health", map[string]any{"probe": true})
	hp := res["payload"].(map[string]any)
	if ch, ok := hp["channels"].(map[string]any)["fake"].(map[string]any); !ok || ch["accounts"] == nil {
		t.Errorf("health channels %v", hp["channels"])
	}
	if hp["channelLabels"].(map[string]any)["fake"] != "Fake" {
		t.Errorf("health labels %v", hp["channelLabels"])
	}
	res = c.Call("status", nil)
	if lines := res["payload"].(map[string]any)["channelSummary"].([]any); len(lines) != 1 || lines[0] != "Fake: configured" {
		t.Errorf("channelSummary %v", lines)
	}

	// web.login.* reach the QR-login account; logout stops it and edits
	// the config file.
	res = c.Call("web.login.wait", map[string]any{"timeoutMs": 1000})
	if code, _ := errOf(t, res); code != "UNAVAILABLE" {
		t.Errorf("wait before start %v", res)
	}
	res = c.Call("web.login.start", map[string]any{})
	if res["ok"] != true || !strings.HasPrefix(res["payload"].(map[string]any)["qrDataUrl"].(string), "data:image/png;base64,") {
		t.Errorf("web.login.start %v", res)
	}
	res = c.Call("web.login.wait", map[string]any{})
	if res["ok"] != true || res["payload"].(map[string]any)["connected"] != true {
		t.Errorf("web.login.wait %v", res)
	}
	good, _ := os.ReadFile(s.opts.ConfigPath)
	if err := os.WriteFile(s.opts.ConfigPath, []byte(`{"channels":`), 0o600); err != nil {
		t.Fatal(err)
	}
	res = c.Call("channels.logout", map[string]any{"channel": "fake"})
	if code, msg := errOf(t, res); code != "INVALID_REQUEST" || msg != "config invalid; fix it before logging out" {
		t.Errorf("logout with a broken config: %s %s", code, msg)
	}
	if err := os.WriteFile(s.opts.ConfigPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	res = c.Call("channels.logout", map[string]any{"channel": "fake"})
	if res["ok"] != true || res["payload"].(map[string]any)["cleared"] != true {
		t.Fatalf("logout %v", res)
	}
	b, _ := os.ReadFile(s.opts.ConfigPath)
	if strings.Contains(string(b), `"token"`) {
		t.Errorf("token still in the config: %s", b)
	}
}

// agentFinal runs agent with params and returns the final res frame.
func agentFinal(t *testing.T, c *testClient, id string, params map[string]any) wsFrame {
	t.Helper()
	send(c, id, "agent", params)
	var n int
	var last wsFrame
	collectUntil(t, c, func(f wsFrame) bool {
		if f.is("res", id) {
			n++
			last = f
		}
		return n == 2
	})
	return last
}

// agent deliver:true sends the final reply through the channel (the
// session's last route for channel "last"); a failed delivery fails a
// non-main run and is only logged for the main session.
func TestAgentDeliverThroughChannel(t *testing.T) {
	s, plugin := channelServer(t, `{"channels":{"fake":{"token":"t"}}}`, newFakeModel("delivered", " reply"))
	acct := plugin.Account("default")
	c, _ := connectChat(t, s)
	// A send to 55 records fake/55 as the main session's last route.
	if res := c.Call("send", map[string]any{"channel": "fake", "to": "55", "message": "ping", "idempotencyKey": "s1"}); res["ok"] != true {
		t.Fatalf("send %v", res)
	}
	f := agentFinal(t, c, "a1", map[string]any{"message": "hi", "sessionKey": "main", "deliver": true, "channel": "last",
		"idempotencyKey": "run-deliver"})
	if f.m["ok"] != true {
		t.Fatalf("agent %v", f.m)
	}
	sent := acct.Sent()
	if len(sent) != 3 || sent[1].To != "55" || sent[1].Text != "delivered" || sent[2].Text != "reply" {
		t.Fatalf("sent %+v", sent)
	}
	// Another session with no deliverable route: whatsapp, which is not
	// loaded → the run fails UNAVAILABLE.
	f = agentFinal(t, c, "a2", map[string]any{"message": "hi", "sessionKey": "agent:main:other", "deliver": true,
		"idempotencyKey": "run-deliver-2"})
	if f.m["ok"] != false || !strings.Contains(f.m["error"].(map[string]any)["message"].(string), "Outbound not configured for channel: whatsapp") {
		t.Errorf("failed delivery %v", f.m)
	}
	// The main session delivers best-effort: an unresolvable target is
	// logged and the run stays ok.
	f = agentFinal(t, c, "a3", map[string]any{"message": "hi", "sessionKey": "main", "deliver": true, "channel": "last",
		"to": "invalid", "idempotencyKey": "run-deliver-3"})
	if f.m["ok"] != true {
		t.Errorf("best-effort delivery %v", f.m)
	}
}

// BenchmarkChannelInboundToReply is one allowed inbound DM through the
// manager, the router, an agent turn on an instant fake model and the
// reply send, on a real gateway: the framework's share of the
// inbound → reply latency (the target is ≤ 20 ms beyond polling).
func BenchmarkChannelInboundToReply(b *testing.B) {
	plugin := channelstest.New(channels.Meta{ID: "fake", Label: "Fake"})
	s := chatServer(b, newFakeModel("ok"), func(o *Options) {
		o.ChannelPlugins = []channels.Plugin{plugin}
		if err := os.WriteFile(o.ConfigPath, []byte(`{"channels":{"fake":{"token":"t","dmPolicy":"open"}}}`), 0o600); err != nil {
			b.Fatal(err)
		}
	})
	s.startChannels()
	gatewaytest.WaitFor(b, 5*time.Second, func() bool { a := plugin.Account("default"); return a != nil && a.Running() })
	acct := plugin.Account("default")
	got := make(chan struct{}, 1)
	acct.OnSend(func(channels.Outbound) { got <- struct{}{} })
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		acct.Deliver(channels.Inbound{SenderID: "1", Text: "hi"})
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			b.Fatal("no reply")
		}
		_ = i
	}
}

// Under Run the accounts start once the gateway listens, and a config
// edit restarts only the account whose settings changed, without a
// gateway restart (channels.telegram is a hot-reload path; the fake plays
// the telegram plugin here).
func TestChannelsStartAndHotReloadUnderRun(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "clawdbot.json")
	writeCfg := func(doc string) {
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(`{"gateway":{"reload":{"debounceMs":20}},"canvasHost":{"enabled":false},
  "channels":{"telegram":{"token":"t","accounts":{"a":{},"b":{}}}}}`)
	snap, err := profiles.Load(cfgPath)
	if err != nil || !snap.Valid {
		t.Fatalf("config: %v", err)
	}
	plugin := channelstest.New(channels.Meta{ID: "telegram", Label: "Telegram"})
	rc := RuntimeConfig{Config: snap.Config, Auth: Auth{Mode: AuthToken, Token: testToken}}
	s, err := New(Options{Addr: "127.0.0.1:0", StateDir: filepath.Join(dir, "state"), ConfigPath: cfgPath, Runtime: rc,
		ChannelPlugins: []channels.Plugin{plugin}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, LifecycleOptions{Getenv: func(string) string { return "" }, Home: dir, Initial: snap,
			Signals: make(chan os.Signal),
			Runtime: func(cfg *profiles.Config) (RuntimeConfig, string, error) {
				return RuntimeConfig{Config: cfg, Auth: rc.Auth}, "", nil
			}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	running := func(id string) bool { a := plugin.Account(id); return a != nil && a.Running() }
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return running("a") && running("b") })
	a0, b0 := plugin.Account("a"), plugin.Account("b")
	rt0 := s.rt.Load()

	writeCfg(`{"gateway":{"reload":{"debounceMs":20}},"canvasHost":{"enabled":false},
  "channels":{"telegram":{"token":"t","accounts":{"a":{},"b":{"textChunkLimit":9}}}}}`)
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return plugin.Account("b") != b0 && running("b") })
	if plugin.Account("a") != a0 || !a0.Running() {
		t.Error("account a was restarted by a change to b")
	}
	if s.rt.Load() != rt0 {
		t.Error("the gateway restarted (a new runtime) for a channel change")
	}
}
