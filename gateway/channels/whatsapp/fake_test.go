package whatsapp

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// fakeClient stands in for *whatsmeow.Client. WhatsApp's servers cannot be
// reached from a test (whatsmeow dials a fixed wss:// URL), so the tests
// drive the channel through this seam with whatsmeow's own event structs
// and QR channel items, and record what the channel sends.
type fakeClient struct {
	device *store.Device
	login  bool

	mu         sync.Mutex
	handlers   map[uint32]whatsmeow.EventHandler
	nextID     uint32
	connected  bool
	connects   int
	connectErr error
	onConnect  func(c *fakeClient, n int)
	qr         chan whatsmeow.QRChannelItem
	calls      []string
	sent       []fakeSent
	reads      []types.MessageID
	uploads    int
	loggedOut  bool
	download   []byte
}

type fakeSent struct {
	to  types.JID
	msg *waE2E.Message
}

func (f *fakeClient) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeClient) Connect() error {
	f.mu.Lock()
	f.connects++
	n := f.connects
	err := f.connectErr
	if err == nil {
		f.connected = true
	}
	hook := f.onConnect
	f.mu.Unlock()
	f.record("connect")
	if err == nil && hook != nil {
		go hook(f, n)
	}
	return err
}

func (f *fakeClient) Disconnect() {
	f.mu.Lock()
	f.connected = false
	f.mu.Unlock()
}

func (f *fakeClient) IsConnected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *fakeClient) GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.qr == nil {
		f.qr = make(chan whatsmeow.QRChannelItem, 8)
	}
	return f.qr, nil
}

func (f *fakeClient) AddEventHandler(h whatsmeow.EventHandler) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handlers == nil {
		f.handlers = map[uint32]whatsmeow.EventHandler{}
	}
	f.nextID++
	f.handlers[f.nextID] = h
	return f.nextID
}

func (f *fakeClient) RemoveEventHandler(id uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.handlers[id]
	delete(f.handlers, id)
	return ok
}

// emit dispatches evt to every handler, as whatsmeow's event loop does.
func (f *fakeClient) emit(evt any) {
	f.mu.Lock()
	hs := make([]whatsmeow.EventHandler, 0, len(f.handlers))
	for _, h := range f.handlers {
		hs = append(hs, h)
	}
	f.mu.Unlock()
	for _, h := range hs {
		h(evt)
	}
}

func (f *fakeClient) SendMessage(ctx context.Context, to types.JID, m *waE2E.Message, _ ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	f.mu.Lock()
	f.sent = append(f.sent, fakeSent{to, m})
	n := len(f.sent)
	f.mu.Unlock()
	f.record("send")
	return whatsmeow.SendResponse{ID: types.MessageID("3EB0" + string(rune('A'+n-1))), Timestamp: time.Now()}, nil
}

func (f *fakeClient) SendPresence(ctx context.Context, state types.Presence) error {
	f.record("presence:" + string(state))
	return nil
}

func (f *fakeClient) SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, _ types.ChatPresenceMedia) error {
	f.record("chatpresence:" + string(state) + ":" + jid.String())
	return nil
}

func (f *fakeClient) MarkRead(ctx context.Context, ids []types.MessageID, _ time.Time, chat, sender types.JID, _ ...types.ReceiptType) error {
	f.mu.Lock()
	f.reads = append(f.reads, ids...)
	f.mu.Unlock()
	return nil
}

func (f *fakeClient) Upload(ctx context.Context, data []byte, _ whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	f.mu.Lock()
	f.uploads++
	f.mu.Unlock()
	return whatsmeow.UploadResponse{URL: "https://mmg.invalid/x", DirectPath: "/x", MediaKey: make([]byte, 32), FileSHA256: make([]byte, 32), FileEncSHA256: make([]byte, 32), FileLength: uint64(len(data))}, nil
}

func (f *fakeClient) Download(ctx context.Context, _ whatsmeow.DownloadableMessage) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.download == nil {
		return nil, errors.New("no media")
	}
	return f.download, nil
}

func (f *fakeClient) Logout(ctx context.Context) error {
	f.mu.Lock()
	f.loggedOut = true
	f.mu.Unlock()
	return nil
}

func (f *fakeClient) snapshot() (calls []string, sent []fakeSent, reads []types.MessageID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), append([]fakeSent(nil), f.sent...), append([]types.MessageID(nil), f.reads...)
}

// fakes hands out fakeClients and remembers them in order.
type fakes struct {
	mu      sync.Mutex
	clients []*fakeClient
	setup   func(*fakeClient)
	made    chan *fakeClient
}

func newFakes(setup func(*fakeClient)) *fakes {
	return &fakes{setup: setup, made: make(chan *fakeClient, 16)}
}

func (fs *fakes) factory(dev *store.Device, login bool) Client {
	f := &fakeClient{device: dev, login: login}
	if fs.setup != nil {
		fs.setup(f)
	}
	fs.mu.Lock()
	fs.clients = append(fs.clients, f)
	fs.mu.Unlock()
	fs.made <- f
	return f
}

func (fs *fakes) next(t *testing.T) *fakeClient {
	t.Helper()
	select {
	case f := <-fs.made:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no client was made")
		return nil
	}
}

// pair saves dev as a paired device, what whatsmeow does on PairSuccess.
func pair(t *testing.T, dev *store.Device, phone string) {
	t.Helper()
	jid := types.NewADJID(phone, 0, 12)
	dev.ID = &jid
	dev.LID = types.NewJID("99"+phone, types.HiddenUserServer)
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := dev.Save(context.Background()); err != nil {
		t.Fatalf("save device: %v", err)
	}
}

// recSink records what a running account reports.
type recSink struct {
	mu      sync.Mutex
	status  map[string]any
	inbound chan Inbound
}

func newSink() *recSink { return &recSink{status: map[string]any{}, inbound: make(chan Inbound, 16)} }

func (s *recSink) SetStatus(f map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range f {
		s.status[k] = v
	}
}
func (s *recSink) Inbound(m Inbound)               { s.inbound <- m }
func (s *recSink) Logf(format string, args ...any) {}
func (s *recSink) get(k string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status[k]
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
