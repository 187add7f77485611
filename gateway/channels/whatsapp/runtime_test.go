package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

const selfPhone = "15550009999"

// linkedAccount is an account whose store holds a paired device.
func linkedAccount(t *testing.T, fs *fakes, merged string) *Account {
	t.Helper()
	state := t.TempDir()
	root := `{"web":{"reconnect":{"initialMs":1,"maxMs":1,"maxAttempts":3}}}`
	set, err := ParseSettings("default", state, json.RawMessage(merged), json.RawMessage(merged), json.RawMessage(root))
	if err != nil {
		t.Fatal(err)
	}
	set.Reconnect = ReconnectPolicy{InitialMs: 1, MaxMs: 1, Factor: 1.1, MaxAttempts: 3}
	st, err := OpenStore(context.Background(), set.Dir)
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := st.Device(context.Background())
	pair(t, dev, selfPhone)
	st.Close()
	a, err := NewAccount(set, Options{NewClient: fs.factory})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Linked() {
		t.Fatal("not linked")
	}
	return a
}

// running starts Run and returns the client once it reported Connected.
func running(t *testing.T, a *Account, fs *fakes, sink *recSink) (*fakeClient, chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- a.Run(ctx, sink); close(finished) }()
	f := fs.next(t)
	if f.login {
		t.Fatal("runtime client built in login mode")
	}
	eventually(t, "connected", func() bool { return sink.get("connected") == true })
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return f, done, cancel
}

func connectOK(f *fakeClient) {
	f.onConnect = func(f *fakeClient, _ int) { f.emit(&events.Connected{}) }
}

func dm(id, from, text string, at time.Time) *events.Message {
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: types.NewJID(from, types.DefaultUserServer), Sender: types.NewJID(from, types.DefaultUserServer)},
			ID:            types.MessageID(id), PushName: "Ann", Timestamp: at,
		},
		Message: &waE2E.Message{Conversation: proto.String(text)},
	}
}

// TestRunInboundAndSend drives a connected account with whatsmeow event
// structs: DMs and group mentions become Inbound, history is flagged,
// our own messages to others are dropped, read receipts follow the
// config, and send shows composing before the message.
func TestRunInboundAndSend(t *testing.T) {
	fs := newFakes(connectOK)
	a := linkedAccount(t, fs, `{"allowFrom":["+15550001111"]}`)
	sink := newSink()
	f, _, _ := running(t, a, fs, sink)
	if sink.get("lastConnectedAt") == nil || sink.get("reconnectAttempts") != 0 {
		t.Fatalf("status %v", sink.status)
	}
	eventually(t, "available presence", func() bool {
		calls, _, _ := f.snapshot()
		return strings.Contains(strings.Join(calls, ","), "presence:available")
	})
	now := time.Now()

	f.emit(dm("M1", "15550001111", "hello", now))
	in := <-sink.inbound
	if in.SenderID != "+15550001111" || in.ChatID != "+15550001111" || in.Text != "hello" || in.IsGroup || in.Historical || in.SenderName != "Ann" {
		t.Fatalf("dm inbound %+v", in)
	}
	f.emit(dm("M1", "15550001111", "hello", now)) // redelivery: dropped

	old := dm("M2", "15550001111", "from last week", now.Add(-time.Hour))
	f.emit(old)
	if in := <-sink.inbound; !in.Historical {
		t.Fatalf("old message not historical: %+v", in)
	}

	mine := dm("M3", "15550004444", "I wrote this", now)
	mine.Info.IsFromMe = true
	f.emit(mine)

	group := &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: types.NewJID("120363000000000001", types.GroupServer), Sender: types.NewJID("15550005555", types.DefaultUserServer), IsGroup: true},
			ID:            "G1", Timestamp: now,
		},
		Message: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text:        proto.String("@bot hi"),
			ContextInfo: &waE2E.ContextInfo{MentionedJID: []string{selfPhone + "@s.whatsapp.net"}},
		}},
	}
	f.emit(group)
	in = <-sink.inbound
	if !in.IsGroup || !in.MentionedSelf || in.ChatID != "120363000000000001@g.us" || in.SenderID != "+15550005555" {
		t.Fatalf("group inbound %+v", in)
	}
	select {
	case extra := <-sink.inbound:
		t.Fatalf("unexpected inbound %+v (own message or duplicate)", extra)
	case <-time.After(50 * time.Millisecond):
	}
	_, _, reads := f.snapshot()
	if strings.Join(toStrings(reads), ",") != "M1,M2,G1" {
		t.Fatalf("read receipts %v, want M1,M2,G1", reads)
	}

	res, err := a.Send(context.Background(), Outgoing{To: "+15550001111", Text: "reply"})
	if err != nil || res.ToJid != "15550001111@s.whatsapp.net" || res.MessageID == "" {
		t.Fatalf("send = %+v, %v", res, err)
	}
	calls, sent, _ := f.snapshot()
	tail := strings.Join(calls[len(calls)-2:], ",")
	if tail != "chatpresence:composing:15550001111@s.whatsapp.net,send" {
		t.Fatalf("calls end %q; want composing then send", tail)
	}
	if sent[len(sent)-1].msg.GetConversation() != "reply" {
		t.Fatalf("sent %v", sent[len(sent)-1].msg)
	}
	media := filepath.Join(t.TempDir(), "pic.png")
	os.WriteFile(media, []byte("\x89PNG\r\n\x1a\nfake"), 0o600)
	if _, err := a.Send(context.Background(), Outgoing{To: "120363000000000001@g.us", Text: "look", MediaURL: media}); err != nil {
		t.Fatal(err)
	}
	_, sent, _ = f.snapshot()
	img := sent[len(sent)-1].msg.GetImageMessage()
	if img == nil || img.GetCaption() != "look" || img.GetMimetype() != "image/png" || sent[len(sent)-1].to.Server != types.GroupServer {
		t.Fatalf("media message %v to %v", sent[len(sent)-1].msg, sent[len(sent)-1].to)
	}
	a.set.MediaMaxBytes = 4
	if _, err := a.Send(context.Background(), Outgoing{To: "+15550001111", MediaURL: media}); err == nil || !strings.Contains(err.Error(), "over mediaMaxMb") {
		t.Fatalf("oversized media: %v", err)
	}
}

