package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"
	ta "github.com/mymmrac/telego/telegoapi"
)

// MaxUploadBytes bounds a local file sent as media (the Bot API's own
// upload limit is 50 MB).
const MaxUploadBytes = 50 << 20

// CaptionLimit is Telegram's caption length; longer text follows the media
// as its own message.
const CaptionLimit = 1024

// ClientOptions configure a Client.
type ClientOptions struct {
	// APIRoot is the Bot API server (default https://api.telegram.org).
	APIRoot string
	// HTTPClient carries the calls; nil means a plain one. Long polls bound
	// their own duration through the request context, so it needs no
	// overall timeout.
	HTTPClient *http.Client
}

// NewTransport is the HTTP transport for Bot API calls (proxy nil: none).
// It keeps more idle connections per host than Go's default of 2: the long
// poll holds one while typing, sends and downloads run beside it, and every
// connection dropped from the pool costs a new TLS handshake to the API.
func NewTransport(proxy *url.URL) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return tr
}

// Client is a Bot API client for one bot token.
type Client struct {
	bot  *telego.Bot
	http *http.Client

	mu sync.Mutex
	me *telego.User
}

// NewClient builds a client; a malformed token is an error naming the fix.
func NewClient(token string, o ClientOptions) (*Client, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: NewTransport(nil)}
	}
	root := strings.TrimRight(o.APIRoot, "/")
	if root == "" {
		root = DefaultAPIRoot
	}
	if u, err := url.Parse(root); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("channels.telegram.apiRoot %q is not an http(s) URL; set it to e.g. %s", root, DefaultAPIRoot)
	}
	bot, err := telego.NewBot(token,
		telego.WithAPIServer(root),
		telego.WithAPICaller(redactingCaller{inner: ta.HTTPCaller{Client: hc}, token: token}),
		telego.WithDiscardLogger())
	if errors.Is(err, telego.ErrInvalidToken) {
		return nil, errors.New("telegram bot token is malformed (want <digits>:<35 characters> from @BotFather); fix channels.telegram.botToken, tokenFile or TELEGRAM_BOT_TOKEN")
	}
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return &Client{bot: bot, http: hc}, nil
}

// Bot is the underlying telego bot (for calls this package does not wrap).
func (c *Client) Bot() *telego.Bot { return c.bot }

// Me returns the bot's identity, asking getMe once.
func (c *Client) Me(ctx context.Context) (*telego.User, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != nil {
		return me, nil
	}
	me, err := c.bot.GetMe(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.me = me
	c.mu.Unlock()
	return me, nil
}

// Target is a parsed delivery target.
type Target struct {
	// ChatID is a numeric id ("-100…" for groups) or "@username".
	ChatID   string
	ThreadID int
}

func (t Target) chatID() telego.ChatID {
	if n, err := strconv.ParseInt(t.ChatID, 10, 64); err == nil {
		return telego.ChatID{ID: n}
	}
	return telego.ChatID{Username: t.ChatID}
}

var (
	prefixRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^(telegram|tg):`) })
	groupRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^group:`) })
	topicRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+?):topic:(\d+)$`) })
	threadRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+):(\d+)$`) })
	numericRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^-?\d+$`) })
	usernameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_]{5,}$`) })
	tmeRe      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^(?:https?://)?t\.me/([A-Za-z0-9_]+)/?$`) })
)

// StripPrefixes removes telegram:/tg: (and group: after them), as in the
// original's session keys and allowFrom entries.
func StripPrefixes(to string) string {
	s := strings.TrimSpace(to)
	stripped := false
	for {
		switch {
		case prefixRe().MatchString(s):
			s = strings.TrimSpace(prefixRe().ReplaceAllString(s, ""))
			stripped = true
		case stripped && groupRe().MatchString(s):
			s = strings.TrimSpace(groupRe().ReplaceAllString(s, ""))
		default:
			return s
		}
	}
}

