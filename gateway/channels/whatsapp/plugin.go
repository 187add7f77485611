package whatsapp

import (
	"context"
	"time"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// Plugin is the WhatsApp channel for the channels manager.
type Plugin struct{ opts Options }

// New is the production plugin (real whatsmeow clients).
func New() *Plugin { return &Plugin{} }

// NewWithOptions is a plugin with seams replaced (tests).
func NewWithOptions(o Options) *Plugin { return &Plugin{opts: o} }

// Meta is the original's WhatsApp metadata (doc/messaging.md §1.14).
func (p *Plugin) Meta() channels.Meta {
	return channels.Meta{ID: "whatsapp", Label: "WhatsApp", DetailLabel: "WhatsApp Web", SystemImage: "message",
		Aliases: []string{"web"}, TextChunkLimit: DefaultTextChunkLimit, PairingIDLabel: "WhatsApp phone number", Order: 20}
}

// QRLogin marks the plugin as the web.login.* provider.
func (p *Plugin) QRLogin() {}

// ReloadSections: the top-level web section (reconnect policy) restarts
// the accounts too (doc/messaging.md §5.1).
func (p *Plugin) ReloadSections() []string { return []string{"web"} }

// Summary is the channels.status "channels.whatsapp" object: configured
// means linked there, while the account row says configured:true.
func (p *Plugin) Summary(row map[string]any) map[string]any {
	out := map[string]any{"configured": row["linked"] == true}
	for _, k := range []string{"linked", "authAgeMs", "self", "running", "connected", "lastConnectedAt",
		"lastDisconnect", "reconnectAttempts", "lastMessageAt", "lastEventAt", "lastError"} {
		out[k] = row[k]
	}
	if out["linked"] == nil {
		out["linked"] = false
	}
	if out["self"] == nil {
		out["self"] = map[string]any{"e164": nil, "jid": nil}
	}
	if out["reconnectAttempts"] == nil {
		out["reconnectAttempts"] = 0
	}
	if out["connected"] == nil {
		out["connected"] = false
	}
	if out["running"] == nil {
		out["running"] = false
	}
	return out
}

// NewAccount builds one account; it opens the store only if one exists.
func (p *Plugin) NewAccount(cfg channels.AccountConfig) (channels.Account, error) {
	set, err := ParseSettings(cfg.AccountID, cfg.StateDir, cfg.Merged, cfg.Section, cfg.Root)
	if err != nil {
		return nil, err
	}
	a, err := NewAccount(set, p.opts)
	if a == nil {
		return nil, err
	}
	return &account{a: a, cfg: cfg}, err
}

// account adapts Account to the framework's interfaces.
type account struct {
	a   *Account
	cfg channels.AccountConfig
}

// Core is the WhatsApp account behind a framework account (tests, CLI).
func Core(acct channels.Account) (*Account, bool) {
	w, ok := acct.(*account)
	if !ok {
		return nil, false
	}
	return w.a, true
}

func (w *account) Describe() channels.Description {
	f := w.a.StatusFields()
	f["configured"] = true
	f["dmPolicy"] = w.a.set.DMPolicy
	allow := w.a.set.AllowFrom
	if allow == nil {
		allow = []string{}
	}
	f["allowFrom"] = allow
	for k, v := range map[string]any{"connected": false, "reconnectAttempts": 0, "lastConnectedAt": nil,
		"lastDisconnect": nil, "lastMessageAt": nil, "lastEventAt": nil} {
		f[k] = v
	}
	return channels.Description{Enabled: channels.Enabled(w.cfg.Section, w.cfg.Merged), Configured: w.a.Linked(),
		NotConfiguredReason: "not linked", Fields: f}
}

func (w *account) Run(ctx context.Context, host channels.Host) error {
	return w.a.Run(ctx, sinkAdapter{host})
}

func (w *account) Send(ctx context.Context, m channels.Outbound) (channels.SendResult, error) {
	res, err := w.a.Send(ctx, Outgoing{To: m.To, Text: m.Text, MediaURL: m.MediaURL, GifPlayback: m.GifPlayback})
	if err != nil {
		return channels.SendResult{}, err
	}
	return channels.SendResult{MessageID: res.MessageID, ToJid: res.ToJid}, nil
}

func (w *account) ResolveTarget(to string, mode channels.TargetMode) (string, error) {
	t, err := w.a.ResolveTarget(to, string(mode))
	if err != nil {
		return "", channels.Errorf("%s", err.Error())
	}
	return t, nil
}

// TargetChatType: a group JID is a group, anything else a DM.
func (w *account) TargetChatType(to string) channels.ChatType {
	if isGroupJID(NormalizeTarget(to)) {
		return channels.ChatGroup
	}
	return channels.ChatDM
}

// Typing is composing presence in the chat.
func (w *account) Typing(ctx context.Context, chatID, _ string) error { return w.a.Typing(ctx, chatID) }

// Access: dmPolicy from the root channels.whatsapp section only, and the
// self number when allowFrom and the pairing store are both empty.
func (w *account) Access() channels.AccessConfig {
	ac := channels.ParseAccess(w.cfg.Merged)
	ac.DMPolicy = w.a.set.DMPolicy
	if e164, _ := w.a.Self(); e164 != "" {
		ac.DefaultAllowFrom = []string{e164}
	}
	return ac
}

// NormalizeAllowEntry makes allowFrom entries E.164 ("*" stays).
func (w *account) NormalizeAllowEntry(e string) string {
	if e == "*" {
		return e
	}
	return NormalizeE164(e)
}

func (w *account) LogoutAccount(ctx context.Context, _ channels.ConfigEditor) (channels.LogoutResult, error) {
	cleared, err := w.a.Logout(ctx)
	if err != nil {
		return channels.LogoutResult{}, err
	}
	return channels.LogoutResult{Cleared: cleared, Fields: map[string]any{"loggedOut": cleared}}, nil
}

func (w *account) StartLogin(ctx context.Context, o channels.LoginStart) (channels.LoginStartResult, error) {
	r, err := w.a.StartLogin(ctx, o.Force, o.Timeout)
	if err != nil {
		return channels.LoginStartResult{}, channels.Errorf("%s", err.Error())
	}
	return channels.LoginStartResult{QR: r.QR, QRDataURL: r.QRDataURL, Message: r.Message}, nil
}

func (w *account) WaitLogin(ctx context.Context, timeout time.Duration) (channels.LoginWaitResult, error) {
	r, err := w.a.WaitLogin(ctx, timeout)
	if err != nil {
		return channels.LoginWaitResult{}, channels.Errorf("%s", err.Error())
	}
	return channels.LoginWaitResult{Connected: r.Connected, Message: r.Message}, nil
}

// sinkAdapter turns the framework's Host into the account's Sink.
type sinkAdapter struct{ h channels.Host }

func (s sinkAdapter) SetStatus(f map[string]any)      { s.h.SetStatus(f) }
func (s sinkAdapter) Logf(format string, args ...any) { s.h.Logf(format, args...) }
func (s sinkAdapter) SystemEvent(text string) {
	if se, ok := s.h.(channels.SystemEventer); ok {
		se.SystemEvent(text)
	}
}

func (s sinkAdapter) Inbound(m Inbound) {
	in := channels.Inbound{SenderID: m.SenderID, SenderName: m.SenderName, ChatID: m.ChatID, ChatType: channels.ChatDM,
		Text: m.Text, MentionedBot: m.MentionedSelf, FromOwner: m.FromOwner, Historical: m.Historical,
		MessageID: m.MessageID, Time: m.Time}
	if m.IsGroup {
		in.ChatType = channels.ChatGroup
	}
	for _, md := range m.Media {
		in.Media = append(in.Media, channels.Media{Path: md.Path, MimeType: md.MimeType, Kind: md.Kind, FileName: md.FileName, Size: md.Size})
	}
	s.h.Inbound(in)
}

var (
	_ channels.Plugin               = (*Plugin)(nil)
	_ channels.QRLoginPlugin        = (*Plugin)(nil)
	_ channels.Summarizer           = (*Plugin)(nil)
	_ channels.ReloadWatcher        = (*Plugin)(nil)
	_ channels.QRLoginer            = (*account)(nil)
	_ channels.LogoutAccounter      = (*account)(nil)
	_ channels.Typer                = (*account)(nil)
	_ channels.AccessProvider       = (*account)(nil)
	_ channels.TargetClassifier     = (*account)(nil)
	_ channels.AllowEntryNormalizer = (*account)(nil)
)
