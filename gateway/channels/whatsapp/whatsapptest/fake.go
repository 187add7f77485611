// Package whatsapptest is a fake WhatsApp client for tests outside the
// whatsapp package (the CLI's channels login): WhatsApp's servers cannot
// be reached from a test, so the fake hands out a QR code on connect and
// pairs when the test "scans" it, with whatsmeow's own QR items and
// events.
package whatsapptest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels/whatsapp"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// QRText is the code a login client shows.
const QRText = "2@fake-whatsapp-qr-for-tests,bm9pc2U=,aWRlbnRpdHk=,YWR2"

// Phones pairs scanned logins with a phone number and records sends.
type Phones struct {
	mu      sync.Mutex
	logins  []*Client
	scanned chan *Client
	// Sent are the texts sent, in order.
	Sent []string
}

// New is an empty set of fakes.
func New() *Phones { return &Phones{scanned: make(chan *Client, 8)} }

// Factory is the whatsapp.ClientFactory handing out fakes.
func (p *Phones) Factory(dev *store.Device, login bool) whatsapp.Client {
	c := &Client{p: p, dev: dev, login: login, handlers: map[uint32]whatsmeow.EventHandler{}, qr: make(chan whatsmeow.QRChannelItem, 8)}
	if login {
		p.mu.Lock()
		p.logins = append(p.logins, c)
		p.mu.Unlock()
	}
	return c
}

// Scan pairs the newest login client with phone, as the phone app does.
func (p *Phones) Scan(ctx context.Context, phone string) error {
	p.mu.Lock()
	if len(p.logins) == 0 {
		p.mu.Unlock()
		return errors.New("no login in progress")
	}
	c := p.logins[len(p.logins)-1]
	p.mu.Unlock()
	jid := types.NewADJID(phone, 0, 1)
	c.dev.ID = &jid
	c.dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := c.dev.Save(ctx); err != nil {
		return err
	}
	c.emit(&events.PairSuccess{ID: jid})
	c.qr <- whatsmeow.QRChannelSuccess
	close(c.qr)
	c.emit(&events.Connected{})
	return nil
}

// Client is one fake whatsmeow client.
type Client struct {
	p     *Phones
	dev   *store.Device
	login bool

	mu        sync.Mutex
	handlers  map[uint32]whatsmeow.EventHandler
	next      uint32
	connected bool
	qr        chan whatsmeow.QRChannelItem
	connects  int
}

func (c *Client) emit(evt any) {
	c.mu.Lock()
	hs := make([]whatsmeow.EventHandler, 0, len(c.handlers))
	for _, h := range c.handlers {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	for _, h := range hs {
		h(evt)
	}
}

// Connect shows the QR on a login client's first connect; otherwise it
// reports Connected.
func (c *Client) Connect() error {
	c.mu.Lock()
	c.connected = true
	c.connects++
	first := c.connects == 1
	c.mu.Unlock()
	if c.login && first {
		c.qr <- whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: QRText, Timeout: time.Minute}
		return nil
	}
	go c.emit(&events.Connected{})
	return nil
}

func (c *Client) Disconnect() { c.mu.Lock(); c.connected = false; c.mu.Unlock() }

func (c *Client) IsConnected() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.connected }

func (c *Client) GetQRChannel(context.Context) (<-chan whatsmeow.QRChannelItem, error) {
	return c.qr, nil
}

func (c *Client) AddEventHandler(h whatsmeow.EventHandler) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	c.handlers[c.next] = h
	return c.next
}

func (c *Client) RemoveEventHandler(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.handlers[id]
	delete(c.handlers, id)
	return ok
}

func (c *Client) SendMessage(_ context.Context, to types.JID, m *waE2E.Message, _ ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	c.p.mu.Lock()
	c.p.Sent = append(c.p.Sent, m.GetConversation())
	c.p.mu.Unlock()
	return whatsmeow.SendResponse{ID: "3EB0FAKE", Timestamp: time.Now()}, nil
}

func (c *Client) SendPresence(context.Context, types.Presence) error { return nil }

func (c *Client) SendChatPresence(context.Context, types.JID, types.ChatPresence, types.ChatPresenceMedia) error {
	return nil
}

func (c *Client) MarkRead(context.Context, []types.MessageID, time.Time, types.JID, types.JID, ...types.ReceiptType) error {
	return nil
}

func (c *Client) Upload(context.Context, []byte, whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	return whatsmeow.UploadResponse{}, errors.New("whatsapptest: no uploads")
}

func (c *Client) Download(context.Context, whatsmeow.DownloadableMessage) ([]byte, error) {
	return nil, errors.New("whatsapptest: no downloads")
}

func (c *Client) Logout(context.Context) error { return nil }
