package channels_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/channelstest"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
)

// fakeAgent stands in for the agent runner (the core's adapter is tested
// end to end in the gateway package): it records turns and answers a
// fixed reply.
type fakeAgent struct {
	mu     sync.Mutex
	turns  []channels.Turn
	reply  string
	block  chan struct{} // when set, each turn waits for it
	aborts []string
}

func (a *fakeAgent) RunTurn(ctx context.Context, t channels.Turn) (channels.Reply, error) {
	a.mu.Lock()
	a.turns = append(a.turns, t)
	block, reply := a.block, a.reply
	a.mu.Unlock()
	if block != nil {
		<-block
	}
	if reply == "" {
		return channels.Reply{}, nil
	}
	return channels.Reply{Payloads: []channels.ReplyPayload{{Text: reply}}}, nil
}

func (a *fakeAgent) AbortSession(key string) bool {
	a.mu.Lock()
	a.aborts = append(a.aborts, key)
	a.mu.Unlock()
	return true
}

func (a *fakeAgent) Turns() []channels.Turn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]channels.Turn(nil), a.turns...)
}

func routeFixture(t *testing.T, section string) (*fixture, *fakeAgent, *channelstest.Account) {
	t.Helper()
	ag := &fakeAgent{reply: "ok"}
	f := newFixture(t, `{"channels":{"fake":`+section+`}}`, func(d *channels.Deps) { d.Agent = ag })
	f.m.Start()
	gatewaytest.WaitFor(t, 5*time.Second, func() bool {
		a := f.plugin.Account("default")
		return a != nil && a.Running()
	})
	return f, ag, f.plugin.Account("default")
}

// settle waits until every delivered message has been routed to its end
// (reply sent or dropped).
func settle(t *testing.T, m *channels.Manager, acct *channelstest.Account) {
	t.Helper()
	gatewaytest.WaitFor(t, 10*time.Second, func() bool { return acct.Handed() && !m.Busy() })
}