// ParseTarget reads a `send` target (doc/messaging.md §5.2): prefixes
// stripped, <chat>:topic:<n> or <chat>:<n> for a thread, t.me/<name> and
// bare usernames as @name, numeric ids as they are.
func ParseTarget(to string) (Target, error) {
	s := StripPrefixes(to)
	if s == "" {
		return Target{}, errors.New("telegram target is empty; pass a chat id, @username or t.me link")
	}
	var t Target
	if m := topicRe().FindStringSubmatch(s); m != nil {
		t.ThreadID, _ = strconv.Atoi(m[2])
		s = m[1]
	} else if m := threadRe().FindStringSubmatch(s); m != nil {
		t.ThreadID, _ = strconv.Atoi(m[2])
		s = m[1]
	}
	switch {
	case numericRe().MatchString(s):
	case tmeRe().MatchString(s):
		s = "@" + tmeRe().FindStringSubmatch(s)[1]
	case strings.HasPrefix(s, "@"):
	case usernameRe().MatchString(s):
		s = "@" + s
	}
	t.ChatID = s
	return t, nil
}

// Sent identifies a delivered message.
type Sent struct {
	MessageID string `json:"messageId"`
	ChatID    string `json:"chatId"`
}

func sentOf(m *telego.Message, fallback string) Sent {
	if m == nil {
		return Sent{ChatID: fallback}
	}
	return Sent{MessageID: strconv.Itoa(m.MessageID), ChatID: strconv.FormatInt(m.Chat.ID, 10)}
}

// TextOptions shape a text send.
type TextOptions struct {
	// ChunkLimit is the visible-text size of one message (default 4000).
	ChunkLimit int
	// ReplyTo is a message id the first chunk replies to (0: none).
	ReplyTo int
	// ReplyToAll makes every chunk reply (replyToMode "all").
	ReplyToAll bool
	// DisableLinkPreview sets link_preview_options.is_disabled.
	DisableLinkPreview bool
}

var parseErrRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)can't parse entities|parse entities|find end of the entity`)
})

// IsParseError reports the Bot API's rejection of malformed HTML.
func IsParseError(err error) bool { return err != nil && parseErrRe().MatchString(err.Error()) }

// APIError returns the Bot API's error, if err carries one.
func APIError(err error) (*ta.Error, bool) {
	var apiErr *ta.Error
	if errors.As(err, &apiErr) {
		return apiErr, true
	}
	return nil, false
}

func sendError(err error, t Target) error {
	if e, ok := APIError(err); ok && strings.Contains(strings.ToLower(e.Description), "chat not found") {
		return fmt.Errorf("telegram send failed: chat not found (chat_id=%s); the bot must be started by that user or added to that group first", t.ChatID)
	}
	return err
}

// SendText sends markdown as Telegram HTML in chunks; a chunk the API
// rejects as unparsable is re-sent as plain text. It returns every sent
// message, in order; on an error, those sent before it.
func (c *Client) SendText(ctx context.Context, t Target, markdown string, o TextOptions) ([]Sent, error) {
	if strings.TrimSpace(markdown) == "" {
		return nil, errors.New("message must be non-empty for Telegram sends")
	}
	chunks := MarkdownToChunks(markdown, o.ChunkLimit)
	sent := make([]Sent, 0, len(chunks))
	for i, ch := range chunks {
		p := &telego.SendMessageParams{ChatID: t.chatID(), MessageThreadID: t.ThreadID, Text: ch.HTML, ParseMode: telego.ModeHTML}
		if o.ReplyTo != 0 && (i == 0 || o.ReplyToAll) {
			p.ReplyParameters = &telego.ReplyParameters{MessageID: o.ReplyTo, AllowSendingWithoutReply: true}
		}
		if o.DisableLinkPreview {
			p.LinkPreviewOptions = &telego.LinkPreviewOptions{IsDisabled: true}
		}
		m, err := retryRateLimit(ctx, func() (*telego.Message, error) { return c.bot.SendMessage(ctx, p) })
		if IsParseError(err) {
			p.Text, p.ParseMode = ch.Text, ""
			m, err = retryRateLimit(ctx, func() (*telego.Message, error) { return c.bot.SendMessage(ctx, p) })
		}
		if err != nil {
			return sent, sendError(err, t)
		}
		sent = append(sent, sentOf(m, t.ChatID))
	}
	return sent, nil
}

