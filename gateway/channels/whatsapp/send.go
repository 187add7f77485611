package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// mediaFetchTimeout bounds downloading an outbound media URL.
const mediaFetchTimeout = 60 * time.Second

// Outgoing is one message to send: text, or media with the text as caption.
type Outgoing struct {
	To, Text, MediaURL string
	GifPlayback        bool
}

// Sent is what a send delivered: {messageId, toJid} (doc/messaging.md §1.9).
type Sent struct {
	MessageID, ToJid string
}

// Send delivers one message through the connected client: composing
// presence first, then the message (the original's order). Not linked
// wraps ErrNotLinked; linked but not connected is the original's
// "No active WhatsApp Web listener" error.
func (a *Account) Send(ctx context.Context, m Outgoing) (Sent, error) {
	jid, err := targetJID(m.To)
	if err != nil {
		return Sent{}, err
	}
	client, err := a.activeClient()
	if err != nil {
		return Sent{}, err
	}
	_ = client.SendChatPresence(ctx, jid, types.ChatPresenceComposing, types.ChatPresenceMediaText)
	msg := &waE2E.Message{Conversation: proto.String(m.Text)}
	if m.MediaURL != "" {
		msg, err = a.mediaMessage(ctx, client, m)
		if err != nil {
			return Sent{}, err
		}
	}
	resp, err := client.SendMessage(ctx, jid, msg)
	if err != nil {
		return Sent{}, fmt.Errorf("whatsapp send: %w", err)
	}
	return Sent{MessageID: resp.ID, ToJid: jid.String()}, nil
}

// Typing shows "typing…" in chat (a target as ResolveTarget returns it).
func (a *Account) Typing(ctx context.Context, chat string) error {
	jid, err := targetJID(chat)
	if err != nil {
		return err
	}
	client, err := a.activeClient()
	if err != nil {
		return err
	}
	return client.SendChatPresence(ctx, jid, types.ChatPresenceComposing, types.ChatPresenceMediaText)
}

// loadMedia reads a local path (or file:// URL) or downloads an http(s)
// URL, refusing anything over max bytes.
func loadMedia(ctx context.Context, ref string, max int64) ([]byte, string, string, error) {
	name := filepath.Base(ref)
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		cctx, cancel := context.WithTimeout(ctx, mediaFetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, ref, nil)
		if err != nil {
			return nil, "", "", fmt.Errorf("media %s: %w", ref, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", "", fmt.Errorf("media %s: %w", ref, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return nil, "", "", fmt.Errorf("media %s: HTTP %d", ref, resp.StatusCode)
		}
		if resp.ContentLength > max {
			return nil, "", "", fmt.Errorf("media %s is %d bytes, over mediaMaxMb", ref, resp.ContentLength)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		if err != nil {
			return nil, "", "", fmt.Errorf("media %s: %w", ref, err)
		}
		if int64(len(data)) > max {
			return nil, "", "", fmt.Errorf("media %s is over mediaMaxMb", ref)
		}
		if u := resp.Request.URL.Path; u != "" {
			name = filepath.Base(u)
		}
		ct := resp.Header.Get("Content-Type")
		if ct == "" || strings.HasPrefix(ct, "application/octet-stream") {
			ct = sniff(name, data)
		}
		return data, ct, name, nil
	}
	path := expandHome(strings.TrimPrefix(ref, "file://"))
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", "", fmt.Errorf("media: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", "", fmt.Errorf("media %s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, "", "", fmt.Errorf("media %s is %d bytes, over mediaMaxMb", path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", "", fmt.Errorf("media: %w", err)
	}
	return data, sniff(path, data), filepath.Base(path), nil
}

// sniff picks a MIME type from the extension, then the content.
func sniff(name string, data []byte) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

// mediaMessage uploads the media and builds the message carrying it.
func (a *Account) mediaMessage(ctx context.Context, client Client, m Outgoing) (*waE2E.Message, error) {
	data, ct, name, err := loadMedia(ctx, m.MediaURL, a.set.MediaMaxBytes)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(strings.Split(ct, ";")[0])
	kind := whatsmeow.MediaDocument
	switch {
	case strings.HasPrefix(base, "image/"):
		kind = whatsmeow.MediaImage
	case strings.HasPrefix(base, "video/"):
		kind = whatsmeow.MediaVideo
	case strings.HasPrefix(base, "audio/"):
		kind = whatsmeow.MediaAudio
		if base == "audio/ogg" {
			ct = "audio/ogg; codecs=opus" // WhatsApp plays voice notes only with the codec named
		}
	}
	up, err := client.Upload(ctx, data, kind)
	if err != nil {
		return nil, fmt.Errorf("whatsapp upload: %w", err)
	}
	caption := proto.String(m.Text)
	if m.Text == "" {
		caption = nil
	}
	length := proto.Uint64(uint64(len(data)))
	switch kind {
	case whatsmeow.MediaImage:
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length, Mimetype: &ct, Caption: caption}}, nil
	case whatsmeow.MediaVideo:
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length, Mimetype: &ct, Caption: caption,
			GifPlayback: proto.Bool(m.GifPlayback)}}, nil
	case whatsmeow.MediaAudio:
		// Audio has no caption on WhatsApp: the text goes in its own
		// message before it is lost.
		if m.Text != "" {
			return nil, errors.New("whatsapp: audio cannot carry a caption; send the text separately")
		}
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length, Mimetype: &ct,
			PTT: proto.Bool(strings.Contains(ct, "opus"))}}, nil
	}
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
		FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: length, Mimetype: &ct, Caption: caption,
		FileName: proto.String(name), Title: proto.String(name)}}, nil
}

// Logout unlinks the account: the device is logged out at WhatsApp when a
// connection can be had within ctx (so the phone drops it from Linked
// Devices), and the store directory is removed either way. cleared reports
// whether there was a link to remove.
func (a *Account) Logout(ctx context.Context) (cleared bool, err error) {
	a.mu.Lock()
	a.stopLoginLocked()
	if a.st == nil && StoreExists(a.set.Dir) {
		if err := a.refreshLocked(ctx); err != nil {
			// An unreadable store is still removed: logout must not be
			// blocked by the thing it deletes.
			a.mu.Unlock()
			return true, removeAll(a.set.Dir)
		}
	}
	linked, dev, active := a.linked, a.device, a.active
	a.mu.Unlock()
	if linked {
		a.remoteLogout(ctx, dev, active)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active = nil
	existed := a.st != nil || StoreExists(a.set.Dir)
	if err := a.forgetLocked(); err != nil {
		return linked, err
	}
	return linked && existed, nil
}

// remoteLogout tells WhatsApp to drop the device, best effort: offline,
// the local store is removed anyway.
func (a *Account) remoteLogout(ctx context.Context, dev *store.Device, active Client) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if active != nil && active.IsConnected() {
		_ = active.Logout(lctx)
		return
	}
	c := a.newClient(dev, false)
	up := make(chan struct{}, 1)
	h := c.AddEventHandler(func(evt any) {
		if _, ok := evt.(*events.Connected); ok {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	})
	defer c.RemoveEventHandler(h)
	defer c.Disconnect()
	if c.Connect() != nil {
		return
	}
	select {
	case <-up:
		_ = c.Logout(lctx)
	case <-lctx.Done():
	}
}
