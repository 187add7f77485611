package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/clawdbot/clawdbot/gateway/llm"
	"github.com/clawdbot/clawdbot/gateway/rpc"
	"github.com/clawdbot/clawdbot/gateway/sessionstore"
	"github.com/clawdbot/clawdbot/wire"
)

// DefaultChannel is the channel of a send without one (the original's
// DEFAULT_CHAT_CHANNEL).
const DefaultChannel = "whatsapp"

// Web login timeouts (doc/messaging.md §1.14), with our upper bounds.
const (
	loginStartDefault = 30 * time.Second
	loginStartMin     = 5 * time.Second
	loginWaitDefault  = 120 * time.Second
	loginWaitMin      = time.Second
	loginMax          = 10 * time.Minute
	// sendTimeout bounds one send's delivery.
	sendTimeout = 60 * time.Second
)

// Register adds send, channels.status, channels.logout, web.login.start
// and web.login.wait to reg.
func Register(reg *rpc.Registry, m *Manager) {
	reg.HandleAsync("send", m.handleSend)
	reg.HandleAsync("channels.status", m.handleStatus)
	reg.HandleAsync("channels.logout", m.handleLogout)
	reg.HandleAsync("web.login.start", m.handleLoginStart)
	reg.HandleAsync("web.login.wait", m.handleLoginWait)
}

// WebLoginMethods are the methods the QR login adds after the core list
// in hello-ok (the original's WhatsApp plugin appends them).
var WebLoginMethods = []string{"web.login.start", "web.login.wait"}

// AdvertisedMethods are the channel methods hello-ok lists after the core
// list: web.login.* when a QRLoginPlugin is loaded.
func (m *Manager) AdvertisedMethods() []string {
	for _, p := range m.plugins {
		if _, ok := p.(QRLoginPlugin); ok {
			return WebLoginMethods
		}
	}
	return nil
}

func (m *Manager) handleStatus(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.ChannelsStatusParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	timeout := DefaultProbeTimeout
	if p.TimeoutMs != nil {
		timeout = max(time.Duration(*p.TimeoutMs)*time.Millisecond, MinProbeTimeout)
	}
	timeout = min(timeout, MaxProbeTimeout)
	return m.Status(context.Background(), p.Probe != nil && *p.Probe, timeout), nil
}

type logoutParams struct {
	Channel   string `json:"channel"`
	AccountID string `json:"accountId"`
}

func (m *Manager) handleLogout(c *rpc.Call) (any, *wire.ErrorShape) {
	var p logoutParams
	if err := json.Unmarshal(c.Params, &p); err != nil || strings.TrimSpace(p.Channel) == "" {
		return nil, rpc.Invalid("invalid channels.logout params: channel (string) required")
	}
	res, err := m.Logout(context.Background(), p.Channel, p.AccountID)
	if err != nil {
		var inv *invalidError
		if errors.As(err, &inv) {
			return nil, rpc.Invalid(inv.msg)
		}
		return nil, rpc.Unavailable(errText(err))
	}
	return res, nil
}

// invalidError is a request error (INVALID_REQUEST), not a failure.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

