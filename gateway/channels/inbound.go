package channels

import (
	"context"
	"encoding/json"
	"time"
)

// ChatType is whether an inbound message came from a direct chat or a
// group (Telegram group/supergroup, WhatsApp @g.us).
type ChatType string

const (
	// ChatDM is a one-to-one chat with the bot/account.
	ChatDM ChatType = "dm"
	// ChatGroup is a group chat; mention gating applies.
	ChatGroup ChatType = "group"
)

// Inbound is one message an account received. The plugin fills what its
// network gives; Channel and AccountID may be left empty (the host fills
// them).
type Inbound struct {
	Channel, AccountID string
	// SenderID is the id allowFrom and the pairing store match (Telegram:
	// the user id as a decimal string; WhatsApp: the E.164 number).
	SenderID string
	// SenderName is a display name; SenderUsername a handle without "@"
	// (Telegram), matched case-insensitively against allowFrom entries
	// "@name" or "name".
	SenderName, SenderUsername string
	// ChatID is where a reply goes (a value ResolveTarget accepts);
	// ThreadID a topic/thread inside it ("" for none).
	ChatID, ThreadID string
	ChatType         ChatType
	// Text is the message text (caption for media).
	Text string
	// Media are the attachments, already downloaded or addressable.
	Media []Media
	// MentionedBot reports the message @-mentions the bot or replies to
	// one of its messages (mention gating in groups).
	MentionedBot bool
	// FromOwner reports the account owner wrote it (WhatsApp self-chat):
	// access control lets it through.
	FromOwner bool
	// Historical marks catch-up messages older than the connection: they
	// are never answered, not even with a pairing code.
	Historical bool
	// MessageID is the channel's id of the message (replies quote it).
	MessageID string
	// Time is when it was sent (zero: now).
	Time time.Time
	// Reply, when set, sends a message back into the same chat (the
	// plugin keeps thread and reply context); when nil the manager uses
	// Account.Send with To = ChatID and ThreadID.
	Reply func(ctx context.Context, m Outbound) (SendResult, error)
}

// Media is one attachment of an inbound message.
type Media struct {
	// URL or Path locates the file (a local path after download).
	URL, Path string
	// MimeType is e.g. "image/jpeg"; Kind a coarse class for the
	// envelope placeholder ("image", "audio", "video", "document").
	MimeType, Kind string
	FileName       string
	Size           int64
}

// AccessConfig is an account's inbound access policy (doc/messaging.md §5).
// The manager parses it from the merged account config; a plugin with
// other rules implements AccessProvider.
type AccessConfig struct {
	// DMPolicy is pairing (default) | allowlist | open | disabled.
	DMPolicy string `json:"dmPolicy,omitempty"`
	// AllowFrom are the allowed DM senders ("*" = anyone).
	AllowFrom []json.RawMessage `json:"allowFrom,omitempty"`
	// GroupPolicy is open | disabled | allowlist (default allowlist).
	GroupPolicy string `json:"groupPolicy,omitempty"`
	// GroupAllowFrom are the allowed group senders (fallback AllowFrom).
	GroupAllowFrom []json.RawMessage `json:"groupAllowFrom,omitempty"`
	// Groups are per-group settings keyed by chat id or "*".
	Groups map[string]GroupConfig `json:"groups,omitempty"`
	// DefaultAllowFrom replaces an empty allowlist (config and pairing
	// store both empty): WhatsApp's self number. Not read from the config.
	DefaultAllowFrom []string `json:"-"`
}

// GroupConfig is channels.<id>.groups.<chat>.
type GroupConfig struct {
	RequireMention *bool             `json:"requireMention,omitempty"`
	Enabled        *bool             `json:"enabled,omitempty"`
	AllowFrom      []json.RawMessage `json:"allowFrom,omitempty"`
}

// AccessProvider is implemented by accounts whose access policy is not
// simply the merged config's fields (WhatsApp reads dmPolicy from the root
// section and falls back to the self number).
type AccessProvider interface {
	Access() AccessConfig
}

// AllowEntryNormalizer is implemented by plugins whose allowFrom entries
// have prefixes or formats to canonicalise before matching ("tg:123" →
// "123"; WhatsApp → E.164). The default trims spaces.
type AllowEntryNormalizer interface {
	NormalizeAllowEntry(entry string) string
}

// QRLoginer is implemented by accounts that link by scanning a QR code
// (WhatsApp Web). web.login.start/wait dispatch to it; the manager stops
// the account before StartLogin and starts it after a connected Wait.
// Failures are returned as errors (UNAVAILABLE on the wire), not as
// messages in a successful answer.
type QRLoginer interface {
	StartLogin(ctx context.Context, o LoginStart) (LoginStartResult, error)
	WaitLogin(ctx context.Context, timeout time.Duration) (LoginWaitResult, error)
}

// QRLoginPlugin marks a plugin whose accounts implement QRLoginer: with
// one loaded, hello-ok advertises web.login.start/wait after the core
// methods, as the original does when its WhatsApp plugin is loaded. (The
// methods answer either way: "web login provider is not available".)
type QRLoginPlugin interface {
	QRLogin()
}

// LoginStart are web.login.start's options.
type LoginStart struct {
	// Force asks for a fresh QR even when already linked.
	Force bool
	// Timeout bounds the wait for the first QR (≥ 5 s, default 30 s).
	Timeout time.Duration
	Verbose bool
}

// LoginStartResult is web.login.start's answer: a QR as a PNG data URL
// ("" when already linked) and a message for the user.
type LoginStartResult struct {
	// QR is the raw QR text (what the phone scans), answered as "qr" so a
	// terminal client (clawdbot channels login) can draw it without
	// decoding the PNG.
	QR        string
	QRDataURL string
	Message   string
}

// LoginWaitResult is web.login.wait's answer.
type LoginWaitResult struct {
	Connected bool
	Message   string
}