func TestRoutingPolicies(t *testing.T) {
	dm := func(id string) channels.Inbound { return channels.Inbound{SenderID: id, Text: "hello"} }
	group := func(id string, mention bool) channels.Inbound {
		return channels.Inbound{SenderID: id, ChatID: "-100", ChatType: channels.ChatGroup, Text: "hey bot", MentionedBot: mention}
	}
	cases := []struct {
		name    string
		section string
		msg     channels.Inbound
		turn    bool
		pairing bool // a pairing code reply is sent
	}{
		{"default pairing: unknown gets a code", `{"token":"t"}`, dm("111"), false, true},
		{"pairing: historical gets nothing", `{"token":"t"}`, channels.Inbound{SenderID: "111", Historical: true}, false, false},
		{"open: historical not answered", `{"token":"t","dmPolicy":"open"}`, channels.Inbound{SenderID: "111", Historical: true}, false, false},
		{"allowlist: unknown dropped", `{"token":"t","dmPolicy":"allowlist"}`, dm("111"), false, false},
		{"allowlist: listed runs", `{"token":"t","dmPolicy":"allowlist","allowFrom":[111]}`, dm("111"), true, false},
		{"pairing: listed runs", `{"token":"t","allowFrom":["111"]}`, dm("111"), true, false},
		{"wildcard runs", `{"token":"t","allowFrom":["*"]}`, dm("5"), true, false},
		{"username match", `{"token":"t","allowFrom":["@Alice"]}`, channels.Inbound{SenderID: "9", SenderUsername: "alice"}, true, false},
		{"open runs", `{"token":"t","dmPolicy":"open"}`, dm("5"), true, false},
		{"disabled dropped", `{"token":"t","dmPolicy":"disabled","allowFrom":["5"]}`, dm("5"), false, false},
		{"owner always", `{"token":"t","dmPolicy":"allowlist"}`, channels.Inbound{SenderID: "me", FromOwner: true}, true, false},
		{"group: no mention dropped", `{"token":"t","groupPolicy":"open"}`, group("1", false), false, false},
		{"group: mention runs", `{"token":"t","groupPolicy":"open"}`, group("1", true), true, false},
		{"group allowlist default: unknown dropped", `{"token":"t"}`, group("1", true), false, false},
		{"group allowlist: groupAllowFrom", `{"token":"t","groupAllowFrom":["1"]}`, group("1", true), true, false},
		{"group allowlist: allowFrom fallback", `{"token":"t","allowFrom":["1"]}`, group("1", true), true, false},
		{"group disabled", `{"token":"t","groupPolicy":"disabled","allowFrom":["1"]}`, group("1", true), false, false},
		{"group not listed", `{"token":"t","groupPolicy":"open","groups":{"-200":{}}}`, group("1", true), false, false},
		{"group * without mention", `{"token":"t","groupPolicy":"open","groups":{"*":{"requireMention":false}}}`, group("1", false), true, false},
		{"group disabled entry", `{"token":"t","groupPolicy":"open","groups":{"-100":{"enabled":false}}}`, group("1", true), false, false},
		{"group allowFrom override", `{"token":"t","groupPolicy":"disabled","groups":{"-100":{"allowFrom":["1"]}}}`, group("1", true), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, ag, acct := routeFixture(t, tc.section)
			acct.Deliver(tc.msg)
			settle(t, f.m, acct)
			if got := len(ag.Turns()) > 0; got != tc.turn {
				t.Errorf("turn = %v, want %v", got, tc.turn)
			}
			sent := acct.Sent()
			gotPairing := len(sent) > 0 && strings.Contains(sent[0].Text, "Pairing code: ")
			if gotPairing != tc.pairing {
				t.Errorf("pairing reply = %v (sent %+v)", gotPairing, sent)
			}
			if tc.turn && (len(sent) != 1 || sent[0].Text != "ok" || sent[0].To != firstNonEmpty(tc.msg.ChatID, tc.msg.SenderID)) {
				t.Errorf("reply %+v", sent)
			}
			reqs, _ := f.m.Pairing().List("fake")
			if (len(reqs) > 0) != tc.pairing {
				t.Errorf("pending requests %+v", reqs)
			}
		})
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Pairing end to end in the manager: one reply per pending sender, then
// approval lets the next message through to a turn on the main session.
func TestRoutingPairingThenApprove(t *testing.T) {
	f, ag, acct := routeFixture(t, `{"token":"t"}`)
	acct.Deliver(channels.Inbound{SenderID: "111", SenderUsername: "alice", Text: "hi"})
	acct.Deliver(channels.Inbound{SenderID: "111", Text: "hi again"})
	settle(t, f.m, acct)
	sent := acct.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d replies, want exactly one pairing reply: %+v", len(sent), sent)
	}
	reqs, _ := f.m.Pairing().List("fake")
	if len(reqs) != 1 || reqs[0].Meta["username"] != "alice" {
		t.Fatalf("requests %+v", reqs)
	}
	want := "Clawdbot: access not configured.\n\nYour Fake user id: 111\n\nPairing code: " + reqs[0].Code +
		"\n\nAsk the bot owner to approve with:\nclawdbot pairing approve fake " + reqs[0].Code
	if sent[0].Text != want {
		t.Errorf("pairing text:\n%s\nwant:\n%s", sent[0].Text, want)
	}
	if _, ok, err := f.m.Pairing().Approve("fake", reqs[0].Code); !ok || err != nil {
		t.Fatal(ok, err)
	}
	acct.Deliver(channels.Inbound{SenderID: "111", Text: "now?", MessageID: "m7"})
	settle(t, f.m, acct)
	turns := ag.Turns()
	if len(turns) != 1 || turns[0].SessionKey != "agent:main:main" || !strings.Contains(turns[0].Message, "now?") ||
		!strings.Contains(turns[0].Message, "[message_id: m7]") || turns[0].Channel != "fake" {
		t.Fatalf("turns %+v", turns)
	}
	if got := acct.Typings(); got == 0 {
		t.Error("no typing indicator during the turn")
	}
}

// Messages that arrive while the chat's turn runs are collected into one
// turn (the default queue mode), or run one by one in followup mode.
func TestRoutingQueueModes(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		wantTurns int
	}{{"", 2}, {"followup", 3}} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			ag := &fakeAgent{reply: "ok", block: make(chan struct{})}
			cfg := `{"channels":{"fake":{"token":"t","dmPolicy":"open"}}`
			if tc.mode != "" {
				cfg += `,"messages":{"queue":{"byChannel":{"fake":"` + tc.mode + `"}}}`
			}
			f := newFixture(t, cfg+`}`, func(d *channels.Deps) { d.Agent = ag })
			f.m.Start()
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { a := f.plugin.Account("default"); return a != nil && a.Running() })
			acct := f.plugin.Account("default")
			acct.Deliver(channels.Inbound{SenderID: "1", Text: "one"})
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(ag.Turns()) == 1 })
			acct.Deliver(channels.Inbound{SenderID: "1", Text: "two"})
			acct.Deliver(channels.Inbound{SenderID: "1", Text: "three"})
			gatewaytest.WaitFor(t, 5*time.Second, acct.Handed) // both wait behind the running turn
			close(ag.block)
			settle(t, f.m, acct)
			turns := ag.Turns()
			if len(turns) != tc.wantTurns {
				t.Fatalf("%d turns, want %d: %+v", len(turns), tc.wantTurns, turns)
			}
			if tc.mode == "" && !strings.Contains(turns[1].Message, "[Queued messages while agent was busy]") {
				t.Errorf("collected turn %q", turns[1].Message)
			}
		})
	}
}