// Logout stops channel/accountID and asks its plugin to forget the
// credentials: {channel, accountId, cleared, ...plugin fields}.
func (m *Manager) Logout(ctx context.Context, channel, accountID string) (map[string]any, error) {
	m.ensure()
	id := m.Normalize(channel)
	if id == "" {
		return nil, &invalidError{"invalid channels.logout channel"}
	}
	if accountID == "" {
		accountID = m.defaultAccountOf(id)
	}
	accountID = NormalizeAccountID(accountID)
	r := m.account(id, accountID)
	if r == nil {
		return nil, &invalidError{fmt.Sprintf("unknown %s account %q", id, accountID)}
	}
	if v, ok := m.d.EditConfig.(interface{ Valid() error }); ok && v.Valid() != nil {
		return nil, &invalidError{"config invalid; fix it before logging out"}
	}
	r.build()
	lo, ok := r.acct().(LogoutAccounter)
	if !ok {
		return nil, &invalidError{"channel " + id + " does not support logout"}
	}
	r.stop()
	var res LogoutResult
	if err := safeCall(func() error {
		var err error
		res, err = lo.LogoutAccount(ctx, m.d.EditConfig)
		return err
	}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.lastStopAt = r.nowMs()
	r.mu.Unlock()
	out := map[string]any{"channel": id, "accountId": accountID}
	maps.Copy(out, res.Fields)
	out["cleared"] = res.Cleared
	return out, nil
}

// errText is err as the original's String(err): "Error: <msg>", unless the
// message already names its error type ("HttpError: ...").
func errText(err error) string {
	msg := err.Error()
	if errorNamed().MatchString(msg) {
		return msg
	}
	return "Error: " + msg
}

var errorNamed = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Za-z]*Error: `) })

// sendFlight is a send in progress; duplicates wait on done.
type sendFlight struct {
	done chan struct{}
	res  any
	err  *wire.ErrorShape
}

func (m *Manager) handleSend(c *rpc.Call) (any, *wire.ErrorShape) {
	var p wire.SendParams
	if e := c.Decode(&p); e != nil {
		return nil, e
	}
	key := "send:" + p.IdempotencyKey
	if e, ok := m.d.Dedupe.Load(key); ok {
		return e.Payload, e.Err
	}
	m.mu.Lock()
	if f := m.inflight[key]; f != nil {
		m.mu.Unlock()
		<-f.done
		return f.res, f.err
	}
	f := &sendFlight{done: make(chan struct{})}
	m.inflight[key] = f
	m.mu.Unlock()
	res, e, cache := m.Send(context.Background(), p)
	if cache {
		m.d.Dedupe.Store(key, res, e)
	}
	f.res, f.err = res, e
	m.mu.Lock()
	delete(m.inflight, key)
	m.mu.Unlock()
	close(f.done)
	return res, e
}

// Send runs the send method (doc/messaging.md §1.9) without dedupe; cache
// reports whether the outcome belongs in the idempotency cache (successes
// and delivery failures do; request errors do not).
func (m *Manager) Send(ctx context.Context, p wire.SendParams) (any, *wire.ErrorShape, bool) {
	m.ensure()
	raw := strings.TrimSpace(p.Channel)
	channel := DefaultChannel
	if raw != "" {
		channel = m.Normalize(raw)
		if channel == "" {
			return nil, rpc.Invalid("unsupported channel: " + raw), false
		}
	} else if m.byID[channel] == nil {
		return nil, rpc.Invalid("unsupported channel: " + channel), false
	}
	accountID := p.AccountID
	if accountID == "" {
		accountID = m.defaultAccountOf(channel)
	}
	accountID = NormalizeAccountID(accountID)
	r := m.account(channel, accountID)
	if r == nil {
		return nil, rpc.Invalid(fmt.Sprintf("unknown %s account: %s", channel, accountID)), false
	}
	r.build()
	a, buildErr := r.built()
	if a == nil {
		msg := "channel config unusable"
		if buildErr != nil {
			msg = buildErr.Error()
		}
		return nil, rpc.Unavailable("Error: " + msg), true
	}
	var to string
	if err := safeCall(func() error {
		var err error
		to, err = a.ResolveTarget(p.To, TargetExplicit)
		return err
	}); err != nil {
		return nil, rpc.Invalid(errText(err)), false
	}
	text, media := splitMedia(p.Message)
	if p.MediaURL != "" {
		media = append([]string{p.MediaURL}, media...)
	}
	media = append(media, p.MediaURLs...)
	sessionKey := strings.ToLower(strings.TrimSpace(p.SessionKey))
	if sessionKey == "" {
		sessionKey = m.targetSession(a, channel, accountID, to)
	}
	shaping := Shaping(r.cfg.Merged, r.plugin.Meta().TextChunkLimit)
	outs := m.shape(r.plugin, shaping, text, media)
	if len(outs) == 0 {
		return nil, rpc.Invalid("message must be non-empty"), false
	}
	gif := p.GifPlayback != nil && *p.GifPlayback
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var last SendResult
	sent := 0
	for _, o := range outs {
		o.To, o.GifPlayback = to, gif
		err := safeCall(func() error {
			var err error
			last, err = a.Send(ctx, o)
			return err
		})
		if err != nil {
			if sent > 0 {
				m.mirror(sessionKey, text, media)
			}
			if errors.Is(err, ErrNotLinked) {
				return nil, rpc.Error(wire.ErrNotLinked, errText(err)), true
			}
			return nil, rpc.Unavailable(errText(err)), true
		}
		sent++
	}
	r.mu.Lock()
	r.lastOutboundAt = r.nowMs()
	r.mu.Unlock()
	m.mirror(sessionKey, text, media)
	return wire.SendResult{RunID: p.IdempotencyKey, MessageID: last.MessageID, Channel: channel, ChatID: last.ChatID,
		ToJid: last.ToJid, ChannelID: last.ChannelID, ConversationID: last.ConversationID}, nil, true
}

// splitMedia takes the MEDIA: lines out of a message (doc/messaging.md
// §1.9): each "MEDIA: <url-or-path>" line is an attachment, the rest the
// text.
func splitMedia(msg string) (text string, media []string) {
	var keep []string
	for _, line := range strings.Split(msg, "\n") {
		t := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(t, "MEDIA:"); ok {
			if u := strings.Trim(strings.TrimSpace(rest), "`\"'"); u != "" {
				media = append(media, u)
				continue
			}
		}
		keep = append(keep, line)
	}
	return strings.TrimSpace(strings.Join(keep, "\n")), media
}

