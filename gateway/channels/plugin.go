// Package channels is the messaging-channel framework of the gateway: the
// contract a channel plugin (Telegram, WhatsApp, ...) implements, the
// inbound message type, the merge of account fields over a channel's
// config section, and (in the rest of the package) the manager that runs
// every configured account, the pairing store, inbound routing and the
// send/channels.*/web.login.* methods (doc/messaging.md).
//
// A plugin is stateless metadata plus a factory: Plugin.NewAccount builds
// one Account from its merged config. The manager owns the lifecycle
// (start in the background, restart with backoff, stop on reload or
// logout) and the common status fields (running, lastStartAt, lastStopAt,
// lastError, lastInboundAt, lastOutboundAt); the account reports its own
// fields through Host.SetStatus and hands inbound messages to
// Host.Inbound. Subpackages (channels/telegram, channels/whatsapp) import
// this package; this package never imports them.
package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultAccountID is the account a channel section itself configures
// (doc/messaging.md §5).
const DefaultAccountID = "default"

// DefaultTextChunkLimit is the chunk size of both built-in channels when
// neither the config nor the plugin says otherwise.
const DefaultTextChunkLimit = 4000

// Meta describes a channel to clients (channels.status channelMeta) and to
// the send method's channel normalisation.
type Meta struct {
	// ID is the canonical channel id ("telegram", "whatsapp").
	ID string
	// Label and DetailLabel are the UI names ("Telegram", "Telegram Bot").
	Label, DetailLabel string
	// SystemImage is the SF Symbol name the macOS app shows ("paperplane").
	SystemImage string
	// Aliases are other names send accepts for this channel, matched
	// case-insensitively ("tg", "web").
	Aliases []string
	// TextChunkLimit is the default chunk size when channels.<id>.textChunkLimit
	// is unset (0 means DefaultTextChunkLimit).
	TextChunkLimit int
	// PairingIDLabel names the sender id in the pairing reply, e.g.
	// "Telegram user id" or "WhatsApp phone number".
	PairingIDLabel string
	// Order places the channel in channelOrder (lower first; ties by ID).
	Order int
}

// Plugin is one channel implementation. Its methods do no I/O except
// NewAccount, which may read small local files (a token file, a store
// path) but must not connect anywhere: connecting happens in Account.Run.
type Plugin interface {
	Meta() Meta
	// NewAccount builds the account described by cfg. An error means the
	// section is unusable (it is shown as lastError); a not-configured
	// account is still returned, with Describe().Configured false.
	NewAccount(cfg AccountConfig) (Account, error)
}

// AccountConfig is what a plugin gets to build one account.
type AccountConfig struct {
	// Channel is the plugin's Meta().ID; AccountID the normalised account id.
	Channel, AccountID string
	// Merged is the account's fields over the section's top-level fields
	// (MergeAccount); Section is the raw channels.<id> object and Root the
	// whole config document, for rules that look beyond the account (the
	// Telegram token order, WhatsApp's root-only dmPolicy, the web section).
	Merged, Section, Root json.RawMessage
	// StateDir is the profile's state directory (credentials, offsets).
	StateDir string
	// Getenv reads the process environment (TELEGRAM_BOT_TOKEN); tests
	// replace it.
	Getenv func(string) string
}

// Description is an account's config-derived status: no I/O, cheap, called
// on every channels.status.
type Description struct {
	// Enabled is false when the section or the account says enabled:false.
	Enabled bool
	// Configured reports the account can start (a token, a linked device).
	Configured bool
	// NotConfiguredReason is the lastError of a skipped account: "not
	// configured", or "not linked" for WhatsApp (doc/messaging.md §5).
	NotConfiguredReason string
	// Fields are the plugin's own status fields for the account row, with
	// the original's names ("tokenSource", "mode", "linked", "dmPolicy",
	// "allowFrom", "allowUnmentionedGroups", ...). They are merged over the
	// manager's common fields.
	Fields map[string]any
}

