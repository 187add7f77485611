package whatsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// Inbound is one received message, converted from events.Message.
type Inbound struct {
	// SenderID is the sender's E.164 number (allowFrom matches it).
	SenderID, SenderName string
	// ChatID is where a reply goes: the sender's E.164 for a DM, the group
	// JID for a group.
	ChatID  string
	IsGroup bool
	Text    string
	Media   []InboundMedia
	// MentionedSelf: the message @-mentions our number or replies to us.
	MentionedSelf bool
	// FromOwner: written by the account's own phone into the self chat.
	FromOwner bool
	// Historical: older than the connection minus 30 s; never answered.
	Historical bool
	MessageID  string
	Time       time.Time
}

// InboundMedia is a downloaded attachment.
type InboundMedia struct {
	Path, MimeType, Kind, FileName string
	Size                           int64
}

// inboundLoop converts messages in arrival order, off whatsmeow's event
// goroutine (media downloads take time).
func (a *Account) inboundLoop(ctx context.Context, client Client, msgs <-chan *events.Message, connectedAtCh <-chan time.Time, sink Sink) {
	var connectedAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-connectedAtCh:
			connectedAt = t
		case m := <-msgs:
			select {
			case t := <-connectedAtCh:
				connectedAt = t
			default:
			}
			now := a.now()
			sink.SetStatus(map[string]any{"lastEventAt": msToAny(now), "lastMessageAt": msToAny(now)})
			in, ok := a.convert(ctx, client, m, connectedAt)
			if !ok {
				continue
			}
			sink.Inbound(in)
		}
	}
}

// mediaOf is the downloadable part of a message, its kind and its
// declared length.
func mediaOf(m *waE2E.Message) (whatsmeow.DownloadableMessage, string, string, string, uint64) {
	switch {
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return x, "image", x.GetMimetype(), "", x.GetFileLength()
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		return x, "video", x.GetMimetype(), "", x.GetFileLength()
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		return x, "audio", x.GetMimetype(), "", x.GetFileLength()
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		return x, "document", x.GetMimetype(), x.GetFileName(), x.GetFileLength()
	case m.GetStickerMessage() != nil:
		x := m.GetStickerMessage()
		return x, "sticker", x.GetMimetype(), "", x.GetFileLength()
	}
	return nil, "", "", "", 0
}

// textOf is the message text or media caption.
func textOf(m *waE2E.Message) string {
	switch {
	case m.GetConversation() != "":
		return m.GetConversation()
	case m.GetExtendedTextMessage().GetText() != "":
		return m.GetExtendedTextMessage().GetText()
	case m.GetImageMessage().GetCaption() != "":
		return m.GetImageMessage().GetCaption()
	case m.GetVideoMessage().GetCaption() != "":
		return m.GetVideoMessage().GetCaption()
	case m.GetDocumentMessage().GetCaption() != "":
		return m.GetDocumentMessage().GetCaption()
	}
	return ""
}

// contextInfoOf is the message's context info (mentions, quoted reply).
func contextInfoOf(m *waE2E.Message) *waE2E.ContextInfo {
	for _, ci := range []*waE2E.ContextInfo{
		m.GetExtendedTextMessage().GetContextInfo(),
		m.GetImageMessage().GetContextInfo(),
		m.GetVideoMessage().GetContextInfo(),
		m.GetDocumentMessage().GetContextInfo(),
		m.GetAudioMessage().GetContextInfo(),
		m.GetStickerMessage().GetContextInfo(),
	} {
		if ci != nil {
			return ci
		}
	}
	return nil
}

// e164Of resolves a user JID to E.164: a phone-number JID directly, a LID
// through the message's alternate address or the store's LID map.
func (a *Account) e164Of(ctx context.Context, j, alt types.JID) string {
	if e := jidE164(j.ToNonAD()); e != "" {
		return e
	}
	if e := jidE164(alt.ToNonAD()); e != "" {
		return e
	}
	if j.Server == types.HiddenUserServer {
		a.mu.Lock()
		dev := a.device
		a.mu.Unlock()
		if dev != nil && dev.LIDs != nil {
			if pn, err := dev.LIDs.GetPNForLID(ctx, j.ToNonAD()); err == nil && !pn.IsEmpty() {
				return jidE164(pn)
			}
		}
	}
	return ""
}

// isSelf reports whether j is our own account (phone number or LID).
func (a *Account) isSelf(j types.JID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.device == nil || a.device.ID == nil {
		return false
	}
	u := j.ToNonAD()
	if u.User == a.device.ID.User && u.Server == a.device.ID.Server {
		return true
	}
	return !a.device.LID.IsEmpty() && u.User == a.device.LID.User && u.Server == a.device.LID.Server
}

// selfChatMode is the original's isSelfChatMode: the owner's own number is
// in allowFrom (one phone used as both bot and human); no read receipts.
func (a *Account) selfChatMode() bool {
	e164, _ := a.Self()
	if e164 == "" {
		return false
	}
	for _, e := range a.set.AllowFrom {
		if NormalizeTarget(e) == e164 {
			return true
		}
	}
	return false
}