// TargetClassifier is implemented by accounts whose targets may be groups
// (WhatsApp "…@g.us", Telegram negative chat ids), for the session a send
// is mirrored into. The default is a DM.
type TargetClassifier interface {
	TargetChatType(to string) ChatType
}

// targetSession is the session a send without sessionKey mirrors into,
// upserted before delivery with its route (doc/messaging.md §1.9).
func (m *Manager) targetSession(a Account, channel, accountID, to string) string {
	kind := ChatDM
	if tc, ok := a.(TargetClassifier); ok {
		kind = tc.TargetChatType(to)
	}
	msg := Inbound{Channel: channel, AccountID: accountID, SenderID: to, ChatID: to, ChatType: kind}
	key := m.sessionKey(msg)
	m.recordRoute(key, msg)
	return key
}

// mirror appends the delivered text to the session's transcript as the
// original's delivery-mirror assistant message (media sends: the file
// names).
func (m *Manager) mirror(sessionKey, text string, media []string) {
	if m.d.Sessions == nil || sessionKey == "" {
		return
	}
	mirrorText := strings.TrimSpace(text)
	if len(media) > 0 {
		var names []string
		for _, u := range media {
			if n := mediaName(u); n != "" {
				names = append(names, n)
			}
		}
		mirrorText = strings.Join(names, ", ")
		if mirrorText == "" {
			mirrorText = "media"
		}
	}
	if mirrorText == "" {
		return
	}
	e, ok := m.d.Sessions.Get(sessionKey)
	if !ok || e.SessionID == "" {
		return
	}
	zero := llm.Usage{Cost: &llm.Cost{}}
	msg := llm.Message{Role: llm.RoleAssistant, Content: []llm.Content{llm.Text(mirrorText)}, API: "openai-responses",
		Provider: "clawdbot", Model: "delivery-mirror", Usage: &zero, StopReason: "stop", Timestamp: m.d.Now().UnixMilli()}
	if _, err := m.d.Sessions.Append(sessionKey, e.SessionID, sessionstore.Record{Message: &msg}); err != nil {
		m.d.Log.Warn("send mirror not written", "session", sessionKey, "err", err)
	}
}

