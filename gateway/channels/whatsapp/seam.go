package whatsapp

import (
	"context"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// Client is the part of *whatsmeow.Client the channel uses. It is the seam
// the tests replace: WhatsApp's servers (a fixed wss:// URL inside
// whatsmeow) cannot be reached from a test, so tests drive the channel
// with whatsmeow's own event structs through a fake Client.
type Client interface {
	Connect() error
	Disconnect()
	IsConnected() bool
	GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error)
	AddEventHandler(handler whatsmeow.EventHandler) uint32
	RemoveEventHandler(id uint32) bool
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	SendPresence(ctx context.Context, state types.Presence) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
	MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error
	Upload(ctx context.Context, plaintext []byte, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	Logout(ctx context.Context) error
}

// ClientFactory builds a Client for a device. login is true for the QR
// login client, which restarts itself after pairing (stream error 515)
// under our control, exactly once.
type ClientFactory func(device *store.Device, login bool) Client

// NewWhatsmeowClient is the production ClientFactory.
//
// whatsmeow's own reconnect loop is off: Run reconnects with the
// web.reconnect policy so reconnectAttempts and the stop after maxAttempts
// are ours to report (doc/messaging.md §5.3).
func NewWhatsmeowClient(device *store.Device, login bool) Client {
	osInfoOnce.Do(func() { store.SetOSInfo("clawdbot", [3]uint32{1, 0, 0}) })
	c := whatsmeow.NewClient(device, waLog.Noop)
	c.EnableAutoReconnect = false
	c.DisableLoginAutoReconnect = login
	return c
}

var _ Client = (*whatsmeow.Client)(nil)

// osInfoOnce sets the device name the phone lists under Linked Devices,
// like the original's browser identity ["clawdbot","cli",VERSION]. Done on
// the first client, not in init, so a gateway without WhatsApp does no
// WhatsApp work at start-up.
var osInfoOnce sync.Once