// Account is one running (or runnable) channel account. The manager calls
// Run on its own goroutine; every other method may be called concurrently
// with Run, including while Run is not running (a Telegram send needs no
// poller; a WhatsApp send answers ErrNotLinked or an unavailable error).
type Account interface {
	// Describe is the config-derived status (see Description).
	Describe() Description
	// Run connects and serves until ctx is cancelled (return nil or
	// ctx.Err()) or the account fails (return the error; the manager
	// records it in lastError and restarts Run with backoff). A panic is
	// recovered by the manager into lastError. Run reports runtime status
	// and inbound messages through host.
	Run(ctx context.Context, host Host) error
	// Send delivers one message (one chunk of text and/or one media item;
	// the manager chunks). Errors wrapping ErrNotLinked become NOT_LINKED,
	// others UNAVAILABLE.
	Send(ctx context.Context, m Outbound) (SendResult, error)
	// ResolveTarget normalises a user-supplied target ("tg:123",
	// "+1 555 …", "123@g.us") into the plugin's canonical form, or fails
	// with the error the send method shows as INVALID_REQUEST. mode says
	// whether the target came from the caller (explicit) or was derived
	// (implicit, heartbeat); an empty to may fall back to allowFrom[0]
	// (doc/messaging.md §5).
	//
	// Error texts follow Go style (lowercase start is fine): the send
	// method shows them as the original's String(err), "Error: <text>",
	// unless the text already starts with a name ending in "Error: "
	// (e.g. "HttpError: ..."). The same applies to Send errors.
	ResolveTarget(to string, mode TargetMode) (string, error)
}

// Host is the manager's side of a running account. Safe for concurrent use.
type Host interface {
	// SetStatus merges fields into the account's runtime status
	// ("connected", "lastConnectedAt" (ms), "reconnectAttempts",
	// "lastDisconnect", "lastMessageAt", "lastEventAt", "mode", "bot",
	// ...). The keys "lastError" (string or nil) and "running" are
	// honoured too; a nil value stores JSON null. Times are Unix ms.
	SetStatus(fields map[string]any)
	// Inbound hands one received message to routing. It returns quickly:
	// access control, pairing replies and agent turns run on the
	// manager's goroutines, in order per chat.
	Inbound(m Inbound)
	// Logf writes one line to the channel's log subsystem.
	Logf(format string, args ...any)
}

// TargetMode is where a delivery target came from (doc/messaging.md §5).
type TargetMode string

const (
	// TargetExplicit is a target the caller gave (send, agent --to).
	TargetExplicit TargetMode = "explicit"
	// TargetImplicit is a target derived for agent delivery without one.
	TargetImplicit TargetMode = "implicit"
	// TargetHeartbeat is the heartbeat's delivery target.
	TargetHeartbeat TargetMode = "heartbeat"
)

// Outbound is one message to deliver.
type Outbound struct {
	// To is a target already returned by ResolveTarget.
	To string
	// Text is the message or, with media, its caption.
	Text string
	// MediaURL is an http(s) URL or a local file path ("" for text only).
	MediaURL string
	// GifPlayback asks WhatsApp to play a video as a GIF.
	GifPlayback bool
	// ReplyToID is the message id to quote ("" for none).
	ReplyToID string
	// ThreadID is the topic/thread to post in ("" for none), when the
	// target string does not already carry it.
	ThreadID string
}

// SendResult is what one Send delivered: the message id plus the chat id
// the channel reports (Telegram ChatID, WhatsApp ToJid, ...); the send
// method copies the last chunk's result into its answer.
type SendResult struct {
	MessageID      string
	ChatID         string
	ToJid          string
	ChannelID      string
	ConversationID string
}

// ErrNotLinked is wrapped by a plugin's error when the account has no
// credentials to send with (WhatsApp not linked): the send method answers
// NOT_LINKED instead of UNAVAILABLE.
var ErrNotLinked = errors.New("not linked")

// ErrLogoutUnsupported is returned by the manager for a channel whose
// accounts do not implement LogoutAccount.
var ErrLogoutUnsupported = errors.New("logout not supported")

