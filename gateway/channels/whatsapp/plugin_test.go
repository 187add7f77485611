package whatsapp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/wire"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
)

// managed is the real channels manager with this plugin (fake clients:
// WhatsApp's servers cannot be reached from a test).
type managed struct {
	m     *channels.Manager
	reg   *rpc.Registry
	fs    *fakes
	state string
}

func newManaged(t *testing.T, config string, setup func(*fakeClient)) *managed {
	t.Helper()
	fs := newFakes(setup)
	state := t.TempDir()
	var mu sync.Mutex
	cfg := json.RawMessage(config)
	m := channels.New(channels.Deps{Plugins: []channels.Plugin{NewWithOptions(Options{NewClient: fs.factory})},
		Config: func() json.RawMessage { mu.Lock(); defer mu.Unlock(); return cfg }, StateDir: state,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	t.Cleanup(m.Stop)
	reg := rpc.NewRegistry()
	channels.Register(reg, m)
	return &managed{m: m, reg: reg, fs: fs, state: state}
}

func (g *managed) call(t *testing.T, method string, params any) (any, *wire.ErrorShape) {
	t.Helper()
	b, _ := json.Marshal(params)
	return g.reg.Lookup(method).Handler(rpc.NewCall(method, json.RawMessage(`"1"`), b, &rpc.Client{}, nil))
}

func (g *managed) row(t *testing.T) map[string]any {
	t.Helper()
	rows := g.m.Status(context.Background(), false, 0).ChannelAccounts["whatsapp"]
	if len(rows) != 1 {
		t.Fatalf("whatsapp rows %v", rows)
	}
	return rows[0]
}

// TestSendNotLinkedThroughManager: send to an unlinked WhatsApp answers
// NOT_LINKED through the real send method (the original answers
// UNAVAILABLE and never uses the code); the status row and summary are
// the original's shape.
func TestSendNotLinkedThroughManager(t *testing.T) {
	g := newManaged(t, `{"channels":{"whatsapp":{"allowFrom":["+15550001111"]}}}`, nil)
	g.m.Start()
	_, e := g.call(t, "send", map[string]any{"to": "+15550001111", "message": "hi", "idempotencyKey": "nl-1"})
	if e == nil || e.Code != wire.ErrNotLinked || !strings.Contains(e.Message, "clawdbot channels login --channel whatsapp") {
		t.Fatalf("send unlinked = %+v; want NOT_LINKED", e)
	}
	_, e = g.call(t, "send", map[string]any{"channel": "whatsapp", "to": "bad@x", "message": "hi", "idempotencyKey": "nl-2"})
	if e == nil || e.Code != wire.ErrInvalidRequest || e.Message != "Error: Delivering to WhatsApp requires target <E.164|group JID> or channels.whatsapp.allowFrom[0]" {
		t.Fatalf("bad target = %+v", e)
	}
	row := g.row(t)
	if row["linked"] != false || row["configured"] != true || row["lastError"] == nil || row["dmPolicy"] != "pairing" {
		t.Fatalf("row %v", row)
	}
	sum := g.m.Status(context.Background(), false, 0).Channels["whatsapp"]
	if sum["configured"] != false || sum["linked"] != false || sum["reconnectAttempts"] != 0 {
		t.Fatalf("summary %v", sum)
	}
	if self, _ := sum["self"].(map[string]any); self == nil || self["e164"] != nil {
		t.Fatalf("summary self %v", sum["self"])
	}
}

// TestLoginThenSendThroughManager: web.login.start answers a decodable
// qrDataUrl and the raw qr; after the scan web.login.wait says connected,
// the manager starts the account, and send delivers {messageId, toJid}.
// An unknown DM then gets the pairing reply through the connection.
func TestLoginThenSendThroughManager(t *testing.T) {
	var clients int
	var mu sync.Mutex
	g := newManaged(t, `{"channels":{"whatsapp":{}}}`, func(f *fakeClient) {
		mu.Lock()
		clients++
		mu.Unlock()
		f.onConnect = func(f *fakeClient, n int) {
			if f.login && n == 1 {
				f.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: qrText}
				return
			}
			f.emit(&events.Connected{})
		}
	})
	g.m.Start()
	res, e := g.call(t, "web.login.start", map[string]any{})
	if e != nil {
		t.Fatal(e)
	}
	out := res.(map[string]any)
	if decodeQR(t, out["qrDataUrl"].(string)) != qrText || out["qr"] != qrText {
		t.Fatalf("web.login.start = %v", out)
	}
	login := g.fs.next(t)
	pair(t, login.device, selfPhone)
	login.qr <- whatsmeow.QRChannelSuccess
	close(login.qr)
	login.emit(&events.Connected{})
	res, e = g.call(t, "web.login.wait", map[string]any{"timeoutMs": 5000})
	if e != nil || res.(map[string]any)["connected"] != true {
		t.Fatalf("web.login.wait = %v, %+v", res, e)
	}
	run := g.fs.next(t)
	eventually(t, "connected row", func() bool { return g.row(t)["connected"] == true })
	res, e = g.call(t, "send", map[string]any{"to": "+15550001111", "message": "hello", "idempotencyKey": "ok-1"})
	if e != nil {
		t.Fatalf("send: %+v", e)
	}
	sr := res.(wire.SendResult)
	if sr.Channel != "whatsapp" || sr.MessageID == "" {
		t.Fatalf("send result %+v", sr)
	}
	if b, _ := json.Marshal(sr); !strings.Contains(string(b), `"toJid":"15550001111@s.whatsapp.net"`) {
		t.Fatalf("send result JSON %s", b)
	}
	if sum := g.m.Status(context.Background(), false, 0).Channels["whatsapp"]; sum["configured"] != true || sum["self"].(map[string]any)["e164"] != "+"+selfPhone {
		t.Fatalf("summary %v", sum)
	}

	run.emit(dm("P1", "15550007777", "who are you", time.Now()))
	eventually(t, "pairing reply", func() bool {
		_, sent, _ := run.snapshot()
		for _, s := range sent {
			if strings.Contains(s.msg.GetConversation(), "Pairing code:") && s.to.User == "15550007777" {
				return strings.Contains(s.msg.GetConversation(), "Your WhatsApp phone number: +15550007777")
			}
		}
		return false
	})

	res, e = g.call(t, "channels.logout", map[string]any{"channel": "whatsapp"})
	if e != nil || res.(map[string]any)["cleared"] != true || res.(map[string]any)["loggedOut"] != true {
		t.Fatalf("logout = %v, %+v", res, e)
	}
	if StoreExists(g.state + "/credentials/whatsapp/default") {
		t.Fatal("logout left the store")
	}
}

// TestLoginStartWhenLinkedKeepsRunning: web.login.start on a linked,
// running account answers "already linked" and the account runs again
// (the manager stops it before asking the plugin).
func TestLoginStartWhenLinkedKeepsRunning(t *testing.T) {
	g := newManaged(t, `{"channels":{"whatsapp":{}}}`, connectOK)
	st, err := OpenStore(context.Background(), g.state+"/credentials/whatsapp/default")
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := st.Device(context.Background())
	pair(t, dev, selfPhone)
	st.Close()
	g.m.Start()
	g.fs.next(t)
	eventually(t, "connected", func() bool { return g.row(t)["connected"] == true })
	res, e := g.call(t, "web.login.start", map[string]any{})
	if e != nil || !strings.Contains(res.(map[string]any)["message"].(string), "already linked (+"+selfPhone+")") {
		t.Fatalf("web.login.start = %v, %+v", res, e)
	}
	g.fs.next(t) // the account's new runtime client
	eventually(t, "running again", func() bool { r := g.row(t); return r["running"] == true && r["connected"] == true })
}