// mediaName is the file name of a media URL or path.
func mediaName(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.Scheme != "" && pu.Path != "" {
		u = pu.Path
	}
	n := path.Base(strings.ReplaceAll(u, `\`, "/"))
	if n == "." || n == "/" {
		return ""
	}
	return n
}

type loginStartParams struct {
	Force     bool   `json:"force"`
	TimeoutMs *int64 `json:"timeoutMs"`
	Verbose   bool   `json:"verbose"`
	AccountID string `json:"accountId"`
}

// qrAccount is the QR-login account a web.login call addresses.
func (m *Manager) qrAccount(accountID string) (*accountRunner, QRLoginer, *wire.ErrorShape) {
	m.ensure()
	for _, p := range m.plugins {
		id := p.Meta().ID
		acct := accountID
		if acct == "" {
			acct = m.defaultAccountOf(id)
		}
		r := m.account(id, NormalizeAccountID(acct))
		if r == nil {
			continue
		}
		r.build()
		if q, ok := r.acct().(QRLoginer); ok {
			return r, q, nil
		}
	}
	return nil, nil, rpc.Invalid("web login provider is not available")
}

func boundedTimeout(ms *int64, def, lo time.Duration) time.Duration {
	d := def
	if ms != nil {
		d = time.Duration(*ms) * time.Millisecond
	}
	return min(max(d, lo), loginMax)
}

func (m *Manager) handleLoginStart(c *rpc.Call) (any, *wire.ErrorShape) {
	var p loginStartParams
	if len(c.Params) > 0 {
		if err := json.Unmarshal(c.Params, &p); err != nil {
			return nil, rpc.Invalid("invalid web.login.start params: " + err.Error())
		}
	}
	r, q, e := m.qrAccount(p.AccountID)
	if e != nil {
		return nil, e
	}
	timeout := boundedTimeout(p.TimeoutMs, loginStartDefault, loginStartMin)
	r.stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	var res LoginStartResult
	if err := safeCall(func() error {
		var err error
		res, err = q.StartLogin(ctx, LoginStart{Force: p.Force, Timeout: timeout, Verbose: p.Verbose})
		return err
	}); err != nil || res.QRDataURL == "" {
		// No login socket was opened (already linked, or a failure): the
		// account stopped above runs again if it can (the original leaves
		// a linked WhatsApp stopped here).
		m.StartAccount(r.channel, r.id)
		if err != nil {
			return nil, rpc.Unavailable(errText(err))
		}
	}
	out := map[string]any{"message": res.Message}
	if res.QRDataURL != "" {
		out["qrDataUrl"] = res.QRDataURL
	}
	if res.QR != "" {
		out["qr"] = res.QR
	}
	return out, nil
}

type loginWaitParams struct {
	TimeoutMs *int64 `json:"timeoutMs"`
	AccountID string `json:"accountId"`
}

func (m *Manager) handleLoginWait(c *rpc.Call) (any, *wire.ErrorShape) {
	var p loginWaitParams
	if len(c.Params) > 0 {
		if err := json.Unmarshal(c.Params, &p); err != nil {
			return nil, rpc.Invalid("invalid web.login.wait params: " + err.Error())
		}
	}
	r, q, e := m.qrAccount(p.AccountID)
	if e != nil {
		return nil, e
	}
	timeout := boundedTimeout(p.TimeoutMs, loginWaitDefault, loginWaitMin)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	var res LoginWaitResult
	if err := safeCall(func() error {
		var err error
		res, err = q.WaitLogin(ctx, timeout)
		return err
	}); err != nil {
		return nil, rpc.Unavailable(errText(err))
	}
	if res.Connected {
		m.StartAccount(r.channel, r.id)
	}
	return map[string]any{"connected": res.Connected, "message": res.Message}, nil
}
