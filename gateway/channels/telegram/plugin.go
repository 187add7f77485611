package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"

	"github.com/clawdbot/clawdbot/gateway/channels"
)

// Option tunes the plugin; production passes none. Tests shorten the
// backoffs and the long poll.
type Option func(*options)

type options struct {
	errorBackoff, conflictBackoff Backoff
	pollTimeout                   time.Duration
	httpClient                    *http.Client
	webhookListen                 string
	webhookBound                  func(addr string)
}

// WithWebhookListen binds webhook mode's server to addr instead of the
// original's 0.0.0.0:8787 and reports the bound address (tests use port 0).
func WithWebhookListen(addr string, bound func(addr string)) Option {
	return func(o *options) { o.webhookListen, o.webhookBound = addr, bound }
}

// WithBackoff replaces the network-error and 409 retry policies.
func WithBackoff(onError, onConflict Backoff) Option {
	return func(o *options) { o.errorBackoff, o.conflictBackoff = onError, onConflict }
}

// WithPollTimeout sets the getUpdates long-poll duration (default 30 s;
// whole seconds, at least 1).
func WithPollTimeout(d time.Duration) Option {
	return func(o *options) { o.pollTimeout = max(d, time.Second) }
}

// WithHTTPClient sets the client every Bot API call goes through.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// Plugin is the Telegram channel plugin.
type Plugin struct{ opts options }

// New returns the Telegram plugin for the gateway's plugin list.
func New(opts ...Option) *Plugin {
	p := &Plugin{opts: options{errorBackoff: ErrorBackoff, conflictBackoff: ConflictBackoff, pollTimeout: 30 * time.Second}}
	for _, o := range opts {
		o(&p.opts)
	}
	return p
}

// Meta describes the channel as the original's plugin does.
func (p *Plugin) Meta() channels.Meta {
	return channels.Meta{ID: "telegram", Label: "Telegram", DetailLabel: "Telegram Bot", SystemImage: "paperplane",
		Aliases: []string{"tg"}, TextChunkLimit: DefaultTextChunkLimit, PairingIDLabel: "Telegram user id", Order: 0}
}

// NewAccount resolves one account (token order of doc/messaging.md §5.2);
// it reads a tokenFile but connects nowhere.
func (p *Plugin) NewAccount(cfg channels.AccountConfig) (channels.Account, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	acct, err := ResolveAccount(cfg.Section, cfg.AccountID, getenv)
	if err != nil {
		return nil, err
	}
	return &account{plugin: p, cfg: cfg, acct: acct, getenv: getenv}, nil
}

type account struct {
	plugin *Plugin
	cfg    channels.AccountConfig
	acct   Account
	getenv func(string) string

	mu     sync.Mutex
	client *Client
}

func (a *account) Describe() channels.Description {
	groups := a.acct.Config.Groups
	unmentioned := false
	for _, g := range groups {
		if g.RequireMention != nil && !*g.RequireMention {
			unmentioned = true
		}
	}
	d := channels.Description{
		Enabled:    a.acct.Enabled,
		Configured: a.acct.Configured(),
		Fields: map[string]any{
			"tokenSource":            a.acct.TokenSource,
			"mode":                   a.acct.Mode(),
			"allowUnmentionedGroups": unmentioned,
		},
	}
	if name := strings.TrimSpace(a.acct.Config.Name); name != "" {
		d.Fields["name"] = name
	}
	if !d.Configured {
		d.NotConfiguredReason = "not configured"
	}
	return d
}

// errNoToken names every place a token can come from.
func (a *account) errNoToken() error {
	if a.acct.TokenProblem != "" {
		return errors.New(a.acct.TokenProblem)
	}
	if a.acct.ID == DefaultAccountID {
		return errors.New("telegram bot token missing for account \"default\" (set channels.telegram.botToken, tokenFile or TELEGRAM_BOT_TOKEN)")
	}
	return fmt.Errorf("telegram bot token missing for account %q (set channels.telegram.accounts.%s.botToken or tokenFile)", a.acct.ID, a.acct.ID)
}