func toStrings(ids []types.MessageID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// TestReadReceiptsOff: sendReadReceipts:false sends none.
func TestReadReceiptsOff(t *testing.T) {
	fs := newFakes(connectOK)
	a := linkedAccount(t, fs, `{"sendReadReceipts":false}`)
	sink := newSink()
	f, _, _ := running(t, a, fs, sink)
	f.emit(dm("R1", "15550001111", "hi", time.Now()))
	<-sink.inbound
	if _, _, reads := f.snapshot(); len(reads) != 0 {
		t.Fatalf("read receipts %v with sendReadReceipts:false", reads)
	}
}

// TestSendErrors: not linked wraps ErrNotLinked (NOT_LINKED on the
// wire); linked but not running is the original's no-listener text.
func TestSendErrors(t *testing.T) {
	set, _ := ParseSettings("work", t.TempDir(), nil, nil, nil)
	a, _ := NewAccount(set, Options{NewClient: newFakes(nil).factory})
	_, err := a.Send(context.Background(), Outgoing{To: "+15550001111", Text: "x"})
	if !errors.Is(err, ErrNotLinked) || !strings.Contains(err.Error(), "clawdbot channels login --channel whatsapp --account work") {
		t.Fatalf("unlinked send: %v", err)
	}
	b := linkedAccount(t, newFakes(nil), `{}`)
	_, err = b.Send(context.Background(), Outgoing{To: "+15550001111", Text: "x"})
	want := "No active WhatsApp Web listener (account: default). Start the gateway, then link WhatsApp with: clawdbot channels login --channel whatsapp --account default."
	if err == nil || err.Error() != want || errors.Is(err, ErrNotLinked) {
		t.Fatalf("disconnected send: %v", err)
	}
}

// TestReconnectAndStop: a disconnect reconnects with backoff and counts
// attempts; maxAttempts failed connects end Run; a logged-out event
// deletes the store and ends Run without reconnecting.
func TestReconnectAndStop(t *testing.T) {
	fs := newFakes(connectOK)
	a := linkedAccount(t, fs, `{}`)
	sink := newSink()
	f, done, _ := running(t, a, fs, sink)
	f.mu.Lock()
	f.connectErr = errors.New("dial tcp: network is unreachable")
	f.mu.Unlock()
	f.emit(&events.Disconnected{})
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after maxAttempts")
	}
	if !errors.Is(err, errMaxAttempts) || sink.get("reconnectAttempts") != 3 || sink.get("connected") != false {
		t.Fatalf("err %v, status %v", err, sink.status)
	}
	if d, _ := sink.get("lastDisconnect").(map[string]any); d == nil || d["loggedOut"] != false {
		t.Fatalf("lastDisconnect %v", sink.get("lastDisconnect"))
	}

	fs2 := newFakes(connectOK)
	b := linkedAccount(t, fs2, `{}`)
	sink2 := newSink()
	f2, done2, _ := running(t, b, fs2, sink2)
	f2.emit(&events.LoggedOut{Reason: events.ConnectFailureLoggedOut})
	select {
	case err = <-done2:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after logged out")
	}
	if !errors.Is(err, ErrLoggedOut) || b.Linked() || StoreExists(b.set.Dir) {
		t.Fatalf("err %v linked %v store %v", err, b.Linked(), StoreExists(b.set.Dir))
	}
	if f2.connects != 1 {
		t.Fatalf("reconnected %d times after logout", f2.connects-1)
	}
	if d, _ := sink2.get("lastDisconnect").(map[string]any); d["loggedOut"] != true {
		t.Fatalf("lastDisconnect %v", d)
	}
}

