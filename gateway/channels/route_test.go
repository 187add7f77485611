package channels_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/channels/channelstest"
	"github.com/clawdbot/clawdbot/gateway/gatewaytest"
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

// settle waits until inbound work is done: no new sends or turns for a
// moment.
func settle(acct *channelstest.Account, ag *fakeAgent) {
	last := -1
	for range 100 {
		n := len(acct.Sent()) + len(ag.Turns())
		if n == last {
			return
		}
		last = n
		time.Sleep(30 * time.Millisecond)
	}
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
			settle(acct, ag)
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
	settle(acct, ag)
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
	settle(acct, ag)
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
			time.Sleep(100 * time.Millisecond)
			close(ag.block)
			settle(acct, ag)
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