// MediaKind is the Bot API method family for a file.
type MediaKind string

// Media kinds.
const (
	MediaPhoto     MediaKind = "photo"
	MediaVideo     MediaKind = "video"
	MediaAnimation MediaKind = "animation"
	MediaAudio     MediaKind = "audio"
	MediaDocument  MediaKind = "document"
)

// KindOf guesses the kind from the file name's extension.
func KindOf(name string) MediaKind {
	if u, err := url.Parse(name); err == nil && u.Scheme != "" {
		name = u.Path
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".webp":
		return MediaPhoto
	case ".gif":
		return MediaAnimation
	case ".mp4", ".mov", ".webm", ".mkv":
		return MediaVideo
	case ".mp3", ".m4a", ".ogg", ".oga", ".wav", ".flac":
		return MediaAudio
	default:
		return MediaDocument
	}
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// SendMedia sends one file by URL (the Bot API fetches it) or local path
// (uploaded), with markdown as its caption; a caption over 1024 chars is
// sent as text after the media. It returns the last message sent.
func (c *Client) SendMedia(ctx context.Context, t Target, media, caption string, o TextOptions) (Sent, error) {
	media = strings.TrimSpace(media)
	var file telego.InputFile
	if isURL(media) {
		file = telego.InputFile{URL: media}
	} else {
		p := strings.TrimPrefix(media, "file://")
		st, err := os.Stat(p)
		if err != nil {
			return Sent{}, fmt.Errorf("telegram media %q: %w; pass an http(s) URL or a readable file", media, err)
		}
		if !st.Mode().IsRegular() || st.Size() > MaxUploadBytes {
			return Sent{}, fmt.Errorf("telegram media %q is not a regular file of at most %d MB", media, MaxUploadBytes>>20)
		}
		f, err := os.Open(p)
		if err != nil {
			return Sent{}, fmt.Errorf("telegram media: %w", err)
		}
		defer func() { _ = f.Close() }()
		file = telego.InputFile{File: namedFile{f, filepath.Base(p)}}
	}
	capHTML, capText := "", ""
	var follow string
	if strings.TrimSpace(caption) != "" {
		if utf16Len(caption) <= CaptionLimit {
			capHTML, capText = MarkdownToHTML(caption), strings.TrimSpace(parseMarkdown(caption).text)
		} else {
			follow = caption
		}
	}
	m, err := retryRateLimit(ctx, func() (*telego.Message, error) {
		return c.sendFile(ctx, t, KindOf(media), file, capHTML, telego.ModeHTML)
	})
	if IsParseError(err) {
		m, err = retryRateLimit(ctx, func() (*telego.Message, error) { return c.sendFile(ctx, t, KindOf(media), file, capText, "") })
	}
	if err != nil {
		return Sent{}, sendError(err, t)
	}
	last := sentOf(m, t.ChatID)
	if follow != "" {
		o.ReplyTo = 0
		sent, err := c.SendText(ctx, t, follow, o)
		if err != nil {
			return last, err
		}
		last = sent[len(sent)-1]
	}
	return last, nil
}

type namedFile struct {
	*os.File
	name string
}

func (n namedFile) Name() string { return n.name }

func (c *Client) sendFile(ctx context.Context, t Target, kind MediaKind, f telego.InputFile, caption, mode string) (*telego.Message, error) {
	if caption == "" {
		mode = ""
	}
	if nf, ok := f.File.(namedFile); ok {
		// A retry re-reads the upload from the start.
		if _, err := nf.Seek(0, 0); err != nil {
			return nil, err
		}
	}
	id := t.chatID()
	switch kind {
	case MediaPhoto:
		return c.bot.SendPhoto(ctx, &telego.SendPhotoParams{ChatID: id, MessageThreadID: t.ThreadID, Photo: f, Caption: caption, ParseMode: mode})
	case MediaVideo:
		return c.bot.SendVideo(ctx, &telego.SendVideoParams{ChatID: id, MessageThreadID: t.ThreadID, Video: f, Caption: caption, ParseMode: mode})
	case MediaAnimation:
		return c.bot.SendAnimation(ctx, &telego.SendAnimationParams{ChatID: id, MessageThreadID: t.ThreadID, Animation: f, Caption: caption, ParseMode: mode})
	case MediaAudio:
		return c.bot.SendAudio(ctx, &telego.SendAudioParams{ChatID: id, MessageThreadID: t.ThreadID, Audio: f, Caption: caption, ParseMode: mode})
	default:
		return c.bot.SendDocument(ctx, &telego.SendDocumentParams{ChatID: id, MessageThreadID: t.ThreadID, Document: f, Caption: caption, ParseMode: mode})
	}
}

// maxRateLimitWait is the longest retry_after a send waits out; beyond it
// the 429 is returned (a reply minutes late is worse than an error).
const maxRateLimitWait = 30 * time.Second

// retryRateLimit retries a send the API answered 429 (flood control) after
// its retry_after, up to three times. Other errors are not retried: the
// message may have been delivered, and a duplicate is worse than a miss.
func retryRateLimit(ctx context.Context, send func() (*telego.Message, error)) (*telego.Message, error) {
	for attempt := 0; ; attempt++ {
		m, err := send()
		e, ok := APIError(err)
		if !ok || e.ErrorCode != http.StatusTooManyRequests || attempt == 3 || e.Parameters == nil {
			return m, err
		}
		wait := time.Duration(e.Parameters.RetryAfter) * time.Second
		if wait > maxRateLimitWait {
			return m, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return m, err
		case <-t.C:
		}
	}
}

// Typing sends the "typing" chat action (it shows for about 5 s).
func (c *Client) Typing(ctx context.Context, t Target) error {
	return c.bot.SendChatAction(ctx, &telego.SendChatActionParams{ChatID: t.chatID(), MessageThreadID: t.ThreadID, Action: telego.ChatActionTyping})
}

// ProbeBot is the bot identity a successful probe reports.
type ProbeBot struct {
	ID                      int64  `json:"id"`
	Username                string `json:"username"`
	CanJoinGroups           bool   `json:"canJoinGroups"`
	CanReadAllGroupMessages bool   `json:"canReadAllGroupMessages"`
	SupportsInlineQueries   bool   `json:"supportsInlineQueries"`
}

// ProbeWebhook is the webhook the API reports for the bot.
type ProbeWebhook struct {
	URL           string `json:"url"`
	HasCustomCert bool   `json:"hasCustomCert"`
}

// Probe is channels.status's probe result (doc/messaging.md §1.14).
type Probe struct {
	OK        bool          `json:"ok"`
	Status    *int          `json:"status"`
	Error     *string       `json:"error"`
	ElapsedMs int64         `json:"elapsedMs"`
	Bot       *ProbeBot     `json:"bot,omitempty"`
	Webhook   *ProbeWebhook `json:"webhook,omitempty"`
}

// Probe calls getMe (and getWebhookInfo, whose failure does not count)
// within timeout.
func (c *Client) Probe(ctx context.Context, timeout time.Duration) Probe {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var p Probe
	me, err := c.bot.GetMe(ctx)
	if err != nil {
		msg := err.Error()
		if e, ok := APIError(err); ok {
			code := e.ErrorCode
			p.Status = &code
			msg = e.Description
		}
		p.Error = &msg
		p.ElapsedMs = time.Since(start).Milliseconds()
		return p
	}
	c.mu.Lock()
	c.me = me
	c.mu.Unlock()
	p.Bot = &ProbeBot{ID: me.ID, Username: me.Username, CanJoinGroups: me.CanJoinGroups,
		CanReadAllGroupMessages: me.CanReadAllGroupMessages, SupportsInlineQueries: me.SupportsInlineQueries}
	if wh, err := c.bot.GetWebhookInfo(ctx); err == nil && wh != nil {
		p.Webhook = &ProbeWebhook{URL: wh.URL, HasCustomCert: wh.HasCustomCertificate}
	}
	p.OK = true
	p.ElapsedMs = time.Since(start).Milliseconds()
	return p
}