func (a *account) getClient() (*Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client != nil {
		return a.client, nil
	}
	if !a.acct.Configured() {
		return nil, a.errNoToken()
	}
	hc := a.plugin.opts.httpClient
	if p := strings.TrimSpace(a.acct.Config.Proxy); p != "" && hc == nil {
		u, err := url.Parse(p)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h") {
			return nil, fmt.Errorf("channels.telegram.proxy %q is not a proxy URL; use http://host:port or socks5://host:port", p)
		}
		hc = &http.Client{Transport: NewTransport(u)}
	}
	c, err := NewClient(a.acct.Token, ClientOptions{APIRoot: a.acct.APIRoot(), HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

// Run polls getUpdates (or, with webhookUrl, serves the webhook) until
// ctx ends. getMe comes first (mention detection needs the bot's
// username) and is retried like a poll error.
func (a *account) Run(ctx context.Context, host channels.Host) error {
	c, err := a.getClient()
	if err != nil {
		return err
	}
	mode := a.acct.Mode()
	host.SetStatus(map[string]any{"mode": mode})
	o := a.plugin.opts
	var me *telego.User
	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		me, err = c.Me(callCtx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if e, ok := APIError(err); ok && (e.ErrorCode == http.StatusUnauthorized || e.ErrorCode == http.StatusNotFound) {
			return fmt.Errorf("%w (getMe: %d %s)", ErrUnauthorized, e.ErrorCode, e.Description)
		}
		delay := o.errorBackoff.Delay(attempt)
		host.SetStatus(map[string]any{"lastError": describeErr(err)})
		host.Logf("getMe failed: %v; retrying in %v", err, delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
	bot := BotIdentity{ID: me.ID, Username: me.Username}
	host.SetStatus(map[string]any{"lastError": nil})
	host.Logf("starting provider (@%s)", me.Username)
	deliver := func(u telego.Update) {
		in, ok := ParseUpdate(u, bot)
		if !ok {
			return
		}
		in.AccountID = a.acct.ID
		if len(in.Media) > 0 {
			a.download(ctx, c, u.Message, &in.Media[0], host)
		}
		host.Inbound(in)
	}
	if mode == "webhook" {
		cfg := a.acct.Config
		return c.ServeWebhook(ctx, WebhookOptions{Listen: o.webhookListen, Path: cfg.WebhookPath, URL: cfg.WebhookURL,
			Secret: cfg.WebhookSecret, Bound: o.webhookBound, ErrorBackoff: o.errorBackoff,
			OnError: func(err error, retryIn time.Duration) {
				host.SetStatus(map[string]any{"lastError": describeErr(err)})
				host.Logf("setWebhook failed: %v; retrying in %v", err, retryIn.Round(time.Millisecond))
			}}, deliver)
	}
	return c.Poll(ctx, PollOptions{
		OffsetPath:      OffsetPath(a.cfg.StateDir, a.acct.ID),
		Timeout:         o.pollTimeout,
		ErrorBackoff:    o.errorBackoff,
		ConflictBackoff: o.conflictBackoff,
		OnError: func(err error, conflict bool, retryIn time.Duration) {
			host.SetStatus(map[string]any{"lastError": describeErr(err)})
			if conflict {
				host.Logf("Telegram getUpdates conflict; retrying in %v.", retryIn.Round(time.Millisecond))
			} else {
				host.Logf("getUpdates failed: %v; retrying in %v", err, retryIn.Round(time.Millisecond))
			}
		},
		OnRecovered:   func() { host.SetStatus(map[string]any{"lastError": nil}) },
		OnOffsetError: func(err error) { host.Logf("failed to persist update offset: %v", err) },
	}, deliver)
}

// download fetches an inbound attachment so the agent can read it; a
// failure leaves the placeholder without a path (and is logged).
func (a *account) download(ctx context.Context, c *Client, msg *telego.Message, md *channels.Media, host channels.Host) {
	id := mediaFileID(msg)
	if id == "" {
		return
	}
	maxMB := a.acct.Config.MediaMaxMB
	if maxMB <= 0 {
		maxMB = DefaultMediaMaxMB
	}
	// The Bot API's getFile serves at most 20 MB anyway.
	maxMB = min(maxMB, 20)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	p, err := c.Download(ctx, id, InboundMediaDir(a.cfg.StateDir), int64(maxMB*(1<<20)))
	if err != nil {
		host.Logf("inbound %s not downloaded: %v", md.Kind, err)
		return
	}
	md.Path = p
}

// describeErr is the Bot API's description when there is one (the 409's
// "Conflict: terminated by other getUpdates request; …"), else the error.
func describeErr(err error) string {
	if e, ok := APIError(err); ok && e.Description != "" {
		return e.Description
	}
	return err.Error()
}

func (a *account) sendTimeout() time.Duration {
	if s := a.acct.Config.TimeoutSeconds; s > 0 {
		return time.Duration(min(s, 600)) * time.Second
	}
	return 60 * time.Second
}

// Send delivers one chunk or one media item. A chunk whose HTML would
// exceed Telegram's 4096 visible characters is split further.
func (a *account) Send(ctx context.Context, m channels.Outbound) (channels.SendResult, error) {
	c, err := a.getClient()
	if err != nil {
		return channels.SendResult{}, err
	}
	t, err := ParseTarget(m.To)
	if err != nil {
		return channels.SendResult{}, err
	}
	if m.ThreadID != "" {
		if n, err := strconv.Atoi(m.ThreadID); err == nil {
			t.ThreadID = n
		}
	}
	if t.ThreadID == 1 {
		// The General topic takes no message_thread_id on sends.
		t.ThreadID = 0
	}
	o := TextOptions{ChunkLimit: 4096}
	o.ReplyTo, _ = strconv.Atoi(m.ReplyToID)
	if lp := a.acct.Config.LinkPreview; lp != nil && !*lp {
		o.DisableLinkPreview = true
	}
	ctx, cancel := context.WithTimeout(ctx, a.sendTimeout())
	defer cancel()
	method := "sendMessage"
	var last Sent
	if strings.TrimSpace(m.MediaURL) != "" {
		method = "send" + strings.ToUpper(string(KindOf(m.MediaURL))[:1]) + string(KindOf(m.MediaURL))[1:]
		last, err = c.SendMedia(ctx, t, m.MediaURL, m.Text, o)
	} else {
		var sent []Sent
		sent, err = c.SendText(ctx, t, m.Text, o)
		if len(sent) > 0 {
			last = sent[len(sent)-1]
		}
	}
	if err != nil {
		if isNetworkError(err) && ctx.Err() == nil {
			// The original's text for a send that never got an answer.
			return channels.SendResult{}, channels.Errorf("HttpError: Network request for '%s' failed! (%v)", method, err)
		}
		return channels.SendResult{}, err
	}
	return channels.SendResult{MessageID: last.MessageID, ChatID: last.ChatID}, nil
}

// ResolveTarget accepts any non-empty target (the original has no
// resolveTarget for Telegram) and canonicalises it: "<chat>" or
// "<chat>:topic:<n>".
func (a *account) ResolveTarget(to string, mode channels.TargetMode) (string, error) {
	if strings.TrimSpace(to) == "" {
		return "", channels.Errorf("Delivering to Telegram requires target <chatId|@username>")
	}
	t, err := ParseTarget(to)
	if err != nil {
		return "", err
	}
	if t.ThreadID != 0 {
		return t.ChatID + ":topic:" + strconv.Itoa(t.ThreadID), nil
	}
	return t.ChatID, nil
}

// Typing shows "typing…" in the chat (and topic).
func (a *account) Typing(ctx context.Context, chatID, threadID string) error {
	c, err := a.getClient()
	if err != nil {
		return err
	}
	t, err := ParseTarget(chatID)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(threadID); err == nil {
		t.ThreadID = n
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Typing(ctx, t)
}

// Probe calls getMe within ctx's deadline (10 s without one).
func (a *account) Probe(ctx context.Context) channels.ProbeResult {
	c, err := a.getClient()
	if err != nil {
		return channels.ProbeResult{Error: err.Error()}
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	p := c.Probe(ctx, timeout)
	r := channels.ProbeResult{OK: p.OK, Status: p.Status, ElapsedMs: p.ElapsedMs, Fields: map[string]any{}}
	if p.Error != nil {
		r.Error = *p.Error
	}
	if p.Bot != nil {
		r.Fields["bot"] = p.Bot
	}
	if p.Webhook != nil {
		r.Fields["webhook"] = p.Webhook
	}
	return r
}

// LogoutAccount deletes the account's botToken from the config file (the
// section's for "default", plus accounts.<id>.botToken) and reports
// whether a token remains from elsewhere (tokenFile, env).
func (a *account) LogoutAccount(ctx context.Context, edit channels.ConfigEditor) (channels.LogoutResult, error) {
	sec, err := parseSection(a.cfg.Section)
	if err != nil {
		return channels.LogoutResult{}, err
	}
	cleared := false
	if a.acct.ID == DefaultAccountID {
		if tokenSet(sec["botToken"]) {
			if err := edit.DeletePath("channels", "telegram", "botToken"); err != nil {
				return channels.LogoutResult{}, err
			}
			cleared = true
		}
		delete(sec, "botToken")
	}
	if accts, _ := sec.accounts(); accts != nil {
		for key, raw := range accts {
			if NormalizeAccountID(key) != a.acct.ID {
				continue
			}
			var fields section
			if json.Unmarshal(raw, &fields) != nil {
				continue
			}
			if _, has := fields["botToken"]; has {
				if err := edit.DeletePath("channels", "telegram", "accounts", key, "botToken"); err != nil {
					return channels.LogoutResult{}, err
				}
				cleared = cleared || tokenSet(fields["botToken"])
				delete(fields, "botToken")
				b, _ := json.Marshal(fields)
				accts[key] = b
			}
		}
		b, _ := json.Marshal(accts)
		sec["accounts"] = b
	}
	after, _ := json.Marshal(sec)
	rest, err := ResolveAccount(after, a.acct.ID, a.getenv)
	if err != nil {
		return channels.LogoutResult{}, err
	}
	envToken := strings.TrimSpace(a.getenv(TokenEnv)) != ""
	return channels.LogoutResult{Cleared: cleared, Fields: map[string]any{
		"envToken": envToken, "loggedOut": rest.TokenSource == TokenSourceNone}}, nil
}

func tokenSet(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) != ""
}

// NormalizeAllowEntry strips telegram:/tg: so "tg:123" matches sender 123.
func (a *account) NormalizeAllowEntry(entry string) string { return StripPrefixes(entry) }

// NormalizeAllowEntry strips telegram:/tg: (the plugin-level form of the
// account method, for callers that hold only the plugin).
func (p *Plugin) NormalizeAllowEntry(entry string) string { return StripPrefixes(entry) }

var (
	_ channels.Plugin               = (*Plugin)(nil)
	_ channels.Account              = (*account)(nil)
	_ channels.Typer                = (*account)(nil)
	_ channels.Prober               = (*account)(nil)
	_ channels.LogoutAccounter      = (*account)(nil)
	_ channels.AllowEntryNormalizer = (*account)(nil)
)

// Summary is the channels.status "channels.telegram" object: the
// original's buildChannelSummary keeps only these keys of the default
// account's row (doc/messaging.md §1.14).
func (p *Plugin) Summary(row map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"configured", "tokenSource", "running", "mode", "lastStartAt", "lastStopAt", "lastError", "lastProbeAt"} {
		out[k] = row[k]
	}
	if out["configured"] == nil {
		out["configured"] = false
	}
	if out["tokenSource"] == nil {
		out["tokenSource"] = TokenSourceNone
	}
	if out["running"] == nil {
		out["running"] = false
	}
	if pr, ok := row["probe"]; ok {
		out["probe"] = pr
	}
	return out
}

// Chunk splits a reply for sending with code fences closed and reopened
// across chunks (ChunkMarkdown).
func (p *Plugin) Chunk(text string, limit int, mode channels.ChunkMode) []string {
	return ChunkMarkdown(text, limit, mode)
}

var (
	_ channels.Summarizer = (*Plugin)(nil)
	_ channels.Chunker    = (*Plugin)(nil)
)