// session.dmScope keys DMs; the main session's last route follows every
// DM; groups get their own session.
func TestRoutingSessionKeys(t *testing.T) {
	cases := []struct {
		session string
		msg     channels.Inbound
		key     string
	}{
		{``, channels.Inbound{SenderID: "111"}, "agent:main:main"},
		{`"session":{"dmScope":"per-peer"},`, channels.Inbound{SenderID: "111"}, "agent:main:dm:111"},
		{`"session":{"dmScope":"per-channel-peer"},`, channels.Inbound{SenderID: "111"}, "agent:main:fake:dm:111"},
		{`"session":{"dmScope":"per-peer"},`, channels.Inbound{SenderID: "111", ThreadID: "7"}, "agent:main:dm:111:thread:7"},
		{``, channels.Inbound{SenderID: "5", ChatID: "-100", ChatType: channels.ChatGroup, MentionedBot: true}, "agent:main:fake:group:-100"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			ag := &fakeAgent{reply: "ok"}
			dir := t.TempDir()
			cfg := `{` + tc.session + `"channels":{"fake":{"token":"t","dmPolicy":"open","groupPolicy":"open"}}}`
			if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			store := sessionstore.New(sessionstore.Options{StateDir: dir, Config: sessionstore.ConfigFile(filepath.Join(dir, "clawdbot.json"))})
			f := newFixture(t, cfg, func(d *channels.Deps) { d.Agent, d.Sessions, d.StateDir = ag, store, dir })
			f.m.Start()
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { a := f.plugin.Account("default"); return a != nil && a.Running() })
			acct := f.plugin.Account("default")
			acct.Deliver(tc.msg)
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(acct.Sent()) == 1 })
			if turns := ag.Turns(); len(turns) != 1 || turns[0].SessionKey != tc.key {
				t.Fatalf("turns %+v, want session %s", turns, tc.key)
			}
			e, ok := store.Get(tc.key)
			if !ok || e.LastChannel != "fake" {
				t.Errorf("session %s route %+v", tc.key, e)
			}
			main, ok := store.Get("agent:main:main")
			if tc.msg.ChatType != channels.ChatGroup && (!ok || main.LastTo != firstNonEmpty(tc.msg.ChatID, tc.msg.SenderID)) {
				t.Errorf("main session route %+v", main)
			}
		})
	}
}

func TestRoutingBindings(t *testing.T) {
	agents := `"agents":{"list":[{"id":"main","default":true},{"id":"work"},{"id":"fam"},{"id":"any"}]},`
	cases := []struct {
		name, bindings string
		msg            channels.Inbound
		key            string
	}{
		{"no bindings", ``, channels.Inbound{SenderID: "1"}, "agent:main:main"},
		{"peer binding", `"bindings":[{"agentId":"fam","match":{"channel":"fake","peer":{"kind":"dm","id":"1"}}},{"agentId":"work","match":{"channel":"fake"}}],`,
			channels.Inbound{SenderID: "1"}, "agent:fam:main"},
		{"account binding when the peer differs", `"bindings":[{"agentId":"fam","match":{"channel":"fake","peer":{"kind":"dm","id":"2"}}},{"agentId":"work","match":{"channel":"fake"}}],`,
			channels.Inbound{SenderID: "1"}, "agent:work:main"},
		{"* after the account", `"bindings":[{"agentId":"any","match":{"channel":"fake","accountId":"*"}},{"agentId":"work","match":{"channel":"FAKE","accountId":"default"}}],`,
			channels.Inbound{SenderID: "1"}, "agent:work:main"},
		{"other channel ignored", `"bindings":[{"agentId":"work","match":{"channel":"telegram"}}],`, channels.Inbound{SenderID: "1"}, "agent:main:main"},
		{"unknown agent falls back", `"bindings":[{"agentId":"ghost","match":{"channel":"fake"}}],`, channels.Inbound{SenderID: "1"}, "agent:main:main"},
		{"group peer", `"bindings":[{"agentId":"fam","match":{"channel":"fake","peer":{"kind":"group","id":"-100"}}}],`,
			channels.Inbound{SenderID: "1", ChatID: "-100", ChatType: channels.ChatGroup, MentionedBot: true}, "agent:fam:fake:group:-100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ag := &fakeAgent{reply: "ok"}
			cfg := `{` + agents + tc.bindings + `"channels":{"fake":{"token":"t","dmPolicy":"open","groupPolicy":"open"}}}`
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			store := sessionstore.New(sessionstore.Options{StateDir: dir, Config: sessionstore.ConfigFile(filepath.Join(dir, "clawdbot.json"))})
			f := newFixture(t, cfg, func(d *channels.Deps) { d.Agent, d.Sessions, d.StateDir = ag, store, dir })
			f.m.Start()
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { a := f.plugin.Account("default"); return a != nil && a.Running() })
			acct := f.plugin.Account("default")
			acct.Deliver(tc.msg)
			gatewaytest.WaitFor(t, 5*time.Second, func() bool { return len(acct.Sent()) == 1 })
			if turns := ag.Turns(); len(turns) != 1 || turns[0].SessionKey != tc.key {
				t.Fatalf("turns %+v, want %s", turns, tc.key)
			}
		})
	}
}
