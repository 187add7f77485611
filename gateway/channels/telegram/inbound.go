package telegram

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/mymmrac/telego"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// BotIdentity is what mention detection needs to know about the bot.
type BotIdentity struct {
	ID       int64
	Username string
}

// ParseUpdate turns a message update into an inbound message; ok is false
// for updates the channel does not answer (no message, channel posts,
// service messages without text or media, the bot's own messages).
func ParseUpdate(u telego.Update, bot BotIdentity) (channels.Inbound, bool) {
	msg := u.Message
	if msg == nil || msg.From == nil || msg.From.ID == bot.ID {
		return channels.Inbound{}, false
	}
	var ct channels.ChatType
	switch msg.Chat.Type {
	case telego.ChatTypePrivate:
		ct = channels.ChatDM
	case telego.ChatTypeGroup, telego.ChatTypeSupergroup:
		ct = channels.ChatGroup
	default:
		return channels.Inbound{}, false
	}
	text, entities := msg.Text, msg.Entities
	if text == "" {
		text, entities = msg.Caption, msg.CaptionEntities
	}
	media := mediaOf(msg)
	if strings.TrimSpace(text) == "" && len(media) == 0 {
		return channels.Inbound{}, false
	}
	text = forwardPrefix(msg) + text + replySuffix(msg)
	in := channels.Inbound{
		Channel:        "telegram",
		SenderID:       strconv.FormatInt(msg.From.ID, 10),
		SenderName:     strings.TrimSpace(msg.From.FirstName + " " + msg.From.LastName),
		SenderUsername: msg.From.Username,
		ChatID:         strconv.FormatInt(msg.Chat.ID, 10),
		ChatType:       ct,
		Text:           text,
		Media:          media,
		MessageID:      strconv.Itoa(msg.MessageID),
		Time:           time.Unix(msg.Date, 0),
	}
	if msg.IsTopicMessage && msg.MessageThreadID != 0 {
		in.ThreadID = strconv.Itoa(msg.MessageThreadID)
	}
	in.MentionedBot = mentions(text, entities, bot) ||
		(msg.ReplyToMessage != nil && msg.ReplyToMessage.From != nil && msg.ReplyToMessage.From.ID == bot.ID)
	return in, true
}

// senderName is "First Last", else the username (the original's
// buildSenderName).
func senderName(u *telego.User) string {
	if u == nil {
		return ""
	}
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Username
}

// replySuffix is the original's reply context, appended to the body so the
// agent knows what is being answered.
func replySuffix(msg *telego.Message) string {
	r := msg.ReplyToMessage
	if r == nil {
		return ""
	}
	body := strings.TrimSpace(r.Text)
	if body == "" {
		body = strings.TrimSpace(r.Caption)
	}
	if body == "" {
		if md := mediaOf(r); len(md) > 0 {
			body = "<media:" + md[0].Kind + ">"
		}
	}
	if body == "" {
		return ""
	}
	sender := senderName(r.From)
	if sender == "" {
		sender = "unknown sender"
	}
	id := ""
	if r.MessageID != 0 {
		id = " id:" + strconv.Itoa(r.MessageID)
	}
	return "\n\n[Replying to " + sender + id + "]\n" + body + "\n[/Replying]"
}