// TestResolveTarget is the original's normalisation and fallback table.
func TestResolveTarget(t *testing.T) {
	allow := []string{"+1 555 000 1111"}
	for _, c := range []struct {
		to, mode string
		allow    []string
		want     string
		err      bool
	}{
		{"+15550002222", "explicit", nil, "+15550002222", false},
		{"whatsapp:+1 (555) 000-2222", "explicit", nil, "+15550002222", false},
		{"15550002222:3@s.whatsapp.net", "explicit", nil, "+15550002222", false},
		{"12345@lid", "explicit", nil, "+12345", false},
		{"120363-42@g.us", "explicit", nil, "120363-42@g.us", false},
		{"group:120@g.us", "explicit", allow, "", true},
		{"abc", "explicit", allow, "", true},
		{"", "explicit", allow, "+15550001111", false},
		{"", "explicit", nil, "", true},
		{"bad@x", "implicit", allow, "+15550001111", false},
		{"+15550002222", "implicit", allow, "+15550001111", false},
		{"+15550002222", "heartbeat", []string{"*"}, "+15550002222", false},
		{"120363-42@g.us", "implicit", allow, "120363-42@g.us", false},
	} {
		got, err := resolveTarget(c.to, targetMode(c.mode), c.allow)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("resolveTarget(%q, %s, %v) = %q, %v", c.to, c.mode, c.allow, got, err)
		}
		if err != nil && err.Error() != "Delivering to WhatsApp requires target <E.164|group JID> or channels.whatsapp.allowFrom[0]" {
			t.Errorf("error text %q", err)
		}
	}
}

// TestInboundMedia: an image is downloaded into the media dir (0600) with
// its caption as text; one whose declared size is over mediaMaxMb is not
// downloaded and stays a placeholder attachment.
func TestInboundMedia(t *testing.T) {
	fs := newFakes(func(f *fakeClient) { connectOK(f); f.download = []byte("\x89PNG\r\n\x1a\nimage") })
	a := linkedAccount(t, fs, `{"mediaMaxMb":1}`)
	sink := newSink()
	f, _, _ := running(t, a, fs, sink)
	img := func(id string, size uint64, caption string) *events.Message {
		m := dm(id, "15550001111", "", time.Now())
		m.Message = &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Mimetype: proto.String("image/png"), FileLength: proto.Uint64(size), Caption: proto.String(caption)}}
		return m
	}
	f.emit(img("I1", 13, "a cat"))
	in := <-sink.inbound
	if in.Text != "a cat" || len(in.Media) != 1 || in.Media[0].Kind != "image" || in.Media[0].Path == "" {
		t.Fatalf("inbound %+v", in)
	}
	data, err := os.ReadFile(in.Media[0].Path)
	if err != nil || string(data) != "\x89PNG\r\n\x1a\nimage" {
		t.Fatalf("saved media %q, %v", data, err)
	}
	checkMode(t, in.Media[0].Path, 0o600)
	f.emit(img("I2", 2<<20, ""))
	in = <-sink.inbound
	if len(in.Media) != 1 || in.Media[0].Path != "" || in.Media[0].Kind != "image" {
		t.Fatalf("oversized media %+v", in)
	}
}
