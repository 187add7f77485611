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