// forwardPrefix is the original's "[Forwarded from X at <ISO time>]" line.
func forwardPrefix(msg *telego.Message) string {
	var from string
	var date int64
	withSig := func(name, sig string) string {
		if sig = strings.TrimSpace(sig); sig != "" {
			return name + " (" + sig + ")"
		}
		return name
	}
	chatLabel := func(c telego.Chat, kind string) string {
		switch {
		case strings.TrimSpace(c.Title) != "":
			return strings.TrimSpace(c.Title)
		case c.Username != "":
			return "@" + c.Username
		default:
			return kind + ":" + strconv.FormatInt(c.ID, 10)
		}
	}
	switch o := msg.ForwardOrigin.(type) {
	case *telego.MessageOriginUser:
		u := o.SenderUser
		name := strings.TrimSpace(u.FirstName + " " + u.LastName)
		switch {
		case name != "" && u.Username != "":
			from = name + " (@" + u.Username + ")"
		case name != "":
			from = name
		case u.Username != "":
			from = "@" + u.Username
		default:
			from = "user:" + strconv.FormatInt(u.ID, 10)
		}
		date = o.Date
	case *telego.MessageOriginHiddenUser:
		from, date = strings.TrimSpace(o.SenderUserName), o.Date
	case *telego.MessageOriginChat:
		from, date = withSig(chatLabel(o.SenderChat, "chat"), o.AuthorSignature), o.Date
	case *telego.MessageOriginChannel:
		from, date = withSig(chatLabel(o.Chat, "channel"), o.AuthorSignature), o.Date
	}
	if from == "" {
		return ""
	}
	at := ""
	if date != 0 {
		at = " at " + time.Unix(date, 0).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return "[Forwarded from " + from + at + "]\n"
}

// mentions reports an @-mention of the bot: a mention entity with its
// username, a text_mention of its id, a /command@bot, or (for clients that
// send no entities) the @username in the text.
func mentions(text string, entities []telego.MessageEntity, bot BotIdentity) bool {
	if bot.Username == "" && bot.ID == 0 {
		return false
	}
	at := "@" + strings.ToLower(bot.Username)
	units := utf16.Encode([]rune(text))
	for _, e := range entities {
		switch e.Type {
		case "text_mention":
			if e.User != nil && e.User.ID == bot.ID {
				return true
			}
		case "mention", "bot_command":
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > len(units) || bot.Username == "" {
				continue
			}
			s := strings.ToLower(string(utf16.Decode(units[e.Offset : e.Offset+e.Length])))
			if s == at || (e.Type == "bot_command" && strings.HasSuffix(s, at)) {
				return true
			}
		}
	}
	if bot.Username == "" {
		return false
	}
	lower := strings.ToLower(text)
	for i := strings.Index(lower, at); i >= 0; {
		end := i + len(at)
		if end == len(lower) || !isWordByte(lower[end]) {
			return true
		}
		next := strings.Index(lower[end:], at)
		if next < 0 {
			break
		}
		i = end + next
	}
	return false
}

// mediaFileID is the file id of the attachment mediaOf lists ("" if none).
func mediaFileID(m *telego.Message) string {
	switch {
	case len(m.Photo) > 0:
		return m.Photo[len(m.Photo)-1].FileID
	case m.Video != nil:
		return m.Video.FileID
	case m.Animation != nil:
		return m.Animation.FileID
	case m.Voice != nil:
		return m.Voice.FileID
	case m.Audio != nil:
		return m.Audio.FileID
	case m.Document != nil:
		return m.Document.FileID
	case m.Sticker != nil:
		return m.Sticker.FileID
	}
	return ""
}

// mediaOf lists the attachments by kind; files are not downloaded here.
func mediaOf(m *telego.Message) []channels.Media {
	var out []channels.Media
	switch {
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1]
		out = append(out, channels.Media{Kind: "image", MimeType: "image/jpeg", Size: int64(p.FileSize)})
	case m.Video != nil:
		out = append(out, channels.Media{Kind: "video", MimeType: m.Video.MimeType, FileName: m.Video.FileName, Size: m.Video.FileSize})
	case m.Animation != nil:
		out = append(out, channels.Media{Kind: "video", MimeType: m.Animation.MimeType, FileName: m.Animation.FileName, Size: m.Animation.FileSize})
	case m.Voice != nil:
		out = append(out, channels.Media{Kind: "audio", MimeType: m.Voice.MimeType, Size: m.Voice.FileSize})
	case m.Audio != nil:
		out = append(out, channels.Media{Kind: "audio", MimeType: m.Audio.MimeType, FileName: m.Audio.FileName, Size: m.Audio.FileSize})
	case m.Document != nil:
		out = append(out, channels.Media{Kind: "document", MimeType: m.Document.MimeType, FileName: m.Document.FileName, Size: m.Document.FileSize})
	case m.Sticker != nil:
		out = append(out, channels.Media{Kind: "image", MimeType: "image/webp"})
	}
	return out
}