// convert turns an events.Message into an Inbound; false drops it.
func (a *Account) convert(ctx context.Context, client Client, m *events.Message, connectedAt time.Time) (Inbound, bool) {
	info := m.Info
	chat := info.Chat
	if chat.Server == types.BroadcastServer || chat.Server == types.NewsletterServer || m.Message == nil {
		return Inbound{}, false
	}
	a.mu.Lock()
	dup := info.ID != "" && a.seen.seen(chat.String()+"/"+info.ID)
	a.mu.Unlock()
	if dup {
		return Inbound{}, false
	}
	group := info.IsGroup || chat.Server == types.GroupServer
	in := Inbound{IsGroup: group, MessageID: info.ID, Time: info.Timestamp, SenderName: info.PushName}
	if group {
		in.ChatID = chat.ToNonAD().String()
		in.SenderID = a.e164Of(ctx, info.Sender, info.SenderAlt)
		if info.IsFromMe {
			return Inbound{}, false
		}
	} else {
		peer := a.e164Of(ctx, chat, info.SenderAlt)
		if info.IsFromMe {
			peer = a.e164Of(ctx, chat, info.RecipientAlt)
			selfE164, _ := a.Self()
			if !a.isSelf(chat) && peer != selfE164 {
				return Inbound{}, false // our own message to someone else
			}
			in.FromOwner = true
		}
		if peer == "" {
			return Inbound{}, false // a LID we cannot map to a number
		}
		in.ChatID, in.SenderID = peer, peer
	}
	if ci := contextInfoOf(m.Message); ci != nil {
		for _, j := range ci.GetMentionedJID() {
			if pj, err := types.ParseJID(j); err == nil && a.isSelf(pj) {
				in.MentionedSelf = true
			}
		}
		if p := ci.GetParticipant(); p != "" {
			if pj, err := types.ParseJID(p); err == nil && a.isSelf(pj) {
				in.MentionedSelf = true
			}
		}
	}
	if !connectedAt.IsZero() && !info.Timestamp.IsZero() && info.Timestamp.Before(connectedAt.Add(-historyGrace)) {
		in.Historical = true
	}
	in.Text = textOf(m.Message)
	if dl, kind, mt, name, size := mediaOf(m.Message); dl != nil {
		if med, err := a.download(ctx, client, dl, kind, mt, name, size); err == nil {
			in.Media = append(in.Media, med)
		} else if in.Text == "" {
			in.Media = append(in.Media, InboundMedia{Kind: kind, MimeType: mt, FileName: name, Size: int64(size)})
		}
	}
	if in.Text == "" && len(in.Media) == 0 {
		return Inbound{}, false
	}
	a.markRead(ctx, client, m, in)
	return in, true
}

// markRead sends the read receipt the original sends: for messages its
// access control admits, unless sendReadReceipts is false or the account
// is in self-chat mode. The policies that drop a message outright
// (dmPolicy/groupPolicy "disabled") get no receipt; the rest of access
// control runs in the framework after this.
func (a *Account) markRead(ctx context.Context, client Client, m *events.Message, in Inbound) {
	if !a.set.SendReadReceipts || in.FromOwner || a.selfChatMode() || m.Info.ID == "" {
		return
	}
	if (in.IsGroup && a.set.GroupPolicy == "disabled") || (!in.IsGroup && a.set.DMPolicy == "disabled") {
		return
	}
	sender := types.EmptyJID
	if in.IsGroup {
		sender = m.Info.Sender
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = client.MarkRead(rctx, []types.MessageID{m.Info.ID}, m.Info.Timestamp, m.Info.Chat, sender)
}

// download fetches an attachment within mediaMaxMb into the media dir
// (0700 dir, 0600 file).
func (a *Account) download(ctx context.Context, client Client, dl whatsmeow.DownloadableMessage, kind, mimeType, name string, size uint64) (InboundMedia, error) {
	if size > uint64(a.set.MediaMaxBytes) {
		return InboundMedia{}, fmt.Errorf("media of %d bytes is over mediaMaxMb", size)
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	data, err := client.Download(dctx, dl)
	if err != nil {
		return InboundMedia{}, err
	}
	if int64(len(data)) > a.set.MediaMaxBytes {
		return InboundMedia{}, fmt.Errorf("media of %d bytes is over mediaMaxMb", len(data))
	}
	if err := os.MkdirAll(a.set.MediaDir, 0o700); err != nil {
		return InboundMedia{}, err
	}
	ext := ""
	if exts, _ := mime.ExtensionsByType(strings.TrimSpace(strings.Split(mimeType, ";")[0])); len(exts) > 0 {
		ext = exts[0]
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	path := filepath.Join(a.set.MediaDir, "wa-"+hex.EncodeToString(rnd[:])+ext)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return InboundMedia{}, err
	}
	return InboundMedia{Path: path, MimeType: mimeType, Kind: kind, FileName: name, Size: int64(len(data))}, nil
}