// Typer is implemented by accounts that can show a typing indicator
// (Telegram sendChatAction, WhatsApp composing presence). The manager
// calls Typing when a run starts and repeats it every TypingInterval
// until the reply is sent.
type Typer interface {
	Typing(ctx context.Context, chatID, threadID string) error
}

// TypingInterval is how often the manager repeats Typer.Typing while a
// run streams (Telegram's indicator lasts about 5 s).
const TypingInterval = 6 * time.Second

// Prober is implemented by accounts with a health probe (Telegram getMe).
// The result is shown as the account's "probe" field and sets lastProbeAt.
// It must honour ctx's deadline.
type Prober interface {
	Probe(ctx context.Context) ProbeResult
}

// ProbeResult is the probe field of channels.status: {ok, status, error,
// elapsedMs} plus plugin fields ("bot": {...}).
type ProbeResult struct {
	OK        bool
	Status    *int
	Error     string
	ElapsedMs int64
	Fields    map[string]any
}

// MarshalJSON writes the original's shape: error null when empty, extra
// fields alongside.
func (p ProbeResult) MarshalJSON() ([]byte, error) {
	m := map[string]any{"ok": p.OK, "status": p.Status, "error": nil, "elapsedMs": p.ElapsedMs}
	if p.Error != "" {
		m["error"] = p.Error
	}
	for k, v := range p.Fields {
		m[k] = v
	}
	return json.Marshal(m)
}

// LogoutAccounter is implemented by accounts that can forget their
// credentials. The manager stops the account first, then calls
// LogoutAccount; the result's fields are merged into channels.logout's
// answer (Telegram: envToken, loggedOut; WhatsApp: loggedOut), Cleared
// becomes "cleared". A plugin that must edit the config file (Telegram
// deletes botToken) does it through edit, which writes through the
// config store and keeps the user's formatting.
type LogoutAccounter interface {
	LogoutAccount(ctx context.Context, edit ConfigEditor) (LogoutResult, error)
}

// LogoutResult is a plugin's logout outcome.
type LogoutResult struct {
	Cleared bool
	Fields  map[string]any
}

// ConfigEditor edits the config file on the gateway's behalf.
type ConfigEditor interface {
	// DeletePath removes the key at path (e.g. ["channels","telegram",
	// "botToken"]); a missing key is not an error. The write is atomic and
	// keeps the rest of the file as the user wrote it.
	DeletePath(path ...string) error
}

// Summarizer is implemented by plugins whose channel summary (the
// channels.status "channels.<id>" object) differs from the default
// account's row. The default is that row without accountId and enabled.
type Summarizer interface {
	Summary(defaultAccount map[string]any) map[string]any
}

// Chunker is implemented by plugins that split text themselves (a
// markdown-aware chunker). The default is ChunkText.
type Chunker interface {
	Chunk(text string, limit int, mode ChunkMode) []string
}

// ChunkMode is channels.<id>.chunkMode.
type ChunkMode string

const (
	// ChunkLength splits at the limit, preferring paragraph, newline and
	// whitespace breaks.
	ChunkLength ChunkMode = "length"
	// ChunkNewline pre-splits on blank lines, then by length.
	ChunkNewline ChunkMode = "newline"
)

// TextError is an error whose text is shown to clients exactly as written
// (after "Error: "), for the original's capitalised messages such as
// "Delivering to WhatsApp requires target ...". Build one with Errorf.
type TextError struct{ Text string }

func (e *TextError) Error() string { return e.Text }

// Errorf is a TextError with a formatted text.
func Errorf(format string, args ...any) error {
	return &TextError{Text: fmt.Sprintf(format, args...)}
}

// ReloadWatcher is implemented by plugins whose accounts also depend on
// top-level config sections other than channels.<id> (WhatsApp: "web").
// A change in any of them restarts the channel's accounts, as a change in
// an account's merged config does.
type ReloadWatcher interface {
	ReloadSections() []string
}

// SystemEventer is an optional extension of Host (assert it): a running
// account queues a system event for the main session's next turn
// ("WhatsApp gateway disconnected (status 428)").
type SystemEventer interface {
	SystemEvent(text string)
}
